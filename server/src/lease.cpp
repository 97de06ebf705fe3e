// See lease.hpp.
#include "lease.hpp"

#include "file_lock.hpp"
#include "fs.hpp"

#include <de/api.hpp>
#include <de/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace de::server {

namespace {
using api::WireError;
using nlohmann::json;

constexpr const char* k_lease_file = "sync.lease";
constexpr const char* k_lock_file = "sync.lease.lock";

std::int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The lease as stored: milliseconds, so that a TTL of a few seconds is exact.
struct Stored {
    std::string id;
    std::string holder;
    std::int64_t since_ms = 0;
    std::int64_t expires_ms = 0;
};

SyncLease to_wire(const Stored& s) {
    return SyncLease{s.id, s.holder, s.since_ms / 1000, s.expires_ms / 1000};
}

// The app's lease lock (file_lock.hpp); a missing app folder is not_found.
ApiResult<FileLock> take_lock(const std::filesystem::path& path, std::string_view app) {
    auto lock = FileLock::take(path);
    if (lock) return std::move(*lock);
    int err = errno;  // FileLock::take leaves the failed call's errno
    if (err == ENOENT)
        return api_fail(WireError::not_found, fmt::format("app '{}' not found", app));
    return std::unexpected(errno_error(err, "locking the sync lease of", app));
}

ApiResult<std::optional<Stored>> read_stored(const std::filesystem::path& path,
                                             std::string_view app) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<Stored>{};
        return std::unexpected(errno_error(errno, "reading the sync lease of", app));
    }
    UniqueFd f(fd);
    std::string text;
    char buf[4096];
    while (text.size() < 64 * 1024) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(errno_error(errno, "reading the sync lease of", app));
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    json j = json::parse(text, nullptr, false);
    Stored s;
    try {
        j.at("id").get_to(s.id);
        j.at("holder").get_to(s.holder);
        j.at("since_ms").get_to(s.since_ms);
        j.at("expires_ms").get_to(s.expires_ms);
    } catch (const json::exception&) {
        // Only written whole (rename), so this is outside damage: treat the
        // app as unleased rather than locking every sync out for good.
        return std::optional<Stored>{};
    }
    return std::optional<Stored>{std::move(s)};
}

ApiResult<void> write_stored(const std::filesystem::path& path, const Stored& s,
                             std::string_view app) {
    json j{
        {"id", s.id}, {"holder", s.holder}, {"since_ms", s.since_ms}, {"expires_ms", s.expires_ms}};
    if (auto w = write_file_atomic(path, j.dump(), 0600); !w)
        return api_fail(WireError::internal, fmt::format("cannot record the sync lease of '{}': {}",
                                                         app, w.error().message));
    return {};
}

ApiError lost_error(std::string_view app, const std::optional<Stored>& live) {
    return ApiError{
        WireError::conflict,
        live ? fmt::format("the sync lease of {} was lost (another sync took over)", app)
             : fmt::format("the sync lease of {} was lost (it expired or was released)", app),
        json::object()};
}
}  // namespace

std::string iso_time_utc(std::int64_t unix_s) {
    std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

LeaseStore::LeaseStore(std::filesystem::path root)
    : m_root(std::move(root)), m_now_ms(system_now_ms) {}

int LeaseStore::clamp_ttl(std::optional<std::int64_t> ttl_s) {
    if (!ttl_s) return api::k_sync_lease_default_ttl_s;
    return static_cast<int>(
        std::clamp<std::int64_t>(*ttl_s, api::k_sync_lease_min_ttl_s, api::k_sync_lease_max_ttl_s));
}

std::filesystem::path LeaseStore::app_dir(std::string_view app) const {
    return m_root / "apps" / std::string(app);
}

ApiResult<std::optional<SyncLease>> LeaseStore::read_live(std::string_view app,
                                                          std::int64_t now_ms) {
    auto s = read_stored(app_dir(app) / k_lease_file, app);
    if (!s) return std::unexpected(s.error());
    if (!*s || (*s)->expires_ms <= now_ms) return std::optional<SyncLease>{};
    return std::optional<SyncLease>{to_wire(**s)};
}

ApiResult<std::optional<SyncLease>> LeaseStore::live(std::string_view app) {
    return read_live(app, m_now_ms());
}

ApiResult<SyncLease> LeaseStore::acquire(std::string_view app, const std::string& holder, int ttl_s,
                                         const std::optional<std::string>& replace) {
    std::lock_guard guard(m_mutex);
    auto dir = app_dir(app);
    auto lock = take_lock(dir / k_lock_file, app);
    if (!lock) return std::unexpected(lock.error());
    auto now = m_now_ms();
    auto cur = read_stored(dir / k_lease_file, app);
    if (!cur) return std::unexpected(cur.error());
    if (*cur && (*cur)->expires_ms > now && !(replace && *replace == (*cur)->id)) {
        SyncLease l = to_wire(**cur);
        ApiError e{WireError::conflict,
                   fmt::format("another sync of {} is running since {} ({})", app,
                               iso_time_utc(l.since), l.holder),
                   json::object()};
        e.extra["lease"] = json(l);
        return std::unexpected(std::move(e));
    }
    Stored s{random_hex(16), holder, now, now + std::int64_t{ttl_s} * 1000};
    if (auto w = write_stored(dir / k_lease_file, s, app); !w) return std::unexpected(w.error());
    return to_wire(s);
}

ApiResult<SyncLease> LeaseStore::renew(std::string_view app, std::string_view id, int ttl_s) {
    std::lock_guard guard(m_mutex);
    auto dir = app_dir(app);
    auto lock = take_lock(dir / k_lock_file, app);
    if (!lock) return std::unexpected(lock.error());
    auto now = m_now_ms();
    auto cur = read_stored(dir / k_lease_file, app);
    if (!cur) return std::unexpected(cur.error());
    std::optional<Stored> live;
    if (*cur && (*cur)->expires_ms > now) live = **cur;
    if (!live || live->id != id) return std::unexpected(lost_error(app, live));
    live->expires_ms = std::max(live->expires_ms, now + std::int64_t{ttl_s} * 1000);
    if (auto w = write_stored(dir / k_lease_file, *live, app); !w)
        return std::unexpected(w.error());
    return to_wire(*live);
}

ApiResult<void> LeaseStore::release(std::string_view app, std::string_view id) {
    std::lock_guard guard(m_mutex);
    auto dir = app_dir(app);
    auto lock = take_lock(dir / k_lock_file, app);
    if (!lock) return std::unexpected(lock.error());
    auto cur = read_stored(dir / k_lease_file, app);
    if (!cur) return std::unexpected(cur.error());
    if (!*cur || (*cur)->expires_ms <= m_now_ms() || (*cur)->id != id)
        return api_fail(WireError::not_found,
                        fmt::format("sync lease '{:.64}' of {} is not live (it expired, was "
                                    "released or another sync took over)",
                                    id, app));
    auto path = dir / k_lease_file;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return std::unexpected(errno_error(errno, "releasing the sync lease of", app));
    if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

ApiResult<void> LeaseStore::check(std::string_view app, std::string_view id) {
    // No lock: the file is only ever replaced whole (rename), so a read sees
    // one lease or the other.
    auto cur = read_stored(app_dir(app) / k_lease_file, app);
    if (!cur) return std::unexpected(cur.error());
    std::optional<Stored> live;
    if (*cur && (*cur)->expires_ms > m_now_ms()) live = **cur;
    if (!live || live->id != id) return std::unexpected(lost_error(app, live));
    return {};
}

}  // namespace de::server

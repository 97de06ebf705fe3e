// See quota_ledger.hpp.
#include "quota_ledger.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace de::server {

namespace {

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

template <class T>
bool number(std::string_view& text, T& out) {
    while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || p == text.data()) return false;
    text.remove_prefix(static_cast<std::size_t>(p - text.data()));
    return true;
}

// A ledger file is a few hundred bytes; more is not one of ours.
constexpr std::size_t k_max_file = 64 * 1024;
constexpr std::string_view k_upload_prefix = "u.";

std::string read_text(int fd, std::size_t size) {
    std::string text(std::min(size, k_max_file), '\0');
    ssize_t n = ::pread(fd, text.data(), text.size(), 0);
    text.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return text;
}

// An upload's reservation; an orphan (its upload's state file gone for a
// while: the upload ended on a replica that died before removing this) is
// removed and counts nothing.
std::optional<QuotaLedger::Held> read_upload(int dir_fd, const DirChild& c, std::int64_t now) {
    auto id = std::string_view(c.name).substr(k_upload_prefix.size());
    std::string state = fmt::format("../uploads/{}.json", id);
    struct stat st {};
    if (::fstatat(dir_fd, state.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT &&
        now - c.st.st_mtim.tv_sec > QuotaLedger::k_orphan_after_s) {
        ::unlinkat(dir_fd, c.name.c_str(), 0);
        return std::nullopt;
    }
    UniqueFd f(::openat(dir_fd, c.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!f) return std::nullopt;
    QuotaLedger::Held held;
    std::deque<QuotaLedger::Committed> recent;
    if (!QuotaLedger::parse(read_text(f.get(), static_cast<std::size_t>(c.st.st_size)), held,
                            recent))
        return std::nullopt;
    return held;
}

}  // namespace

std::string QuotaLedger::format(const Held& held, const std::deque<Committed>& recent) {
    std::string out = fmt::format("held {} {} {}\n", held.bytes, held.entries, held.streamed);
    for (const auto& c : recent)
        fmt::format_to(std::back_inserter(out), "committed {} {} {}\n", c.second, c.bytes,
                       c.entries);
    return out;
}

bool QuotaLedger::parse(std::string_view text, Held& held, std::deque<Committed>& recent) {
    held = {};
    recent.clear();
    bool saw_held = false;
    while (!text.empty()) {
        auto nl = text.find('\n');
        if (nl == std::string_view::npos) return false;  // a torn write: not trusted
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (line.starts_with("held ")) {
            line.remove_prefix(5);
            if (!number(line, held.bytes) || !number(line, held.entries) ||
                !number(line, held.streamed) || !line.empty())
                return false;
            saw_held = true;
        } else if (line.starts_with("committed ")) {
            line.remove_prefix(10);
            Committed c;
            if (!number(line, c.second) || !number(line, c.bytes) || !number(line, c.entries) ||
                !line.empty())
                return false;
            recent.push_back(c);
        } else {
            return false;
        }
    }
    return saw_held;
}

ApiResult<QuotaLedger::Session> QuotaLedger::open(const std::string& app) {
    auto path = m_apps_dir / app / "quota";
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
            if (errno == ENOENT) return Session(*this, UniqueFd(), FileLock());
            return std::unexpected(errno_error(errno, "creating the quota ledger of", app));
        }
        fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT) return Session(*this, UniqueFd(), FileLock());
        return std::unexpected(errno_error(errno, "opening the quota ledger of", app));
    }
    UniqueFd dir(fd);
    auto lock = FileLock::take_at(dir.get(), ".lock");
    if (!lock) return std::unexpected(errno_error(errno, "locking the quota ledger of", app));
    return Session(*this, std::move(dir), std::move(*lock));
}

QuotaLedger::Others QuotaLedger::Session::others(std::int64_t since_ms) {
    Others out;
    if (!valid()) return out;
    auto children = read_dir(m_dir.get());
    if (!children) return out;
    const auto& me = m_ledger->m_replicas.id();
    const std::int64_t since_s = (since_ms - k_skew_margin_ms) / 1000;
    const std::int64_t now = now_s();
    for (const auto& c : *children) {
        if (c.name == me || c.name.starts_with('.') || !S_ISREG(c.st.st_mode)) continue;
        if (c.name.starts_with(k_upload_prefix)) {
            if (auto h = read_upload(m_dir.get(), c, now)) {
                out.reserved.bytes += h->bytes;
                out.reserved.entries += h->entries;
                out.reserved.streamed += h->streamed;
            }
            continue;
        }
        UniqueFd f(::openat(m_dir.get(), c.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!f) continue;
        std::string text = read_text(f.get(), static_cast<std::size_t>(c.st.st_size));
        Held held;
        std::deque<Committed> recent;
        if (!parse(text, held, recent)) continue;  // written under the lock we hold: not seen
        bool alive = m_ledger->m_replicas.alive(c.name);
        if (alive) {
            out.reserved.bytes += held.bytes;
            out.reserved.entries += held.entries;
            out.reserved.streamed += held.streamed;
        }
        std::int64_t newest = 0;
        for (const auto& r : recent) {
            newest = std::max(newest, r.second);
            if (r.second >= since_s) {
                out.recent_bytes += r.bytes;
                out.recent_entries += r.entries;
            }
        }
        // A replica gone for good, whose commits every count has seen by now.
        if (!alive && now - newest > k_keep_s) ::unlinkat(m_dir.get(), c.name.c_str(), 0);
    }
    return out;
}

void QuotaLedger::Session::publish(const Held& mine, const std::deque<Committed>& recent) {
    if (!valid()) return;
    const auto& me = m_ledger->m_replicas.id();
    UniqueFd f(
        ::openat(m_dir.get(), me.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f) return;
    std::string text = format(mine, recent);
    // Readers hold the same lock, so they never see it half written.
    if (::pwrite(f.get(), text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()))
        (void)::ftruncate(f.get(), static_cast<off_t>(text.size()));
}

namespace {
std::string upload_file(std::string_view id) {
    return fmt::format("{}{}", k_upload_prefix, id);
}
}  // namespace

void QuotaLedger::Session::put_upload(std::string_view id, const Held& held) {
    if (!valid()) return;
    auto name = upload_file(id);
    UniqueFd f(
        ::openat(m_dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f) return;
    std::string text = format(held, {});
    if (::pwrite(f.get(), text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()))
        (void)::ftruncate(f.get(), static_cast<off_t>(text.size()));
}

std::optional<QuotaLedger::Held> QuotaLedger::Session::upload(std::string_view id) {
    if (!valid()) return std::nullopt;
    auto name = upload_file(id);
    UniqueFd f(::openat(m_dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!f) return std::nullopt;
    Held held;
    std::deque<Committed> recent;
    if (!parse(read_text(f.get(), k_max_file), held, recent)) return std::nullopt;
    return held;
}

void QuotaLedger::Session::remove_upload(std::string_view id) {
    if (!valid()) return;
    ::unlinkat(m_dir.get(), upload_file(id).c_str(), 0);
}

void QuotaLedger::Session::remove_uploads() {
    if (!valid()) return;
    auto children = read_dir(m_dir.get());
    if (!children) return;
    for (const auto& c : *children)
        if (c.name.starts_with(k_upload_prefix)) ::unlinkat(m_dir.get(), c.name.c_str(), 0);
}

}  // namespace de::server

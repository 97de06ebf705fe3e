// See dav_locks.hpp.
#include "dav_locks.hpp"

#include "fs.hpp"

#include <de/name_json.hpp>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <variant>

namespace de::server::dav {

// One app's state file, parsed: its locks in the order they were granted,
// indexed by token and by path (byte order, so that "p" and "p/..." are a
// lookup and one range scan), and what each user's locks cost.
struct LockTable::AppState {
    struct Usage {
        std::size_t locks = 0;
        std::size_t bytes = 0;
    };
    // What the file looked like when read: its first k_head bytes, which hold
    // its random generation, and its stat (which catches what damage does to
    // a file in place). Both empty when there is no file.
    std::string head;
    struct Stamp {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        std::int64_t mtime_ns = 0;
        bool operator==(const Stamp&) const = default;
    } stamp;
    std::vector<Lock> locks;
    std::map<std::string, std::size_t, std::less<>> by_token;              // → index in locks
    std::map<std::string, std::vector<std::size_t>, std::less<>> by_path;  // → indexes in locks
    std::map<std::string, Usage, std::less<>> users;
    // Why the file cannot be used ("" when it can; then `locks` is empty), and
    // until when that fails closed.
    std::string damage;
    std::chrono::system_clock::time_point damaged_until{};

    const Lock* find(std::string_view token) const {
        auto it = by_token.find(token);
        return it == by_token.end() ? nullptr : &locks[it->second];
    }
    void reindex();
};

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;
using AppState = LockTable::AppState;
using nlohmann::json;

constexpr const char* k_state_name = "dav-locks.json";
constexpr const char* k_damaged_name = "dav-locks.json.damaged";
constexpr const char* k_lock_name = "dav-locks.lock";
// The first bytes of a state file, which hold its generation:
// {"gen":"<26 characters>", is 35 of them.
constexpr std::size_t k_head = 64;
// A state file longer than this is damage (the per-user limits keep an
// owner's file near 4 MiB).
constexpr std::size_t k_max_file = std::size_t{64} << 20;
constexpr int k_version = 1;

constexpr std::size_t k_token_size = 35;  // "urn:x-de:" and 26

std::string_view trim_slashes(std::string_view p) {
    while (!p.empty() && p.front() == '/')
        p.remove_prefix(1);
    while (!p.empty() && p.back() == '/')
        p.remove_suffix(1);
    return p;
}

// An app name that stays one folder below <root>/apps (the router only passes
// valid names; this keeps the table safe on its own).
bool valid_app(std::string_view app) {
    return !app.empty() && app != "." && app != ".." && app.find('/') == std::string_view::npos &&
           app.find('\0') == std::string_view::npos;
}

// True when `p` lies strictly below `ancestor` ("" is everything's ancestor).
bool strictly_below(std::string_view p, std::string_view ancestor) {
    if (ancestor.empty()) return !p.empty();
    return p.size() > ancestor.size() && p.starts_with(ancestor) && p[ancestor.size()] == '/';
}

// The lock's scope reaches `p`: rooted there, or an infinite ancestor of it.
bool covers(const Lock& lock, std::string_view p) {
    return lock.path == p || (lock.infinite_depth && strictly_below(p, lock.path));
}

bool conflicts(LockScope held, LockScope wanted) {
    return held == LockScope::exclusive || wanted == LockScope::exclusive;
}

seconds clamp_timeout(seconds t) {
    return std::clamp(t, k_lock_timeout_min, k_lock_timeout_max);
}

// 128 bits from getrandom(2) in base32 (26 of a-z, 2-7); nullopt when the
// kernel gives no random bytes (it never should).
std::optional<std::string> random_base32() {
    std::array<std::uint8_t, 16> raw{};
    std::size_t got = 0;
    while (got < raw.size()) {
        ssize_t n = ::getrandom(raw.data() + got, raw.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char k_base32[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::string out;
    out.reserve(26);
    unsigned bits = 0, acc = 0;
    for (std::uint8_t byte : raw) {
        acc = (acc << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(k_base32[(acc >> bits) & 31]);
        }
    }
    if (bits > 0) out.push_back(k_base32[(acc << (5 - bits)) & 31]);
    return out;
}

// "urn:x-de:" + 128 random bits in base32: 35 characters. Any unique URI may
// be a lock token (RFC 4918 6.5); the usual "urn:uuid:" + UUID is 45, and with
// it litmus's conditional PUTs (its If headers are built in 200 bytes: a token
// and two 66-character SHA-256 ETags) came out cut short, so malformed.
std::optional<std::string> random_token() {
    auto r = random_base32();
    if (!r) return std::nullopt;
    return "urn:x-de:" + *r;
}

// What a lock weighs against its user's max_bytes_per_user: its strings as
// the file and the in-memory indexes hold them, and a fixed part for the rest.
std::size_t cost(std::string_view path, std::string_view user, std::string_view owner_xml) {
    constexpr std::size_t k_fixed = 512;
    return k_fixed + 2 * k_token_size + 2 * path.size() + user.size() + owner_xml.size();
}

std::int64_t to_ms(TimePoint t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// Calls f(path, indexes) for `path` and each path below it, in order, while f
// returns true.
template <class F>
void for_within(const AppState& st, std::string_view path, F&& f) {
    const auto& paths = st.by_path;
    if (path.empty()) {  // the root: everything
        for (const auto& [p, idx] : paths)
            if (!f(p, idx)) return;
        return;
    }
    if (auto at = paths.find(path); at != paths.end() && !f(at->first, at->second)) return;
    // Everything that starts with "path/" sorts in ["path/", "path0"): '0'
    // follows '/' directly, so "path-b" and "path.x" sort before, "pathb" after.
    std::string lo(path);
    lo.push_back('/');
    std::string hi(path);
    hi.push_back('0');
    for (auto it = paths.lower_bound(lo), end = paths.lower_bound(hi); it != end; ++it)
        if (!f(it->first, it->second)) return;
}

// The root of an unexpired lock that keeps a `scope` lock of that depth off
// `path`, if any.
std::optional<std::string> find_conflict(const AppState& st, std::string_view path, LockScope scope,
                                         bool infinite_depth, TimePoint now) {
    auto clash = [&](const std::vector<std::size_t>& idx, bool need_infinite) {
        return std::any_of(idx.begin(), idx.end(), [&](std::size_t i) {
            const Lock& held = st.locks[i];
            return held.expires > now && (!need_infinite || held.infinite_depth) &&
                   conflicts(held.scope, scope);
        });
    };
    // Ancestors ("" first), whose infinite locks cover `path`.
    if (!path.empty()) {
        auto ancestor = [&](std::string_view anc) -> std::optional<std::string> {
            auto at = st.by_path.find(anc);
            if (at != st.by_path.end() && clash(at->second, true)) return at->first;
            return std::nullopt;
        };
        if (auto c = ancestor("")) return c;
        for (std::size_t slash = path.find('/'); slash != std::string_view::npos;
             slash = path.find('/', slash + 1))
            if (auto c = ancestor(path.substr(0, slash))) return c;
    }
    // `path` itself and, for an infinite lock, everything below it.
    std::optional<std::string> conflict;
    if (infinite_depth) {
        for_within(st, path, [&](const std::string& p, const std::vector<std::size_t>& idx) {
            if (clash(idx, false)) conflict = p;
            return !conflict;  // the first conflict ends the scan
        });
    } else if (auto at = st.by_path.find(path);
               at != st.by_path.end() && clash(at->second, false)) {
        conflict = at->first;
    }
    return conflict;
}

// Drops the locks that expired by `now`; whether there were any.
bool sweep(AppState& st, TimePoint now) {
    auto n = st.locks.size();
    std::erase_if(st.locks, [&](const Lock& l) { return l.expires <= now; });
    if (st.locks.size() == n) return false;
    st.reindex();
    return true;
}

LockRefused unusable(const AppState& st) {
    return LockRefused{503, st.damage, {}};
}

AppState::Stamp stamp_of(const struct stat& st) {
    return AppState::Stamp{st.st_dev, st.st_ino, st.st_size, mtime_ns_of(st)};
}

// ---- the state file ------------------------------------------------------------------

// A state whose file cannot be read (an I/O error, not damage): fails closed
// for as long as that lasts, and is never cached.
std::shared_ptr<const AppState> unreadable(std::string_view app, int err) {
    auto st = std::make_shared<AppState>();
    st->damage = fmt::format("cannot read the WebDAV locks of app '{}' ({}); writes are refused",
                             app, std::strerror(err));
    st->damaged_until = TimePoint::max();
    return st;
}

// pread until `len` bytes or the end of the file; -1 with errno on failure.
ssize_t pread_full(int fd, char* buf, std::size_t len, off_t off) {
    std::size_t got = 0;
    while (got < len) {
        ssize_t n = ::pread(fd, buf + got, len - got, off + static_cast<off_t>(got));
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(got);
}

// Fills `st` from the file's text; on any fault, leaves it empty with `damage`
// set (the caller sets damaged_until).
void parse_state(AppState& st, std::string_view text, std::string_view app) {
    auto damaged = [&](std::string_view why) {
        st.locks.clear();
        st.damage = fmt::format(
            "the WebDAV lock state of app '{}' is damaged ({}); writes are refused until an "
            "administrator removes it or every lock it may hold has expired",
            app, why);
    };
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return damaged("not JSON");
    try {
        if (j.at("version").get<int>() != k_version) return damaged("unknown version");
        for (const auto& e : j.at("locks")) {
            Lock l;
            l.app = std::string(app);
            e.at("token").get_to(l.token);
            auto path = get_name(e, "path");
            auto user = get_name(e, "user");
            auto owner = get_name(e, "owner");
            if (!path || !user || !owner || l.token.empty()) return damaged("a lock lacks a field");
            l.path = std::move(*path);
            l.user = std::move(*user);
            l.owner_xml = std::move(*owner);
            auto scope = e.at("scope").get<std::string>();
            if (scope != "exclusive" && scope != "shared") return damaged("unknown lock scope");
            l.scope = scope == "exclusive" ? LockScope::exclusive : LockScope::shared;
            auto depth = e.at("depth").get<std::string>();
            if (depth != "0" && depth != "infinity") return damaged("unknown lock depth");
            l.infinite_depth = depth == "infinity";
            l.timeout = seconds(e.at("timeout_s").get<std::int64_t>());
            l.expires = TimePoint(milliseconds(e.at("expires_ms").get<std::int64_t>()));
            st.locks.push_back(std::move(l));
        }
    } catch (const json::exception&) {
        return damaged("a field is missing or of the wrong type");
    }
    st.reindex();
    if (st.by_token.size() != st.locks.size()) return damaged("a lock token repeats");
}

// A JSON string of `s` (valid UTF-8: see append_name).
void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
            out += ch;
        }
    }
    out += '"';
}

// "key":"name" as put_name writes it (de/name_json.hpp: the percent form and
// "key_encoding":"percent" when `name` is not UTF-8), so get_name reads it back.
void append_name(std::string& out, std::string_view key, std::string_view name) {
    const bool utf8 = is_utf8(name);
    out += '"';
    out += key;
    out += "\":";
    append_json_string(out, utf8 ? std::string(name) : name_to_percent(name));
    if (!utf8) {
        out += ",\"";
        out += key;
        out += "_encoding\":\"percent\"";
    }
}

// The file's text, with a fresh generation first (`head` is set from it);
// nullopt when there are no random bytes. Written by hand, not through a
// json tree: a change rewrites every lock of the app, so this is its cost.
std::optional<std::string> serialize(AppState& st) {
    auto gen = random_base32();
    if (!gen) return std::nullopt;
    std::string text;
    text.reserve(64 + st.locks.size() * 256);
    // The generation leads: readers compare the first k_head bytes.
    fmt::format_to(std::back_inserter(text), "{{\"gen\":\"{}\",\"version\":{},\"locks\":[", *gen,
                   k_version);
    bool first = true;
    for (const auto& l : st.locks) {
        text += first ? "\n{" : ",\n{";
        first = false;
        text += "\"token\":";
        append_json_string(text, l.token);  // ours: base32
        text += ',';
        append_name(text, "path", l.path);
        text += ',';
        append_name(text, "user", l.user);
        text += ',';
        append_name(text, "owner", l.owner_xml);
        fmt::format_to(std::back_inserter(text),
                       ",\"scope\":\"{}\",\"depth\":\"{}\",\"timeout_s\":{},\"expires_ms\":{}}}",
                       l.scope == LockScope::exclusive ? "exclusive" : "shared",
                       l.infinite_depth ? "infinity" : "0", l.timeout.count(), to_ms(l.expires));
    }
    text += "]}\n";
    st.head = text.substr(0, std::min(text.size(), k_head));
    return text;
}

// An fcntl OFD write lock on the app's lock file, held for the object's life.
// OFD locks belong to the open file description: two threads with two
// descriptors exclude each other as two processes do, and NFS v4 and CephFS
// pass them to the server, so replicas on other machines are excluded too.
class StateLock {
  public:
    static std::expected<StateLock, LockRefused> take(const std::filesystem::path& path,
                                                      std::string_view app) {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                return std::unexpected(
                    LockRefused{404, fmt::format("app '{}' not found", app), {}});
            return std::unexpected(refused(errno, app));
        }
        UniqueFd f(fd);
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file; l_pid must be 0
        int r;
        while ((r = ::fcntl(fd, F_OFD_SETLKW, &fl)) != 0 && errno == EINTR) {
        }
        if (r != 0) return std::unexpected(refused(errno, app));
        return StateLock(std::move(f));
    }

  private:
    explicit StateLock(UniqueFd fd) : m_fd(std::move(fd)) {}
    static LockRefused refused(int err, std::string_view app) {
        return LockRefused{
            503,
            fmt::format("cannot lock the WebDAV locks of app '{}' ({})", app, std::strerror(err)),
            {}};
    }
    UniqueFd m_fd;  // closing it releases the lock
};

}  // namespace

void LockTable::AppState::reindex() {
    by_token.clear();
    by_path.clear();
    users.clear();
    for (std::size_t i = 0; i < locks.size(); ++i) {
        const Lock& l = locks[i];
        by_token.emplace(l.token, i);
        by_path[l.path].push_back(i);
        Usage& u = users[l.user];
        u.locks += 1;
        u.bytes += cost(l.path, l.user, l.owner_xml);
    }
}

LockTable::LockTable(std::filesystem::path root, Clock clock, std::size_t max_locks_per_user,
                     std::size_t max_bytes_per_user)
    : m_root(std::move(root)),
      m_clock(std::move(clock)),
      m_max_locks_per_user(max_locks_per_user),
      m_max_bytes_per_user(max_bytes_per_user) {}

LockTable::~LockTable() = default;

std::filesystem::path LockTable::app_dir(std::string_view app) const {
    return m_root / "apps" / std::string(app);
}

LockTable::TimePoint LockTable::now() const {
    // Whole milliseconds, as the file holds them: a lock reads back as granted.
    return std::chrono::floor<milliseconds>(m_clock());
}

void LockTable::install(std::string_view app, Snapshot s) const {
    std::lock_guard guard(m_mutex);
    if (auto it = m_cache.find(app); it != m_cache.end())
        it->second = std::move(s);
    else
        m_cache.emplace(std::string(app), std::move(s));
}

LockTable::Snapshot LockTable::snapshot(std::string_view app) const {
    static const Snapshot k_empty = std::make_shared<const AppState>();
    if (!valid_app(app)) return k_empty;
    const auto path = app_dir(app) / k_state_name;
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (raw < 0) {
        // Never written (we never remove it), or the app is gone.
        if (errno == ENOENT || errno == ENOTDIR) return k_empty;
        return unreadable(app, errno);
    }
    UniqueFd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return unreadable(app, errno);
    const AppState::Stamp stamp = stamp_of(st);
    std::array<char, k_head> head{};
    ssize_t n = pread_full(fd.get(), head.data(), head.size(), 0);
    if (n < 0) return unreadable(app, errno);
    const std::string_view now_head(head.data(), static_cast<std::size_t>(n));
    {
        std::lock_guard guard(m_mutex);
        if (auto it = m_cache.find(app);
            it != m_cache.end() && it->second->head == now_head && it->second->stamp == stamp)
            return it->second;
    }
    // Changed: read it whole. It is only ever replaced, never written in
    // place, so this descriptor reads one version from start to end.
    auto s = std::make_shared<AppState>();
    std::string text;
    if (static_cast<std::uint64_t>(st.st_size) <= k_max_file) {
        text.resize(static_cast<std::size_t>(st.st_size) + 1);  // +1: see the file grow
        ssize_t got = pread_full(fd.get(), text.data(), text.size(), 0);
        if (got < 0) return unreadable(app, errno);
        text.resize(static_cast<std::size_t>(got));
        parse_state(*s, text, app);
    } else {
        parse_state(*s, "", app);  // damaged: too large
    }
    if (!s->damage.empty()) {
        // No lock outlives the write that granted or refreshed it by more than
        // the longest timeout; the file's mtime is its last write.
        s->damaged_until = TimePoint(std::chrono::nanoseconds(mtime_ns_of(st))) +
                           std::chrono::duration_cast<TimePoint::duration>(k_lock_timeout_max);
    }
    s->head = std::string(now_head);
    s->stamp = stamp;
    install(app, s);
    return s;
}

template <class R, class F>
std::expected<R, LockRefused> LockTable::change(std::string_view app, F&& f) {
    if (!valid_app(app))
        return std::unexpected(LockRefused{404, fmt::format("app '{:.64}' not found", app), {}});
    const auto dir = app_dir(app);
    auto held = StateLock::take(dir / k_lock_name, app);
    if (!held) return std::unexpected(held.error());
    const TimePoint now = this->now();
    // Exact while we hold the lock: nobody else writes the file meanwhile.
    Snapshot cur = snapshot(app);
    AppState next;
    bool set_aside = false;
    if (!cur->damage.empty()) {
        if (now < cur->damaged_until) return std::unexpected(unusable(*cur));
        set_aside = true;  // it can hold no live lock any more: start afresh
    } else {
        next = *cur;
        sweep(next, now);
    }
    bool dirty = false;
    auto result = f(next, now, dirty);
    if (!result || !dirty) return result;
    auto text = serialize(next);
    if (!text) return std::unexpected(LockRefused{503, "no random bytes for the lock state", {}});
    if (set_aside) {
        // Kept for an administrator to look at; the previous one goes.
        (void)::rename((dir / k_state_name).c_str(), (dir / k_damaged_name).c_str());
    }
    if (auto w = write_file_atomic(dir / k_state_name, *text, 0600); !w)
        return std::unexpected(LockRefused{
            503,
            fmt::format("cannot record the WebDAV locks of app '{}': {}", app, w.error().message),
            {}});
    // Installed while the file lock is held, so this process's copies follow
    // the file's order of versions. The stat is of our own file (the lock is
    // ours); without it the next read would only parse the file once more.
    if (struct stat st{}; ::stat((dir / k_state_name).c_str(), &st) == 0) next.stamp = stamp_of(st);
    install(app, std::make_shared<const AppState>(std::move(next)));
    return result;
}

std::expected<Lock, LockRefused> LockTable::acquire(std::string app, std::string path,
                                                    LockScope scope, bool infinite_depth,
                                                    seconds timeout, std::string user,
                                                    std::string owner_xml) {
    path = std::string(trim_slashes(path));
    return change<Lock>(
        app, [&](AppState& st, TimePoint now, bool& dirty) -> std::expected<Lock, LockRefused> {
            // The user's limits first: a user at them costs no scan and no randomness.
            const std::size_t bytes = cost(path, user, owner_xml);
            AppState::Usage usage;
            if (auto u = st.users.find(user); u != st.users.end()) usage = u->second;
            if (usage.locks >= m_max_locks_per_user || usage.bytes + bytes > m_max_bytes_per_user)
                return std::unexpected(LockRefused{503, "too many locks held by this user", {}});
            if (auto conflict = find_conflict(st, path, scope, infinite_depth, now))
                return std::unexpected(
                    LockRefused{423, "the resource is locked", std::move(conflict)});

            Lock lock;
            lock.app = app;
            lock.path = path;
            lock.user = user;
            lock.owner_xml = owner_xml;
            lock.scope = scope;
            lock.infinite_depth = infinite_depth;
            lock.timeout = clamp_timeout(timeout);
            lock.expires = now + lock.timeout;
            // 128 random bits repeat with odds of 2^-128; still, never hand out a live token twice.
            for (int tries = 0; lock.token.empty() || st.find(lock.token); ++tries) {
                auto token = random_token();
                if (!token || tries == 8)
                    return std::unexpected(
                        LockRefused{503, "no random bytes for a lock token", {}});
                lock.token = std::move(*token);
            }
            st.locks.push_back(lock);
            st.reindex();
            dirty = true;
            return lock;
        });
}

std::optional<Lock> LockTable::refresh(std::string_view app, std::string_view path,
                                       std::string_view token, std::string_view user,
                                       seconds timeout) {
    path = trim_slashes(path);
    // Nothing to change unless the token is live here: spare the file lock.
    const Lock* seen = snapshot(app)->find(token);
    if (!seen || seen->user != user || !covers(*seen, path)) return std::nullopt;
    auto r = change<Lock>(
        app, [&](AppState& st, TimePoint now, bool& dirty) -> std::expected<Lock, LockRefused> {
            auto it = st.by_token.find(token);
            if (it == st.by_token.end()) return std::unexpected(LockRefused{412, "", {}});
            Lock& lock = st.locks[it->second];
            if (lock.user != user || !covers(lock, path))
                return std::unexpected(LockRefused{412, "", {}});
            lock.timeout = clamp_timeout(timeout);
            lock.expires = now + lock.timeout;
            dirty = true;
            return lock;
        });
    if (!r) return std::nullopt;
    return *r;
}

std::expected<void, LockRefused> LockTable::release(std::string_view app, std::string_view path,
                                                    std::string_view token, std::string_view user) {
    path = trim_slashes(path);
    auto r = change<std::monostate>(
        app,
        [&](AppState& st, TimePoint, bool& dirty) -> std::expected<std::monostate, LockRefused> {
            auto it = st.by_token.find(token);
            if (it == st.by_token.end() || !covers(st.locks[it->second], path))
                return std::unexpected(
                    LockRefused{409, "the lock token does not name a lock on this resource", {}});
            if (st.locks[it->second].user != user)
                return std::unexpected(LockRefused{403, "the lock belongs to another user", {}});
            st.locks.erase(st.locks.begin() + static_cast<std::ptrdiff_t>(it->second));
            st.reindex();
            dirty = true;
            return std::monostate{};
        });
    if (!r) {
        // An app with no folder holds no locks: the token names none.
        if (r.error().status == 404)
            return std::unexpected(
                LockRefused{409, "the lock token does not name a lock on this resource", {}});
        return std::unexpected(std::move(r.error()));
    }
    return {};
}

std::vector<Lock> LockTable::covering(std::string_view app, std::string_view path) const {
    path = trim_slashes(path);
    std::vector<Lock> out;
    const Snapshot st = snapshot(app);
    const TimePoint now = this->now();
    auto take = [&](std::string_view p, bool need_infinite) {
        auto at = st->by_path.find(p);
        if (at == st->by_path.end()) return;
        for (std::size_t i : at->second) {
            const Lock& lock = st->locks[i];
            if (lock.expires > now && (!need_infinite || lock.infinite_depth)) out.push_back(lock);
        }
    };
    if (!path.empty()) {
        take("", true);
        for (std::size_t slash = path.find('/'); slash != std::string_view::npos;
             slash = path.find('/', slash + 1))
            take(path.substr(0, slash), true);
    }
    take(path, false);
    return out;
}

std::vector<Lock> LockTable::within(std::string_view app, std::string_view path) const {
    path = trim_slashes(path);
    std::vector<Lock> out;
    const Snapshot st = snapshot(app);
    const TimePoint now = this->now();
    for_within(*st, path, [&](const std::string&, const std::vector<std::size_t>& idx) {
        for (std::size_t i : idx)
            if (st->locks[i].expires > now) out.push_back(st->locks[i]);
        return true;
    });
    return out;
}

void LockTable::forget(std::string_view app, std::string_view path) {
    path = trim_slashes(path);
    auto any_within = [&](const AppState& st) {
        bool any = false;
        for_within(st, path, [&](const std::string&, const std::vector<std::size_t>&) {
            any = true;
            return false;
        });
        return any;
    };
    // The common case (nothing locked there) costs no file lock and no write.
    if (!any_within(*snapshot(app))) return;
    (void)change<std::monostate>(
        app,
        [&](AppState& st, TimePoint, bool& dirty) -> std::expected<std::monostate, LockRefused> {
            if (!any_within(st)) return std::monostate{};
            std::erase_if(st.locks, [&](const Lock& l) {
                return l.path == path || strictly_below(l.path, path);
            });
            st.reindex();
            dirty = true;
            return std::monostate{};
        });
}

std::expected<void, LockRefused> LockTable::usable(std::string_view app) const {
    const Snapshot st = snapshot(app);
    if (!st->damage.empty() && now() < st->damaged_until) return std::unexpected(unusable(*st));
    return {};
}

std::size_t LockTable::size() const {
    std::vector<std::string> apps;
    {
        std::lock_guard guard(m_mutex);
        for (const auto& [app, st] : m_cache)
            apps.push_back(app);
    }
    std::size_t n = 0;
    for (const auto& app : apps) {
        const Snapshot st = snapshot(app);
        const TimePoint now = this->now();
        n += static_cast<std::size_t>(std::count_if(
            st->locks.begin(), st->locks.end(), [&](const Lock& l) { return l.expires > now; }));
    }
    return n;
}

std::size_t LockTable::stored() const {
    std::lock_guard guard(m_mutex);
    std::size_t n = 0;
    for (const auto& [app, st] : m_cache)
        n += st->locks.size();
    return n;
}

namespace {
bool iequals_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;  // `prefix` is lower case
    }
    return true;
}

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// One entry of the Timeout list, or nullopt when it is not acceptable.
std::optional<seconds> parse_time_type(std::string_view entry) {
    if (entry.size() == 8 && iequals_prefix(entry, "infinite")) return k_lock_timeout_max;
    constexpr std::string_view k_second = "second-";
    if (!iequals_prefix(entry, k_second)) return std::nullopt;
    std::string_view digits = entry.substr(k_second.size());
    if (digits.empty()) return std::nullopt;
    std::int64_t value = 0;
    const std::int64_t cap = k_lock_timeout_max.count();
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        // Saturate: any value past the maximum is the maximum.
        value = std::min(cap + 1, value * 10 + (c - '0'));
    }
    return clamp_timeout(seconds{value});
}

}  // namespace

seconds parse_timeout(std::string_view header) {
    while (!header.empty()) {
        std::size_t comma = header.find(',');
        std::string_view entry = trim_spaces(header.substr(0, comma));
        if (auto t = parse_time_type(entry)) return *t;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return k_lock_timeout_default;
}

}  // namespace de::server::dav

// See dav_locks.hpp.
#include "dav_locks.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <limits>

namespace de::server::dav {

namespace {

using std::chrono::seconds;

constexpr std::size_t k_token_size = 35;  // "urn:x-de:" and 26

std::string_view trim_slashes(std::string_view p) {
    while (!p.empty() && p.front() == '/')
        p.remove_prefix(1);
    while (!p.empty() && p.back() == '/')
        p.remove_suffix(1);
    return p;
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

// "urn:x-de:" + 128 bits from getrandom(2) in base32 (26 of a-z, 2-7): 35
// characters. Any unique URI may be a lock token (RFC 4918 6.5); the usual
// "urn:uuid:" + UUID is 45, and with it litmus's conditional PUTs (its If
// headers are built in 200 bytes: a token and two 66-character SHA-256 ETags)
// came out cut short, so malformed. nullopt when the kernel gives no random
// bytes (it never should).
std::optional<std::string> random_token() {
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
    std::string out = "urn:x-de:";
    out.reserve(k_token_size);
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

LockTable::LockTable(Clock clock, std::size_t max_locks_per_user, std::size_t max_bytes_per_user)
    : m_clock(std::move(clock)),
      m_max_locks_per_user(max_locks_per_user),
      m_max_bytes_per_user(max_bytes_per_user) {}

std::size_t LockTable::cost(std::string_view app, std::string_view path, std::string_view user,
                            std::string_view owner_xml) {
    // The strings as held (the token four times: the lock, the lock map's key,
    // the path index and the expiry set; the path twice) and a fixed part for
    // the nodes and the rest of the Lock.
    constexpr std::size_t k_fixed = 512;
    return k_fixed + 4 * k_token_size + app.size() + 2 * path.size() + user.size() +
           owner_xml.size();
}

void LockTable::erase_lock(LockMap::iterator it) {
    const Lock& lock = it->second;
    m_expiry.erase({lock.expires, lock.token});
    if (auto app = m_index.find(lock.app); app != m_index.end()) {
        if (auto at = app->second.find(lock.path); at != app->second.end()) {
            std::erase(at->second, lock.token);
            if (at->second.empty()) app->second.erase(at);
        }
        if (app->second.empty()) m_index.erase(app);
    }
    if (auto u = m_users.find(lock.user); u != m_users.end()) {
        u->second.locks -= 1;
        u->second.bytes -= cost(lock.app, lock.path, lock.user, lock.owner_xml);
        if (u->second.locks == 0) m_users.erase(u);
    }
    m_locks.erase(it);
}

void LockTable::sweep(TimePoint now) {
    while (!m_expiry.empty() && m_expiry.begin()->first <= now) {
        auto it = m_locks.find(m_expiry.begin()->second);
        if (it == m_locks.end()) {  // cannot happen: the two are changed together
            m_expiry.erase(m_expiry.begin());
            continue;
        }
        erase_lock(it);
    }
}

template <class F>
void LockTable::for_within(const PathIndex& paths, std::string_view path, F&& f) const {
    if (path.empty()) {  // the root: everything
        for (const auto& [p, tokens] : paths)
            if (!f(p, tokens)) return;
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

std::expected<Lock, LockRefused> LockTable::acquire(std::string app, std::string path,
                                                    LockScope scope, bool infinite_depth,
                                                    seconds timeout, std::string user,
                                                    std::string owner_xml) {
    path = std::string(trim_slashes(path));
    std::lock_guard guard(m_mutex);
    const TimePoint now = m_clock();
    sweep(now);

    // The user's limits first: a user at them costs no scan and no randomness.
    const std::size_t bytes = cost(app, path, user, owner_xml);
    Usage usage_now;
    if (auto u = m_users.find(user); u != m_users.end()) usage_now = u->second;
    if (usage_now.locks >= m_max_locks_per_user || usage_now.bytes + bytes > m_max_bytes_per_user)
        return std::unexpected(LockRefused{503, "too many locks held by this user", {}});

    if (auto idx = m_index.find(app); idx != m_index.end()) {
        const PathIndex& paths = idx->second;
        std::optional<std::string> conflict;
        auto check = [&](const std::string& p, const std::vector<std::string>& tokens,
                         bool need_infinite) {
            if (conflict) return;
            for (const auto& t : tokens) {
                const Lock& held = m_locks.at(t);
                if (need_infinite && !held.infinite_depth) continue;
                if (conflicts(held.scope, scope)) {
                    conflict = p;
                    return;
                }
            }
        };
        // Ancestors ("" first), whose infinite locks cover `path`.
        auto check_ancestor = [&](std::string_view anc) {
            if (auto at = paths.find(anc); at != paths.end()) check(at->first, at->second, true);
        };
        if (!path.empty()) {
            check_ancestor("");
            for (std::size_t slash = path.find('/'); slash != std::string::npos && !conflict;
                 slash = path.find('/', slash + 1))
                check_ancestor(std::string_view(path).substr(0, slash));
        }
        // `path` itself and, for an infinite lock, everything below it.
        if (!conflict) {
            if (infinite_depth) {
                for_within(paths, path,
                           [&](const std::string& p, const std::vector<std::string>& tokens) {
                               check(p, tokens, false);
                               return !conflict;  // the first conflict ends the scan
                           });
            } else if (auto at = paths.find(path); at != paths.end()) {
                check(at->first, at->second, false);
            }
        }
        if (conflict)
            return std::unexpected(LockRefused{423, "the resource is locked", std::move(conflict)});
    }

    Lock lock;
    lock.app = std::move(app);
    lock.path = std::move(path);
    lock.user = std::move(user);
    lock.owner_xml = std::move(owner_xml);
    lock.scope = scope;
    lock.infinite_depth = infinite_depth;
    lock.timeout = clamp_timeout(timeout);
    lock.expires = now + lock.timeout;
    // A version-4 UUID repeats with odds of 2^-122; still, never hand out a live token twice.
    for (int tries = 0; lock.token.empty() || m_locks.contains(lock.token); ++tries) {
        auto token = random_token();
        if (!token || tries == 8)
            return std::unexpected(LockRefused{503, "no random bytes for a lock token", {}});
        lock.token = std::move(*token);
    }

    Usage& usage = m_users[lock.user];
    usage.locks += 1;
    usage.bytes += bytes;
    m_index[lock.app][lock.path].push_back(lock.token);
    m_expiry.emplace(lock.expires, lock.token);
    auto [it, inserted] = m_locks.emplace(lock.token, lock);
    (void)inserted;
    return it->second;
}

std::optional<Lock> LockTable::refresh(std::string_view app, std::string_view path,
                                       std::string_view token, std::string_view user,
                                       seconds timeout) {
    path = trim_slashes(path);
    std::lock_guard guard(m_mutex);
    const TimePoint now = m_clock();
    sweep(now);
    auto it = m_locks.find(token);
    if (it == m_locks.end()) return std::nullopt;
    Lock& lock = it->second;
    if (lock.app != app || lock.user != user || !covers(lock, path)) return std::nullopt;
    m_expiry.erase({lock.expires, lock.token});
    lock.timeout = clamp_timeout(timeout);
    lock.expires = now + lock.timeout;
    m_expiry.emplace(lock.expires, lock.token);
    return lock;
}

std::expected<void, LockRefused> LockTable::release(std::string_view app, std::string_view path,
                                                    std::string_view token, std::string_view user) {
    path = trim_slashes(path);
    std::lock_guard guard(m_mutex);
    sweep(m_clock());
    auto it = m_locks.find(token);
    if (it == m_locks.end() || it->second.app != app || !covers(it->second, path))
        return std::unexpected(
            LockRefused{409, "the lock token does not name a lock on this resource", {}});
    if (it->second.user != user)
        return std::unexpected(LockRefused{403, "the lock belongs to another user", {}});
    erase_lock(it);
    return {};
}

std::vector<Lock> LockTable::covering(std::string_view app, std::string_view path) const {
    path = trim_slashes(path);
    std::vector<Lock> out;
    std::lock_guard guard(m_mutex);
    const TimePoint now = m_clock();
    auto idx = m_index.find(app);
    if (idx == m_index.end()) return out;
    const PathIndex& paths = idx->second;
    auto take = [&](std::string_view p, bool need_infinite) {
        auto at = paths.find(p);
        if (at == paths.end()) return;
        for (const auto& t : at->second) {
            const Lock& lock = m_locks.at(t);
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
    std::lock_guard guard(m_mutex);
    const TimePoint now = m_clock();
    auto idx = m_index.find(app);
    if (idx == m_index.end()) return out;
    for_within(idx->second, path, [&](const std::string&, const std::vector<std::string>& tokens) {
        for (const auto& t : tokens) {
            const Lock& lock = m_locks.at(t);
            if (lock.expires > now) out.push_back(lock);
        }
        return true;
    });
    return out;
}

void LockTable::forget(std::string_view app, std::string_view path) {
    path = trim_slashes(path);
    std::lock_guard guard(m_mutex);
    sweep(m_clock());
    auto idx = m_index.find(app);
    if (idx == m_index.end()) return;
    std::vector<std::string> doomed;
    for_within(idx->second, path, [&](const std::string&, const std::vector<std::string>& tokens) {
        doomed.insert(doomed.end(), tokens.begin(), tokens.end());
        return true;
    });
    for (const auto& t : doomed)  // may erase the app's index: `idx` is dead
        if (auto it = m_locks.find(t); it != m_locks.end()) erase_lock(it);
}

std::size_t LockTable::size() const {
    std::lock_guard guard(m_mutex);
    const TimePoint now = m_clock();
    return static_cast<std::size_t>(
        std::count_if(m_locks.begin(), m_locks.end(),
                      [&](const auto& entry) { return entry.second.expires > now; }));
}

std::size_t LockTable::stored() const {
    std::lock_guard guard(m_mutex);
    return m_locks.size();
}

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

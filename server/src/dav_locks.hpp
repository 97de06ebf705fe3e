#pragma once
// The WebDAV lock table (RFC 4918 sections 6, 7, 9.10, 9.11): write locks,
// exclusive or shared, of depth 0 or infinity, with a timeout. In memory (one
// server process); it knows nothing of HTTP or XML: dav.cpp turns LockRefused
// into a response and Lock into lockdiscovery.
//
// Paths are normalized paths inside an app's mount: no leading or trailing
// '/', "" is the mount's root (leading and trailing '/' are stripped here;
// nothing else is normalized). A lock on `p` with infinite depth covers `p`
// and every path below it ("p/..." — not "p-b" nor "pb"); "" with infinite
// depth covers the whole mount.
//
// Expired locks count as absent everywhere. They are dropped lazily: every
// call that changes the table (acquire, refresh, release, forget) first drops
// every lock that has expired, in every app, at O(log n) each, so memory never
// holds more than the locks taken within the last timeout (at most an hour).
// A user holds at most max_locks_per_user live locks and max_bytes_per_user
// bytes of them (the owner XML a client sends can be large), so that one user
// cannot exhaust memory.
//
// Thread-safe: one mutex guards the whole table.

#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace de::server::dav {

enum class LockScope { exclusive, shared };

struct Lock {
    std::string token;  // "urn:x-de:" + 128 random bits (getrandom(2)) in base32
    std::string app;
    std::string path;       // normalized path in the mount, "" = root
    std::string user;       // who took it
    std::string owner_xml;  // echoed in lockdiscovery
    LockScope scope = LockScope::exclusive;
    bool infinite_depth = false;     // Depth: infinity (folders)
    std::chrono::seconds timeout{};  // as granted
    std::chrono::steady_clock::time_point expires{};
};

struct LockRefused {
    int status;           // 423 conflict, 503 over a user's limits, 403, 409
    std::string message;  // for the log and the response body; no secrets
    // 423: the root of the conflicting lock (for DAV:no-conflicting-lock's href).
    std::optional<std::string> conflicting_path;
};

// Timeouts are clamped to these bounds (RFC 4918 10.7 lets the server choose).
inline constexpr std::chrono::seconds k_lock_timeout_min{1};
inline constexpr std::chrono::seconds k_lock_timeout_max{3600};
inline constexpr std::chrono::seconds k_lock_timeout_default{600};

class LockTable {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    explicit LockTable(Clock clock = &std::chrono::steady_clock::now,
                       std::size_t max_locks_per_user = 1000,
                       std::size_t max_bytes_per_user = std::size_t{4} << 20);
    LockTable(const LockTable&) = delete;
    LockTable& operator=(const LockTable&) = delete;

    // 423 when an unexpired lock conflicts: on `path` itself, on an ancestor with
    // infinite depth, or (infinite_depth) on a descendant; exclusive conflicts with
    // anything, shared with exclusive. 503 past max_locks_per_user (or the byte
    // budget), or when the system gives no random bytes. The timeout is clamped
    // to [k_lock_timeout_min, k_lock_timeout_max].
    std::expected<Lock, LockRefused> acquire(std::string app, std::string path, LockScope scope,
                                             bool infinite_depth, std::chrono::seconds timeout,
                                             std::string user, std::string owner_xml);
    // Refresh by token (same app, same user, lock covers `path`): new timeout
    // (clamped as in acquire), counted from now; else nullopt.
    std::optional<Lock> refresh(std::string_view app, std::string_view path, std::string_view token,
                                std::string_view user, std::chrono::seconds timeout);
    // UNLOCK: the lock `token` must cover `path` (on it or an infinite ancestor,
    // RFC 4918 9.11) and belong to `user`. 403 when it covers `path` but is
    // another user's; 409 (DAV:lock-token-matches-request-uri) when the token is
    // unknown, expired, of another app or does not cover `path`.
    std::expected<void, LockRefused> release(std::string_view app, std::string_view path,
                                             std::string_view token, std::string_view user);
    // Unexpired locks on `path` or on an ancestor with infinite depth
    // (lockdiscovery, write checks); the root's first, `path`'s own last.
    std::vector<Lock> covering(std::string_view app, std::string_view path) const;
    // Unexpired locks on `path` or anywhere below it (DELETE/MOVE of a folder),
    // in path order.
    std::vector<Lock> within(std::string_view app, std::string_view path) const;
    // The resource is gone (DELETE, MOVE source): drop locks at and below `path`.
    void forget(std::string_view app, std::string_view path);

    // Live locks in the whole table (tests, metrics).
    std::size_t size() const;
    // Locks held in memory, expired ones not yet dropped included (tests).
    std::size_t stored() const;

  private:
    using TimePoint = std::chrono::steady_clock::time_point;
    // Tokens of the locks rooted at each path, paths in byte order, so that
    // "p" and "p/..." are found by lookups and one range scan within one app.
    using PathIndex = std::map<std::string, std::vector<std::string>, std::less<>>;
    struct Usage {
        std::size_t locks = 0;
        std::size_t bytes = 0;
    };

    void sweep(TimePoint now);
    using LockMap = std::map<std::string, Lock, std::less<>>;
    void erase_lock(LockMap::iterator it);
    // What a lock weighs against its user's max_bytes_per_user.
    static std::size_t cost(std::string_view app, std::string_view path, std::string_view user,
                            std::string_view owner_xml);
    // Calls f(path, tokens) for `path` and each path below it, in order,
    // while f returns true.
    template <class F>
    void for_within(const PathIndex& paths, std::string_view path, F&& f) const;

    Clock m_clock;
    std::size_t m_max_locks_per_user;
    std::size_t m_max_bytes_per_user;
    mutable std::mutex m_mutex;
    LockMap m_locks;                                        // token → lock
    std::map<std::string, PathIndex, std::less<>> m_index;  // app → path → tokens
    std::set<std::pair<TimePoint, std::string>> m_expiry;   // (expires, token)
    std::map<std::string, Usage, std::less<>> m_users;      // user → live locks held
};

// The Timeout request header (RFC 4918 10.7): "Second-600", "Infinite",
// "Infinite, Second-4100000000", absent (""). The first acceptable entry of
// the list, clamped to [1 s, 3600 s]: "Second-N" → N, "Infinite" → 3600 s;
// absent or no acceptable entry → 600 s. Case-insensitive, spaces ignored.
std::chrono::seconds parse_timeout(std::string_view header);

}  // namespace de::server::dav

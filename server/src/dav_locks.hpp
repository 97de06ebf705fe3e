#pragma once
// The WebDAV lock table (RFC 4918 sections 6, 7, 9.10, 9.11): write locks,
// exclusive or shared, of depth 0 or infinity, with a timeout. It knows
// nothing of HTTP or XML: dav.cpp turns LockRefused into a response and Lock
// into lockdiscovery.
//
// Shared by every de-server process on one root (replicas behind a load
// balancer, docs/server.md): a lock is state of the resource, not of the
// process that granted it. Each app's locks live in one small file beside its
// mount, <root>/apps/<app>/dav-locks.json, always replaced whole
// (write_file_atomic: temp file, fsync, rename, fsync of the folder), and
// changed only under an fcntl OFD write lock on <root>/apps/<app>/dav-locks.lock
// (honoured across machines by NFS v4 and CephFS; flock is not). A change
// reads the file, applies itself and writes the file back while it holds that
// lock, so two processes racing for conflicting locks cannot both win, and the
// per-user limits count every lock in the app, whoever granted it.
//
// Reads (every WebDAV request checks locks) keep a parsed copy of each app's
// file in memory and check that it is current with open, fstat, a 64-byte
// pread and close: the copy is used while the file's stat (device, inode,
// size, mtime) and first bytes are unchanged. The file starts with a random
// generation that every write renews, so equal first bytes mean the same
// version even when a rewrite within one coarse mtime tick reuses the inode
// number and the size. open(), not stat() alone: an NFS client answers stat()
// from its attribute cache for up to a minute, while open() revalidates with
// the server (close-to-open consistency), so a lock taken through one replica
// is seen at once by all. (The file is never removed, so that holds from an
// app's first lock on; that first lock may stay hidden from a client that
// cached the file's absence until that cache lapses, which NFS's
// lookupcache=positive mount option rules out.)
//
// Paths are normalized paths inside an app's mount: no leading or trailing
// '/', "" is the mount's root (leading and trailing '/' are stripped here;
// nothing else is normalized). A lock on `p` with infinite depth covers `p`
// and every path below it ("p/..." — not "p-b" nor "pb"); "" with infinite
// depth covers the whole mount.
//
// Expiry is wall-clock time (system_clock, milliseconds since the epoch in the
// file), as every replica must agree on it. Each process compares a lock's
// expiry with its own clock: a replica whose clock runs d ahead of the one
// that granted a lock treats it as expired d early (it may then accept a write
// without the token, or grant a conflicting lock, in the last d of the
// timeout, and its next change of that app drops the lock from the file for
// every replica); one running behind honours it d longer. Keep the machines in step
// (NTP: milliseconds, against timeouts of 1 s to an hour). Expired locks count
// as absent everywhere; every change to an app's file drops its expired locks.
//
// A user holds at most max_locks_per_user live locks and max_bytes_per_user
// bytes of them (the owner XML a client sends can be large) in one app, counted
// from the app's file, so across all replicas. As only an app's owner reaches
// its WebDAV, that bounds the size of each file; a user with several apps may
// hold that much in each.
//
// A damaged state file (not written by us: a disk fault, a hand edit) fails
// closed: while it may still hold a live lock, `usable` reports 503 (dav.cpp
// then refuses every write and LOCK in the app) and acquire/release refuse
// with 503, because a write let through would break a lock holder's promise
// without anyone noticing. Locks never outlive their file's last write by more
// than k_lock_timeout_max, so after the file's mtime plus an hour it holds no
// live lock: the table then treats it as empty, and the next change moves it
// aside to dav-locks.json.damaged and starts afresh. Reads (lockdiscovery)
// show no locks from a damaged file.
//
// Thread-safe: a mutex guards the in-memory copies only; changes exclude each
// other through the OFD lock (each change opens its own descriptor), which
// blocks the calling thread while another process changes the same app.

#include <chrono>
#include <cstddef>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
    bool infinite_depth = false;                      // Depth: infinity (folders)
    std::chrono::seconds timeout{};                   // as granted
    std::chrono::system_clock::time_point expires{};  // wall clock, whole milliseconds
};

struct LockRefused {
    int status;           // 423 conflict, 503 over a user's limits or state unusable, 403, 404, 409
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
    using Clock = std::function<std::chrono::system_clock::time_point()>;
    // `root` is the server's root: app `a`'s locks live in <root>/apps/a/.
    explicit LockTable(std::filesystem::path root, Clock clock = &std::chrono::system_clock::now,
                       std::size_t max_locks_per_user = 1000,
                       std::size_t max_bytes_per_user = std::size_t{4} << 20);
    LockTable(const LockTable&) = delete;
    LockTable& operator=(const LockTable&) = delete;
    ~LockTable();

    // 423 when an unexpired lock conflicts: on `path` itself, on an ancestor with
    // infinite depth, or (infinite_depth) on a descendant; exclusive conflicts with
    // anything, shared with exclusive. 503 past max_locks_per_user (or the byte
    // budget), when the system gives no random bytes, or when the app's lock
    // state cannot be read or written; 404 when the app has no folder. The
    // timeout is clamped to [k_lock_timeout_min, k_lock_timeout_max].
    std::expected<Lock, LockRefused> acquire(std::string app, std::string path, LockScope scope,
                                             bool infinite_depth, std::chrono::seconds timeout,
                                             std::string user, std::string owner_xml);
    // Refresh by token (same app, same user, lock covers `path`): new timeout
    // (clamped as in acquire), counted from now; else (or when the state cannot
    // be changed) nullopt.
    std::optional<Lock> refresh(std::string_view app, std::string_view path, std::string_view token,
                                std::string_view user, std::chrono::seconds timeout);
    // UNLOCK: the lock `token` must cover `path` (on it or an infinite ancestor,
    // RFC 4918 9.11) and belong to `user`. 403 when it covers `path` but is
    // another user's; 409 (DAV:lock-token-matches-request-uri) when the token is
    // unknown, expired, of another app or does not cover `path`; 503 when the
    // app's lock state cannot be read or written.
    std::expected<void, LockRefused> release(std::string_view app, std::string_view path,
                                             std::string_view token, std::string_view user);
    // Unexpired locks on `path` or on an ancestor with infinite depth
    // (lockdiscovery, write checks); the root's first, `path`'s own last.
    std::vector<Lock> covering(std::string_view app, std::string_view path) const;
    // Unexpired locks on `path` or anywhere below it (DELETE/MOVE of a folder),
    // in path order.
    std::vector<Lock> within(std::string_view app, std::string_view path) const;
    // The resource is gone (DELETE, MOVE source): drop locks at and below `path`.
    // Costs no write (and no file lock) when there are none.
    void forget(std::string_view app, std::string_view path);
    // 503 while the app's lock state cannot be trusted (see above: damaged or
    // unreadable), so that no write goes through a lock nobody can see.
    std::expected<void, LockRefused> usable(std::string_view app) const;

    // Live locks in the apps this table has read (tests, metrics).
    std::size_t size() const;
    // Locks held in memory, expired ones not yet dropped included (tests).
    std::size_t stored() const;

    // One app's file, parsed (defined in dav_locks.cpp).
    struct AppState;

  private:
    using TimePoint = std::chrono::system_clock::time_point;
    using Snapshot = std::shared_ptr<const AppState>;

    std::filesystem::path app_dir(std::string_view app) const;
    TimePoint now() const;
    // The app's state as its file holds it now (the cached copy when the
    // file has not changed). Never null: an absent file is an empty state.
    Snapshot snapshot(std::string_view app) const;
    void install(std::string_view app, Snapshot s) const;
    // Reads the state, lets `f(state, now)` change a copy of it under the
    // app's file lock, and writes it back when `f` succeeded and set `dirty`.
    template <class R, class F>
    std::expected<R, LockRefused> change(std::string_view app, F&& f);

    std::filesystem::path m_root;
    Clock m_clock;
    std::size_t m_max_locks_per_user;
    std::size_t m_max_bytes_per_user;
    mutable std::mutex m_mutex;                                    // guards m_cache
    mutable std::map<std::string, Snapshot, std::less<>> m_cache;  // app → its file, parsed
};

// The Timeout request header (RFC 4918 10.7): "Second-600", "Infinite",
// "Infinite, Second-4100000000", absent (""). The first acceptable entry of
// the list, clamped to [1 s, 3600 s]: "Second-N" → N, "Infinite" → 3600 s;
// absent or no acceptable entry → 600 s. Case-insensitive, spaces ignored.
std::chrono::seconds parse_timeout(std::string_view header);

}  // namespace de::server::dav

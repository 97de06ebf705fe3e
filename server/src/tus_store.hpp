#pragma once
// The store of tus uploads: each upload's record (TusUpload), its state file
// beside its data in <root>/apps/<app>/uploads/, the registry of live uploads
// (and tombstones that answer 410 for a while), expiry and reaping, the quota
// reservation each holds, and recovery at start-up. It knows nothing of HTTP;
// tus.cpp's handlers call it. The hashing state inside a TusUpload belongs to
// tus_hash.hpp.
//
// Replicas: several de-server processes may serve one root (a shared file
// system), so the state file is the truth and a TusUpload is this process's
// cache of it: every request re-reads the state file (a few KB) and merges
// what changed (refresh), and every write is a read-modify-write under an
// fcntl OFD lock (save). Locks live in <root>/apps/<app>/tus/lock, one
// 64 KiB region per upload (lock_base): the state, the commit (also held
// while the upload is created) and one byte per part being written, so
// PATCHes of different parts run in parallel on any replicas and a second
// PATCH of one part gets 409 wherever it lands. A dead replica's locks go
// with it. Tombstones (tus/gone.<id>) make 410 visible to every replica;
// tus/key.<hash> maps an Idempotency-Key to its upload.

#include "apps.hpp"
#include "mount.hpp"
#include "tus_hash.hpp"
#include "tus_proto.hpp"

#include <de/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace de::server::tus {

using nlohmann::json;

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Part {
    std::uint64_t filled = 0;
    std::uint64_t confirmed = 0;
    // Bumped at each rollback of the part (a restart at its start, a bad
    // checksum), so another replica knows its hash of the part is stale.
    std::uint64_t epoch = 0;
    bool active = false;  // a PATCH of this process writes it (and holds its lock)
};

// The OFD lock regions (see the top of the file).
inline constexpr off_t k_lock_keys = 0;   // app-wide: creation with an Idempotency-Key
inline constexpr off_t k_lock_sweep = 1;  // app-wide: one replica sweeps the folder
inline constexpr off_t k_lock_region = 1 << 16;
inline constexpr off_t k_lock_state = 0;   // + lock_base: the state file's read-modify-write
inline constexpr off_t k_lock_commit = 1;  // + lock_base: being created or committed
inline constexpr off_t k_lock_parts = 16;  // + lock_base + k: part k being written
// The first lock byte of upload `id`'s region: its first 40 bits, so two
// uploads of an app share a region with odds of 1 in 2^40 (and then only
// wait for each other, or get a needless 409).
off_t lock_base(std::string_view id);
inline off_t part_lock(off_t base, std::size_t k) {
    return base + k_lock_parts + static_cast<off_t>(k % (k_lock_region - k_lock_parts));
}
// fcntl OFD locks on [start, start + len) of fd (len 0: to the end). False
// with errno (EAGAIN: held elsewhere, without wait).
bool ofd_lock(int fd, short type, off_t start, off_t len, bool wait);
void ofd_unlock(int fd, off_t start, off_t len);
// Whether another open file description holds a lock in [start, start + len).
bool ofd_held_elsewhere(int fd, off_t start, off_t len);
// Holds an OFD lock for its scope (when held()).
class OfdLock {
  public:
    OfdLock(int fd, short type, off_t start, off_t len, bool wait)
        : m_fd(fd),
          m_start(start),
          m_len(len),
          m_held(fd >= 0 && ofd_lock(fd, type, start, len, wait)) {}
    ~OfdLock() {
        if (m_held) ofd_unlock(m_fd, m_start, m_len);
    }
    OfdLock(const OfdLock&) = delete;
    OfdLock& operator=(const OfdLock&) = delete;
    bool held() const { return m_held; }

  private:
    int m_fd;
    off_t m_start, m_len;
    bool m_held;
};

struct TusUpload {
    // Fixed at creation.
    std::string id, app, owner;
    std::int64_t app_created_at = 0;
    std::uint64_t length = 0;
    std::uint64_t part_size = 0;  // the whole length in core mode
    bool parts_mode = false;
    std::string metadata_raw;
    std::string creation_key;  // Idempotency-Key of the creation, or ""
    std::string rel;           // the mount path ("" for a partial upload)
    std::optional<std::string> sha256;
    std::optional<std::int64_t> mtime_ns;
    bool overwrite = false;
    tus::Concat::Kind concat = tus::Concat::Kind::none;
    std::string concat_header;  // HEAD's Upload-Concat for a final upload
    UniqueFd dir;               // the app's uploads folder
    UniqueFd data;              // <id>.data
    UniqueFd direct;            // the same file opened O_DIRECT (invalid where unsupported)
    UniqueFd lock;              // tus/lock, this upload's own open file description
    off_t lock_base = 0;

    std::mutex mu;     // guards everything below
    std::string seen;  // the state file's text as last read or written here
    bool on_disk = false;
    // The lowest point a rollback of this process went back to since the
    // last save (a persisted hash beyond it is cut back).
    std::uint64_t rollback_cut = UINT64_MAX;
    std::int64_t used_ms = 0;  // the last request here (completed uploads leave the cache)
    std::vector<Part> parts;
    std::size_t fill_cursor = 0;
    std::int64_t touched_ms = 0;
    bool dropped = false;
    bool committing = false;
    bool completed = false;
    bool created = false;
    json entry;
    // The commit in progress, recorded durably (state file fsynced) before the
    // rename into the mount, so that a restart can tell whether it happened:
    // the staged file's identity, the hash it was verified to have, and
    // whether the target existed (for `created`).
    struct CommitRecord {
        std::string sha256;
        std::uint64_t dev = 0, ino = 0;
        bool target_existed = false;
    };
    std::optional<CommitRecord> commit_record;
    Reservation res;
    // The whole-file hash covers [0, hashed). Whoever holds hash_busy may use
    // file_hash without the lock; a rollback behind the hash bumps hash_gen,
    // and the holder then resets it on release.
    // SHA-256 (the ETag) and CRC-64 (the client's whole-file check) in one pass.
    tus::Digest file_hash{tus::ChecksumAlgo::sha256, true};
    std::uint64_t hashed = 0;
    // The hash's state at part starts it passed (tus_hash.hpp: hash_feed), and
    // the lowest point rolled back to while the hasher was busy.
    std::map<std::uint64_t, tus::Digest> hash_marks;
    std::uint64_t rollback_floor = UINT64_MAX;
    std::uint64_t hash_gen = 0;
    bool hash_busy = false;
    // file_hash as it stood the last time the hasher was given back (at
    // snap_at): what save() persists, since the holder changes file_hash
    // without the lock.
    std::optional<tus::Digest> snap;
    std::uint64_t snap_at = 0;
    // Copies of written chunks beyond `hashed`, by file offset (see catch_up).
    struct Ahead {
        AlignedBuffer buf;
        std::size_t n = 0;
    };
    std::map<std::uint64_t, Ahead> ahead;
    std::shared_ptr<BufferPool> buffers;  // where ahead buffers go back
    // Where the whole-file hash got its bytes (the completion log line).
    std::atomic<std::uint64_t> hashed_inline{0}, hashed_ahead{0}, hashed_file{0};

    TusUpload() = default;
    TusUpload(const TusUpload&) = delete;
    TusUpload& operator=(const TusUpload&) = delete;
    ~TusUpload() { drop_ahead_locked(0, UINT64_MAX); }
    // Forgets ahead chunks that start in [from, to).
    void drop_ahead_locked(std::uint64_t from, std::uint64_t to) {
        for (auto it = ahead.lower_bound(from); it != ahead.end() && it->first < to;) {
            g_ahead_total -= k_chunk;
            if (buffers) buffers->put(std::move(it->second.buf));
            it = ahead.erase(it);
        }
    }

    std::mutex save_mu;  // serialises state-file writes (taken before mu)

    std::uint64_t pbegin(std::size_t k) const { return k * part_size; }
    std::uint64_t pend(std::size_t k) const { return std::min(length, (k + 1) * part_size); }
    std::uint64_t plen(std::size_t k) const { return pend(k) - pbegin(k); }
    std::uint64_t filled_prefix() {
        while (fill_cursor < parts.size() && parts[fill_cursor].filled == plen(fill_cursor))
            ++fill_cursor;
        return fill_cursor < parts.size() ? pbegin(fill_cursor) + parts[fill_cursor].filled
                                          : length;
    }
    std::uint64_t confirmed_prefix() const {
        for (std::size_t k = 0; k < parts.size(); ++k)
            if (parts[k].confirmed != plen(k)) return pbegin(k) + parts[k].confirmed;
        return length;
    }
    // Every byte of [0, length) received and confirmed: the parts cover the
    // whole length, each one in full.
    bool all_confirmed() const {
        std::uint64_t total = 0;
        for (std::size_t k = 0; k < parts.size(); ++k) {
            if (pbegin(k) != total || parts[k].confirmed != plen(k)) return false;
            total += parts[k].confirmed;
        }
        return total == length;
    }
    bool any_active() const {
        for (const auto& p : parts)
            if (p.active) return true;
        return false;
    }
    std::string done_ranges() const {
        return tus::format_ranges_if(
            parts.size(), [&](std::uint64_t i) { return parts[i].confirmed == plen(i); });
    }
    std::string missing_ranges() const {
        return tus::format_ranges_if(
            parts.size(), [&](std::uint64_t i) { return parts[i].confirmed != plen(i); });
    }
};
using UploadPtr = std::shared_ptr<TusUpload>;

// Sizes the parts from length and part_size (core mode: one part).
void init_parts(TusUpload& u);
// Writes <id>.json with write + rename (no fsync, see tus.cpp; `durable`:
// fsync of the file and the folder, for the commit record), under the
// upload's state lock, after merging what other replicas wrote meanwhile.
// False once the upload was dropped (here or elsewhere: then `dropped` is
// set), or on an I/O error (errno).
bool save(TusUpload& u, bool durable = false);
// Removes <id>.data and <id>.json.
void remove_files(TusUpload& u);
// Re-reads <id>.json and merges what other replicas changed. False when it
// is gone (terminated, expired, discarded elsewhere).
bool refresh(TusUpload& u);
// The parts of u, its commit record (also a foreign one), its creation: held
// by another process (replica)?
bool foreign_parts_busy(const TusUpload& u);
bool foreign_commit_busy(const TusUpload& u);
// Remembers file_hash as the hash persisted next (the caller holds u.mu and
// the hash is consistent: at `hashed`).
void note_hash_locked(TusUpload& u);

class UploadStore {
  public:
    UploadStore(AppStore& apps, MountStore& mounts, std::chrono::milliseconds expiry);

    std::int64_t expiry_ms() const { return m_expiry.count(); }
    std::filesystem::path uploads_dir(std::string_view app) const;
    const std::shared_ptr<BufferPool>& buffers() const { return m_buffers; }

    // The live upload `id` of `app`, if `owner` owns it: not_found otherwise
    // (and for a malformed id), gone for a terminated or expired one. Loaded
    // from the disk when another replica made it; refreshed from the disk.
    ApiResult<UploadPtr> find(std::string_view app, std::string_view id, std::string_view owner);
    // Opens the app's tus/lock (creating tus/); invalid on error (errno).
    UniqueFd open_lock(std::string_view app) const;
    void add(const UploadPtr& u);
    // The upload of `app` (not terminated, expired or discarded) that `owner`
    // created with Idempotency-Key `creation_key`, if any.
    std::optional<UploadPtr> find_by_key(std::string_view app, std::string_view owner,
                                         std::string_view creation_key);
    // add() unless an upload with u's creation key is live already (on any
    // replica: tus/key.<hash> under the app's key lock): that one is returned
    // instead (the caller drops u).
    UploadPtr add_unique(const UploadPtr& u);
    // Drops an upload: files, reservation, map entry; a tombstone answers 410.
    void discard(const UploadPtr& u, bool tombstone);
    // Every upload of an app whose mount went away, and whatever else is in
    // its uploads folder.
    void drop_app(const std::string& app);

    // Start-up: loads the uploads on the disk (re-reserving their quota),
    // then sweeps (below).
    void start();
    // Drops expired uploads, and uploads whose app or mount went away, and
    // forgets those another replica dropped; now and then sweeps every app's
    // uploads folder (one replica at a time): expired uploads and leftovers
    // that no live process holds a lock on.
    void reap();

  private:
    static std::string key(std::string_view app, std::string_view id);
    std::optional<UploadPtr> load(const std::string& app, int dir_fd, const std::string& id);
    void sweep(const std::string& app, bool load_all);
    void forget(const UploadPtr& u);
    bool tombstoned(std::string_view app, std::string_view id) const;
    std::int64_t m_last_sweep_ms = 0;
    // A commit record left by a crash: did the rename into the mount happen?
    // Yes: the upload is completed (its entry rebuilt). No: it is complete but
    // uncommitted again (POST .../complete commits it).
    void resolve_commit(TusUpload& u, int dir_fd);

    AppStore& m_apps;
    MountStore& m_mounts;
    std::chrono::milliseconds m_expiry;
    std::mutex m_mu;
    std::map<std::string, UploadPtr> m_uploads;  // app + '/' + id
    std::map<std::string, std::int64_t> m_gone;  // terminated or expired: 410 for a while
    std::shared_ptr<BufferPool> m_buffers = std::make_shared<BufferPool>();
};

}  // namespace de::server::tus

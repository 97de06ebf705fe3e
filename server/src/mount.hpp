#pragma once
// The storage layer for one app's mount: path resolution, the hash cache,
// usage and quota, and every file operation the API offers. It knows nothing
// of HTTP; the router calls it and turns ApiError into responses.
//
// Uploads are staged in <app>/staging (same filesystem), hashed while they
// arrive, fsynced, then renamed into place and the folder fsynced, so a file is
// visible only whole. Quota: usage is counted from the directory (outside
// writes count) by a walk that holds one descriptor and fails rather than
// skip a folder (walk.hpp); checks use a count at most usage_ttl old,
// corrected by our own commits, plus what uploads in flight reserve. Both
// bytes and entries (files and folders: --max-entries) are limited. Disk: a write is
// admitted only while it fits above the root's free-space reserve (--min-free,
// fs.hpp), counting the bytes admitted streamed writes have yet to write.

#include "api_error.hpp"
#include "apps.hpp"
#include "fs.hpp"
#include "inode_cache.hpp"
#include "quota_ledger.hpp"
#include "walk.hpp"

#include <de/crc64.hpp>
#include <de/sha256.hpp>
#include <de/types.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace de::server {

class MountStore;

struct Mount {
    std::string app;
    UniqueFd dir;      // O_PATH|O_DIRECTORY of <app>/mount
    UniqueFd staging;  // O_RDONLY|O_DIRECTORY of <app>/staging
};

struct Usage {
    std::uint64_t used_bytes = 0;
    std::uint64_t file_count = 0;
    std::uint64_t entries = 0;  // files and folders (not the mount's root)
};

// Bytes an upload or copy holds against the quota until it commits or fails.
class Reservation {
  public:
    Reservation() = default;
    // `streamed`: the bytes are still to be written (a PUT, a batch, a copy), so
    // they count against the disk's free space until the reservation ends; a
    // tus upload preallocates its file instead.
    // `entries`: files and folders the operation may create (an upper bound),
    // held against --max-entries like the bytes.
    Reservation(MountStore* store, std::string app, std::uint64_t bytes, bool streamed = false,
                std::uint64_t entries = 0)
        : m_store(store),
          m_app(std::move(app)),
          m_bytes(bytes),
          m_entries(entries),
          m_streamed(streamed) {}
    ~Reservation();
    Reservation(Reservation&& o) noexcept;
    Reservation& operator=(Reservation&& o) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    std::uint64_t bytes() const { return m_bytes; }
    std::uint64_t entries() const { return m_entries; }
    // Asks for room for `more` entries (a batch, once its members are known).
    // Fails with quota_exceeded.
    ApiResult<void> grow_entries(std::uint64_t more);
    // Asks for more room (a chunked upload). Fails with quota_exceeded (the
    // quota, or the disk's free-space reserve).
    ApiResult<void> grow(std::uint64_t more);
    // The operation ended: the reservation is released, and `delta` bytes and
    // `entries` files or folders of usage are now real (0, 0: it failed).
    void commit(std::int64_t delta, std::int64_t entries = 0);
    // Takes over `other`'s bytes (same app): a tus final upload inherits the
    // reservations of its partial uploads.
    void absorb(Reservation&& other);
    // An upload's reservation (MountStore::reserve_upload) is on the root, not
    // this replica's: dropping the object leaves it there (another replica
    // may continue the upload); only commit() ends it.
    bool is_upload() const { return !m_upload.empty(); }

  private:
    friend class MountStore;
    void let_go();
    MountStore* m_store = nullptr;
    std::string m_app;
    std::string m_upload;  // the upload id of an upload's reservation
    std::uint64_t m_bytes = 0;
    std::uint64_t m_entries = 0;
    bool m_streamed = false;
};

struct PutOptions {
    std::optional<std::uint64_t> content_length;  // nullopt: chunked
    bool if_none_match_star = false;
    std::optional<std::string> if_match;  // the etag's hex digest, or "*"
    std::optional<std::string> digest;    // expected sha256 hex from Content-Digest
    std::optional<std::uint64_t> crc64;   // expected CRC-64 from Repr-Digest
    std::optional<std::int64_t> mtime_ns;
};

struct PutResult {
    Entry entry;
    bool created = false;
    std::int64_t usage_delta = 0;  // the new file's size less the one it replaced
};

// An upload in flight. Destroying it without commit() removes the staging file.
class Upload {
  public:
    Upload(MountStore& store, Mount& mount, std::string rel, PutOptions opts, Reservation res,
           UniqueFd fd, std::string staging_name);
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;

    ApiResult<void> write(const char* data, std::size_t n);
    // The two halves of write() for a caller that runs them in parallel on one
    // buffer (the body's length is already bounded by Content-Length): hash()
    // must see the buffers in order, and so must store().
    void hash(const char* data, std::size_t n);
    ApiResult<void> store(const char* data, std::size_t n);
    std::uint64_t received() const { return m_received; }
    ApiResult<PutResult> commit();
    // Buffers handed to store() that start at a k_direct_align boundary and
    // are whole blocks go to the disk with O_DIRECT (big bodies only: see
    // k_direct_from); the rest through the page cache.
    static constexpr std::uint64_t k_direct_from = 8 << 20;

  private:
    MountStore& m_store;
    Mount& m_mount;
    std::string m_rel;
    PutOptions m_opts;
    Reservation m_res;
    UniqueFd m_fd;
    UniqueFd m_direct;  // the staging file again, O_DIRECT; invalid when not used
    std::string m_staging_name;
    Sha256 m_hash;
    Crc64 m_crc;                   // beside the SHA-256, in the same job
    std::uint64_t m_received = 0;  // stored
    bool m_done = false;
};

// An open file ready to be served.
struct ReadFile {
    UniqueFd fd;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string sha256;
    // The whole file's CRC-64 (crc_store.hpp): stored, or computed in the
    // pass that hashed it, or computed once and stored (issue #15).
    std::uint64_t crc64 = 0;
};

struct ListPage {
    std::vector<Entry> entries;
    std::optional<std::string> next_cursor;
};

// Depth-first walk below a folder, siblings sorted by name, a folder before
// its contents; one entry at a time so a manifest of any size streams in flat
// memory, holding one descriptor (walk.hpp's SortedWalk).
class TreeWalker {
  public:
    TreeWalker(MountStore& store, SortedWalk walk, bool hashes);
    // nullopt at the end; an error when the walk cannot go on (the answer must
    // then not claim to be complete).
    ApiResult<std::optional<Entry>> next();

  private:
    MountStore& m_store;
    SortedWalk m_walk;
    bool m_hashes;
};

// One folder's members a page at a time, in directory order: WebDAV's
// PROPFIND Depth 1, whose answer has no order. One reader takes a page's
// names (FolderScan::next_name: one getdents64 per 32 KiB of names); the
// page's members are then stat'ed and looked up in the inode cache (hashed
// when asked and not known) by fill(), in slices that may run on different
// threads at once: the stats are most of a listing's time (perf, 40 listings of
// 10,000 members with this walk on one thread: 71 % of de-server's samples,
// mostly fstatat's path lookup in the kernel).
class FolderPages {
  public:
    struct Member {
        SortedWalk::Item item;       // the name; fill() adds stat, path and dir_fd
        std::optional<Entry> entry;  // after fill(): unset when not listed (gone, a link...)
        bool bare = false;           // the inode cache knows it has no WebDAV dead properties
    };
    FolderPages(MountStore& store, FolderScan scan, bool hashes);
    // Replaces `page` with the next names, at most `max`; empty at the end.
    ApiResult<void> next_names(std::vector<Member>& page, std::size_t max);
    // Stats and fills in `slice` (members of one page). Slices that do not
    // overlap may be filled at once; not at the same time as next_names.
    ApiResult<void> fill(std::span<Member> slice) const;
    // The folder, open (its members' dir_fd).
    int dir_fd() const { return m_scan.fd(); }

  private:
    MountStore& m_store;
    FolderScan m_scan;
    bool m_hashes;
};

class MountStore {
  public:
    static constexpr std::uint64_t k_default_max_entries = 1'000'000;
    MountStore(AppStore& apps, std::uint64_t quota_bytes, MinFree min_free = {},
               std::uint64_t max_entries = k_default_max_entries);

    std::uint64_t quota() const { return m_quota; }
    std::uint64_t max_entries() const { return m_max_entries; }
    // A fresh name for a file or tree in an app's staging folder, this
    // replica's own (Replicas::tag): start-up of another replica leaves it be.
    std::string staging_name(std::string_view kind);
    // The free-space reserve on the root's file system now, in bytes.
    std::uint64_t min_free_bytes_now();

    // The app's mount, or mount_disabled. The caller has checked ownership.
    ApiResult<Mount> open(const App& app);
    // Counts the mount afresh; an error when it cannot be counted whole.
    ApiResult<MountStatus> status(const App& app);
    // The mount's usage as the quota checks see it: counted at most its ttl
    // ago, corrected by our own commits (WebDAV's quota properties).
    ApiResult<Usage> usage(Mount& m);

    ApiResult<Entry> stat_entry(Mount& m, std::string_view rel, bool hash);
    ApiResult<ReadFile> open_read(Mount& m, std::string_view rel);
    // Checks preconditions and quota before any byte of the body is read.
    ApiResult<std::unique_ptr<Upload>> begin_put(Mount& m, std::string rel, PutOptions opts);
    ApiResult<void> remove(Mount& m, std::string_view rel, bool recursive);
    ApiResult<PutResult> mkdir(Mount& m, std::string_view rel, bool parents);
    ApiResult<Entry> move(Mount& m, std::string_view from, std::string_view to, bool overwrite);
    ApiResult<Entry> copy(Mount& m, std::string_view from, std::string_view to, bool overwrite);
    // One page in the manifest's order (a folder right before its contents,
    // siblings sorted by name), after `cursor` (the path the previous page
    // ended with); memory bounded by the page, not the tree. An error, never
    // a short page, when the walk cannot go on.
    ApiResult<ListPage> list(Mount& m, std::string_view rel, bool recursive, bool hashes,
                             std::size_t limit, std::string_view cursor);
    // The walk of the manifest (sorted, recursive, in batches).
    ApiResult<std::unique_ptr<TreeWalker>> walk(Mount& m, std::string_view rel, bool hashes);
    // One folder's members in pages (WebDAV's PROPFIND Depth 1: the folder
    // read once); an error when `rel` is not a folder.
    ApiResult<std::unique_ptr<FolderPages>> folder_pages(Mount& m, std::string_view rel,
                                                         bool hashes);
    // The entry of a walked item, with its SHA-256 when the inode cache knows
    // it, or (`hash`) computed and remembered; `bare`: whether the cache knows
    // the item has no WebDAV dead properties (both from one lookup).
    Entry entry_of(SortedWalk::Item& it, bool hash, bool* bare = nullptr);

    // SHA-256 of an open regular file, from the cache when (dev, ino, size,
    // mtime) still match. With `crc`, a file that has to be read also gets
    // its CRC-64 in the same pass (stored in its xattr; *crc set), so a first
    // GET of a file an app wrote reads it once for both.
    ApiResult<std::string> hash_of(int fd, const struct stat& st,
                                   std::optional<std::uint64_t>* crc = nullptr);
    void remember_hash(const struct stat& st, std::string_view sha256);
    std::optional<std::string> cached_hash(const struct stat& st);
    // What is known about inodes: their SHA-256s, and which have no WebDAV
    // dead properties (PROPFIND asks both in one lookup: entry_of).
    InodeCache& inodes() { return m_inodes; }

    // Holds `bytes` against the app's quota and the disk's free space (see
    // Reservation for `streamed`), and `entries` new files or folders against
    // --max-entries. Fails with quota_exceeded (507) for either, and with the
    // walk's error when the mount's usage cannot be counted (never admits a
    // write on a count it could not finish).
    ApiResult<Reservation> reserve(const std::string& app, int mount_fd, std::uint64_t bytes,
                                   bool streamed = true, std::uint64_t entries = 1);
    // The bytes reserved by this replica's uploads in flight in `app`.
    std::uint64_t reserved(const std::string& app);
    // ... in every app (metrics).
    std::uint64_t reserved_total();
    // A resumable upload's reservation: checked like reserve(), then held on
    // the root under the upload's id (quota_ledger.hpp), so that it stays
    // counted whichever replica continues the upload, and ends only when one
    // commits it (Reservation::commit: completion, termination, expiry).
    ApiResult<Reservation> reserve_upload(const std::string& app, int mount_fd, std::uint64_t bytes,
                                          const std::string& upload);
    // The reservation upload `upload` holds on the root, for a replica that
    // continues it (`bytes`: what to hold when none is recorded).
    Reservation adopt_upload(const std::string& app, const std::string& upload,
                             std::uint64_t bytes);
    // The app's mount went away: so do its uploads' reservations.
    void forget_uploads(const std::string& app);

    // The one way a whole file enters the mount: PUT, tus completion and
    // batch all commit through it. The file was written in full on the
    // mount's file system (`f.name` in `f.dir_fd`: the app's staging or
    // uploads folder). commit_staged sets its mtime and fsyncs it (unless the
    // caller did: `o.flushed`), renames it to `o.rel` beneath the mount
    // (parents created unless the caller passes the folder; a file in the way
    // is replaced only with `o.overwrite`, a folder never), fsyncs the folder
    // (unless the caller fsyncs each folder once: `o.sync_folder`), records
    // the hash and turns `res` (when given) into usage. Blocking (fsync): run
    // it off the I/O threads.
    struct StagedFile {
        int dir_fd = -1;
        std::string name;
        int fd = -1;        // open, for the mtime and the fsync; -1 once flushed
        struct stat st {};  // with o.flushed: the file as it was flushed
    };
    struct CommitOptions {
        std::string rel;
        std::string sha256;
        // The file's CRC-64, stored beside it (crc_store.hpp) once its mtime
        // is set (with `flushed`, the caller stores it).
        std::optional<std::uint64_t> crc64;
        std::optional<std::int64_t> mtime_ns;
        bool overwrite = false;
        // The caller set the mtime and flushed the data already (batch: one
        // syncfs for the whole batch, not one fsync per file).
        bool flushed = false;
        bool sync_folder = true;
        int parent_fd = -1;              // the destination folder, when the caller holds it open
        std::uint64_t dirs_created = 0;  // folders the caller created for it (usage)
        // The answer when a file is in the way and !overwrite (default: conflict).
        std::optional<ApiError> exists_error;
    };
    ApiResult<PutResult> commit_staged(Mount& m, const StagedFile& f, const CommitOptions& o,
                                       Reservation* res);

  private:
    friend class Reservation;
    struct QuotaState {
        std::uint64_t reserved = 0;
        std::uint64_t reserved_entries = 0;
        Usage usage;
        std::chrono::steady_clock::time_point counted_at{};
        bool valid = false;
        // Counts running outside the lock, and what our own commits added
        // meanwhile (added to their result: a count may or may not have seen
        // them, so the total errs on the high side).
        int walks = 0;
        Usage during_walk;
        std::chrono::steady_clock::duration ttl = k_usage_ttl;
        // Shared with the other replicas (quota_ledger.hpp): when the count
        // started (wall clock), the part of `reserved` still to be written,
        // and this replica's commits of the last minutes, per second.
        std::int64_t counted_at_wall_ms = 0;
        std::uint64_t reserved_streamed = 0;
        std::deque<QuotaLedger::Committed> recent;
    };
    static ApiResult<Usage> count_usage(int mount_fd);
    ApiResult<ListPage> list_page(SortedWalk walk, bool hashes, std::size_t limit);
    // The app's usage, counted again when older than its ttl (outside the
    // lock); returns with m_quota_mutex held in `lock`.
    ApiResult<void> refresh_usage(const std::string& app, int mount_fd,
                                  std::unique_lock<std::mutex>& lock, bool force);
    ApiError quota_error(std::uint64_t needed, std::uint64_t available) const;
    ApiError entries_error(std::uint64_t needed, std::uint64_t available) const;
    // With m_quota_mutex held: the usage change of a commit.
    void add_usage_locked(QuotaState& st, std::int64_t bytes, std::int64_t entries);
    // With m_quota_mutex held: nullopt when `bytes` more fit on the disk above
    // the reserve (less what this replica and, `others_streamed`, the others
    // still have to write), else the 507 to answer.
    std::optional<ApiError> disk_full_locked(std::uint64_t bytes,
                                             std::uint64_t others_streamed = 0);
    // With m_quota_mutex held and the app's ledger locked: the other
    // replicas' part of the app's quota; this replica's, made known to them.
    QuotaLedger::Others others_locked(QuotaLedger::Session& ledger, const QuotaState& st);
    void publish_locked(QuotaLedger::Session& ledger, QuotaState& st);
    // A reservation of `held` bytes grows (checked like reserve()), or ends
    // with `delta` bytes and `entries_delta` entries of new usage.
    // (`upload`: an upload's reservation, held on the root.)
    ApiResult<void> change_reservation(const std::string& app, std::int64_t bytes,
                                       std::int64_t entries, bool streamed, std::uint64_t held,
                                       const std::string& upload, std::uint64_t held_entries);
    void end_reservation(const std::string& app, std::uint64_t bytes, std::uint64_t entries,
                         bool streamed, std::int64_t delta, std::int64_t entries_delta,
                         const std::string& upload);
    // Bytes and entries pass from one reservation to another ("" = this replica's).
    void move_reservation(const std::string& app, const std::string& from_upload,
                          std::uint64_t bytes, std::uint64_t entries, bool streamed,
                          const std::string& to_upload, std::uint64_t to_bytes,
                          std::uint64_t to_entries);

    AppStore& m_apps;
    std::uint64_t m_quota;
    std::uint64_t m_max_entries;
    std::mutex m_quota_mutex;
    std::map<std::string, QuotaState> m_quota_state;
    MinFree m_min_free;
    std::uint64_t m_streamed_pending = 0;  // streamed reservations, all apps (m_quota_mutex)
    InodeCache m_inodes;                   // SHA-256s (and WebDAV's "no dead properties")
    QuotaLedger m_ledger;

    static constexpr std::chrono::milliseconds k_usage_ttl{2000};
    static constexpr std::chrono::seconds k_usage_ttl_max{QuotaLedger::k_keep_s / 2};
};

}  // namespace de::server

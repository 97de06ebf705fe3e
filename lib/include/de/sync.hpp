#pragma once
// sync push|pull: make one side (the destination) match the other (the source).
//
// Design: both sides are listed once (a local lstat walk; one streamed manifest
// request for the remote), each listing is put in the same order (depth first,
// siblings by bytewise name, i.e. paths compared with '/' sorting first), and a
// pure planner merges the two in one pass into a SyncPlan. Executing a plan
// runs the transfers on N worker threads (one Client each), then, only if every
// transfer succeeded, the deletes. A plan can be written as JSON (dry run) and
// applied later; it carries a fingerprint of both scanned sides so that apply
// refuses when either changed in between.
//
// Files are equal when their sizes match and their mtimes match to the
// microsecond (precision that survives every filesystem we care about), or,
// with checksum, when their SHA-256 match (local hashes come from a cache keyed
// by path, size, mtime and inode; remote ones from the server's hash cache).
//
// The local listing is de/upload_plan.hpp's walker, with its symlink policy
// (symlinks inside the folder skipped with a warning unless followed), and
// push sends with its batch / single split.

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/types.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace de {

class SyncLeaseHold;  // de/sync_lease.hpp

enum class SyncDirection { push, pull };  // push: local -> remote; pull: remote -> local

// Deletes allowed without --max-delete; a larger delete needs the user to say so.
inline constexpr std::int64_t k_default_max_delete = 1000;
inline constexpr int k_default_sync_jobs = 8;

struct SyncEvent {
    enum class Kind {
        scan,     // a listing finished: message says which side and how many entries
        start,    // an operation starts (path, bytes)
        done,     // an operation finished
        failed,   // an operation failed (message)
        warning,  // e.g. a symlink skipped (path, message)
    };
    Kind kind = Kind::start;
    std::string_view action;  // "upload", "download", "delete", "mkdir", "touch"
    std::string_view path;    // relative path (valid only during the call)
    std::uint64_t bytes = 0;
    std::string_view message;
};
// Called from worker threads, but never concurrently: the library serialises calls.
using SyncEventFn = std::function<void(const SyncEvent&)>;

struct SyncOptions {
    std::string remote_dir;          // folder inside the mount; "" is the mount root
    bool delete_extraneous = false;  // --delete: make the destination identical
    std::int64_t max_delete = k_default_max_delete;  // < 0: unlimited
    bool force = false;                    // allow --delete when the source is empty or missing
    bool dry_run = false;                  // plan only; change nothing
    bool checksum = false;                 // compare SHA-256 instead of size + mtime
    std::vector<std::string> include;      // globs; when given, only matching files take part
    std::vector<std::string> exclude;      // globs; a matching folder excludes its whole subtree
    bool follow_symlinks = false;          // default: skip local symlinks with a warning
    int jobs = k_default_sync_jobs;        // parallel transfers (one Client per worker)
    bool use_hash_cache = true;            // local SHA-256 cache for checksum mode
    std::filesystem::path hash_cache_dir;  // "" : $XDG_CACHE_HOME/de-cli (or ~/.cache/de-cli)
    SyncEventFn on_event;
};

// One side's entry as the planner sees it (paths relative, '/'-separated).
struct SyncEntry {
    std::string path;
    EntryType type = EntryType::file;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::optional<std::string> sha256;
};

struct SyncOp {
    enum class Action {
        transfer,  // copy the source file to the destination (upload or download)
        mkdir,     // create a folder on the destination
        remove,    // delete from the destination (a folder: with everything beneath it)
        touch,     // content equal (checksum): set the destination's mtime (pull only)
    };
    Action action = Action::transfer;
    std::string path;
    EntryType type = EntryType::file;  // of the source entry (transfer/mkdir) or the removed one
    std::uint64_t size = 0;            // bytes to transfer; for remove, bytes freed
    std::int64_t mtime_ns = 0;         // the source's mtime
    std::uint64_t files = 0;           // remove: files removed (a folder counts its contents)
    bool replace = false;              // transfer over an existing destination file
    bool after_delete = false;         // needs a remove of a conflicting type to happen first
    std::optional<std::string> dest_sha256;    // replace only this content (when known)
    std::optional<std::string> source_sha256;  // the source file's content (checksum mode)
    std::string reason;  // "new", "size", "mtime", "checksum", "extraneous", ...
};

struct SyncPlan {
    SyncDirection direction = SyncDirection::push;
    std::string app;
    std::string host;
    std::string local_dir;  // absolute
    std::string remote_dir;
    bool delete_extraneous = false;
    bool checksum = false;
    bool follow_symlinks = false;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    std::vector<SyncOp> ops;
    // Totals of the scan, for the summary of a dry run.
    std::uint64_t source_files = 0;
    std::uint64_t unchanged_files = 0;
    std::uint64_t unchanged_bytes = 0;
    std::uint64_t excluded = 0;
    std::uint64_t symlinks_skipped = 0;
    std::uint64_t symlinks_followed = 0;
    std::vector<std::string> warnings;
    // SHA-256 over each side's listing (paths, types, sizes, mtimes) after filtering.
    std::string local_fingerprint;
    std::string remote_fingerprint;
    std::int64_t created_at = 0;  // unix seconds
    // push (not a dry run): the app's sync lease, taken by sync_plan before
    // the remote scan and released when sync_execute ends (or when the last
    // copy of the plan goes). Not part of a plan file.
    std::shared_ptr<SyncLeaseHold> lease;
};

struct SyncFailure {
    std::string path;
    std::string action;
    Error error;
};

struct SyncSummary {
    SyncDirection direction = SyncDirection::push;
    bool dry_run = false;
    std::uint64_t files_sent = 0;  // transferred (uploaded or downloaded)
    std::uint64_t bytes_sent = 0;
    std::uint64_t files_skipped = 0;  // unchanged
    std::uint64_t bytes_skipped = 0;
    std::uint64_t files_deleted = 0;
    std::uint64_t dirs_deleted = 0;
    std::uint64_t dirs_created = 0;
    std::uint64_t mtimes_set = 0;
    std::uint64_t files_failed = 0;
    std::uint64_t excluded = 0;
    std::uint64_t symlinks_skipped = 0;
    std::uint64_t symlinks_followed = 0;
    bool deletes_skipped = false;  // --delete, but a transfer failed, so nothing was deleted
    std::vector<SyncFailure> failures;
    std::vector<std::string> warnings;
    double seconds = 0;
};

// ---- whole operations (what the CLI and predeploy call) ----

// Plans and (unless options.dry_run) executes. An Error means nothing was
// changed or the sync could not run (listing failed, a --delete guard refused);
// per-file failures are in the summary (see sync_status()).
Result<SyncSummary> sync_push(const ClientOptions& client, std::string_view app,
                              const std::filesystem::path& local_dir, const SyncOptions& options);
Result<SyncSummary> sync_pull(const ClientOptions& client, std::string_view app,
                              const std::filesystem::path& local_dir, const SyncOptions& options);

// Scans both sides and plans; checks the --delete guards; changes nothing.
// A push that is not a dry run first takes the app's sync lease (plan.lease;
// conflict, exit 5, while another sync of the app runs).
Result<SyncPlan> sync_plan(const ClientOptions& client, std::string_view app,
                           const std::filesystem::path& local_dir, SyncDirection direction,
                           const SyncOptions& options);
// Executes a plan made now (no fingerprint check) or loaded from a file
// (verify = true: re-scans both sides and refuses with conflict if either changed).
// A push runs under plan.lease, or under a lease it takes first (then the
// plan's fingerprints are verified too: the remote scan must have been made
// under the lease); it releases the lease at the end, and ends with conflict
// when the lease was lost meanwhile (another sync took it over).
Result<SyncSummary> sync_execute(const ClientOptions& client, const SyncPlan& plan,
                                 const SyncOptions& options, bool verify);

// `sync --apply`: the plan decides what happens (folder, --delete, checksum,
// symlinks, globs); only the guards (max_delete, force) and the parallelism
// come from options. Checks the guards, then executes with verify = true.
Result<SyncSummary> sync_apply(const ClientOptions& client, const SyncPlan& plan,
                               SyncOptions options);

// A failed summary as an Error (kind of the first failure), or success.
Status sync_status(const SyncSummary& summary);
// What the plan would do, as a summary (for dry runs).
SyncSummary plan_summary(const SyncPlan& plan);

// ---- pieces, public for tests and tools ----

// Depth-first order: compares component by component ('/' sorts before any byte).
bool sync_path_less(std::string_view a, std::string_view b);
void sort_sync_entries(std::vector<SyncEntry>& entries);

// True when the two files count as equal under the options (size+mtime or checksum).
bool mtime_equal(std::int64_t a_ns, std::int64_t b_ns);

// The include/exclude filter: false when path (of the given type) takes no part.
bool sync_filter_accepts(std::string_view path, EntryType type,
                         std::span<const std::string> include,
                         std::span<const std::string> exclude);
// Glob on a relative path: '*' and '?' do not cross '/', '**' does, [abc] classes.
// A pattern without '/' matches the base name anywhere; a leading '/' anchors it.
bool sync_glob_match(std::string_view pattern, std::string_view path);

// The planner: a pure function of the two listings, each sorted with
// sort_sync_entries. Fills ops and the counters; does not check the guards.
SyncPlan plan_sync(std::span<const SyncEntry> source, std::span<const SyncEntry> dest,
                   SyncDirection direction, const SyncOptions& options);
// The --delete guards: max_delete, and an empty or missing source (unless force).
Status check_delete_guards(const SyncPlan& plan, const SyncOptions& options, bool source_exists);

// SHA-256 over a sorted listing (what a plan records for each side).
std::string sync_fingerprint(std::span<const SyncEntry> entries, bool with_hashes);

// Plan files (JSON, "format": "de-sync-plan/1").
std::string sync_plan_to_json(const SyncPlan& plan);
Result<SyncPlan> sync_plan_from_json(std::string_view text);

// Local listing with lstat semantics (symlinks per the policy), sorted; with
// hashes, SHA-256 from the local cache or computed (and cached).
struct LocalScan {
    std::vector<SyncEntry> entries;
    bool exists = false;
    std::uint64_t symlinks_skipped = 0;
    std::uint64_t symlinks_followed = 0;
    std::vector<std::string> warnings;
};
Result<LocalScan> scan_local(const std::filesystem::path& root, bool hashes,
                             const SyncOptions& options);

std::string_view to_string(SyncDirection direction);
std::string_view to_string(SyncOp::Action action);

}  // namespace de

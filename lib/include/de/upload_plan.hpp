#pragma once
// Putting local paths into the mount: the one planner behind `upload` and
// `sync push` (and predeploy --push, which is a sync push).
//
// Design, in three layers that the callers compose:
// - walk_local(): the one local walker. lstat semantics, siblings in bytewise
//   order (so the listing comes out depth first, as sync's planner wants),
//   include/exclude pruning through de/glob.hpp's PathFilter.
// - plan_upload_local() + resolve_upload() + check_upload(): what `upload
//   LOCAL... REMOTE` sends where, which targets exist (HEADs for a few files,
//   one streamed manifest for many), which of them are identical to the local
//   file (unchanged: not sent, with or without overwrite), and the refusals
//   (existing files that differ, without overwrite; the quota) — all before
//   the first byte moves.
//
// Identical files: a target counts as unchanged when its size and SHA-256
// equal the local file's. The server's SHA-256 comes from HEAD (ETag) for a
// few candidates, else from one manifest with hashes; only targets of the
// local file's size are candidates, so a fresh upload asks for no hash. The
// local SHA-256 comes from the local hash cache (de/hash_cache.hpp) or is
// read once (and cached). Before that, the resume journal of every big file
// is consulted (Client::probe_resume): an interrupted run's upload that
// completed on the server as this file counts as done ("completed"), so a
// re-run after a crash in the commit window converges instead of refusing.
// - split_for_send() + send_upload(): the send split (files below
//   k_batch_threshold together through Client::upload_batch when there are at
//   least two of them; the rest one PUT or one resumable upload each), shared
//   with sync push, which keeps its own diff against the remote manifest.
//
// Symlink policy (one rule for upload and sync): a path named by the caller
// (an upload source, the folder sync pushes) is resolved like any path; a
// symlink met inside a walked folder is skipped with a warning unless
// follow_symlinks is set, because following it can send files from outside
// the folder (a link to ~/.ssh, or to /) that nobody chose to publish. When
// followed, a broken link is skipped and a folder already on the current path
// (a loop) is skipped, each with a warning. Sockets, FIFOs and devices are
// always skipped with a warning.
//
// Thresholds of the single-file path: UploadSendOptions when set, else
// client.options().hooks (de/test_hooks.hpp: resumable_threshold, part_size),
// else UploadOptions' defaults.

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/glob.hpp>
#include <de/hash_cache.hpp>
#include <de/progress.hpp>
#include <de/types.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de {

// Files below this size go up together in batches (when there are several).
inline constexpr std::uint64_t k_batch_threshold = 1 << 20;

// ---- the local walk ----

using WarningFn = std::function<void(std::string_view message)>;

struct WalkOptions {
    bool follow_symlinks = false;  // see the symlink policy above
    // When set, folders it does not enter are neither listed nor walked.
    const PathFilter* prune = nullptr;
    WarningFn on_warning;  // each skipped entry, as it is met (also kept in LocalWalk)
};

struct LocalEntry {
    std::string path;  // relative to the root, '/'-separated
    EntryType type = EntryType::file;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
};

struct LocalWalk {
    std::vector<LocalEntry> entries;  // depth first, siblings by bytewise name
    bool exists = false;              // false: the root does not exist (entries empty)
    std::uint64_t symlinks_skipped = 0;
    std::uint64_t symlinks_followed = 0;
    std::vector<std::string> warnings;
};

// Walks the folder root (a missing root is exists = false, not an error; a
// root that is not a folder is ErrorKind::usage). Stops with
// ErrorKind::interrupted when interrupt_requested().
Result<LocalWalk> walk_local(const std::filesystem::path& root, const WalkOptions& options);

// ---- the upload plan ----

struct UploadRequest {
    std::vector<std::string> sources;  // local files, and folders with recursive
    std::string remote;                // destination as typed; a trailing '/' means a folder
    bool recursive = false;
    bool follow_symlinks = false;
    std::vector<std::string> include;  // globs (de/glob.hpp)
    std::vector<std::string> exclude;
};

struct UploadItem {
    std::string local;  // not a fs::path: that keeps a second allocation of components
    std::string remote;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool exists = false;  // the target exists (replaced with overwrite, refused without)
    std::uint64_t existing_size = 0;
    std::int64_t existing_mtime_ns = 0;            // the target's modification time
    std::optional<std::string> existing_sha256{};  // the target's, when the server said
    std::optional<std::string> sha256{};           // the local file's, when known
    std::optional<FileIdentity> identity{};        // the local file as resolve_upload() saw it
    bool unchanged = false;                        // the target is identical: nothing to send
    bool completed = false;  // an interrupted run's upload of it completed: nothing to send
    // --update without --force: the target differs and is newer than the local
    // file, so it is kept (keep_newer_targets()).
    bool kept_newer = false;
    bool newer_target() const { return exists && existing_mtime_ns > mtime_ns; }
    bool to_send() const { return !unchanged && !completed && !kept_newer; }
};

struct UploadPlan {
    std::string app;
    std::string remote_base;  // the destination, normalized
    std::vector<UploadItem> files;
    std::vector<std::string> dirs;  // folders to create, so that empty ones arrive too
    // The one source is a file and the destination does not say it is a
    // folder: resolve_upload() decides between "into it" and "named so".
    bool maybe_rename = false;
    MountStatus mount;  // as resolve_upload() found it
    std::vector<std::string> warnings;

    std::uint64_t bytes() const;  // of the files to send
    std::size_t to_send() const;
    std::size_t unchanged() const;  // identical targets and completed uploads
    std::uint64_t unchanged_bytes() const;
    std::size_t kept_newer() const;  // newer targets kept (--update without --force)
    // Targets that exist and differ (replaced with overwrite, refused without).
    std::vector<const UploadItem*> existing() const;
};

// The local half: checks the sources (missing: not_found; a folder without
// recursive, or a special file: usage), walks folders ("dir/" sends the
// folder's contents, "dir" the folder itself, as rsync does), filters, and
// names every target. Touches no server.
Result<UploadPlan> plan_upload_local(std::string_view app, const UploadRequest& request,
                                     const WarningFn& on_warning = {});

// The server half: the mount must be on; a single file to an existing folder
// goes into it; two sources with one target are refused; marks the targets
// that exist (a folder in a file's place is a conflict), consults the resume
// journals of big files, and marks the identical targets unchanged (see the
// top). cache (may be null: files are then read) serves and learns local hashes.
Status resolve_upload(Client& client, UploadPlan& plan, HashCache* cache = nullptr);

// --update's rule (as the seed tool's `upload --update`, but safe): changed
// targets are replaced, except a target newer than the local file (by
// modification time), which is kept unless force. Marks those kept_newer and
// returns how many. Identical targets are unchanged either way.
std::size_t keep_newer_targets(UploadPlan& plan, bool force);

// The refusals, before the first byte: existing targets that differ, without
// overwrite (ErrorKind::conflict), and more bytes than the mount has room for
// (ErrorKind::quota; replaced files count as freed; unchanged ones cost nothing).
Status check_upload(const UploadPlan& plan, bool overwrite);

// ---- sending ----

struct SendSplit {
    std::vector<std::size_t> batched;  // indices, in order
    std::vector<std::size_t> singles;  // indices, in order
};

// The send split over count files: those below k_batch_threshold go in
// batches unless alone(i) says the file must go by itself (e.g. an If-Match
// replace); a batch of one is no batch, so a lone small file goes single.
SendSplit split_for_send(std::size_t count,
                         const std::function<std::uint64_t(std::size_t)>& size_of,
                         const std::function<bool(std::size_t)>& alone = {});

// UploadOptions for one file through client, with the thresholds taken from
// the client's test hooks where they set them.
UploadOptions tuned_upload_options(const Client& client, UploadOptions options = {});

struct UploadSendOptions {
    bool overwrite = false;
    int connections = 4;  // of a resumable upload
    bool resume = true;
    bool verify = false;                               // UploadOptions::verify
    std::optional<std::uint64_t> resumable_threshold;  // else hooks, else UploadOptions'
    std::optional<std::uint64_t> part_size;
    // One progress set over every file: name "[i/n] LOCAL" per file, or
    // "N small files" for a batch (just the file's events when there is one).
    ProgressFn progress;
    std::function<void(std::string_view)> notice;  // what is resumed
    std::function<void(std::string_view)> trace;   // "LOCAL -> app:/REMOTE" per single file
    // Each committed file (batched ones without a report), as it commits.
    std::function<void(Entry&&, const TransferReport&)> on_file;
    // Learns each sent file's SHA-256 (so that the next run reads nothing).
    HashCache* cache = nullptr;
};

struct UploadSummary {
    std::size_t files = 0;      // sent
    std::size_t unchanged = 0;  // not sent: identical, or completed by an interrupted run
    std::uint64_t bytes = 0;
    TransferReport report;  // resumed, resumed_bytes, retries over all files
};

// Sends a resolved and checked plan (its unchanged files are skipped): the
// batches first, then the single files, then the folders no file created. Stops at the first
// failure (the error says which file, and after how many).
Result<UploadSummary> send_upload(Client& client, const UploadPlan& plan,
                                  const UploadSendOptions& options);

}  // namespace de

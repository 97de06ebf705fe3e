#pragma once
// Getting files out of the mount: the planner behind `download REMOTE...
// LOCAL` (sync pull has its own diff, de/sync.hpp).
//
// Design: plan_download() asks the server what each source is (a HEAD; a
// folder is one streamed manifest) and names every local target;
// check_download() refuses before the first byte — a local file in a
// folder's place, existing files without overwrite, too little room on the
// local disk — so a refused download changes nothing; send_download() fetches
// file by file with Client::download (a temporary file beside the target,
// renamed after its SHA-256 matched). Names from the wire are checked before
// they touch the local filesystem: a listed path must lie beneath the folder
// asked for.

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/glob.hpp>
#include <de/hash_cache.hpp>
#include <de/progress.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de {

struct DownloadRequest {
    std::vector<std::string> sources;  // normalized remote paths ("" is the mount root)
    std::filesystem::path local;       // the destination folder or file name
    bool local_is_dir = false;         // the destination names a folder (exists, or ends in '/')
    bool recursive = false;
    // --include/--exclude for the folders walked (paths relative to each
    // folder source); a folder it does not enter is skipped with all beneath it.
    // Sources named explicitly as files are always taken.
    PathFilter filter;
};

struct DownloadItem {
    std::string remote;
    std::filesystem::path local;
    std::uint64_t size = 0;
    bool is_dir = false;
    std::int64_t mtime_ns = 0;            // the remote file's
    std::optional<std::string> sha256{};  // the remote file's, when the server said
    // Set by resolve_local(): the local target exists as a file ...
    bool local_exists = false;
    std::int64_t local_mtime_ns = 0;
    bool unchanged = false;   // ... with the same size and SHA-256: nothing to fetch
    bool kept_newer = false;  // ... newer than the remote file: kept (--update without --force)
    bool to_fetch() const { return !is_dir && !unchanged && !kept_newer; }
};

struct DownloadPlan {
    std::string app;
    std::filesystem::path local;  // the destination, as requested
    std::vector<DownloadItem> items;

    std::uint64_t bytes() const;  // of the files to fetch
    std::size_t files() const;    // to fetch
    std::size_t unchanged() const;
    std::size_t kept_newer() const;
    // Local files that exist and differ (replaced with overwrite, refused without).
    std::vector<const DownloadItem*> existing() const;
};

// Stats each source, lists folders (with recursive; a folder without it is
// ErrorKind::usage), and names the local targets: several sources, or a
// folder destination, put each source's base name inside it.
Result<DownloadPlan> plan_download(Client& client, std::string_view app,
                                   const DownloadRequest& request);

// Looks at the local targets: which exist, and which are identical to the
// remote file (same size and SHA-256: unchanged, never fetched, with or
// without overwrite; cache, may be null, serves local hashes). Asks the
// server for the SHA-256 of same-size candidates it did not list with one.
Status resolve_local(Client& client, DownloadPlan& plan, HashCache* cache = nullptr);

// --update's rule the other way round: an existing local file newer than the
// remote one (by modification time) is kept unless force. Marks those
// kept_newer and returns how many.
std::size_t keep_newer_local(DownloadPlan& plan, bool force);

// The refusals before the first byte (see above).
Status check_download(const DownloadPlan& plan, bool overwrite);

struct DownloadSendOptions {
    bool overwrite = false;
    int connections = 4;  // of a big file's parallel ranges
    ProgressFn progress;  // one set over every file, "[i/n] REMOTE" per file
    std::function<void(std::string_view)> notice;  // what is resumed
    std::function<void(std::string_view)> trace;   // "app:/REMOTE -> LOCAL" per file
    std::function<void(const DownloadItem&, const Entry&)> on_file;  // each file fetched
    // Files smaller than this come down together in one streamed tree archive
    // request (Client::download_tree); 0: every file on its own.
    std::uint64_t tree_below = 1 << 20;
};

struct DownloadSummary {
    std::size_t files = 0;
    std::uint64_t bytes = 0;
    TransferReport report;
};

// Creates the folders and fetches the files of a checked plan, in order;
// stops at the first failure.
Result<DownloadSummary> send_download(Client& client, const DownloadPlan& plan,
                                      const DownloadSendOptions& options);

}  // namespace de

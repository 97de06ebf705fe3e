#pragma once
// Small pieces shared by the commands: parsing --range, the JSON forms of results, and the
// failure lines of a sync summary (sync and predeploy). Kept out of
// context.hpp because only cli/commands use them.

#include "context.hpp"

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/sync.hpp>
#include <de/types.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace de::cli {

// "A-B" (inclusive), "A-" (to the end), "-N" (the last N bytes); A, B and N
// take size units ("0-1MiB").
Result<ByteRange> parse_range(std::string_view text);

// "sales:/data/x.csv" for messages.
std::string remote_display(std::string_view app, std::string_view path);

// The --json vocabulary (docs/json.md): one form per kind of thing, shared
// by every command. Times are RFC 3339 strings (de/timestamp.hpp), remote
// paths absolute within the mount ("/data/x.csv").
std::string remote_abs(std::string_view path);
// A remote file: {"path","type","size","mtime","sha256"?}.
nlohmann::json entry_json(const Entry& entry);
// An app: {"name","owner","created_at","mount":{"enabled"}}.
nlohmann::json app_json(const App& app);
// A mount: {"app","mount":{"enabled","used_bytes","quota_bytes","reserved_bytes",
// "free_bytes","file_count","storage_class"}}.
nlohmann::json mount_json(const MountStatus& status);
// The --dry-run document of a state change (apps create|delete|update, mount
// enable|disable): {"app", "dry_run": true, "action", "changed" (whether the
// real run would change anything), "files_deleted" (what it would delete)}.
nlohmann::json state_dry_run_json(std::string_view app, std::string_view action, bool changed,
                                  std::uint64_t files_deleted);
// The counts of a sync (push, pull, apply, predeploy --push) under the shared names:
// files_transferred, bytes_transferred, files_unchanged, ... (no direction-specific keys).
// remote_dir: the synced folder in the mount, so failures name their full remote path.
nlohmann::json sync_counts_json(const SyncSummary& summary, std::string_view remote_dir);
// The WebDAV address of an app's mount (docs/webdav.md): host (a normalized
// server URL, no trailing '/'; a path prefix is kept) + "/dav/" + the app name
// percent-encoded as one path segment + "/".
std::string webdav_url(std::string_view host, std::string_view app);
// What `mount url` prints on stderr: how to reach `url` with davfs2, rclone,
// macOS Finder and Windows as `username`. key_hint says where the API key (the
// password) comes from; the key itself is never an input, so it cannot be printed.
struct WebdavGuide {
    std::string app;
    std::string url;
    std::string username;
    std::string key_hint;  // "the API key in $DASH_ENTERPRISE_PASSWORD", ...
};
std::string webdav_instructions(const WebdavGuide& guide);
// "1 file", "3 files"; "1 folder", "2 folders".
std::string plural(std::uint64_t n, std::string_view one, std::string_view many);

// One warning per failed transfer of a sync, the first 20, then how many more.
void warn_sync_failures(const Context& ctx, const SyncSummary& summary);

}  // namespace de::cli

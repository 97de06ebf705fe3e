#pragma once
// The resources of REST API v1 as plain values. de-server serialises them and
// libde parses them with the same to_json/from_json (de/json.hpp), so the wire
// format has one definition.

#include <cstdint>
#include <optional>
#include <string>

namespace de {

struct UserInfo {
    std::string username;
};

struct LoginToken {
    std::string token;  // a secret: never print or log it
    std::string username;
    std::int64_t expires_at = 0;  // unix seconds
};

struct App {
    std::string name;
    std::string owner;
    std::int64_t created_at = 0;  // unix seconds
    bool persistent_filesystem = false;
};

struct MountStatus {
    std::string app;
    bool enabled = false;
    std::uint64_t used_bytes = 0;
    std::uint64_t quota_bytes = 0;
    std::uint64_t file_count = 0;
    std::string storage_class;  // "local" for de-server's plain-directory mount
    // Bytes held against the quota by uploads in flight (tus uploads not yet
    // completed, PUTs and batches being received). 0 from an older server.
    std::uint64_t reserved_bytes = 0;
    // Files and folders in the mount, and how many it may hold (de-server
    // --max-entries). 0 from an older server.
    std::uint64_t entries = 0;
    std::uint64_t max_entries = 0;
};

enum class EntryType { file, dir };

struct Entry {
    std::string path;  // normalised, relative to the mount root
    EntryType type = EntryType::file;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;          // nanoseconds since the Unix epoch
    std::optional<std::string> sha256;  // hex; files only, when asked for or cached
};

// A sync lease (docs/api.md, "Sync lease"): the one `sync push` allowed to
// write into an app until `expires`.
struct SyncLease {
    std::string id;
    std::string holder;        // "HOSTNAME pid=N start=T" as the client said
    std::int64_t since = 0;    // unix seconds
    std::int64_t expires = 0;  // unix seconds
};

}  // namespace de

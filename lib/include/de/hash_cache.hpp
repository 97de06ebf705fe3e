#pragma once
// The local SHA-256 cache: what `upload` and `sync push` use to tell whether a
// local file is identical to the server's copy without reading it again, and
// what `sync --checksum` lists local files with.
//
// A hash is keyed by the file's identity as stat() sees it: (device, inode,
// size, mtime in ns, ctime in ns). Any write to the file changes its ctime
// (even one that restores the mtime), so a changed file is never served a
// stale hash; a renamed file keeps its hash.
//
// One file for all folders: $XDG_CACHE_HOME/de-cli/hashes (default
// ~/.cache/de-cli/hashes), mode 0600 in a 0700 folder. It is read once when
// opened and written back by save(): under an exclusive lock (flock on a lock
// file beside it) save() reads the file again, merges its own records in (so
// two processes saving at once lose nothing but evictions), keeps the most
// recently used max_entries records, and replaces the file atomically (temp
// file + rename). A corrupt or foreign file (a bad header, a bad line) is
// ignored, record by record: a cache can always be rebuilt.
//
// Thread-safe: lookups and stores may come from several threads.

#include <de/error.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace de {

struct FileIdentity {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
};

// stat() (following symlinks) of path; nullopt when it cannot be stat()ed.
std::optional<FileIdentity> file_identity(const std::filesystem::path& path);

// $XDG_CACHE_HOME/de-cli, else $HOME/.cache/de-cli.
std::filesystem::path default_hash_cache_dir();

class HashCache {
  public:
    static constexpr std::size_t k_default_max_entries = 200'000;  // ~20 MB on disk

    // A cache that remembers nothing (lookups miss, save() does nothing).
    HashCache();
    // Loads dir/hashes ("" : default_hash_cache_dir()); a missing or corrupt
    // file is an empty cache, never an error.
    static HashCache open(const std::filesystem::path& dir = {},
                          std::size_t max_entries = k_default_max_entries);
    ~HashCache();
    HashCache(HashCache&&) noexcept;
    HashCache& operator=(HashCache&&) noexcept;

    bool enabled() const;
    std::optional<std::string> lookup(const FileIdentity& id) const;
    void store(const FileIdentity& id, const std::string& sha256);

    // The file's SHA-256: from the cache when its identity is known, else read
    // (and remembered, unless the file changed while it was read).
    Result<std::string> sha256_of(const std::filesystem::path& path);

    // Writes the records back (see the top); does nothing when nothing changed.
    Status save();

    struct Stats {
        std::uint64_t hits = 0;    // hashes served from the cache
        std::uint64_t misses = 0;  // files read to hash them
        std::uint64_t bytes_read = 0;
    };
    Stats stats() const;
    std::filesystem::path file() const;  // empty when disabled

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace de

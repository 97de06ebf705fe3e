#pragma once
// Pieces shared by the sync sources (not part of libde's public API).

#include <de/error.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>

namespace de::detail {

// Local SHA-256 cache for `sync --checksum`: one file per synced folder under
// the cache dir, a line per file. A hash is reused only while the file's
// size, mtime, ctime, inode and device are all unchanged, so a rewrite in
// place (even one that restores the mtime) is hashed again.
class LocalHashCache {
  public:
    static LocalHashCache open(const std::filesystem::path& cache_dir,
                               const std::filesystem::path& root);
    std::optional<std::string> lookup(const std::string& rel, const struct stat& st) const;
    void store(const std::string& rel, const struct stat& st, std::string sha256);
    // Writes the cache (temp file + rename) when it changed; failures only warn.
    Status save();

  private:
    struct Record {
        std::uint64_t ino = 0, dev = 0, size = 0;
        std::int64_t mtime_ns = 0, ctime_ns = 0;
        std::string sha256;
    };
    std::filesystem::path m_file;
    std::unordered_map<std::string, Record> m_records;
    bool m_dirty = false;
};

std::filesystem::path default_cache_dir();

inline std::int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace de::detail

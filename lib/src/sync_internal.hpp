#pragma once
// Pieces shared by the sync sources (not part of libde's public API).

#include <de/error.hpp>
#include <de/hash_cache.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>

namespace de::detail {

// Local SHA-256 cache for `sync --checksum`: the one local hash cache
// (de/hash_cache.hpp, keyed by device, inode, size, mtime and ctime, shared
// with upload's identical-file check), seen through sync's stat() records.
// rel is kept in the interface for the callers; the key is the file's identity.
class LocalHashCache {
  public:
    static LocalHashCache open(const std::filesystem::path& cache_dir,
                               const std::filesystem::path& root);
    std::optional<std::string> lookup(const std::string& rel, const struct stat& st) const;
    void store(const std::string& rel, const struct stat& st, std::string sha256);
    // Writes the cache (temp file + rename) when it changed; failures only warn.
    Status save();

  private:
    HashCache m_cache;
};

std::filesystem::path default_cache_dir();

inline std::int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace de::detail

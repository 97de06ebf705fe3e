#pragma once
// The walker with each entry's stat() beside it, for sync's hash cache (which
// keys on inode, device and ctime). Not part of libde's public API.

#include <de/upload_plan.hpp>

#include <sys/stat.h>

#include <vector>

namespace de::detail {

// walk_local(), also filling stats in parallel to the entries.
Result<LocalWalk> walk_local(const std::filesystem::path& root, const WalkOptions& options,
                             std::vector<struct stat>* stats);

// The hash cache's key for a file, from its stat() (hash_cache.cpp).
FileIdentity identity_of(const struct stat& st);

}  // namespace de::detail

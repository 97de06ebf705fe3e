// The local side of a sync: the listing from the one local walker
// (local_walk.cpp, shared with upload: lstat semantics, depth-first order, one
// symlink policy), and the local hash cache that lets `--checksum` skip
// re-reading unchanged files.

#include "local_walk.hpp"
#include "sync_internal.hpp"

#include <de/sha256.hpp>
#include <de/sync.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <utility>

namespace de {

namespace fs = std::filesystem;

namespace detail {

fs::path default_cache_dir() {
    return default_hash_cache_dir();
}

LocalHashCache LocalHashCache::open(const fs::path& cache_dir, const fs::path& /*root*/) {
    LocalHashCache cache;
    cache.m_cache = HashCache::open(cache_dir);
    return cache;
}

std::optional<std::string> LocalHashCache::lookup(const std::string& /*rel*/,
                                                  const struct stat& st) const {
    return m_cache.lookup(identity_of(st));
}

void LocalHashCache::store(const std::string& /*rel*/, const struct stat& st, std::string sha256) {
    m_cache.store(identity_of(st), sha256);
}

Status LocalHashCache::save() {
    return m_cache.save();
}

}  // namespace detail

Result<LocalScan> scan_local(const fs::path& root, bool hashes, const SyncOptions& options) {
    WalkOptions walk_options;
    walk_options.follow_symlinks = options.follow_symlinks;
    if (options.on_event) {
        walk_options.on_warning = [&options](std::string_view message) {
            SyncEvent ev;
            ev.kind = SyncEvent::Kind::warning;
            ev.message = message;
            options.on_event(ev);
        };
    }
    std::vector<struct stat> stats;
    auto walk = detail::walk_local(root, walk_options, &stats);
    if (!walk) return std::unexpected(std::move(walk.error()));
    LocalScan scan;
    scan.exists = walk->exists;
    scan.symlinks_skipped = walk->symlinks_skipped;
    scan.symlinks_followed = walk->symlinks_followed;
    scan.warnings = std::move(walk->warnings);
    scan.entries.reserve(walk->entries.size());
    for (auto& e : walk->entries)
        scan.entries.push_back(
            SyncEntry{std::move(e.path), e.type, e.size, e.mtime_ns, std::nullopt});

    if (hashes) {
        fs::path cache_dir =
            options.hash_cache_dir.empty() ? detail::default_cache_dir() : options.hash_cache_dir;
        auto cache = options.use_hash_cache ? detail::LocalHashCache::open(cache_dir, root)
                                            : detail::LocalHashCache{};
        for (std::size_t i = 0; i < scan.entries.size(); ++i) {
            auto& e = scan.entries[i];
            if (e.type != EntryType::file) continue;
            if (options.use_hash_cache) {
                if (auto sha = cache.lookup(e.path, stats[i])) {
                    e.sha256 = std::move(*sha);
                    continue;
                }
            }
            auto sha = sha256_file(root / e.path);
            if (!sha) return std::unexpected(std::move(sha.error()));
            e.sha256 = *sha;
            if (options.use_hash_cache) cache.store(e.path, stats[i], *sha);
        }
        if (options.use_hash_cache) {
            if (auto saved = cache.save(); !saved) scan.warnings.push_back(saved.error().message);
        }
    }
    return scan;
}

}  // namespace de

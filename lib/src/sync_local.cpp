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
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "de-cli";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "de-cli";
    return fs::temp_directory_path() / "de-cli-cache";
}

LocalHashCache LocalHashCache::open(const fs::path& cache_dir, const fs::path& root) {
    LocalHashCache cache;
    std::error_code ec;
    fs::path abs = fs::absolute(root, ec).lexically_normal();
    cache.m_file = cache_dir / "sync-hashes" / (sha256_hex(abs.string()).substr(0, 24) + ".tsv");
    std::ifstream in(cache.m_file);
    std::string line;
    while (std::getline(in, line)) {
        // ino dev size mtime ctime sha path (path last: it may hold tabs)
        Record r;
        std::size_t pos = 0;
        auto field = [&](std::string& out) {
            std::size_t tab = line.find('\t', pos);
            if (tab == std::string::npos) return false;
            out.assign(line, pos, tab - pos);
            pos = tab + 1;
            return true;
        };
        std::string f[6];
        bool ok = true;
        for (auto& s : f)
            ok = ok && field(s);
        if (!ok || f[5].size() != 64) continue;
        char* end = nullptr;
        r.ino = std::strtoull(f[0].c_str(), &end, 10);
        r.dev = std::strtoull(f[1].c_str(), &end, 10);
        r.size = std::strtoull(f[2].c_str(), &end, 10);
        r.mtime_ns = std::strtoll(f[3].c_str(), &end, 10);
        r.ctime_ns = std::strtoll(f[4].c_str(), &end, 10);
        r.sha256 = std::move(f[5]);
        cache.m_records.insert_or_assign(line.substr(pos), std::move(r));
    }
    return cache;
}

std::optional<std::string> LocalHashCache::lookup(const std::string& rel,
                                                  const struct stat& st) const {
    auto it = m_records.find(rel);
    if (it == m_records.end()) return std::nullopt;
    const Record& r = it->second;
    std::int64_t ctime =
        static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    if (r.ino != st.st_ino || r.dev != st.st_dev ||
        r.size != static_cast<std::uint64_t>(st.st_size) || r.mtime_ns != mtime_ns_of(st) ||
        r.ctime_ns != ctime) {
        return std::nullopt;
    }
    return r.sha256;
}

void LocalHashCache::store(const std::string& rel, const struct stat& st, std::string sha256) {
    if (rel.find('\n') != std::string::npos) return;  // not representable in the file
    Record r;
    r.ino = st.st_ino;
    r.dev = st.st_dev;
    r.size = static_cast<std::uint64_t>(st.st_size);
    r.mtime_ns = mtime_ns_of(st);
    r.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    r.sha256 = std::move(sha256);
    m_records.insert_or_assign(rel, std::move(r));
    m_dirty = true;
}

Status LocalHashCache::save() {
    if (!m_dirty || m_file.empty()) return {};
    std::error_code ec;
    fs::create_directories(m_file.parent_path(), ec);
    fs::path tmp = m_file;
    tmp += fmt::format(".{}.tmp", ::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) {
            return fail(ErrorKind::generic,
                        fmt::format("cannot write the hash cache {}", tmp.string()));
        }
        std::string buf;
        for (const auto& [path, r] : m_records) {
            buf.clear();
            fmt::format_to(std::back_inserter(buf), "{}\t{}\t{}\t{}\t{}\t{}\t{}\n", r.ino, r.dev,
                           r.size, r.mtime_ns, r.ctime_ns, r.sha256, path);
            out << buf;
        }
        if (!out.flush()) {
            fs::remove(tmp, ec);
            return fail(ErrorKind::generic,
                        fmt::format("cannot write the hash cache {}", tmp.string()));
        }
    }
    fs::rename(tmp, m_file, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return fail(ErrorKind::generic,
                    fmt::format("cannot replace the hash cache {}", m_file.string()));
    }
    m_dirty = false;
    return {};
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

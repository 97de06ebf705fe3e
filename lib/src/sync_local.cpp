// The local side of a sync: one walk of the folder with lstat semantics, and
// the local hash cache that lets `--checksum` skip re-reading unchanged files.
//
// The walk uses openat/fstatat relative to each folder's descriptor (no path
// re-resolution per file) and visits siblings in bytewise order, so the
// listing comes out already in the planner's depth-first order. Symlinks are
// never followed unless asked; when followed, a folder already on the current
// path (a loop) is skipped with a warning.

#include "sync_internal.hpp"

#include <de/sha256.hpp>
#include <de/sync.hpp>

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
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

namespace {

struct Walker {
    const SyncOptions& options;
    LocalScan& scan;
    std::vector<struct stat>& stats;          // parallel to scan.entries (files only meaningful)
    std::set<std::pair<dev_t, ino_t>> stack;  // folders on the current path (loop check)
    std::optional<Error> error;

    void warn(std::string message) {
        if (options.on_event) {
            SyncEvent ev;
            ev.kind = SyncEvent::Kind::warning;
            ev.message = message;
            options.on_event(ev);
        }
        scan.warnings.push_back(std::move(message));
    }

    // Walks the folder open as dirfd; prefix is its relative path ("" for the root).
    void walk(int dirfd, const std::string& prefix) {
        DIR* dir = ::fdopendir(dirfd);
        if (!dir) {
            ::close(dirfd);
            error = Error{ErrorKind::generic,
                          fmt::format("cannot read the local folder '{}': {}",
                                      prefix.empty() ? "." : prefix, std::strerror(errno)),
                          0,
                          {}};
            return;
        }
        std::vector<std::string> names;
        errno = 0;
        while (dirent* d = ::readdir(dir)) {
            std::string_view n = d->d_name;
            if (n == "." || n == "..") continue;
            names.emplace_back(n);
        }
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            if (error) break;
            std::string rel = prefix.empty() ? name : prefix + "/" + name;
            struct stat st {};
            if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) continue;  // vanished while we looked
                error =
                    Error{ErrorKind::generic,
                          fmt::format("cannot stat local file '{}': {}", rel, std::strerror(errno)),
                          0,
                          {}};
                break;
            }
            if (S_ISLNK(st.st_mode)) {
                if (!options.follow_symlinks) {
                    ++scan.symlinks_skipped;
                    warn(fmt::format("skipped symlink '{}' (use --follow-symlinks to follow it)",
                                     rel));
                    continue;
                }
                if (::fstatat(::dirfd(dir), name.c_str(), &st, 0) != 0) {
                    ++scan.symlinks_skipped;
                    warn(fmt::format("skipped broken symlink '{}'", rel));
                    continue;
                }
                ++scan.symlinks_followed;
            }
            if (rel.find('\n') != std::string::npos || rel.find('\r') != std::string::npos) {
                warn(
                    fmt::format("skipped '{}': control characters are not allowed in remote "
                                "paths",
                                rel));
                continue;
            }
            if (S_ISREG(st.st_mode)) {
                scan.entries.push_back(SyncEntry{rel, EntryType::file,
                                                 static_cast<std::uint64_t>(st.st_size),
                                                 detail::mtime_ns_of(st), std::nullopt});
                stats.push_back(st);
            } else if (S_ISDIR(st.st_mode)) {
                auto key = std::make_pair(st.st_dev, st.st_ino);
                if (stack.contains(key)) {
                    warn(fmt::format("skipped '{}': a symlink loop", rel));
                    continue;
                }
                scan.entries.push_back(
                    SyncEntry{rel, EntryType::dir, 0, detail::mtime_ns_of(st), std::nullopt});
                stats.push_back(st);
                int fd = ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                    error = Error{
                        ErrorKind::generic,
                        fmt::format("cannot open local folder '{}': {}", rel, std::strerror(errno)),
                        0,
                        {}};
                    break;
                }
                stack.insert(key);
                walk(fd, rel);
                stack.erase(key);
            } else {
                warn(fmt::format("skipped '{}': not a regular file or folder", rel));
            }
        }
        ::closedir(dir);
    }
};

}  // namespace

Result<LocalScan> scan_local(const fs::path& root, bool hashes, const SyncOptions& options) {
    LocalScan scan;
    std::vector<struct stat> stats;
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
        if (errno == ENOENT) return scan;  // exists = false
        return fail(ErrorKind::generic, fmt::format("cannot stat local folder {}: {}",
                                                    root.string(), std::strerror(errno)));
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail(ErrorKind::usage,
                    fmt::format("{} is not a folder; sync works on a whole folder", root.string()));
    }
    scan.exists = true;
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return fail(ErrorKind::generic, fmt::format("cannot open local folder {}: {}",
                                                    root.string(), std::strerror(errno)));
    }
    Walker w{options, scan, stats, {}, std::nullopt};
    w.stack.insert({st.st_dev, st.st_ino});
    w.walk(fd, "");
    if (w.error) return std::unexpected(std::move(*w.error));
    // Names sorted per folder give depth-first order already; sort anyway in
    // case a name holds a byte below '/' (then "a b" vs "a/..." needs the rule).
    if (!std::is_sorted(scan.entries.begin(), scan.entries.end(),
                        [](const SyncEntry& a, const SyncEntry& b) {
                            return sync_path_less(a.path, b.path);
                        })) {
        std::vector<std::size_t> idx(scan.entries.size());
        for (std::size_t i = 0; i < idx.size(); ++i)
            idx[i] = i;
        std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
            return sync_path_less(scan.entries[a].path, scan.entries[b].path);
        });
        std::vector<SyncEntry> e2;
        std::vector<struct stat> s2;
        for (auto i : idx) {
            e2.push_back(std::move(scan.entries[i]));
            s2.push_back(stats[i]);
        }
        scan.entries = std::move(e2);
        stats = std::move(s2);
    }

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

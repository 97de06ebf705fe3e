// The one local walker (de/upload_plan.hpp): upload and sync push both list
// their local side with it, so both follow one symlink policy.
//
// The walk uses openat/fstatat relative to each folder's descriptor (no path
// re-resolution per file) and visits siblings in bytewise order, so the
// listing comes out already in sync's depth-first order. Symlinks are never
// followed unless asked; when followed, a folder already on the current path
// (a loop) is skipped with a warning.

#include "local_walk.hpp"

#include <de/sync.hpp>

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

namespace de {

namespace fs = std::filesystem;

namespace {

std::int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Error walk_error(std::string message) {
    return Error{ErrorKind::generic, std::move(message), 0, {}};
}

struct Walker {
    const WalkOptions& options;
    LocalWalk& walk;
    std::vector<struct stat>* stats;          // parallel to walk.entries, when wanted
    std::set<std::pair<dev_t, ino_t>> stack;  // folders on the current path (loop check)
    std::optional<Error> error;

    void warn(std::string message) {
        if (options.on_warning) options.on_warning(message);
        walk.warnings.push_back(std::move(message));
    }

    void add(std::string rel, EntryType type, const struct stat& st) {
        walk.entries.push_back(LocalEntry{
            std::move(rel), type,
            type == EntryType::file ? static_cast<std::uint64_t>(st.st_size) : 0, mtime_ns_of(st)});
        if (stats) stats->push_back(st);
    }

    // Walks the folder open as dirfd; prefix is its relative path ("" for the root).
    void run(int dirfd, const std::string& prefix) {
        DIR* dir = ::fdopendir(dirfd);
        if (!dir) {
            ::close(dirfd);
            error = walk_error(fmt::format("cannot read the local folder '{}': {}",
                                           prefix.empty() ? "." : prefix, std::strerror(errno)));
            return;
        }
        std::vector<std::string> names;
        while (dirent* d = ::readdir(dir)) {
            std::string_view n = d->d_name;
            if (n == "." || n == "..") continue;
            names.emplace_back(n);
        }
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            if (error) break;
            if (interrupt_requested()) {
                error = Error{ErrorKind::interrupted, "interrupted", 0, {}};
                break;
            }
            std::string rel = prefix.empty() ? name : prefix + "/" + name;
            struct stat st {};
            if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) continue;  // vanished while we looked
                error = walk_error(
                    fmt::format("cannot stat local file '{}': {}", rel, std::strerror(errno)));
                break;
            }
            if (S_ISLNK(st.st_mode)) {
                if (!options.follow_symlinks) {
                    ++walk.symlinks_skipped;
                    warn(fmt::format("skipped symlink '{}' (use --follow-symlinks to follow it)",
                                     rel));
                    continue;
                }
                if (::fstatat(::dirfd(dir), name.c_str(), &st, 0) != 0) {
                    ++walk.symlinks_skipped;
                    warn(fmt::format("skipped broken symlink '{}'", rel));
                    continue;
                }
                ++walk.symlinks_followed;
            }
            if (rel.find('\n') != std::string::npos || rel.find('\r') != std::string::npos) {
                warn(fmt::format("skipped '{}': control characters are not allowed in remote paths",
                                 rel));
                continue;
            }
            if (S_ISREG(st.st_mode)) {
                add(std::move(rel), EntryType::file, st);
            } else if (S_ISDIR(st.st_mode)) {
                auto key = std::make_pair(st.st_dev, st.st_ino);
                if (stack.contains(key)) {
                    warn(fmt::format("skipped '{}': a symlink loop", rel));
                    continue;
                }
                if (options.prune && !options.prune->enters_dir(rel)) continue;
                add(rel, EntryType::dir, st);
                int fd = ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                    error = walk_error(fmt::format("cannot open local folder '{}': {}", rel,
                                                   std::strerror(errno)));
                    break;
                }
                stack.insert(key);
                run(fd, rel);
                stack.erase(key);
            } else {
                warn(fmt::format("skipped '{}': not a regular file or folder", rel));
            }
        }
        ::closedir(dir);
    }
};

}  // namespace

namespace detail {

Result<LocalWalk> walk_local(const fs::path& root, const WalkOptions& options,
                             std::vector<struct stat>* stats) {
    LocalWalk walk;
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
        if (errno == ENOENT) return walk;  // exists = false
        return fail(ErrorKind::generic, fmt::format("cannot stat local folder {}: {}",
                                                    root.string(), std::strerror(errno)));
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail(ErrorKind::usage,
                    fmt::format("{} is not a folder; sync works on a whole folder", root.string()));
    }
    walk.exists = true;
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return fail(ErrorKind::generic, fmt::format("cannot open local folder {}: {}",
                                                    root.string(), std::strerror(errno)));
    }
    std::vector<struct stat> own_stats;
    std::vector<struct stat>& all_stats = stats ? *stats : own_stats;
    Walker w{options, walk, &all_stats, {}, std::nullopt};
    w.stack.insert({st.st_dev, st.st_ino});
    w.run(fd, "");
    if (w.error) return std::unexpected(std::move(*w.error));
    // Names sorted per folder give depth-first order already; sort anyway in
    // case a name holds a byte below '/' (then "a b" vs "a/..." needs the rule).
    auto less = [](const LocalEntry& a, const LocalEntry& b) {
        return sync_path_less(a.path, b.path);
    };
    if (!std::is_sorted(walk.entries.begin(), walk.entries.end(), less)) {
        std::vector<std::size_t> idx(walk.entries.size());
        for (std::size_t i = 0; i < idx.size(); ++i)
            idx[i] = i;
        std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
            return less(walk.entries[a], walk.entries[b]);
        });
        std::vector<LocalEntry> entries;
        std::vector<struct stat> sorted_stats;
        entries.reserve(idx.size());
        sorted_stats.reserve(idx.size());
        for (auto i : idx) {
            entries.push_back(std::move(walk.entries[i]));
            sorted_stats.push_back(all_stats[i]);
        }
        walk.entries = std::move(entries);
        all_stats = std::move(sorted_stats);
    }
    return walk;
}

}  // namespace detail

Result<LocalWalk> walk_local(const fs::path& root, const WalkOptions& options) {
    return detail::walk_local(root, options, nullptr);
}

}  // namespace de

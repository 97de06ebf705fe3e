#pragma once
// Tree walks bounded in descriptors and in memory (issue 18, F1/F5/F7).
//
// Both walks hold one descriptor of the folder they are in, whatever the
// depth: they go down with openat(name, O_NOFOLLOW) and back up with
// openat(fd, "..") checked against the (device, inode) they recorded on the
// way down, so a folder moved while it is walked stops the walk with an error
// instead of leading it elsewhere (or outside the mount). Anything they cannot
// read (EMFILE, EACCES, EIO...) is an error too: a walk never skips a folder
// and reports a smaller tree. Only a child that vanished between the listing
// of its folder and its own lstat/open is left out (it no longer exists).

#include "api_error.hpp"
#include "fs.hpp"

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de::server {

struct TreeCount {
    std::uint64_t bytes = 0;  // sizes of the regular files
    std::uint64_t files = 0;  // regular files
    std::uint64_t dirs = 0;   // folders (not the top one)
};

// Counts everything below the folder `dir_fd` (any fd of it, O_PATH too), in
// no particular order. Memory: the names of the folders still to visit on the
// current path (not the whole tree).
ApiResult<TreeCount> count_tree(int dir_fd);

// A depth-first walk in order: a folder right before its contents, siblings
// sorted bytewise by name (so paths come in component-wise order). It can
// start after any path (a listing's cursor). Each folder is read in batches of
// the smallest names after the last one returned, so memory stays within
// k_budget names whatever the tree, at the cost of reading a large folder
// again for each batch. Regular files and folders only (symlinks and special
// files are not returned).
class SortedWalk {
  public:
    static constexpr std::size_t k_budget = 4096;  // names held in batches, all levels

    struct Item {
        std::string path;  // relative to the mount
        struct stat st {};
        int dir_fd = -1;   // the folder holding a file (valid until the next call), -1 for a folder
        std::string name;  // in dir_fd
    };

    // `base_fd`: O_RDONLY|O_DIRECTORY of `base` (its path relative to the
    // mount). `after`: a path relative to `base` (components joined by '/');
    // the walk returns what comes after it. `max_batch` bounds one folder's
    // batch (a listing of N entries needs no more than N + 1).
    static ApiResult<SortedWalk> start(UniqueFd base_fd, std::string base, std::string_view after,
                                       bool recursive, std::size_t max_batch = 1024);

    // The next item, nullopt at the end, or why the walk cannot go on.
    ApiResult<std::optional<Item>> next();

  private:
    struct Level {
        std::string path;
        dev_t dev = 0;
        ino_t ino = 0;
        std::string last;  // names up to this one are done ("" before the first)
        std::vector<std::string> batch;
        std::size_t pos = 0;
        bool more = true;  // the folder may hold names after the batch
    };
    ApiResult<void> scan(Level& l);
    ApiResult<void> up();
    ApiResult<bool> down(const std::string& name, std::string path, struct stat* st);

    UniqueFd m_fd;  // the folder of m_levels.back()
    std::vector<Level> m_levels;
    std::size_t m_in_use = 0;  // names held in batches
    std::size_t m_max_batch = 1024;
    bool m_recursive = true;
};

// Stats the member `it.name` of the folder `dir_fd` (at `folder`, relative to
// the mount) into `it` (st, path, dir_fd) and says whether a walk lists it:
// true for a folder or a regular file with one link; false for anything else
// and for a name gone meanwhile; an error when it cannot be read.
ApiResult<bool> stat_member(int dir_fd, std::string_view folder, SortedWalk::Item& it);

// One folder's entries in directory order, a getdents64 buffer (32 KiB) at a
// time: nothing is held per name and the folder is read once, whatever its
// size. For WebDAV's PROPFIND Depth 1, whose answer has no order, so a big
// folder costs one read of it and one fstatat per entry (SortedWalk reads a
// folder of N names N / 4096 times and sorts them). getdents64 returns once
// every entry that exists for the whole scan; one added or removed meanwhile
// may or may not be. Regular files and folders only, as SortedWalk.
class FolderScan {
  public:
    // `dir_fd`: O_RDONLY|O_DIRECTORY of `path` (relative to the mount), at its start.
    FolderScan(UniqueFd dir_fd, std::string path);

    // The next name whose dirent does not rule it out, nullopt at the end, or
    // why the scan cannot go on. stat_member then decides whether it is listed
    // (FolderPages: a page's names, stat'ed by other threads).
    ApiResult<std::optional<std::string>> next_name();
    int fd() const { return m_fd.get(); }
    const std::string& path() const { return m_path; }

  private:
    UniqueFd m_fd;
    std::string m_path;
    std::unique_ptr<char[]> m_buf;
    std::size_t m_len = 0;  // bytes of dirents in m_buf
    std::size_t m_off = 0;  // the next one
};

}  // namespace de::server

#pragma once
// File-system primitives of de-server. Everything a request names is reached
// through a directory fd of the mount and openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS), so neither '..' nor a symlink that an app process
// left in the mount can lead a request outside it. Walks of a tree open each
// child with O_NOFOLLOW relative to its parent's fd for the same reason.

#include "api_error.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace de::server {

class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) {
            reset();
            m_fd = std::exchange(o.m_fd, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return m_fd; }
    explicit operator bool() const { return m_fd >= 0; }
    void reset(int fd = -1);

  private:
    int m_fd = -1;
};

// openat2(root_fd, rel, flags | O_CLOEXEC, mode) with RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS. `rel` is a normalised remote path ("" is root_fd's
// own directory). Returns -errno on failure.
int open_beneath_raw(int root_fd, std::string_view rel, int flags, mode_t mode = 0);
// The same, with the errno mapped to an API error naming `rel`.
ApiResult<UniqueFd> open_beneath(int root_fd, std::string_view rel, int flags, mode_t mode = 0);

// Opens (creating as needed) every directory of `rel` beneath root_fd and
// returns an O_RDONLY|O_DIRECTORY fd of the last one.
ApiResult<UniqueFd> make_dirs_beneath(int root_fd, std::string_view rel);

struct DirChild {
    std::string name;
    struct stat st {};
};
// The children of a directory (not '.' or '..'), lstat'ed, unsorted.
// Children that vanish while reading are skipped.
ApiResult<std::vector<DirChild>> read_dir(int dir_fd);

// Removes `name` in parent_fd and, for a directory, everything below it,
// without following symlinks. Returns 0 or an errno.
int remove_tree(int parent_fd, const std::string& name);

// 64 lower-case hex characters from getrandom(2): API keys, tokens, temp names.
std::string random_hex(std::size_t bytes = 32);

// Writes a small file whole: temp file, fsync, rename, fsync of the folder.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data, mode_t mode);
Result<std::string> read_small_file(const std::filesystem::path& path);

std::int64_t mtime_ns_of(const struct stat& st);

}  // namespace de::server

#pragma once
// File-system primitives of de-server. Everything a request names is reached
// through a directory fd of the mount and openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS), so neither '..' nor a symlink that an app process
// left in the mount can lead a request outside it. Walks of a tree open each
// child with O_NOFOLLOW relative to its parent's fd for the same reason.

#include "api_error.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
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
// without following symlinks. Returns 0 or an errno; ECANCELED, with part of
// the tree left, once *cancel becomes true.
int remove_tree(int parent_fd, const std::string& name, const std::atomic<bool>* cancel = nullptr);

// 64 lower-case hex characters from getrandom(2): API keys, tokens, temp names.
std::string random_hex(std::size_t bytes = 32);

// Writes a small file whole: temp file, fsync, rename, fsync of the folder.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data, mode_t mode);
// Removes from the folder `dir_fd` the regular files named as write_file_atomic
// names its temporary files ("<name>.tmp-" and 16 hex digits) last
// modified at least `age` ago: what a process killed between writing one and
// renaming it left. A live writer's exists for one write and one fsync, so an
// age of minutes never takes one (if it did, that write fails; nothing is
// torn). Returns how many it removed.
std::size_t remove_stale_atomic_temps(int dir_fd, std::chrono::seconds age);

// Test builds: DE_SERVER_TEST_CRASH=WHERE kills the process with SIGKILL (no
// clean-up) when it reaches the crash point named WHERE, so tests can check
// what a restart makes of what it left. Nothing in other builds.
void test_crash_point(std::string_view where);
// Reads a small file whole. On failure errno is the failing call's (ENOENT gives
// ErrorKind::not_found), so callers can tell "out of open files" apart.
Result<std::string> read_small_file(const std::filesystem::path& path);

std::int64_t mtime_ns_of(const struct stat& st);
// Sets an open file's modification time (the access time stays).
void set_mtime(int fd, std::int64_t mtime_ns);

// ---- O_DIRECT ---------------------------------------------------------------------------
// Big transfers bypass the page cache (tus.cpp and the GET path say why).
// O_DIRECT wants the buffer, the offset and the length aligned; 4 KiB covers
// every logical block size Linux file systems use.
inline constexpr std::size_t k_direct_align = 4096;
struct AlignedFree {
    void operator()(char* p) const;
};
using AlignedBuffer = std::unique_ptr<char[], AlignedFree>;
// `size` bytes at a k_direct_align boundary, not zeroed.
AlignedBuffer aligned_buffer(std::size_t size);

// Reads up to `want` bytes of `fd` at `off` into `buf` (an aligned buffer of
// `cap` bytes, cap a multiple of k_direct_align). With `direct`, the read
// starts at `off` rounded down to a block and spans whole blocks, so the bytes
// of `off` begin at buf + skip. Returns how many of them are usable (at most
// `want`; 0 at the end of the file), or -1 with errno (EINVAL: the file
// refuses O_DIRECT after all). EINTR is retried.
struct BlockRead {
    ssize_t n = 0;
    std::size_t skip = 0;
};
BlockRead read_at(int fd, char* buf, std::size_t cap, std::uint64_t off, std::uint64_t want,
                  bool direct);

// Opens `name` in `dir_fd` a second time, for writing with O_DIRECT: the bulk
// of a big upload goes from its aligned body buffers to the disk without a
// page-cache copy (an fsync before the commit has to write the bytes anyway,
// and on the machines measured, filling fresh page-cache pages cost more CPU
// than hashing them). An invalid fd where the file system refuses O_DIRECT
// (tmpfs): the page cache then.
UniqueFd open_direct(int dir_fd, const std::string& name);
// Writes `n` bytes at `pos`: through `direct_fd` (O_DIRECT; may be invalid)
// when the buffer, `pos` and `n` are aligned, through `cached_fd` otherwise
// and wherever O_DIRECT is refused after all. The kernel keeps the two
// coherent (a direct write flushes and drops cached pages of its range
// first). True when it went direct; errno in `err` (0 on success).
bool write_at(int direct_fd, int cached_fd, const char* data, std::size_t n, std::uint64_t pos,
              int& err);

// ---- free-space reserve (de-server --min-free) ------------------------------------------
// The server keeps this much of its root's file system free: a write is
// admitted only while the bytes it needs fit above the reserve. Free space is
// statvfs's f_bavail (what an unprivileged user may use), so a server running
// as root never eats the blocks the file system keeps for root.
struct MinFree {
    // A byte count, or a percentage of the file system's size; neither: the
    // default, the smaller of 1 GiB and 5 %.
    std::optional<std::uint64_t> bytes;
    std::optional<double> percent;
};
inline constexpr std::uint64_t k_min_free_default_cap = 1ull << 30;
inline constexpr double k_min_free_default_percent = 5.0;

// "SIZE" (as --quota: 500MiB, 1GB, 0) or "N%" (0 to 100, decimals allowed).
Result<MinFree> parse_min_free(std::string_view text);
// The reserve in bytes on a file system of `fs_total` bytes.
std::uint64_t min_free_bytes(const MinFree& m, std::uint64_t fs_total);

struct DiskSpace {
    std::uint64_t total = 0;  // f_blocks * f_frsize
    std::uint64_t avail = 0;  // f_bavail * f_frsize
};
// The file system holding `path`; nullopt when statvfs fails.
std::optional<DiskSpace> disk_space(const std::filesystem::path& path);
// What a new write may still take: the free space, less the bytes admitted
// writes have yet to put there (`pending`), less the reserve; 0 when that is
// negative.
std::uint64_t writable_bytes(const DiskSpace& d, std::uint64_t pending, std::uint64_t reserve);

}  // namespace de::server

#pragma once
// Locks that several de-server processes on one root agree on, including
// processes on different machines sharing the root over a network file
// system: fcntl open-file-description locks (F_OFD_*) on a whole file. NFS v4
// and CephFS honour them across clients; flock(2) is not reliable there.
//
// OFD locks belong to the open file description, not to the process: two
// threads of one process holding two FileLocks of one file exclude each other
// like two processes do, and the kernel releases a lock when its holder dies
// (kill -9 included) — the property the replicas rely on (docs/deploy.md).
// A kernel without OFD locks (EINVAL; Linux < 3.15) gets classic POSIX locks:
// then threads of one process do not exclude each other, so callers keep
// their own mutex as well.

#include "fs.hpp"

#include <filesystem>
#include <string_view>

namespace de::server {

class FileLock {
  public:
    FileLock() = default;
    // Opens (creating it, 0600) `path` and takes its write lock, waiting for
    // it (`wait`) or not: a lock someone else holds is then kind `conflict`.
    // On failure errno is the failed call's.
    static Result<FileLock> take(const std::filesystem::path& path, bool wait = true);
    // The same, for `name` in the folder `dir_fd`.
    static Result<FileLock> take_at(int dir_fd, const char* name, bool wait = true);
    // True when another open file description (this process's or another's)
    // holds a lock on `path`; false when none does or the file is missing.
    static bool held_elsewhere(const std::filesystem::path& path);

    bool held() const { return static_cast<bool>(m_fd); }
    int fd() const { return m_fd.get(); }
    void release() { m_fd.reset(); }

  private:
    explicit FileLock(UniqueFd fd) : m_fd(std::move(fd)) {}
    UniqueFd m_fd;  // closing it releases the lock
};

}  // namespace de::server

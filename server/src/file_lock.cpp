// See file_lock.hpp.
#include "file_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace de::server {

namespace {

// F_OFD_SETLK(W), or the classic F_SETLK(W) where the kernel has no OFD locks.
int set_lock(int fd, short type, bool wait) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    int r;
#ifdef F_OFD_SETLKW
    while ((r = ::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) != 0 && errno == EINTR) {
    }
    if (r == 0 || errno != EINVAL) return r;
#endif
    fl.l_pid = 0;
    while ((r = ::fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl)) != 0 && errno == EINTR) {
    }
    return r;
}

}  // namespace

Result<FileLock> FileLock::take_at(int dir_fd, const char* name, bool wait) {
    int fd = ::openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int err = errno;
        auto e = fail(ErrorKind::generic,
                      fmt::format("cannot open the lock file '{}': {}", name, std::strerror(err)));
        errno = err;
        return e;
    }
    UniqueFd f(fd);
    if (set_lock(fd, F_WRLCK, wait) != 0) {
        int err = errno;
        auto e = (err == EAGAIN || err == EACCES)
                     ? fail(ErrorKind::conflict, fmt::format("'{}' is locked by another", name))
                     : fail(ErrorKind::generic,
                            fmt::format("cannot lock '{}': {}", name, std::strerror(err)));
        errno = err;
        return e;
    }
    return FileLock(std::move(f));
}

Result<FileLock> FileLock::take(const std::filesystem::path& path, bool wait) {
    return take_at(AT_FDCWD, path.c_str(), wait);
}

bool FileLock::held_elsewhere(const std::filesystem::path& path) {
    UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!f) return false;
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
#ifdef F_OFD_GETLK
    if (::fcntl(f.get(), F_OFD_GETLK, &fl) == 0) return fl.l_type != F_UNLCK;
    if (errno != EINVAL) return true;  // cannot tell: say held, the careful answer
    fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
#endif
    if (::fcntl(f.get(), F_GETLK, &fl) == 0) return fl.l_type != F_UNLCK;
    return true;
}

}  // namespace de::server

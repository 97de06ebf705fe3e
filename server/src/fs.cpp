// See fs.hpp. openat2 has no glibc wrapper in Debian 12 (glibc 2.36), so it is
// called through syscall(2).
#include "fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <de/size.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace de::server {

void UniqueFd::reset(int fd) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
}

ApiError errno_error(int err, std::string_view what, std::string_view path) {
    using api::WireError;
    std::string shown = path.empty() ? std::string("/") : std::string(path);
    switch (err) {
        case ENOENT:
            return {WireError::not_found, fmt::format("'{}' does not exist in the mount", shown)};
        case EXDEV:
        case ELOOP:
            return {WireError::forbidden,
                    fmt::format("'{}' resolves outside the mount (through a symbolic link); "
                                "refused",
                                shown)};
        case ENOTDIR:
            return {WireError::conflict,
                    fmt::format("a parent folder of '{}' is a file, not a folder", shown)};
        case EISDIR:
            return {WireError::conflict, fmt::format("'{}' is a folder", shown)};
        case EEXIST:
            return {WireError::conflict,
                    fmt::format("'{}' exists already", shown),
                    {{"reason", api::reason::exists}}};
        case ENOTEMPTY:
            return {WireError::conflict,
                    fmt::format("folder '{}' is not empty", shown),
                    {{"reason", api::reason::not_empty}}};
        case EMFILE:
        case ENFILE:
            return {WireError::unavailable,
                    fmt::format("the server is out of open files while {} '{}'; try again later",
                                what, shown)};
        case ENAMETOOLONG:
            return {WireError::bad_request, fmt::format("'{}' is too long", shown)};
        case ENOSPC:
        case EDQUOT:
            return {WireError::quota_exceeded,
                    fmt::format("no space left on the server's disk while writing '{}'", shown)};
        default:
            return {WireError::internal,
                    fmt::format("{} '{}' failed: {}", what, shown, std::strerror(err))};
    }
}

int open_beneath_raw(int root_fd, std::string_view rel, int flags, mode_t mode) {
    std::string p = rel.empty() ? std::string(".") : std::string(rel);
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    // RESOLVE_NO_XDEV: a mount point inside the mount (a bind mount) is
    // another file system, refused like a symlink leading out (EXDEV, 403).
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    for (int attempt = 0; attempt < 8; ++attempt) {
        long fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        // EAGAIN: a concurrent rename raced the lookup; the kernel asks us to retry.
        if (errno != EAGAIN && errno != EINTR) return -errno;
    }
    return -EAGAIN;
}

ApiResult<UniqueFd> open_beneath(int root_fd, std::string_view rel, int flags, mode_t mode) {
    int fd = open_beneath_raw(root_fd, rel, flags, mode);
    if (fd < 0) return std::unexpected(errno_error(-fd, "opening", rel));
    return UniqueFd(fd);
}

ApiResult<UniqueFd> make_dirs_beneath(int root_fd, std::string_view rel) {
    // Walk down from the root: open what exists, create what does not. Each
    // prefix is resolved from the root again so the RESOLVE_BENEATH check
    // always applies to the whole path.
    std::size_t pos = 0;
    while (true) {
        std::size_t slash = rel.find('/', pos);
        std::string_view prefix = slash == std::string_view::npos ? rel : rel.substr(0, slash);
        int fd = open_beneath_raw(root_fd, prefix, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT) {
            auto parent = prefix.rfind('/') == std::string_view::npos
                              ? std::string_view{}
                              : prefix.substr(0, prefix.rfind('/'));
            auto name = prefix.substr(parent.empty() ? 0 : parent.size() + 1);
            auto pfd = open_beneath(root_fd, parent, O_RDONLY | O_DIRECTORY);
            if (!pfd) return std::unexpected(pfd.error());
            if (::mkdirat(pfd->get(), std::string(name).c_str(), 0755) != 0 && errno != EEXIST)
                return std::unexpected(errno_error(errno, "creating folder", prefix));
            fd = open_beneath_raw(root_fd, prefix, O_RDONLY | O_DIRECTORY);
        }
        if (fd < 0) return std::unexpected(errno_error(-fd, "opening folder", prefix));
        if (slash == std::string_view::npos) return UniqueFd(fd);
        ::close(fd);
        pos = slash + 1;
    }
}

ApiResult<std::vector<DirChild>> read_dir(int dir_fd) {
    int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(errno_error(errno, "reading folder", ""));
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int err = errno;
        ::close(fd);
        return std::unexpected(errno_error(err, "reading folder", ""));
    }
    std::vector<DirChild> out;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        DirChild c;
        c.name = n;
        if (::fstatat(fd, e->d_name, &c.st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        out.push_back(std::move(c));
    }
    ::closedir(d);
    return out;
}

int remove_tree(int parent_fd, const std::string& name, const std::atomic<bool>* cancel) {
    if (cancel && cancel->load(std::memory_order_relaxed)) return ECANCELED;
    struct stat st {};
    if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
    if (S_ISDIR(st.st_mode)) {
        int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return errno;
        UniqueFd dir(fd);
        auto children = read_dir(dir.get());
        if (children) {
            for (const auto& c : *children) {
                int err = remove_tree(dir.get(), c.name, cancel);
                if (err != 0 && err != ENOENT) return err;
            }
        }
        if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) return errno;
        return 0;
    }
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0) return errno;
    return 0;
}

std::string random_hex(std::size_t bytes) {
    std::vector<std::uint8_t> raw(bytes);
    std::size_t got = 0;
    while (got < raw.size()) {
        ssize_t n = ::getrandom(raw.data() + got, raw.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed");
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (auto b : raw) {
        out.push_back(k_hex[b >> 4]);
        out.push_back(k_hex[b & 15]);
    }
    return out;
}

namespace {
constexpr std::string_view k_atomic_temp = ".tmp-";
constexpr std::size_t k_atomic_temp_hex = 16;

// write_file_atomic's temporary names: "<name>.tmp-" and 16 hex digits.
bool is_atomic_temp_name(std::string_view name) {
    if (name.size() <= k_atomic_temp.size() + k_atomic_temp_hex) return false;
    auto tail = name.substr(name.size() - k_atomic_temp_hex);
    if (name.substr(name.size() - k_atomic_temp_hex - k_atomic_temp.size(), k_atomic_temp.size()) !=
        k_atomic_temp)
        return false;
    return std::all_of(tail.begin(), tail.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
}  // namespace

std::size_t remove_stale_atomic_temps(int dir_fd, std::chrono::seconds age) {
    auto children = read_dir(dir_fd);
    if (!children) return 0;
    const auto now = std::chrono::system_clock::now();
    std::size_t removed = 0;
    for (const auto& c : *children) {
        if (!S_ISREG(c.st.st_mode) || !is_atomic_temp_name(c.name)) continue;
        auto mtime =
            std::chrono::system_clock::time_point(std::chrono::seconds(c.st.st_mtim.tv_sec) +
                                                  std::chrono::nanoseconds(c.st.st_mtim.tv_nsec));
        if (now - mtime < age) continue;
        if (::unlinkat(dir_fd, c.name.c_str(), 0) == 0) ++removed;
    }
    return removed;
}

void test_crash_point([[maybe_unused]] std::string_view where) {
#ifdef DE_TEST_HOOKS
    const char* v = std::getenv("DE_SERVER_TEST_CRASH");
    if (v && where == v) {
        fmt::print(stderr, "de-server: test hook: crashing {}\n", where);
        std::fflush(stderr);
        ::raise(SIGKILL);
    }
#endif
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data, mode_t mode) {
    auto tmp = path;
    tmp += std::string(k_atomic_temp) + random_hex(k_atomic_temp_hex / 2);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return fail(ErrorKind::generic,
                    fmt::format("cannot write '{}': {}", tmp.string(), std::strerror(errno)));
    UniqueFd f(fd);
    ::fchmod(fd, mode);  // the umask must not widen or narrow it
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::unlink(tmp.c_str());
            return fail(ErrorKind::generic,
                        fmt::format("cannot write '{}': {}", tmp.string(), std::strerror(err)));
        }
        off += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    if (synced) test_crash_point("atomic_write_before_rename");
    if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return fail(ErrorKind::generic,
                    fmt::format("cannot write '{}': {}", path.string(), std::strerror(err)));
    }
    int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

Result<std::string> read_small_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        ErrorKind k = err == ENOENT ? ErrorKind::not_found : ErrorKind::generic;
        auto failure =
            fail(k, fmt::format("cannot read '{}': {}", path.string(), std::strerror(err)));
        errno = err;  // callers tell "out of open files" (503) from other failures
        return failure;
    }
    UniqueFd f(fd);
    std::string out;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(ErrorKind::generic,
                        fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno)));
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

void set_mtime(int fd, std::int64_t mtime_ns) {
    timespec ts[2];
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = static_cast<time_t>(mtime_ns / 1'000'000'000);
    ts[1].tv_nsec = static_cast<long>(mtime_ns % 1'000'000'000);
    if (ts[1].tv_nsec < 0) {
        ts[1].tv_nsec += 1'000'000'000;
        ts[1].tv_sec -= 1;
    }
    ::futimens(fd, ts);
}

std::int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

void AlignedFree::operator()(char* p) const {
    ::operator delete[](p, std::align_val_t{k_direct_align});
}

AlignedBuffer aligned_buffer(std::size_t size) {
    return AlignedBuffer(
        static_cast<char*>(::operator new[](size, std::align_val_t{k_direct_align})));
}

UniqueFd open_direct(int dir_fd, const std::string& name) {
    return UniqueFd(::openat(dir_fd, name.c_str(), O_RDWR | O_DIRECT | O_NOFOLLOW | O_CLOEXEC));
}

bool write_at(int direct_fd, int cached_fd, const char* data, std::size_t n, std::uint64_t pos,
              int& err) {
    err = 0;
    bool aligned = direct_fd >= 0 && pos % k_direct_align == 0 && n % k_direct_align == 0 &&
                   reinterpret_cast<std::uintptr_t>(data) % k_direct_align == 0;
    int fd = aligned ? direct_fd : cached_fd;
    std::size_t done = 0;
    while (done < n) {
        ssize_t w = ::pwrite(fd, data + done, n - done, static_cast<off_t>(pos + done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EINVAL && fd == direct_fd) {
            fd = cached_fd;  // refused after all: the page cache takes the rest
            aligned = false;
            continue;
        }
        if (w <= 0) {
            err = w < 0 ? errno : EIO;
            return aligned;
        }
        done += static_cast<std::size_t>(w);
        if (fd == direct_fd && done % k_direct_align != 0) {
            fd = cached_fd;  // a short direct write: finish through the cache
            aligned = false;
        }
    }
    return aligned;
}

BlockRead read_at(int fd, char* buf, std::size_t cap, std::uint64_t off, std::uint64_t want,
                  bool direct) {
    BlockRead r;
    std::uint64_t start = off;
    std::uint64_t len = std::min<std::uint64_t>(want, cap);
    if (direct) {
        r.skip = static_cast<std::size_t>(off % k_direct_align);
        start = off - r.skip;
        want = std::min<std::uint64_t>(want, cap - r.skip);
        len = std::min<std::uint64_t>(
            cap, (r.skip + want + k_direct_align - 1) / k_direct_align * k_direct_align);
    }
    ssize_t n;
    do {
        n = ::pread(fd, buf, len, static_cast<off_t>(start));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        r.n = -1;
    } else if (static_cast<std::uint64_t>(n) > r.skip) {
        r.n = static_cast<ssize_t>(
            std::min<std::uint64_t>(static_cast<std::uint64_t>(n) - r.skip, want));
    }
    return r;
}

Result<MinFree> parse_min_free(std::string_view text) {
    MinFree m;
    if (!text.empty() && text.back() == '%') {
        std::string_view num = text.substr(0, text.size() - 1);
        double v = -1;
        auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
        if (num.empty() || ec != std::errc() || p != num.data() + num.size() || !(v >= 0) ||
            v > 100)
            return fail(ErrorKind::usage,
                        fmt::format("'{}' is not a percentage from 0% to 100%", text));
        m.percent = v;
        return m;
    }
    auto b = parse_size(text);
    if (!b) return std::unexpected(b.error());
    m.bytes = *b;
    return m;
}

std::uint64_t min_free_bytes(const MinFree& m, std::uint64_t fs_total) {
    auto share = [&](double percent) {
        return static_cast<std::uint64_t>(std::ceil(static_cast<double>(fs_total) * percent / 100));
    };
    if (m.bytes) return *m.bytes;
    if (m.percent) return share(*m.percent);
    return std::min(k_min_free_default_cap, share(k_min_free_default_percent));
}

std::optional<DiskSpace> disk_space(const std::filesystem::path& path) {
    struct statvfs v {};
    if (::statvfs(path.c_str(), &v) != 0) return std::nullopt;
    DiskSpace d;
    d.total = static_cast<std::uint64_t>(v.f_blocks) * v.f_frsize;
    d.avail = static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
    return d;
}

std::uint64_t writable_bytes(const DiskSpace& d, std::uint64_t pending, std::uint64_t reserve) {
    std::uint64_t held = pending + reserve;
    return d.avail > held ? d.avail - held : 0;
}

}  // namespace de::server

#include "crc_store.hpp"

#include "fs.hpp"

#include <de/crc64.hpp>

#include <fmt/format.h>

#include <sys/xattr.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <memory>
#include <string_view>

namespace de::server {

std::string crc_xattr_value(std::uint64_t crc, const struct stat& st) {
    return fmt::format("v1 {} {} {} {}", crc64_hex(crc), static_cast<std::uint64_t>(st.st_size),
                       mtime_ns_of(st), static_cast<std::uint64_t>(st.st_ino));
}

std::optional<std::uint64_t> stored_crc64(int fd, const struct stat& st) {
    char buf[128];
    const ssize_t n = ::fgetxattr(fd, k_crc_xattr, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    const std::string_view text(buf, static_cast<std::size_t>(n));
    // "v1 " + 16 hex digits + " " + the identity, compared as text.
    if (text.size() < 20 || text.substr(0, 3) != "v1 ") return std::nullopt;
    const auto crc = crc64_from_hex(text.substr(3, 16));
    if (!crc) return std::nullopt;
    if (text != crc_xattr_value(*crc, st))
        return std::nullopt;  // written over a different size, mtime or inode: stale
    return crc;
}

bool store_crc64(int fd, std::uint64_t crc) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return false;
    return store_crc64(fd, crc, st);
}

bool store_crc64(int fd, std::uint64_t crc, const struct stat& st) {
    if (!S_ISREG(st.st_mode)) return false;
    const auto value = crc_xattr_value(crc, st);
    return ::fsetxattr(fd, k_crc_xattr, value.data(), value.size(), 0) == 0;
}

std::optional<std::uint64_t> file_crc64(int fd, const struct stat& st) {
    if (auto crc = stored_crc64(fd, st)) return crc;
    constexpr std::size_t k_chunk = 1 << 20;
    const std::unique_ptr<char[]> buf(new char[k_chunk]);
    Crc64 crc;
    std::uint64_t off = 0;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    while (off < size) {
        const ssize_t n = ::pread(fd, buf.get(), k_chunk, static_cast<off_t>(off));
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        if (n == 0) break;
        crc.update(buf.get(), static_cast<std::size_t>(n));
        off += static_cast<std::uint64_t>(n);
    }
    struct stat after {};
    if (::fstat(fd, &after) != 0) return std::nullopt;
    if (off != size || after.st_size != st.st_size || mtime_ns_of(after) != mtime_ns_of(st)) {
        errno = EAGAIN;  // written while we read it: the CRC describes no version of the file
        return std::nullopt;
    }
    // Stored only over the identity it was computed for (st, not a later stat).
    const auto value = crc_xattr_value(crc.value(), st);
    (void)::fsetxattr(fd, k_crc_xattr, value.data(), value.size(), 0);
    return crc.value();
}

}  // namespace de::server

#include "crc_store.hpp"

#include <de/crc64.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

struct TempFile {
    std::filesystem::path path;
    int fd = -1;
    explicit TempFile(const std::string& content) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "crcstoreXXXXXX").string();
        fd = ::mkstemp(tmpl.data());
        REQUIRE(fd >= 0);
        path = tmpl;
        REQUIRE(::write(fd, content.data(), content.size()) ==
                static_cast<ssize_t>(content.size()));
    }
    ~TempFile() {
        ::close(fd);
        std::filesystem::remove(path);
    }
    struct stat st() const {
        struct stat s {};
        REQUIRE(::fstat(fd, &s) == 0);
        return s;
    }
};

bool xattrs_supported(int fd) {
    return ::fsetxattr(fd, "user.de.probe", "1", 1, 0) == 0;
}

}  // namespace

TEST_CASE("crc_store: computed once, then read back from the attribute") {
    TempFile f("123456789");
    REQUIRE(xattrs_supported(f.fd));
    auto st = f.st();
    CHECK_FALSE(de::server::stored_crc64(f.fd, st).has_value());
    auto crc = de::server::file_crc64(f.fd, st);
    REQUIRE(crc.has_value());
    CHECK(*crc == 0x995DC9BBDF1939FAull);
    // Stored: the next call reads it without the data (proved by a planted value).
    CHECK(de::server::stored_crc64(f.fd, f.st()) == crc);
    auto planted = de::server::crc_xattr_value(42, f.st());
    REQUIRE(::fsetxattr(f.fd, de::server::k_crc_xattr, planted.data(), planted.size(), 0) == 0);
    CHECK(de::server::file_crc64(f.fd, f.st()) == 42u);
}

TEST_CASE("crc_store: a file rewritten by an app is recomputed, never trusted") {
    TempFile f("123456789");
    REQUIRE(xattrs_supported(f.fd));
    REQUIRE(de::server::file_crc64(f.fd, f.st()).has_value());
    // Same size, new bytes, a later mtime: the stored value is stale.
    REQUIRE(::pwrite(f.fd, "X", 1, 0) == 1);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {2000000000, 123}};
    REQUIRE(::futimens(f.fd, ts) == 0);
    auto st = f.st();
    CHECK_FALSE(de::server::stored_crc64(f.fd, st).has_value());
    CHECK(de::server::file_crc64(f.fd, st) == de::crc64("X23456789"));
    // Grown: stale again.
    REQUIRE(::pwrite(f.fd, "0", 1, 9) == 1);
    CHECK_FALSE(de::server::stored_crc64(f.fd, f.st()).has_value());
    CHECK(de::server::file_crc64(f.fd, f.st()) == de::crc64("X234567890"));
    // Garbage in the attribute is ignored.
    REQUIRE(::fsetxattr(f.fd, de::server::k_crc_xattr, "v1 zz", 5, 0) == 0);
    CHECK_FALSE(de::server::stored_crc64(f.fd, f.st()).has_value());
}

TEST_CASE("crc_store: store_crc64 records the current identity") {
    TempFile f("hello");
    REQUIRE(xattrs_supported(f.fd));
    CHECK(de::server::store_crc64(f.fd, de::crc64("hello")));
    CHECK(de::server::stored_crc64(f.fd, f.st()) == de::crc64("hello"));
}

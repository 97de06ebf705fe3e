// fs.hpp's O_DIRECT helpers: aligned buffers, block-aligned reads and
// write_at give the exact bytes at any offset, through O_DIRECT and without it.
#include "fs.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>

using de::server::aligned_buffer;
using de::server::k_direct_align;
using de::server::open_direct;
using de::server::read_at;
using de::server::write_at;

TEST_CASE("aligned_buffer is aligned for O_DIRECT") {
    auto b = aligned_buffer(3 * k_direct_align);
    CHECK(reinterpret_cast<std::uintptr_t>(b.get()) % k_direct_align == 0);
}

TEST_CASE("read_at: exact bytes at unaligned offsets, buffered and direct") {
    de::test::TempDir dir("de-fs-direct");
    auto file = dir.path / "f";
    std::string data(3 * 65536 + 777, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>((i * 131 + i / 4096) % 251);
    de::test::write_file(file, data);

    const std::size_t cap = 16 * k_direct_align;
    auto buf = aligned_buffer(cap);
    int plain = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(plain >= 0);
    int direct = ::open(file.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);  // -1 on tmpfs
    for (int fd : {plain, direct}) {
        if (fd < 0) continue;
        const bool d = fd == direct;
        CAPTURE(d);
        for (std::uint64_t off :
             {0ull, 1ull, 4095ull, 4096ull, 5000ull, 65536ull * 3, 65536ull * 3 + 700}) {
            std::uint64_t at = off, left = data.size() - off;
            std::string got;
            while (left > 0) {
                auto r = read_at(fd, buf.get(), cap, at, left, d);
                if (r.n < 0 && errno == EINVAL) break;  // this file system refuses O_DIRECT
                REQUIRE(r.n > 0);
                CHECK(r.skip == (d ? at % k_direct_align : 0));
                got.append(buf.get() + r.skip, static_cast<std::size_t>(r.n));
                at += static_cast<std::uint64_t>(r.n);
                left -= static_cast<std::uint64_t>(r.n);
            }
            if (left == 0) CHECK(got == data.substr(off));
        }
        // Never more than asked for, and 0 at the end of the file.
        auto r = read_at(fd, buf.get(), cap, 10, 5, d);
        if (r.n >= 0) CHECK(std::string(buf.get() + r.skip, 5) == data.substr(10, 5));
        if (r.n >= 0) CHECK(r.n == 5);
        r = read_at(fd, buf.get(), cap, data.size(), 100, d);
        if (!(r.n < 0 && errno == EINVAL)) CHECK(r.n == 0);
    }
    ::close(plain);
    if (direct >= 0) ::close(direct);
}

TEST_CASE("write_at: aligned pieces go direct, the rest through the page cache, same bytes") {
    de::test::TempDir dir("de-fs-write");
    int dir_fd = ::open(dir.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dir_fd >= 0);
    int cached = ::openat(dir_fd, "f", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(cached >= 0);
    auto direct = open_direct(dir_fd, "f");  // invalid where O_DIRECT is refused (tmpfs)

    const std::size_t block = 4 * k_direct_align;
    auto buf = aligned_buffer(block);
    std::string want;
    std::uint64_t pos = 0;
    auto put = [&](std::size_t n, char fill, bool expect_direct) {
        for (std::size_t i = 0; i < n; ++i)
            buf.get()[i] = static_cast<char>(fill + i % 7);
        int err = -1;
        bool went = write_at(direct.get(), cached, buf.get(), n, pos, err);
        CHECK(err == 0);
        CHECK(went == (expect_direct && static_cast<bool>(direct)));
        want.append(buf.get(), n);
        pos += n;
    };
    put(block, 'a', true);  // whole blocks at a block boundary
    put(block, 'h', true);
    put(1000, 'p', false);   // a tail that is no whole block
    put(block, 'x', false);  // whole, but at an unaligned offset
    int err = 0;
    CHECK_FALSE(write_at(-1, cached, buf.get(), 0, pos, err));  // nothing to write, no direct fd
    CHECK(err == 0);
    ::close(cached);
    ::close(dir_fd);

    std::string got = de::test::read_file(dir.path / "f");
    CHECK(got.size() == want.size());
    CHECK(got == want);
}

// InodeCache: a SHA-256 holds while the size and mtime are those hashed; "no
// dead properties" while the ctime is the one seen, and only once that ctime
// had settled; both facts about one inode live side by side in one slot of a
// flat table that grows and, past k_max inodes, starts over.
#include "inode_cache.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <string>

using de::server::InodeCache;

namespace {
constexpr std::int64_t k_sec = 1'000'000'000;
constexpr std::int64_t k_ctime = 1'800'000'000 * k_sec + 123;

struct timespec ts(std::int64_t ns) {
    return {static_cast<time_t>(ns / k_sec), static_cast<long>(ns % k_sec)};
}

struct stat entry(ino_t ino, std::int64_t ctime_ns = k_ctime, off_t size = 10,
                  std::int64_t mtime_ns = k_ctime, dev_t dev = 7) {
    struct stat st {};
    st.st_dev = dev;
    st.st_ino = ino;
    st.st_size = size;
    st.st_mtim = ts(mtime_ns);
    st.st_ctim = ts(ctime_ns);
    return st;
}

// A distinct lowercase digest per number.
std::string sha_of(std::uint64_t n) {
    std::string hex(64, '0');
    static constexpr char k_hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i)
        hex[63 - i] = k_hex[(n >> (4 * i)) & 15];
    hex[0] = 'e';
    return hex;
}
}  // namespace

TEST_CASE("InodeCache: a SHA-256 holds while size and mtime are those hashed") {
    InodeCache c;
    const auto st = entry(42);
    CHECK_FALSE(c.sha256(st));
    c.remember_sha256(st, sha_of(1));
    CHECK(c.sha256(st) == sha_of(1));
    CHECK(c.sha256(entry(42, k_ctime + 5)) == sha_of(1));        // a chmod: same content
    CHECK_FALSE(c.sha256(entry(42, k_ctime, 11)));               // another size
    CHECK_FALSE(c.sha256(entry(42, k_ctime, 10, k_ctime + 1)));  // another mtime
    CHECK_FALSE(c.sha256(entry(43)));
    CHECK_FALSE(c.sha256(entry(42, k_ctime, 10, k_ctime, 8)));  // same inode, other device
    c.remember_sha256(st, sha_of(2));                           // hashed again
    CHECK(c.sha256(st) == sha_of(2));
    CHECK(c.size() == 1);
}

TEST_CASE("InodeCache: a digest that is not 64 lowercase hex digits is not kept") {
    InodeCache c;
    const auto st = entry(42);
    std::string upper = sha_of(1);
    upper[0] = 'E';
    c.remember_sha256(st, upper);
    c.remember_sha256(st, sha_of(1).substr(1));
    CHECK_FALSE(c.sha256(st));
    CHECK(c.size() == 0);
}

TEST_CASE("InodeCache: a settled bare entry is known until its ctime changes") {
    InodeCache c;
    const auto st = entry(42);
    CHECK_FALSE(c.known_bare(st));
    c.remember_bare(st, k_ctime + 2 * k_sec);
    CHECK(c.known_bare(st));
    // Setting an attribute (or any inode change) moves the ctime: no longer known.
    CHECK_FALSE(c.known_bare(entry(42, k_ctime + 1)));
    // Another inode, or the same inode number on another device, is not this entry.
    CHECK_FALSE(c.known_bare(entry(43)));
    CHECK_FALSE(c.known_bare(entry(42, k_ctime, 10, k_ctime, 8)));
}

TEST_CASE("InodeCache: an entry changed within the settle time is not remembered bare") {
    InodeCache c;
    const auto st = entry(42);
    // Read 0.5 s after its ctime: a change in the same clock tick could keep that ctime.
    c.remember_bare(st, k_ctime + k_sec / 2);
    CHECK_FALSE(c.known_bare(st));
    CHECK(c.size() == 0);
    // Exactly k_settle old is enough.
    c.remember_bare(st, k_ctime + std::chrono::nanoseconds(InodeCache::k_settle).count());
    CHECK(c.known_bare(st));
}

TEST_CASE("InodeCache: the two facts of one inode are kept and checked apart") {
    InodeCache c;
    const auto st = entry(42);
    c.remember_bare(st, k_ctime + 2 * k_sec);
    c.remember_sha256(st, sha_of(9));
    auto k = c.lookup(st);
    CHECK(k.bare);
    CHECK(k.sha256 == sha_of(9));
    // New content (size, mtime and ctime move): neither holds.
    k = c.lookup(entry(42, k_ctime + 1, 11, k_ctime + 1));
    CHECK_FALSE(k.bare);
    CHECK_FALSE(k.sha256);
    // An attribute set (only the ctime moves): the digest still holds, "bare" does not.
    k = c.lookup(entry(42, k_ctime + 1));
    CHECK_FALSE(k.bare);
    CHECK(k.sha256 == sha_of(9));
    CHECK(c.size() == 1);
}

TEST_CASE("InodeCache: every inode is found again as the table grows") {
    InodeCache c;
    // Inode numbers in sequence on two devices with the same numbers (the
    // same home slots but for the device), and a stride that is a multiple
    // of every table size.
    const std::uint64_t n = 50'000;
    for (std::uint64_t i = 1; i <= n; ++i) {
        c.remember_sha256(entry(static_cast<ino_t>(i)), sha_of(i));
        c.remember_bare(entry(static_cast<ino_t>(i), k_ctime, 10, k_ctime, 8), k_ctime + 2 * k_sec);
        c.remember_sha256(entry(static_cast<ino_t>(i << 20)), sha_of(i + n));
    }
    CHECK(c.size() == 3 * n);
    std::uint64_t wrong = 0;
    for (std::uint64_t i = 1; i <= n; ++i) {
        auto a = c.lookup(entry(static_cast<ino_t>(i)));
        auto b = c.lookup(entry(static_cast<ino_t>(i), k_ctime, 10, k_ctime, 8));
        auto s = c.lookup(entry(static_cast<ino_t>(i << 20)));
        if (a.sha256 != sha_of(i) || a.bare || b.sha256 || !b.bare || s.sha256 != sha_of(i + n))
            ++wrong;
    }
    CHECK(wrong == 0);
    CHECK_FALSE(c.lookup(entry(static_cast<ino_t>(n + 1))).sha256);
}

TEST_CASE("InodeCache: bounded, it starts over past k_max inodes") {
    InodeCache c;
    for (std::size_t i = 0; i < InodeCache::k_max; ++i)
        c.remember_bare(entry(static_cast<ino_t>(i + 1)), k_ctime + 2 * k_sec);
    CHECK(c.size() == InodeCache::k_max);
    CHECK(c.known_bare(entry(1)));
    // A known inode updated is no new one.
    c.remember_sha256(entry(1), sha_of(1));
    CHECK(c.size() == InodeCache::k_max);
    c.remember_bare(entry(static_cast<ino_t>(InodeCache::k_max + 1)), k_ctime + 2 * k_sec);
    CHECK(c.size() == 1);
    CHECK_FALSE(c.known_bare(entry(1)));
    CHECK_FALSE(c.sha256(entry(1)));
    CHECK(c.known_bare(entry(static_cast<ino_t>(InodeCache::k_max + 1))));
}

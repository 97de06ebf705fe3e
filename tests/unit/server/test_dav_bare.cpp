// dav::BareCache: an entry seen without dead properties is remembered only
// while its ctime is what it was, and only once that ctime had settled.
#include "dav_props.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>

using de::server::dav::BareCache;

namespace {
constexpr std::int64_t k_sec = 1'000'000'000;

struct stat bare_entry(ino_t ino, std::int64_t ctime_ns) {
    struct stat st {};
    st.st_dev = 7;
    st.st_ino = ino;
    st.st_ctim.tv_sec = static_cast<time_t>(ctime_ns / k_sec);
    st.st_ctim.tv_nsec = static_cast<long>(ctime_ns % k_sec);
    return st;
}
}  // namespace

TEST_CASE("BareCache: a settled entry is known until its ctime changes") {
    BareCache c;
    const std::int64_t ctime = 1'800'000'000 * k_sec + 123;
    auto st = bare_entry(42, ctime);
    CHECK_FALSE(c.known_bare(st));
    c.remember_bare(st, ctime + 2 * k_sec);
    CHECK(c.known_bare(st));
    // Setting an attribute (or any inode change) moves the ctime: no longer known.
    CHECK_FALSE(c.known_bare(bare_entry(42, ctime + 1)));
    // Another inode, or the same inode number on another device, is not this entry.
    CHECK_FALSE(c.known_bare(bare_entry(43, ctime)));
    auto other_dev = st;
    other_dev.st_dev = 8;
    CHECK_FALSE(c.known_bare(other_dev));
}

TEST_CASE("BareCache: an entry changed within the settle time is not remembered") {
    BareCache c;
    const std::int64_t ctime = 1'800'000'000 * k_sec;
    auto st = bare_entry(42, ctime);
    // Read 0.5 s after its ctime: a change in the same clock tick could keep that ctime.
    c.remember_bare(st, ctime + k_sec / 2);
    CHECK_FALSE(c.known_bare(st));
    // Exactly k_settle old is enough.
    c.remember_bare(st, ctime + std::chrono::nanoseconds(BareCache::k_settle).count());
    CHECK(c.known_bare(st));
}

TEST_CASE("BareCache: bounded, it starts over past k_max entries") {
    BareCache c;
    const std::int64_t ctime = 1'800'000'000 * k_sec;
    for (std::size_t i = 0; i < BareCache::k_max; ++i)
        c.remember_bare(bare_entry(static_cast<ino_t>(i + 1), ctime), ctime + 2 * k_sec);
    CHECK(c.known_bare(bare_entry(1, ctime)));
    c.remember_bare(bare_entry(static_cast<ino_t>(BareCache::k_max + 1), ctime), ctime + 2 * k_sec);
    CHECK_FALSE(c.known_bare(bare_entry(1, ctime)));
    CHECK(c.known_bare(bare_entry(static_cast<ino_t>(BareCache::k_max + 1), ctime)));
}

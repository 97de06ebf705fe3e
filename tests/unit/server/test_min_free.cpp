// The free-space reserve (de-server --min-free, fs.hpp): parsing the flag, the
// reserve's arithmetic, and MountStore admitting writes only above it while
// reporting what uploads in flight reserve (MountStatus.reserved_bytes).
#include "apps.hpp"
#include "fs.hpp"
#include "mount.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace de::server;

namespace {

namespace fs = std::filesystem;
using de::test::TempDir;
constexpr std::uint64_t GiB = 1ull << 30;
constexpr std::uint64_t MiB = 1ull << 20;

}  // namespace

TEST_CASE("--min-free takes a size or a percentage") {
    auto b = parse_min_free("2GiB");
    REQUIRE(b);
    CHECK(b->bytes == 2 * GiB);
    CHECK(!b->percent);
    auto z = parse_min_free("0");
    REQUIRE(z);
    CHECK(z->bytes == 0u);
    auto p = parse_min_free("12.5%");
    REQUIRE(p);
    CHECK(p->percent == doctest::Approx(12.5));
    CHECK(!p->bytes);
    CHECK(parse_min_free("100%"));
    CHECK(!parse_min_free("101%"));
    CHECK(!parse_min_free("-1%"));
    CHECK(!parse_min_free("%"));
    CHECK(!parse_min_free("x%"));
    CHECK(!parse_min_free("lots"));
    CHECK(parse_min_free("101%").error().kind == de::ErrorKind::usage);
}

TEST_CASE("the reserve: bytes, a share, or min(1 GiB, 5 %) by default") {
    MinFree def;
    CHECK(min_free_bytes(def, 100 * GiB) == GiB);       // 5 % would be 5 GiB
    CHECK(min_free_bytes(def, 10 * GiB) == 512 * MiB);  // 5 % of 10 GiB
    CHECK(min_free_bytes(def, 32 * MiB) == (32 * MiB * 5 + 99) / 100);
    CHECK(min_free_bytes(def, 0) == 0u);
    MinFree bytes{123u, std::nullopt};
    CHECK(min_free_bytes(bytes, 10) == 123u);  // a size is a size, whatever the disk
    MinFree share{std::nullopt, 10.0};
    CHECK(min_free_bytes(share, 1000) == 100u);
    CHECK(min_free_bytes(share, 1001) == 101u);  // rounded up: the reserve is never short
    MinFree all{std::nullopt, 100.0};
    CHECK(min_free_bytes(all, 4096) == 4096u);
}

TEST_CASE("writable bytes: free space less pending writes less the reserve, never below 0") {
    DiskSpace d{1000, 600};
    CHECK(writable_bytes(d, 0, 100) == 500u);
    CHECK(writable_bytes(d, 200, 100) == 300u);
    CHECK(writable_bytes(d, 500, 100) == 0u);
    CHECK(writable_bytes(d, 600, 100) == 0u);  // would be negative
    CHECK(writable_bytes(d, 0, 0) == 600u);
    CHECK(writable_bytes(d, 0, 700) == 0u);
}

TEST_CASE("MountStore admits writes above the reserve only, and reports reservations") {
    TempDir root("de-minfree");
    AppStore apps(root.path);
    REQUIRE(apps.prepare());
    REQUIRE(apps.create("a", "alice"));
    auto disk = disk_space(root.path);
    REQUIRE(disk);
    REQUIRE(disk->avail > 4 * MiB);
    // The mount's usage is counted from a folder: any will do here.
    int mfd = ::open(root.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(mfd >= 0);
    UniqueFd mount_fd(mfd);

    SUBCASE("a mount that cannot be counted admits nothing (issue 18 F1)") {
        MountStore store(apps, 1ull << 50);
        auto r = store.reserve("a", -1, 1);
        REQUIRE(!r);
        CHECK(r.error().message.find("cannot count") != std::string::npos);
        CHECK(store.reserved("a") == 0u);
    }

    SUBCASE("a reserve of 100 % refuses any byte, with 507 quota_exceeded naming the disk") {
        MountStore store(apps, 1ull << 50, MinFree{std::nullopt, 100.0});
        auto r = store.reserve("a", mfd, 1);
        REQUIRE(!r);
        CHECK(r.error().kind == de::api::WireError::quota_exceeded);
        CHECK(r.error().message.find("free space") != std::string::npos);
        CHECK(store.reserved("a") == 0u);
        CHECK(store.reserve("a", mfd, 0));  // nothing needed, nothing refused
    }
    SUBCASE("streamed reservations count against the disk until they end") {
        // A reserve that leaves exactly 4 MiB writable now (the disk may move a
        // little under other tests: keep the margins wide).
        std::uint64_t keep = disk->avail - 4 * MiB;
        MountStore store(apps, 1ull << 50, MinFree{keep, std::nullopt});
        auto first = store.reserve("a", mfd, 3 * MiB);
        REQUIRE(first);
        CHECK(store.reserved("a") == 3 * MiB);
        auto second = store.reserve("a", mfd, 3 * MiB);  // 3 + 3 > 4: refused
        CHECK(!second);
        {
            // Preallocated (tus) bytes are on the disk already: not counted again.
            auto pre = store.reserve("a", mfd, 512 * 1024, false);
            CHECK(pre);
            CHECK(store.reserved("a") == 3 * MiB + 512 * 1024);
        }
        CHECK(store.reserved("a") == 3 * MiB);
        auto grow = first->grow(2 * MiB);  // 5 > 4: refused
        CHECK(!grow);
        first->commit(0);
        CHECK(store.reserved("a") == 0u);
        CHECK(store.reserve("a", mfd, 3 * MiB));  // room again once the first ended
    }
}

// The local hash cache (de/hash_cache.hpp): keyed by the file's identity,
// private, atomic, bounded, robust to a corrupt file and to two processes
// saving at once.

#include <de/hash_cache.hpp>
#include <de/sha256.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace de;
namespace fs = std::filesystem;
using de::test::read_file;
using de::test::TempDir;
using de::test::write_file;

namespace {

std::size_t lines(const fs::path& p) {
    auto text = read_file(p);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("a cached hash is served without reading; a changed ctime reads again") {
    TempDir t;
    write_file(t.path / "f", "hello");
    {
        auto cache = HashCache::open(t.path / "c");
        auto sha = cache.sha256_of(t.path / "f");
        REQUIRE(sha);
        CHECK(*sha == sha256_hex("hello"));
        CHECK(cache.stats().misses == 1);
        CHECK(cache.stats().bytes_read == 5);
        REQUIRE(cache.save());
    }
    struct stat st {};
    REQUIRE(::stat((t.path / "c" / "hashes").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((t.path / "c").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    // A new process (a new open) serves it from the file: no byte read.
    auto cache = HashCache::open(t.path / "c");
    auto again = cache.sha256_of(t.path / "f");
    REQUIRE(again);
    CHECK(*again == sha256_hex("hello"));
    CHECK(cache.stats().hits == 1);
    CHECK(cache.stats().bytes_read == 0);

    // Rewritten with the same size and the old mtime restored: the ctime differs.
    ::stat((t.path / "f").c_str(), &st);
    write_file(t.path / "f", "HELLO");
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, (t.path / "f").c_str(), ts, 0);
    auto changed = cache.sha256_of(t.path / "f");
    REQUIRE(changed);
    CHECK(*changed == sha256_hex("HELLO"));
    CHECK(cache.stats().misses == 1);
}

TEST_CASE("a corrupt or foreign cache file is ignored, bad lines one by one") {
    TempDir t;
    write_file(t.path / "f", "x");
    auto id = file_identity(t.path / "f");
    REQUIRE(id);
    write_file(t.path / "c" / "hashes", "garbage\n\x01\x02 not a cache");
    CHECK_FALSE(HashCache::open(t.path / "c").lookup(*id));

    const std::string good = std::string(64, 'a');
    write_file(t.path / "c" / "hashes",
               fmt::format("de-cli-hashes 1\n1 2 3\nzz {} {} {} {} {} 5\n{} {} {} {} {} {} 7\n",
                           id->ino, id->size, id->mtime_ns, id->ctime_ns, good, id->dev, id->ino,
                           id->size, id->mtime_ns, id->ctime_ns, good));
    auto cache = HashCache::open(t.path / "c");
    auto hit = cache.lookup(*id);
    REQUIRE(hit);
    CHECK(*hit == good);
    // A truncated line (a torn write) is skipped as well.
    auto text = read_file(t.path / "c" / "hashes");
    write_file(t.path / "c" / "hashes", text.substr(0, text.size() - 3));
    CHECK_FALSE(HashCache::open(t.path / "c").lookup(*id));
}

TEST_CASE("the cache keeps the most recently used records up to its bound") {
    TempDir t;
    auto cache = HashCache::open(t.path / "c", 10);
    for (std::uint64_t i = 0; i < 25; ++i)
        cache.store(FileIdentity{1, i, 10, 0, 0}, sha256_hex(std::to_string(i)));
    REQUIRE(cache.save());
    CHECK(lines(t.path / "c" / "hashes") == 11);  // header + 10
    // No temporary file is left beside it.
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(t.path / "c"))
        files += e.path().filename().string().ends_with(".tmp");
    CHECK(files == 0);
}

TEST_CASE("two processes saving at once lose nothing") {
    TempDir t;
    auto child_work = [&](std::uint64_t base) {
        auto cache = HashCache::open(t.path / "c");
        for (std::uint64_t i = 0; i < 200; ++i)
            cache.store(FileIdentity{7, base + i, 1, 0, 0}, sha256_hex(std::to_string(base + i)));
        return cache.save() ? 0 : 1;
    };
    pid_t pids[4];
    for (int k = 0; k < 4; ++k) {
        pids[k] = ::fork();
        REQUIRE(pids[k] >= 0);
        if (pids[k] == 0) ::_exit(child_work(static_cast<std::uint64_t>(k) * 1000));
    }
    for (pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    auto cache = HashCache::open(t.path / "c");
    for (std::uint64_t k = 0; k < 4; ++k)
        for (std::uint64_t i : {std::uint64_t{0}, std::uint64_t{199}}) {
            auto hit = cache.lookup(FileIdentity{7, k * 1000 + i, 1, 0, 0});
            REQUIRE(hit);
            CHECK(*hit == sha256_hex(std::to_string(k * 1000 + i)));
        }
    CHECK(lines(t.path / "c" / "hashes") == 801);
}

TEST_CASE("a disabled cache remembers nothing but still hashes") {
    TempDir t;
    write_file(t.path / "f", "abc");
    HashCache none;
    CHECK_FALSE(none.enabled());
    auto sha = none.sha256_of(t.path / "f");
    REQUIRE(sha);
    CHECK(*sha == sha256_hex("abc"));
    CHECK(none.save());
}

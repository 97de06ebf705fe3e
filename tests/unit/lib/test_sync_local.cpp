// The local side of sync: the lstat walk (order, symlink policy) and the hash
// cache that lets a --checksum no-op re-read nothing.

#include <de/sha256.hpp>
#include <de/sync.hpp>

#include <doctest/doctest.h>
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace de;
namespace fs = std::filesystem;
using de::test::TempDir;
using de::test::write_file;

TEST_CASE("scan_local lists in depth-first order and skips symlinks by default") {
    TempDir t;
    fs::path root = t.path / "mount";
    write_file(root / "a-b", "1");
    write_file(root / "a" / "b", "22");
    write_file(root / "B", "333");
    fs::create_directories(root / "empty");
    fs::create_symlink("a/b", root / "link");
    fs::create_directory_symlink("a", root / "dirlink");

    SyncOptions o;
    auto scan = scan_local(root, false, o);
    REQUIRE(scan);
    CHECK(scan->exists);
    std::vector<std::string> paths;
    for (const auto& e : scan->entries)
        paths.push_back(e.path);
    CHECK(paths == std::vector<std::string>{"B", "a", "a/b", "a-b", "empty"});
    CHECK(scan->symlinks_skipped == 2);
    CHECK(scan->warnings.size() == 2);
    CHECK(scan->entries[2].size == 2);

    o.follow_symlinks = true;
    auto followed = scan_local(root, false, o);
    REQUIRE(followed);
    paths.clear();
    for (const auto& e : followed->entries)
        paths.push_back(e.path);
    CHECK(paths == std::vector<std::string>{"B", "a", "a/b", "a-b", "dirlink", "dirlink/b", "empty",
                                            "link"});
    CHECK(followed->symlinks_followed == 2);
}

TEST_CASE("scan_local: a missing folder is reported, not an error; a file is an error") {
    TempDir t;
    auto scan = scan_local(t.path / "nope", false, SyncOptions{});
    REQUIRE(scan);
    CHECK_FALSE(scan->exists);
    write_file(t.path / "f", "x");
    CHECK_FALSE(scan_local(t.path / "f", false, SyncOptions{}));
}

TEST_CASE("scan_local: a symlink loop is skipped when following") {
    TempDir t;
    fs::path root = t.path / "m";
    write_file(root / "d" / "f", "x");
    fs::create_directory_symlink("..", root / "d" / "up");
    SyncOptions o;
    o.follow_symlinks = true;
    auto scan = scan_local(root, false, o);
    REQUIRE(scan);
    CHECK(scan->entries.size() == 2);  // d, d/f
}

TEST_CASE("the local hash cache avoids re-reading unchanged files") {
    TempDir t;
    fs::path root = t.path / "m";
    write_file(root / "x", "hello");
    write_file(root / "y", "world");
    SyncOptions o;
    o.hash_cache_dir = t.path / "cache";
    auto first = scan_local(root, true, o);
    REQUIRE(first);
    REQUIRE(first->entries[0].sha256);
    CHECK(*first->entries[0].sha256 == sha256_hex("hello"));

    // Doctor the cache: if the second scan reports the doctored hash, it did
    // not read the file.
    fs::path cache_file = o.hash_cache_dir / "hashes";
    REQUIRE(fs::exists(cache_file));
    std::string text;
    {
        std::ifstream in(cache_file);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto pos = text.find(sha256_hex("hello"));
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 64, std::string(64, 'f'));
    std::ofstream(cache_file, std::ios::trunc) << text;
    auto second = scan_local(root, true, o);
    REQUIRE(second);
    CHECK(*second->entries[0].sha256 == std::string(64, 'f'));
    CHECK(*second->entries[1].sha256 == sha256_hex("world"));

    // A rewrite is hashed again, even one that restores the old mtime (ctime changes).
    struct stat before {};
    ::stat((root / "y").c_str(), &before);
    write_file(root / "y", "WORLD");
    struct timespec ts[2] = {before.st_atim, before.st_mtim};
    ::utimensat(AT_FDCWD, (root / "y").c_str(), ts, 0);
    auto third = scan_local(root, true, o);
    REQUIRE(third);
    CHECK(*third->entries[1].sha256 == sha256_hex("WORLD"));
}

// FolderScan and stat_member: every regular file and folder of one folder
// exactly once (in whatever order the directory gives), nothing else, and
// only one level.
// FolderPages (PROPFIND Depth 1): the same members, a page of names at a time,
// filled in by two threads at once, with what the inode cache knows.
#include "apps.hpp"
#include "mount.hpp"
#include "walk.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

using de::server::AppStore;
using de::server::FolderPages;
using de::server::FolderScan;
using de::server::MountStore;
using de::server::UniqueFd;

TEST_CASE("FolderScan: files and folders once, no links or special files, one level") {
    de::test::TempDir dir("de-folder-scan");
    auto base = dir.path / "d";
    std::filesystem::create_directories(base / "sub" / "deeper");
    std::set<std::string> want;
    for (int i = 0; i < 3000; ++i) {  // more than one getdents64 buffer of names
        std::string name = "file-" + std::to_string(i) + ".parquet";
        de::test::write_file(base / name, "x");
        want.insert("d/" + name);
    }
    want.insert("d/sub");
    de::test::write_file(base / "sub" / "inner.txt", "not listed: one level only");
    std::filesystem::create_symlink("/etc/passwd", base / "link");
    de::test::write_file(base / "shared", "two names");
    std::filesystem::create_hard_link(base / "shared", base / "shared-too");
    REQUIRE(::mkfifo((base / "fifo").c_str(), 0600) == 0);

    int fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    FolderScan scan(UniqueFd(fd), "d");
    std::set<std::string> got;
    std::size_t n = 0;
    while (true) {
        auto name = scan.next_name();
        REQUIRE(name.has_value());
        if (!*name) break;
        de::server::SortedWalk::Item item;
        item.name = **name;
        auto listed = de::server::stat_member(scan.fd(), scan.path(), item);
        REQUIRE(listed.has_value());
        if (!*listed) continue;
        ++n;
        got.insert(item.path);
        CHECK(item.path == "d/" + item.name);
        if (S_ISREG(item.st.st_mode)) CHECK(item.dir_fd == scan.fd());
        if (S_ISDIR(item.st.st_mode)) CHECK(item.dir_fd == -1);
    }
    CHECK(n == want.size());  // none twice
    CHECK(got == want);
}

namespace {

// Every member FolderPages lists in `base` (opened as "d"), pages of `page`
// names, each page's two halves filled by two threads at once; `before_fill`
// runs between reading a page's names and filling it. Returns path -> member.
std::map<std::string, FolderPages::Member> list_in_pages(
    MountStore& store, const std::filesystem::path& base, std::size_t page, std::size_t* pages,
    std::size_t* names,
    const std::function<void(const std::vector<FolderPages::Member>&)>& before_fill = {}) {
    int fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    FolderPages lister(store, FolderScan(UniqueFd(fd), "d"), true);
    std::map<std::string, FolderPages::Member> got;
    std::vector<FolderPages::Member> members;
    *pages = 0;
    *names = 0;
    while (true) {
        REQUIRE(lister.next_names(members, page).has_value());
        if (members.empty()) break;
        CHECK(members.size() <= page);
        ++*pages;
        *names += members.size();
        if (before_fill) before_fill(members);
        std::size_t half = members.size() / 2;
        std::span<FolderPages::Member> all(members);
        bool ok_a = false, ok_b = false;
        std::thread a([&] { ok_a = lister.fill(all.subspan(0, half)).has_value(); });
        std::thread b([&] { ok_b = lister.fill(all.subspan(half)).has_value(); });
        a.join();
        b.join();
        REQUIRE(ok_a);
        REQUIRE(ok_b);
        for (auto& m : members) {
            if (!m.entry) continue;
            auto path = m.entry->path;
            CHECK(got.count(path) == 0);  // none twice
            got.emplace(path, std::move(m));
        }
    }
    return got;
}

}  // namespace

TEST_CASE("FolderPages: a folder's members in pages, filled by two threads, as FolderScan") {
    de::test::TempDir dir("de-folder-pages");
    AppStore apps(dir.path / "root");
    MountStore store(apps, 1ull << 40);
    auto base = dir.path / "d";
    std::filesystem::create_directories(base / "sub");
    std::set<std::string> want;
    for (int i = 0; i < 1300; ++i) {  // pages of 512: two full and a partial one
        std::string name = "file-" + std::to_string(i) + ".parquet";
        de::test::write_file(base / name, "x");
        want.insert("d/" + name);
    }
    want.insert("d/sub");
    std::filesystem::create_symlink("/etc/passwd", base / "link");
    de::test::write_file(base / "shared", "two names");
    std::filesystem::create_hard_link(base / "shared", base / "shared-too");
    REQUIRE(::mkfifo((base / "fifo").c_str(), 0600) == 0);
    const std::string sha_x = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

    std::size_t pages = 0, names = 0;
    auto got = list_in_pages(store, base, 512, &pages, &names);
    std::set<std::string> paths;
    for (const auto& [path, m] : got)
        paths.insert(path);
    CHECK(paths == want);
    // The link and the fifo are ruled out by their dirent; the two names of
    // one inode are read and stat'ed, then not listed.
    CHECK(names == want.size() + 2);
    CHECK(pages == 3);
    for (const auto& [path, m] : got) {
        CHECK(m.item.name == path.substr(2));
        if (path == "d/sub") {
            CHECK(m.entry->type == de::EntryType::dir);
            CHECK(!m.entry->sha256);
        } else {
            CHECK(m.entry->size == 1);
            REQUIRE(m.entry->sha256);  // hashed, asked for
            CHECK(*m.entry->sha256 == sha_x);
        }
        CHECK(!m.bare);
    }

    // What the inode cache knows shows: one member marked bare (read well
    // after its ctime settled) is bare in the next listing, and its SHA-256
    // comes from the cache.
    const auto& marked = got.at("d/file-700.parquet");
    store.inodes().remember_bare(marked.item.st,
                                 (marked.item.st.st_ctim.tv_sec + 5) * 1'000'000'000ll);
    // A member removed after its name was read and before it is filled is
    // not listed, and not an error.
    std::string removed;
    auto again = list_in_pages(store, base, 512, &pages, &names, [&](const auto& members) {
        for (const auto& m : members)
            if (removed.empty() && m.item.name.starts_with("file-") &&
                m.item.name != "file-700.parquet" && m.item.name != "file-701.parquet") {
                removed = m.item.name;
                REQUIRE(std::filesystem::remove(base / removed));
            }
    });
    REQUIRE(!removed.empty());
    CHECK(again.count("d/" + removed) == 0);
    CHECK(again.size() == want.size() - 1);
    CHECK(again.at("d/file-700.parquet").bare);
    CHECK(!again.at("d/file-701.parquet").bare);
}

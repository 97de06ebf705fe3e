// FolderScan: every regular file and folder of one folder exactly once (in
// whatever order the directory gives), nothing else, and only one level.
#include "walk.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

using de::server::FolderScan;
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
        auto item = scan.next();
        REQUIRE(item.has_value());
        if (!*item) break;
        ++n;
        got.insert((*item)->path);
        CHECK((*item)->path == "d/" + (*item)->name);
        if (S_ISREG((*item)->st.st_mode)) CHECK((*item)->dir_fd >= 0);
        if (S_ISDIR((*item)->st.st_mode)) CHECK((*item)->dir_fd == -1);
    }
    CHECK(n == want.size());  // none twice
    CHECK(got == want);
}

// AppStore: turning a mount off must never answer success while the files
// stay (regression: set_persistent ignored the error of Reaper::discard, saved
// the app as disabled and reported every file deleted).
#include "apps.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct TempRoot {
    fs::path path;
    explicit TempRoot(const char* tag) {
        const char* tmp = std::getenv("TMPDIR");
        path = fs::path(tmp && *tmp ? tmp : "/tmp") /
               (std::string("de-apps-") + tag + "-" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempRoot() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("disabling a mount whose files cannot be moved to the trash fails and keeps them") {
    TempRoot root("trash-gone");
    de::server::AppStore apps(root.path);
    REQUIRE(apps.prepare());
    REQUIRE(apps.create("keep", "alice"));
    bool changed = false;
    REQUIRE(apps.set_persistent("keep", "alice", true, changed));
    fs::path file = apps.mount_dir("keep") / "data.csv";
    std::ofstream(file) << "a,b\n1,2\n";
    REQUIRE(fs::exists(file));

    // The reaper holds the trash folder open; removed, it takes no more renames
    // (ENOENT), whoever runs the test (root ignores permission bits).
    REQUIRE(fs::remove(root.path / "trash"));

    auto off = apps.set_persistent("keep", "alice", false, changed);
    CHECK_FALSE(off);
    CHECK(fs::exists(file));
    auto app = apps.get("keep", "alice");
    REQUIRE(app);
    CHECK(app->persistent_filesystem);
}

TEST_CASE("disabling a mount moves its files out and saves the app as disabled") {
    TempRoot root("disable");
    de::server::AppStore apps(root.path);
    REQUIRE(apps.prepare());
    REQUIRE(apps.create("gone", "alice"));
    bool changed = false;
    REQUIRE(apps.set_persistent("gone", "alice", true, changed));
    std::ofstream(apps.mount_dir("gone") / "x.txt") << "x";

    std::string hooked;
    apps.set_mount_gone_hook([&](const std::string& app) { hooked = app; });
    auto off = apps.set_persistent("gone", "alice", false, changed);
    REQUIRE(off);
    CHECK(changed);
    CHECK_FALSE(off->persistent_filesystem);
    CHECK_FALSE(fs::exists(apps.mount_dir("gone") / "x.txt"));
    CHECK(hooked == "gone");
    auto app = apps.get("gone", "alice");
    REQUIRE(app);
    CHECK_FALSE(app->persistent_filesystem);
}

TEST_CASE("deleting an app whose folder cannot be moved to the trash fails and keeps it") {
    TempRoot root("delete");
    de::server::AppStore apps(root.path);
    REQUIRE(apps.prepare());
    REQUIRE(apps.create("stay", "alice"));
    REQUIRE(fs::remove(root.path / "trash"));
    CHECK_FALSE(apps.remove("stay", "alice"));
    CHECK(apps.get("stay", "alice"));
}

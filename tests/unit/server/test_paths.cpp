// Path resolution: the lexical rules (normalize_remote_path, percent-decoding once) and
// the kernel-enforced ones (open_beneath with RESOLVE_BENEATH) against a real temporary
// folder with symlinks that point outside.
#include "fs.hpp"
#include "http_parse.hpp"

#include <de/remote_path.hpp>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using de::api::WireError;
using de::server::open_beneath;
using de::server::open_beneath_raw;
using de::server::UniqueFd;

namespace {
struct TempTree {
    fs::path base;
    TempTree() {
        char tmpl[] = "/tmp/de-paths.XXXXXX";
        base = ::mkdtemp(tmpl);
        fs::create_directories(base / "mount/data/sub");
        fs::create_directories(base / "outside");
        std::ofstream(base / "mount/data/a.txt") << "a";
        std::ofstream(base / "outside/secret") << "s";
        fs::create_symlink(base / "outside", base / "mount/abs_link");
        fs::create_symlink("../outside/secret", base / "mount/rel_link");
        fs::create_symlink("data/a.txt", base / "mount/inside_link");
        fs::create_symlink("../../../outside", base / "mount/data/sub/deep_link");
        fs::create_symlink("/proc/self/root/etc/passwd", base / "mount/magic");
    }
    ~TempTree() { fs::remove_all(base); }
    UniqueFd mount() const {
        return UniqueFd(::open((base / "mount").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
};
}  // namespace

TEST_CASE("normalize_remote_path keeps paths lexically inside the mount") {
    CHECK(de::normalize_remote_path("a/b/c").value() == "a/b/c");
    CHECK(de::normalize_remote_path("/a//b/./c/").value() == "a/b/c");
    CHECK(de::normalize_remote_path("").value().empty());
    CHECK(de::normalize_remote_path("/").value().empty());
    CHECK_FALSE(de::normalize_remote_path("..").has_value());
    CHECK_FALSE(de::normalize_remote_path("a/../../b").has_value());
    CHECK_FALSE(de::normalize_remote_path(std::string("a\0b", 3)).has_value());
    CHECK_FALSE(de::normalize_remote_path("a\nb").has_value());
    CHECK_FALSE(de::normalize_remote_path("a\x7f").has_value());
    CHECK_FALSE(de::normalize_remote_path(std::string(256, 'x')).has_value());
    CHECK(de::normalize_remote_path(std::string(255, 'x')).has_value());
    CHECK_FALSE(de::normalize_remote_path(std::string(4097, 'x')).has_value());
    CHECK(de::normalize_remote_path("...").value() == "...");  // a legal name
}

TEST_CASE("percent-decoding happens once, so encoded dots are still caught") {
    using de::server::percent_decode;
    CHECK(percent_decode("a%20b").value() == "a b");
    CHECK(percent_decode("%2e%2e").value() == "..");
    CHECK_FALSE(de::normalize_remote_path(percent_decode("%2e%2e%2fx").value()).has_value());
    CHECK(percent_decode("%252e").value() == "%2e");  // not decoded twice
    CHECK(percent_decode("a%00").value() == std::string("a\0", 2));
    CHECK_FALSE(de::normalize_remote_path(percent_decode("a%00").value()).has_value());
    CHECK_FALSE(percent_decode("%").has_value());
    CHECK_FALSE(percent_decode("%2").has_value());
    CHECK_FALSE(percent_decode("%zz").has_value());
    CHECK(percent_decode("%C3%A9").value() == "\xC3\xA9");
}

TEST_CASE("open_beneath resolves inside the mount and refuses escaping symlinks") {
    TempTree t;
    auto m = t.mount();
    REQUIRE(m);
    CHECK(open_beneath(m.get(), "data/a.txt", O_RDONLY).has_value());
    CHECK(open_beneath(m.get(), "", O_RDONLY | O_DIRECTORY).has_value());
    CHECK(open_beneath(m.get(), "inside_link", O_RDONLY).has_value());

    for (const char* p : {"abs_link/secret", "abs_link", "rel_link", "data/sub/deep_link/secret"}) {
        CAPTURE(p);
        auto r = open_beneath(m.get(), p, O_RDONLY);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().kind == WireError::forbidden);
    }
    auto magic = open_beneath(m.get(), "magic", O_RDONLY);
    REQUIRE_FALSE(magic.has_value());
    CHECK(magic.error().kind == WireError::forbidden);

    // '..' never reaches here (normalize refuses it), and the kernel refuses it too.
    CHECK(open_beneath_raw(m.get(), "../outside/secret", O_RDONLY) == -EXDEV);
    CHECK(open_beneath_raw(m.get(), "/etc/passwd", O_RDONLY) == -EXDEV);

    auto missing = open_beneath(m.get(), "data/none", O_RDONLY);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().kind == WireError::not_found);
    auto below_file = open_beneath(m.get(), "data/a.txt/x", O_RDONLY);
    REQUIRE_FALSE(below_file.has_value());
    CHECK(below_file.error().kind == WireError::conflict);
}

TEST_CASE("make_dirs_beneath creates folders but not through an escaping symlink") {
    TempTree t;
    auto m = t.mount();
    CHECK(de::server::make_dirs_beneath(m.get(), "new/deep/dir").has_value());
    CHECK(fs::is_directory(t.base / "mount/new/deep/dir"));
    auto r = de::server::make_dirs_beneath(m.get(), "abs_link/made");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == WireError::forbidden);
    CHECK_FALSE(fs::exists(t.base / "outside/made"));
    auto f = de::server::make_dirs_beneath(m.get(), "data/a.txt/sub");
    REQUIRE_FALSE(f.has_value());
    CHECK(f.error().kind == WireError::conflict);
}

TEST_CASE("remove_tree does not follow symlinks out of the tree") {
    TempTree t;
    int fd = ::open(t.base.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
    CHECK(de::server::remove_tree(fd, "mount") == 0);
    ::close(fd);
    CHECK_FALSE(fs::exists(t.base / "mount"));
    CHECK(fs::exists(t.base / "outside/secret"));
}

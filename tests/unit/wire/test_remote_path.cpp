// normalize_remote_path and friends: the lexical rules both ends apply before
// a path names anything in a mount, including hostile inputs.
#include <de/remote_path.hpp>

#include <doctest/doctest.h>

#include <string>

using de::normalize_remote_path;

namespace {
std::string norm(std::string_view p) {
    return normalize_remote_path(p).value();
}
bool refused(std::string_view p) {
    auto r = normalize_remote_path(p);
    return !r && r.error().kind == de::ErrorKind::usage;
}
}  // namespace

TEST_CASE("normal form: no leading, trailing, empty or dot components") {
    CHECK(norm("") == "");
    CHECK(norm("/") == "");
    CHECK(norm(".") == "");
    CHECK(norm("./") == "");
    CHECK(norm("//././/") == "");
    CHECK(norm("a") == "a");
    CHECK(norm("/a") == "a");
    CHECK(norm("a/") == "a");
    CHECK(norm("a//b") == "a/b");
    CHECK(norm("./a/./b/.") == "a/b");
    CHECK(norm("/data/sales.parquet") == "data/sales.parquet");
    CHECK(norm("a/.../b") == "a/.../b");  // '...' is an ordinary name
    CHECK(norm("..a/b..") == "..a/b..");
    CHECK(norm(".hidden/x") == ".hidden/x");
}

TEST_CASE("names keep spaces, unicode and URL-special characters") {
    CHECK(norm("my file.txt") == "my file.txt");
    CHECK(norm("dir with spaces/ f ") == "dir with spaces/ f ");
    CHECK(norm("caf\xc3\xa9/\xe2\x82\xac.csv") == "caf\xc3\xa9/\xe2\x82\xac.csv");
    CHECK(norm("a?b#c%20d&e=f+g") == "a?b#c%20d&e=f+g");
    CHECK(norm("back\\slash") == "back\\slash");
}

TEST_CASE("refuses '..' anywhere, as a whole component") {
    CHECK(refused(".."));
    CHECK(refused("../etc/passwd"));
    CHECK(refused("/../x"));
    CHECK(refused("a/../../b"));
    CHECK(refused("a/.."));
    CHECK(refused("a/b/../c"));
    CHECK(refused("./.."));
    CHECK(refused("a//..//b"));
}

TEST_CASE("refuses NUL and control characters") {
    CHECK(refused(std::string("a\0b", 3)));
    CHECK(refused(std::string("\0", 1)));
    CHECK(refused("a\nb"));
    CHECK(refused("a\rb"));
    CHECK(refused("tab\there"));
    CHECK(refused("\x1b[31mred"));
    CHECK(refused("del\x7f"));
    CHECK(refused("\x01"));
    CHECK(refused("a/\x1f/b"));
    // 0x80 and up are not control characters here (UTF-8 bytes).
    CHECK(normalize_remote_path("\x80\xff").has_value());
}

TEST_CASE("length limits: 255 bytes a name, 4096 a path") {
    std::string name255(255, 'n');
    std::string name256(256, 'n');
    CHECK(norm(name255) == name255);
    CHECK(refused(name256));
    CHECK(refused("ok/" + name256 + "/ok"));

    std::string path;  // exactly 4096 bytes
    while (path.size() + 101 <= 4096)
        path += std::string(100, 'p') + "/";
    path += std::string(4096 - path.size(), 'q');
    REQUIRE(path.size() == 4096);
    CHECK(norm(path).size() <= 4096);
    CHECK(refused(path + "x"));
    CHECK(refused(std::string(5000, '/')));  // over the limit even when it would normalise to ""
}

TEST_CASE("error messages say what is wrong and stay short for huge input") {
    auto r = normalize_remote_path("a/../b");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("a/../b") != std::string::npos);
    CHECK(r.error().message.find("..") != std::string::npos);
    auto big = normalize_remote_path(std::string(10000, 'x'));
    REQUIRE_FALSE(big);
    CHECK(big.error().message.size() < 400);
}

TEST_CASE("parent_path, base_name, join_path") {
    CHECK(de::parent_path("a/b/c") == "a/b");
    CHECK(de::parent_path("c") == "");
    CHECK(de::parent_path("") == "");
    CHECK(de::base_name("a/b/c") == "c");
    CHECK(de::base_name("c") == "c");
    CHECK(de::base_name("") == "");
    CHECK(de::join_path("", "") == "");
    CHECK(de::join_path("a", "") == "a");
    CHECK(de::join_path("", "b") == "b");
    CHECK(de::join_path("a/b", "c/d") == "a/b/c/d");
}

TEST_CASE("remote path arguments are refused when they would leave the mount") {
    CHECK(de::normalize_remote_arg("/data/./a.csv", "sales").value() == "data/a.csv");
    CHECK(de::normalize_remote_arg("/", "sales").value().empty());
    auto bad = de::normalize_remote_arg("../etc/passwd", "sales");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == de::ErrorKind::usage);
    CHECK(bad.error().message.find("sales") != std::string::npos);
    CHECK_FALSE(de::normalize_remote_arg(std::string("a\nb"), "sales"));
}

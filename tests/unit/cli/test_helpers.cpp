// Argument parsing shared by the file commands (remote path arguments:
// tests/unit/wire/test_remote_path.cpp).
#include "helpers.hpp"

#include <doctest/doctest.h>

TEST_CASE("--range parses inclusive ranges with size units") {
    auto r = de::cli::parse_range("0-1023");
    REQUIRE(r);
    CHECK(r->first == 0);
    CHECK(r->last == 1023);
    auto open = de::cli::parse_range("1MiB-");
    REQUIRE(open);
    CHECK(open->first == 1048576);
    CHECK_FALSE(open->last.has_value());
    CHECK_FALSE(de::cli::parse_range("10-5"));
    // -N: the last N bytes (issue 14 item 11: `cat --range -10`).
    auto suffix = de::cli::parse_range("-5");
    REQUIRE(suffix);
    REQUIRE(suffix->suffix);
    CHECK(*suffix->suffix == 5);
    CHECK(de::cli::parse_range("-1KiB")->suffix == 1024u);
    CHECK_FALSE(de::cli::parse_range("-0"));
    CHECK_FALSE(de::cli::parse_range("-"));
    CHECK_FALSE(de::cli::parse_range("abc"));
    CHECK(de::cli::parse_range("x-y").error().kind == de::ErrorKind::usage);
}

TEST_CASE("mount url: the WebDAV address is the host, /dav/, the app as one segment, /") {
    using de::cli::webdav_url;
    CHECK(webdav_url("http://127.0.0.1:8050", "sales") == "http://127.0.0.1:8050/dav/sales/");
    // A path prefix is kept; a trailing '/' is not doubled.
    CHECK(webdav_url("https://de.example.com/base", "a-1") ==
          "https://de.example.com/base/dav/a-1/");
    CHECK(webdav_url("https://de.example.com/", "x") == "https://de.example.com/dav/x/");
    // Anything but an unreserved character is percent-encoded, '/' too.
    CHECK(webdav_url("http://h", "a b/c%") == "http://h/dav/a%20b%2Fc%25/");
    CHECK(webdav_url("http://h", "\xc3\xa9~_.") == "http://h/dav/%C3%A9~_./");
}

TEST_CASE("mount url: the instructions name every client, the user, and never a key") {
    de::cli::WebdavGuide guide{"sales", "http://127.0.0.1:8050/dav/sales/", "alice",
                               "the API key in $DASH_ENTERPRISE_PASSWORD"};
    std::string text = de::cli::webdav_instructions(guide);
    CHECK(text.find("mount -t davfs http://127.0.0.1:8050/dav/sales/ /mnt/sales") !=
          std::string::npos);
    CHECK(text.find("/etc/davfs2/secrets") != std::string::npos);
    CHECK(text.find("rclone config create sales webdav url=http://127.0.0.1:8050/dav/sales/ "
                    "vendor=other user=alice pass=\"$(rclone obscure \"$KEY\")\"") !=
          std::string::npos);
    CHECK(text.find("--webdav-url http://127.0.0.1:8050/dav/sales/") != std::string::npos);
    CHECK(text.find("Connect to Server") != std::string::npos);
    CHECK(text.find("net use Z: http://127.0.0.1:8050/dav/sales/ /user:alice *") !=
          std::string::npos);
    CHECK(text.find("Log in as alice; the password is the API key in $DASH_ENTERPRISE_PASSWORD") !=
          std::string::npos);
    // Plain HTTP: Windows needs BasicAuthLevel; over HTTPS that line is noise.
    CHECK(text.find("BasicAuthLevel") != std::string::npos);
    guide.url = "https://de.example.com/dav/sales/";
    text = de::cli::webdav_instructions(guide);
    CHECK(text.find("BasicAuthLevel") == std::string::npos);
    CHECK(text.find("net use Z: https://de.example.com/dav/sales/") != std::string::npos);
}

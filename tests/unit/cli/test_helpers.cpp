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

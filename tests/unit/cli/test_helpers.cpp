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
    CHECK_FALSE(de::cli::parse_range("-5"));
    CHECK_FALSE(de::cli::parse_range("abc"));
    CHECK(de::cli::parse_range("x-y").error().kind == de::ErrorKind::usage);
}

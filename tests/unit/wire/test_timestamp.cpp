// RFC 3339 timestamps: the one time form of --json documents and plan files.
#include <de/timestamp.hpp>

#include <doctest/doctest.h>

using de::format_rfc3339_ns;
using de::format_rfc3339_s;
using de::parse_rfc3339_ns;

TEST_CASE("rfc3339: formats UTC with nanoseconds") {
    CHECK(format_rfc3339_ns(0) == "1970-01-01T00:00:00.000000000Z");
    CHECK(format_rfc3339_ns(1'796'556'773'123'456'789) == "2026-12-06T11:32:53.123456789Z");
    CHECK(format_rfc3339_ns(-1) == "1969-12-31T23:59:59.999999999Z");
    CHECK(format_rfc3339_s(951'782'400) == "2000-02-29T00:00:00Z");
}

TEST_CASE("rfc3339: parses what it writes, offsets and short fractions") {
    for (std::int64_t ns : {std::int64_t{0}, std::int64_t{1'796'556'773'123'456'789},
                            std::int64_t{-1}, std::int64_t{951'782'400'000'000'001}})
        CHECK(parse_rfc3339_ns(format_rfc3339_ns(ns)).value() == ns);
    CHECK(parse_rfc3339_ns("2000-02-29T00:00:00Z").value() == 951'782'400'000'000'000);
    CHECK(parse_rfc3339_ns("2000-02-29T01:30:00.5+01:30").value() == 951'782'400'500'000'000);
    CHECK_FALSE(parse_rfc3339_ns("2000-02-29 00:00:00Z"));
    CHECK_FALSE(parse_rfc3339_ns("2000-02-29T00:00:00"));
    CHECK_FALSE(parse_rfc3339_ns("2000-13-01T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339_ns("2000-02-29T00:00:00.Z"));
    CHECK_FALSE(parse_rfc3339_ns("2000-02-29T00:00:00Zjunk"));
}

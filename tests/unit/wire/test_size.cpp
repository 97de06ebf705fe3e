// parse_size / format_size: what users type for --quota and sizes, and how
// sizes are shown.
#include <de/size.hpp>

#include <doctest/doctest.h>

using de::format_size;
using de::parse_size;

TEST_CASE("parse_size: plain numbers and units") {
    CHECK(parse_size("0").value() == 0);
    CHECK(parse_size("4096").value() == 4096);
    CHECK(parse_size("12B").value() == 12);
    CHECK(parse_size("1K").value() == 1024);
    CHECK(parse_size("1KiB").value() == 1024);
    CHECK(parse_size("1KB").value() == 1000);
    CHECK(parse_size("1MiB").value() == 1024 * 1024);
    CHECK(parse_size("500MiB").value() == 500ull * 1024 * 1024);
    CHECK(parse_size("1MB").value() == 1000 * 1000);
    CHECK(parse_size("25GB").value() == 25'000'000'000ull);
    CHECK(parse_size("2G").value() == 2ull << 30);
    CHECK(parse_size("1TiB").value() == 1ull << 40);
    CHECK(parse_size("1TB").value() == 1'000'000'000'000ull);
}

TEST_CASE("parse_size: case, spaces and fractions") {
    CHECK(parse_size("1mib").value() == 1 << 20);
    CHECK(parse_size("1 MiB").value() == 1 << 20);
    CHECK(parse_size("  64k  ").value() == 64 * 1024);
    CHECK(parse_size("1.5G").value() == 1536ull << 20);
    CHECK(parse_size("0.5KiB").value() == 512);
    CHECK(parse_size("2.5KB").value() == 2500);
}

TEST_CASE("parse_size: refuses what is not a size") {
    for (const char* text : {"", " ", "abc", "MiB", "-1", "-5MiB", "1 2", "1XB", "1.2.3", "12 MiBs",
                             "0x10", "1e3", ".", "1..5K"}) {
        CAPTURE(text);
        auto r = parse_size(text);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().kind == de::ErrorKind::usage);
        CHECK(r.error().message.find("invalid size") != std::string::npos);
    }
}

TEST_CASE("parse_size: overflow is an error, not a wrap") {
    CHECK(parse_size("18446744073709551615").value() == 18446744073709551615ull);
    CHECK_FALSE(parse_size("18446744073709551616").has_value());
    CHECK_FALSE(parse_size("20000000TiB").has_value());
    CHECK_FALSE(parse_size("17179869184G").has_value());  // 2^34 GiB = 2^64
    CHECK_FALSE(parse_size("99999999999999999999.5T").has_value());
}

TEST_CASE("format_size") {
    CHECK(format_size(0) == "0 B");
    CHECK(format_size(512) == "512 B");
    CHECK(format_size(1023) == "1023 B");
    CHECK(format_size(1024) == "1.0 KiB");
    CHECK(format_size(1536) == "1.5 KiB");
    CHECK(format_size(1 << 20) == "1.0 MiB");
    CHECK(format_size(25'000'000'000ull) == "23.3 GiB");
    CHECK(format_size(1ull << 40) == "1.0 TiB");
    CHECK(format_size(1ull << 50) == "1.0 PiB");
    CHECK(format_size(18446744073709551615ull) == "16384.0 PiB");
}

TEST_CASE("format_size and parse_size agree on binary units") {
    for (std::uint64_t v : {1ull << 10, 1ull << 20, 3ull << 30, 5ull << 40}) {
        auto text = format_size(v);
        CAPTURE(text);
        CHECK(parse_size(text).value() == v);
    }
}

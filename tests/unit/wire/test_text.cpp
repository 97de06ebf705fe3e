// The shared text helpers: white space, case, decimals.
#include <de/text.hpp>

#include <doctest/doctest.h>

TEST_CASE("trim_ows and trim_space") {
    CHECK(de::trim_ows(" \tabc \t") == "abc");
    CHECK(de::trim_ows(" a b ") == "a b");
    CHECK(de::trim_ows("abc\r\n") == "abc\r\n");
    CHECK(de::trim_space(" abc\r\n") == "abc");
    CHECK(de::trim_space(" \t\r\n").empty());
    CHECK(de::trim_ows("").empty());
}

TEST_CASE("ascii_lower leaves non-letters and non-ASCII bytes alone") {
    CHECK(de::ascii_lower("Content-Length") == "content-length");
    CHECK(de::ascii_lower("\xC3\x84Z9") == "\xC3\x84z9");
}

TEST_CASE("parse_decimal_u64: digits only, no overflow") {
    CHECK(de::parse_decimal_u64("0") == 0u);
    CHECK(de::parse_decimal_u64("18446744073709551615") == UINT64_MAX);
    CHECK_FALSE(de::parse_decimal_u64("18446744073709551616"));
    CHECK_FALSE(de::parse_decimal_u64(""));
    CHECK_FALSE(de::parse_decimal_u64("+1"));
    CHECK_FALSE(de::parse_decimal_u64("-1"));
    CHECK_FALSE(de::parse_decimal_u64(" 1"));
    CHECK_FALSE(de::parse_decimal_u64("1x"));
}

TEST_CASE("percent_encode_to appends, keeping only unreserved characters as they are") {
    std::string out = "/dav/";
    de::percent_encode_to(out, "a b~%");
    CHECK(out == "/dav/a%20b~%25");
    de::percent_encode_to(out, std::string("\0\xff", 2));
    CHECK(out == "/dav/a%20b~%25%00%FF");
}

// Response header parsing (as libcurl hands lines over) and the retry policy.
#include "../../../lib/src/http_util.hpp"

#include <doctest/doctest.h>

using namespace de::http;
using namespace std::chrono_literals;

TEST_CASE("parse_status_line") {
    CHECK(parse_status_line("HTTP/1.1 200 OK\r\n") == 200);
    CHECK(parse_status_line("HTTP/1.1 100 Continue\r\n") == 100);
    CHECK(parse_status_line("HTTP/2 404\r\n") == 404);
    CHECK(parse_status_line("HTTP/1.0 507 Insufficient Storage") == 507);
    CHECK_FALSE(parse_status_line("Content-Length: 5\r\n"));
    CHECK_FALSE(parse_status_line("\r\n"));
    CHECK_FALSE(parse_status_line("HTTP/1.1\r\n"));
    CHECK_FALSE(parse_status_line("HTTP/1.1 2000 OK"));
    CHECK_FALSE(parse_status_line("HTTP/1.1 abc OK"));
    CHECK_FALSE(parse_status_line("HTTP/1.1 999 Nope"));
}

TEST_CASE("parse_header_line lower-cases names and trims values") {
    auto h = parse_header_line("ETag: \"abc\"\r\n");
    REQUIRE(h);
    CHECK(h->first == "etag");
    CHECK(h->second == "\"abc\"");
    h = parse_header_line("X-De-Mtime-Ns:1763781234123456789\r\n");
    REQUIRE(h);
    CHECK(h->first == "x-de-mtime-ns");
    CHECK(h->second == "1763781234123456789");
    h = parse_header_line("Content-Range:   bytes 0-9/100  \r\n");
    REQUIRE(h);
    CHECK(h->second == "bytes 0-9/100");
    h = parse_header_line("Location: http://h:1/x\r\n");  // a colon in the value
    REQUIRE(h);
    CHECK(h->second == "http://h:1/x");
    CHECK_FALSE(parse_header_line("\r\n"));
    CHECK_FALSE(parse_header_line(": value"));
    CHECK_FALSE(parse_header_line("no colon here"));
    CHECK_FALSE(parse_header_line("Bad Name: x"));
}

TEST_CASE("Headers: case-insensitive lookup through lower-case keys, last one wins") {
    Headers headers;
    headers.add("etag", "\"1\"");
    headers.add("content-length", "5");
    headers.add("etag", "\"2\"");
    CHECK(headers.find("etag") == "\"2\"");
    CHECK(headers.find("content-length") == "5");
    CHECK_FALSE(headers.find("range"));
    headers.clear();
    CHECK_FALSE(headers.find("etag"));
}

TEST_CASE("parse_int") {
    CHECK(parse_int("0") == 0);
    CHECK(parse_int(" 1763781234123456789 ") == 1763781234123456789);
    CHECK(parse_int("-5") == -5);
    CHECK_FALSE(parse_int(""));
    CHECK_FALSE(parse_int("12a"));
    CHECK_FALSE(parse_int("99999999999999999999"));
}

TEST_CASE("retryable_status: transient 5xx only") {
    CHECK(retryable_status(500));
    CHECK(retryable_status(502));
    CHECK(retryable_status(503));
    CHECK(retryable_status(504));
    CHECK_FALSE(retryable_status(501));
    CHECK_FALSE(retryable_status(505));
    CHECK_FALSE(retryable_status(507));  // quota: retrying cannot help
    for (int s : {200, 201, 204, 206, 304, 400, 401, 404, 408, 409, 412, 416, 429})
        CHECK_FALSE(retryable_status(s));
}

TEST_CASE("backoff_delay doubles from the base, with bounded jitter and a cap") {
    RetryPolicy policy;  // 200 ms base
    CHECK(backoff_delay(policy, 0, 0.5) == 200ms);
    CHECK(backoff_delay(policy, 1, 0.5) == 400ms);
    CHECK(backoff_delay(policy, 2, 0.5) == 800ms);
    CHECK(backoff_delay(policy, 0, 0.0) == 150ms);
    CHECK(backoff_delay(policy, 0, 0.999) < 250ms);
    CHECK(backoff_delay(policy, 0, 0.999) >= 249ms);
    CHECK(backoff_delay(policy, 20, 0.5) == policy.max_delay);
    CHECK(backoff_delay(policy, 1000, 0.5) == policy.max_delay);
    CHECK(backoff_delay(policy, -3, 0.5) == 200ms);
    CHECK(backoff_delay(policy, 0, 7.0) == backoff_delay(policy, 0, 1.0));  // clamped
}

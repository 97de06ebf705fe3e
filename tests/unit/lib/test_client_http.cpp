// Response header parsing (as libcurl hands lines over), the failure
// classifier and the one retry policy every engine of libde asks.
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

TEST_CASE("Retry: an idempotent request is sent again after transient failures and 5xx") {
    Retry retry(RetryPolicy{3, 200ms, 5'000ms, 0ms}, true, 42);
    using K = TransportError::Kind;
    for (auto kind : {K::connect, K::timeout, K::io})
        CHECK(retry.retryable(Attempt{kind, 0}));
    for (auto kind : {K::tls, K::interrupted, K::aborted, K::other})
        CHECK_FALSE(retry.retryable(Attempt{kind, 0}));
    for (int s : {500, 502, 503, 504, 408, 429})
        CHECK(retry.retryable(Attempt{std::nullopt, s}));
    for (int s : {200, 400, 401, 404, 409, 412, 501, 507})
        CHECK_FALSE(retry.retryable(Attempt{std::nullopt, s}));
}

TEST_CASE(
    "Retry: a request that is not idempotent is sent again only when the server never saw it") {
    Retry retry(RetryPolicy{3, 200ms, 5'000ms, 0ms}, false, 42);
    using K = TransportError::Kind;
    CHECK(retry.retryable(Attempt{K::connect, 0}));
    CHECK(retry.retryable(Attempt{std::nullopt, 503}));
    CHECK(retry.retryable(Attempt{std::nullopt, 429}));  // refused before any work
    // The body may have reached the server: it may have acted on it.
    CHECK_FALSE(retry.retryable(Attempt{K::io, 0}));
    CHECK_FALSE(retry.retryable(Attempt{K::timeout, 0}));
    CHECK_FALSE(retry.retryable(Attempt{std::nullopt, 500}));
    CHECK_FALSE(retry.retryable(Attempt{std::nullopt, 502}));
    CHECK(retry.next(Attempt{K::io, 0}).action == Retry::Action::give_up);
    CHECK(retry.retries() == 0);
}

TEST_CASE("Retry: backoff grows with jitter, and the count runs out") {
    Retry retry(RetryPolicy{3, 200ms, 5'000ms, 0ms}, true, 7);
    const Attempt broken{TransportError::Kind::io, 0};
    auto t = Retry::Clock::time_point{} + 1h;
    std::chrono::milliseconds expected = 200ms;
    for (int i = 0; i < 3; ++i) {
        auto verdict = retry.next(broken, t);
        REQUIRE(verdict.action == Retry::Action::retry);
        CHECK(verdict.delay >= expected * 3 / 4);
        CHECK(verdict.delay < expected * 5 / 4);
        expected *= 2;
    }
    CHECK(retry.retries() == 3);
    CHECK(retry.next(broken, t).action == Retry::Action::exhausted);
    // A success starts the count afresh.
    retry.succeeded();
    CHECK(retry.next(broken, t).action == Retry::Action::retry);
    CHECK(retry.retries() == 4);
}

TEST_CASE("Retry: a time budget counts from the first failure after a success") {
    Retry retry(RetryPolicy{-1, 100ms, 2'000ms, 30'000ms}, true, 7);
    const Attempt refused{TransportError::Kind::connect, 0};
    auto t0 = Retry::Clock::time_point{} + 1h;
    for (int i = 0; i < 50; ++i)  // no count limit
        REQUIRE(retry.next(refused, t0 + std::chrono::milliseconds(i * 500)).action ==
                Retry::Action::retry);
    CHECK(retry.next(refused, t0 + 30s).action == Retry::Action::retry);
    CHECK(retry.next(refused, t0 + 31s).action == Retry::Action::exhausted);
    CHECK(retry.next(Attempt{std::nullopt, 404}, t0 + 31s).action == Retry::Action::give_up);
    retry.succeeded();
    CHECK(retry.next(refused, t0 + 100s).action == Retry::Action::retry);
    CHECK(retry.next(refused, t0 + 129s).action == Retry::Action::retry);
    CHECK(retry.next(refused, t0 + 131s).action == Retry::Action::exhausted);
}

TEST_CASE("Retry: delays never exceed the cap (plus jitter)") {
    Retry retry(RetryPolicy{-1, 250ms, 2'000ms, 0ms}, true, 99);
    for (int i = 0; i < 40; ++i) {
        auto verdict = retry.next(Attempt{std::nullopt, 503});
        REQUIRE(verdict.action == Retry::Action::retry);
        CHECK(verdict.delay < 2'500ms);
    }
}

TEST_CASE("outage: refused or broken connections and 502/503/504") {
    using K = TransportError::Kind;
    CHECK(outage(Attempt{K::connect, 0}));
    CHECK(outage(Attempt{K::io, 0}));
    for (auto kind : {K::timeout, K::tls, K::interrupted, K::aborted, K::other})
        CHECK_FALSE(outage(Attempt{kind, 0}));
    for (int s : {502, 503, 504})
        CHECK(outage(Attempt{std::nullopt, s}));
    for (int s : {200, 404, 408, 409, 500, 501, 507})
        CHECK_FALSE(outage(Attempt{std::nullopt, s}));
}

TEST_CASE("Retry: an outage is ridden out for the outage budget, whatever max_retries says") {
    Retry retry(RetryPolicy{3, 200ms, 2'000ms, 0ms, 30'000ms}, true, 11);
    const Attempt refused{TransportError::Kind::connect, 0};
    auto t0 = Retry::Clock::time_point{} + 1h;
    auto t = t0;
    for (int i = 0; i < 12; ++i) {  // far more than 3 retries
        auto verdict = retry.next(refused, t);
        REQUIRE(verdict.action == Retry::Action::retry);
        CHECK(verdict.delay <= 2'500ms);  // at most about 2 s apart
        t += verdict.delay;
    }
    CHECK(t - t0 >= 14s);  // the backoff reached its cap and stayed there
    // The last delay ends with the budget, not beyond it.
    auto last = retry.next(refused, t0 + 29'500ms);
    REQUIRE(last.action == Retry::Action::retry);
    CHECK(last.delay <= 500ms);
    CHECK(retry.next(Attempt{std::nullopt, 503}, t0 + 30s).action == Retry::Action::retry);
    CHECK(retry.next(refused, t0 + 30'001ms).action == Retry::Action::exhausted);
    CHECK(retry.failing_for(t0 + 31s) == 31s);
    // A success starts the outage budget afresh.
    retry.succeeded();
    CHECK(retry.failing_for(t0 + 40s) == Retry::Clock::duration{});
    CHECK(retry.next(refused, t0 + 40s).action == Retry::Action::retry);
    CHECK(retry.next(refused, t0 + 69s).action == Retry::Action::retry);
    CHECK(retry.next(refused, t0 + 71s).action == Retry::Action::exhausted);
}

TEST_CASE("Retry: failures that are no outage still count against max_retries") {
    Retry retry(RetryPolicy{3, 200ms, 2'000ms, 0ms, 30'000ms}, true, 5);
    auto t = Retry::Clock::time_point{} + 1h;
    const Attempt error500{std::nullopt, 500};
    const Attempt timeout{TransportError::Kind::timeout, 0};
    CHECK(retry.next(error500, t).action == Retry::Action::retry);
    CHECK(retry.next(Attempt{TransportError::Kind::connect, 0}, t).action ==
          Retry::Action::retry);  // not counted
    CHECK(retry.next(timeout, t).action == Retry::Action::retry);
    CHECK(retry.next(error500, t).action == Retry::Action::retry);
    CHECK(retry.next(timeout, t).action == Retry::Action::exhausted);
    // ... while an outage goes on being ridden out.
    CHECK(retry.next(Attempt{std::nullopt, 503}, t + 10s).action == Retry::Action::retry);
    // Without an outage budget, an outage counts like the rest.
    Retry counted(RetryPolicy{2, 200ms, 2'000ms, 0ms, 0ms}, true, 5);
    const Attempt refused{TransportError::Kind::connect, 0};
    CHECK(counted.next(refused, t).action == Retry::Action::retry);
    CHECK(counted.next(refused, t).action == Retry::Action::retry);
    CHECK(counted.next(refused, t).action == Retry::Action::exhausted);
}

TEST_CASE("Retry: an outage budget never makes an unsafe request safe") {
    Retry retry(RetryPolicy{3, 200ms, 2'000ms, 0ms, 30'000ms}, false, 3);
    using K = TransportError::Kind;
    CHECK(retry.next(Attempt{K::connect, 0}).action == Retry::Action::retry);
    CHECK(retry.next(Attempt{std::nullopt, 503}).action == Retry::Action::retry);
    // Connected and broken, or a gateway's 502/504: the server may have acted.
    CHECK(retry.next(Attempt{K::io, 0}).action == Retry::Action::give_up);
    CHECK(retry.next(Attempt{std::nullopt, 502}).action == Retry::Action::give_up);
    CHECK(retry.next(Attempt{std::nullopt, 504}).action == Retry::Action::give_up);
}

TEST_CASE("outage_error names the server, the time waited and what happened") {
    using K = TransportError::Kind;
    auto refused = outage_error(
        "moving 'a' to 'b' in app 'x'", "http://127.0.0.1:8050", 30'000ms, Attempt{K::connect, 0},
        "Failed to connect to 127.0.0.1 port 8050 after 0 ms: Couldn't connect to server");
    CHECK(refused.kind == de::ErrorKind::network);
    CHECK(de::exit_code(refused.kind) == 7);
    CHECK(refused.message ==
          "moving 'a' to 'b' in app 'x' failed: de-server at http://127.0.0.1:8050 did not "
          "answer for 30 s (connection refused); check that it is running, then try again");
    auto old_curl = outage_error("w", "http://h:1", 2'000ms, Attempt{K::connect, 0},
                                 "Failed to connect to h port 1: Connection refused");
    CHECK(old_curl.message.find("for 2 s (connection refused)") != std::string::npos);
    auto unavailable =
        outage_error("w", "http://h:1", 1'500ms, Attempt{std::nullopt, 503}, "", "run it again");
    CHECK(unavailable.message ==
          "w failed: de-server at http://h:1 did not answer for 1.5 s (HTTP 503, shutting down or "
          "starting); run it again");
    auto broken = outage_error("w", "http://h:1", 30'000ms, Attempt{K::io, 0},
                               "Recv failure: Connection reset by peer");
    CHECK(broken.message.find("(the connection broke: Recv failure: Connection reset by peer)") !=
          std::string::npos);
    CHECK(format_wait(30'000ms) == "30 s");
    CHECK(format_wait(2'500ms) == "2.5 s");
}

TEST_CASE("classifier: transport failures map to error kinds and say what to do") {
    using K = TransportError::Kind;
    CHECK(error_kind(K::connect) == de::ErrorKind::network);
    CHECK(error_kind(K::timeout) == de::ErrorKind::network);
    CHECK(error_kind(K::tls) == de::ErrorKind::network);
    CHECK(error_kind(K::io) == de::ErrorKind::network);
    CHECK(error_kind(K::interrupted) == de::ErrorKind::interrupted);
    CHECK(error_kind(K::aborted) == de::ErrorKind::generic);
    CHECK(error_kind(K::other) == de::ErrorKind::generic);
    CHECK(transient(K::connect));
    CHECK_FALSE(transient(K::tls));
    // A name that does not resolve is no outage: it fails at once, naming the host.
    CHECK(error_kind(K::resolve) == de::ErrorKind::network);
    CHECK_FALSE(transient(K::resolve));
    CHECK_FALSE(outage(Attempt{K::resolve, 0}));
    Retry retry(RetryPolicy{3, 200ms, 2'000ms, 0ms, 30'000ms}, true);
    CHECK(retry.next(Attempt{K::resolve, 0}).action == Retry::Action::give_up);
    auto unknown = transport_error(TransportError{K::resolve, "Could not resolve host: nope", 0},
                                   "nope.invalid:8050", "listing apps", "check --host");
    CHECK(unknown.kind == de::ErrorKind::network);
    CHECK(unknown.message ==
          "listing apps failed: the host name of nope.invalid:8050 is unknown (Could not resolve "
          "host: nope); check --host");
    auto e = transport_error(TransportError{K::tls, "bad cert", 0}, "h:1", "listing apps");
    CHECK(e.kind == de::ErrorKind::network);
    CHECK(e.message.find("listing apps failed") != std::string::npos);
    CHECK(e.message.find("--ca-path") != std::string::npos);
}

TEST_CASE("classifier: statuses map through the wire contract") {
    auto e = response_error(404, R"({"error":{"kind":"not_found","message":"no such file"}})",
                            "reading 'x'");
    CHECK(e.kind == de::ErrorKind::not_found);
    CHECK(e.http_status == 404);
    CHECK(e.api_kind == "not_found");
    CHECK(e.message == "reading 'x' failed: no such file");
    e = response_error(507, R"({"error":{"kind":"quota_exceeded","message":"over quota"}})", "up");
    CHECK(e.kind == de::ErrorKind::quota);
    CHECK(e.message.find("larger quota") != std::string::npos);
    e = response_error(502, "<html>bad gateway</html>", "whoami");
    CHECK(e.message.starts_with("whoami failed: HTTP 502"));
    e = response_error(401, "", "whoami");
    CHECK(e.kind == de::ErrorKind::auth);
}

TEST_CASE("classifier: an answer that is not a de-server's is named as such") {
    Headers plain;
    plain.add("server", "SimpleHTTP/0.6 Python/3.11");
    ResponseContext context;
    context.headers = &plain;
    context.host = "http://127.0.0.1:9";
    context.host_hint = "check --host";
    auto e = response_error(404, "<html>File not found</html>", "listing 'x'", context);
    CHECK(e.kind == de::ErrorKind::network);
    CHECK(e.message ==
          "listing 'x' failed: http://127.0.0.1:9 answered HTTP 404 but does not look like a "
          "de-server; check --host");
    e = response_error(501, "", "login", context);
    CHECK(e.message.find("does not look like a de-server") != std::string::npos);
    // A proxy's outage answer is an outage, not a wrong host.
    e = response_error(503, "<html>down</html>", "login", context);
    CHECK(e.message.find("de-server") == std::string::npos);
    // A de-server's answers: by its header, by Server:, or by the error body's shape.
    Headers marked;
    marked.add("x-de-server", "0.1.0");
    CHECK(looks_like_de_server(marked, ""));
    Headers server;
    server.add("server", "de-server");
    CHECK(looks_like_de_server(server, ""));
    CHECK(looks_like_de_server(plain, R"({"error":{"kind":"not_found","message":"m"}})"));
    CHECK_FALSE(looks_like_de_server(plain, R"({"error":"nope"})"));
    CHECK_FALSE(looks_like_de_server(plain, ""));
    context.headers = &marked;
    e = response_error(404, "", "listing 'x'", context);
    CHECK(e.kind == de::ErrorKind::not_found);
}

TEST_CASE("classifier: a reason gets the client's words, not the server's wire terms") {
    auto e = response_error(
        409,
        R"({"error":{"kind":"conflict","reason":"exists","message":"'b' exists already; pass overwrite=true to replace it"}})",
        "moving 'a' to 'b'");
    CHECK(e.kind == de::ErrorKind::conflict);
    CHECK(e.api_reason == "exists");
    CHECK(e.message == "moving 'a' to 'b' failed: the target exists already");
    e = response_error(
        409,
        R"({"error":{"kind":"conflict","reason":"not_empty","message":"folder 'd' is not empty; pass recursive=true"}})",
        "removing 'd'");
    CHECK(e.api_reason == "not_empty");
    CHECK(e.message.find("recursive=") == std::string::npos);
    // An unknown reason keeps the server's message.
    e = response_error(409, R"({"error":{"kind":"conflict","reason":"new","message":"m"}})", "x");
    CHECK(e.message == "x failed: m");
    // Refused credentials: the caller's advice for its mode.
    ResponseContext context;
    context.auth_hint = "check DASH_ENTERPRISE_PASSWORD";
    e = response_error(401, R"({"error":{"kind":"unauthorized","message":"wrong credentials"}})",
                       "whoami", context);
    CHECK(e.message == "whoami failed: wrong credentials; check DASH_ENTERPRISE_PASSWORD");
}

// Range, query, Authorization and --listen parsing, and size parsing for --quota.
#include "http_parse.hpp"
#include "server.hpp"

#include <de/size.hpp>

#include <doctest/doctest.h>

using namespace de::server;

TEST_CASE("parse_range: the three forms of one range") {
    auto r = parse_range("bytes=0-9", 100);
    CHECK(r.kind == RangeKind::satisfiable);
    CHECK(r.range.first == 0);
    CHECK(r.range.last == 9);
    r = parse_range("bytes=90-", 100);
    CHECK((r.kind == RangeKind::satisfiable && r.range.first == 90 && r.range.last == 99));
    r = parse_range("bytes=-10", 100);
    CHECK((r.kind == RangeKind::satisfiable && r.range.first == 90 && r.range.last == 99));
    r = parse_range("bytes=-1000", 100);  // suffix longer than the file: all of it
    CHECK((r.kind == RangeKind::satisfiable && r.range.first == 0 && r.range.last == 99));
    r = parse_range("bytes=50-1000", 100);  // clipped to the end
    CHECK((r.kind == RangeKind::satisfiable && r.range.last == 99));
    r = parse_range(" bytes=5-5 ", 100);
    CHECK((r.kind == RangeKind::satisfiable && r.range.first == 5 && r.range.last == 5));
}

TEST_CASE("parse_range: unsatisfiable") {
    CHECK(parse_range("bytes=100-", 100).kind == RangeKind::unsatisfiable);
    CHECK(parse_range("bytes=100-200", 100).kind == RangeKind::unsatisfiable);
    CHECK(parse_range("bytes=-0", 100).kind == RangeKind::unsatisfiable);
    CHECK(parse_range("bytes=0-", 0).kind == RangeKind::unsatisfiable);
    CHECK(parse_range("bytes=-5", 0).kind == RangeKind::unsatisfiable);
    CHECK(parse_range("bytes=0-1,3-4", 100).kind == RangeKind::unsatisfiable);
}

TEST_CASE("parse_range: malformed headers are ignored") {
    for (const char* h :
         {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=1-2-3",
          "bytes=+1-2", "bytes=0x1-2", "bytes=99999999999999999999999-"}) {
        CAPTURE(h);
        CHECK(parse_range(h, 100).kind == RangeKind::none);
    }
}

TEST_CASE("parse_size reads what --quota takes") {
    CHECK(de::parse_size("500MiB").value() == 500ULL << 20);
    CHECK(de::parse_size("25GB").value() == 25'000'000'000ULL);
    CHECK(de::parse_size("1MiB").value() == 1ULL << 20);
    CHECK(de::parse_size("4096").value() == 4096);
    CHECK_FALSE(de::parse_size("").has_value());
    CHECK_FALSE(de::parse_size("abc").has_value());
    CHECK_FALSE(de::parse_size("-5GB").has_value());
}

TEST_CASE("parse_target splits the path and decodes the query") {
    auto t = parse_target("/api/v1/x?path=a%2Fb&recursive=true&empty=&flag");
    REQUIRE(t);
    CHECK(t->path == "/api/v1/x");
    CHECK(t->query.at("path") == "a/b");
    CHECK(t->query.at("recursive") == "true");
    CHECK(t->query.at("empty").empty());
    CHECK(t->query.at("flag").empty());
    CHECK_FALSE(parse_target("/x?a=%zz").has_value());
    CHECK(parse_bool("true").value());
    CHECK_FALSE(parse_bool("false").value());
    CHECK_FALSE(parse_bool("maybe").has_value());
}

TEST_CASE("parse_authorization") {
    auto c = parse_authorization("Basic YWxpY2U6c2VjcmV0");  // alice:secret
    CHECK(c.scheme == Credentials::Scheme::basic);
    CHECK(c.username == "alice");
    CHECK(c.secret == "secret");
    c = parse_authorization("Basic YWxpY2U6c2VjOnJldA==");  // alice:sec:ret
    CHECK(c.secret == "sec:ret");
    c = parse_authorization("bearer abc");
    CHECK((c.scheme == Credentials::Scheme::bearer && c.secret == "abc"));
    CHECK(parse_authorization("").scheme == Credentials::Scheme::none);
    CHECK(parse_authorization("Basic !!!").scheme == Credentials::Scheme::malformed);
    CHECK(parse_authorization("Basic bm9jb2xvbg==").scheme == Credentials::Scheme::malformed);
    CHECK(parse_authorization("Digest x").scheme == Credentials::Scheme::malformed);
}

TEST_CASE("parse_listen") {
    std::string a;
    unsigned short p = 1;
    CHECK(parse_listen("127.0.0.1:0", a, p));
    CHECK((a == "127.0.0.1" && p == 0));
    CHECK(parse_listen("[::1]:8050", a, p));
    CHECK((a == "::1" && p == 8050));
    CHECK_FALSE(parse_listen("127.0.0.1", a, p));
    CHECK_FALSE(parse_listen("127.0.0.1:99999", a, p));
    CHECK_FALSE(parse_listen("localhost:80", a, p));
    CHECK_FALSE(parse_listen(":80", a, p));
}

TEST_CASE("http_date") {
    CHECK(http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
}

namespace {
Framing framing(unsigned version, std::vector<std::string_view> host,
                std::vector<std::string_view> cl, std::vector<std::string_view> te) {
    FramingFields f;
    f.version = version;
    f.host = std::move(host);
    f.content_length = std::move(cl);
    f.transfer_encoding = std::move(te);
    return check_framing(f);
}
}  // namespace

TEST_CASE("check_framing: the plain framings pass") {
    auto f = framing(11, {"x"}, {}, {});
    CHECK(f.status == 0);
    CHECK_FALSE(f.chunked);
    CHECK_FALSE(f.content_length);
    f = framing(11, {"127.0.0.1:8080"}, {" 5 "}, {});
    CHECK(f.status == 0);
    CHECK(f.content_length == 5u);
    f = framing(11, {"[::1]:1"}, {}, {"Chunked"});
    CHECK(f.status == 0);
    CHECK(f.chunked);
    CHECK(framing(11, {"x"}, {}, {"chunked , "}).chunked);  // an empty list element
    CHECK(framing(10, {}, {"0"}, {}).status == 0);          // HTTP/1.0 needs no Host
    CHECK(framing(11, {"x"}, {"18446744073709551615"}, {}).content_length ==
          18446744073709551615ull);
}

TEST_CASE("check_framing: Content-Length is one decimal number") {
    for (std::string_view v : {"5, 5", "5,5", "5,6", "+5", "-5", "0x5", "5 5", "", " ", "5.0",
                               "18446744073709551616", "99999999999999999999999"}) {
        INFO(v);
        auto f = framing(11, {"x"}, {v}, {});
        CHECK(f.status == 400);
        CHECK_FALSE(f.message.empty());
    }
    CHECK(framing(11, {"x"}, {"5", "5"}, {}).status == 400);  // two field lines
}

TEST_CASE("check_framing: only chunked, alone") {
    CHECK(framing(11, {"x"}, {}, {"gzip, chunked"}).status == 501);
    CHECK(framing(11, {"x"}, {}, {"gzip", "chunked"}).status == 501);
    CHECK(framing(11, {"x"}, {}, {"gzip"}).status == 400);
    CHECK(framing(11, {"x"}, {}, {"identity"}).status == 400);
    CHECK(framing(11, {"x"}, {}, {"chunked, gzip"}).status == 400);
    CHECK(framing(11, {"x"}, {}, {"chunked, chunked"}).status == 400);
    CHECK(framing(11, {"x"}, {}, {"chunked", "chunked"}).status == 400);
    CHECK(framing(11, {"x"}, {}, {"chunked;q=1"}).status == 400);
    CHECK(framing(11, {"x"}, {}, {""}).status == 400);
    CHECK(framing(11, {"x"}, {}, {" , "}).status == 400);
    CHECK(framing(11, {"x"}, {}, {"\"chunked\""}).status == 400);
    CHECK(framing(10, {}, {}, {"chunked"}).status == 400);  // HTTP/1.0 has no codings
    // Both framings at once: the smuggling classic.
    CHECK(framing(11, {"x"}, {"5"}, {"chunked"}).status == 400);
}

TEST_CASE("check_framing: Host") {
    CHECK(framing(11, {}, {}, {}).status == 400);
    CHECK(framing(11, {"a", "b"}, {}, {}).status == 400);
    CHECK(framing(10, {"a", "b"}, {}, {}).status == 400);
    for (std::string_view h : {"a b", "a,b", "a/b", "u@h", "a\tb", "a\\b"}) {
        INFO(h);
        CHECK(framing(11, {h}, {}, {}).status == 400);
    }
    CHECK(framing(12, {"x"}, {}, {}).status == 400);
}

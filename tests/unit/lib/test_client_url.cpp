// Request URLs: percent-encoding of remote paths and query values, and the
// checks on the host URL the user gives.
#include "../../../lib/src/http_util.hpp"

#include <doctest/doctest.h>

using namespace de::http;

TEST_CASE("percent_encode keeps RFC 3986 unreserved characters only") {
    CHECK(percent_encode("") == "");
    CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(percent_encode("a b") == "a%20b");
    CHECK(percent_encode("a/b") == "a%2Fb");
    CHECK(percent_encode("%") == "%25");
    CHECK(percent_encode("?#&=+") == "%3F%23%26%3D%2B");
    CHECK(percent_encode("caf\xc3\xa9") == "caf%C3%A9");
    CHECK(percent_encode(std::string("\0\x7f\xff", 3)) == "%00%7F%FF");
}

TEST_CASE("encode_remote_path normalises, then encodes each segment") {
    CHECK(encode_remote_path("").value() == "");
    CHECK(encode_remote_path("/").value() == "");
    CHECK(encode_remote_path("data/sales.parquet").value() == "data/sales.parquet");
    CHECK(encode_remote_path("/a//b/./c/").value() == "a/b/c");
    CHECK(encode_remote_path("my dir/a?b#c.txt").value() == "my%20dir/a%3Fb%23c.txt");
    CHECK(encode_remote_path("100%/x").value() == "100%25/x");
    // An encoded '..' is just a name with percent signs, and stays one.
    CHECK(encode_remote_path("%2e%2e/x").value() == "%252e%252e/x");
    CHECK(encode_remote_path("a\\b").value() == "a%5Cb");
}

TEST_CASE("encode_remote_path refuses what normalize_remote_path refuses") {
    for (std::string bad : {std::string(".."), std::string("a/../b"), std::string("a\0b", 3),
                            std::string("x\ny"), std::string(256, 'n')}) {
        auto r = encode_remote_path(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == de::ErrorKind::usage);
    }
}

TEST_CASE("normalize_base_url") {
    CHECK(normalize_base_url("http://127.0.0.1:8050").value() == "http://127.0.0.1:8050");
    CHECK(normalize_base_url("http://127.0.0.1:8050/").value() == "http://127.0.0.1:8050");
    CHECK(normalize_base_url("HTTPS://de.example.com//").value() == "https://de.example.com");
    CHECK(normalize_base_url("https://example.com/de/").value() == "https://example.com/de");
    CHECK(normalize_base_url("de.example.com").value() == "https://de.example.com");
    // A bare loopback name means a local de-server over plain HTTP.
    CHECK(normalize_base_url("127.0.0.1:8050").value() == "http://127.0.0.1:8050");
    CHECK(normalize_base_url("localhost:8050").value() == "http://localhost:8050");
    CHECK(normalize_base_url("[::1]:8050").value() == "http://[::1]:8050");
    CHECK(normalize_base_url("de.example.com:8443/x").value() == "https://de.example.com:8443/x");
    CHECK(normalize_base_url("  http://h:1  ").value() == "http://h:1");
    CHECK(normalize_base_url("http://[::1]:8050").value() == "http://[::1]:8050");
    for (const char* bad :
         {"", "   ", "ftp://h", "file:///etc/passwd", "http://", "http:///x", "http://:80",
          "http://h?x=1", "http://h#f", "http://user:pw@h", "http://h x", "http://h\x01"}) {
        CAPTURE(std::string(bad));
        auto r = normalize_base_url(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == de::ErrorKind::usage);
    }
    auto with_password = normalize_base_url("http://user:s3cret@h");
    REQUIRE_FALSE(with_password);
    CHECK(with_password.error().message.find("credentials") != std::string::npos);
    CHECK(with_password.error().message.find("s3cret") == std::string::npos);
    CHECK(normalize_base_url("http://h/a@b").has_value());  // '@' in a path prefix is fine
}

TEST_CASE("host_label names the server in messages") {
    CHECK(host_label("http://127.0.0.1:8050") == "127.0.0.1:8050");
    CHECK(host_label("https://de.example.com/prefix") == "de.example.com");
}

TEST_CASE("build_url: prefix, route and encoded query values") {
    CHECK(build_url("http://h:1", "/apps") == "http://h:1/api/v1/apps");
    CHECK(build_url("https://h/p", "/apps/x/mount/list",
                    {{"path", "a b/c&d=e"}, {"recursive", "true"}}) ==
          "https://h/p/api/v1/apps/x/mount/list?path=a%20b%2Fc%26d%3De&recursive=true");
    CHECK(build_url("http://h", "/apps/a", {{"confirm", "a"}}) ==
          "http://h/api/v1/apps/a?confirm=a");
    CHECK(build_url("http://h", "/x", {{"cursor", ""}}) == "http://h/api/v1/x?cursor=");
}

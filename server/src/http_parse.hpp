#pragma once
// Pure parsers for the parts of a request that carry user input: the Range
// header, the request target (percent-decoding, query parameters), the
// Authorization header and the media type of a Content-Type. No I/O, so unit tests cover them
// directly.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace de::server {

struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};

enum class RangeKind {
    none,           // no header, or malformed: serve the whole file (RFC 9110 §14.2)
    satisfiable,    // serve `range` with 206
    unsatisfiable,  // 416 with Content-Range: bytes */SIZE (also several ranges)
};

struct RangeResult {
    RangeKind kind = RangeKind::none;
    ByteRange range;
};

// Range: bytes=A-B | bytes=A- | bytes=-N, one range only, against a file of `size` bytes.
RangeResult parse_range(std::string_view header, std::uint64_t size);

// Decodes %XX escapes once. nullopt for a malformed escape. '+' is kept as is.
std::optional<std::string> percent_decode(std::string_view s);

struct Target {
    std::string path;                          // still percent-encoded
    std::map<std::string, std::string> query;  // decoded
};
// Splits "/a/b?x=1&y=2". nullopt when the query has malformed escapes.
std::optional<Target> parse_target(std::string_view target);

// true/1/yes -> true, false/0/no/"" -> false, anything else nullopt.
std::optional<bool> parse_bool(std::string_view s);

struct Credentials {
    enum class Scheme { none, basic, bearer, malformed } scheme = Scheme::none;
    std::string username;  // basic
    std::string secret;    // basic key or bearer token
};
Credentials parse_authorization(std::string_view header);

// The media type of a Content-Type value, lower-cased: what stands before any
// ';' parameters, trailing spaces dropped ("Application/JSON ; x" -> "application/json").
std::string media_type(std::string_view content_type);

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::string http_date(std::int64_t unix_seconds);

}  // namespace de::server

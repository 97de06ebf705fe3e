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
#include <vector>

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

// The framing headers of a request, as they came (one entry per field line),
// checked strictly before anything is routed (RFC 9112 sections 3.2 and 6):
// - HTTP/1.1 needs exactly one Host (HTTP/1.0: at most one), a single value;
// - Content-Length is one field line of decimal digits that fits 64 bits
//   (no list, not even "5, 5"; no sign; no overflow);
// - the only transfer coding is `chunked`, alone: a coding list whose last
//   element is not chunked leaves the length unknown (400); other codings
//   before chunked are not implemented (501); HTTP/1.0 has no transfer codings;
// - Content-Length and Transfer-Encoding together are refused (400).
// Smuggling needs two parsers to disagree on where a body ends; refusing every
// framing that is not the plain one leaves nothing to disagree on.
struct FramingFields {
    unsigned version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
    std::vector<std::string_view> host;
    std::vector<std::string_view> content_length;
    std::vector<std::string_view> transfer_encoding;
};
struct Framing {
    int status = 0;       // 0: acceptable; else 400 or 501
    std::string message;  // why, when status != 0
    bool chunked = false;
    std::optional<std::uint64_t> content_length;
};
Framing check_framing(const FramingFields& fields);

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::string http_date(std::int64_t unix_seconds);

}  // namespace de::server

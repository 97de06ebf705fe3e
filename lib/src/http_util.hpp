#pragma once
// Pure pieces of the HTTP layer, free of libcurl so unit tests can reach them:
// building request URLs (percent-encoding remote paths and query values),
// parsing response header lines, and the retry policy. Private to libde.

#include <de/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace de::http {

// RFC 3986: unreserved characters (ALPHA DIGIT - . _ ~) stay, every other
// byte becomes %XX (upper-case hex). '/' is encoded too.
std::string percent_encode(std::string_view text);

// Normalises a remote path (de::normalize_remote_path) and percent-encodes
// each of its segments, joined by '/'. The mount root is "".
Result<std::string> encode_remote_path(std::string_view path);

// A base URL as the user gave it, checked and without trailing '/':
// "http://host:port" or "https://host/prefix". Fails with ErrorKind::usage.
Result<std::string> normalize_base_url(std::string_view url);
// "host:port" (or "host") of a normalized base URL, for messages.
std::string host_label(std::string_view base_url);

using Query = std::vector<std::pair<std::string, std::string>>;
// base + "/api/v1" + route + "?k=v&..." with query values percent-encoded.
// route starts with '/' and is already encoded.
std::string build_url(std::string_view base_url, std::string_view route, const Query& query = {});

// Response header lines as libcurl hands them over (CRLF included).
// "HTTP/1.1 206 Partial Content" -> 206; nullopt for other lines.
std::optional<int> parse_status_line(std::string_view line);
// "Content-Length: 12" -> {"content-length", "12"} (name lower-cased, value
// trimmed); nullopt for blank or malformed lines.
std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line);

// Response headers by lower-case name; the last occurrence wins.
class Headers {
  public:
    void clear() { m_items.clear(); }
    void add(std::string name, std::string value);
    std::optional<std::string_view> find(std::string_view lower_name) const;

  private:
    std::vector<std::pair<std::string, std::string>> m_items;
};

// Parses a decimal integer header value (e.g. X-De-Mtime-Ns, Content-Length).
std::optional<std::int64_t> parse_int(std::string_view text);

// Retry policy for idempotent requests.
struct RetryPolicy {
    int max_retries = 3;
    std::chrono::milliseconds base_delay{200};
    std::chrono::milliseconds max_delay{5'000};
};

// Whether a response status is worth retrying: 5xx that may pass (500, 502,
// 503, 504, ...), but not 501/505 (will not change) nor 507 (quota).
bool retryable_status(int status);

// Delay before retry number attempt (0-based): base * 2^attempt, capped, then
// scaled by a jitter factor in [0.75, 1.25) taken from unit in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double unit);

}  // namespace de::http

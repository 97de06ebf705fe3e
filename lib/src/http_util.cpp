// Pure helpers of the HTTP layer (see http_util.hpp). Kept apart from the
// libcurl transport so they are unit-tested without a network.
#include "http_util.hpp"

#include <de/remote_path.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace de::http {

namespace {
bool is_unreserved(unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}
}  // namespace

std::string percent_encode(std::string_view text) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (is_unreserved(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(k_hex[c >> 4]);
            out.push_back(k_hex[c & 0xf]);
        }
    }
    return out;
}

Result<std::string> encode_remote_path(std::string_view path) {
    auto normal = normalize_remote_path(path);
    if (!normal) return std::unexpected(normal.error());
    std::string out;
    std::string_view rest = *normal;
    while (!rest.empty()) {
        auto slash = rest.find('/');
        if (!out.empty()) out.push_back('/');
        out += percent_encode(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    }
    return out;
}

Result<std::string> normalize_base_url(std::string_view url) {
    auto bad = [&](std::string_view why) {
        return fail(ErrorKind::usage,
                    fmt::format("invalid host URL '{:.200}': {}; use e.g. https://de.example.com "
                                "or http://127.0.0.1:8050",
                                url, why));
    };
    std::string_view s = trim(url);
    if (s.empty()) return bad("it is empty");
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7f) return bad("it contains a space or control character");
    std::string out;
    auto scheme_end = s.find("://");
    if (scheme_end == std::string_view::npos) {
        out = "https://";  // a bare host name, as the de CLI accepts it
    } else {
        std::string scheme = lower(s.substr(0, scheme_end));
        if (scheme != "http" && scheme != "https") return bad("only http and https are supported");
        out = scheme + "://";
        s.remove_prefix(scheme_end + 3);
    }
    if (s.find_first_of("?#") != std::string_view::npos)
        return bad("a query or fragment is not allowed");
    if (s.substr(0, s.find('/')).find('@') != std::string_view::npos)
        // Not echoed back: the URL would carry a password into the message.
        return fail(ErrorKind::usage,
                    "invalid host URL: credentials do not belong in it; give the username and "
                    "API key separately");
    auto slash = s.find('/');
    std::string_view authority = s.substr(0, slash);
    if (authority.empty() || authority.front() == ':') return bad("it has no host name");
    out += authority;
    if (slash != std::string_view::npos) {
        std::string_view path = s.substr(slash);
        while (!path.empty() && path.back() == '/')
            path.remove_suffix(1);
        out += path;
    }
    return out;
}

std::string host_label(std::string_view base_url) {
    auto start = base_url.find("://");
    std::string_view s = start == std::string_view::npos ? base_url : base_url.substr(start + 3);
    return std::string(s.substr(0, s.find('/')));
}

std::string build_url(std::string_view base_url, std::string_view route, const Query& query) {
    std::string out;
    out.reserve(base_url.size() + route.size() + 64);
    out += base_url;
    out += "/api/v1";
    out += route;
    char sep = '?';
    for (const auto& [key, value] : query) {
        out.push_back(sep);
        sep = '&';
        out += percent_encode(key);
        out.push_back('=');
        out += percent_encode(value);
    }
    return out;
}

std::optional<int> parse_status_line(std::string_view line) {
    line = trim(line);
    if (!line.starts_with("HTTP/")) return std::nullopt;
    auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    std::string_view code = line.substr(space + 1);
    code = code.substr(0, code.find(' '));
    int status = 0;
    auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
    if (ec != std::errc{} || ptr != code.data() + code.size() || code.size() != 3)
        return std::nullopt;
    if (status < 100 || status > 599) return std::nullopt;
    return status;
}

std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line) {
    line = trim(line);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view name = line.substr(0, colon);
    for (unsigned char c : name)
        if (c <= 0x20 || c >= 0x7f) return std::nullopt;
    return std::pair{lower(name), std::string(trim(line.substr(colon + 1)))};
}

void Headers::add(std::string name, std::string value) {
    for (auto& item : m_items) {
        if (item.first == name) {
            item.second = std::move(value);
            return;
        }
    }
    m_items.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::find(std::string_view lower_name) const {
    for (const auto& item : m_items)
        if (item.first == lower_name) return std::string_view(item.second);
    return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    text = trim(text);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

bool retryable_status(int status) {
    return status >= 500 && status <= 599 && status != 501 && status != 505 && status != 507;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double unit) {
    double delay = static_cast<double>(policy.base_delay.count()) *
                   std::ldexp(1.0, std::clamp(attempt, 0, 30));
    delay = std::min(delay, static_cast<double>(policy.max_delay.count()));
    unit = std::clamp(unit, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(delay * (0.75 + 0.5 * unit)));
}

}  // namespace de::http

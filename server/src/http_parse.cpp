// See http_parse.hpp.
#include "http_parse.hpp"

#include <de/sha256.hpp>

#include <charconv>
#include <ctime>

namespace de::server {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

RangeResult parse_range(std::string_view header, std::uint64_t size) {
    RangeResult none{};
    header = trim(header);
    if (header.size() < 6 || header.substr(0, 6) != "bytes=") return none;
    std::string_view spec = trim(header.substr(6));
    if (spec.find(',') != std::string_view::npos) {
        // Several ranges: we serve one only. Refuse rather than silently send one.
        return {RangeKind::unsatisfiable, {}};
    }
    auto dash = spec.find('-');
    if (dash == std::string_view::npos) return none;
    std::string_view a = trim(spec.substr(0, dash));
    std::string_view b = trim(spec.substr(dash + 1));
    std::uint64_t first = 0, last = 0;
    if (a.empty()) {
        // Suffix range: the last N bytes.
        std::uint64_t n = 0;
        if (!parse_u64(b, n)) return none;
        if (n == 0 || size == 0) return {RangeKind::unsatisfiable, {}};
        if (n > size) n = size;
        return {RangeKind::satisfiable, {size - n, size - 1}};
    }
    if (!parse_u64(a, first)) return none;
    if (b.empty()) {
        last = size == 0 ? 0 : size - 1;
    } else {
        if (!parse_u64(b, last)) return none;
        if (last < first) return none;  // syntactically invalid: ignore the header
        if (size > 0 && last >= size) last = size - 1;
    }
    if (first >= size) return {RangeKind::unsatisfiable, {}};
    return {RangeKind::satisfiable, {first, last}};
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::optional<Target> parse_target(std::string_view target) {
    Target t;
    auto q = target.find('?');
    t.path = std::string(target.substr(0, q));
    if (q == std::string_view::npos) return t;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view kv = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (kv.empty()) continue;
        auto eq = kv.find('=');
        std::string k(kv.substr(0, eq));
        std::string v(eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1));
        for (auto& c : k)
            if (c == '+') c = ' ';
        for (auto& c : v)
            if (c == '+') c = ' ';
        auto dk = percent_decode(k);
        auto dv = percent_decode(v);
        if (!dk || !dv) return std::nullopt;
        t.query[*dk] = *dv;
    }
    return t;
}

std::optional<bool> parse_bool(std::string_view s) {
    if (s == "true" || s == "1" || s == "yes") return true;
    if (s == "false" || s == "0" || s == "no" || s.empty()) return false;
    return std::nullopt;
}

Credentials parse_authorization(std::string_view header) {
    Credentials c;
    header = trim(header);
    if (header.empty()) return c;
    auto sp = header.find(' ');
    if (sp == std::string_view::npos) {
        c.scheme = Credentials::Scheme::malformed;
        return c;
    }
    std::string scheme(header.substr(0, sp));
    for (auto& ch : scheme)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string_view value = trim(header.substr(sp + 1));
    if (scheme == "basic") {
        std::string decoded;
        if (!base64_decode(value, decoded)) {
            c.scheme = Credentials::Scheme::malformed;
            return c;
        }
        auto colon = decoded.find(':');
        if (colon == std::string::npos) {
            c.scheme = Credentials::Scheme::malformed;
            return c;
        }
        c.scheme = Credentials::Scheme::basic;
        c.username = decoded.substr(0, colon);
        c.secret = decoded.substr(colon + 1);
        return c;
    }
    if (scheme == "bearer" && !value.empty()) {
        c.scheme = Credentials::Scheme::bearer;
        c.secret = std::string(value);
        return c;
    }
    c.scheme = Credentials::Scheme::malformed;
    return c;
}

std::string http_date(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    static constexpr const char* k_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", k_days[tm.tm_wday],
                  tm.tm_mday, k_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

}  // namespace de::server

// See http_parse.hpp.
#include "http_parse.hpp"

#include <de/sha256.hpp>
#include <de/text.hpp>

#include <algorithm>
#include <ctime>

namespace de::server {

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

RangeResult parse_range(std::string_view header, std::uint64_t size) {
    RangeResult none{};
    header = trim_ows(header);
    if (header.size() < 6 || header.substr(0, 6) != "bytes=") return none;
    std::string_view spec = trim_ows(header.substr(6));
    if (spec.find(',') != std::string_view::npos) {
        // Several ranges: we serve one only. Refuse rather than silently send one.
        return {RangeKind::unsatisfiable, {}};
    }
    auto dash = spec.find('-');
    if (dash == std::string_view::npos) return none;
    std::string_view a = trim_ows(spec.substr(0, dash));
    std::string_view b = trim_ows(spec.substr(dash + 1));
    if (a.empty()) {
        // Suffix range: the last N bytes.
        auto n = parse_decimal_u64(b);
        if (!n) return none;
        if (*n == 0 || size == 0) return {RangeKind::unsatisfiable, {}};
        return {RangeKind::satisfiable, {size - std::min(*n, size), size - 1}};
    }
    auto first_opt = parse_decimal_u64(a);
    if (!first_opt) return none;
    std::uint64_t first = *first_opt, last = 0;
    if (b.empty()) {
        last = size == 0 ? 0 : size - 1;
    } else {
        auto last_opt = parse_decimal_u64(b);
        if (!last_opt) return none;
        last = *last_opt;
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
    header = trim_ows(header);
    if (header.empty()) return c;
    auto sp = header.find(' ');
    if (sp == std::string_view::npos) {
        c.scheme = Credentials::Scheme::malformed;
        return c;
    }
    std::string scheme = ascii_lower(header.substr(0, sp));
    std::string_view value = trim_ows(header.substr(sp + 1));
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

std::string media_type(std::string_view content_type) {
    std::string_view base = content_type.substr(0, content_type.find(';'));
    while (!base.empty() && base.back() == ' ')
        base.remove_suffix(1);
    return ascii_lower(base);
}

namespace {
// tchar of RFC 9110 section 5.6.2.
bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
Framing refuse(int status, std::string message) {
    Framing f;
    f.status = status;
    f.message = std::move(message);
    return f;
}
}  // namespace

Framing check_framing(const FramingFields& fields) {
    if (fields.version != 10 && fields.version != 11)
        return refuse(400, "only HTTP/1.0 and HTTP/1.1 are spoken here");
    if (fields.host.size() > 1) return refuse(400, "the request has more than one Host header");
    if (fields.host.empty() && fields.version == 11)
        return refuse(400, "an HTTP/1.1 request needs a Host header");
    if (!fields.host.empty()) {
        for (char c : fields.host.front()) {
            auto u = static_cast<unsigned char>(c);
            if (u <= 0x20 || u == 0x7f || c == ',' || c == '/' || c == '\\' || c == '@')
                return refuse(400, "the Host header is not one host[:port]");
        }
    }
    Framing ok;
    if (!fields.content_length.empty()) {
        if (fields.content_length.size() > 1)
            return refuse(400, "the request has more than one Content-Length header");
        std::string_view v = trim_ows(fields.content_length.front());
        // parse_decimal_u64 takes digits only (no sign, no spaces) and refuses overflow.
        auto n = parse_decimal_u64(v);
        if (!n) return refuse(400, "Content-Length must be one decimal number of bytes");
        ok.content_length = n;
    }
    if (fields.transfer_encoding.empty()) return ok;
    if (ok.content_length)
        return refuse(400, "a request cannot have both Content-Length and Transfer-Encoding");
    if (fields.version == 10)
        return refuse(400, "an HTTP/1.0 request cannot have a Transfer-Encoding");
    // The codings of every field line, in order; empty list elements are allowed.
    std::vector<std::string> codings;
    for (std::string_view line : fields.transfer_encoding) {
        while (true) {
            auto comma = line.find(',');
            std::string_view item = trim_ows(line.substr(0, comma));
            if (!item.empty()) {
                std::string_view name = trim_ows(item.substr(0, item.find(';')));
                if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar))
                    return refuse(400, "malformed Transfer-Encoding");
                std::string lower = ascii_lower(name);
                if (lower == "chunked" && name.size() != item.size())
                    return refuse(400, "the chunked transfer coding takes no parameters");
                codings.push_back(std::move(lower));
            }
            if (comma == std::string_view::npos) break;
            line.remove_prefix(comma + 1);
        }
    }
    if (codings.empty()) return refuse(400, "malformed Transfer-Encoding");
    if (codings.back() != "chunked")
        return refuse(400, "the last transfer coding must be chunked (the body length is unknown)");
    if (codings.size() > 1) {
        if (std::find(codings.begin(), codings.end() - 1, "chunked") != codings.end() - 1)
            return refuse(400, "the chunked transfer coding is applied more than once");
        return refuse(501, "the only transfer coding supported is chunked, alone");
    }
    ok.chunked = true;
    return ok;
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

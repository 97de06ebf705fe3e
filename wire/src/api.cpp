// Wire error kinds <-> HTTP status <-> client ErrorKind, in one table.
#include <de/api.hpp>
#include <de/crc64.hpp>

#include <de/sha256.hpp>

#include <array>
#include <cctype>

namespace de::api {

namespace {
struct Row {
    WireError e;
    int status;
    std::string_view name;
    ErrorKind kind;
};
constexpr std::array k_rows{
    Row{WireError::bad_request, 400, "bad_request", ErrorKind::usage},
    Row{WireError::digest_mismatch, 400, "digest_mismatch", ErrorKind::generic},
    Row{WireError::confirmation_required, 400, "confirmation_required", ErrorKind::usage},
    Row{WireError::unauthorized, 401, "unauthorized", ErrorKind::auth},
    Row{WireError::forbidden, 403, "forbidden", ErrorKind::auth},
    Row{WireError::not_found, 404, "not_found", ErrorKind::not_found},
    Row{WireError::method_not_allowed, 405, "method_not_allowed", ErrorKind::usage},
    Row{WireError::timeout, 408, "timeout", ErrorKind::network},
    Row{WireError::conflict, 409, "conflict", ErrorKind::conflict},
    Row{WireError::mount_disabled, 409, "mount_disabled", ErrorKind::conflict},
    Row{WireError::length_required, 411, "length_required", ErrorKind::usage},
    Row{WireError::precondition_failed, 412, "precondition_failed", ErrorKind::conflict},
    Row{WireError::too_large, 413, "too_large", ErrorKind::usage},
    Row{WireError::unsupported_media, 415, "unsupported_media", ErrorKind::usage},
    Row{WireError::range_not_satisfiable, 416, "range_not_satisfiable", ErrorKind::usage},
    Row{WireError::unprocessable, 422, "unprocessable", ErrorKind::usage},
    Row{WireError::too_many_requests, 429, "too_many_requests", ErrorKind::network},
    Row{WireError::gone, 410, "gone", ErrorKind::not_found},
    Row{WireError::checksum_mismatch, 460, "checksum_mismatch", ErrorKind::generic},
    Row{WireError::internal, 500, "internal", ErrorKind::generic},
    Row{WireError::unavailable, 503, "unavailable", ErrorKind::network},
    Row{WireError::quota_exceeded, 507, "quota_exceeded", ErrorKind::quota},
};

const Row& row(WireError e) {
    for (const auto& r : k_rows)
        if (r.e == e) return r;
    return k_rows[0];
}
}  // namespace

int http_status(WireError e) {
    return row(e).status;
}
std::string_view to_string(WireError e) {
    return row(e).name;
}

std::optional<WireError> wire_error_from_string(std::string_view s) {
    for (const auto& r : k_rows)
        if (r.name == s) return r.e;
    return std::nullopt;
}

ErrorKind error_kind_for(std::optional<WireError> wire, int status) {
    if (wire) return row(*wire).kind;
    switch (status) {
        case 401:
        case 403:
            return ErrorKind::auth;
        case 404:
            return ErrorKind::not_found;
        case 409:
        case 412:
            return ErrorKind::conflict;
        case 408:
        case 429:
        case 502:
        case 503:
        case 504:
            return ErrorKind::network;
        case 507:
            return ErrorKind::quota;
        default:
            return status >= 400 && status < 500 ? ErrorKind::usage : ErrorKind::generic;
    }
}

std::string content_digest(std::string_view sha256_hex) {
    std::array<std::uint8_t, 32> raw{};
    for (std::size_t i = 0; i < raw.size() && 2 * i + 1 < sha256_hex.size(); ++i) {
        auto nib = [](char c) -> std::uint8_t {
            return c <= '9' ? c - '0' : static_cast<std::uint8_t>(std::tolower(c) - 'a' + 10);
        };
        raw[i] =
            static_cast<std::uint8_t>(nib(sha256_hex[2 * i]) << 4 | nib(sha256_hex[2 * i + 1]));
    }
    return "sha-256=:" + base64_encode(raw) + ":";
}

namespace {
// The value of member `algo` (lower case) of an RFC 9530 digest dictionary
// ("algo=:BASE64:, ..."), as written (colons included); nullopt when absent.
std::optional<std::string_view> digest_member(std::string_view header, std::string_view algo) {
    while (!header.empty()) {
        auto comma = header.find(',');
        std::string_view member = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        while (!member.empty() && member.front() == ' ')
            member.remove_prefix(1);
        while (!member.empty() && member.back() == ' ')
            member.remove_suffix(1);
        auto eq = member.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(member.substr(0, eq));
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == algo) return member.substr(eq + 1);
    }
    return std::nullopt;
}
}  // namespace

std::optional<std::string> parse_content_digest(std::string_view header) {
    auto value = digest_member(header, "sha-256");
    if (!value) return std::nullopt;
    if (value->size() < 2 || value->front() != ':' || value->back() != ':') return std::nullopt;
    std::string raw;
    if (!base64_decode(value->substr(1, value->size() - 2), raw) || raw.size() != 32)
        return std::nullopt;
    return to_hex(std::span(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()));
}

std::string repr_digest_crc64(std::uint64_t crc) {
    return "crc64=:" + crc64_base64(crc) + ":";
}

std::optional<std::uint64_t> parse_digest_crc64(std::string_view header, bool& malformed) {
    malformed = false;
    auto value = digest_member(header, "crc64");
    if (!value) return std::nullopt;
    std::optional<std::uint64_t> crc;
    if (value->size() >= 2 && value->front() == ':' && value->back() == ':')
        crc = crc64_from_base64(value->substr(1, value->size() - 2));
    if (!crc) malformed = true;
    return crc;
}

std::optional<std::uint64_t> parse_digest_crc64(std::string_view header) {
    bool malformed = false;
    return parse_digest_crc64(header, malformed);
}

std::string etag_for(std::string_view sha256_hex) {
    std::string out = "\"";
    out += sha256_hex;
    out += '"';
    return out;
}

std::string_view unquote_etag(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    if (s.starts_with("W/")) s.remove_prefix(2);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return s;
}

std::optional<std::string> sha256_from_etag(std::string_view etag) {
    etag = unquote_etag(etag);
    if (etag.size() != 64) return std::nullopt;
    std::string out(etag);
    for (auto& c : out) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool etag_list_matches(std::string_view header, std::string_view sha256_hex) {
    std::size_t i = 0;
    while (i <= header.size()) {
        auto j = header.find(',', i);
        if (j == std::string_view::npos) j = header.size();
        auto tag = unquote_etag(header.substr(i, j - i));
        if (tag == "*" || tag == sha256_hex) return true;
        i = j + 1;
    }
    return false;
}

}  // namespace de::api

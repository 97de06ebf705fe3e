// Pure helpers of the HTTP layer (see http_util.hpp): URLs, header lines, the
// failure classifier and the retry policy. Kept apart from the libcurl
// transport so they are unit-tested without a network.
#include "http_util.hpp"

#include <de/api.hpp>
#include <de/config.hpp>
#include <de/json.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>
#include <de/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace de::http {

std::string percent_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    percent_encode_to(out, text);
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
    std::string_view s = trim_space(url);
    if (s.empty()) return bad("it is empty");
    for (unsigned char c : s)
        if (c <= 0x20 || c == 0x7f) return bad("it contains a space or control character");
    std::string out;
    auto scheme_end = s.find("://");
    if (scheme_end == std::string_view::npos) {
        // A bare host name, as the de CLI accepts it (de::default_scheme decides).
        out = std::string(default_scheme(s.substr(0, s.find('/')))) + "://";
    } else {
        std::string scheme = ascii_lower(s.substr(0, scheme_end));
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
    line = trim_space(line);
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
    line = trim_space(line);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view name = line.substr(0, colon);
    for (unsigned char c : name)
        if (c <= 0x20 || c >= 0x7f) return std::nullopt;
    return std::pair{ascii_lower(name), std::string(trim_space(line.substr(colon + 1)))};
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
    text = trim_space(text);
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

// ---- classifying failures ---------------------------------------------------

ErrorKind error_kind(TransportError::Kind kind) {
    using K = TransportError::Kind;
    switch (kind) {
        case K::interrupted:
            return ErrorKind::interrupted;
        case K::aborted:
        case K::other:
            return ErrorKind::generic;
        case K::resolve:
        case K::connect:
        case K::timeout:
        case K::tls:
        case K::io:
            break;
    }
    return ErrorKind::network;
}

bool transient(TransportError::Kind kind) {
    using K = TransportError::Kind;
    return kind == K::connect || kind == K::timeout || kind == K::io;
}

Error transport_error(const TransportError& e, std::string_view host, std::string_view what,
                      std::string_view host_hint) {
    using K = TransportError::Kind;
    Error error;
    error.kind = error_kind(e.kind);
    switch (e.kind) {
        case K::interrupted:
            error.message = fmt::format("{} interrupted", what);
            break;
        case K::resolve:
            error.message = fmt::format(
                "{} failed: the host name of {} is unknown ({}); {}", what, host, e.detail,
                host_hint.empty() ? "check the host URL for a typo" : host_hint);
            break;
        case K::connect:
            error.message = fmt::format(
                "{} failed: cannot connect to {} ({}); check the host URL and that the "
                "server is running",
                what, host, e.detail);
            break;
        case K::timeout:
            error.message = fmt::format(
                "{} failed: {} did not answer in time ({}); check the network and try again", what,
                host, e.detail);
            break;
        case K::tls:
            error.message = fmt::format(
                "{} failed: TLS with {} failed ({}); if the server uses a private CA, pass "
                "its certificate with --ca-path FILE",
                what, host, e.detail);
            break;
        case K::io:
            error.message = fmt::format("{} failed: the connection to {} broke ({}); try again",
                                        what, host, e.detail);
            break;
        case K::aborted:
        case K::other:
            error.message = fmt::format("{} failed talking to {}: {}", what, host, e.detail);
            break;
    }
    return error;
}

namespace {
// What to do next, when the server did not say.
std::string_view hint_for(ErrorKind kind, std::string_view api_kind) {
    if (api_kind == "mount_disabled")
        return "enable the app's persistent filesystem first (de-cli mount enable)";
    if (api_kind == "unavailable") return "the server is shutting down; try again shortly";
    switch (kind) {
        case ErrorKind::auth:
            return "check the username and the API key or token";
        case ErrorKind::network:
            return "check the network and try again";
        case ErrorKind::quota:
            return "free some space in the mount or ask for a larger quota";
        case ErrorKind::generic:
            return "try again; if it persists, report it to the server's admin";
        default:
            return {};
    }
}
}  // namespace

bool looks_like_de_server(const Headers& headers, std::string_view body) {
    if (headers.find(ascii_lower(api::k_header_server))) return true;
    if (auto server = headers.find("server"); server && server->starts_with("de-server"))
        return true;
    try {
        auto doc = nlohmann::json::parse(body);
        return doc.is_object() && doc.contains("error") && doc["error"].is_object() &&
               doc["error"].contains("kind") && doc["error"]["kind"].is_string();
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

namespace {
// The client's words for a cause the server named (api::reason).
std::string_view reason_text(std::string_view reason) {
    if (reason == api::reason::exists) return "the target exists already";
    if (reason == api::reason::not_empty) return "the folder is not empty";
    if (reason == api::reason::no_parent) return "the folder it goes into does not exist";
    return {};
}
}  // namespace

Error response_error(int status, std::string_view body, std::string_view what,
                     const ResponseContext& context) {
    using nlohmann::json;
    const bool gateway = status == 502 || status == 503 || status == 504;
    if (context.headers && (status < 200 || status >= 300) && !gateway &&
        !looks_like_de_server(*context.headers, body)) {
        Error error;
        error.kind = ErrorKind::network;
        error.http_status = status;
        error.message = fmt::format(
            "{} failed: {} answered HTTP {} but does not look like a de-server; {}", what,
            context.host.empty() ? std::string_view("the host") : context.host, status,
            context.host_hint.empty() ? "check the host URL" : context.host_hint);
        return error;
    }
    Error error;
    error.http_status = status;
    std::string server_message;
    std::optional<api::WireError> wire;
    std::optional<std::uint64_t> needed, available;
    try {
        json doc = json::parse(body);
        const json& e = doc.at("error");
        error.api_kind = e.at("kind").get<std::string>();
        server_message = e.value("message", "");
        if (auto it = e.find("reason"); it != e.end() && it->is_string())
            error.api_reason = it->get<std::string>();
        wire = api::wire_error_from_string(error.api_kind);
        if (auto it = e.find("needed_bytes"); it != e.end() && it->is_number_unsigned())
            needed = it->get<std::uint64_t>();
        if (auto it = e.find("available_bytes"); it != e.end() && it->is_number_unsigned())
            available = it->get<std::uint64_t>();
    } catch (const json::exception&) {
        // A HEAD answer, a proxy's HTML page, ...: the status says enough.
    }
    error.kind = api::error_kind_for(wire, status);
    if (server_message.empty()) {
        // The server's messages say what to do; without one, we say it.
        error.message = fmt::format("{} failed: HTTP {}", what, status);
        if (needed && available)
            error.message += fmt::format(" (needs {}, {} available)", format_size(*needed),
                                         format_size(*available));
        auto hint = error.kind == ErrorKind::auth && status == 401 && !context.auth_hint.empty()
                        ? context.auth_hint
                        : hint_for(error.kind, error.api_kind);
        if (!hint.empty()) error.message += fmt::format("; {}", hint);
    } else if (auto words = reason_text(error.api_reason); !words.empty()) {
        // The server's advice names wire parameters (overwrite=true, ...): ours does not.
        error.message = fmt::format("{} failed: {}", what, words);
    } else {
        error.message = fmt::format("{} failed: {}", what, server_message);
        if (error.kind == ErrorKind::auth && status == 401)
            error.message +=
                fmt::format("; {}", context.auth_hint.empty() ? hint_for(error.kind, error.api_kind)
                                                              : context.auth_hint);
        else if (error.kind == ErrorKind::quota)
            error.message += fmt::format("; {}", hint_for(error.kind, error.api_kind));
    }
    return error;
}

// ---- retrying ----------------------------------------------------------------

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

Retry::Retry(RetryPolicy policy, bool idempotent, std::uint32_t seed)
    : m_policy(policy), m_idempotent(idempotent), m_rng(seed ? seed : 1) {}

bool Retry::retryable(const Attempt& attempt) const {
    if (attempt.failure) {
        if (!m_idempotent) return *attempt.failure == TransportError::Kind::connect;
        return transient(*attempt.failure);
    }
    // 429: a de-server per-user limit refused the request before doing
    // anything (docs/api.md, "Limits"), so even a non-idempotent one may go again.
    if (!m_idempotent) return attempt.status == 503 || attempt.status == 429;
    return retryable_status(attempt.status) || attempt.status == 408 || attempt.status == 429;
}

bool outage(const Attempt& attempt) {
    if (attempt.failure)
        return *attempt.failure == TransportError::Kind::connect ||
               *attempt.failure == TransportError::Kind::io;
    return attempt.status == 502 || attempt.status == 503 || attempt.status == 504;
}

std::string format_wait(std::chrono::milliseconds wait) {
    if (wait.count() % 1000 == 0) return fmt::format("{} s", wait.count() / 1000);
    return fmt::format("{:.1f} s", static_cast<double>(wait.count()) / 1000.0);
}

Error outage_error(std::string_view what, std::string_view base_url,
                   std::chrono::milliseconds waited, const Attempt& last, std::string_view detail,
                   std::string_view next) {
    std::string reason;
    if (!last.failure) {
        reason = fmt::format("HTTP {}", last.status);
        if (last.status == 503) reason += ", shutting down or starting";
    } else if (*last.failure == TransportError::Kind::connect &&
               (detail.find("refused") != std::string_view::npos ||
                detail.find("Couldn't connect") != std::string_view::npos)) {
        reason = "connection refused";
    } else if (*last.failure == TransportError::Kind::io) {
        reason = fmt::format("the connection broke: {}", detail);
    } else {
        reason = std::string(detail);
    }
    return Error{ErrorKind::network,
                 fmt::format("{} failed: de-server at {} did not answer for {} ({}); {}", what,
                             base_url, format_wait(waited), reason, next),
                 0,
                 {}};
}

Retry::Verdict Retry::next(const Attempt& attempt, Clock::time_point now) {
    if (!retryable(attempt)) return {Action::give_up, {}};
    if (m_failures == 0) {
        m_failing_since = now;
        m_counted = 0;
    }
    const bool riding_out = m_policy.outage_budget.count() > 0 && outage(attempt);
    const auto budget = riding_out ? m_policy.outage_budget : m_policy.budget;
    const auto elapsed = now - m_failing_since;
    const bool out_of_count =
        !riding_out && m_policy.max_retries >= 0 && m_counted >= m_policy.max_retries;
    const bool out_of_time = budget.count() > 0 && elapsed > budget;
    if (out_of_count || out_of_time) return {Action::exhausted, {}};
    double unit = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
    Clock::duration delay = backoff_delay(m_policy, m_failures, unit);
    if (budget.count() > 0) delay = std::min<Clock::duration>(delay, budget - elapsed);
    ++m_failures;
    if (!riding_out) ++m_counted;
    ++m_retries;
    return {Action::retry, delay};
}

}  // namespace de::http

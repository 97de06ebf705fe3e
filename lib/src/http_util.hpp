#pragma once
// Pure pieces of the HTTP layer, free of libcurl so unit tests can reach them:
// building request URLs (percent-encoding remote paths and query values),
// parsing response header lines, the one classifier that turns a failed
// request into a de::Error, and the one retry policy. Private to libde.
//
// Every engine (Client's plain requests, the resumable upload, the parallel
// download, the batch upload) asks the same two questions here: "what kind of
// error is this?" (transport_error / response_error) and "send it again, after
// how long, is there budget left?" (Retry). Engines on a curl multi handle keep
// their own scheduling, but never their own answers to those questions.

#include <de/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
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

// ---- classifying failures ---------------------------------------------------

// A request that got no HTTP answer at all (libcurl's result, classified by
// http::classify_curl_code in http.cpp).
struct TransportError {
    enum class Kind {
        resolve,      // the host name does not resolve (not retried: a typo does not pass)
        connect,      // could not connect (refused, unreachable)
        timeout,      // connect or total timeout, or a stalled stream
        tls,          // certificate or handshake failure
        io,           // the connection broke mid-request
        interrupted,  // de::interrupt_requested()
        aborted,      // a callback (body sink, body reader) stopped the transfer
        other,
    };
    Kind kind = Kind::other;
    std::string detail;          // libcurl's message
    std::uint64_t received = 0;  // body bytes already passed to on_body
    // How often the request went out before it failed (see Response::sends):
    // a connect failure after one sending (libcurl's own resend on a fresh
    // connection, refused because the server died) still means the server
    // may have carried the request out.
    int sends = 0;
};

// ErrorKind of a transport failure: network, interrupted, or generic (a
// callback of ours stopped it, or libcurl failed in a way the network cannot explain).
ErrorKind error_kind(TransportError::Kind kind);
// A transport failure that may pass by itself (connect, timeout, io).
bool transient(TransportError::Kind kind);
// The de::Error for a transport failure talking to host; `what` names the operation.
// host_hint: what to do about a host name that does not resolve (empty: generic).
Error transport_error(const TransportError& error, std::string_view host, std::string_view what,
                      std::string_view host_hint = {});

// Whether an answer comes from a de-server: it carries X-De-Server (or
// "Server: de-server"), or its body is API v1's {"error":{"kind":...}}.
bool looks_like_de_server(const Headers& headers, std::string_view body);

// What response_error may use besides the status and body.
struct ResponseContext {
    // The answer's headers: when set, a non-2xx answer that does not look
    // like a de-server's (looks_like_de_server; 502/503/504 excepted, a
    // proxy's outage) is reported as "not a de-server" (ErrorKind::network).
    const Headers* headers = nullptr;
    std::string_view host;       // host label, for messages
    std::string_view host_hint;  // what to do about a wrong host; empty: "check the host URL"
    std::string_view auth_hint;  // what to do about refused credentials; empty: generic
};

// The de::Error for a non-2xx answer, from its {"error":{...}} body when it has
// one (kind through api::error_kind_for, the optional "reason" into
// Error::api_reason), else from the status; with a hint of what to do next.
// A known reason (api::reason) gets the client's own words, never the
// server's (whose advice names wire parameters).
Error response_error(int status, std::string_view body, std::string_view what,
                     const ResponseContext& context = {});

// ---- retrying ----------------------------------------------------------------

// Whether a response status is worth retrying: 5xx that may pass (500, 502,
// 503, 504, ...), but not 501/505 (will not change) nor 507 (quota).
bool retryable_status(int status);

// The default time libde rides out a server that is away (ClientOptions::retry_budget).
inline constexpr std::chrono::milliseconds k_default_outage_budget{30'000};

// The parameters of retrying; one Retry object applies them.
struct RetryPolicy {
    int max_retries = 3;  // sends after the first; negative: no limit (the budget decides)
    std::chrono::milliseconds base_delay{200};
    std::chrono::milliseconds max_delay{5'000};
    // Give up once failures have gone on this long without success (0: no limit).
    std::chrono::milliseconds budget{0};
    // Outages (outage(): refused or broken connections, 502/503/504) are sent
    // again without a count limit until they have lasted this long; 0: they
    // count against max_retries like any other failure.
    std::chrono::milliseconds outage_budget{0};
};

// Delay before retry number attempt (0-based): base * 2^attempt, capped, then
// scaled by a jitter factor in [0.75, 1.25) taken from unit in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double unit);

// What became of one attempt, as far as retrying goes: no answer (failure
// set), or an answer with this status.
struct Attempt {
    std::optional<TransportError::Kind> failure;
    int status = 0;
};

// What a server that is restarting or away looks like: the connection is
// refused or breaks, or a proxy or the server itself says 502/503/504.
bool outage(const Attempt& attempt);

// "2 s", "30 s", "0.5 s": a budget as messages say it.
std::string format_wait(std::chrono::milliseconds wait);
// The de::Error of a request that found the server away for the whole outage
// budget: "<what> failed: de-server at <base_url> did not answer for 30 s
// (connection refused); <next>". `detail` is libcurl's message of the last
// attempt (unused for a status). Kind network (exit 7).
Error outage_error(std::string_view what, std::string_view base_url,
                   std::chrono::milliseconds waited, const Attempt& last, std::string_view detail,
                   std::string_view next = "check that it is running, then try again");

// The retry decisions of one request, or of one stream of requests that
// share a fate (the PATCHes of one upload, the fetches of one range).
//
// - Idempotency: a request that is idempotent is sent again after a transient
//   failure (connect, timeout, broken connection) or a retryable status
//   (retryable_status, or 408). One that is not is sent again only when the
//   server cannot have acted on it: the connection was never made, or it
//   answered 503 (de-server says so before it reads a request).
// - Backoff: exponential with jitter (backoff_delay).
// - Budget: at most max_retries retries in a row, and at most `budget` of
//   time from the first failure after the last success. Outages (outage())
//   are exempt from the count when outage_budget is set: they are sent again
//   until they have lasted outage_budget, so a server restart is ridden out.
//   A delay never reaches past the budget that applies: the last attempt is
//   made when it ends.
class Retry {
  public:
    using Clock = std::chrono::steady_clock;
    enum class Action {
        retry,      // send again after `delay`
        give_up,    // not worth or not safe to send again: report this outcome
        exhausted,  // it would be, but the retries or the time budget are used up
    };
    struct Verdict {
        Action action = Action::give_up;
        Clock::duration delay{};
    };

    Retry() : Retry(RetryPolicy{}, true) {}
    Retry(RetryPolicy policy, bool idempotent, std::uint32_t seed = 0);

    // Whether an attempt's outcome is worth sending again at all (ignoring the budget).
    bool retryable(const Attempt& attempt) const;
    // After a failed attempt: the decision, counting the retry when it is one.
    Verdict next(const Attempt& attempt, Clock::time_point now = Clock::now());
    // The request (or stream) works again: the count and the time budget start afresh.
    void succeeded() { m_failures = 0; }

    int retries() const { return m_retries; }  // granted so far
    const RetryPolicy& policy() const { return m_policy; }
    // How long failures have gone on since the last success (0 when none).
    Clock::duration failing_for(Clock::time_point now = Clock::now()) const {
        return m_failures == 0 ? Clock::duration{} : now - m_failing_since;
    }

  private:
    RetryPolicy m_policy;
    bool m_idempotent = true;
    int m_failures = 0;  // in a row, since the last success
    int m_counted = 0;   // of which count against max_retries
    int m_retries = 0;
    Clock::time_point m_failing_since{};
    std::minstd_rand m_rng;
};

}  // namespace de::http

// de-server's network layer on Boost.Beast with C++20 coroutines (Beast's
// advanced_server shape): a listener, one coroutine per connection on its own
// strand, a deadline before every read and write, and the dispatch of each
// request. Each request's header is read first; authentication, the route and
// the method are checked before a byte of a body is read. Then the request
// goes to its handler: the streaming ones (files.hpp: GET/HEAD/PUT of a file
// and the manifest; batch.hpp; tus.hpp) answer on the stream themselves, the
// JSON ones are read whole (64 KiB at most) and answered by Api::handle, a
// function from request to response over the storage layer (router.hpp).
//
// With --tls-cert/--tls-key every connection is TLS (stream.hpp, tls.hpp): the
// handshake comes first, within --header-timeout, and the handlers see the
// same Stream either way.
//
// Shutdown (SIGINT/SIGTERM): stop accepting, close idle connections, let
// requests in flight finish for `shutdown_grace`, then close what is left; an
// aborted upload's staging file is removed when its coroutine unwinds, and the
// staging folders are emptied once more after the last thread stops.
#include "server.hpp"

#include "archive_send.hpp"
#include "batch.hpp"
#include "dav.hpp"
#include "dav_locks.hpp"
#include "dav_props.hpp"
#include "exchange.hpp"
#include "files.hpp"
#include "limits.hpp"
#include "metrics.hpp"
#include "router.hpp"
#include "stream.hpp"
#include "tls.hpp"
#include "tus.hpp"

#include <de/json.hpp>
#include <de/remote_path.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <malloc.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <thread>
#include <vector>
#ifdef DE_TEST_HOOKS
#include <cstdlib>
#include <mutex>
#include <regex>
#endif

namespace de::server {

using tcp = asio::ip::tcp;
using api::WireError;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::size_t k_header_limit = 16 * 1024;
// Lingering close (Server::linger_close): how long and how much.
constexpr auto k_linger_time = std::chrono::seconds(2);
constexpr std::uint64_t k_linger_bytes = 64ull << 20;
// The client's address as the access log shows it.
std::string peer_address(Stream& stream) {
    boost::system::error_code ec;
    auto peer = stream.socket().remote_endpoint(ec);
    return ec ? std::string("?") : peer.address().to_string();
}
struct SessionSlot {
    std::weak_ptr<Stream> stream;
    bool idle = true;
};

}  // namespace

#ifdef DE_TEST_HOOKS
// ---- Test hook (DE_TEST_HOOKS builds only): a lost answer ------------------
// DE_SERVER_TEST_DROP_ANSWER="METHOD PATH-REGEX:N" (several joined by ';'):
// the N-th request (from 1) with that method whose path (without the query)
// matches PATH-REGEX (std::regex_search, so a plain prefix such as
// /api/v1/apps/a/mount/move works) is carried out as usual, but its answer is
// never sent: the connection is closed instead, as when an answer is lost on
// the way back. Used by the client's retry tests (tests/integration/
// test_cli_lost_answer.sh). DE_SERVER_TEST_DIE_AFTER, same form: the request
// is carried out and then the whole server exits at once (_exit) instead of
// answering, as when it is killed right after the work: a client whose
// request went out on a reused connection then finds nothing listening when
// libcurl sends it again (tests/integration/test_cli_restart.sh). Nothing else
// in the server depends on them.
namespace drop_answer {
struct Rule {
    std::string method;
    std::regex path;
    std::uint64_t nth = 0;
    std::uint64_t seen = 0;
    bool die = false;
};
struct Doom {
    std::string request;
    bool die = false;
};
std::mutex g_mutex;
std::map<const void*, Doom> g_doomed;  // stream -> the request whose answer goes

void parse_rules(const char* variable, bool die, std::vector<Rule>& rules) {
    const char* env = std::getenv(variable);
    std::string_view text = env ? env : "";
    while (!text.empty()) {
        auto end = text.find(';');
        std::string_view item = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        auto space = item.find(' ');
        auto colon = item.rfind(':');
        std::uint64_t nth = 0;
        if (space != std::string_view::npos && colon != std::string_view::npos && colon > space)
            std::from_chars(item.data() + colon + 1, item.data() + item.size(), nth);
        try {
            if (nth == 0) throw std::regex_error(std::regex_constants::error_collate);
            rules.push_back(Rule{std::string(item.substr(0, space)),
                                 std::regex(std::string(item.substr(space + 1, colon - space - 1))),
                                 nth, 0, die});
        } catch (const std::regex_error&) {
            fmt::print(stderr, "de-server: ignoring {} item '{}'\n", variable, item);
        }
    }
}

std::vector<Rule> parse_rules() {
    std::vector<Rule> rules;
    parse_rules("DE_SERVER_TEST_DROP_ANSWER", false, rules);
    parse_rules("DE_SERVER_TEST_DIE_AFTER", true, rules);
    return rules;
}

// Called for every request: marks the stream when this request's answer is to go.
void note_request(const void* stream, const std::string& method, const std::string& path) {
    static std::vector<Rule> rules = parse_rules();
    std::lock_guard guard(g_mutex);
    g_doomed.erase(stream);
    for (auto& rule : rules) {
        if (rule.method != method || !std::regex_search(path, rule.path)) continue;
        if (++rule.seen == rule.nth) g_doomed[stream] = Doom{method + " " + path, rule.die};
    }
}

// Whether the answer about to be written on stream is to go (once).
bool take(const void* stream) {
    std::lock_guard guard(g_mutex);
    auto it = g_doomed.find(stream);
    if (it == g_doomed.end()) return false;
    fmt::print(stderr, "test hook: the answer to {} is dropped{}\n", it->second.request,
               it->second.die ? " and de-server exits" : "");
    if (it->second.die) std::_Exit(137);
    g_doomed.erase(it);
    return true;
}
}  // namespace drop_answer
#endif

bool parse_listen(std::string_view text, std::string& address, unsigned short& port) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']') return false;
        host = host.substr(1, host.size() - 2);
    }
    unsigned int p = 0;
    std::string_view ps = text.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), p);
    if (ps.empty() || ec != std::errc() || ptr != ps.data() + ps.size() || p > 65535) return false;
    boost::system::error_code bec;
    asio::ip::make_address(std::string(host), bec);
    if (bec) return false;
    address = std::string(host);
    port = static_cast<unsigned short>(p);
    return true;
}

class Server {
  public:
    explicit Server(const ServerOptions& o)
        : m_opts(o),
          m_users(o.root),
          m_apps(o.root),
          m_mounts(m_apps, o.quota_bytes, o.min_free, o.max_entries),
          m_api(m_users, m_apps, m_mounts),
          m_dav_locks(o.root),
          m_ctx{m_opts, m_api, m_mounts, m_apps, m_pool, m_dav_locks},
          m_tus(m_ctx),
          m_limits(o.limits),
          m_throttle(o.limits.auth_failures),
          m_telemetry(o.root, m_mounts, m_apps),
          m_acceptor(m_ioc),
          m_signals(m_ioc, SIGINT, SIGTERM) {}

    int run();

  private:
    awaitable<void> accept_loop();
    awaitable<void> session(tcp::socket socket);
    awaitable<bool> tls_handshake(Stream& stream);
    awaitable<void> on_signal();
    awaitable<void> reap_loop();
    // Handles one request whose header is in `hp`. Returns whether the
    // connection may carry another request.
    // `client` is the peer's address (the failed-authentication throttle's
    // key); `held` the connection's slot in its user's connection limit.
    awaitable<bool> handle(Stream& stream, beast::flat_buffer& buffer,
                           http::request_parser<http::empty_body>& hp, const std::string& client,
                           UserLimits::Slot& held);
    awaitable<bool> send(Stream& stream, const Response& r, unsigned version, bool keep_alive,
                         bool head = false);
    ApiResult<Caller> authenticate(const Credentials& creds);
    // A request refused before it was routed (its header was malformed, too
    // big or too slow, or its framing bad), for the metrics and the access log.
    void observe_unread(Stream& stream, int status, std::chrono::steady_clock::time_point started,
                        std::string_view method = {}, std::string_view target = {});
    void set_idle(std::uint64_t id, bool idle);
    void close_sessions(bool idle_only);
    bool all_sessions_idle();

    ServerOptions m_opts;
    std::unique_ptr<asio::ssl::context> m_tls;  // set when serving HTTPS
    UserStore m_users;
    AppStore m_apps;
    MountStore m_mounts;
    Api m_api;
    asio::io_context m_ioc;
    // Hashes and writes upload buffers while the session reads the next one.
    // Declared after m_ioc so it is joined before the io_context goes.
    asio::thread_pool m_pool{2};
    dav::LockTable m_dav_locks;
    ServerContext m_ctx;
    TusService m_tus;
    UserLimits m_limits;
    AuthThrottle m_throttle;
    Telemetry m_telemetry;  // metrics, access log, probes (metrics.hpp)
    tcp::acceptor m_acceptor;
    asio::signal_set m_signals;
    std::atomic<bool> m_stopping{false};
    std::mutex m_sessions_mutex;
    std::map<std::uint64_t, SessionSlot> m_sessions;
    std::uint64_t m_next_id = 0;
};

ApiResult<Caller> Server::authenticate(const Credentials& creds) {
    Caller c;
    switch (creds.scheme) {
        case Credentials::Scheme::basic:
            if (auto u = m_users.check_key(creds.username, creds.secret)) {
                c.username = *u;
                return c;
            }
            break;
        case Credentials::Scheme::bearer:
            if (auto u = m_users.check_token(creds.secret)) {
                c.username = *u;
                c.bearer = true;
                c.token = creds.secret;
                return c;
            }
            break;
        case Credentials::Scheme::none:
            return api_fail(WireError::unauthorized,
                            "authentication required: HTTP Basic (username and API key) or a "
                            "Bearer token from POST /api/v1/login");
        case Credentials::Scheme::malformed:
            break;
    }
    return api_fail(WireError::unauthorized, "wrong or unknown credentials");
}

awaitable<bool> send_response(Stream& stream, const Response& r, unsigned version, bool keep_alive,
                              std::chrono::milliseconds timeout, bool head) {
#ifdef DE_TEST_HOOKS
    if (drop_answer::take(&stream)) {  // the test hook above: the answer is lost
        stream.close();
        co_return false;
    }
#endif
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "de-server");
    res.set(bsv(api::k_header_server), DE_SERVER_VERSION);
    for (const auto& [k, v] : r.headers)
        res.set(k, v);
    if (!r.body.empty() || r.status != 204) {
        if (!r.content_type.empty() && !r.body.empty())
            res.set(http::field::content_type, r.content_type);
    }
    res.body() = head ? std::string() : r.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    if (head) res.content_length(r.body.size());
    // Written piece by piece, each piece within `timeout`: a client that reads
    // slowly is served, one that stops reading is cut (de-server --send-timeout).
    boost::system::error_code ec;
    http::response_serializer<http::string_body> sr{res};
    if (head) sr.split(true);
    while (!ec && !(head ? sr.is_header_done() : sr.is_done())) {
        stream.expires_after(timeout);
        co_await http::async_write_some(stream, sr, asio::redirect_error(use_awaitable, ec));
    }
    co_return !ec && keep_alive;
}

awaitable<bool> Server::send(Stream& stream, const Response& r, unsigned version, bool keep_alive,
                             bool head) {
    co_return co_await send_response(stream, r, version, keep_alive, m_opts.send_timeout, head);
}

awaitable<bool> Server::handle(Stream& stream, beast::flat_buffer& buffer,
                               http::request_parser<http::empty_body>& hp,
                               const std::string& client, UserLimits::Slot& held) {
    auto started = std::chrono::steady_clock::now();
    const auto& h = hp.get();
    std::string method(sv(h.method_string()));
    std::string target(sv(h.target()));
    unsigned version = h.version();
    bool keep_alive = h.keep_alive() && !m_stopping;
    int status = 0;
    bool keep = false;
#ifdef DE_TEST_HOOKS
    drop_answer::note_request(&stream, method, target.substr(0, target.find('?')));
#endif
    RequestRecord record;  // what the metrics and the access log get (metrics.hpp)
    record.method = method;
    record.target = target;
    std::string remote;
    if (m_telemetry.wants_remote()) record.remote = remote = peer_address(stream);

    auto log = [&] {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
        // The target never carries credentials (they travel in Authorization,
        // which is never logged); the query part is dropped anyway.
        auto q = target.find('?');
        fmt::print(stderr, "{} {:.300} {} {}ms\n", method, target.substr(0, q), status, ms);
        record.status = status;
        record.duration = std::chrono::steady_clock::now() - started;
        record.bytes_in = stream.tcp().rate_policy().request_read();
        record.bytes_out = stream.tcp().rate_policy().request_written();
        m_telemetry.finished(record);
    };
    // Answers an error before the body was read: the connection closes unless
    // the request had no body.
    auto early = [&](const ApiError& e) -> awaitable<bool> {
        status = api::http_status(e.kind);
        Response r = error_response(e);
        if (e.kind == WireError::method_not_allowed) {
            if (auto route = match_route(parse_target(target).value_or(Target{}).path))
                r.headers.emplace_back("Allow", std::string(allowed_methods(route->id)));
        }
        co_return co_await send(stream, r, version, keep_alive && hp.is_done(),
                                h.method() == http::verb::head);
    };

    auto parsed = parse_target(target);
    if (!parsed) {
        ApiError err_{WireError::bad_request, "malformed percent-encoding in the query", {}};
        keep = co_await early(err_);
        log();
        co_return keep;
    }
    auto route = match_route(parsed->path);
    if (route) record.route = route->id;
    // While draining, only the probes and the metrics are answered.
    if (m_stopping && !(route && is_ops_route(route->id))) {
        ApiError err_{WireError::unavailable, "the server is shutting down", {}};
        keep = co_await early(err_);
        log();
        co_return false;
    }
    if (!route) {
        keep = co_await early(route.error());
        log();
        co_return keep;
    }
    if (!method_allowed(route->id, method)) {
        ApiError err_{
            WireError::method_not_allowed,
            fmt::format("{} is not allowed here; use {}", method, allowed_methods(route->id)),
            {}};
        keep = co_await early(err_);
        log();
        co_return keep;
    }
    bool tus_route = route->id == RouteId::uploads || route->id == RouteId::upload ||
                     route->id == RouteId::upload_complete;
    // A refusal for load (a per-user limit, the descriptor reserve, slowed
    // authentication): a JSON error with Retry-After; the connection closes.
    auto busy = [&](const ApiError& e, int retry_after_s) -> awaitable<bool> {
        status = api::http_status(e.kind);
        Response r = error_response(e);
        r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
        co_return co_await send(stream, r, version, false, h.method() == http::verb::head);
    };
    Caller caller;
    // tus clients discover the server's capabilities with an unauthenticated
    // OPTIONS; it reveals nothing about the app.
    if (route->id != RouteId::health && !is_ops_route(route->id) &&
        !(tus_route && method == "OPTIONS")) {
        auto creds = parse_authorization(sv(h[http::field::authorization]));
        auto c = authenticate(creds);
        if (!c) {
            // Valid credentials never get here, so the owner is never slowed;
            // wrong ones, past the throttle's count, wait and get 429.
            AuthThrottle::Verdict v;
            if (creds.scheme != Credentials::Scheme::none)
                v = m_throttle.failed(client,
                                      creds.scheme == Credentials::Scheme::basic
                                          ? std::string_view(creds.username)
                                          : std::string_view(),
                                      std::chrono::steady_clock::now());
            if (!v.slowed) {
                keep = co_await early(c.error());
                log();
                co_return keep;
            }
            if (v.delay.count() > 0 && m_throttle.park(client)) {
                asio::steady_timer wait(stream.get_executor(), v.delay);
                boost::system::error_code wec;
                co_await wait.async_wait(asio::redirect_error(use_awaitable, wec));
                m_throttle.unpark(client);
            }
            ApiError e{WireError::too_many_requests,
                       fmt::format("too many failed authentications from this client; wrong or "
                                   "unknown credentials; try again in {} s",
                                   v.retry_after_s),
                       {{"retry_after_s", v.retry_after_s}}};
            keep = co_await busy(e, v.retry_after_s);
            log();
            co_return false;
        }
        caller = std::move(*c);
        record.user = caller.username;
        // The connection counts against its user from its first request.
        if (!held.held() || held.user() != caller.username) {
            held.release();
            auto slot = m_limits.take(caller.username, Hold::connection);
            if (!slot) {
                ApiError e{WireError::too_many_requests,
                           fmt::format("user '{}' has {} connections open, the most one user may "
                                       "hold (de-server --max-connections-per-user); close some "
                                       "or try again shortly",
                                       caller.username, m_limits.limit(Hold::connection)),
                           {{"limit", m_limits.limit(Hold::connection)}, {"retry_after_s", 1}}};
                keep = co_await busy(e, 1);
                log();
                co_return false;
            }
            held = std::move(*slot);
        }
    }
    if (auto fenced =
            m_api.check_sync_lease(method, *route, caller, sv(h[bsv(api::k_header_sync_lease)]));
        !fenced) {
        keep = co_await early(fenced.error());
        log();
        co_return keep;
    }

    // What the request holds while it runs: a download, a manifest or a
    // listing is a stream, a body to store an upload. Each counts against its
    // user's limit, and is refused while the descriptor reserve is reached.
    std::optional<Hold> hold;
    bool dav = route->id == RouteId::dav;
    if (((route->id == RouteId::files || dav) && method == "GET") ||
        route->id == RouteId::manifest || route->id == RouteId::list ||
        route->id == RouteId::archive || (dav && method == "PROPFIND"))
        hold = Hold::stream;
    else if (((route->id == RouteId::files || dav) && method == "PUT") ||
             route->id == RouteId::batch || (route->id == RouteId::uploads && method == "POST") ||
             (route->id == RouteId::upload && method == "PATCH"))
        hold = Hold::upload;
    Metrics::Held uploading;  // de_uploads_in_flight
    if (hold == Hold::upload) uploading = m_telemetry.upload();
    UserLimits::Slot op_slot;
    if (hold && !caller.username.empty()) {
        const char* what = *hold == Hold::stream ? "downloads, manifests and listings" : "uploads";
        const char* flag =
            *hold == Hold::stream ? "--max-streams-per-user" : "--max-uploads-per-user";
        // The last descriptors go to users with nothing in flight: one who
        // holds streams or uploads already needs twice the reserve free, so a
        // user who fills the server leaves room for the others' first ones.
        int reserve = m_opts.limits.descriptor_reserve;
        if (m_limits.held(caller.username, Hold::stream) +
                m_limits.held(caller.username, Hold::upload) >
            0)
            reserve *= 2;
        auto slot = m_limits.take(caller.username, *hold);
        if (!slot) {
            ApiError e{WireError::too_many_requests,
                       fmt::format("user '{}' has {} {} in flight, the most one user may hold "
                                   "(de-server {}); finish or close some, or try again shortly",
                                   caller.username, m_limits.limit(*hold), what, flag),
                       {{"limit", m_limits.limit(*hold)}, {"retry_after_s", 1}}};
            keep = co_await busy(e, 1);
            log();
            co_return false;
        }
        if (!descriptors_spare(reserve)) {
            ApiError e{WireError::unavailable,
                       "the server is near its limit of open files and keeps the rest for "
                       "small requests; try again shortly",
                       {{"retry_after_s", 1}}};
            keep = co_await busy(e, 1);
            log();
            co_return false;
        }
        op_slot = std::move(*slot);
    }

    // The streaming routes answer on the stream themselves; the others are JSON.
    using Handler = awaitable<bool> (*)(ServerContext&, Exchange&);
    Handler streaming = nullptr;
    bool read_whole = true;  // the request has no body (GET, HEAD, manifest)
    if (route->id == RouteId::files && (method == "GET" || method == "HEAD")) {
        streaming = handle_file_get;
    } else if (route->id == RouteId::files && method == "PUT") {
        streaming = handle_file_put;
        read_whole = false;
    } else if (route->id == RouteId::manifest) {
        streaming = handle_manifest;
    } else if (route->id == RouteId::batch) {
        streaming = handle_batch;
        read_whole = false;
    } else if (route->id == RouteId::archive) {
        streaming = handle_archive;
        read_whole = false;
    }
    if (tus_route) {
        Exchange x{stream, buffer, hp, *route, parsed->query, caller, keep_alive, 0};
        keep = co_await m_tus.handle(x);
        status = x.status;
    } else if (dav) {
        Exchange x{stream, buffer, hp, *route, parsed->query, caller, keep_alive, 0};
        keep = co_await handle_dav(m_ctx, x);
        status = x.status;
    } else if (streaming) {
        Exchange x{stream,
                   buffer,
                   hp,
                   *route,
                   parsed->query,
                   caller,
                   read_whole ? keep_alive && hp.is_done() : keep_alive,
                   0};
        keep = co_await streaming(m_ctx, x);
        status = x.status;
    } else {
        // A JSON route: read the (small) body, then answer from memory.
        std::string content_type(sv(h[http::field::content_type]));
        bool expect_continue = beast::iequals(h[http::field::expect], "100-continue");
        http::request_parser<http::string_body> sp{std::move(hp)};
        sp.body_limit(api::k_json_body_limit);
        boost::system::error_code ec;
        bool too_big = sp.content_length() && *sp.content_length() > api::k_json_body_limit;
        if (too_big) ec = http::error::body_limit;
        if (!too_big)
            ec = co_await read_small_body(stream, buffer, sp, expect_continue, version,
                                          m_opts.body_timeout);
        if (ec) {
            if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
                ApiError e{WireError::too_large, "a JSON body is limited to 64 KiB", {}};
                status = 413;
                Response r = error_response(e);
                co_await send(stream, r, version, false);
            } else if (ec != beast::error::timeout && ec != http::error::end_of_stream &&
                       ec != asio::error::eof && ec != asio::error::connection_reset) {
                ApiError e{WireError::bad_request, "malformed request body: " + ec.message(), {}};
                status = 400;
                Response r = error_response(e);
                co_await send(stream, r, version, false);
            }
            log();
            co_return false;
        }
        JsonRequest req{method, *route, parsed->query, content_type, sp.get().body(), caller};
        Response r =
            is_ops_route(route->id) ? m_telemetry.answer(route->id, m_stopping) : m_api.handle(req);
        status = r.status;
        keep = co_await send(stream, r, version, keep_alive);
    }
    log();
    co_return keep;
}

void Server::observe_unread(Stream& stream, int status,
                            std::chrono::steady_clock::time_point started, std::string_view method,
                            std::string_view target) {
    RequestRecord record;
    record.method = method;
    record.target = target;
    std::string remote;
    if (m_telemetry.wants_remote()) record.remote = remote = peer_address(stream);
    record.status = status;
    record.duration = std::chrono::steady_clock::now() - started;
    record.bytes_in = stream.tcp().rate_policy().request_read();
    record.bytes_out = stream.tcp().rate_policy().request_written();
    m_telemetry.finished(record);
}

void Server::set_idle(std::uint64_t id, bool idle) {
    std::lock_guard guard(m_sessions_mutex);
    if (auto it = m_sessions.find(id); it != m_sessions.end()) it->second.idle = idle;
}

void Server::close_sessions(bool idle_only) {
    std::lock_guard guard(m_sessions_mutex);
    for (auto& [id, slot] : m_sessions) {
        if (idle_only && !slot.idle) continue;
        if (auto s = slot.stream.lock()) {
            asio::post(s->get_executor(), [w = slot.stream] {
                if (auto st = w.lock()) st->close();
            });
        }
    }
}

// The TLS handshake, within --header-timeout (a client that connects and says
// nothing is cut then). A failure is logged once, without the client's
// address (the request log has none either), and ends the connection: a
// plain-HTTP request to the HTTPS port fails here ("http request"). A client
// that just connects and goes away (a port probe) is not logged.
awaitable<bool> Server::tls_handshake(Stream& stream) {
    stream.expires_after(m_opts.header_timeout);
    boost::system::error_code ec;
    co_await stream.async_handshake(asio::redirect_error(use_awaitable, ec));
    if (!ec) co_return true;
    if (ec == beast::error::timeout)
        fmt::print(stderr, "- - TLS handshake timed out ({} ms)\n", m_opts.header_timeout.count());
    else if (ec != asio::error::eof && ec != asio::error::connection_reset &&
             ec != asio::ssl::error::stream_truncated && ec != asio::error::operation_aborted &&
             ec != asio::error::bad_descriptor)
        fmt::print(stderr, "- - TLS handshake failed: {}\n", ec.message());
    co_return false;
}

namespace {

// Lingering close, as nginx's lingering_close: a client may still be sending a
// body that was answered early (412, 401, 507, 413). Closing a socket with
// unread bytes makes the kernel reset the connection, and a reset can destroy
// the answer before the client reads it (it sees EPIPE or ECONNRESET instead
// of the 412). So after the last answer the sending side is shut and what
// still arrives is read and dropped, for a short while and a bounded amount.
// Over TLS the close_notify alert goes first (without waiting for the
// client's: the TCP connection closes next), then the same happens beneath
// TLS: what still arrives is dropped undecrypted.
awaitable<void> linger_close(Stream& stream, bool tls_open) {
    boost::system::error_code ec;
    stream.expires_after(k_linger_time);
    if (tls_open && stream.socket().is_open())
        co_await stream.async_close_notify(asio::redirect_error(use_awaitable, ec));
    auto& lowest = stream.tcp();
    lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (!ec && lowest.socket().is_open()) {
        std::uint64_t drained = 0;
        std::array<char, 64 * 1024> sink;
        while (drained < k_linger_bytes) {
            auto n = co_await lowest.async_read_some(asio::buffer(sink),
                                                     asio::redirect_error(use_awaitable, ec));
            if (ec) break;
            drained += n;
        }
    }
    lowest.socket().close(ec);
}

}  // namespace

awaitable<void> Server::session(tcp::socket socket) {
    auto stream = m_tls ? std::make_shared<Stream>(std::move(socket), *m_tls)
                        : std::make_shared<Stream>(std::move(socket));
    std::uint64_t id;
    {
        std::lock_guard guard(m_sessions_mutex);
        id = m_next_id++;
        m_sessions[id] = SessionSlot{stream, true};
    }
    beast::flat_buffer buffer;
    std::string client;
    {
        boost::system::error_code aec;
        auto peer = stream->socket().remote_endpoint(aec);
        client = aec ? std::string("?") : AuthThrottle::client_key(peer.address().to_string());
    }
    UserLimits::Slot held;  // this connection's unit of its user's connection limit
    auto counted = m_telemetry.connection();  // de_connections_open, while this lives
    struct HeaderWatch {
        bool reading = false;
        bool timed_out = false;
    };
    auto watch = std::make_shared<HeaderWatch>();
    std::weak_ptr<Stream> weak = stream;
    asio::steady_timer header_timer(stream->get_executor());
    bool tls_open = false;  // a TLS session is up: it ends with close_notify
    try {
        if (stream->is_tls()) tls_open = co_await tls_handshake(*stream);
        bool open = !stream->is_tls() || tls_open;
        while (open && !m_stopping) {
            http::request_parser<http::empty_body> hp;
            hp.header_limit(k_header_limit);
            hp.body_limit(
                std::numeric_limits<std::uint64_t>::max());  // boost::none misbehaves in 1.74
            set_idle(id, true);
            // Beast's own deadline closes the socket, leaving no way to answer; this
            // timer only shuts the receiving side, so a 408 can still be written.
            // Beast's deadline stays as a backstop.
            watch->reading = true;
            watch->timed_out = false;
            header_timer.expires_after(m_opts.header_timeout);
            header_timer.async_wait([watch, weak](boost::system::error_code te) {
                if (te || !watch->reading) return;
                watch->timed_out = true;
                if (auto st = weak.lock()) {
                    boost::system::error_code ig;
                    st->socket().shutdown(tcp::socket::shutdown_receive, ig);
                }
            });
            stream->expires_after(m_opts.header_timeout + std::chrono::seconds(5));
            stream->tcp().rate_policy().start_request();
            auto header_started = std::chrono::steady_clock::now();
            boost::system::error_code ec;
            co_await http::async_read_header(*stream, buffer, hp,
                                             asio::redirect_error(use_awaitable, ec));
            watch->reading = false;
            header_timer.cancel();
            set_idle(id, false);
            if (ec) {
                if (watch->timed_out) {
                    if (buffer.size() > 0) {
                        ApiError e{WireError::timeout,
                                   fmt::format("the request headers did not arrive within {} ms",
                                               m_opts.header_timeout.count()),
                                   {}};
                        Response r = error_response(e);
                        co_await send(*stream, r, 11, false);
                        fmt::print(stderr, "- - 408 (request headers timed out)\n");
                        observe_unread(*stream, 408, header_started);
                    }
                } else if (ec == http::error::header_limit) {
                    ApiError e{
                        WireError::too_large, "request line and headers are limited to 16 KiB", {}};
                    Response r = error_response(e);
                    co_await send(*stream, r, 11, false);
                    fmt::print(stderr, "- - 413 (headers over 16 KiB)\n");
                    observe_unread(*stream, 413, header_started);
                } else if (ec == beast::error::timeout) {
                    if (buffer.size() > 0) {
                        fmt::print(stderr, "- - 408 (request headers timed out)\n");
                        observe_unread(*stream, 0, header_started);
                    }
                } else if (ec.category() == asio::error::get_ssl_category() ||
                           ec == asio::ssl::error::stream_truncated) {
                    // TLS itself broke (the client went without close_notify,
                    // a bad record): nothing can be answered on it.
                    tls_open = false;
                } else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                           ec != asio::error::connection_reset &&
                           ec != asio::error::operation_aborted &&
                           ec != asio::error::bad_descriptor) {
                    ApiError e{
                        WireError::bad_request, "malformed HTTP request: " + ec.message(), {}};
                    Response r = error_response(e);
                    co_await send(*stream, r, 11, false);
                    fmt::print(stderr, "- - 400 (malformed request: {})\n", ec.message());
                    observe_unread(*stream, 400, header_started);
                }
                break;
            }
            if (auto framing = check_framing(hp.get()); framing.status != 0) {
                ApiError e{WireError::bad_request, framing.message, {}};
                Response r = error_response(e);
                r.status = framing.status;  // 501 for a transfer coding not implemented
                co_await send(*stream, r, hp.get().version() == 10 ? 10 : 11, false);
                fmt::print(stderr, "- - {} ({})\n", framing.status, framing.message);
                observe_unread(*stream, framing.status, header_started,
                               sv(hp.get().method_string()), sv(hp.get().target()));
                break;
            }
            if (!co_await handle(*stream, buffer, hp, client, held)) break;
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "connection error: {}\n", e.what());
    }
    co_await linger_close(*stream, tls_open);
    held.release();
    std::lock_guard guard(m_sessions_mutex);
    m_sessions.erase(id);
}

awaitable<void> Server::accept_loop() {
    while (!m_stopping) {
        boost::system::error_code ec;
        tcp::socket socket = co_await m_acceptor.async_accept(
            asio::make_strand(m_ioc), asio::redirect_error(use_awaitable, ec));
        if (ec) {
            if (m_stopping || ec == asio::error::operation_aborted) break;
            // EMFILE and friends: back off a little instead of spinning.
            asio::steady_timer t(m_ioc, std::chrono::milliseconds(50));
            co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        auto ex = socket.get_executor();
        asio::co_spawn(ex, session(std::move(socket)), asio::detached);
    }
}

awaitable<void> Server::on_signal() {
    boost::system::error_code ec;
    int sig = co_await m_signals.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    fmt::print(stderr, "signal {}: stopping (in-flight requests get {} ms)\n", sig,
               m_opts.shutdown_grace.count());
    m_stopping = true;
    m_acceptor.close(ec);
    close_sessions(true);
    auto deadline = std::chrono::steady_clock::now() + m_opts.shutdown_grace;
    asio::steady_timer t(m_ioc);
    auto remaining = [&] {
        std::lock_guard guard(m_sessions_mutex);
        return m_sessions.size();
    };
    while (remaining() > 0 && std::chrono::steady_clock::now() < deadline) {
        close_sessions(true);
        t.expires_after(std::chrono::milliseconds(20));
        co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (remaining() > 0) {
        fmt::print(stderr, "closing {} connection(s) still busy\n", remaining());
        close_sessions(false);
        auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (remaining() > 0 && std::chrono::steady_clock::now() < hard) {
            t.expires_after(std::chrono::milliseconds(20));
            co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
        }
    }
    m_ioc.stop();
}

awaitable<void> Server::reap_loop() {
    asio::steady_timer t(m_ioc);
    int quiet_ticks = 0;
    int ticks = 0;
    while (!m_stopping) {
        t.expires_after(std::chrono::seconds(1));
        boost::system::error_code ec;
        co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
        if (m_stopping) break;
        m_tus.reap();
        // What another replica killed mid-write left (AppStore::prepare
        // removes it at start; a replica that is not restarted never does).
        // A few small folders read every 5 minutes, here like m_tus.reap().
        if (++ticks % 300 == 0)
            if (auto removed = m_apps.remove_stale_temps())
                fmt::print(stderr, "removed {} temporary file(s) a stopped de-server left\n",
                           removed);
        // Once no connection has been busy for a tick, memory goes back to the
        // system: the tus body buffers kept for the next PATCH and what malloc
        // keeps in its arenas after a big upload or batch (measured: 28 MiB
        // resident after a 2 GiB upload against 9 MiB fresh, adding 19 MiB to
        // the peak of a following 20k-file batch).
        if (!all_sessions_idle())
            quiet_ticks = 0;
        else if (++quiet_ticks == 2) {
            m_tus.release_idle_memory();
            ::malloc_trim(0);
        }
    }
}

bool Server::all_sessions_idle() {
    std::lock_guard guard(m_sessions_mutex);
    return std::all_of(m_sessions.begin(), m_sessions.end(),
                       [](const auto& s) { return s.second.idle; });
}

int Server::run() {
    if (!m_opts.tls_cert.empty()) {
        auto tls = make_tls_context(m_opts.tls_cert, m_opts.tls_key);
        if (!tls) {
            fmt::print(stderr, "de-server: {}\n", tls.error().message);
            return 1;
        }
        m_tls = std::move(tls->context);
        fmt::print(stderr, "TLS: {}\n", tls->summary);
    }
    if (auto s = m_apps.prepare(); !s) {
        fmt::print(stderr, "de-server: {}\n", s.error().message);
        return 1;
    }
    if (!m_opts.access_log.empty()) {
        if (auto s = m_telemetry.open_access_log(m_opts.access_log, m_ioc); !s) {
            fmt::print(stderr, "de-server: {}\n", s.error().message);
            return 1;
        }
    }
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(m_opts.address, ec), m_opts.port);
    if (!ec) m_acceptor.open(ep.protocol(), ec);
    if (!ec) m_acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) m_acceptor.bind(ep, ec);
    if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        fmt::print(stderr, "de-server: cannot listen on {}:{}: {}\n", m_opts.address, m_opts.port,
                   ec.message());
        return 1;
    }
    m_tus.start();
    auto local = m_acceptor.local_endpoint();
    if (auto d = count_descriptors())
        fmt::print(stderr, "open files: {} of {} (reserve {})\n", d->open, d->limit,
                   m_opts.limits.descriptor_reserve);
    std::string host = local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                               : local.address().to_string();
    std::printf("listening on %s://%s:%u\n", m_tls ? "https" : "http", host.c_str(), local.port());
    std::fflush(stdout);

    asio::co_spawn(m_ioc, accept_loop(), asio::detached);
    asio::co_spawn(m_ioc, on_signal(), asio::detached);
    asio::co_spawn(m_ioc, reap_loop(), asio::detached);
    std::vector<std::thread> threads;
    for (int i = 1; i < m_opts.threads; ++i)
        threads.emplace_back([this] { m_ioc.run(); });
    m_ioc.run();
    for (auto& t : threads)
        t.join();
    // Whatever an interrupted upload of ours left in staging goes now.
    m_apps.clean_own_staging();
    fmt::print(stderr, "de-server stopped\n");
    return 0;
}

int run_server(const ServerOptions& options) {
    // A client that disconnects must not kill us on write.
    std::signal(SIGPIPE, SIG_IGN);
    // Every descriptor the hard limit allows: the reserve (descriptors_spare)
    // then keeps the last ones for small answers.
    auto fds = raise_descriptor_limit();
    if (fds.after != fds.before)
        fmt::print(stderr, "open files: soft limit raised from {} to {}\n", fds.before, fds.after);
    Server s(options);
    return s.run();
}

}  // namespace de::server

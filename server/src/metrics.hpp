#pragma once
// What de-server tells its operator without credentials: the probes (/livez,
// /readyz), Prometheus metrics (/metrics, text exposition format 0.0.4) and,
// on request, an access log of JSON lines (--access-log).
//
// The session reports each finished request once (Telemetry::finished), where
// it prints its log line. The counters are relaxed atomics in fixed tables, so
// the hot path takes no lock: a request costs a handful of atomic adds (and
// one write(2) per line when the access log is on). Labels are bounded by
// construction: the route is the RouteId's name (never the URL, which carries
// app names and paths), the method one of a fixed list or "other", the status
// the three digits HTTP allows. Nothing here ever holds a user, an app, a
// path or a credential, except the access log's target and user name.

#include "router.hpp"

#include <de/error.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace de::server {

class AppStore;
class MountStore;

// One finished request, as the session saw it.
struct RequestRecord {
    std::optional<RouteId> route;  // nullopt: it matched no route (or was not read whole)
    std::string_view method;       // empty: the request line could not be read
    std::string_view target;       // the request target as sent (the query is dropped here)
    int status = 0;                // 0: no answer (the connection was dropped)
    std::uint64_t bytes_in = 0;    // read from the connection: header and body
    std::uint64_t bytes_out = 0;   // written to it: header and body
    std::chrono::steady_clock::duration duration{};
    std::string_view user;    // the authenticated user, or empty
    std::string_view remote;  // the peer's address (only needed with the access log)
};

class Metrics {
  public:
    // Histogram bounds in seconds, for 1 ms to 60 s (then +Inf).
    static constexpr std::array<double, 15> k_bounds{
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    // The methods counted by name; every other one is "other".
    static constexpr std::array<std::string_view, 14> k_methods{
        "GET",      "HEAD",      "PUT",   "POST", "PATCH", "DELETE", "OPTIONS",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",  "LOCK",   "UNLOCK"};

    Metrics();
    void record(const RequestRecord& r);

    // A unit of a gauge, given back when it goes (moves, never copies).
    class Held {
      public:
        Held() = default;
        explicit Held(std::atomic<std::int64_t>* g) : m_gauge(g) { m_gauge->fetch_add(1); }
        Held(Held&& o) noexcept : m_gauge(o.m_gauge) { o.m_gauge = nullptr; }
        Held& operator=(Held&& o) noexcept;
        Held(const Held&) = delete;
        Held& operator=(const Held&) = delete;
        ~Held() {
            if (m_gauge) m_gauge->fetch_sub(1);
        }

      private:
        std::atomic<std::int64_t>* m_gauge = nullptr;
    };
    Held connection() { return Held(&m_connections); }
    Held upload() { return Held(&m_uploads); }

    struct Sampled {
        std::uint64_t reserved_bytes = 0;
        std::uint64_t reaper_backlog = 0;
    };
    // The exposition, counters as they are now.
    std::string render(const Sampled& sampled) const;

  private:
    static constexpr std::size_t k_routes = k_route_count + 1;  // + "unmatched"
    static constexpr std::size_t k_slots = 2048;                // (route, method, status) seen
    struct Slot {
        std::atomic<std::uint32_t> key{0};
        std::atomic<std::uint64_t> count{0};
    };
    struct Histogram {
        std::array<std::atomic<std::uint64_t>, k_bounds.size() + 1> buckets{};  // not cumulative
        std::atomic<std::uint64_t> sum_ns{0};
    };
    std::array<Slot, k_slots> m_requests;
    std::atomic<std::uint64_t> m_requests_uncounted{0};  // the table was full
    std::array<Histogram, k_routes> m_durations;
    std::atomic<std::uint64_t> m_received{0};
    std::atomic<std::uint64_t> m_sent{0};
    std::atomic<std::int64_t> m_connections{0};
    std::atomic<std::int64_t> m_uploads{0};
    double m_start_time_s = 0;  // process_start_time_seconds (Unix time)
};

// --access-log: one JSON object per request and line, each line one write(2)
// on a descriptor opened with O_APPEND, so several processes can share a file.
class AccessLog {
  public:
    AccessLog() = default;
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;
    // "-": standard error. An error naming the file when it cannot be opened.
    Status open(const std::string& path);
    // Opens the file again (after logrotate moved it): the new descriptor
    // replaces the old one with dup3, atomically for writers on other threads.
    Status reopen();
    bool enabled() const { return m_fd >= 0; }
    void write(const RequestRecord& r);
    // The line for `r` (with its newline), written at `now`.
    static std::string line(const RequestRecord& r, std::chrono::system_clock::time_point now);

  private:
    std::string m_path;
    int m_fd = -1;
    bool m_owned = false;
};

// The metrics, the access log and the probes' answers, for the session.
class Telemetry {
  public:
    Telemetry(std::filesystem::path root, MountStore& mounts, AppStore& apps);
    ~Telemetry();
    // Opens the access log; a file is opened again on each SIGHUP (handled on
    // `ioc`), so logrotate can move it away.
    Status open_access_log(const std::string& path, boost::asio::io_context& ioc);
    // Whether finished() wants the record's remote address.
    bool wants_remote() const { return m_log.enabled(); }

    void finished(const RequestRecord& r) {
        m_metrics.record(r);
        if (m_log.enabled()) m_log.write(r);
    }
    Metrics::Held connection() { return m_metrics.connection(); }
    Metrics::Held upload() { return m_metrics.upload(); }

    // The answer of an operations route (is_ops_route): /livez 200; /readyz
    // 200, or 503 with a short reason while `draining` or when the root's apps
    // folder cannot be opened; /metrics the exposition.
    Response answer(RouteId id, bool draining);

  private:
    std::filesystem::path m_root;
    MountStore& m_mounts;
    AppStore& m_apps;
    struct Hangup;  // the SIGHUP signal_set (metrics.cpp)
    void await_hangup();

    Metrics m_metrics;
    AccessLog m_log;
    std::unique_ptr<Hangup> m_hangup;
};

}  // namespace de::server

// See metrics.hpp.
#include "metrics.hpp"

#include "apps.hpp"
#include "mount.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <ctime>
#include <tuple>
#include <vector>

namespace de::server {

namespace {

constexpr std::uint32_t k_key_used = 0x8000'0000u;

std::size_t method_index(std::string_view method) {
    const auto& m = Metrics::k_methods;
    return static_cast<std::size_t>(std::find(m.begin(), m.end(), method) - m.begin());
}

std::string_view method_label(std::size_t i) {
    return i < Metrics::k_methods.size() ? Metrics::k_methods[i] : std::string_view("other");
}

std::size_t route_index(const std::optional<RouteId>& route) {
    auto i = route ? static_cast<std::size_t>(*route) : k_route_count;
    return std::min(i, k_route_count);
}

std::string_view route_label(std::size_t i) {
    return i < k_route_count ? route_name(static_cast<RouteId>(i)) : std::string_view("unmatched");
}

// Seconds as Prometheus reads them: the shortest form that reads back exactly.
std::string seconds(double s) {
    return fmt::format("{}", s);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Metrics::Metrics() {
    m_start_time_s =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Metrics::Held& Metrics::Held::operator=(Held&& o) noexcept {
    if (this != &o) {
        if (m_gauge) m_gauge->fetch_sub(1);
        m_gauge = o.m_gauge;
        o.m_gauge = nullptr;
    }
    return *this;
}

void Metrics::record(const RequestRecord& r) {
    constexpr auto relaxed = std::memory_order_relaxed;
    auto route = route_index(r.route);
    auto method = std::min(method_index(r.method), k_methods.size());
    auto status = static_cast<std::uint32_t>(std::clamp(r.status, 0, 999));
    std::uint32_t key = k_key_used | static_cast<std::uint32_t>(route) << 16 |
                        static_cast<std::uint32_t>(method) << 10 | status;
    // Open addressing over a fixed table: a slot, once claimed for a key by
    // compare-and-swap, keeps it; counting is one fetch_add.
    bool counted = false;
    std::size_t i = (key * 2654435761u) % k_slots;
    for (std::size_t probes = 0; probes < k_slots && !counted; ++probes, i = (i + 1) % k_slots) {
        auto& slot = m_requests[i];
        std::uint32_t seen = slot.key.load(std::memory_order_acquire);
        if (seen == 0) {
            std::uint32_t expected = 0;
            if (slot.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel))
                seen = key;
            else
                seen = expected;
        }
        if (seen == key) {
            slot.count.fetch_add(1, relaxed);
            counted = true;
        }
    }
    if (!counted) m_requests_uncounted.fetch_add(1, relaxed);

    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(r.duration).count();
    double s = static_cast<double>(std::max<std::int64_t>(ns, 0)) / 1e9;
    auto bucket = static_cast<std::size_t>(std::lower_bound(k_bounds.begin(), k_bounds.end(), s) -
                                           k_bounds.begin());
    auto& h = m_durations[route];
    h.buckets[bucket].fetch_add(1, relaxed);
    h.sum_ns.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0)), relaxed);
    m_received.fetch_add(r.bytes_in, relaxed);
    m_sent.fetch_add(r.bytes_out, relaxed);
}

std::string Metrics::render(const Sampled& sampled) const {
    constexpr auto relaxed = std::memory_order_relaxed;
    std::string out;
    out.reserve(16 * 1024);

    header(out, "de_requests_total", "counter",
           "Requests answered, by route (the route's name, not its URL), method and status "
           "(0: the connection closed without an answer).");
    std::vector<std::tuple<std::size_t, std::size_t, std::uint32_t, std::uint64_t>> rows;
    for (const auto& slot : m_requests) {
        std::uint32_t key = slot.key.load(std::memory_order_acquire);
        if (key == 0) continue;
        rows.emplace_back((key >> 16) & 0x7fff, (key >> 10) & 0x3f, key & 0x3ff,
                          slot.count.load(relaxed));
    }
    std::sort(rows.begin(), rows.end());
    for (const auto& [route, method, status, count] : rows)
        out += fmt::format("de_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                           route_label(route), method_label(method), status, count);
    if (auto lost = m_requests_uncounted.load(relaxed))
        out += fmt::format(
            "de_requests_total{{route=\"other\",method=\"other\",status=\"other\"}} {}\n", lost);

    header(out, "de_request_duration_seconds", "histogram",
           "Time from a request's header to the end of its answer, by route.");
    for (std::size_t route = 0; route < k_routes; ++route) {
        const auto& h = m_durations[route];
        std::array<std::uint64_t, k_bounds.size() + 1> counts{};
        std::uint64_t total = 0;
        for (std::size_t b = 0; b < counts.size(); ++b)
            total += counts[b] = h.buckets[b].load(relaxed);
        if (total == 0) continue;
        auto label = route_label(route);
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < k_bounds.size(); ++b) {
            cumulative += counts[b];
            out += fmt::format("de_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                               label, seconds(k_bounds[b]), cumulative);
        }
        out += fmt::format("de_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                           label, total);
        out += fmt::format("de_request_duration_seconds_sum{{route=\"{}\"}} {}\n", label,
                           seconds(static_cast<double>(h.sum_ns.load(relaxed)) / 1e9));
        out += fmt::format("de_request_duration_seconds_count{{route=\"{}\"}} {}\n", label, total);
    }

    header(out, "de_received_bytes_total", "counter",
           "Bytes read from clients by finished requests (headers and bodies).");
    out += fmt::format("de_received_bytes_total {}\n", m_received.load(relaxed));
    header(out, "de_sent_bytes_total", "counter",
           "Bytes written to clients by finished requests (headers and bodies).");
    out += fmt::format("de_sent_bytes_total {}\n", m_sent.load(relaxed));
    header(out, "de_uploads_in_flight", "gauge",
           "Uploads being received: PUT (REST and WebDAV), tus POST and PATCH, batch.");
    out += fmt::format("de_uploads_in_flight {}\n", m_uploads.load(relaxed));
    header(out, "de_reserved_bytes", "gauge",
           "Quota held by uploads not yet committed, across all apps.");
    out += fmt::format("de_reserved_bytes {}\n", sampled.reserved_bytes);
    header(out, "de_reaper_backlog", "gauge", "Deleted trees in the trash waiting to be removed.");
    out += fmt::format("de_reaper_backlog {}\n", sampled.reaper_backlog);
    header(out, "de_connections_open", "gauge", "Client connections open.");
    out += fmt::format("de_connections_open {}\n", m_connections.load(relaxed));
    header(out, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch in seconds.");
    out += fmt::format("process_start_time_seconds {:.3f}\n", m_start_time_s);
    return out;
}

AccessLog::~AccessLog() {
    if (m_owned && m_fd >= 0) ::close(m_fd);
}

Status AccessLog::open(const std::string& path) {
    if (path == "-") {
        m_fd = STDERR_FILENO;
        return {};
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return fail(ErrorKind::generic,
                    fmt::format("cannot open the access log '{}': {}", path, std::strerror(errno)));
    m_path = path;
    m_fd = fd;
    m_owned = true;
    return {};
}

Status AccessLog::reopen() {
    if (!m_owned) return {};
    int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return fail(ErrorKind::generic, fmt::format("cannot open the access log '{}' again: {}",
                                                    m_path, std::strerror(errno)));
    int err = ::dup3(fd, m_fd, O_CLOEXEC) < 0 ? errno : 0;
    ::close(fd);
    if (err != 0)
        return fail(ErrorKind::generic,
                    fmt::format("cannot switch the access log to '{}' again: {}", m_path,
                                std::strerror(err)));
    return {};
}

std::string AccessLog::line(const RequestRecord& r, std::chrono::system_clock::time_point now) {
    using namespace std::chrono;
    std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    auto us = duration_cast<microseconds>(r.duration).count();
    nlohmann::json j{
        {"time", fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms)},
        {"remote", r.remote},
        {"method", r.method.empty() ? nlohmann::json() : nlohmann::json(r.method)},
        {"route", route_label(route_index(r.route))},
        {"target", r.target.substr(0, r.target.find('?'))},
        {"status", r.status},
        {"bytes_in", r.bytes_in},
        {"bytes_out", r.bytes_out},
        {"duration_ms", static_cast<double>(us) / 1000.0},
        {"user", r.user.empty() ? nlohmann::json() : nlohmann::json(r.user)},
    };
    // A target or method may carry any byte; what is not UTF-8 becomes U+FFFD.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void AccessLog::write(const RequestRecord& r) {
    auto text = line(r, std::chrono::system_clock::now());
    // One write(2) per line: with O_APPEND the line lands whole at the end of
    // the file, never interleaved with another process's line.
    [[maybe_unused]] auto n = ::write(m_fd, text.data(), text.size());
}

struct Telemetry::Hangup {
    explicit Hangup(boost::asio::io_context& ioc) : signals(ioc, SIGHUP) {}
    boost::asio::signal_set signals;
};

Telemetry::Telemetry(std::filesystem::path root, MountStore& mounts, AppStore& apps)
    : m_root(std::move(root)), m_mounts(mounts), m_apps(apps) {}

Telemetry::~Telemetry() = default;

Status Telemetry::open_access_log(const std::string& path, boost::asio::io_context& ioc) {
    if (auto s = m_log.open(path); !s) return s;
    if (path != "-") {
        m_hangup = std::make_unique<Hangup>(ioc);
        await_hangup();
    }
    return {};
}

void Telemetry::await_hangup() {
    m_hangup->signals.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec) return;  // cancelled: the server stops
        if (auto s = m_log.reopen(); !s)
            fmt::print(stderr, "de-server: {}\n", s.error().message);
        else
            fmt::print(stderr, "SIGHUP: the access log was opened again\n");
        await_hangup();
    });
}

Response Telemetry::answer(RouteId id, bool draining) {
    Response r;
    if (id == RouteId::livez) return json_response(200, {{"status", "live"}});
    if (id == RouteId::readyz) {
        if (draining)
            return json_response(
                503, {{"status", "draining"}, {"reason", "the server is shutting down"}});
        int fd = ::open((m_root / "apps").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return json_response(
                503, {{"status", "unavailable"},
                      {"reason", fmt::format("the root's apps folder cannot be opened: {}",
                                             std::strerror(errno))}});
        ::close(fd);
        return json_response(200, {{"status", "ready"}});
    }
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = m_metrics.render({m_mounts.reserved_total(), m_apps.trash_backlog()});
    return r;
}

}  // namespace de::server

// Metrics (metrics.hpp): route names are the routing table's, one per RouteId;
// the probes are routes; counts recorded from several threads at once are
// exact (the lock-free table); the histogram is cumulative with +Inf equal to
// _count; and an access-log line is one JSON object without the query.
#include "metrics.hpp"
#include "router.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using de::server::Metrics;
using de::server::RequestRecord;
using de::server::RouteId;

std::string line_of(const std::string& text, const std::string& prefix) {
    auto at = text.find("\n" + prefix);
    if (at == std::string::npos) return {};
    auto end = text.find('\n', at + 1);
    return text.substr(at + 1, end - at - 1);
}

}  // namespace

TEST_CASE("every route has its own name; the probes are routes, outside /api/v1") {
    std::set<std::string> names;
    for (std::size_t i = 0; i < de::server::k_route_count; ++i) {
        auto name = std::string(de::server::route_name(static_cast<RouteId>(i)));
        CHECK(!name.empty());
        CHECK(name != "unmatched");
        CHECK(names.insert(name).second);
    }
    for (auto [path, id] : {std::pair{"/livez", RouteId::livez},
                            {"/readyz", RouteId::readyz},
                            {"/metrics", RouteId::metrics}}) {
        auto r = de::server::match_route(path);
        REQUIRE(r);
        CHECK(r->id == id);
        CHECK(de::server::is_ops_route(id));
        CHECK(de::server::method_allowed(id, "GET"));
        CHECK(!de::server::method_allowed(id, "POST"));
    }
    CHECK(!de::server::match_route("/api/v1/livez"));
    CHECK(!de::server::is_ops_route(RouteId::health));
}

TEST_CASE("counts recorded by several threads at once are exact") {
    Metrics m;
    constexpr int k_threads = 4, k_each = 20000;
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t)
        threads.emplace_back([&m, t] {
            for (int i = 0; i < k_each; ++i) {
                RequestRecord r;
                r.route = (i % 2) ? RouteId::files : RouteId::health;
                r.method = (i % 2) ? "PUT" : "GET";
                r.status = (i % 2) ? 201 : 200 + t;  // a few new keys claimed concurrently
                r.bytes_in = 3;
                r.bytes_out = 5;
                r.duration = std::chrono::milliseconds(i % 3 == 0 ? 2 : 200);
                m.record(r);
            }
        });
    for (auto& t : threads)
        t.join();
    std::string text = m.render({7, 2});
    CHECK(line_of(text, "de_requests_total{route=\"files\",method=\"PUT\",status=\"201\"}") ==
          "de_requests_total{route=\"files\",method=\"PUT\",status=\"201\"} 40000");
    for (int t = 0; t < k_threads; ++t)
        CHECK(line_of(text, "de_requests_total{route=\"health\",method=\"GET\",status=\"" +
                                std::to_string(200 + t) + "\"}")
                  .ends_with("} 10000"));
    CHECK(line_of(text, "de_received_bytes_total ") == "de_received_bytes_total 240000");
    CHECK(line_of(text, "de_sent_bytes_total ") == "de_sent_bytes_total 400000");
    CHECK(line_of(text, "de_reserved_bytes ") == "de_reserved_bytes 7");
    CHECK(line_of(text, "de_reaper_backlog ") == "de_reaper_backlog 2");
    // files: i odd, so i % 3 == 0 for a third of them (2 ms), the rest 200 ms.
    CHECK(line_of(text, "de_request_duration_seconds_bucket{route=\"files\",le=\"0.001\"}")
              .ends_with("} 0"));
    auto two_ms =
        line_of(text, "de_request_duration_seconds_bucket{route=\"files\",le=\"0.0025\"}");
    CHECK(two_ms == "de_request_duration_seconds_bucket{route=\"files\",le=\"0.0025\"} " +
                        std::to_string(k_threads * 3333));
    CHECK(line_of(text, "de_request_duration_seconds_bucket{route=\"files\",le=\"0.25\"}")
              .ends_with("} 40000"));
    CHECK(line_of(text, "de_request_duration_seconds_bucket{route=\"files\",le=\"+Inf\"}")
              .ends_with("} 40000"));
    CHECK(line_of(text, "de_request_duration_seconds_count{route=\"files\"}").ends_with("} 40000"));
    CHECK(text.find("route=\"dav\"") == std::string::npos);  // routes never seen are left out
}

TEST_CASE("unknown methods and unrouted requests have bounded labels") {
    Metrics m;
    RequestRecord r;
    r.method = "BREW";
    r.status = 404;
    m.record(r);
    auto text = m.render({});
    CHECK(text.find("de_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("BREW") == std::string::npos);
}

TEST_CASE("an access-log line: one JSON object, the query dropped, no user when none") {
    RequestRecord r;
    r.route = RouteId::files;
    r.method = "PUT";
    r.target = "/api/v1/apps/a/mount/files/x%20y?token=secret";
    r.status = 201;
    r.bytes_in = 10;
    r.bytes_out = 20;
    r.duration = std::chrono::microseconds(1500);
    r.remote = "::1";
    auto when = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    auto line = de::server::AccessLog::line(r, when);
    REQUIRE(line.ends_with("\n"));
    CHECK(line.find('\n') == line.size() - 1);
    auto j = nlohmann::json::parse(line);
    CHECK(j["time"] == "2023-11-14T22:13:20.123Z");
    CHECK(j["target"] == "/api/v1/apps/a/mount/files/x%20y");
    CHECK(j["route"] == "files");
    CHECK(j["user"].is_null());
    CHECK(j["duration_ms"] == 1.5);
    CHECK(line.find("secret") == std::string::npos);
    r.target = "/odd\xff";
    CHECK(nlohmann::json::parse(de::server::AccessLog::line(r, when))["target"] ==
          "/odd\xEF\xBF\xBD");
}

#pragma once
// Routing of REST API v1. match() turns a request path into a route; Api
// answers every route whose request and response fit in memory (JSON in, JSON
// out) as a plain function of the request. The streaming routes (file GET/HEAD
// and PUT, the manifest) are driven by the session in server.cpp, which uses
// the same stores.

#include "api_error.hpp"
#include "apps.hpp"
#include "http_parse.hpp"
#include "lease.hpp"
#include "mount.hpp"
#include "users.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace de::server {

enum class RouteId {
    health,
    livez,    // GET /livez: the process serves (probes, metrics.hpp)
    readyz,   // GET /readyz: the root is usable and the server not draining
    metrics,  // GET /metrics: Prometheus text exposition
    login,
    logout,
    whoami,
    apps,
    app,
    mount,
    files,
    mkdir,
    move,
    copy,
    list,
    manifest,
    batch,            // POST .../mount/batch: many small files in one tar body
    archive,          // POST .../mount/archive: many small files in one tar answer
    uploads,          // tus creation endpoint .../uploads
    upload,           // one tus upload .../uploads/{id}
    upload_complete,  // .../uploads/{id}/complete (de "parts" extension)
    sync_lease,       // POST .../mount/sync-lease: take the app's sync lease
    sync_lease_one,   // PUT|DELETE .../mount/sync-lease/{id}: renew, release
    dav,              // /dav/{app}/{path}: WebDAV on the app's mount (dav.hpp)
    // Keep dav last, or move k_route_count to the new last one.
};
// The number of RouteIds (metrics.hpp keeps counters per route).
inline constexpr std::size_t k_route_count = static_cast<std::size_t>(RouteId::dav) + 1;

struct Route {
    RouteId id = RouteId::health;
    std::string app;        // decoded
    std::string file_path;  // files, dav: the decoded remainder after files/ (dav/{app}/)
    std::string upload_id;  // upload, upload_complete: the id segment (not decoded)
    std::string lease_id;   // sync_lease_one: the id segment (not decoded)
};

// The route for a (still percent-encoded) request path: REST API v1 under
// /api/v1, WebDAV under /dav/{app}/.
ApiResult<Route> match_route(std::string_view encoded_path);
// The route's name as metrics and the access log show it ("files", "upload"):
// the RouteId's own name, never the URL (which carries app names and paths).
std::string_view route_name(RouteId id);
// Routes answered without credentials, also while the server drains: the
// probes and the metrics (metrics.hpp).
inline bool is_ops_route(RouteId id) {
    return id == RouteId::livez || id == RouteId::readyz || id == RouteId::metrics;
}
// The methods a route accepts, for 405's Allow header.
std::string_view allowed_methods(RouteId id);
bool method_allowed(RouteId id, std::string_view method);

struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
};

Response error_response(const ApiError& e);
Response json_response(int status, const nlohmann::json& j);

struct Caller {
    std::string username;
    bool bearer = false;
    std::string token;  // the bearer token, for logout
};

struct JsonRequest {
    std::string_view method;
    const Route& route;
    const std::map<std::string, std::string>& query;
    std::string_view content_type;
    std::string_view body;
    const Caller& caller;
};

class Api {
  public:
    Api(UserStore& users, AppStore& apps, MountStore& mounts)
        : m_users(users), m_apps(apps), m_mounts(mounts), m_leases(apps.root()) {}

    Response handle(const JsonRequest& req);

    // The caller's app with its mount open: not_found / mount_disabled otherwise.
    ApiResult<Mount> open_mount(std::string_view app, const Caller& caller);

    // Sync-lease fencing, the one check for every route (the session calls it
    // once the caller is known, before any handler): a mutating request on an
    // app that carries X-De-Sync-Lease (`lease_id` non-empty) is refused with
    // conflict unless that is the app's live lease. The app must be the
    // caller's first (not_found otherwise).
    ApiResult<void> check_sync_lease(std::string_view method, const Route& route,
                                     const Caller& caller, std::string_view lease_id);
    LeaseStore& leases() { return m_leases; }

  private:
    ApiResult<Response> dispatch(const JsonRequest& req);

    UserStore& m_users;
    AppStore& m_apps;
    MountStore& m_mounts;
    LeaseStore m_leases;
};

// Query helpers shared with the streaming routes.
ApiResult<bool> query_bool(const std::map<std::string, std::string>& q, const std::string& key,
                           bool fallback);
ApiResult<std::string> query_path(const std::map<std::string, std::string>& q,
                                  const std::string& key);

}  // namespace de::server

// See router.hpp. Validation order on every app route: the app must exist and
// be the caller's (404 otherwise, whatever else is wrong), then the request's
// own fields, then the mount's state.
#include "router.hpp"

#include <de/json.hpp>
#include <de/name_json.hpp>
#include <de/remote_path.hpp>

#include <fmt/format.h>

#include <charconv>

namespace de::server {

namespace {
using api::WireError;
using nlohmann::json;

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i <= s.size()) {
        auto j = s.find('/', i);
        if (j == std::string_view::npos) j = s.size();
        out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

ApiResult<json> parse_json_body(const JsonRequest& req) {
    if (req.body.empty()) return api_fail(WireError::bad_request, "this route needs a JSON body");
    if (media_type(req.content_type) != "application/json")
        return api_fail(WireError::unsupported_media,
                        fmt::format("expected Content-Type: application/json, got '{:.100}'",
                                    req.content_type));
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) return api_fail(WireError::bad_request, "the body is not valid JSON");
    if (!j.is_object()) return api_fail(WireError::unprocessable, "the body must be a JSON object");
    return j;
}

ApiResult<std::string> string_field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return api_fail(WireError::unprocessable, fmt::format("'{}' must be a string", key));
    return it->get<std::string>();
}

// A file name field: "<key>_encoding": "percent" carries a name that is not
// UTF-8 (de/name_json.hpp).
ApiResult<std::string> name_field(const json& j, const char* key) {
    auto name = get_name(j, key);
    if (!name)
        return api_fail(WireError::unprocessable,
                        fmt::format("'{}' must be a string (with '{}_encoding': \"percent\" its "
                                    "percent form)",
                                    key, key));
    return *name;
}

ApiResult<bool> bool_field(const json& j, const char* key, std::optional<bool> fallback) {
    auto it = j.find(key);
    if (it == j.end() && fallback) return *fallback;
    if (it == j.end() || !it->is_boolean())
        return api_fail(WireError::unprocessable, fmt::format("'{}' must be true or false", key));
    return it->get<bool>();
}

ApiResult<std::string> normalized(std::string_view p) {
    auto r = normalize_remote_path(p);
    if (!r) return api_fail(WireError::bad_request, r.error().message);
    return *r;
}

Response no_content() {
    return Response{204, {}, {}, {}};
}
}  // namespace

ApiResult<bool> query_bool(const std::map<std::string, std::string>& q, const std::string& key,
                           bool fallback) {
    auto it = q.find(key);
    if (it == q.end()) return fallback;
    auto b = parse_bool(it->second);
    if (!b)
        return api_fail(WireError::bad_request,
                        fmt::format("query parameter '{}' must be true or false", key));
    return *b;
}

ApiResult<std::string> query_path(const std::map<std::string, std::string>& q,
                                  const std::string& key) {
    auto it = q.find(key);
    return normalized(it == q.end() ? std::string_view{} : std::string_view(it->second));
}

ApiResult<Route> match_route(std::string_view encoded_path) {
    auto not_found = [&] {
        return api_fail(
            WireError::not_found,
            fmt::format("no such route '{:.200}'; the API lives under /api/v1", encoded_path));
    };
    // The probes and the metrics live at the root, where operators look for them.
    if (encoded_path == "/livez") return Route{RouteId::livez, {}, {}, {}, {}};
    if (encoded_path == "/readyz") return Route{RouteId::readyz, {}, {}, {}, {}};
    if (encoded_path == "/metrics") return Route{RouteId::metrics, {}, {}, {}, {}};
    if (encoded_path == "/dav" || encoded_path.starts_with("/dav/")) {
        std::string_view rest = encoded_path.substr(std::min<std::size_t>(5, encoded_path.size()));
        auto slash = rest.find('/');
        auto app = percent_decode(rest.substr(0, slash));
        if (!app)
            return api_fail(WireError::bad_request, "malformed percent-encoding in the app name");
        if (app->empty())
            return api_fail(WireError::not_found,
                            "WebDAV lives under /dav/APP/: name the app (de-cli mount url -n APP)");
        auto file = percent_decode(slash == std::string_view::npos ? std::string_view()
                                                                   : rest.substr(slash + 1));
        if (!file)
            return api_fail(WireError::bad_request, "malformed percent-encoding in the path");
        return Route{RouteId::dav, std::move(*app), std::move(*file), {}, {}};
    }
    if (encoded_path.substr(0, api::k_prefix.size()) != api::k_prefix) return not_found();
    std::string_view rest = encoded_path.substr(api::k_prefix.size());
    if (!rest.empty() && rest.front() != '/') return not_found();
    if (!rest.empty()) rest.remove_prefix(1);
    auto seg = split(rest);
    Route r;
    auto is = [&](std::size_t i, std::string_view s) { return seg.size() > i && seg[i] == s; };
    if (seg.size() == 1 && seg[0] == "health") return r;
    if (seg.size() == 1 && seg[0] == "login") return Route{RouteId::login, {}, {}, {}, {}};
    if (seg.size() == 1 && seg[0] == "logout") return Route{RouteId::logout, {}, {}, {}, {}};
    if (seg.size() == 1 && seg[0] == "whoami") return Route{RouteId::whoami, {}, {}, {}, {}};
    if (!is(0, "apps")) return not_found();
    if (seg.size() == 1 || (seg.size() == 2 && seg[1].empty()))
        return Route{RouteId::apps, {}, {}, {}, {}};
    auto app = percent_decode(seg[1]);
    if (!app) return api_fail(WireError::bad_request, "malformed percent-encoding in the app name");
    r.app = *app;
    if (seg.size() == 2) {
        r.id = RouteId::app;
        return r;
    }
    if (is(2, "uploads")) {
        if (seg.size() == 3 || (seg.size() == 4 && seg[3].empty())) {
            r.id = RouteId::uploads;
            return r;
        }
        r.upload_id = std::string(seg[3]);
        if (seg.size() == 4) {
            r.id = RouteId::upload;
            return r;
        }
        if (seg.size() == 5 && seg[4] == "complete") {
            r.id = RouteId::upload_complete;
            return r;
        }
        return not_found();
    }
    if (!is(2, "mount")) return not_found();
    if (seg.size() == 3) {
        r.id = RouteId::mount;
        return r;
    }
    if (seg[3] == "files") {
        r.id = RouteId::files;
        // Everything after ".../files/" is the path, decoded exactly once.
        std::size_t skip = 0;
        for (std::size_t i = 0; i < 4; ++i)
            skip += seg[i].size() + 1;
        std::string_view encoded = skip <= rest.size() ? rest.substr(skip) : std::string_view{};
        auto decoded = percent_decode(encoded);
        if (!decoded)
            return api_fail(WireError::bad_request, "malformed percent-encoding in the file path");
        r.file_path = *decoded;
        return r;
    }
    if (seg[3] == api::k_route_sync_lease && (seg.size() == 4 || seg.size() == 5)) {
        r.id = seg.size() == 4 ? RouteId::sync_lease : RouteId::sync_lease_one;
        if (seg.size() == 5) {
            if (seg[4].empty()) return not_found();
            r.lease_id = std::string(seg[4]);
        }
        return r;
    }
    if (seg.size() != 4) return not_found();
    if (seg[3] == "mkdir")
        r.id = RouteId::mkdir;
    else if (seg[3] == "move")
        r.id = RouteId::move;
    else if (seg[3] == "copy")
        r.id = RouteId::copy;
    else if (seg[3] == "list")
        r.id = RouteId::list;
    else if (seg[3] == "manifest")
        r.id = RouteId::manifest;
    else if (seg[3] == "batch")
        r.id = RouteId::batch;
    else if (seg[3] == "archive")
        r.id = RouteId::archive;
    else
        return not_found();
    return r;
}

std::string_view route_name(RouteId id) {
    switch (id) {
        case RouteId::health:
            return "health";
        case RouteId::livez:
            return "livez";
        case RouteId::readyz:
            return "readyz";
        case RouteId::metrics:
            return "metrics";
        case RouteId::login:
            return "login";
        case RouteId::logout:
            return "logout";
        case RouteId::whoami:
            return "whoami";
        case RouteId::apps:
            return "apps";
        case RouteId::app:
            return "app";
        case RouteId::mount:
            return "mount";
        case RouteId::files:
            return "files";
        case RouteId::mkdir:
            return "mkdir";
        case RouteId::move:
            return "move";
        case RouteId::copy:
            return "copy";
        case RouteId::list:
            return "list";
        case RouteId::manifest:
            return "manifest";
        case RouteId::batch:
            return "batch";
        case RouteId::archive:
            return "archive";
        case RouteId::uploads:
            return "uploads";
        case RouteId::upload:
            return "upload";
        case RouteId::upload_complete:
            return "upload_complete";
        case RouteId::sync_lease:
            return "sync_lease";
        case RouteId::sync_lease_one:
            return "sync_lease_one";
        case RouteId::dav:
            return "dav";
    }
    return "unmatched";
}

std::string_view allowed_methods(RouteId id) {
    switch (id) {
        case RouteId::health:
        case RouteId::livez:
        case RouteId::readyz:
        case RouteId::metrics:
            return "GET";
        case RouteId::login:
            return "POST";
        case RouteId::logout:
            return "POST";
        case RouteId::whoami:
            return "GET";
        case RouteId::apps:
            return "GET, POST";
        case RouteId::app:
            return "GET, PATCH, DELETE";
        case RouteId::mount:
            return "GET, PUT, DELETE";
        case RouteId::files:
            return "GET, HEAD, PUT, DELETE";
        case RouteId::dav:
            return "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, "
                   "UNLOCK";
        case RouteId::mkdir:
        case RouteId::move:
        case RouteId::copy:
        case RouteId::batch:
        case RouteId::archive:
        case RouteId::upload_complete:
            return "POST";
        case RouteId::uploads:
            return "OPTIONS, POST";
        case RouteId::upload:
            return "OPTIONS, HEAD, PATCH, DELETE";
        case RouteId::list:
        case RouteId::manifest:
            return "GET";
        case RouteId::sync_lease:
            return "POST";
        case RouteId::sync_lease_one:
            return "PUT, DELETE";
    }
    return "";
}

bool method_allowed(RouteId id, std::string_view method) {
    std::string_view list = allowed_methods(id);
    std::size_t i = 0;
    while (i < list.size()) {
        auto j = list.find(", ", i);
        if (j == std::string_view::npos) j = list.size();
        if (list.substr(i, j - i) == method) return true;
        i = j + 2;
    }
    return false;
}

Response json_response(int status, const json& j) {
    Response r;
    r.status = status;
    r.body = dump_json(j);
    return r;
}

Response error_response(const ApiError& e) {
    Response r;
    r.status = api::http_status(e.kind);
    r.body = error_body(e);
    if (e.kind == WireError::unauthorized)
        r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"de-server\"");
    return r;
}

ApiResult<Mount> Api::open_mount(std::string_view app, const Caller& caller) {
    auto a = m_apps.get(app, caller.username);
    if (!a) return std::unexpected(a.error());
    return m_mounts.open(*a);
}

ApiResult<void> Api::check_sync_lease(std::string_view method, const Route& route,
                                      const Caller& caller, std::string_view lease_id) {
    if (lease_id.empty() || route.app.empty()) return {};
    if (method == "GET" || method == "HEAD" || method == "OPTIONS") return {};
    // The lease routes name their lease in the path; terminating a tus
    // upload only frees its staging (a sync that lost its lease still cleans up).
    if (route.id == RouteId::sync_lease || route.id == RouteId::sync_lease_one) return {};
    if (route.id == RouteId::upload && method == "DELETE") return {};
    auto app = m_apps.get(route.app, caller.username);
    if (!app) return std::unexpected(app.error());
    return m_leases.check(app->name, lease_id);
}

Response Api::handle(const JsonRequest& req) {
    auto r = dispatch(req);
    if (!r) return error_response(r.error());
    return std::move(*r);
}

ApiResult<Response> Api::dispatch(const JsonRequest& req) {
    const auto& m = req.method;
    const auto& route = req.route;
    const auto& caller = req.caller;
    switch (route.id) {
        case RouteId::health:
            return json_response(200, {{"status", "ok"}, {"version", DE_SERVER_VERSION}});
        case RouteId::login: {
            if (caller.bearer)
                return api_fail(WireError::unauthorized,
                                "login needs HTTP Basic credentials (username and API key)");
            auto t = m_users.issue_token(caller.username);
            if (!t) return api_fail(WireError::internal, t.error().message);
            return json_response(200, json(*t));
        }
        case RouteId::logout:
            if (caller.bearer) {
                if (auto s = m_users.revoke_token(caller.token); !s)
                    return api_fail(WireError::internal, s.error().message);
            }
            return no_content();
        case RouteId::whoami:
            return json_response(200, json(UserInfo{caller.username}));
        case RouteId::apps: {
            if (m == "GET") {
                auto apps = m_apps.list(caller.username);
                if (!apps) return std::unexpected(apps.error());
                return json_response(200, {{"apps", json(*apps)}});
            }
            auto body = parse_json_body(req);
            if (!body) return std::unexpected(body.error());
            auto name = string_field(*body, "name");
            if (!name) return std::unexpected(name.error());
            auto app = m_apps.create(*name, caller.username);
            if (!app) return std::unexpected(app.error());
            return json_response(201, json(*app));
        }
        case RouteId::app: {
            auto app = m_apps.get(route.app, caller.username);
            if (!app) return std::unexpected(app.error());
            if (m == "GET") return json_response(200, json(*app));
            if (m == "DELETE") {
                auto it = req.query.find("confirm");
                if (it == req.query.end() || it->second != app->name)
                    return api_fail(WireError::confirmation_required,
                                    fmt::format("deleting app '{}' deletes its mount too; pass "
                                                "confirm={}",
                                                app->name, app->name));
                if (auto r = m_apps.remove(app->name, caller.username); !r)
                    return std::unexpected(r.error());
                return no_content();
            }
            auto body = parse_json_body(req);
            if (!body) return std::unexpected(body.error());
            if (body->contains("persistent_filesystem")) {
                auto on = bool_field(*body, "persistent_filesystem", std::nullopt);
                if (!on) return std::unexpected(on.error());
                if (!*on && app->persistent_filesystem) {
                    auto c = body->find("confirm");
                    if (c == body->end() || !c->is_string() || c->get<std::string>() != app->name)
                        return api_fail(WireError::confirmation_required,
                                        fmt::format("turning the persistent filesystem of '{}' off "
                                                    "deletes every file in it; pass \"confirm\": "
                                                    "\"{}\"",
                                                    app->name, app->name));
                }
                bool changed = false;
                auto updated = m_apps.set_persistent(app->name, caller.username, *on, changed);
                if (!updated) return std::unexpected(updated.error());
                return json_response(200, json(*updated));
            }
            return json_response(200, json(*app));
        }
        case RouteId::mount: {
            auto app = m_apps.get(route.app, caller.username);
            if (!app) return std::unexpected(app.error());
            if (m == "GET") {
                auto st = m_mounts.status(*app);
                if (!st) return std::unexpected(st.error());
                return json_response(200, json(*st));
            }
            if (m == "PUT") {
                bool changed = false;
                auto updated = m_apps.set_persistent(app->name, caller.username, true, changed);
                if (!updated) return std::unexpected(updated.error());
                auto st = m_mounts.status(*updated);
                if (!st) return std::unexpected(st.error());
                return json_response(changed ? 201 : 200, json(*st));
            }
            auto it = req.query.find("confirm");
            if (it == req.query.end() || it->second != app->name)
                return api_fail(WireError::confirmation_required,
                                fmt::format("disabling the mount of '{}' deletes every file in "
                                            "it; pass confirm={}",
                                            app->name, app->name));
            if (!app->persistent_filesystem)
                return api_fail(
                    WireError::mount_disabled,
                    fmt::format("the persistent filesystem of '{}' is off already", app->name));
            bool changed = false;
            auto updated = m_apps.set_persistent(app->name, caller.username, false, changed);
            if (!updated) return std::unexpected(updated.error());
            return no_content();
        }
        case RouteId::files: {
            // Only DELETE comes here; GET/HEAD/PUT stream in the session.
            auto mount = open_mount(route.app, caller);
            if (!mount) return std::unexpected(mount.error());
            auto rel = normalized(route.file_path);
            if (!rel) return std::unexpected(rel.error());
            auto recursive = query_bool(req.query, "recursive", false);
            if (!recursive) return std::unexpected(recursive.error());
            if (auto r = m_mounts.remove(*mount, *rel, *recursive); !r)
                return std::unexpected(r.error());
            return no_content();
        }
        case RouteId::mkdir: {
            auto mount = open_mount(route.app, caller);
            if (!mount) return std::unexpected(mount.error());
            auto body = parse_json_body(req);
            if (!body) return std::unexpected(body.error());
            auto path = name_field(*body, "path");
            if (!path) return std::unexpected(path.error());
            auto parents = bool_field(*body, "parents", false);
            if (!parents) return std::unexpected(parents.error());
            auto rel = normalized(*path);
            if (!rel) return std::unexpected(rel.error());
            auto r = m_mounts.mkdir(*mount, *rel, *parents);
            if (!r) return std::unexpected(r.error());
            return json_response(r->created ? 201 : 200, json(r->entry));
        }
        case RouteId::move:
        case RouteId::copy: {
            auto mount = open_mount(route.app, caller);
            if (!mount) return std::unexpected(mount.error());
            auto body = parse_json_body(req);
            if (!body) return std::unexpected(body.error());
            auto from = name_field(*body, "from");
            if (!from) return std::unexpected(from.error());
            auto to = name_field(*body, "to");
            if (!to) return std::unexpected(to.error());
            auto overwrite = bool_field(*body, "overwrite", false);
            if (!overwrite) return std::unexpected(overwrite.error());
            auto f = normalized(*from);
            if (!f) return std::unexpected(f.error());
            auto t = normalized(*to);
            if (!t) return std::unexpected(t.error());
            auto e = route.id == RouteId::move ? m_mounts.move(*mount, *f, *t, *overwrite)
                                               : m_mounts.copy(*mount, *f, *t, *overwrite);
            if (!e) return std::unexpected(e.error());
            return json_response(route.id == RouteId::move ? 200 : 201, json(*e));
        }
        case RouteId::list: {
            auto mount = open_mount(route.app, caller);
            if (!mount) return std::unexpected(mount.error());
            auto rel = query_path(req.query, "path");
            if (!rel) return std::unexpected(rel.error());
            auto recursive = query_bool(req.query, "recursive", false);
            if (!recursive) return std::unexpected(recursive.error());
            auto hashes = query_bool(req.query, "hashes", false);
            if (!hashes) return std::unexpected(hashes.error());
            std::size_t limit = 1000;
            if (auto it = req.query.find("limit"); it != req.query.end()) {
                const auto& s = it->second;
                auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), limit);
                if (ec != std::errc() || p != s.data() + s.size() || limit < 1 || limit > 10000)
                    return api_fail(WireError::bad_request,
                                    "query parameter 'limit' must be a number from 1 to 10000");
            }
            std::string cursor;
            if (auto it = req.query.find("cursor"); it != req.query.end()) cursor = it->second;
            auto page = m_mounts.list(*mount, *rel, *recursive, *hashes, limit, cursor);
            if (!page) return std::unexpected(page.error());
            json j{{"entries", json(page->entries)}};
            put_name(j, "path", *rel);
            j["next_cursor"] = nullptr;
            if (page->next_cursor) put_name(j, "next_cursor", *page->next_cursor);
            return json_response(200, j);
        }
        case RouteId::sync_lease:
        case RouteId::sync_lease_one: {
            auto app = m_apps.get(route.app, caller.username);
            if (!app) return std::unexpected(app.error());
            if (m == "DELETE") {
                if (auto r = m_leases.release(app->name, route.lease_id); !r)
                    return std::unexpected(r.error());
                return no_content();
            }
            // POST needs {"holder"}; a renewal's body ({"ttl_s"}) is optional.
            json body = json::object();
            if (m == "POST" || !req.body.empty()) {
                auto b = parse_json_body(req);
                if (!b) return std::unexpected(b.error());
                body = std::move(*b);
            }
            std::optional<std::int64_t> ttl;
            if (auto it = body.find("ttl_s"); it != body.end()) {
                if (!it->is_number_integer())
                    return api_fail(WireError::unprocessable, "'ttl_s' must be a whole number");
                ttl = it->get<std::int64_t>();
            }
            int ttl_s = LeaseStore::clamp_ttl(ttl);
            if (m == "PUT") {
                auto l = m_leases.renew(app->name, route.lease_id, ttl_s);
                if (!l) return std::unexpected(l.error());
                return json_response(200, json(*l));
            }
            auto holder = string_field(body, "holder");
            if (!holder) return std::unexpected(holder.error());
            if (holder->empty() || holder->size() > 256)
                return api_fail(WireError::unprocessable, "'holder' must be 1 to 256 characters");
            std::optional<std::string> replace;
            if (auto it = body.find("replace"); it != body.end() && !it->is_null()) {
                if (!it->is_string())
                    return api_fail(WireError::unprocessable, "'replace' must be a lease id");
                replace = it->get<std::string>();
            }
            auto l = m_leases.acquire(app->name, *holder, ttl_s, replace);
            if (!l) return std::unexpected(l.error());
            return json_response(201, json(*l));
        }
        case RouteId::livez:
        case RouteId::readyz:
        case RouteId::metrics:  // the server answers these (metrics.hpp)
        case RouteId::manifest:
        case RouteId::batch:
        case RouteId::archive:
        case RouteId::uploads:
        case RouteId::upload:
        case RouteId::upload_complete:
        case RouteId::dav:
            break;  // streaming routes: the session hands them to their handlers
    }
    return api_fail(WireError::internal, "route not handled");
}

}  // namespace de::server

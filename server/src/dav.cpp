// See dav.hpp. One function per method; what they share: the request's paths
// (the URL, Destination, the If header's resource tags) resolved to paths in
// the caller's own app, the If header evaluated against ETags and locks, the
// lock check of every write (423 unless the caller submits the token of each
// lock in the way), and the XML of answers.
#include "dav.hpp"

#include "dav_locks.hpp"
#include "dav_props.hpp"
#include "dav_xml.hpp"
#include "files.hpp"
#include "http_parse.hpp"
#include "mount.hpp"
#include "pool_jobs.hpp"
#include "router.hpp"

#include <de/api.hpp>
#include <de/remote_path.hpp>
#include <de/text.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace de::server {

using api::WireError;
using asio::awaitable;
using asio::use_awaitable;

namespace {

using dav::Lock;
using dav::QName;

constexpr std::size_t k_xml_body_limit = 1 << 20;
constexpr std::size_t k_flush_at = 64 * 1024;  // PROPFIND: bytes per chunk sent
constexpr std::string_view k_dav_ns = "DAV:";
constexpr std::string_view k_allow =
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK";

// ---- paths and URLs ---------------------------------------------------------

// The href of `rel` in `app`: "/dav/APP/a/b" (+ "/" for a folder), appended to
// `out`. Percent-encoded: nothing in it needs escaping in XML.
void append_href(std::string& out, std::string_view app, std::string_view rel, bool folder) {
    out += k_dav_prefix;
    out.push_back('/');
    percent_encode_to(out, app);
    out.push_back('/');
    std::size_t i = 0;
    while (i < rel.size()) {
        auto j = rel.find('/', i);
        if (j == std::string_view::npos) j = rel.size();
        percent_encode_to(out, rel.substr(i, j - i));
        if (j < rel.size()) out.push_back('/');
        i = j + 1;
    }
    if (folder && !rel.empty()) out.push_back('/');
}
std::string href_for(std::string_view app, std::string_view rel, bool folder) {
    std::string out;
    append_href(out, app, rel, folder);
    return out;
}

std::string parent_of(std::string_view rel) {
    auto slash = rel.rfind('/');
    return slash == std::string_view::npos ? std::string() : std::string(rel.substr(0, slash));
}

bool within(std::string_view inner, std::string_view outer) {
    if (outer.empty()) return true;
    return inner == outer ||
           (inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/');
}

// A URL the client sent (Destination, an If header's tag): an absolute URL or
// an absolute path. The path in the mount when it names this server's /dav of
// `app`; otherwise why not: 502 (another host or another app: RFC 4918 9.8.5
// and 9.9.4 answer 502 for a destination this resource cannot reach) or 400.
struct UrlTarget {
    std::string rel;
};
ApiResult<UrlTarget> resolve_url(std::string_view url, std::string_view host,
                                 std::string_view app) {
    std::string_view path = url;
    if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
        std::string_view rest = url.substr(scheme + 3);
        auto slash = rest.find('/');
        std::string_view authority = rest.substr(0, slash);
        if (auto at = authority.rfind('@'); at != std::string_view::npos)
            authority.remove_prefix(at + 1);
        if (!beast::iequals(bsv(authority), bsv(host)))
            return api_fail(WireError::bad_request,
                            fmt::format("'{:.200}' is on another server; only this server's "
                                        "/dav/{}/ can be reached",
                                        url, app),
                            "other_host");
        path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
    if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
    auto decoded = percent_decode(path);
    if (!decoded) return api_fail(WireError::bad_request, "malformed percent-encoding in a URL");
    std::string_view p = *decoded;
    std::string prefix = std::string(k_dav_prefix) + "/";
    if (!p.starts_with(prefix))
        return api_fail(WireError::bad_request,
                        fmt::format("'{:.200}' is not under /dav/{}/", url, app), "other_app");
    p.remove_prefix(prefix.size());
    auto slash = p.find('/');
    if (p.substr(0, slash) != app)
        return api_fail(WireError::bad_request,
                        fmt::format("'{:.200}' is in another app; COPY and MOVE stay within "
                                    "/dav/{}/",
                                    url, app),
                        "other_app");
    std::string_view rest = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
    auto rel = normalize_remote_path(rest);
    if (!rel) return api_fail(WireError::bad_request, rel.error().message);
    return UrlTarget{*rel};
}

// ---- XML answers ------------------------------------------------------------

std::string status_line(int status) {
    std::string_view reason = sv(http::obsolete_reason(static_cast<http::status>(status)));
    if (status == 207) reason = "Multi-Status";
    if (status == 423) reason = "Locked";
    if (status == 424) reason = "Failed Dependency";
    if (status == 507) reason = "Insufficient Storage";
    return fmt::format("HTTP/1.1 {} {}", status, reason);
}

// An element of `q` that declares its own namespace (DAV: uses the D prefix
// the document declares).
std::string open_tag(const QName& q) {
    if (q.ns == k_dav_ns) return "<D:" + q.name + ">";
    if (q.ns.empty()) return "<" + q.name + " xmlns=\"\">";
    return "<X:" + q.name + " xmlns:X=\"" + dav::xml_escape(q.ns) + "\">";
}
std::string close_tag(const QName& q) {
    if (q.ns == k_dav_ns) return "</D:" + q.name + ">";
    if (q.ns.empty()) return "</" + q.name + ">";
    return "</X:" + q.name + ">";
}
std::string empty_tag(const QName& q) {
    std::string t = open_tag(q);
    t.insert(t.size() - 1, "/");
    return t;
}

// An answer without a body.
Response empty_response(int status) {
    Response r;
    r.status = status;
    r.content_type.clear();
    return r;
}

Response xml_response(int status, std::string body) {
    Response r;
    r.status = status;
    r.content_type = "application/xml; charset=utf-8";
    r.body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + std::move(body);
    return r;
}

// An error answer with RFC 4918's DAV:error body when there is a precondition
// to name, else the API's JSON error.
Response dav_error(int status, std::string_view message, std::string_view precondition = {}) {
    if (!precondition.empty()) {
        Response r = xml_response(
            status, fmt::format("<D:error xmlns:D=\"DAV:\"><D:{}/><D:responsedescription>{}"
                                "</D:responsedescription></D:error>",
                                precondition, dav::xml_escape(message)));
        return r;
    }
    Response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::string(message) + "\n";
    return r;
}

std::string lock_xml(const Lock& l, std::string_view app) {
    auto now = std::chrono::system_clock::now();  // locks expire by the wall clock
    auto left = std::chrono::duration_cast<std::chrono::seconds>(l.expires - now).count();
    if (left < 0) left = 0;
    return fmt::format(
        "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:{}/></D:lockscope>"
        "<D:depth>{}</D:depth>{}<D:timeout>Second-{}</D:timeout>"
        "<D:locktoken><D:href>{}</D:href></D:locktoken>"
        "<D:lockroot><D:href>{}</D:href></D:lockroot></D:activelock>",
        l.scope == dav::LockScope::exclusive ? "exclusive" : "shared",
        l.infinite_depth ? "infinity" : "0",
        l.owner_xml.empty() ? std::string() : "<D:owner>" + l.owner_xml + "</D:owner>", left,
        dav::xml_escape(l.token), dav::xml_escape(href_for(app, l.path, false)));
}

// ---- the request ------------------------------------------------------------

// What every method reads from the header, copied out (reading the body moves
// the parser).
struct Head {
    std::string method;
    unsigned version = 11;
    bool keep_alive = false;
    std::string host;
    std::string depth;  // "" when absent
    std::string destination;
    std::optional<bool> overwrite;  // nullopt: absent (T)
    std::string if_header;
    bool has_if = false;
    std::string lock_token;
    std::string timeout;
    bool has_body = false;
    bool expect_continue = false;
    // The first of the headers above that came more than once ("" if none).
    std::string repeated;
};

Head read_head(const http::request_parser<http::empty_body>& hp, bool keep_alive) {
    const auto& h = hp.get();
    Head d;
    d.method = std::string(sv(h.method_string()));
    d.version = h.version();
    d.keep_alive = keep_alive;
    d.host = std::string(sv(h[http::field::host]));
    d.depth = ascii_lower(trim_ows(sv(h["Depth"])));
    d.destination = std::string(trim_ows(sv(h["Destination"])));
    if (auto o = trim_ows(sv(h["Overwrite"])); !o.empty()) d.overwrite = (o == "T" || o == "t");
    d.has_if = h.find("If") != h.end();
    d.if_header = std::string(sv(h["If"]));
    d.lock_token = std::string(trim_ows(sv(h["Lock-Token"])));
    d.timeout = std::string(sv(h["Timeout"]));
    d.has_body = h.chunked() || hp.content_length().value_or(0) > 0;
    d.expect_continue = beast::iequals(h[http::field::expect], "100-continue");
    // None of these is a list (RFC 9110 5.3): two of one cannot be combined,
    // and reading only the first would ignore the other's conditions.
    for (std::string_view name :
         {"If", "Destination", "Depth", "Overwrite", "Lock-Token", "Timeout"}) {
        auto [from, to] = h.equal_range(bsv(name));
        if (from != to && std::next(from) != to) {
            d.repeated = name;
            break;
        }
    }
    return d;
}

// The file or folder at `rel`, if any.
std::optional<Entry> stat_of(ServerContext& ctx, Mount& m, std::string_view rel) {
    auto e = ctx.mounts.stat_entry(m, rel, false);
    if (!e) return std::nullopt;
    return *e;
}

// 409 (RFC 4918 9.3.1, 9.7.1) unless the folder that is to hold `rel` exists.
std::optional<Response> no_folder_for(ServerContext& ctx, Mount& m, std::string_view rel) {
    auto parent = stat_of(ctx, m, parent_of(rel));
    if (parent && parent->type == EntryType::dir) return std::nullopt;
    return dav_error(409, fmt::format("the folder of '{}' does not exist; create it with MKCOL "
                                      "first",
                                      rel));
}

// The ETag of a file ("" for a folder or a file that cannot be read).
std::string etag_of(ServerContext& ctx, Mount& m, std::string_view rel) {
    auto e = ctx.mounts.stat_entry(m, rel, true);
    if (!e || e->type != EntryType::file || !e->sha256) return {};
    return api::etag_for(*e->sha256);
}

// The If header (RFC 4918 10.4), evaluated: whether it holds, and the lock
// tokens it submits (those of its lists that hold; RFC 4918 10.4.1).
struct IfVerdict {
    bool holds = true;
    std::set<std::string> tokens;
};

ApiResult<IfVerdict> evaluate_if(ServerContext& ctx, Mount& m, const Head& d, std::string_view app,
                                 std::string_view request_rel) {
    IfVerdict v;
    if (!d.has_if) return v;
    auto lists = dav::parse_if_header(d.if_header);
    if (!lists)
        return api_fail(WireError::bad_request, "malformed If header: " + lists.error().message);
    v.holds = false;
    for (const auto& list : *lists) {
        std::string rel(request_rel);
        bool elsewhere = false;
        if (list.resource) {
            auto t = resolve_url(*list.resource, d.host, app);
            if (!t)
                elsewhere = true;  // a resource this request cannot touch: its conditions fail
            else
                rel = t->rel;
        }
        bool all = true;
        std::optional<std::string> etag;  // looked up once per list
        std::vector<Lock> locks;
        bool locks_known = false;
        for (const auto& c : list.conditions) {
            bool truth = false;
            if (!elsewhere) {
                if (c.etag) {
                    if (!etag) etag = etag_of(ctx, m, rel);
                    truth = !etag->empty() && *etag == c.value;
                } else {
                    if (!locks_known) {
                        locks = ctx.dav_locks.covering(app, rel);
                        locks_known = true;
                    }
                    truth = std::any_of(locks.begin(), locks.end(),
                                        [&](const Lock& l) { return l.token == c.value; });
                }
            }
            if (c.negated) truth = !truth;
            if (!truth) {
                all = false;
                break;
            }
        }
        if (all) {
            v.holds = true;
            for (const auto& c : list.conditions)
                if (!c.etag && !c.negated) v.tokens.insert(c.value);
        }
    }
    return v;
}

// The locks a write to `rel` must hold the tokens of: those on it or above it
// with infinite depth, with `tree` those anywhere below it too, and with
// `membership` (it is created, deleted or renamed) those on its folder.
std::vector<Lock> locks_in_the_way(ServerContext& ctx, std::string_view app, std::string_view rel,
                                   bool tree, bool membership) {
    std::vector<Lock> out = tree ? ctx.dav_locks.within(app, rel) : std::vector<Lock>{};
    for (auto& l : ctx.dav_locks.covering(app, rel))
        if (std::none_of(out.begin(), out.end(), [&](const Lock& o) { return o.token == l.token; }))
            out.push_back(std::move(l));
    if (membership && !rel.empty()) {
        std::string parent = parent_of(rel);
        for (auto& l : ctx.dav_locks.covering(app, parent))
            if (l.path == parent && std::none_of(out.begin(), out.end(),
                                                 [&](const Lock& o) { return o.token == l.token; }))
                out.push_back(std::move(l));
    }
    return out;
}

// nullopt when the caller holds what it must: for each locked resource, the
// token of one of its locks (their own). Else the 423 to answer.
std::optional<Response> check_locks(const std::vector<Lock>& locks, const IfVerdict& v,
                                    const Caller& caller, std::string_view app) {
    std::set<std::string> paths;
    for (const auto& l : locks)
        paths.insert(l.path);
    for (const auto& p : paths) {
        bool held = std::any_of(locks.begin(), locks.end(), [&](const Lock& l) {
            return l.path == p && l.user == caller.username && v.tokens.count(l.token) > 0;
        });
        if (!held)
            return xml_response(
                423, fmt::format("<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted><D:href>{}"
                                 "</D:href></D:lock-token-submitted></D:error>",
                                 dav::xml_escape(href_for(app, p, false))));
    }
    return std::nullopt;
}

// ---- reading a small XML body ------------------------------------------------

struct Body {
    std::string text;
    std::optional<Response> refused;  // answered instead; the connection closes
};

awaitable<Body> read_xml_body(ServerContext& ctx, Exchange& x, const Head& d) {
    Body out;
    http::request_parser<http::string_body> sp{std::move(x.parser)};
    sp.body_limit(k_xml_body_limit);
    boost::system::error_code ec;
    if (sp.content_length() && *sp.content_length() > k_xml_body_limit) {
        out.refused = dav_error(413, "an XML request body is limited to 1 MiB");
        co_return out;
    }
    ec = co_await read_small_body(x.stream, x.buffer, sp, d.expect_continue, d.version,
                                  ctx.options.body_timeout);
    if (ec) {
        if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
            out.refused = dav_error(413, "an XML request body is limited to 1 MiB");
        else
            out.refused = dav_error(400, "the request body could not be read: " + ec.message());
        co_return out;
    }
    out.text = std::move(sp.get().body());
    co_return out;
}

// ---- live properties --------------------------------------------------------

// No displayname: RFC 4918 15.2 deprecates computing it from the URL (the
// name is the href's last segment already; it cost a listing some 50 bytes
// per entry), and says it SHOULD NOT be protected: a client's own is a dead
// property here.
const std::vector<std::string_view>& live_names() {
    static const std::vector<std::string_view> names = {
        "resourcetype",   "getcontentlength", "getlastmodified", "getetag",
        "getcontenttype", "supportedlock",    "lockdiscovery"};
    return names;
}
// RFC 4331's, not in allprop (they cost a count of the mount).
bool is_quota_prop(const QName& q) {
    return q.ns == k_dav_ns && (q.name == "quota-used-bytes" || q.name == "quota-available-bytes");
}
bool is_live(const QName& q) {
    if (q.ns != k_dav_ns) return false;
    if (is_quota_prop(q) || q.name == "creationdate") return true;
    const auto& n = live_names();
    return std::find(n.begin(), n.end(), q.name) != n.end();
}

constexpr std::string_view k_supportedlock =
    "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
    "</D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/>"
    "</D:locktype></D:lockentry>";

// What one PROPFIND keeps while it writes its responses (a listing writes
// thousands: nothing here is looked up or formatted once per entry when once
// per request will do).
struct PropContext {
    PropContext(ServerContext& c, Mount& mount, std::string_view app_name)
        : ctx(c), m(mount), app(app_name) {}
    ServerContext& ctx;
    Mount& m;
    std::string_view app;
    std::optional<Usage> usage;  // counted once per request, when asked for
    bool usage_failed = false;
    // The members of one folder (Depth 1): the locks that can cover them, read
    // once — those on an ancestor or the folder with infinite depth, and those
    // on the members themselves. Unset: each entry asks the lock table.
    bool member_locks = false;
    std::vector<Lock> inherited, on_members;
    // getlastmodified's text for the last second formatted (listings repeat it).
    std::int64_t date_secs = -1;
    std::string date;
    std::string missing;  // scratch: one response's properties it does not have
};

// Reads the locks that can cover the members of folder `rel` (see PropContext).
void read_member_locks(PropContext& pc, std::string_view rel) {
    pc.member_locks = true;
    for (auto& l : pc.ctx.dav_locks.covering(pc.app, rel))
        if (l.infinite_depth) pc.inherited.push_back(std::move(l));
    for (auto& l : pc.ctx.dav_locks.within(pc.app, rel))
        if (!l.path.empty() && l.path != rel && parent_of(l.path) == rel)
            pc.on_members.push_back(std::move(l));
}

// Appends the value of live property `name` of entry `e` as a DAV: element to
// `out`; false (nothing appended) when it has none.
bool append_live(PropContext& pc, const Entry& e, std::string_view name, std::string& out) {
    const bool folder = e.type == EntryType::dir;
    auto open = [&] {
        out += "<D:";
        out += name;
        out += '>';
    };
    auto close = [&] {
        out += "</D:";
        out += name;
        out += '>';
        return true;
    };
    auto element = [&](std::string_view value) {
        if (value.empty()) {
            out += "<D:";
            out += name;
            out += "/>";
            return true;
        }
        open();
        out += value;
        return close();
    };
    if (name == "resourcetype") return element(folder ? "<D:collection/>" : "");
    if (name == "getlastmodified") {
        std::int64_t secs = e.mtime_ns / 1'000'000'000;
        if (secs != pc.date_secs) {
            pc.date = http_date(secs);
            pc.date_secs = secs;
        }
        return element(pc.date);
    }
    if (name == "supportedlock") return element(k_supportedlock);
    if (name == "lockdiscovery") {
        std::size_t at = out.size();
        open();
        std::size_t start = out.size();
        if (pc.member_locks) {
            for (const auto& l : pc.inherited)
                out += lock_xml(l, pc.app);
            for (const auto& l : pc.on_members)
                if (l.path == e.path) out += lock_xml(l, pc.app);
        } else {
            for (const auto& l : pc.ctx.dav_locks.covering(pc.app, e.path))
                out += lock_xml(l, pc.app);
        }
        if (out.size() == start) {
            out.resize(at);
            return element("");
        }
        return close();
    }
    if (name == "quota-used-bytes" || name == "quota-available-bytes") {
        if (!pc.usage && !pc.usage_failed) {
            auto u = pc.ctx.mounts.usage(pc.m);
            if (u)
                pc.usage = *u;
            else
                pc.usage_failed = true;
        }
        if (!pc.usage) return false;
        std::uint64_t quota = pc.ctx.mounts.quota();
        std::uint64_t used = pc.usage->used_bytes;
        return element(
            std::to_string(name == "quota-used-bytes" ? used : (used >= quota ? 0 : quota - used)));
    }
    if (folder) return false;
    if (name == "getcontentlength") return element(std::to_string(e.size));
    if (name == "getetag") {
        if (!e.sha256) return false;
        open();
        out += '"';  // the ETag, "SHA-256" (a quote needs no escape in text)
        out += *e.sha256;
        out += '"';
        return close();
    }
    if (name == "getcontenttype") return element(file_content_type(e.path));
    return false;
}

// A dead property as it was set: its value, and xml:lang when one was in scope
// (RFC 4918 4.3).
void append_dead(std::string& out, const QName& q, const dav::DeadProp& p) {
    std::string open = open_tag(q);
    if (!p.xml_lang.empty()) {
        open.pop_back();
        open += " xml:lang=\"";
        dav::xml_escape_to(open, p.xml_lang);
        open += "\">";
    }
    out += open;
    out += p.value_xml;
    out += close_tag(q);
}

// One <D:response> of a PROPFIND, appended to `out`. `dead`: the entry's dead
// properties (read only when the request can show them).
void append_response(PropContext& pc, const dav::PropfindRequest& req, const Entry& e,
                     const std::vector<dav::DeadProp>& dead, std::string& out) {
    static constexpr std::string_view k_ok =
        "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>";
    const bool folder = e.type == EntryType::dir;
    out += "<D:response><D:href>";
    append_href(out, pc.app, e.path, folder);
    out += "</D:href>";
    const std::size_t before_found = out.size();
    out += "<D:propstat><D:prop>";
    const std::size_t found_start = out.size();
    std::string& missing = pc.missing;
    missing.clear();
    if (req.kind == dav::PropfindKind::propname) {
        std::string scratch;
        for (auto name : live_names()) {
            scratch.clear();
            if (append_live(pc, e, name, scratch)) {
                out += "<D:";
                out += name;
                out += "/>";
            }
        }
        for (const auto& p : dead)
            out += empty_tag(QName{p.ns, p.name});
    } else if (req.kind == dav::PropfindKind::allprop) {
        for (auto name : live_names())
            append_live(pc, e, name, out);
        for (const auto& p : dead)
            append_dead(out, QName{p.ns, p.name}, p);
        for (const auto& q : req.include)
            if (is_quota_prop(q)) append_live(pc, e, q.name, out);
    } else {
        for (const auto& q : req.props) {
            if (is_live(q)) {
                if (append_live(pc, e, q.name, out)) continue;
            } else {
                auto it = std::find_if(dead.begin(), dead.end(), [&](const dav::DeadProp& p) {
                    return p.ns == q.ns && p.name == q.name;
                });
                if (it != dead.end()) {
                    append_dead(out, q, *it);
                    continue;
                }
            }
            missing += empty_tag(q);
        }
    }
    if (out.size() == found_start && !missing.empty())
        out.resize(before_found);  // nothing found: only the 404 propstat
    else
        out += k_ok;
    if (!missing.empty()) {
        out += "<D:propstat><D:prop>";
        out += missing;
        out += "</D:prop><D:status>";
        out += status_line(404);
        out += "</D:status></D:propstat>";
    }
    out += "</D:response>\n";
}

bool wants_etag(const dav::PropfindRequest& req) {
    if (req.kind == dav::PropfindKind::allprop) return true;
    if (req.kind == dav::PropfindKind::propname) return false;
    return std::any_of(req.props.begin(), req.props.end(),
                       [](const QName& q) { return q.ns == k_dav_ns && q.name == "getetag"; });
}
bool wants_dead(const dav::PropfindRequest& req) {
    if (req.kind != dav::PropfindKind::prop) return true;
    return std::any_of(req.props.begin(), req.props.end(),
                       [](const QName& q) { return !is_live(q); });
}

// ---- the methods ------------------------------------------------------------

struct Call {
    ServerContext& ctx;
    Exchange& x;
    Head d;
    std::string app;
    std::string rel;
    Mount mount;
};

awaitable<bool> answer(Call& c, const Response& r, bool head = false) {
    c.x.status = r.status;
    // A body this handler did not read ends the connection (it would be taken
    // for the next request).
    bool keep = c.d.keep_alive && c.x.parser.is_done();
    co_return co_await send_response(c.x.stream, r, c.d.version, keep, c.ctx.options.send_timeout,
                                     head);
}
// A body that could not be read (too big, broken): the answer closes the connection.
awaitable<bool> answer_closing(Call& c, const Response& r) {
    c.x.status = r.status;
    co_return co_await send_response(c.x.stream, r, c.d.version, false, c.ctx.options.send_timeout,
                                     false);
}
awaitable<bool> answer_read(Call& c, const Response& r) {
    // After read_xml_body: the parser is moved; the body was read whole.
    c.x.status = r.status;
    co_return co_await send_response(c.x.stream, r, c.d.version, c.d.keep_alive,
                                     c.ctx.options.send_timeout, false);
}

Response options_response() {
    Response r = empty_response(200);
    r.headers.emplace_back("DAV", "1, 2");
    r.headers.emplace_back("MS-Author-Via", "DAV");
    r.headers.emplace_back("Allow", std::string(k_allow));
    return r;
}

// The dead properties of the member `path` of the open folder `dir_fd`, whose
// walk saw it as `seen`. One found without any (the usual case) is
// remembered, so the next listing does not open it (InodeCache) — only
// when the file opened is still the one the walk saw.
std::vector<dav::DeadProp> member_dead_props(ServerContext& ctx, int dir_fd, std::string_view path,
                                             const struct stat& seen) {
    auto slash = path.rfind('/');
    std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
    struct timespec before {};  // the attribute is read after this
    ::clock_gettime(CLOCK_REALTIME, &before);
    int f = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0) return {};
    UniqueFd fd(f);
    auto props = dav::load_dead_props(fd.get());
    struct stat now_st {};
    if (props.empty() && ::fstat(fd.get(), &now_st) == 0 && now_st.st_dev == seen.st_dev &&
        now_st.st_ino == seen.st_ino && now_st.st_ctim.tv_sec == seen.st_ctim.tv_sec &&
        now_st.st_ctim.tv_nsec == seen.st_ctim.tv_nsec)
        ctx.mounts.inodes().remember_bare(
            seen, static_cast<std::int64_t>(before.tv_sec) * 1'000'000'000 + before.tv_nsec);
    return props;
}

// Names per page, and slices filled at once (the server's pool has two threads).
constexpr std::size_t k_listing_page = 512;
constexpr std::size_t k_listing_slices = 2;
// One page of a Depth 1 listing: its members (FolderPages), their dead
// properties when asked for (empty for a member that has none), and whether
// a slice could not be filled (the walk cannot go on).
struct ListingPage {
    std::vector<FolderPages::Member> members;
    std::vector<std::vector<dav::DeadProp>> dead;
    std::array<bool, k_listing_slices> failed{};  // per slice
    bool any_failed() const {
        return std::any_of(failed.begin(), failed.end(), [](bool f) { return f; });
    }
};

// PROPFIND: the multistatus streamed in chunks while one folder's members are
// read a page at a time (FolderPages: memory bounded by two pages, whatever
// the folder's size).
awaitable<bool> do_propfind(Call& c) {
    auto& ctx = c.ctx;
    auto& x = c.x;
    if (c.d.depth != "0" && c.d.depth != "1") {
        Body skip = co_await read_xml_body(ctx, x, c.d);
        (void)skip;
        Response r = dav_error(403,
                               "PROPFIND with Depth: infinity (or no Depth) is not served; ask "
                               "with Depth: 0 or 1, folder by folder",
                               "propfind-finite-depth");
        co_return co_await answer_read(c, r);
    }
    Body body = co_await read_xml_body(ctx, x, c.d);
    if (body.refused) co_return co_await answer_closing(c, *body.refused);
    auto req = dav::parse_propfind(body.text);
    if (!req) {
        Response r = dav_error(req.error().status, req.error().message);
        co_return co_await answer_read(c, r);
    }
    bool etags = wants_etag(*req);
    bool dead = wants_dead(*req);
    auto self = ctx.mounts.stat_entry(c.mount, c.rel, etags);
    if (!self) {
        Response r = error_response(self.error());
        co_return co_await answer_read(c, r);
    }
    PropContext pc(ctx, c.mount, c.app);
    std::string first =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n";
    {
        std::vector<dav::DeadProp> props;
        if (dead) {
            int f = open_beneath_raw(c.mount.dir.get(), c.rel, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
            if (f >= 0) {
                UniqueFd fd(f);
                props = dav::load_dead_props(fd.get());
            }
        }
        append_response(pc, *req, *self, props, first);
    }
    bool folder = self->type == EntryType::dir;
    if (!folder || c.d.depth == "0") {
        first += "</D:multistatus>\n";
        Response r = xml_response(207, {});
        r.body = std::move(first);
        co_return co_await answer_read(c, r);
    }

    // Depth 1 of a folder: the header now, then the entries as pages of the listing come.
    bool chunked = c.d.version >= 11;
    bool keep = chunked && c.d.keep_alive;
    http::response<http::empty_body> res{http::status::multi_status, c.d.version};
    res.set(http::field::server, "de-server");
    res.set(http::field::content_type, "application/xml; charset=utf-8");
    res.keep_alive(keep);
    if (chunked) res.chunked(true);
    x.status = 207;
    boost::system::error_code ec;
    http::response_serializer<http::empty_body> sr{res};
    x.stream.expires_after(ctx.options.send_timeout);
    co_await http::async_write_header(x.stream, sr, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    auto flush = [&](std::string& text) -> awaitable<void> {
        if (text.empty()) co_return;
        if (chunked) {
            auto chunk = http::make_chunk(asio::buffer(text));
            co_await write_progress(x.stream, chunk, ctx.options.send_timeout, ec);
        } else {
            auto plain = asio::buffer(text);
            co_await write_progress(x.stream, plain, ctx.options.send_timeout, ec);
        }
        text.clear();
    };
    std::string out = std::move(first);
    auto lister = ctx.mounts.folder_pages(c.mount, c.rel, etags);
    // The walk could not start or go on: the answer must not look complete.
    // The chunked body is cut (no last chunk): the client sees an error.
    if (!lister) co_return false;
    FolderPages& pages_of = **lister;
    read_member_locks(pc, c.rel);
    // Two pages: while this coroutine writes the responses of one and sends
    // them, the pool's two threads stat the next one (half each, with its
    // lookups in the inode cache and, for members not known bare, their
    // attributes): on two cores a big listing takes about half the time.
    ListingPage pages[2];
    int cur = 0;
    const std::vector<dav::DeadProp> none;
    JobGroup job(x.stream.get_executor());
    // Reads the page's names here (one getdents64 per 32 KiB of them) and
    // starts its slices on the pool; false when the names cannot be read.
    auto start = [&](ListingPage& p) {
        p.failed = {};
        if (!pages_of.next_names(p.members, k_listing_page)) return false;
        p.dead.clear();
        p.dead.resize(dead ? p.members.size() : 0);
        if (p.members.empty()) return true;
        std::vector<std::function<void()>> slices;
        std::size_t per = (p.members.size() + k_listing_slices - 1) / k_listing_slices;
        for (std::size_t k = 0, from = 0; from < p.members.size(); ++k, from += per) {
            std::size_t to = std::min(from + per, p.members.size());
            slices.push_back([&ctx, &p, &pages_of, k, from, to] {
                std::span<FolderPages::Member> slice(p.members.data() + from, to - from);
                if (!pages_of.fill(slice)) {
                    p.failed[k] = true;
                    return;
                }
                if (p.dead.empty()) return;
                for (std::size_t i = from; i < to; ++i) {
                    const auto& m = p.members[i];
                    if (m.entry && !m.bare)
                        p.dead[i] =
                            member_dead_props(ctx, pages_of.dir_fd(), m.entry->path, m.item.st);
                }
            });
        }
        job.start(ctx.pool, std::move(slices));
        return true;
    };
    if (!start(pages[cur])) co_return false;
    while (true) {
        co_await job.wait();
        ListingPage& page = pages[cur];
        if (page.any_failed()) co_return false;
        if (page.members.empty()) break;
        bool next_ok = start(pages[cur ^ 1]);
        for (std::size_t i = 0; i < page.members.size() && !ec; ++i) {
            const auto& m = page.members[i];
            if (!m.entry) continue;
            append_response(pc, *req, *m.entry, page.dead.empty() ? none : page.dead[i], out);
            if (out.size() >= k_flush_at) co_await flush(out);
        }
        if (ec || !next_ok) {
            co_await job.wait();  // the next page's slices use the pages and the lister
            co_return false;
        }
        cur ^= 1;
    }
    out += "</D:multistatus>\n";
    co_await flush(out);
    if (ec) co_return false;
    if (chunked) {
        auto last = http::make_chunk_last();
        co_await write_progress(x.stream, last, ctx.options.send_timeout, ec);
        if (ec) co_return false;
    }
    co_return keep;
}

// Is `q` a property no PROPPATCH may set or remove?
bool is_protected(const QName& q) {
    return q.ns == k_dav_ns && is_live(q);
}

awaitable<bool> do_proppatch(Call& c, const IfVerdict& v) {
    auto& ctx = c.ctx;
    Body body = co_await read_xml_body(ctx, c.x, c.d);
    if (body.refused) co_return co_await answer_closing(c, *body.refused);
    auto ops = dav::parse_proppatch(body.text);
    if (!ops) {
        Response r = dav_error(ops.error().status, ops.error().message);
        co_return co_await answer_read(c, r);
    }
    if (!stat_of(ctx, c.mount, c.rel)) {
        Response r = dav_error(404, fmt::format("'{}' does not exist", c.rel));
        co_return co_await answer_read(c, r);
    }
    if (auto refused =
            check_locks(locks_in_the_way(ctx, c.app, c.rel, false, false), v, c.x.caller, c.app)) {
        co_return co_await answer_read(c, *refused);
    }
    // All or nothing (RFC 4918 9.2): any protected property fails the lot.
    bool any_protected = std::any_of(
        ops->begin(), ops->end(), [](const dav::PropPatchOp& o) { return is_protected(o.name); });
    int status = 200;
    std::string message;
    if (!any_protected) {
        int f = open_beneath_raw(c.mount.dir.get(), c.rel, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
        if (f < 0) {
            Response r = dav_error(409, fmt::format("'{}' cannot be opened", c.rel));
            co_return co_await answer_read(c, r);
        }
        UniqueFd fd(f);
        auto props = dav::load_dead_props(fd.get());
        for (const auto& op : *ops) {
            auto it = std::find_if(props.begin(), props.end(), [&](const dav::DeadProp& p) {
                return p.ns == op.name.ns && p.name == op.name.name;
            });
            if (op.set) {
                if (it != props.end()) {
                    it->value_xml = op.value_xml;
                    it->xml_lang = op.xml_lang;
                } else {
                    props.push_back(
                        dav::DeadProp{op.name.ns, op.name.name, op.value_xml, op.xml_lang});
                }
            } else if (it != props.end()) {
                props.erase(it);
            }
        }
        if (auto stored = dav::store_dead_props(fd.get(), props); !stored) {
            status = api::http_status(stored.error().kind);
            message = stored.error().message;
        }
    }
    std::string out = "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>" +
                      dav::xml_escape(href_for(c.app, c.rel, false)) + "</D:href>";
    for (const auto& op : *ops) {
        int s = any_protected ? (is_protected(op.name) ? 403 : 424) : status;
        out += "<D:propstat><D:prop>" + empty_tag(op.name) + "</D:prop><D:status>" +
               status_line(s) + "</D:status>";
        if (s == 403) out += "<D:error><D:cannot-modify-protected-property/></D:error>";
        out += "</D:propstat>";
    }
    if (!message.empty())
        out += "<D:responsedescription>" + dav::xml_escape(message) + "</D:responsedescription>";
    out += "</D:response></D:multistatus>\n";
    Response r = xml_response(207, std::move(out));
    co_return co_await answer_read(c, r);
}

awaitable<bool> do_mkcol(Call& c, const IfVerdict& v) {
    auto& ctx = c.ctx;
    if (c.d.has_body) {
        Response r = dav_error(415, "MKCOL takes no body");
        co_return co_await answer(c, r);
    }
    if (c.rel.empty() || stat_of(ctx, c.mount, c.rel)) {
        Response r = dav_error(405, fmt::format("'{}' exists already", c.rel));
        r.headers.emplace_back("Allow", std::string(k_allow));
        co_return co_await answer(c, r);
    }
    if (auto refused = no_folder_for(ctx, c.mount, c.rel)) co_return co_await answer(c, *refused);
    if (auto refused =
            check_locks(locks_in_the_way(ctx, c.app, c.rel, false, true), v, c.x.caller, c.app))
        co_return co_await answer(c, *refused);
    auto made = ctx.mounts.mkdir(c.mount, c.rel, false);
    if (!made) {
        Response r = error_response(made.error());
        co_return co_await answer(c, r);
    }
    Response r = empty_response(201);
    co_return co_await answer(c, r);
}

awaitable<bool> do_delete(Call& c, const IfVerdict& v) {
    auto& ctx = c.ctx;
    if (c.rel.empty()) {
        Response r = dav_error(403, "the mount's root folder cannot be deleted");
        co_return co_await answer(c, r);
    }
    if (!stat_of(ctx, c.mount, c.rel)) {
        Response r = dav_error(404, fmt::format("'{}' does not exist", c.rel));
        co_return co_await answer(c, r);
    }
    if (auto refused =
            check_locks(locks_in_the_way(ctx, c.app, c.rel, true, true), v, c.x.caller, c.app))
        co_return co_await answer(c, *refused);
    auto gone = ctx.mounts.remove(c.mount, c.rel, true);
    if (!gone) {
        Response r = error_response(gone.error());
        co_return co_await answer(c, r);
    }
    ctx.dav_locks.forget(c.app, c.rel);
    Response r = empty_response(204);
    co_return co_await answer(c, r);
}

// COPY and MOVE.
awaitable<bool> do_copy_move(Call& c, const IfVerdict& v, bool move) {
    auto& ctx = c.ctx;
    if (c.d.destination.empty()) {
        Response r = dav_error(400, "a Destination header is required");
        co_return co_await answer(c, r);
    }
    auto dest = resolve_url(c.d.destination, c.d.host, c.app);
    if (!dest) {
        std::string why = dest.error().extra.value("reason", "");
        int status = why == "other_host" || why == "other_app" ? 502 : 400;
        Response r = dav_error(status, dest.error().message);
        co_return co_await answer(c, r);
    }
    const std::string& to = dest->rel;
    bool infinity = c.d.depth.empty() || c.d.depth == "infinity";
    if (!infinity && (move || c.d.depth != "0")) {
        Response r = dav_error(
            400, move ? "MOVE takes Depth: infinity only" : "COPY takes Depth: 0 or infinity");
        co_return co_await answer(c, r);
    }
    auto src = stat_of(ctx, c.mount, c.rel);
    if (!src) {
        Response r = dav_error(404, fmt::format("'{}' does not exist", c.rel));
        co_return co_await answer(c, r);
    }
    if (c.rel.empty() || to.empty() || to == c.rel) {
        Response r = dav_error(403,
                               "the source and the destination must differ, and neither may "
                               "be the mount's root");
        co_return co_await answer(c, r);
    }
    if (within(to, c.rel)) {
        Response r = dav_error(
            409, fmt::format("cannot {} '{}' into itself", move ? "move" : "copy", c.rel));
        co_return co_await answer(c, r);
    }
    if (auto refused = no_folder_for(ctx, c.mount, to)) co_return co_await answer(c, *refused);
    auto existing = stat_of(ctx, c.mount, to);
    bool overwrite = c.d.overwrite.value_or(true);
    if (existing && !overwrite) {
        Response r = dav_error(412, fmt::format("'{}' exists and Overwrite is F", to));
        co_return co_await answer(c, r);
    }
    if (move) {
        if (auto refused =
                check_locks(locks_in_the_way(ctx, c.app, c.rel, true, true), v, c.x.caller, c.app))
            co_return co_await answer(c, *refused);
    }
    if (auto refused =
            check_locks(locks_in_the_way(ctx, c.app, to, true, true), v, c.x.caller, c.app))
        co_return co_await answer(c, *refused);

    // A file replacing a file is one atomic rename; anything else replacing
    // an existing target deletes it first (RFC 4918 9.8.4, 9.9.3).
    bool atomic = existing && existing->type == EntryType::file && src->type == EntryType::file;
    if (existing && !atomic) {
        if (auto gone = ctx.mounts.remove(c.mount, to, true); !gone) {
            Response r = error_response(gone.error());
            co_return co_await answer(c, r);
        }
    }
    if (existing) ctx.dav_locks.forget(c.app, to);
    ApiResult<Entry> done = Entry{};
    if (move) {
        done = ctx.mounts.move(c.mount, c.rel, to, atomic);
        if (done) ctx.dav_locks.forget(c.app, c.rel);
    } else if (!infinity && src->type == EntryType::dir) {
        auto made = ctx.mounts.mkdir(c.mount, to, false);
        if (made) {
            done = made->entry;
            int s = open_beneath_raw(c.mount.dir.get(), c.rel, O_RDONLY | O_DIRECTORY);
            int t = open_beneath_raw(c.mount.dir.get(), to, O_RDONLY | O_DIRECTORY);
            if (s >= 0 && t >= 0) dav::copy_dead_props(s, t);
            if (s >= 0) ::close(s);
            if (t >= 0) ::close(t);
        } else {
            done = std::unexpected(made.error());
        }
    } else {
        done = ctx.mounts.copy(c.mount, c.rel, to, atomic);
    }
    if (!done) {
        Response r = error_response(done.error());
        co_return co_await answer(c, r);
    }
    Response r = empty_response(existing ? 204 : 201);
    if (!existing)
        r.headers.emplace_back("Location", href_for(c.app, to, done->type == EntryType::dir));
    co_return co_await answer(c, r);
}

awaitable<bool> do_lock(Call& c, const IfVerdict& v) {
    auto& ctx = c.ctx;
    Body body = co_await read_xml_body(ctx, c.x, c.d);
    if (body.refused) co_return co_await answer_closing(c, *body.refused);
    auto info = dav::parse_lockinfo(body.text);
    if (!info) {
        Response r = dav_error(info.error().status, info.error().message);
        co_return co_await answer_read(c, r);
    }
    auto timeout = dav::parse_timeout(c.d.timeout);
    if (!*info) {
        // A refresh: the token comes in the If header.
        if (v.tokens.size() != 1) {
            Response r = dav_error(400, "a LOCK refresh names its lock token in the If header",
                                   "lock-token-submitted");
            co_return co_await answer_read(c, r);
        }
        auto lock =
            ctx.dav_locks.refresh(c.app, c.rel, *v.tokens.begin(), c.x.caller.username, timeout);
        if (!lock) {
            Response r = dav_error(412, "no lock of yours with that token covers this resource",
                                   "lock-token-matches-request-uri");
            co_return co_await answer_read(c, r);
        }
        Response r =
            xml_response(200, "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>" +
                                  lock_xml(*lock, c.app) + "</D:lockdiscovery></D:prop>\n");
        co_return co_await answer_read(c, r);
    }
    if (c.d.depth != "" && c.d.depth != "0" && c.d.depth != "infinity") {
        Response r = dav_error(400, "LOCK takes Depth: 0 or infinity");
        co_return co_await answer_read(c, r);
    }
    auto existing = stat_of(ctx, c.mount, c.rel);
    bool created = false;
    if (!existing) {
        // RFC 4918 7.3: a lock on an unmapped URL creates an empty file.
        if (auto refused = no_folder_for(ctx, c.mount, c.rel))
            co_return co_await answer_read(c, *refused);
        if (auto refused =
                check_locks(locks_in_the_way(ctx, c.app, c.rel, false, true), v, c.x.caller, c.app))
            co_return co_await answer_read(c, *refused);
    }
    bool infinite = c.d.depth != "0" && (existing && existing->type == EntryType::dir);
    auto lock = ctx.dav_locks.acquire(
        c.app, c.rel, (*info)->exclusive ? dav::LockScope::exclusive : dav::LockScope::shared,
        infinite, timeout, c.x.caller.username, (*info)->owner_xml);
    if (!lock) {
        Response r = lock.error().status == 423
                         ? xml_response(423,
                                        "<D:error xmlns:D=\"DAV:\"><D:no-conflicting-lock/>"
                                        "</D:error>\n")
                         : dav_error(lock.error().status, lock.error().message);
        co_return co_await answer_read(c, r);
    }
    if (!existing) {
        PutOptions opts;
        opts.content_length = 0;
        opts.if_none_match_star = true;
        auto up = ctx.mounts.begin_put(c.mount, c.rel, opts);
        ApiResult<PutResult> put =
            up ? (*up)->commit() : ApiResult<PutResult>(std::unexpected(up.error()));
        if (!put && put.error().kind != WireError::precondition_failed &&
            put.error().kind != WireError::conflict) {
            (void)ctx.dav_locks.release(c.app, c.rel, lock->token, c.x.caller.username);
            Response r = error_response(put.error());
            co_return co_await answer_read(c, r);
        }
        created = static_cast<bool>(put);
    }
    Response r = xml_response(created ? 201 : 200, "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>" +
                                                       lock_xml(*lock, c.app) +
                                                       "</D:lockdiscovery></D:prop>\n");
    r.headers.emplace_back("Lock-Token", "<" + lock->token + ">");
    co_return co_await answer_read(c, r);
}

awaitable<bool> do_unlock(Call& c) {
    std::string_view token = c.d.lock_token;
    if (token.size() < 2 || token.front() != '<' || token.back() != '>') {
        Response r = dav_error(400, "UNLOCK needs a Lock-Token header: <token>");
        co_return co_await answer(c, r);
    }
    token = token.substr(1, token.size() - 2);
    auto done = c.ctx.dav_locks.release(c.app, c.rel, token, c.x.caller.username);
    if (!done) {
        Response r = dav_error(done.error().status, done.error().message,
                               done.error().status == 409 ? "lock-token-matches-request-uri" : "");
        co_return co_await answer(c, r);
    }
    Response r = empty_response(204);
    co_return co_await answer(c, r);
}

}  // namespace

awaitable<bool> handle_dav(ServerContext& ctx, Exchange& x) {
    Call c{ctx, x, read_head(x.parser, x.keep_alive), x.route.app, {}, {}};
    if (c.d.method == "OPTIONS") {
        Response r = options_response();
        co_return co_await answer(c, r);
    }
    if (!c.d.repeated.empty()) {
        Response r = dav_error(
            400, fmt::format("the {} header came more than once; send it once", c.d.repeated));
        co_return co_await answer(c, r);
    }
    auto mount = ctx.api.open_mount(x.route.app, x.caller);
    if (!mount) {
        Response r = error_response(mount.error());
        co_return co_await answer(c, r);
    }
    c.mount = std::move(*mount);
    auto rel = normalize_remote_path(x.route.file_path);
    if (!rel) {
        Response r = dav_error(400, rel.error().message);
        co_return co_await answer(c, r);
    }
    c.rel = *rel;
    const std::string& m = c.d.method;

    if (m == "GET" || m == "HEAD") {
        auto e = stat_of(ctx, c.mount, c.rel);
        if (e && e->type == EntryType::dir) {
            Response r = dav_error(405, "a folder: list it with PROPFIND");
            r.headers.emplace_back("Allow", std::string(k_allow));
            co_return co_await answer(c, r, m == "HEAD");
        }
        Route files{RouteId::files, c.app, c.rel, {}, {}};
        Exchange fx{x.stream, x.buffer, x.parser, files, x.query, x.caller, x.keep_alive, 0};
        bool keep = co_await handle_file_get(ctx, fx);
        x.status = fx.status;
        co_return keep;
    }
    if (m == "PROPFIND") co_return co_await do_propfind(c);
    if (m == "UNLOCK") co_return co_await do_unlock(c);

    // Everything below writes or locks: not while the app's lock state cannot be
    // trusted (dav_locks.hpp: a damaged state file fails closed).
    if (auto state = ctx.dav_locks.usable(c.app); !state) {
        Response r = dav_error(state.error().status, state.error().message);
        co_return co_await answer(c, r);
    }
    auto verdict = evaluate_if(ctx, c.mount, c.d, c.app, c.rel);
    if (!verdict) {
        Response r = error_response(verdict.error());
        co_return co_await answer(c, r);
    }
    if (!verdict->holds) {
        Response r = dav_error(412, "the If header's conditions do not hold");
        co_return co_await answer(c, r);
    }
    if (m == "PUT") {
        auto e = stat_of(ctx, c.mount, c.rel);
        if (c.rel.empty() || (e && e->type == EntryType::dir)) {
            Response r = dav_error(405, "a folder cannot be written with PUT");
            co_return co_await answer(c, r);
        }
        if (auto refused = no_folder_for(ctx, c.mount, c.rel))
            co_return co_await answer(c, *refused);
        if (auto refused = check_locks(locks_in_the_way(ctx, c.app, c.rel, false, !e), *verdict,
                                       x.caller, c.app))
            co_return co_await answer(c, *refused);
        Route files{RouteId::files, c.app, c.rel, {}, {}};
        Exchange fx{x.stream, x.buffer, x.parser, files, x.query, x.caller, x.keep_alive, 0};
        bool keep = co_await handle_file_put(ctx, fx);
        x.status = fx.status;
        co_return keep;
    }
    if (m == "PROPPATCH") co_return co_await do_proppatch(c, *verdict);
    if (m == "MKCOL") co_return co_await do_mkcol(c, *verdict);
    if (m == "DELETE") co_return co_await do_delete(c, *verdict);
    if (m == "COPY") co_return co_await do_copy_move(c, *verdict, false);
    if (m == "MOVE") co_return co_await do_copy_move(c, *verdict, true);
    if (m == "LOCK") co_return co_await do_lock(c, *verdict);
    Response r = dav_error(405, fmt::format("{} is not a WebDAV method this server serves", m));
    r.headers.emplace_back("Allow", std::string(k_allow));
    co_return co_await answer(c, r);
}

}  // namespace de::server

// de::Client over the private libcurl transport (http.hpp).
//
// One unit although long: every public call of the Client is a short
// build-request / send / map-answer sequence over the same Impl (transport,
// retry policy, error mapping); the long parts (upload, download) are the two
// single-stream transfers, and the big-file engines live apart (transfers.hpp).
//
// Each call builds one http::Request, sends it through send() -- which retries
// as the one retry policy of libde decides (http::Retry: idempotency, jittered
// exponential backoff, a count) and turns transport failures into de::Errors
// with http::transport_error -- and then maps a non-2xx status with
// http::response_error, the one place that reads the server's {"error":{...}}
// body. The big-file engines (transfers.hpp) use the same two, and the
// parallel download finishes its file with the same seal_download /
// move_download_into_place as the single-stream one.
//
// Test seams (ClientOptions::hooks, de/test_hooks.hpp): the tuning fields
// override the thresholds and sizes here, in upload(), download() and
// upload_batch(); the fault-injection fields reach the engines through
// TransferEnv. Nothing here reads the environment.
// Messages name the operation, the app and the path, and say what to do next.
//
// Transfers stream: upload() reads the file with pread() straight into
// libcurl's buffer, download() writes each received chunk to a temporary file
// beside the target while hashing it, manifest() parses NDJSON a line at a
// time. Memory stays flat whatever the size. A Client (and its Transport) is
// used from one thread at a time; create one per worker thread.
#include <de/client.hpp>

#include <de/api.hpp>
#include <de/crc64.hpp>
#include <de/json.hpp>
#include <de/name_json.hpp>
#include <de/remote_path.hpp>
#include <de/sha256.hpp>
#include <de/size.hpp>

#include "http.hpp"
#include "transfers.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

namespace de {

namespace {

using nlohmann::json;

constexpr std::size_t k_hash_buffer = 1 << 20;
constexpr std::uint64_t k_progress_step = 256 * 1024;  // bytes between advance events
constexpr std::size_t k_max_manifest_line = 1 << 20;
constexpr std::uint64_t k_expect_continue_from = 1 << 20;  // smaller bodies: no extra round trip
constexpr int k_list_page = 10'000;

std::string show_path(std::string_view path) {
    return fmt::format("'{}'", path.empty() ? "/" : display_name(path));
}

// "app:/path": where a remote file is, as every message names it.
std::string where(std::string_view app, std::string_view path) {
    while (path.starts_with('/'))
        path.remove_prefix(1);
    return fmt::format("{}:/{}", app, display_name(path));
}

std::string errno_text(int err) {
    return std::strerror(err);
}

// A file descriptor closed on scope exit.
class Fd {
  public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&&) = delete;
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

  private:
    int m_fd;
};

template <class T>
Result<T> parse_body(const http::Response& response, std::string_view what) {
    try {
        return json::parse(response.body).get<T>();
    } catch (const json::exception& e) {
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: the server's answer is not what API v1 describes ({}); "
                                "check that the host is a de-server",
                                what, e.what()));
    }
}

http::TransportSettings transport_settings(const ClientOptions& options) {
    return http::TransportSettings{options.credentials.username,
                                   options.credentials.api_key,
                                   options.credentials.token,
                                   options.ca_path,
                                   options.verify_tls,
                                   options.connect_timeout,
                                   options.request_timeout,
                                   options.stall_timeout,
                                   options.debug,
                                   options.sync_lease};
}

}  // namespace

namespace detail {

bool set_file_mtime(int fd, std::int64_t mtime_ns) {
    timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = mtime_ns / 1'000'000'000;
    times[1].tv_nsec = mtime_ns % 1'000'000'000;
    return ::futimens(fd, times) == 0;
}

int create_download_temp(const std::filesystem::path& dir, const std::filesystem::path& local,
                         std::string& temp) {
    static constexpr char k_chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::string prefix = (dir / ("." + local.filename().string() + ".de-part-")).string();
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::uint64_t r = rng();
        temp = prefix;
        for (int i = 0; i < 6; ++i, r /= sizeof(k_chars) - 1)
            temp += k_chars[r % (sizeof(k_chars) - 1)];
        // 0666: the kernel applies the umask, as for any new file (curl, cp).
        int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;  // errno is EEXIST
}

Status seal_download(int fd, const std::string& temp, std::int64_t mtime_ns,
                     std::string_view what) {
    auto io_fail = [&](std::string_view step) {
        return fail(ErrorKind::generic, fmt::format("{} failed: cannot {} '{}': {}", what, step,
                                                    temp, errno_text(errno)));
    };
    if (mtime_ns > 0 && !set_file_mtime(fd, mtime_ns)) return io_fail("set the mtime of");
    if (::fdatasync(fd) != 0) return io_fail("flush");
    return {};
}

Status move_download_into_place(const std::string& temp, const std::filesystem::path& local,
                                const std::filesystem::path& dir, std::string_view what) {
    if (::rename(temp.c_str(), local.c_str()) != 0) {
        int err = errno;
        return fail(err == EISDIR || err == ENOTEMPTY ? ErrorKind::conflict : ErrorKind::generic,
                    fmt::format("{} failed: cannot move the downloaded file into place: {}", what,
                                errno_text(err)));
    }
    if (Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir_fd.get() >= 0)
        ::fsync(dir_fd.get());  // the rename itself durable; best effort
    return {};
}

}  // namespace detail

struct Client::Impl {
    ClientOptions options;
    std::string base_url;
    std::string host;
    http::Transport transport;
    http::RetryPolicy retry;
    std::minstd_rand rng;

    Impl(ClientOptions opts, std::string base)
        : options(std::move(opts)),
          base_url(std::move(base)),
          host(http::host_label(base_url)),
          transport(transport_settings(options)),
          rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count() ^
                                    reinterpret_cast<std::uintptr_t>(this))) {
        retry.max_retries = options.max_retries;
        retry.max_delay = std::chrono::milliseconds(2'000);
        retry.outage_budget = options.retry_budget;
    }

    std::string url(std::string_view route, const http::Query& query = {}) const {
        return http::build_url(base_url, route, query);
    }

    Error transport_error(const http::TransportError& e, std::string_view what) const {
        return http::transport_error(e, host, what, options.hint_wrong_host);
    }

    // A non-2xx answer as a de::Error (http::response_error), with this
    // client's advice for a wrong host and refused credentials.
    Error http_error(const http::Response& response, std::string_view what) const {
        http::ResponseContext context;
        context.headers = &response.headers;
        context.host = base_url;
        context.host_hint = options.hint_wrong_host;
        context.auth_hint = options.hint_bad_credentials;
        if (context.auth_hint.empty())
            context.auth_hint = options.credentials.token.empty()
                                    ? "check the username and API key"
                                    : "the login token has expired or was revoked; log in again";
        return http::response_error(response.status, response.body, what, context);
    }

    // What send() saw besides the final outcome.
    struct Sent {
        int attempts = 0;  // sends
        // An earlier send may have been carried out by the server although
        // its answer was lost (the connection broke or timed out after it was
        // made): a refusal of the last send may be the first one's doing.
        bool uncertain = false;
    };

    // Sends request, retrying as http::Retry decides (idempotency, backoff,
    // options.max_retries, an outage of up to options.retry_budget). A
    // Response is any HTTP answer; before_retry (if set) restarts a response
    // sink, else a request whose body already reached the caller is not
    // retried. A request that is not idempotent may be passed as idempotent
    // when its caller recognises (with `sent`) a retry whose first attempt
    // took effect.
    Result<http::Response> send(http::Request& request, std::string_view what, bool idempotent,
                                const std::function<bool()>& before_retry = {},
                                Sent* sent = nullptr) {
        http::Retry retrying(retry, idempotent, static_cast<std::uint32_t>(rng()));
        for (int attempt = 0;; ++attempt) {
            if (sent) sent->attempts = attempt + 1;
            auto result = transport.perform(request);
            http::Attempt outcome;
            if (result)
                outcome.status = result->status;
            else
                outcome.failure = result.error().kind;
            if (sent && !result &&
                (outcome.failure == http::TransportError::Kind::io ||
                 outcome.failure == http::TransportError::Kind::timeout))
                sent->uncertain = true;
            if (sent && result && result->sends > 1) sent->uncertain = true;
            // A send that went out and then failed in any way (a connect
            // failure too: libcurl sent the request on a reused connection,
            // which died, and its own resend found the server gone).
            if (sent && !result && result.error().sends > 0) sent->uncertain = true;
            auto give_back = [&]() -> Result<http::Response> {
                if (!result) return std::unexpected(transport_error(result.error(), what));
                return std::move(*result);
            };
            // Body bytes already handed to the caller cannot be taken back
            // unless before_retry restarts the sink.
            if (!result && result.error().received > 0 && !before_retry) return give_back();
            auto verdict = retrying.next(outcome);
            if (verdict.action == http::Retry::Action::exhausted && http::outage(outcome) &&
                retry.outage_budget.count() > 0)
                return std::unexpected(http::outage_error(what, base_url, retry.outage_budget,
                                                          outcome,
                                                          result ? "" : result.error().detail));
            if (verdict.action != http::Retry::Action::retry) return give_back();
            if (request.read_body && (!request.rewind_body || !request.rewind_body()))
                return give_back();
            if (before_retry && !before_retry()) return give_back();
            auto until = std::chrono::steady_clock::now() + verdict.delay;
            while (std::chrono::steady_clock::now() < until) {
                if (interrupt_requested() && !request.ignore_interrupt)
                    return fail(ErrorKind::interrupted, fmt::format("{} interrupted", what));
                std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                    std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
            }
        }
    }

    // GET/POST/... of a small JSON resource; non-2xx become errors.
    // `sent`, when given, says how the sending went (see Sent).
    Result<http::Response> call(std::string method, std::string url_text, std::string_view what,
                                bool idempotent, std::optional<json> body = std::nullopt,
                                http::Auth auth = http::Auth::preferred, Sent* sent = nullptr) {
        http::Request request;
        request.method = std::move(method);
        request.url = std::move(url_text);
        request.auth = auth;
        request.headers.push_back("Accept: application/json");
        if (body) request.json_body = dump_json(*body);
        auto response = send(request, what, idempotent, {}, sent);
        if (!response) return response;
        if (response->status < 200 || response->status >= 300)
            return std::unexpected(http_error(*response, what));
        return response;
    }

    Result<std::string> app_route(std::string_view app, std::string_view what) const {
        if (app.empty())
            return fail(ErrorKind::usage,
                        fmt::format("{} failed: no app name given; pass -n APP", what));
        return "/apps/" + http::percent_encode(app);
    }

    Result<std::vector<Entry>> list_dir(std::string_view app, const std::string& dir,
                                        const ListOptions& options);

    detail::TransferEnv transfer_env(std::string_view app, const std::string& route) const {
        return detail::TransferEnv{base_url,
                                   route,
                                   std::string(app),
                                   host,
                                   transport_settings(options),
                                   options.max_retries,
                                   options.retry_budget,
                                   options.hooks};
    }
};

Client::Client(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Result<Client> Client::create(ClientOptions options) {
    auto base = http::normalize_base_url(options.host);
    if (!base) return std::unexpected(base.error());
    const Credentials& c = options.credentials;
    if (c.token.empty() && (c.username.empty() || c.api_key.empty()))
        return fail(ErrorKind::auth,
                    fmt::format("no credentials for {}: log in with 'de-cli login', or set "
                                "DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD",
                                http::host_label(*base)));
    if (options.max_retries < 0) options.max_retries = 0;
    if (options.retry_budget.count() < 0) options.retry_budget = std::chrono::milliseconds(0);
    if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0 ||
        options.stall_timeout.count() <= 0)
        return fail(ErrorKind::usage, "timeouts must be positive");
    options.host = *base;
    http::global_init();
    return Client(std::make_unique<Impl>(std::move(options), std::move(*base)));
}

const ClientOptions& Client::options() const {
    return m_impl->options;
}

// ---- session ---------------------------------------------------------------

Result<LoginToken> Client::login() {
    const std::string what = fmt::format("login to {}", m_impl->host);
    const Credentials& c = m_impl->options.credentials;
    if (c.username.empty() || c.api_key.empty())
        return fail(ErrorKind::auth,
                    fmt::format("{} failed: a username and API key are needed to log in", what));
    auto response =
        m_impl->call("POST", m_impl->url("/login"), what, false, std::nullopt, http::Auth::basic);
    if (!response) return std::unexpected(response.error());
    return parse_body<LoginToken>(*response, what);
}

Status Client::logout() {
    const std::string what = fmt::format("logout from {}", m_impl->host);
    if (m_impl->options.credentials.token.empty())
        return fail(ErrorKind::usage, fmt::format("{} failed: not logged in with a token", what));
    auto response =
        m_impl->call("POST", m_impl->url("/logout"), what, false, std::nullopt, http::Auth::bearer);
    if (!response) return std::unexpected(response.error());
    return {};
}

Result<UserInfo> Client::whoami() {
    const std::string what = fmt::format("whoami on {}", m_impl->host);
    auto response = m_impl->call("GET", m_impl->url("/whoami"), what, true);
    if (!response) return std::unexpected(response.error());
    return parse_body<UserInfo>(*response, what);
}

Result<std::string> Client::server_version(ClientOptions options) {
    auto base = http::normalize_base_url(options.host);
    if (!base) return std::unexpected(base.error());
    if (options.max_retries < 0) options.max_retries = 0;
    if (options.retry_budget.count() < 0) options.retry_budget = std::chrono::milliseconds(0);
    if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0 ||
        options.stall_timeout.count() <= 0)
        return fail(ErrorKind::usage, "timeouts must be positive");
    options.host = *base;
    http::global_init();
    Impl impl(std::move(options), std::move(*base));
    const std::string what = fmt::format("asking {} for its version", impl.host);
    auto response =
        impl.call("GET", impl.url("/health"), what, true, std::nullopt, http::Auth::none);
    if (!response) return std::unexpected(response.error());
    try {
        return json::parse(response->body).at("version").get<std::string>();
    } catch (const json::exception& e) {
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: unexpected answer ({})", what, e.what()));
    }
}

// ---- apps ------------------------------------------------------------------

Result<std::vector<App>> Client::list_apps() {
    const std::string what = fmt::format("listing apps on {}", m_impl->host);
    auto response = m_impl->call("GET", m_impl->url("/apps"), what, true);
    if (!response) return std::unexpected(response.error());
    try {
        return json::parse(response->body).at("apps").get<std::vector<App>>();
    } catch (const json::exception& e) {
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: unexpected answer ({})", what, e.what()));
    }
}

Result<App> Client::get_app(std::string_view app) {
    const std::string what = fmt::format("getting app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    auto response = m_impl->call("GET", m_impl->url(*route), what, true);
    if (!response) return std::unexpected(response.error());
    return parse_body<App>(*response, what);
}

Result<App> Client::create_app(std::string_view app) {
    const std::string what = fmt::format("creating app '{}'", app);
    if (app.empty())
        return fail(ErrorKind::usage, fmt::format("{} failed: no app name given", what));
    // Sent again after a lost answer too: a retry refused because the name
    // is taken is recognised when the app is there and ours (another user's
    // app is not found for us).
    Impl::Sent sent;
    auto response = m_impl->call("POST", m_impl->url("/apps"), what, true,
                                 json{{"name", std::string(app)}}, http::Auth::preferred, &sent);
    if (!response) {
        if (response.error().http_status == 409 && response.error().api_kind == "conflict") {
            // Another user's app is not found for us: that tells yours from theirs.
            auto existing = get_app(app);
            if (existing && sent.uncertain) return existing;
            Error e = response.error();
            if (existing) {
                e.api_reason = std::string(api::reason::exists);
                e.message = fmt::format("{} failed: you have an app named '{}' already", what, app);
            } else if (existing.error().kind == ErrorKind::not_found) {
                e.message = fmt::format(
                    "{} failed: the name '{}' belongs to another user's app; "
                    "choose another name",
                    what, app);
            }
            return std::unexpected(e);
        }
        return std::unexpected(response.error());
    }
    return parse_body<App>(*response, what);
}

Result<App> Client::update_app(std::string_view app, const AppUpdate& update) {
    const std::string what = fmt::format("updating app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    json body = json::object();
    if (update.persistent_filesystem) {
        body["persistent_filesystem"] = *update.persistent_filesystem;
        // Turning it off deletes the files; the caller confirmed, the server wants it said.
        if (!*update.persistent_filesystem) body["confirm"] = std::string(app);
    }
    auto response = m_impl->call("PATCH", m_impl->url(*route), what, true, body);
    if (!response) return std::unexpected(response.error());
    return parse_body<App>(*response, what);
}

Status Client::delete_app(std::string_view app) {
    const std::string what = fmt::format("deleting app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    auto response =
        m_impl->call("DELETE", m_impl->url(*route, {{"confirm", std::string(app)}}), what, true);
    if (!response) return std::unexpected(response.error());
    return {};
}

// ---- mount -----------------------------------------------------------------

Result<MountStatus> Client::mount_status(std::string_view app) {
    const std::string what = fmt::format("getting the mount status of app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    auto response = m_impl->call("GET", m_impl->url(*route + "/mount"), what, true);
    if (!response) return std::unexpected(response.error());
    return parse_body<MountStatus>(*response, what);
}

Result<MountStatus> Client::enable_mount(std::string_view app) {
    const std::string what = fmt::format("enabling the mount of app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    auto response = m_impl->call("PUT", m_impl->url(*route + "/mount"), what, true);
    if (!response) return std::unexpected(response.error());
    return parse_body<MountStatus>(*response, what);
}

Status Client::disable_mount(std::string_view app) {
    const std::string what = fmt::format("disabling the mount of app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    auto response = m_impl->call(
        "DELETE", m_impl->url(*route + "/mount", {{"confirm", std::string(app)}}), what, true);
    if (!response) return std::unexpected(response.error());
    return {};
}

// ---- files: metadata -------------------------------------------------------

Result<std::vector<Entry>> Client::Impl::list_dir(std::string_view app, const std::string& dir,
                                                  const ListOptions& options) {
    const std::string what = fmt::format("listing {}", where(app, dir));
    auto route = app_route(app, what);
    if (!route) return std::unexpected(route.error());
    std::vector<Entry> entries;
    std::string cursor;
    for (;;) {
        http::Query query{{"path", dir},
                          {"recursive", options.recursive ? "true" : "false"},
                          {"hashes", options.hashes ? "true" : "false"},
                          {"limit", std::to_string(k_list_page)}};
        if (!cursor.empty()) query.emplace_back("cursor", cursor);
        auto response = call("GET", url(*route + "/mount/list", query), what, true);
        if (!response) return std::unexpected(response.error());
        try {
            json page = json::parse(response->body);
            for (const auto& item : page.at("entries"))
                entries.push_back(item.get<Entry>());
            const json& next = page.at("next_cursor");
            if (next.is_null()) break;
            auto cursor_name = get_name(page, "next_cursor");
            if (!cursor_name) throw json::other_error::create(501, "malformed next_cursor", &page);
            std::string next_cursor = std::move(*cursor_name);
            if (next_cursor.empty() || next_cursor == cursor) break;
            cursor = std::move(next_cursor);
        } catch (const json::exception& e) {
            return fail(ErrorKind::generic,
                        fmt::format("{} failed: unexpected answer ({})", what, e.what()));
        }
    }
    return entries;
}

Result<std::vector<Entry>> Client::list(std::string_view app, std::string_view dir,
                                        const ListOptions& options) {
    auto normal = normalize_remote_path(dir);
    if (!normal) return std::unexpected(normal.error());
    return m_impl->list_dir(app, *normal, options);
}

Result<Entry> Client::stat(std::string_view app, std::string_view path) {
    auto normal = normalize_remote_path(path);
    if (!normal) return std::unexpected(normal.error());
    const std::string what = fmt::format("stat of {}", where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    if (normal->empty()) {
        // The mount root is always a directory; a one-entry listing checks it is there.
        auto listed =
            m_impl->call("GET", m_impl->url(*route + "/mount/list", {{"limit", "1"}}), what, true);
        if (!listed) return std::unexpected(listed.error());
        return Entry{"", EntryType::dir, 0, 0, std::nullopt};
    }
    auto encoded = http::encode_remote_path(*normal);
    http::Request request;
    request.method = "HEAD";
    request.url = m_impl->url(*route + "/mount/files/" + *encoded);
    auto response = m_impl->send(request, what, true);
    if (!response) return std::unexpected(response.error());
    if (response->status == 200) {
        Entry entry{*normal, EntryType::file, 0, 0, std::nullopt};
        if (auto v = response->headers.find("content-length"))
            entry.size = static_cast<std::uint64_t>(http::parse_int(*v).value_or(0));
        if (auto v = response->headers.find("x-de-mtime-ns"))
            entry.mtime_ns = http::parse_int(*v).value_or(0);
        if (auto v = response->headers.find("etag")) entry.sha256 = api::sha256_from_etag(*v);
        return entry;
    }
    // HEAD answers carry no body: ask again with a one-byte GET, whose error
    // body says precisely what is wrong (no app, no file, mount off, a folder).
    http::Request probe;
    probe.url = request.url;
    probe.headers.push_back("Range: bytes=0-0");
    auto detail = m_impl->send(probe, what, true);
    if (!detail) return std::unexpected(detail.error());
    if (detail->status >= 200 && detail->status < 300)
        return std::unexpected(m_impl->http_error(*response, what));  // it changed meanwhile
    Error error = m_impl->http_error(*detail, what);
    if (detail->status != 409 || error.api_kind != "conflict") return std::unexpected(error);
    // A directory: its entry comes from listing the parent.
    std::string parent(parent_path(*normal));
    auto listed = m_impl->list_dir(app, parent, ListOptions{});
    if (!listed) return std::unexpected(listed.error());
    for (auto& entry : *listed)
        if (entry.path == *normal) return std::move(entry);
    return std::unexpected(error);
}

Status Client::manifest(std::string_view app, std::string_view dir, bool hashes,
                        const std::function<Status(const Entry&)>& on_entry) {
    auto normal = normalize_remote_path(dir);
    if (!normal) return std::unexpected(normal.error());
    const std::string what = fmt::format("manifest of {}", where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());

    std::string line;  // the current, unfinished line only
    std::uint64_t delivered = 0;
    std::optional<std::uint64_t> end_count;
    std::optional<Error> stop;
    auto handle_line = [&](std::string_view text) -> bool {
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        if (text.empty()) return true;
        if (end_count) {
            stop = Error{ErrorKind::network,
                         fmt::format("{} failed: data after the end line; try again", what),
                         0,
                         {}};
            return false;
        }
        try {
            json item = json::parse(text);
            if (auto it = item.find("error"); it != item.end() && it->is_object()) {
                // The server could not finish its walk: its error, not a short manifest.
                auto kind = api::wire_error_from_string(it->value("kind", std::string()));
                stop = http::response_error(kind ? api::http_status(*kind) : 500, text, what);
                return false;
            }
            if (auto it = item.find("end");
                it != item.end() && it->is_boolean() && it->get<bool>()) {
                end_count = item.at("count").get<std::uint64_t>();
                return true;
            }
            Entry entry = item.get<Entry>();
            ++delivered;
            if (auto status = on_entry(entry); !status) {
                stop = status.error();
                return false;
            }
            return true;
        } catch (const json::exception& e) {
            stop = Error{ErrorKind::network,
                         fmt::format("{} failed: a malformed manifest line ({})", what, e.what()),
                         0,
                         {}};
            return false;
        }
    };

    http::Request request;
    request.url = m_impl->url(*route + "/mount/manifest",
                              {{"path", *normal}, {"hashes", hashes ? "true" : "false"}});
    request.streaming = true;
    request.headers.push_back("Accept: application/x-ndjson");
    request.on_body = [&](std::string_view chunk) {
        while (!chunk.empty()) {
            auto newline = chunk.find('\n');
            if (newline == std::string_view::npos) {
                if (line.size() + chunk.size() > k_max_manifest_line) {
                    stop = Error{ErrorKind::network,
                                 fmt::format("{} failed: a manifest line is over 1 MiB", what),
                                 0,
                                 {}};
                    return false;
                }
                line.append(chunk);
                return true;
            }
            bool ok;
            if (line.empty()) {
                ok = handle_line(chunk.substr(0, newline));
            } else {
                line.append(chunk.substr(0, newline));
                ok = handle_line(line);
                line.clear();
            }
            if (!ok) return false;
            chunk.remove_prefix(newline + 1);
        }
        return true;
    };
    // Entries already handed to the caller cannot be taken back: retry only
    // before the first one.
    auto before_retry = [&] {
        if (delivered > 0) return false;
        line.clear();
        end_count.reset();
        return true;
    };
    auto response = m_impl->send(request, what, true, before_retry);
    if (stop) return std::unexpected(*stop);
    if (!response) return std::unexpected(response.error());
    if (response->status != 200) return std::unexpected(m_impl->http_error(*response, what));
    if (!line.empty() && !handle_line(line)) return std::unexpected(*stop);
    if (!end_count)
        return fail(ErrorKind::network,
                    fmt::format("{} failed: incomplete manifest (no end line); try again", what));
    if (*end_count != delivered)
        return fail(ErrorKind::network,
                    fmt::format("{} failed: incomplete manifest ({} entries, the end line says "
                                "{}); try again",
                                what, delivered, *end_count));
    return {};
}

// ---- files: transfers ------------------------------------------------------

Result<ResumeProbe> Client::probe_resume(std::string_view app, const std::filesystem::path& local,
                                         std::string_view remote, const UploadOptions& options,
                                         const std::function<Result<std::string>()>& local_sha256) {
    auto normal = normalize_remote_path(remote);
    if (!normal) return std::unexpected(normal.error());
    const std::string what =
        fmt::format("upload of '{}' to {}", display_name(local.string()), where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    Fd fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return ResumeProbe{};  // upload() says what is wrong with it
    return detail::resumable_probe(m_impl->transfer_env(app, *route), local, fd.get(),
                                   static_cast<std::uint64_t>(st.st_size), *normal, options, what,
                                   local_sha256);
}

void Client::discard_resume(std::string_view app, const std::filesystem::path& local,
                            std::string_view remote, const UploadOptions& options) {
    auto normal = normalize_remote_path(remote);
    if (!normal) return;
    const std::string what =
        fmt::format("upload of '{}' to {}", display_name(local.string()), where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return;
    detail::resumable_discard(m_impl->transfer_env(app, *route), local, *normal, options, what);
}

Result<Entry> Client::upload(std::string_view app, const std::filesystem::path& local,
                             std::string_view remote, const UploadOptions& options,
                             TransferReport* report) {
    auto normal = normalize_remote_path(remote);
    if (!normal) return std::unexpected(normal.error());
    const std::string what =
        fmt::format("upload of '{}' to {}", display_name(local.string()), where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    if (normal->empty())
        return fail(ErrorKind::usage,
                    fmt::format("{} failed: the mount root is a directory; name the file", what));

    Fd fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        int err = errno;
        return fail(err == ENOENT ? ErrorKind::usage : ErrorKind::generic,
                    fmt::format("{} failed: cannot open the local file: {}; check the path", what,
                                errno_text(err)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail(ErrorKind::generic, fmt::format("{} failed: cannot stat the local file: {}",
                                                    what, errno_text(errno)));
    if (!S_ISREG(st.st_mode))
        return fail(
            ErrorKind::usage,
            fmt::format("{} failed: not a regular file (upload folders recursively)", what));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::int64_t mtime_ns = options.mtime_ns.value_or(
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec);
    const TestHooks* hooks = m_impl->options.hooks.get();
    const std::uint64_t resumable_threshold = hooks && hooks->resumable_threshold
                                                  ? *hooks->resumable_threshold
                                                  : options.resumable_threshold;
    if (size >= resumable_threshold && !options.if_match_sha256) {
        if (hooks && hooks->part_size) {
            UploadOptions tuned = options;
            tuned.part_size = *hooks->part_size;
            return detail::resumable_upload(m_impl->transfer_env(app, *route), local, fd.get(),
                                            size, mtime_ns, *normal, tuned, what, report);
        }
        return detail::resumable_upload(m_impl->transfer_env(app, *route), local, fd.get(), size,
                                        mtime_ns, *normal, options, what, report);
    }
    if (report) *report = TransferReport{};
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

    // The whole file's CRC-64 first: Repr-Digest travels ahead of the body
    // (a file under the resumable threshold, read at several GB/s; the second
    // read comes from the page cache), and the server refuses the upload if
    // the bytes it got differ (damaged on the way, or the file changed between
    // the two reads). No SHA-256 here: the server computes it (the ETag).
    std::uint64_t crc = 0;
    {
        std::vector<char> buffer(k_hash_buffer);
        Crc64 hasher;
        std::uint64_t offset = 0;
        for (;;) {
            if (interrupt_requested())
                return fail(ErrorKind::interrupted, fmt::format("{} interrupted", what));
            ssize_t n = ::pread(fd.get(), buffer.data(), buffer.size(), static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0)
                return fail(ErrorKind::generic, fmt::format("{} failed: cannot read the local "
                                                            "file: {}",
                                                            what, errno_text(errno)));
            if (n == 0) break;
            hasher.update(buffer.data(), static_cast<std::size_t>(n));
            offset += static_cast<std::uint64_t>(n);
        }
        if (offset != size)
            return fail(ErrorKind::generic,
                        fmt::format("{} failed: the local file changed while it was read; try "
                                    "again when it is complete",
                                    what));
        crc = hasher.value();
    }

    std::uint64_t offset = 0;
    std::optional<Error> read_error;
    http::Request request;
    request.method = "PUT";
    request.url = m_impl->url(*route + "/mount/files/" + *http::encode_remote_path(*normal));
    request.streaming = true;
    request.body_size = size;
    request.headers = {
        "Content-Type: application/octet-stream",
        fmt::format("{}: {}", api::k_header_repr_digest, api::repr_digest_crc64(crc)),
        fmt::format("{}: {}", api::k_header_mtime_ns, mtime_ns),
        "Accept: application/json",
        // Lets the server refuse (quota, exists) before a large body is sent.
        size >= k_expect_continue_from ? "Expect: 100-continue" : "Expect:",
    };
    // Known already (the hash cache): checked by the server for free.
    if (options.sha256)
        request.headers.push_back(fmt::format("{}: {}", api::k_header_content_digest,
                                              api::content_digest(*options.sha256)));
    if (options.if_match_sha256)
        request.headers.push_back("If-Match: " + api::etag_for(*options.if_match_sha256));
    else if (!options.overwrite)
        request.headers.push_back("If-None-Match: *");
#ifdef DE_TEST_HOOKS
    // TestHooks::corrupt_part (0: the single PUT): one byte flipped on its way,
    // after the CRC was computed.
    const bool corrupt = hooks && hooks->corrupt_part && *hooks->corrupt_part == 0 && size > 0;
#endif
    request.read_body = [&](char* buf, std::size_t len) -> std::optional<std::size_t> {
        for (;;) {
            ssize_t n = ::pread(fd.get(), buf, std::min<std::uint64_t>(len, size - offset),
                                static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                read_error = Error{ErrorKind::generic,
                                   fmt::format("{} failed: cannot read the local file: {}", what,
                                               errno_text(errno)),
                                   0,
                                   {}};
                return std::nullopt;
            }
            if (n == 0 && offset < size) {
                read_error = Error{ErrorKind::generic,
                                   fmt::format("{} failed: the local file shrank while it was "
                                               "sent; try again when it is complete",
                                               what),
                                   0,
                                   {}};
                return std::nullopt;
            }
#ifdef DE_TEST_HOOKS
            if (corrupt && offset <= size / 2 && size / 2 < offset + static_cast<std::uint64_t>(n))
                buf[size / 2 - offset] = static_cast<char>(~buf[size / 2 - offset]);
#endif
            offset += static_cast<std::uint64_t>(n);
            return static_cast<std::size_t>(n);
        }
    };
    request.rewind_body = [&] {
        offset = 0;
        return true;
    };
    std::uint64_t reported = 0;
    if (options.progress) {
        options.progress(ProgressEvent{ProgressEvent::Phase::start, *normal, 0, size});
        request.on_transfer = [&](std::uint64_t done, std::uint64_t) {
            if (done > reported && (done - reported >= k_progress_step || done == size)) {
                reported = done;
                options.progress(ProgressEvent{ProgressEvent::Phase::advance, *normal, done, size});
            }
        };
    }
    Impl::Sent sent;
    auto response = m_impl->send(request, what, true, {}, &sent);
    if (read_error) return std::unexpected(*read_error);
    if (!response) return std::unexpected(response.error());
    if (response->status == 412 ||
        (response->status == 409 && !options.if_match_sha256 && !options.overwrite)) {
        // The same content there is what was asked for: an earlier attempt of
        // this upload stored it before its answer was lost (for a replacement
        // sent with If-Match too: the retry then finds the new ETag, not the
        // old one), or another run (a killed one the server was still
        // committing) did. Not a conflict. Judged by the size and the CRC-64
        // the server keeps (Repr-Digest on HEAD), or by the SHA-256 when it is
        // known (ETag).
        http::Request head;
        head.method = "HEAD";
        head.url = request.url;
        auto there = m_impl->send(head, what, true);
        std::optional<Entry> existing;
        if (there && there->status == 200) {
            Entry e{*normal, EntryType::file, 0, 0, std::nullopt};
            auto length = http::parse_int(there->headers.find("content-length").value_or(""));
            e.size = length ? static_cast<std::uint64_t>(*length) : 0;
            if (auto v = there->headers.find("x-de-mtime-ns"))
                e.mtime_ns = http::parse_int(*v).value_or(0);
            if (auto v = there->headers.find("etag")) e.sha256 = api::sha256_from_etag(*v);
            bool malformed = false;
            std::optional<std::uint64_t> remote_crc;
            if (auto v = there->headers.find("repr-digest"))
                remote_crc = api::parse_digest_crc64(*v, malformed);
            bool same = false;
            if (options.sha256) {
                same = e.sha256 == options.sha256;
            } else if (remote_crc) {
                same = length && e.size == size && *remote_crc == crc;
            } else if (length && e.size == size && e.sha256) {
                // A server without Repr-Digest: this rare path may hash.
                Sha256 hasher;
                std::vector<char> buffer(k_hash_buffer);
                std::uint64_t at = 0;
                ssize_t n = 0;
                while ((n = ::pread(fd.get(), buffer.data(), buffer.size(),
                                    static_cast<off_t>(at))) > 0) {
                    hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
                    at += static_cast<std::uint64_t>(n);
                }
                same = n == 0 && at == size && hasher.finish_hex() == *e.sha256;
            }
            if (same) existing = std::move(e);
        }
        if (existing) {
            if (options.progress)
                options.progress(ProgressEvent{ProgressEvent::Phase::finish, *normal, size, size});
            return std::move(*existing);
        }
    }
    if (response->status == 412) {
        Error error = m_impl->http_error(*response, what);
        error.kind = ErrorKind::conflict;
        error.message = options.if_match_sha256
                            ? fmt::format(
                                  "{} failed: the remote file changed since it was read; "
                                  "list it again and retry",
                                  what)
                            : fmt::format(
                                  "{} failed: {} exists already; allow overwriting (--update) to "
                                  "replace it",
                                  what, show_path(*normal));
        return std::unexpected(error);
    }
    if (response->status != 200 && response->status != 201)
        return std::unexpected(m_impl->http_error(*response, what));
    auto entry = parse_body<Entry>(*response, what);
    if (!entry) return entry;
    if (options.progress)
        options.progress(ProgressEvent{ProgressEvent::Phase::finish, *normal, size, size});
    return entry;
}

Result<Entry> Client::download(std::string_view app, std::string_view remote,
                               const std::filesystem::path& local, const DownloadOptions& options,
                               TransferReport* report) {
    // Big files go to the parallel ranged engine. Its threshold is decided
    // from this GET's Content-Length, so a small file costs one request as
    // before; for a big one this GET is dropped before its first byte is kept,
    // and the engine's first range request learns size, ETag and mtime (no HEAD).
    if (report) *report = TransferReport{};
    const TestHooks* hooks = m_impl->options.hooks.get();
    const std::uint64_t parallel_threshold = hooks && hooks->parallel_threshold
                                                 ? *hooks->parallel_threshold
                                                 : options.parallel_threshold;
    auto normal = normalize_remote_path(remote);
    if (!normal) return std::unexpected(normal.error());
    const std::string what =
        fmt::format("download of {} to '{}'", where(app, *normal), local.string());
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    if (normal->empty())
        return fail(ErrorKind::usage,
                    fmt::format("{} failed: the mount root is a directory; download it "
                                "recursively",
                                what));

    struct stat st {};
    if (::lstat(local.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return fail(ErrorKind::conflict,
                        fmt::format("{} failed: the local path is a directory", what));
        if (!options.overwrite)
            return fail(ErrorKind::conflict,
                        fmt::format("{} failed: the local file exists; allow overwriting to "
                                    "replace it",
                                    what));
    }
    std::filesystem::path dir = local.parent_path();
    if (dir.empty()) dir = ".";
    std::string temp;
    Fd fd(detail::create_download_temp(dir, local, temp));
    if (fd.get() < 0)
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: cannot create a temporary file in '{}': {}", what,
                                dir.string(), errno_text(errno)));
    // Whatever goes wrong below, the partial file goes.
    struct TempGuard {
        std::string path;
        bool armed = true;
        ~TempGuard() {
            if (armed) ::unlink(path.c_str());
        }
    } guard{temp};

    Crc64 crc;  // of what is written, checked against the server's Repr-Digest
    std::uint64_t written = 0, reported = 0, total = 0;
    std::optional<Error> write_error;
    bool started = false;
    http::Request request;
    request.url = m_impl->url(*route + "/mount/files/" + *http::encode_remote_path(*normal));
    request.streaming = true;
    bool go_parallel = false;
    // libcurl hands the body over 16 KiB at a time: gathering up to 1 MiB makes
    // one pwrite() and one hash update a MiB instead of 64 of each.
    std::vector<char> gather;
    std::size_t gathered = 0;
    auto flush = [&]() {
        const char* data = gather.data();
        std::size_t left = gathered;
        while (left > 0) {
            ssize_t n = ::pwrite(fd.get(), data, left, static_cast<off_t>(written));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                int err = errno;
                write_error = Error{
                    err == ENOSPC || err == EDQUOT ? ErrorKind::quota : ErrorKind::generic,
                    fmt::format("{} failed: cannot write '{}': {}", what, temp, errno_text(err)),
                    0,
                    {}};
                return false;
            }
            data += n;
            left -= static_cast<std::size_t>(n);
            written += static_cast<std::uint64_t>(n);
        }
        crc.update(gather.data(), gathered);
        gathered = 0;
        return true;
    };
    request.on_body = [&](std::string_view chunk) {
        if (go_parallel) return false;
        if (!started) {
            started = true;
            if (options.progress)
                options.progress(ProgressEvent{ProgressEvent::Phase::start, *normal, 0, total});
        }
        if (gather.empty())
            gather.resize(total > 0 ? std::min<std::uint64_t>(total, 1 << 20) : 1 << 20);
        while (!chunk.empty()) {
            std::size_t take = std::min(chunk.size(), gather.size() - gathered);
            std::memcpy(gather.data() + gathered, chunk.data(), take);
            gathered += take;
            chunk.remove_prefix(take);
            if (gathered == gather.size() && !flush()) return false;
        }
        std::uint64_t done = written + gathered;
        if (options.progress && done - reported >= k_progress_step) {
            reported = done;
            options.progress(ProgressEvent{ProgressEvent::Phase::advance, *normal, done, total});
        }
        return true;
    };
    request.on_body_start = [&](const http::Response& response) {
        if (auto v = response.headers.find("content-length"))
            total = static_cast<std::uint64_t>(
                std::max<std::int64_t>(0, http::parse_int(*v).value_or(0)));
        go_parallel = response.status == 200 && total >= parallel_threshold && total > 0;
    };
    auto before_retry = [&] {
        written = 0;
        reported = 0;
        gathered = 0;
        crc.reset();
        return ::ftruncate(fd.get(), 0) == 0;
    };
    auto response = m_impl->send(request, what, true, before_retry);
    if (go_parallel) {
        ::unlink(temp.c_str());
        guard.armed = false;
        return detail::parallel_download(m_impl->transfer_env(app, *route), *normal, local, options,
                                         what, report);
    }
    if (!write_error && response && gathered > 0) flush();
    if (write_error) return std::unexpected(*write_error);
    if (!response) return std::unexpected(response.error());
    if (response->status != 200) return std::unexpected(m_impl->http_error(*response, what));
    if (auto v = response->headers.find("content-length")) {
        auto length = http::parse_int(*v);
        if (length && static_cast<std::uint64_t>(*length) != written)
            return fail(ErrorKind::network, fmt::format("{} failed: got {} of {} bytes; try again",
                                                        what, written, *length));
    }
    // End to end: the CRC-64 of the bytes written against the server's
    // Repr-Digest (no SHA-256 on this side; the ETag names the content).
    // A server that sends no Repr-Digest (before issue #15) gets the length
    // check above only.
    if (auto digest = response->headers.find("repr-digest")) {
        auto expected = api::parse_digest_crc64(*digest);
        if (expected && *expected != crc.value())
            return fail(ErrorKind::generic,
                        fmt::format("{} failed: the received data's CRC-64 ({}) differs from "
                                    "the server's ({}): damaged in transit, or the file changed "
                                    "during the transfer; nothing was written; try again",
                                    what, crc64_hex(crc.value()), crc64_hex(*expected)));
    }
    std::optional<std::string> sha;
    if (auto etag = response->headers.find("etag")) sha = api::sha256_from_etag(*etag);
    std::int64_t mtime_ns = 0;
    if (auto v = response->headers.find("x-de-mtime-ns"))
        mtime_ns = http::parse_int(*v).value_or(0);

    if (auto sealed = detail::seal_download(fd.get(), temp, mtime_ns, what); !sealed)
        return std::unexpected(sealed.error());
    if (::close(fd.release()) != 0)
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: cannot close '{}': {}", what, temp, errno_text(errno)));
    if (auto placed = detail::move_download_into_place(temp, local, dir, what); !placed)
        return std::unexpected(placed.error());
    guard.armed = false;

    if (options.progress) {
        if (!started)
            options.progress(ProgressEvent{ProgressEvent::Phase::start, *normal, 0, written});
        options.progress(ProgressEvent{ProgressEvent::Phase::finish, *normal, written, written});
    }
    return Entry{*normal, EntryType::file, written, mtime_ns, sha};
}

Status Client::read(std::string_view app, std::string_view remote, std::optional<ByteRange> range,
                    const std::function<Status(std::string_view chunk)>& sink) {
    auto normal = normalize_remote_path(remote);
    if (!normal) return std::unexpected(normal.error());
    const std::string what = fmt::format("reading {}", where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    if (range && range->last && *range->last < range->first)
        return fail(ErrorKind::usage,
                    fmt::format("{} failed: the range ends before it starts", what));

    std::optional<Error> sink_error;
    http::Request request;
    request.url = m_impl->url(*route + "/mount/files/" + *http::encode_remote_path(*normal));
    request.streaming = true;
    const bool suffix = range && range->suffix;
    if (suffix)
        request.headers.push_back(fmt::format("Range: bytes=-{}", *range->suffix));
    else if (range)
        request.headers.push_back(
            range->last ? fmt::format("Range: bytes={}-{}", range->first, *range->last)
                        : fmt::format("Range: bytes={}-", range->first));
    // A server may ignore a Range (RFC 9110) and send the whole file with 200:
    // then the wanted bytes are cut out here (a suffix: the last N bytes are
    // kept, at most 2N in memory, and handed on at the end).
    bool cut = false, range_done = false, keep_tail = false;
    std::uint64_t position = 0;
    std::string tail;
    request.on_body_start = [&](const http::Response& response) {
        keep_tail = suffix && response.status == 200;
        cut = !suffix && range && response.status == 200 && (range->first > 0 || range->last);
        position = 0;
        tail.clear();
    };
    request.on_body = [&](std::string_view chunk) {
        if (keep_tail) {
            const std::uint64_t n = *range->suffix;
            if (chunk.size() >= n) {
                tail.assign(chunk.substr(chunk.size() - n));
            } else {
                tail.append(chunk);
                if (tail.size() >= 2 * n) tail.erase(0, tail.size() - n);
            }
            return true;
        }
        if (cut) {
            std::uint64_t begin = range->first;
            std::uint64_t end = range->last ? *range->last + 1 : UINT64_MAX;
            std::uint64_t chunk_begin = position;
            position += chunk.size();
            if (chunk_begin >= end) {
                range_done = true;
                return false;
            }
            if (position <= begin) return true;
            std::uint64_t from = std::max(begin, chunk_begin) - chunk_begin;
            std::uint64_t to = std::min(end, position) - chunk_begin;
            chunk = chunk.substr(from, to - from);
        }
        if (auto status = sink(chunk); !status) {
            sink_error = status.error();
            return false;
        }
        return true;
    };
    auto response = m_impl->send(request, what, true);
    if (sink_error) return std::unexpected(*sink_error);
    if (range_done) return {};
    if (!response) {
        // The last N bytes of an empty file are no bytes (the server says 416).
        if (suffix && response.error().http_status == 416) return {};
        return std::unexpected(response.error());
    }
    if (keep_tail && response->status == 200) {
        if (tail.size() > *range->suffix) tail.erase(0, tail.size() - *range->suffix);
        if (auto status = sink(tail); !status) return status;
    }
    if (response->status == 200 || response->status == 206) return {};
    if (suffix && response->status == 416) return {};
    return std::unexpected(m_impl->http_error(*response, what));
}

Status Client::remove(std::string_view app, std::string_view path, bool recursive) {
    auto normal = normalize_remote_path(path);
    if (!normal) return std::unexpected(normal.error());
    const std::string what = fmt::format("removing {}", where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    http::Query query;
    if (recursive) query.emplace_back("recursive", "true");
    Impl::Sent sent;
    auto response = m_impl->call(
        "DELETE", m_impl->url(*route + "/mount/files/" + *http::encode_remote_path(*normal), query),
        what, true, std::nullopt, http::Auth::preferred, &sent);
    // The effect of a DELETE is idempotent, its answer is not: when an attempt
    // was cut off after the server had acted (a big folder outlasting the
    // request timeout, a dropped connection), the retry finds nothing and gets
    // 404. What was asked for has happened.
    if (!response && !(response.error().http_status == 404 && sent.uncertain))
        return std::unexpected(response.error());
    return {};
}

Result<Entry> Client::move(std::string_view app, std::string_view from, std::string_view to,
                           bool overwrite) {
    auto source = normalize_remote_path(from);
    if (!source) return std::unexpected(source.error());
    auto target = normalize_remote_path(to);
    if (!target) return std::unexpected(target.error());
    const std::string what =
        fmt::format("moving {} to {}", where(app, *source), where(app, *target));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    // What is moved, learnt first (HEAD): a file's ETag, or that it is a
    // folder (409). Then a move sent again after a lost answer is recognised
    // when the source is gone and the target holds what the source held.
    // Unknown (no source, the root): sent only when the server cannot have
    // seen an earlier attempt, as any request that is not idempotent.
    std::optional<Entry> moving;
    if (!source->empty()) {
        http::Request head;
        head.method = "HEAD";
        head.url = m_impl->url(*route + "/mount/files/" + *http::encode_remote_path(*source));
        auto answer = m_impl->send(head, what, true);
        if (!answer) return std::unexpected(answer.error());
        if (answer->status == 200) {
            moving = Entry{*source, EntryType::file, 0, 0, std::nullopt};
            if (auto v = answer->headers.find("etag")) moving->sha256 = api::sha256_from_etag(*v);
            if (!moving->sha256) moving.reset();
        } else if (answer->status == 409) {
            moving = Entry{*source, EntryType::dir, 0, 0, std::nullopt};
        }
    }
    json body{{"overwrite", overwrite}};
    put_name(body, "from", *source);  // names: percent form when not UTF-8
    put_name(body, "to", *target);
    Impl::Sent sent;
    auto response = m_impl->call("POST", m_impl->url(*route + "/mount/move"), what,
                                 moving.has_value(), body, http::Auth::preferred, &sent);
    if (!response) {
        const int status = response.error().http_status;
        if (moving && sent.uncertain && (status == 404 || status == 409)) {
            // Source gone (404 says so; after a 409 ask), target as the source was.
            bool source_gone = status == 404;
            if (!source_gone) {
                auto gone = stat(app, *source);
                source_gone = !gone && gone.error().http_status == 404;
            }
            if (source_gone) {
                auto landed = stat(app, *target);
                if (landed && landed->type == moving->type &&
                    (moving->type == EntryType::dir || landed->sha256 == moving->sha256))
                    return landed;
            }
        }
        return std::unexpected(response.error());
    }
    return parse_body<Entry>(*response, what);
}

Result<Entry> Client::mkdir(std::string_view app, std::string_view path, bool parents) {
    auto normal = normalize_remote_path(path);
    if (!normal) return std::unexpected(normal.error());
    const std::string what = fmt::format("creating folder {}", where(app, *normal));
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    // With parents an existing folder is success, so a repeat is harmless.
    // Without, a retry refused because the folder exists (after a lost
    // answer) is recognised: a folder there is what was asked for.
    json body{{"parents", parents}};
    put_name(body, "path", *normal);  // percent form when not UTF-8
    Impl::Sent sent;
    auto response = m_impl->call("POST", m_impl->url(*route + "/mount/mkdir"), what, true, body,
                                 http::Auth::preferred, &sent);
    if (!response) {
        if (!parents && sent.uncertain && response.error().http_status == 409) {
            auto existing = stat(app, *normal);
            if (existing && existing->type == EntryType::dir) return existing;
        }
        return std::unexpected(response.error());
    }
    return parse_body<Entry>(*response, what);
}

Status Client::download_tree(std::string_view app, const std::vector<TreeItem>& items,
                             const TreeDownloadOptions& options) {
    auto route = m_impl->app_route(app, fmt::format("download from app '{}'", app));
    if (!route) return std::unexpected(route.error());
    return detail::tree_download(m_impl->transfer_env(app, *route), items, options);
}

Result<BatchResult> Client::upload_batch(std::string_view app, const std::vector<BatchItem>& items,
                                         const BatchOptions& options) {
    auto route = m_impl->app_route(app, fmt::format("batch upload to app '{}'", app));
    if (!route) return std::unexpected(route.error());
    const TestHooks* hooks = m_impl->options.hooks.get();
    if (hooks && hooks->batch_max_files) {
        BatchOptions tuned = options;
        tuned.max_files = std::min(options.max_files, *hooks->batch_max_files);
        return detail::batch_upload(m_impl->transfer_env(app, *route), items, tuned);
    }
    return detail::batch_upload(m_impl->transfer_env(app, *route), items, options);
}

// ---- sync lease ------------------------------------------------------------

Result<SyncLease> Client::acquire_sync_lease(std::string_view app, std::string_view holder,
                                             int ttl_s, const std::optional<std::string>& replace,
                                             SyncLease* current) {
    const std::string what = fmt::format("taking the sync lease of app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    json body{{"holder", holder}, {"ttl_s", ttl_s}};
    if (replace) body["replace"] = *replace;
    http::Request request;
    request.method = "POST";
    request.url = m_impl->url(*route + "/mount/" + std::string(api::k_route_sync_lease));
    request.headers.push_back("Accept: application/json");
    request.json_body = body.dump();
    // Not idempotent. Should a retried POST whose first attempt took effect
    // meet its own lease, the holder string is this process's: the caller
    // (SyncLeaseHold) takes it over with `replace`.
    auto response = m_impl->send(request, what, false);
    if (!response) return std::unexpected(response.error());
    if (response->status < 200 || response->status >= 300) {
        if (response->status == 409 && current) {
            try {
                *current = json::parse(response->body).at("error").at("lease").get<SyncLease>();
            } catch (const json::exception&) {
                *current = SyncLease{};
            }
        }
        return std::unexpected(m_impl->http_error(*response, what));
    }
    return parse_body<SyncLease>(*response, what);
}

Result<SyncLease> Client::renew_sync_lease(std::string_view app, std::string_view id, int ttl_s) {
    const std::string what = fmt::format("renewing the sync lease of app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    auto response =
        m_impl->call("PUT",
                     m_impl->url(*route + "/mount/" + std::string(api::k_route_sync_lease) + "/" +
                                 http::percent_encode(id)),
                     what, true, json{{"ttl_s", ttl_s}});
    if (!response) return std::unexpected(response.error());
    return parse_body<SyncLease>(*response, what);
}

Status Client::release_sync_lease(std::string_view app, std::string_view id) {
    const std::string what = fmt::format("releasing the sync lease of app '{}'", app);
    auto route = m_impl->app_route(app, what);
    if (!route) return std::unexpected(route.error());
    http::Request request;
    request.method = "DELETE";
    request.url = m_impl->url(*route + "/mount/" + std::string(api::k_route_sync_lease) + "/" +
                              http::percent_encode(id));
    request.headers.push_back("Accept: application/json");
    request.ignore_interrupt = true;  // a sync stopped with Ctrl-C still lets go of its lease
    auto response = m_impl->send(request, what, true);
    if (!response) return std::unexpected(response.error());
    if (response->status < 200 || response->status >= 300)
        return std::unexpected(m_impl->http_error(*response, what));
    return {};
}

}  // namespace de

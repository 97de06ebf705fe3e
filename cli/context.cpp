// The shared command plumbing: global options, settings resolution (in
// libde's config layer), client construction, app selection, confirmation and
// the stderr chatter rules (-q, --json, -v).
#include "context.hpp"

#include "output.hpp"
#include "test_hooks.hpp"

#include <de/name_json.hpp>
#include <de/project.hpp>
#include <de/size.hpp>

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

namespace de::cli {

std::unexpected<Error> fail_with(Context& ctx, Error error, std::optional<int> exit_status,
                                 nlohmann::json details) {
    ctx.failure.exit_status = exit_status;
    ctx.failure.details = std::move(details);
    return std::unexpected(std::move(error));
}

namespace {
// An error that names a defaulted app says where the name came from: the
// first "'APP'" in its message gets app_label()'s explanation.
Status with_app_origin(const Context& ctx, Status status) {
    if (status || ctx.default_app.empty()) return status;
    std::string quoted = fmt::format("'{}'", ctx.default_app);
    std::string& message = status.error().message;
    if (message.find(ctx.default_app_origin) != std::string::npos) return status;
    if (auto at = message.find(quoted); at != std::string::npos) {
        message.insert(at + quoted.size(),
                       fmt::format(" ({}; pass -n to choose)", ctx.default_app_origin));
    } else if (message.find(ctx.default_app + ":") != std::string::npos) {
        message += fmt::format(" (app '{}' {}; pass -n to choose)", ctx.default_app,
                               ctx.default_app_origin);
    }
    return status;
}
}  // namespace

void on_run(CLI::App* sub, Context& ctx, std::function<Status()> fn) {
    sub->callback([&ctx, fn = std::move(fn)] {
        if (!ctx.parse_only) ctx.outcome = with_app_origin(ctx, fn());
    });
}

void add_global_options(CLI::App& root, Context& ctx) {
    auto& g = ctx.global;
    root.add_option("--host", g.host,
                    "Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged "
                    "into, else http://127.0.0.1:8050)")
        ->type_name("HOST")
        ->group(k_group_connection);
    root.add_flag("--no-keyfile", g.no_keyfile,
                  "Do not read or write the keyfile; take credentials from "
                  "DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)")
        ->group(k_group_connection);
    // The validator's own description would show as "FILE:FILE".
    CLI::Validator existing_file = CLI::ExistingFile;
    existing_file.description("");
    root.add_option("--ca-path", g.ca_path, "CA bundle file to verify the server's certificate")
        ->check(existing_file)
        ->type_name("FILE")
        ->group(k_group_connection);
    root.add_flag("--insecure", g.insecure,
                  "Skip TLS certificate verification (only for test servers)")
        ->group(k_group_connection);
    root.add_flag(
            "--json", g.json,
            "Print exactly one JSON document on stdout (errors too); progress as NDJSON lines "
            "on stderr")
        ->group(k_group_output);
    root.add_flag("-q,--quiet", g.quiet, "Print nothing but results and errors")
        ->group(k_group_output);
    root.add_flag("-v,--verbose", g.verbose, "Explain more on stderr (repeat for more)")
        ->group(k_group_output);
    root.add_flag("--no-progress", g.no_progress, "Do not draw progress bars")
        ->group(k_group_output);
    root.add_flag("--no-color", g.no_color,
                  "No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)")
        ->group(k_group_output);
}

void add_app_option(CLI::App* sub, std::string& app) {
    sub->add_option("-n,--name", app,
                    "The app (default: in the app/ + mount/ layout the project folder's name, "
                    "else the current folder's name)")
        ->type_name("APP")
        ->group(k_group_app);
}

void add_yes_option(CLI::App* sub, bool& yes) {
    sub->add_flag("-y,--yes", yes, "Do not ask for confirmation (needed without a terminal)")
        ->group(k_group_safety);
}

Result<Settings> resolve_settings(const Context& ctx) {
    ConfigInputs inputs;
    if (!ctx.global.host.empty()) inputs.flag_host = ctx.global.host;
    if (!ctx.global.ca_path.empty()) inputs.flag_ca_path = ctx.global.ca_path;
    inputs.no_keyfile = ctx.global.no_keyfile;
    return de::resolve_settings(inputs);
}

void add_hints(ClientOptions& options, const Settings& s) {
    switch (s.host.origin) {
        case Origin::flag:
            options.hint_wrong_host = "check --host";
            break;
        case Origin::environment:
            options.hint_wrong_host = fmt::format("check {}", k_env_host);
            break;
        case Origin::keyfile:
            options.hint_wrong_host = fmt::format(
                "check the default host in {} (the last one logged into), or pass --host",
                s.host.source);
            break;
        case Origin::default_value:
        case Origin::unset:
            options.hint_wrong_host = fmt::format(
                "no host was given, so de-cli tried the built-in {}: pass --host or set {}",
                s.host.value, k_env_host);
            break;
    }
    if (!options.credentials.token.empty())
        options.hint_bad_credentials = fmt::format(
            "the login token has expired or was revoked: log in again with `de-cli login --host "
            "{}`",
            s.host.value);
    else if (s.api_key.origin == Origin::environment)
        options.hint_bad_credentials =
            fmt::format("check {} and {} (the API key)", k_env_username, k_env_password);
    else
        options.hint_bad_credentials = "check the username and the API key";
}

Result<Client> make_client(Context& ctx) {
    auto settings = resolve_settings(ctx);
    if (!settings) return std::unexpected(settings.error());
    const Settings& s = *settings;
    debug(ctx, fmt::format("host {} (from {})", s.host.value, s.host.source));

    ClientOptions options;
    options.host = s.host.value;
    options.ca_path = s.ca_path.value;
    options.verify_tls = !ctx.global.insecure;
    if (ctx.global.verbose >= 1 && !ctx.global.quiet) {
        // -v: every request line and status line, from every engine of libde
        // (plain calls, resumable PATCHes, parallel ranges, batch POSTs);
        // -vv: libcurl's notes and every header line too. libde redacts the
        // credentials before a line gets here.
        const bool every_line = ctx.global.verbose >= 2;
        options.debug = [every_line](std::string_view line) {
            const bool request_or_status =
                (line.starts_with("> ") && line.find(" HTTP/") != std::string_view::npos) ||
                line.starts_with("< HTTP/");
            if (!every_line && !request_or_status) return;
            std::fprintf(stderr, "de-cli: %.*s\n", static_cast<int>(line.size()), line.data());
        };
    }
    options.hooks = test_hooks_from_environment();
    if (auto budget = retry_budget_from_environment()) options.retry_budget = *budget;
    if (s.username.is_set() && s.api_key.is_set()) {
        options.credentials.username = s.username.value;
        options.credentials.api_key = s.api_key.value;
        debug(ctx, fmt::format("credentials: user '{}' with the API key from {}", s.username.value,
                               s.api_key.source));
    } else if (s.token.is_set()) {
        options.credentials.username = s.username.value;
        options.credentials.token = s.token.value;
        debug(ctx, fmt::format("credentials: user '{}' with the token from {}", s.username.value,
                               s.token.source));
    } else {
        std::string hint = ctx.global.no_keyfile
                               ? fmt::format("set {} and {}", k_env_username, k_env_password)
                               : fmt::format("run `de-cli login --host {}`, or set {} and {}",
                                             s.host.value, k_env_username, k_env_password);
        if (s.username.is_set() != s.api_key.is_set())
            hint = fmt::format("{} is set but {} is not; set both",
                               s.username.is_set() ? k_env_username : k_env_password,
                               s.username.is_set() ? k_env_password : k_env_username);
        return fail(ErrorKind::auth, fmt::format("no credentials for {}: {}", s.host.value, hint));
    }
    add_hints(options, s);
    return Client::create(std::move(options));
}

namespace {
// "delete 48 files and 6 folders (12.0 MiB) from my-app:/".
std::string confirmation_summary(const Confirmation& what) {
    std::string out = what.action;
    for (const std::string* part : {&what.counts, &what.target})
        if (!part->empty()) out += (out.empty() ? "" : " ") + *part;
    return out;
}

bool valid_app_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front())) return false;
    for (char c : name)
        if (!alnum(c) && c != '-') return false;
    return true;
}
}  // namespace

Result<std::string> resolve_app(Context& ctx, const std::string& flag_value, bool required) {
    return resolve_app(ctx, flag_value, AppChoice{required, {}, std::nullopt});
}

Result<std::string> resolve_app(Context& ctx, const std::string& flag_value,
                                const AppChoice& choice) {
    if (!flag_value.empty()) {
        if (!valid_app_name(flag_value))
            return fail(ErrorKind::usage,
                        fmt::format("invalid app name '{}': use 1-63 characters of a-z, 0-9 and "
                                    "'-', starting with a letter or digit",
                                    flag_value));
        return flag_value;
    }
    if (choice.required)
        return fail(ErrorKind::usage,
                    fmt::format("{}: pass -n APP",
                                choice.why_required.empty()
                                    ? "this command deletes data, so it needs the app named "
                                      "explicitly"
                                    : choice.why_required));
    std::error_code ec;
    std::filesystem::path folder = choice.folder ? std::filesystem::absolute(*choice.folder, ec)
                                                 : std::filesystem::current_path(ec);
    if (!ec) {
        auto real = std::filesystem::weakly_canonical(folder, ec);
        if (!ec) folder = real;
    }
    std::string name, origin;
    if (auto project = layout_project_folder(folder)) {
        name = project->filename().string();
        origin = fmt::format("from the project folder {}", project->string());
    } else {
        name = folder.filename().string();
        origin = fmt::format("from the {} {}", choice.folder ? "app folder" : "current folder",
                             folder.string());
    }
    if (!valid_app_name(name))
        return fail(ErrorKind::usage,
                    fmt::format("no app given, and the name '{}' ({}) is not a valid app name; "
                                "pass -n APP",
                                name, origin));
    ctx.default_app = name;
    ctx.default_app_origin = origin;
    return name;
}

std::string app_label(const Context& ctx, std::string_view app) {
    if (!ctx.default_app.empty() && app == ctx.default_app)
        return fmt::format("'{}' ({}; pass -n to choose)", app, ctx.default_app_origin);
    return fmt::format("'{}'", app);
}

std::string confirmation_text(const Confirmation& what) {
    std::string text = fmt::format("de-cli: this will {}:\n", confirmation_summary(what));
    std::size_t shown = std::min(what.paths.size(), k_confirm_paths);
    for (std::size_t i = 0; i < shown; ++i)
        text += fmt::format("  {}\n", what.paths[i]);
    std::size_t more = what.paths.size() - shown + what.more_paths;
    if (more > 0) text += fmt::format("  ... and {} more\n", more);
    if (!what.note.empty()) text += fmt::format("{}\n", what.note);
    return text;
}

Status confirm(Context& ctx, const Confirmation& what, bool yes) {
    if (yes) return {};
    if (!ctx.stdin_tty)
        return fail(ErrorKind::usage,
                    fmt::format("refusing to {} without confirmation: stdin is not a terminal to "
                                "ask on; pass -y to confirm{}",
                                confirmation_summary(what),
                                what.dry_run_available ? ", or --dry-run to see the list" : ""));
    std::string text = confirmation_text(what) + "Proceed? [y/N] ";
    std::fflush(stdout);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    std::string answer;
    if (!std::getline(std::cin, answer)) {
        answer.clear();
        std::fputc('\n', stderr);
    }
    while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' '))
        answer.pop_back();
    if (answer == "y" || answer == "Y" || answer == "yes" || answer == "YES" || answer == "Yes")
        return {};
    return fail(ErrorKind::usage, "aborted: not confirmed; nothing was changed");
}

namespace {
std::atomic<bool> g_color{false};
std::atomic<bool> g_bar_drawn{false};  // a ProgressView bar is on stderr now
}  // namespace

void init_color(bool stderr_tty, int argc, char** argv) {
    const char* no_color = std::getenv("NO_COLOR");
    bool on = stderr_tty && !(no_color && *no_color);
    for (int i = 1; i < argc && on; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--") break;
        if (arg == "--no-color") on = false;
    }
    g_color = on;
}

bool color_enabled() {
    return g_color;
}

std::string error_label() {
    return g_color ? "\x1b[1;31mde-cli: error:\x1b[0m" : "de-cli: error:";
}

std::string warning_label() {
    return g_color ? "de-cli: \x1b[33mwarning:\x1b[0m" : "de-cli: warning:";
}

void end_progress_line() {
    if (g_bar_drawn.exchange(false)) std::fputs("\r\x1b[K", stderr);
}

Status confirm(Context& ctx, std::string_view question, bool yes) {
    Confirmation what;
    what.action = std::string(question);
    what.dry_run_available = false;
    return confirm(ctx, what, yes);
}

void note(const Context& ctx, std::string_view line) {
    if (ctx.global.quiet || ctx.global.json) return;
    end_progress_line();
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

void warn(const Context& ctx, std::string_view line) {
    if (ctx.global.quiet || ctx.global.json) return;
    end_progress_line();
    std::fprintf(stderr, "%s %.*s\n", warning_label().c_str(), static_cast<int>(line.size()),
                 line.data());
}

void debug(const Context& ctx, std::string_view line) {
    if (ctx.global.verbose <= 0 || ctx.global.quiet) return;
    std::fprintf(stderr, "de-cli: %.*s\n", static_cast<int>(line.size()), line.data());
}

void print_table(const Context& ctx, const Table& table) {
    if (ctx.global.json) return;
    std::string text = table.render(ctx.stdout_tty);
    std::fwrite(text.data(), 1, text.size(), stdout);
}

void print_fields(const Context& ctx,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
    if (ctx.global.json) return;
    std::size_t width = 0;
    for (const auto& [k, v] : fields)
        width = std::max(width, k.size());
    for (const auto& [k, v] : fields) {
        if (ctx.stdout_tty)
            std::fprintf(stdout, "%-*s  %s\n", static_cast<int>(width), k.c_str(), v.c_str());
        else
            std::fprintf(stdout, "%s\t%s\n", k.c_str(), v.c_str());
    }
}

Error explain(Error error, std::string_view app) {
    if (error.api_kind == "mount_disabled" &&
        error.message.find("mount enable") == std::string::npos)
        error.message += fmt::format(
            "; the persistent filesystem of '{}' is off: turn it on with `de-cli mount enable -n "
            "{}`",
            app, app);
    else if (error.kind == ErrorKind::not_found &&
             error.message.find(fmt::format("app '{}' not found", app)) != std::string::npos &&
             error.message.find("apps list") == std::string::npos)
        error.message += "; `de-cli apps list` shows your apps";
    // Refused credentials: libde's message already says what to do in this
    // mode (add_hints), so nothing is added here.
    return error;
}

ProgressFn make_progress(Context& ctx) {
    const auto& g = ctx.global;
    if (g.quiet || g.no_progress) return {};
    if (!g.json && !ctx.stderr_tty) return {};
    int columns = 80;
    winsize ws{};
    if (ctx.stderr_tty && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        columns = ws.ws_col;
    auto view = std::make_shared<ProgressView>(
        g.json ? ProgressView::Mode::ndjson : ProgressView::Mode::bar, stderr, columns);
    return [view](const ProgressEvent& event) { view->on_event(event); };
}

std::string progress_bar_line(std::string_view name, std::uint64_t done, std::uint64_t total,
                              double rate, std::optional<double> eta, int width, bool finished) {
    std::string stats = format_progress_amount(done, total);
    if (auto r = format_rate(rate); !r.empty()) stats += "  " + r;
    if (!finished && total > 0) stats += "  ETA " + format_eta(eta);

    // The layout is planned for the widest stats this set can show, so the
    // name and the bar stay put while the numbers change.
    std::string widest = fmt::format("100.0%  {} / {}", format_size(total), format_size(total));
    if (total > 0) widest += "  1023.9 MiB/s  ETA 59:59";
    if (!finished && stats.size() < widest.size()) stats.resize(widest.size(), ' ');
    // 20 cells, fewer (down to 10) when the name would be cut otherwise.
    width = std::max(width, 40);
    int fixed = width - 1 - static_cast<int>(stats.size()) - 4 - 2;
    int want = std::min<int>(static_cast<int>(name.size()), 20);
    int cells = std::clamp(fixed - want, 10, 20);
    std::string line = layout_progress_line(
        display_name(name), format_progress_cells(done, total, cells), stats, width);
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
    return line;
}

std::string progress_json_line(std::string_view event, std::string_view name, std::uint64_t done,
                               std::uint64_t total, double rate, std::optional<double> eta,
                               double seconds) {
    nlohmann::json line = {{"event", event},
                           {"done", done},
                           {"total", total},
                           {"rate", static_cast<std::uint64_t>(std::max(rate, 0.0))}};
    put_name(line, "name", name);  // "name_encoding": "percent" when not UTF-8
    line["eta_seconds"] =
        eta ? nlohmann::json(std::round(*eta * 10) / 10) : nlohmann::json(nullptr);
    if (seconds >= 0) line["seconds"] = std::round(seconds * 1000) / 1000;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ProgressView::ProgressView(Mode mode, std::FILE* stream, int width)
    : m_mode(mode), m_stream(stream), m_width(width) {}

ProgressView::~ProgressView() {
    if (m_drawn) {
        std::fputs("\r\x1b[K", m_stream);
        std::fflush(m_stream);
        if (m_stream == stderr) g_bar_drawn = false;
    }
}

void ProgressView::on_event(const ProgressEvent& event) {
    on_event(event, Clock::now());
}

void ProgressView::emit(std::string_view kind, std::string_view name, std::uint64_t done,
                        std::uint64_t total, Clock::time_point now) {
    bool finish = kind == "finish";
    double secs = m_meter.seconds(now);
    // At the end, the average says more than the last window.
    double rate = finish ? (secs > 0 ? static_cast<double>(done) / secs : 0.0) : m_meter.rate();
    std::optional<double> eta =
        finish ? std::optional<double>(0.0) : m_meter.eta_seconds(done, total);
    std::string text;
    if (m_mode == Mode::ndjson) {
        text = progress_json_line(kind, name, done, total, rate, eta, finish ? secs : -1.0);
        text += '\n';
    } else {
        text = "\r\x1b[K" + progress_bar_line(name, done, total, rate, eta, m_width, finish);
        if (finish) text += '\n';
        m_drawn = !finish;
        if (m_stream == stderr) g_bar_drawn = m_drawn;
    }
    std::fwrite(text.data(), 1, text.size(), m_stream);
    std::fflush(m_stream);
    m_last_emit = now;
}

void ProgressView::on_event(const ProgressEvent& event, Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    using Phase = ProgressEvent::Phase;
    if (event.phase == Phase::start || !m_active) {
        // A set starts (an advance without a start starts one too).
        m_meter.start(now);
        m_active = true;
        m_visible = false;
        m_last_emit = {};
    }
    m_meter.update(event.done, now);
    const bool finish = event.phase == Phase::finish;
    if (m_mode == Mode::ndjson) {
        if (!m_visible) {
            // Small sets stay silent: their result is in the one JSON document anyway.
            if (std::max(event.total, event.done) < k_ndjson_min_bytes) {
                if (finish) m_active = false;
                return;
            }
            m_visible = true;
            emit("start", event.name, event.done, event.total, now);
            if (!finish) return;
        }
        if (finish) {
            emit("finish", event.name, event.done, event.total, now);
            m_active = false;
        } else if (now - m_last_emit >= std::chrono::milliseconds(250)) {
            emit("progress", event.name, event.done, event.total, now);
        }
        return;
    }
    if (finish) {
        emit("finish", event.name, event.done, event.total, now);
        m_active = false;
    } else if (event.phase == Phase::start || now - m_last_emit >= std::chrono::milliseconds(100)) {
        emit("progress", event.name, event.done, event.total, now);
    }
}

}  // namespace de::cli

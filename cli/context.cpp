// The shared command plumbing: global options, settings resolution (in
// libde's config layer), client construction, app selection, confirmation and
// the stderr chatter rules (-q, --json, -v).
#include "context.hpp"

#include "output.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace de::cli {

void on_run(CLI::App* sub, Context& ctx, std::function<Status()> fn) {
    sub->callback([&ctx, fn = std::move(fn)] { ctx.outcome = fn(); });
}

void add_global_options(CLI::App& root, Context& ctx) {
    auto& g = ctx.global;
    root.add_option("--host", g.host,
                    "Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged "
                    "into, else http://127.0.0.1:8050)")
        ->group(k_group_connection);
    root.add_flag("--no-keyfile", g.no_keyfile,
                  "Do not read or write the keyfile; take credentials from "
                  "DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)")
        ->group(k_group_connection);
    root.add_option("--ca-path", g.ca_path, "CA bundle file to verify the server's certificate")
        ->check(CLI::ExistingFile)
        ->group(k_group_connection);
    root.add_flag("--insecure", g.insecure,
                  "Skip TLS certificate verification (only for test servers)")
        ->group(k_group_connection);
    root.add_flag("--json", g.json,
                  "Print exactly one JSON document on stdout (errors too); no progress")
        ->group(k_group_output);
    root.add_flag("-q,--quiet", g.quiet, "Print nothing but results and errors")
        ->group(k_group_output);
    root.add_flag("-v,--verbose", g.verbose, "Explain more on stderr (repeat for more)")
        ->group(k_group_output);
    root.add_flag("--no-progress", g.no_progress, "Do not draw progress bars")
        ->group(k_group_output);
}

void add_app_option(CLI::App* sub, std::string& app) {
    sub->add_option("-n,--name", app,
                    "The app (default: the current folder's name, as `de deploy` does)")
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

Result<Client> make_client(Context& ctx) {
    auto settings = resolve_settings(ctx);
    if (!settings) return std::unexpected(settings.error());
    const Settings& s = *settings;
    debug(ctx, fmt::format("host {} (from {})", s.host.value, s.host.source));

    ClientOptions options;
    options.host = s.host.value;
    options.ca_path = s.ca_path.value;
    options.verify_tls = !ctx.global.insecure;
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
    return Client::create(std::move(options));
}

namespace {
bool valid_app_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front())) return false;
    for (char c : name)
        if (!alnum(c) && c != '-') return false;
    return true;
}
}  // namespace

Result<std::string> resolve_app(const Context&, const std::string& flag_value, bool required) {
    if (!flag_value.empty()) {
        if (!valid_app_name(flag_value))
            return fail(ErrorKind::usage,
                        fmt::format("invalid app name '{}': use 1-63 characters of a-z, 0-9 and "
                                    "'-', starting with a letter or digit",
                                    flag_value));
        return flag_value;
    }
    if (required)
        return fail(ErrorKind::usage,
                    "this command deletes data, so it needs the app named explicitly: pass -n APP");
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    std::string name = ec ? std::string() : cwd.filename().string();
    if (!valid_app_name(name))
        return fail(ErrorKind::usage,
                    fmt::format("no app given and the current folder's name '{}' is not a valid "
                                "app name; pass -n APP",
                                name));
    return name;
}

Status confirm(Context& ctx, std::string_view question, bool yes) {
    if (yes) return {};
    if (!ctx.stdin_tty)
        return fail(ErrorKind::usage,
                    fmt::format("refusing to {} without confirmation: there is no terminal to "
                                "ask on; pass -y to confirm",
                                question));
    std::fprintf(stderr, "%.*s? [y/N] ", static_cast<int>(question.size()), question.data());
    std::fflush(stderr);
    std::string answer;
    if (!std::getline(std::cin, answer)) answer.clear();
    if (answer == "y" || answer == "Y" || answer == "yes" || answer == "YES" || answer == "Yes")
        return {};
    return fail(ErrorKind::usage, "aborted: not confirmed; nothing was changed");
}

void note(const Context& ctx, std::string_view line) {
    if (ctx.global.quiet || ctx.global.json) return;
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

void warn(const Context& ctx, std::string_view line) {
    if (ctx.global.quiet || ctx.global.json) return;
    std::fprintf(stderr, "de-cli: warning: %.*s\n", static_cast<int>(line.size()), line.data());
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
    else if (error.kind == ErrorKind::auth && error.http_status == 401 &&
             error.message.find("login") == std::string::npos)
        error.message +=
            "; log in again with `de-cli login`, or check DASH_ENTERPRISE_USERNAME "
            "and DASH_ENTERPRISE_PASSWORD";
    return error;
}

ProgressFn make_progress(Context& ctx) {
    const auto& g = ctx.global;
    if (g.json || g.quiet || g.no_progress || !ctx.stderr_tty) return {};
    int columns = 80;
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) columns = ws.ws_col;
    auto bar = std::make_shared<ProgressBar>(stderr, columns);
    return [bar](const ProgressEvent& event) { bar->on_event(event); };
}

}  // namespace de::cli

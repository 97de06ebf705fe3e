// login, logout, whoami and config: the credential commands. login trades the
// API key for a bearer token (POST /login) and keeps only the token, so a
// leaked keyfile can be revoked with `logout` (or expires) without rotating
// the key. Secrets are read without echo or from stdin, and never printed.
#include "commands.hpp"
#include "context.hpp"
#include "helpers.hpp"
#include "output.hpp"

#include <de/config.hpp>
#include <de/json.hpp>
#include <de/timestamp.hpp>

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <iterator>

namespace de::cli {

namespace {

// Reads one line from the terminal with echo off, the prompt on stderr.
Result<std::string> prompt_secret(std::string_view prompt) {
    std::fprintf(stderr, "%.*s", static_cast<int>(prompt.size()), prompt.data());
    std::fflush(stderr);
    termios old_mode{};
    bool restore = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
    if (restore) {
        termios quiet = old_mode;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    bool ok = static_cast<bool>(std::getline(std::cin, line));
    if (restore) ::tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
    std::fputc('\n', stderr);
    if (!ok) return fail(ErrorKind::usage, "no API key entered");
    return line;
}

Result<std::string> prompt_line(std::string_view prompt) {
    std::fprintf(stderr, "%.*s", static_cast<int>(prompt.size()), prompt.data());
    std::fflush(stderr);
    std::string line;
    if (!std::getline(std::cin, line)) return fail(ErrorKind::usage, "no username entered");
    return line;
}

std::string trim_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return s;
}

struct LoginArgs {
    std::string username;
    bool password_stdin = false;
};

Status run_login(Context& ctx, const LoginArgs& args) {
    if (ctx.global.no_keyfile)
        return fail(ErrorKind::usage,
                    "login stores a token in the keyfile, and --no-keyfile forbids that; with "
                    "--no-keyfile set DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD "
                    "instead of logging in");
    auto settings = resolve_settings(ctx);
    if (!settings) return std::unexpected(settings.error());
    const std::string host = settings->host.value;

    std::string username = args.username;
    if (username.empty() && settings->username.origin == Origin::environment)
        username = settings->username.value;
    std::string api_key;
    if (args.password_stdin) {
        std::string all{std::istreambuf_iterator<char>(std::cin), {}};
        api_key = trim_newline(std::move(all));
        if (api_key.empty()) return fail(ErrorKind::usage, "--password-stdin read no API key");
    } else if (settings->api_key.origin == Origin::environment && !username.empty()) {
        api_key = settings->api_key.value;
    }
    if (username.empty() || api_key.empty()) {
        if (!ctx.stdin_tty || args.password_stdin)
            return fail(ErrorKind::usage,
                        "no terminal to ask for credentials on: pass --username NAME and the API "
                        "key on stdin with --password-stdin");
        if (username.empty()) {
            auto typed = prompt_line(fmt::format("Username for {}: ", host));
            if (!typed) return std::unexpected(typed.error());
            username = *typed;
        }
        if (username.empty()) return fail(ErrorKind::usage, "no username entered");
        auto key = prompt_secret(fmt::format("API key for {}@{}: ", username, host));
        if (!key) return std::unexpected(key.error());
        api_key = *key;
        if (api_key.empty()) return fail(ErrorKind::usage, "no API key entered");
    }

    ClientOptions options;
    options.host = host;
    options.ca_path = settings->ca_path.value;
    options.verify_tls = !ctx.global.insecure;
    options.credentials.username = username;
    options.credentials.api_key = api_key;
    add_hints(options, *settings);
    options.hint_bad_credentials = fmt::format("check the username ({}) and the API key", username);
    auto client = Client::create(std::move(options));
    if (!client) return std::unexpected(client.error());
    auto token = client->login();
    if (!token) return std::unexpected(token.error());

    auto keyfile = read_keyfile(settings->keyfile.value);
    if (!keyfile) return std::unexpected(keyfile.error());
    keyfile->hosts[host] =
        KeyfileEntry{token->username.empty() ? username : token->username, token->token,
                     token->expires_at, static_cast<std::int64_t>(std::time(nullptr))};
    keyfile->default_host = host;
    if (auto st = write_keyfile(settings->keyfile.value, *keyfile); !st) return st;

    const std::string& who = keyfile->hosts[host].username;
    note(ctx, fmt::format("Logged in to {} as {} (token kept in {})", host, who,
                          settings->keyfile.value));
    ctx.json_result = nlohmann::json{
        {"host", host},
        {"username", who},
        {"expires_at", token->expires_at ? nlohmann::json(format_rfc3339_s(token->expires_at))
                                         : nlohmann::json(nullptr)},
        {"keyfile", settings->keyfile.value}};
    return {};
}

Status run_logout(Context& ctx) {
    if (ctx.global.no_keyfile)
        return fail(ErrorKind::usage, "logout removes the keyfile's token; drop --no-keyfile");
    auto settings = resolve_settings(ctx);
    if (!settings) return std::unexpected(settings.error());
    const std::string host = settings->host.value;
    auto keyfile = read_keyfile(settings->keyfile.value);
    if (!keyfile) return std::unexpected(keyfile.error());
    auto it = keyfile->hosts.find(host);
    if (it == keyfile->hosts.end()) {
        note(ctx, fmt::format("Not logged in to {}; nothing to do", host));
        ctx.json_result = nlohmann::json{{"host", host}, {"logged_out", false}};
        return {};
    }
    // Revoke on the server first; a token that is already invalid is fine, an
    // unreachable server only means the token lives until it expires.
    ClientOptions options;
    options.host = host;
    options.ca_path = settings->ca_path.value;
    options.verify_tls = !ctx.global.insecure;
    options.credentials.username = it->second.username;
    options.credentials.token = it->second.token;
    add_hints(options, *settings);
    bool revoked = false;
    if (auto client = Client::create(std::move(options))) {
        auto st = client->logout();
        revoked = st.has_value();
        if (!st && st.error().kind != ErrorKind::auth)
            warn(ctx, fmt::format("could not revoke the token on {} ({}); it was removed locally "
                                  "and expires by itself",
                                  host, st.error().message));
    }
    keyfile->default_host = default_host_after_logout(*keyfile, host);
    keyfile->hosts.erase(it);
    if (auto st = write_keyfile(settings->keyfile.value, *keyfile); !st) return st;
    if (keyfile->default_host != host)
        note(ctx, fmt::format("Logged out of {}; the default host is now {}", host,
                              keyfile->default_host));
    else
        note(ctx, fmt::format("Logged out of {}", host));
    ctx.json_result = nlohmann::json{{"host", host},
                                     {"logged_out", true},
                                     {"token_revoked", revoked},
                                     {"default_host", keyfile->default_host}};
    return {};
}

Status run_whoami(Context& ctx) {
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto user = client->whoami();
    if (!user) return std::unexpected(user.error());
    ctx.json_result =
        nlohmann::json{{"username", user->username}, {"host", client->options().host}};
    if (human(ctx)) std::cout << user->username << '\n';
    note(ctx, fmt::format("on {}", client->options().host));
    return {};
}

// Shows each effective setting, its origin and where it came from; secrets as "(set)".
Status run_config(Context& ctx) {
    auto settings = resolve_settings(ctx);
    if (!settings) return std::unexpected(settings.error());
    const Settings& s = *settings;
    struct Row {
        const char* name;
        const Setting* setting;
        bool secret;
    };
    const Row rows[] = {{"host", &s.host, false},       {"username", &s.username, false},
                        {"api_key", &s.api_key, true},  {"token", &s.token, true},
                        {"ca_path", &s.ca_path, false}, {"keyfile", &s.keyfile, false}};
    nlohmann::json j = nlohmann::json::object();
    Table table({"SETTING", "VALUE", "ORIGIN", "SOURCE"});
    for (const auto& row : rows) {
        std::string value = row.setting->is_set()
                                ? (row.secret ? std::string("(set)") : row.setting->value)
                                : std::string("-");
        // Unset is null; a secret's value is never printed ("set" says it is there).
        j[row.name] = {
            {"value", row.setting->is_set() && !row.secret && !row.setting->value.empty()
                          ? nlohmann::json(row.setting->value)
                          : nlohmann::json(nullptr)},
            {"set", row.setting->is_set()},
            {"origin", to_string(row.setting->origin)},
            {"source", row.setting->source.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(row.setting->source)}};
        table.add_row({row.name, value, std::string(to_string(row.setting->origin)),
                       row.setting->source.empty() ? "-" : row.setting->source});
    }
    ctx.json_result = j;
    if (human(ctx)) print_table(ctx, table);
    return {};
}

}  // namespace

void register_auth(CLI::App& root, Context& ctx) {
    auto login_args = std::make_shared<LoginArgs>();
    auto* login = root.add_subcommand("login", "Log in to a host and keep a token in the keyfile");
    login
        ->add_option("-u,--username", login_args->username,
                     "Username (default: $DASH_ENTERPRISE_USERNAME, else asked)")
        ->type_name("USER");
    login->add_flag("--password-stdin", login_args->password_stdin,
                    "Read the API key from stdin (for scripts; nothing is echoed)");
    login->footer(
        "The API key is exchanged for a token; only the token is stored, in\n"
        "$XDG_CONFIG_HOME/de-cli/keyfile (mode 0600), and the host becomes the default.\n\n"
        "Examples:\n"
        "  $ de-cli login --host https://de.example.com\n"
        "  $ printf '%s' \"$KEY\" | de-cli login --host http://127.0.0.1:8050 -u alice "
        "--password-stdin");
    on_run(login, ctx, [&ctx, login_args] { return run_login(ctx, *login_args); });

    auto* logout = root.add_subcommand("logout", "Revoke the token and remove it from the keyfile");
    logout->footer("Examples:\n  $ de-cli logout\n  $ de-cli logout --host https://de.example.com");
    on_run(logout, ctx, [&ctx] { return run_logout(ctx); });

    auto* whoami = root.add_subcommand("whoami", "Print the user the credentials belong to");
    whoami->footer("Examples:\n  $ de-cli whoami\n  $ de-cli whoami --json");
    on_run(whoami, ctx, [&ctx] { return run_whoami(ctx); });

    auto* config = root.add_subcommand(
        "config", "Show the settings in effect and where each comes from (secrets hidden)");
    config->footer(
        "Precedence: flags > environment > keyfile > defaults.\n\n"
        "Examples:\n  $ de-cli config\n  $ DASH_ENTERPRISE_HOST=https://de.example.com de-cli "
        "config --json");
    on_run(config, ctx, [&ctx] { return run_config(ctx); });
}

}  // namespace de::cli

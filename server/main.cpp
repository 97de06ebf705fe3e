// de-server: the platform's mount service. `de-server --root DIR` serves REST
// API v1 (docs/api.md); `de-server --root DIR user add|list|remove` manages its
// users. The invocation is a contract the client, the CLI and every test rely
// on: the ready line on stdout is exactly "listening on http://ADDR:PORT"
// ("https://" with --tls-cert/--tls-key).
#include "server.hpp"
#include "users.hpp"

#include <de/docgen.hpp>
#include <de/error.hpp>
#include <de/size.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace {

int fail_with(const de::Error& e) {
    fmt::print(stderr, "de-server: {}\n", e.message);
    return de::exit_code(e.kind);
}

de::docgen::ManPageInfo man_info() {
    de::docgen::ManPageInfo info;
    info.name = "de-server";
    info.date = std::string(de::docgen::docs_date());
    info.source = "de-server " + std::string(de::docgen::project_version());
    info.summary = "the platform's mount service: REST API v1 over a plain-directory mount";
    info.description = {
        "de-server serves REST API v1 (users, apps, each app's persistent filesystem and its "
        "files) from a root folder. Each app's mount is the plain folder "
        "ROOT/apps/APP/mount, which app processes can use directly as ../mount. It is the "
        "reference implementation of the API that de-cli and libde speak, the local development "
        "platform, and what their tests run against.",
        "Once ready it prints exactly one line on standard output, \"listening on "
        "http://ADDR:PORT\" (https:// with --tls-cert and --tls-key); logs go to standard "
        "error and never contain credentials. "
        "SIGINT or SIGTERM stop it: no new connections, GET /readyz answers 503, requests in "
        "flight get 5 seconds, interrupted uploads leave nothing behind.",
        "Without credentials it answers GET /livez and GET /readyz (probes) and GET /metrics "
        "(Prometheus text format); --access-log writes one JSON line per request.",
        "The API is documented in docs/api.md."};
    info.sections = {
        {"EXIT STATUS",
         {},
         {{"0", "success (also after SIGINT/SIGTERM)"},
          {"1", "error (cannot listen, root unusable, TLS certificate or key unusable, I/O)"},
          {"2", "usage: bad command line or argument"},
          {"3", "not found: no such user (user remove)"},
          {"5", "conflict: the user exists (user add)"}}},
        {"ENVIRONMENT",
         {"Every option can also be set in the environment: --foo-bar as DE_SERVER_FOO_BAR "
          "(upper case, '-' as '_'), e.g. DE_SERVER_ROOT, DE_SERVER_QUOTA, DE_SERVER_LISTEN. An "
          "option on the command line wins over its variable; a bad value is a usage error that "
          "names the variable. Each option above lists its variable."},
         {}},
        {"FILES",
         {},
         {{"ROOT/users.json", "users and SHA-256 hashes of their API keys (0600)"},
          {"ROOT/tokens.json", "SHA-256 hashes of bearer tokens with their expiry (0600)"},
          {"ROOT/apps/APP/mount/", "the app's persistent filesystem, a plain folder"},
          {"ROOT/apps/APP/staging/", "uploads in flight, emptied at start-up and shutdown"}}},
        {"SEE ALSO", {"de-cli(1)"}, {}},
    };
    return info;
}

// Every long option of the top level can also come from the environment:
// --foo-bar from DE_SERVER_FOO_BAR (CLI11 reads it only when the flag is not
// on the command line, so the flag wins). Run after all options are added, so
// an option added later gets its variable without a line of its own.
void bind_environment(CLI::App& app) {
    for (CLI::Option* opt : app.get_options()) {
        if (opt == app.get_help_ptr() || opt == app.get_help_all_ptr() ||
            opt == app.get_version_ptr() || opt->get_lnames().empty())
            continue;
        std::string name = "DE_SERVER_";
        for (char c : opt->get_lnames().front())
            name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        opt->envname(name);
    }
}

bool on_command_line(const CLI::Option& opt, int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") break;
        for (const auto& l : opt.get_lnames()) {
            std::string flag = "--" + l;
            if (a == flag ||
                (a.starts_with(flag) && a.size() > flag.size() && a[flag.size()] == '='))
                return true;
        }
    }
    return false;
}

// Where an option's value came from, for an error message: the flag, or its
// environment variable when the flag was not on the command line.
std::string source_of(const CLI::Option& opt, int argc, char** argv) {
    const char* env = opt.get_envname().empty() ? nullptr : std::getenv(opt.get_envname().c_str());
    if (env && *env && !on_command_line(opt, argc, argv))
        return fmt::format("{} (environment, '{}')", opt.get_envname(), env);
    return opt.get_name();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace de::server;
    CLI::App app{
        "de-server: the platform's mount service (REST API v1 over a plain-directory "
        "mount)",
        "de-server"};
    app.footer(
        "Examples:\n"
        "  $ de-server --root ~/de-root\n"
        "  $ de-server --root ~/de-root --listen 127.0.0.1:0 --quota 500MiB\n"
        "  $ de-server --root /srv/de --min-free 10%\n"
        "  $ de-server --root /srv/de --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key "
        "key.pem\n"
        "  $ de-server --root ~/de-root user add alice\n"
        "\n"
        "Every option can also be set in the environment: --foo-bar as DE_SERVER_FOO_BAR.\n"
        "An option on the command line wins over its variable.");
    // The one version: project(VERSION) in CMakeLists.txt (also GET /api/v1/health's).
    app.set_version_flag("-V,--version", std::string("de-server ") + DE_SERVER_VERSION,
                         "Print the version and exit");
    ServerOptions opts;
    std::string root;
    std::string listen = "127.0.0.1:8050";
    std::string quota = "25GB";
    std::string min_free;
    std::string access_log;
    double header_timeout_s = 30, body_timeout_s = 60, grace_s = 5, upload_expiry_s = 86400;
    double send_timeout_s = 60;
    app.add_option("--root", root,
                   "Folder holding users, apps and their mounts (required; created if missing)");
    app.add_option("--listen", listen, "Address and port to listen on; port 0 picks a free one")
        ->capture_default_str();
    std::string tls_cert, tls_key;
    auto* cert_opt =
        app.add_option("--tls-cert", tls_cert,
                       "Serve HTTPS (TLS 1.2 or later) instead of plain HTTP, with this PEM "
                       "certificate: the server's first, then any intermediate ones")
            ->type_name("FILE");
    auto* key_opt =
        app.add_option("--tls-key", tls_key,
                       "The PEM private key of --tls-cert (not encrypted); keep it 0600")
            ->type_name("FILE");
    cert_opt->needs(key_opt);
    key_opt->needs(cert_opt);
    app.add_option("--quota", quota, "Per-app mount quota, e.g. 500MiB, 25GB")
        ->capture_default_str();
    app.add_option("--max-entries", opts.max_entries,
                   "Per-app limit on files and folders in a mount; creating more is refused "
                   "with 507")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
    app.add_option("--min-free", min_free,
                   "Free space to keep on the root's file system, a size (2GiB, 0) or a share "
                   "(10%); writes that would cut into it are refused with 507. Default: the "
                   "smaller of 1GiB and 5%")
        ->type_name("SIZE|N%");
    app.add_option("--threads", opts.threads, "Threads serving requests")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    // Per-user limits and the open-files reserve (docs/server.md, "Limits").
    auto& lim = opts.limits;
    app.add_option("--max-connections-per-user", lim.connections_per_user,
                   "Connections one user may hold open; beyond, a request is answered 429 with "
                   "Retry-After")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--max-streams-per-user", lim.streams_per_user,
                   "Downloads, manifests and listings one user may have in flight; beyond, 429 "
                   "with Retry-After")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--max-uploads-per-user", lim.uploads_per_user,
                   "Uploads (PUT, batch, tus) one user may have in flight; beyond, 429 with "
                   "Retry-After")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--fd-reserve", lim.descriptor_reserve,
                   "Open files kept free for health, authentication and small answers: new "
                   "downloads, manifests, listings and uploads get 503 with Retry-After when "
                   "fewer are free (the soft open-files limit is raised to the hard one at "
                   "start-up)")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(0, 1'000'000));
    app.add_option("--send-timeout", send_timeout_s,
                   "Seconds an answer may make no progress (a client that stopped reading) "
                   "before its connection is closed")
        ->type_name("SECONDS")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--auth-failures", lim.auth_failures,
                   "Failed authentications in a minute from one address (IPv6: one /64) or for "
                   "one username before each further failure is delayed and answered 429 with "
                   "a growing Retry-After; valid credentials are never slowed; 0: no limit")
        ->type_name("N")
        ->capture_default_str()
        ->check(CLI::Range(0, 1'000'000));
    app.add_option("--access-log", access_log,
                   "Write one JSON line per request to this file (appended; '-': standard "
                   "error): time, remote address, method, route, target without its query, "
                   "status, bytes in and out, duration, user. Never a key or token. Default: off")
        ->type_name("PATH");
    // An operator's setting (deploy/: the drain before Kubernetes' grace period ends).
    app.add_option("--shutdown-grace", grace_s,
                   "Seconds requests in flight get to finish on SIGTERM (default 5)")
        ->type_name("SECONDS")
        ->check(CLI::NonNegativeNumber);
    // Test-only knobs: hidden (empty group) so they stay out of --help and the man page.
    app.add_option("--header-timeout", header_timeout_s, "Seconds to send request headers")
        ->group("");
    app.add_option("--body-timeout", body_timeout_s, "Seconds a body may stall")->group("");
    app.add_option("--upload-expiry", upload_expiry_s, "Seconds an untouched tus upload lives")
        ->group("")
        ->check(CLI::PositiveNumber);

    auto* user = app.add_subcommand("user", "Manage users and their API keys");
    user->require_subcommand(1);
    std::string user_name;
    auto* user_add = user->add_subcommand("add", "Create a user and print its API key (once)");
    user_add->add_option("NAME", user_name, "User name")->required();
    auto* user_list = user->add_subcommand("list", "List the users, one a line");
    auto* user_remove = user->add_subcommand("remove", "Remove a user and revoke its tokens");
    user_remove->add_option("NAME", user_name, "User name")->required();

    // Hidden: prints the man page generated from this command tree (man/de-server.1).
    auto* man = app.add_subcommand("man", "Print the man page")->group("");

    bind_environment(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // A bad value that came from the environment names its variable.
        std::string what = e.what();
        for (const CLI::Option* opt : app.get_options()) {
            if (opt->get_envname().empty() || !opt->count() ||
                what.find(opt->get_name()) == std::string::npos)
                continue;
            std::string source = source_of(*opt, argc, argv);
            if (source == opt->get_name()) break;
            fmt::print(stderr, "de-server: {}: {}\n", source, what);
            return de::exit_code(de::ErrorKind::usage);
        }
        int rc = app.exit(e);
        return rc == 0 ? 0 : de::exit_code(de::ErrorKind::usage);
    }

    if (man->parsed()) {
        std::fputs(de::docgen::man_page(app, man_info()).c_str(), stdout);
        return 0;
    }
    if (root.empty()) {
        fmt::print(stderr,
                   "de-server: --root is required\nRun with --help for more information.\n");
        return de::exit_code(de::ErrorKind::usage);
    }

    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec || !std::filesystem::is_directory(root)) {
        fmt::print(stderr, "de-server: cannot use '{}' as root: {}\n", root,
                   ec ? ec.message() : "not a folder");
        return 1;
    }
    opts.root = std::filesystem::absolute(root);

    if (user->parsed()) {
        UserStore users(opts.root);
        if (user_add->parsed()) {
            auto key = users.add_user(user_name);
            if (!key) return fail_with(key.error());
            std::printf("%s\n", key->c_str());
            return 0;
        }
        if (user_list->parsed()) {
            auto names = users.list_users();
            if (!names) return fail_with(names.error());
            for (const auto& n : *names)
                std::printf("%s\n", n.c_str());
            return 0;
        }
        if (user_remove->parsed()) {
            if (auto s = users.remove_user(user_name); !s) return fail_with(s.error());
            return 0;
        }
        return 0;
    }

    if (!parse_listen(listen, opts.address, opts.port)) {
        fmt::print(stderr, "de-server: {} wants ADDR:PORT, e.g. 127.0.0.1:8050; got '{}'\n",
                   source_of(*app.get_option("--listen"), argc, argv), listen);
        return de::exit_code(de::ErrorKind::usage);
    }
    auto q = de::parse_size(quota);
    if (!q) {
        fmt::print(stderr, "de-server: {}: {}\n", source_of(*app.get_option("--quota"), argc, argv),
                   q.error().message);
        return de::exit_code(de::ErrorKind::usage);
    }
    opts.quota_bytes = *q;
    if (!min_free.empty()) {
        auto mf = de::server::parse_min_free(min_free);
        if (!mf) {
            fmt::print(stderr, "de-server: {}: {}\n",
                       source_of(*app.get_option("--min-free"), argc, argv), mf.error().message);
            return de::exit_code(de::ErrorKind::usage);
        }
        opts.min_free = *mf;
    }
    auto ms = [](double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); };
    opts.header_timeout = ms(header_timeout_s);
    opts.body_timeout = ms(body_timeout_s);
    opts.send_timeout = ms(send_timeout_s);
    opts.shutdown_grace = ms(grace_s);
    opts.upload_expiry = ms(upload_expiry_s);
    opts.access_log = access_log;
    opts.tls_cert = tls_cert;
    opts.tls_key = tls_key;
    return run_server(opts);
}

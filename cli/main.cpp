// de-cli entry point: builds the command tree, runs the chosen command, and
// turns its outcome into output and an exit code (de::exit_code, one table).
// Commands never print errors themselves: they return a Status, and this file
// prints it once, as text on stderr or as the one JSON document on stdout.

#include "commands/commands.hpp"
#include "context.hpp"

#include <de/error.hpp>
#include <de/name_json.hpp>
#include <de/progress.hpp>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string_view>

namespace {

std::string exit_code_footer() {
    std::string text = "Exit codes:\n  0    ok\n";
    for (const auto& row : de::exit_code_table())
        text += fmt::format("  {:<4} {}\n", row.code, row.description);
    text +=
        "\nEnvironment: DASH_ENTERPRISE_HOST, DASH_ENTERPRISE_USERNAME, DASH_ENTERPRISE_PASSWORD"
        "\n(flags > environment > keyfile > defaults; `de-cli config` shows what is in effect).\n"
        "\nExamples:\n"
        "  $ de-cli login --host https://de.example.com\n"
        "  $ de-cli mount status -n sales-dashboard\n"
        "  $ de-cli upload -r ./data / -n sales-dashboard\n"
        "Run `de-cli COMMAND --help` for a command's options.";
    return text;
}

// details: more fields for the --json error document (e.g. predeploy's run record).
void print_error(bool json, const de::Error& error,
                 nlohmann::json details = nlohmann::json::object()) {
    if (json) {
        details["error"] = {{"kind", de::to_string(error.kind)}, {"message", error.message}};
        std::cout << de::dump_json(details) << std::endl;  // never throws
    } else {
        std::fflush(stdout);
        de::cli::end_progress_line();
        std::fprintf(stderr, "%s %s\n", de::cli::error_label().c_str(), error.message.c_str());
    }
}

// --json must shape parse errors too, before CLI11 has stored any option.
bool argv_has_json(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--") break;
        if (arg == "--json") return true;
    }
    return false;
}

// CLI11 reports an unknown command word as "A subcommand is required"; name it instead.
std::string unknown_command(CLI::App& app, int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--host" || arg == "--ca-path") {
            ++i;
            continue;
        }
        if (arg.starts_with("-")) continue;
        try {
            app.get_subcommand(std::string(arg));
            return {};
        } catch (const CLI::OptionNotFound&) {
            return std::string(arg);
        }
    }
    return {};
}

extern "C" void on_sigint(int) {
    de::request_interrupt();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace de::cli;
    Context ctx;
    ctx.stdout_tty = ::isatty(STDOUT_FILENO);
    ctx.stderr_tty = ::isatty(STDERR_FILENO);
    ctx.stdin_tty = ::isatty(STDIN_FILENO);
    init_color(ctx.stderr_tty, argc, argv);

    CLI::App app{"de-cli: manage a Dash Enterprise app's persistent filesystem (its mount)",
                 "de-cli"};
    app.require_subcommand(1);
    // Global options may follow the command: `de-cli ls --json` as well as `de-cli --json ls`.
    app.fallthrough();
#ifdef DE_CLI_VERSION
    app.set_version_flag("--version", std::string(DE_CLI_VERSION));
#endif
    app.footer(exit_code_footer());
    add_global_options(app, ctx);

    register_auth(app, ctx);
    register_apps(app, ctx);
    register_mount(app, ctx);
    register_transfer(app, ctx);
    register_files(app, ctx);
    register_sync(app, ctx);
    register_predeploy(app, ctx);
    register_completion(app, ctx);

    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    const bool json = argv_has_json(argc, argv);
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError& e) {
        if (std::string word = unknown_command(app, argc, argv); !word.empty()) {
            print_error(json, de::Error{de::ErrorKind::usage,
                                        fmt::format("unknown command '{}'; `de-cli --help` lists "
                                                    "the commands",
                                                    word),
                                        0,
                                        {}});
            return de::exit_code(de::ErrorKind::usage);
        }
        if (json) {
            print_error(true, de::Error{de::ErrorKind::usage, e.what(), 0, {}});
        } else {
            app.exit(e);
        }
        return de::exit_code(de::ErrorKind::usage);
    } catch (const std::exception& e) {
        // A bug, not an expected failure: still one error document and a failing code.
        print_error(json, de::Error{de::ErrorKind::generic, e.what(), 0, {}});
        return de::exit_code(de::ErrorKind::generic);
    }

    if (!ctx.outcome) {
        // A command group given without its verb; require_subcommand normally catches it.
        print_error(json, de::Error{de::ErrorKind::usage, "no command given; see --help", 0, {}});
        return de::exit_code(de::ErrorKind::usage);
    }
    if (!*ctx.outcome) {
        de::Error error = ctx.outcome->error();
        // An exit status of the command's own (a predeploy script's) is final.
        if (!ctx.failure.exit_status && de::interrupt_requested() &&
            error.kind != de::ErrorKind::usage)
            error.kind = de::ErrorKind::interrupted;
        print_error(json, error, ctx.failure.details);
        std::cout.flush();
        return ctx.failure.exit_status.value_or(de::exit_code(error.kind));
    }
    if (json) {
        nlohmann::json result = ctx.json_result ? *ctx.json_result : nlohmann::json{{"ok", true}};
        std::cout << de::dump_json(result) << std::endl;  // never throws
    }
    std::cout.flush();
    if (std::ferror(stdout) || std::cout.fail()) return de::exit_code(de::ErrorKind::generic);
    return 0;
}

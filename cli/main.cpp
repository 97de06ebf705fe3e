// de-cli entry point: builds the command tree (app.cpp), runs the chosen command, and
// turns its outcome into output and an exit code (de::exit_code, one table).
// Commands never print errors themselves: they return a Status, and this file
// prints it once, as text on stderr or as the one JSON document on stdout.

#include "app.hpp"
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
#include <vector>

namespace {

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
    build_app(app, ctx);

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
        // Every usage error the same way: "de-cli: error: ...", exit 2, with
        // the nearest command or option when a word is unknown.
        std::vector<std::string> args(argv + 1, argv + argc);
        print_error(json,
                    de::Error{de::ErrorKind::usage, usage_error_message(app, e, args), 0, {}});
        return de::exit_code(de::ErrorKind::usage);
    } catch (const std::exception& e) {
        // A bug, not an expected failure: still one error document and a failing code.
        print_error(json, de::Error{de::ErrorKind::generic, e.what(), 0, {}});
        return de::exit_code(de::ErrorKind::generic);
    }

    if (!ctx.outcome) {
        // A command group given without its verb; require_subcommand normally catches it.
        print_error(json, de::Error{de::ErrorKind::usage,
                                    "no command given; `de-cli --help` lists the commands",
                                    0,
                                    {}});
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

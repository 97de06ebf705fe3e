// de-cli entry point: builds the command tree, runs the chosen command, and
// turns its outcome into output and an exit code (de::exit_code, one table).

#include "commands/commands.hpp"
#include "context.hpp"

#include <de/error.hpp>
#include <de/progress.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    using namespace de::cli;
    Context ctx;
    ctx.stdout_tty = ::isatty(STDOUT_FILENO);
    ctx.stderr_tty = ::isatty(STDERR_FILENO);
    ctx.stdin_tty = ::isatty(STDIN_FILENO);

    CLI::App app{"de-cli: manage a Dash Enterprise app's persistent filesystem", "de-cli"};
    app.require_subcommand(1);

    register_auth(app, ctx);
    register_apps(app, ctx);
    register_mount(app, ctx);
    register_transfer(app, ctx);
    register_files(app, ctx);
    register_sync(app, ctx);
    register_predeploy(app, ctx);
    register_completion(app, ctx);

    std::signal(SIGINT, [](int) { de::request_interrupt(); });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : de::exit_code(de::ErrorKind::usage);
    }
    return 0;
}

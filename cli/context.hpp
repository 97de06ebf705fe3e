#pragma once
// State shared by every command: the global options, how to build a Client
// from flags > environment > keyfile, and the command's outcome. A command's
// callback returns a de::Status through run(); main() turns it into output and
// the exit code, so error printing and exit codes live in one place.

#include <de/client.hpp>
#include <de/error.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace de::cli {

struct GlobalOptions {
    std::string host;  // --host; else DASH_ENTERPRISE_HOST; else the keyfile's default host
    bool no_keyfile = false;
    std::string ca_path;
    bool insecure = false;  // --insecure: skip TLS verification (explicit opt-out)
    bool json = false;
    bool quiet = false;
    int verbose = 0;
    bool no_progress = false;
};

struct Context {
    GlobalOptions global;
    bool stdout_tty = false;
    bool stderr_tty = false;
    bool stdin_tty = false;

    // Set by the command that ran; main() prints it (with --json, as the one
    // JSON document) and maps an error to its exit code.
    std::optional<Status> outcome;
    std::optional<nlohmann::json> json_result;
};

// Registers fn as sub's callback; its Status becomes ctx.outcome.
void on_run(CLI::App* sub, Context& ctx, std::function<Status()> fn);

}  // namespace de::cli

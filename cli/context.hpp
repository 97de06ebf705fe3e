#pragma once
// State shared by every command: the global options, how to build a Client
// from flags > environment > keyfile > defaults, and the command's outcome. A
// command's callback returns a de::Status through on_run(); main() turns it
// into output and the exit code, so error printing and exit codes live in one
// place. Commands use the helpers below instead of re-deciding, each time,
// which stream a line goes to, whether -q or --json silences it, or how to ask
// for a confirmation.

#include <de/client.hpp>
#include <de/config.hpp>
#include <de/error.hpp>
#include <de/progress.hpp>

#include "output.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace de::cli {

// Help groups shared by every command, so --help lists them the same way everywhere.
inline constexpr const char* k_group_connection = "Connection";
inline constexpr const char* k_group_output = "Output";
inline constexpr const char* k_group_app = "App selection";
inline constexpr const char* k_group_safety = "Safety";

struct GlobalOptions {
    std::string host;  // --host; else DASH_ENTERPRISE_HOST; else the keyfile's default host
    bool no_keyfile = false;
    std::string ca_path;
    bool insecure = false;  // --insecure: skip TLS verification (explicit opt-out)
    bool json = false;
    bool quiet = false;
    int verbose = 0;
    bool no_progress = false;
    bool no_color = false;  // --no-color (see init_color())
};

struct Context {
    GlobalOptions global;
    bool stdout_tty = false;
    bool stderr_tty = false;
    bool stdin_tty = false;
    // Tests: parse the command line, run no command (on_run's callbacks return).
    bool parse_only = false;

    // Set by the command that ran; main() prints it (with --json, as the one
    // JSON document) and maps an error to its exit code.
    std::optional<Status> outcome;
    std::optional<nlohmann::json> json_result;
    // Set by resolve_app() when the app was not given with -n: the name it
    // chose and where it came from ("the project folder /x/my-project"), so
    // messages naming that app can say so (app_label(); on_run() adds it to
    // an error that names the app).
    std::string default_app;
    std::string default_app_origin;
    // What a failed outcome carries besides its Error (see fail_with()).
    struct Failure {
        std::optional<int> exit_status;  // instead of the exit-code table's code for the kind
        nlohmann::json details = nlohmann::json::object();  // --json: beside "error"
    } failure;
};

// Returns error through the normal path (main() prints it and exits), with an
// exit status the exit-code table cannot express (a predeploy script's own
// status; nullopt: the table's) and, with --json, more fields in the error
// document. Destructors run on the way out: no command ends the process itself.
std::unexpected<Error> fail_with(Context& ctx, Error error, std::optional<int> exit_status,
                                 nlohmann::json details = nlohmann::json::object());

// Registers fn as sub's callback; its Status becomes ctx.outcome.
void on_run(CLI::App* sub, Context& ctx, std::function<Status()> fn);

// Adds the global options (--host, --no-keyfile, --ca-path, --json, -q, -v,
// --no-progress) to the root, in named help groups. main() calls it once.
void add_global_options(CLI::App& root, Context& ctx);

// -n/--name APP, in the "App selection" group.
void add_app_option(CLI::App* sub, std::string& app);
// -y/--yes, in the "Safety" group: answer yes to confirmation prompts.
void add_yes_option(CLI::App* sub, bool& yes);

// The effective settings (host, credentials, CA) with the origin of each
// value, resolved flags > environment > keyfile > defaults. Reads the keyfile
// unless --no-keyfile; fails when the keyfile has unsafe permissions.
Result<Settings> resolve_settings(const Context& ctx);

// Fills in options.hint_wrong_host and hint_bad_credentials for where the
// host and the credentials came from (--host, DASH_ENTERPRISE_HOST, the
// keyfile, the built-in default; an API key from the environment or a login
// token), so errors say what to fix in this mode.
void add_hints(ClientOptions& options, const Settings& settings);

// A Client for the effective settings. Fails with ErrorKind::auth and a
// message saying how to log in when there are no credentials for the host.
Result<Client> make_client(Context& ctx);

// The app a command acts on: -n's value when given (checked as an app name).
// Else, in the platform's layout (the current folder, or choice.folder, is
// `app/` beside `mount/`, or holds project.toml with `mount/` beside it), the
// project folder's name (my-project for my-project/app); else the folder's
// own name (as `de deploy` does). A defaulted name is recorded in ctx
// (default_app, default_app_origin) so messages can say where it came from.
// With required, -n must be given (destructive commands: mount disable,
// rm -r, apps delete, sync --delete; and apps create, which names a new app).
struct AppChoice {
    bool required = false;
    // Why -n is required, for the message (default: the command deletes data).
    std::string_view why_required;
    // The app folder to start from instead of the current folder (predeploy APP_DIR).
    std::optional<std::string> folder;
};
Result<std::string> resolve_app(Context& ctx, const std::string& flag_value, bool required);
Result<std::string> resolve_app(Context& ctx, const std::string& flag_value,
                                const AppChoice& choice);

// "'my-project'", or for a defaulted name "'my-project' (from the project
// folder /x/my-project; pass -n to choose)".
std::string app_label(const Context& ctx, std::string_view app);

// A destructive action, described for confirm(): what happens, how much, and
// the first paths it touches.
struct Confirmation {
    std::string action;              // "delete", "replace", "turn off the persistent filesystem of"
    std::string target;              // where: "my-app:/data", "'./mount'", "app 'my-app'"
    std::string counts;              // "48 files and 6 folders (12.0 MiB)"; may be empty
    std::vector<std::string> paths;  // what it touches (the first k_confirm_paths are shown)
    std::size_t more_paths = 0;      // paths not in the list (a sample was given)
    bool dry_run_available = true;   // the refusal suggests --dry-run to see the list
    std::string note;                // one more line, e.g. "2 newer files are kept"
};
inline constexpr std::size_t k_confirm_paths = 10;

// The one confirmation of destructive actions. With yes: ok without asking.
// On a terminal (stdin): prints the action, the counts and the first paths on
// stderr and asks [y/N] (default no; "n", an empty line or end of input is
// ErrorKind::usage "aborted ... nothing was changed"). Without a terminal:
// ErrorKind::usage (exit 2) saying to pass -y (or --dry-run to see the list).
// Callers never call it for --dry-run, which never prompts.
Status confirm(Context& ctx, const Confirmation& what, bool yes);
// The lines confirm() prints before the question (public for tests).
std::string confirmation_text(const Confirmation& what);
// The old form: a question without counts or paths (prefer the one above).
Status confirm(Context& ctx, std::string_view question, bool yes);

// Colour on stderr: on for a TTY, off with NO_COLOR (any non-empty value,
// no-color.org) or --no-color. main() decides once, before parsing (so parse
// errors follow it too), scanning argv for --no-color.
void init_color(bool stderr_tty, int argc, char** argv);
bool color_enabled();
// "de-cli: error:" (bold red when colour is on) and "de-cli: warning:" (yellow).
std::string error_label();
std::string warning_label();
// Erases a progress bar drawn on stderr, so a line printed next starts clean;
// the bar is redrawn by its next update. note() and warn() call it.
void end_progress_line();

// Chatter on stderr: silent with -q or --json (errors are printed by main()).
void note(const Context& ctx, std::string_view line);
// Warnings on stderr: silent with -q or --json.
void warn(const Context& ctx, std::string_view line);
// Debug lines on stderr, only with -v (never with secrets in them).
void debug(const Context& ctx, std::string_view line);
// Whether a command should print human results on stdout (false with --json).
inline bool human(const Context& ctx) {
    return !ctx.global.json;
}

// Prints a table on stdout: aligned with a header on a TTY, tab-separated
// lines without one when piped. Prints nothing with --json.
void print_table(const Context& ctx, const Table& table);
// Prints "field value" pairs on stdout (aligned on a TTY, "field<TAB>value"
// when piped). Prints nothing with --json.
void print_fields(const Context& ctx,
                  const std::vector<std::pair<std::string, std::string>>& fields);

// Adds what to do next to an error from the server for app: a disabled
// mount, an unknown app, missing credentials.
Error explain(Error error, std::string_view app);

// A progress callback for one transfer set (one file, or an aggregate over
// files such as transfer.cpp's OverallProgress): a redrawn bar on a TTY stderr
// (bytes, rate, ETA); with --json, NDJSON events on stderr (stdout keeps its
// one document); nothing with -q or --no-progress, nor on a non-TTY stderr
// without --json. The returned function may be called from several threads.
ProgressFn make_progress(Context& ctx);

// What make_progress draws; public for tests. Mode::ndjson prints one JSON
// object a line:
//   {"event":"start"|"progress"|"finish","name":…,"done":…,"total":…,
//    "rate":bytes/s,"eta_seconds":seconds|null}   (finish adds "seconds")
// at most 4 progress lines a second, and only for sets of at least 1 MiB (so
// small transfers under --json keep stderr empty). Mode::bar redraws one line
// at most 10 times a second and ends it with a newline at finish.
class ProgressView {
  public:
    enum class Mode { bar, ndjson };
    using Clock = std::chrono::steady_clock;
    static constexpr std::uint64_t k_ndjson_min_bytes = 1 << 20;

    ProgressView(Mode mode, std::FILE* stream, int width = 80);
    ~ProgressView();  // clears a bar left unfinished (an error follows)
    ProgressView(const ProgressView&) = delete;
    ProgressView& operator=(const ProgressView&) = delete;

    void on_event(const ProgressEvent& event);  // thread-safe
    void on_event(const ProgressEvent& event, Clock::time_point now);

  private:
    void emit(std::string_view kind, std::string_view name, std::uint64_t done, std::uint64_t total,
              Clock::time_point now);
    Mode m_mode;
    std::FILE* m_stream;
    int m_width;
    std::mutex m_mutex;
    ProgressMeter m_meter;
    bool m_active = false;   // between start and finish
    bool m_visible = false;  // ndjson: the start line was printed
    bool m_drawn = false;    // bar: a line is on the screen
    Clock::time_point m_last_emit{};
};

// The bar line: "name  [####------]  45.0%  1.2 GiB / 2.0 GiB  80.0 MiB/s  ETA 0:12",
// fitted to width (a long name is cut from the left, "..." first).
std::string progress_bar_line(std::string_view name, std::uint64_t done, std::uint64_t total,
                              double rate, std::optional<double> eta, int width,
                              bool finished = false);
// One NDJSON progress object (no newline). seconds < 0: not included.
std::string progress_json_line(std::string_view event, std::string_view name, std::uint64_t done,
                               std::uint64_t total, double rate, std::optional<double> eta,
                               double seconds = -1);

}  // namespace de::cli

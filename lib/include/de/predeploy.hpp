#pragma once
// Running an app's predeploy script the way the platform does: `bash SCRIPT`
// with the app folder as working directory, so the script's ../mount is the
// mount folder beside the app.
//
// Design: plan_predeploy() reads project.toml and decides everything (script,
// mount folder, whether ../mount must be created or linked) without touching
// the disk, so --dry-run shows exactly what a run would do. run_predeploy()
// then carries the plan out. The script runs in its own process group with
// stdin on /dev/null (it must not wait for a terminal it cannot own) and the
// caller's stdout/stderr inherited, so its output streams as it is written.
// A timeout, Ctrl-C or SIGTERM reaches the whole group (SIGTERM, then SIGKILL
// after a grace period), and anything the script left running in the
// background is stopped when it ends, so nothing writes to the mount after.

#include <de/error.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace de {

inline constexpr std::chrono::milliseconds k_default_kill_grace{5000};

// "30s", "5m", "1h", "250ms", "1.5m", or plain seconds ("90"). 0 means none.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// 90000ms -> "1m30s", for messages.
std::string format_duration(std::chrono::milliseconds duration);

// ---- a command in its own process group (public for tests and tools) ----

struct ProcessSpec {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH
    std::filesystem::path cwd;
    std::vector<std::pair<std::string, std::string>>
        env;  // set on top of the inherited environment
    std::optional<std::chrono::milliseconds> timeout;
    std::chrono::milliseconds kill_grace = k_default_kill_grace;
    bool stdout_to_stderr = false;  // keep stdout clean for a JSON document
};

struct ProcessOutcome {
    int exit_status = 0;  // the exit code, or 128 + the signal that ended it
    int term_signal = 0;  // that signal, or 0 when it exited
    bool timed_out = false;
    int forwarded_signal = 0;  // SIGINT/SIGTERM/SIGHUP we received and passed on, or 0
    bool killed = false;       // the group needed SIGKILL after the grace period
    std::chrono::milliseconds elapsed{};
    bool ok() const { return exit_status == 0 && !timed_out && forwarded_signal == 0; }
};

// Runs spec and waits. An Error only when it could not start (no such
// program, cwd missing); how the process ended is in the outcome.
Result<ProcessOutcome> run_process_group(const ProcessSpec& spec);

// ---- the predeploy step ----

struct PredeployOptions {
    std::filesystem::path app_dir = ".";
    std::optional<std::filesystem::path> mount_dir;  // default: APP_DIR/../mount
    std::optional<std::chrono::milliseconds> timeout;
    std::chrono::milliseconds kill_grace = k_default_kill_grace;
    bool stdout_to_stderr = false;
};

struct PredeployPlan {
    std::filesystem::path app_dir;      // absolute, symlinks resolved: the script's cwd
    std::string project_file;           // as shown in messages
    std::string script;                 // as named in project.toml (relative to app_dir)
    std::filesystem::path script_path;  // absolute
    std::filesystem::path mount_dir;    // absolute: where the data ends up (and what --push sends)
    std::filesystem::path mount_link;   // APP_DIR/../mount, what the script writes to
    bool create_mount_dir = false;      // mount_dir does not exist yet
    bool link_mount = false;            // mount_link is made a symlink to mount_dir for the run
    std::vector<std::pair<std::string, std::string>> env;  // added to the environment
    std::optional<std::chrono::milliseconds> timeout;
    std::chrono::milliseconds kill_grace = k_default_kill_grace;
    bool stdout_to_stderr = false;
};

// Reads project.toml and resolves the script and the mount folder; changes
// nothing. Fails (with file:line:column for project.toml problems) when the
// step cannot run, e.g. ../mount exists and is not the --mount-dir given.
Result<PredeployPlan> plan_predeploy(const PredeployOptions& options);

// One line per thing the run would do, for --dry-run.
std::vector<std::string> describe_plan(const PredeployPlan& plan);

// Creates the mount folder (and the ../mount link when needed, removing it
// afterwards), runs the script and waits for it. An Error when the run could
// not be set up; the script's own failure is in the outcome.
Result<ProcessOutcome> run_predeploy(const PredeployPlan& plan);

// The exit status of a run stopped by --timeout (as timeout(1)).
inline constexpr int k_predeploy_timeout_exit = 124;

// A failed run as an error that carries the command's exit status: the
// script's own status, 124 after the timeout, 128+N after signal N, 130
// (ErrorKind::interrupted) when Ctrl-C stopped it. nullopt when the run succeeded.
struct PredeployFailure {
    Error error;
    int exit_status = 1;
};
std::optional<PredeployFailure> predeploy_failure(const PredeployPlan& plan,
                                                  const ProcessOutcome& outcome);

}  // namespace de

// The predeploy runner: fork + execve of `bash SCRIPT` in a new process group.
//
// Waiting is one loop around sigtimedwait(): SIGCHLD, SIGINT, SIGTERM and
// SIGHUP are blocked in the calling thread for the duration and taken from
// there, so a signal can neither be lost between checks nor run a handler in
// the middle of our bookkeeping. The loop wakes at least every 100 ms to also
// honour de::interrupt_requested() (set by a handler in another thread).
//
// While the script runs we are a child subreaper, so whatever the script
// forks and abandons is reparented to us; waitpid(-pgid) then reaps the whole
// group and tells us when it is empty. Everything the child needs after fork()
// (argv, envp, paths) is built before it, because only async-signal-safe calls
// are allowed there.

#include <de/predeploy.hpp>

#include <de/progress.hpp>
#include <de/project.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

extern char** environ;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace de {

namespace {

using Clock = std::chrono::steady_clock;

constexpr double k_max_duration_ms = 366.0 * 24 * 3600 * 1000;
// After SIGKILL, how long we wait for the group to be reaped before giving up
// (a process stuck in uninterruptible sleep cannot be killed any faster).
constexpr auto k_reap_limit = 2s;
constexpr auto k_wake = 100ms;

std::optional<std::string> find_in_path(const std::string& name) {
    if (name.find('/') != std::string::npos) return name;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        auto colon = dirs.find(':');
        std::string_view dir = dirs.substr(0, colon);
        // An empty PATH entry means the current folder.
        std::string candidate =
            fmt::format("{}/{}", dir.empty() ? std::string_view(".") : dir, name);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

std::vector<std::string> make_environment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
    std::set<std::string, std::less<>> overridden;
    for (const auto& [key, value] : extra)
        overridden.insert(key);
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view entry = *e;
        auto key = entry.substr(0, entry.find('='));
        if (!overridden.contains(key)) env.emplace_back(entry);
    }
    for (const auto& [key, value] : extra)
        env.push_back(key + "=" + value);
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

// Blocks the signals the wait loop takes with sigtimedwait, and restores the
// previous mask (and the subreaper flag) whatever way the run ends.
class SignalScope {
  public:
    SignalScope() {
        sigemptyset(&m_set);
        for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP})
            sigaddset(&m_set, sig);
        ::pthread_sigmask(SIG_BLOCK, &m_set, &m_old);
        int was = 0;
        ::prctl(PR_GET_CHILD_SUBREAPER, &was, 0, 0, 0);
        m_was_subreaper = was != 0;
        if (!m_was_subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    ~SignalScope() {
        if (!m_was_subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        ::pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    SignalScope(const SignalScope&) = delete;
    SignalScope& operator=(const SignalScope&) = delete;
    const sigset_t& set() const { return m_set; }

  private:
    sigset_t m_set{};
    sigset_t m_old{};
    bool m_was_subreaper = false;
};

// The ../mount symlink made for a run with a --mount-dir elsewhere; removed
// afterwards, but only if it is still the link we made.
class MountLink {
  public:
    MountLink() = default;
    Status make(const fs::path& link, const fs::path& target) {
        std::error_code ec;
        fs::create_directory_symlink(target, link, ec);
        if (ec)
            return fail(ErrorKind::generic,
                        fmt::format("cannot link {} to the mount folder {}: {}", link.string(),
                                    target.string(), ec.message()));
        m_link = link;
        m_target = target;
        return {};
    }
    ~MountLink() {
        if (m_link.empty()) return;
        std::error_code ec;
        if (fs::is_symlink(fs::symlink_status(m_link, ec)) &&
            fs::read_symlink(m_link, ec) == m_target)
            fs::remove(m_link, ec);
    }
    MountLink(const MountLink&) = delete;
    MountLink& operator=(const MountLink&) = delete;

  private:
    fs::path m_link;
    fs::path m_target;
};

fs::path real_or_normal(const fs::path& p) {
    std::error_code ec;
    fs::path out = fs::weakly_canonical(fs::absolute(p, ec), ec);
    if (ec) return fs::absolute(p, ec).lexically_normal();
    return out;
}

bool is_within(const fs::path& inner, const fs::path& outer) {
    auto i = inner.begin();
    for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
        if (i == inner.end() || *i != *o) return false;
    return true;
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    auto bad = [&] {
        return fail(
            ErrorKind::usage,
            fmt::format("invalid duration '{}': use e.g. 90, 30s, 5m, 1h30m or 250ms", text));
    };
    std::string_view rest = text;
    while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
    while (!rest.empty() && rest.back() == ' ')
        rest.remove_suffix(1);
    if (rest.empty()) return bad();
    double total = 0;
    bool plain = true;
    int parts = 0;
    while (!rest.empty()) {
        double value = 0;
        auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value,
                                         std::chars_format::fixed);
        if (ec != std::errc{} || !std::isfinite(value) || value < 0) return bad();
        rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
        double unit = 1000;  // plain seconds
        if (rest.starts_with("ms")) {
            unit = 1, rest.remove_prefix(2);
        } else if (rest.starts_with("s")) {
            unit = 1000, rest.remove_prefix(1);
        } else if (rest.starts_with("m")) {
            unit = 60'000, rest.remove_prefix(1);
        } else if (rest.starts_with("h")) {
            unit = 3'600'000, rest.remove_prefix(1);
        } else if (!rest.empty() || !plain || parts > 0) {
            return bad();  // a bare number only on its own
        }
        plain = false;
        ++parts;
        total += value * unit;
    }
    if (total > k_max_duration_ms) return bad();
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total)));
}

std::string format_duration(std::chrono::milliseconds duration) {
    auto ms = duration.count();
    if (ms < 1000) return fmt::format("{}ms", ms);
    std::string out;
    auto h = ms / 3'600'000, m = ms / 60'000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
    if (h) out += fmt::format("{}h", h);
    if (m) out += fmt::format("{}m", m);
    if (rest) {
        out += fmt::format("{}.{:03}s", s, rest);
    } else if (s || out.empty()) {
        out += fmt::format("{}s", s);
    }
    return out;
}

Result<ProcessOutcome> run_process_group(const ProcessSpec& spec) {
    if (spec.argv.empty()) return fail(ErrorKind::usage, "no command to run");
    auto program = find_in_path(spec.argv[0]);
    if (!program)
        return fail(ErrorKind::not_found,
                    fmt::format("{} not found in PATH: install it to run the predeploy script",
                                spec.argv[0]));
    std::error_code ec;
    if (!fs::is_directory(spec.cwd, ec))
        return fail(ErrorKind::not_found,
                    fmt::format("cannot run in {}: not a folder", spec.cwd.string()));

    std::vector<std::string> argv_strings = spec.argv;
    std::vector<std::string> env_strings = make_environment(spec.env);
    std::vector<char*> argv = pointers(argv_strings);
    std::vector<char*> envp = pointers(env_strings);
    std::string cwd = spec.cwd.string();

    SignalScope signals;
    int report[2];  // the child writes errno here when it cannot exec
    if (::pipe2(report, O_CLOEXEC) != 0)
        return fail(ErrorKind::generic, fmt::format("pipe: {}", std::strerror(errno)));

    const pid_t parent = ::getpid();
    const auto started = Clock::now();
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        ::close(report[0]);
        ::close(report[1]);
        return fail(ErrorKind::generic, fmt::format("fork: {}", std::strerror(err)));
    }
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        ::setpgid(0, 0);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT})
            ::sigaction(sig, &dfl, nullptr);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        // If de-cli dies without cleaning up, bash is told to stop too.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        if (::getppid() != parent) ::_exit(143);
        int err = 0;
        if (::chdir(cwd.c_str()) != 0) err = errno;
        if (err == 0) {
            int devnull = ::open("/dev/null", O_RDONLY);
            if (devnull < 0) {
                err = errno;
            } else {
                ::dup2(devnull, STDIN_FILENO);
                if (devnull != STDIN_FILENO) ::close(devnull);
            }
        }
        if (err == 0 && spec.stdout_to_stderr) ::dup2(STDERR_FILENO, STDOUT_FILENO);
        if (err == 0) {
            ::execve(program->c_str(), argv.data(), envp.data());
            err = errno;
        }
        [[maybe_unused]] auto n = ::write(report[1], &err, sizeof err);
        ::_exit(127);
    }
    // Both sides set the group, so it exists whichever runs first.
    ::setpgid(pid, pid);
    ::close(report[1]);
    int child_errno = 0;
    ssize_t got;
    do {
        got = ::read(report[0], &child_errno, sizeof child_errno);
    } while (got < 0 && errno == EINTR);
    ::close(report[0]);
    if (got == sizeof child_errno) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return fail(ErrorKind::generic, fmt::format("cannot run {} in {}: {}", *program, cwd,
                                                    std::strerror(child_errno)));
    }

    ProcessOutcome outcome;
    const pid_t group = pid;
    std::optional<Clock::time_point> deadline;
    if (spec.timeout && spec.timeout->count() > 0) deadline = started + *spec.timeout;
    std::optional<Clock::time_point> kill_at;  // SIGKILL the group then
    std::optional<Clock::time_point> give_up;  // after SIGKILL, stop waiting then
    bool main_done = false;
    bool cleanup_started = false;

    auto terminate_group = [&](int sig, Clock::time_point now) {
        ::kill(-group, sig);
        if (!kill_at) kill_at = now + spec.kill_grace;
    };
    auto kill_group = [&](Clock::time_point now) {
        ::kill(-group, SIGKILL);
        outcome.killed = true;
        kill_at.reset();
        give_up = now + k_reap_limit;
    };

    for (;;) {
        // Reap everything of the group that has ended (orphans come to us as
        // subreaper); ECHILD means nothing of it is left.
        bool group_empty = false;
        for (;;) {
            int status = 0;
            pid_t r = ::waitpid(-group, &status, WNOHANG);
            if (r == pid) {
                main_done = true;
                outcome.exit_status = status_code(status);
                outcome.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
                continue;
            }
            if (r > 0) continue;
            if (r < 0 && errno == EINTR) continue;
            // No child of ours is left in the group; make sure nothing else is.
            if (r < 0 && errno == ECHILD) group_empty = ::kill(-group, 0) != 0 && errno == ESRCH;
            break;
        }
        auto now = Clock::now();
        if (main_done && group_empty) break;
        if (give_up && now >= *give_up) break;
        if (main_done && !cleanup_started) {
            // The script is done: stop what it left behind before anyone reads the mount.
            cleanup_started = true;
            terminate_group(SIGTERM, now);
        }
        if (deadline && !outcome.timed_out && now >= *deadline) {
            outcome.timed_out = true;
            terminate_group(SIGTERM, now);
        }
        if (kill_at && now >= *kill_at) kill_group(now);

        auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(k_wake);
        for (auto& t : {deadline, kill_at, give_up}) {
            if (t && *t > now) wait = std::min(wait, std::chrono::nanoseconds(*t - now));
        }
        timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000),
                    static_cast<long>(wait.count() % 1'000'000'000)};
        int sig = ::sigtimedwait(&signals.set(), nullptr, &ts);
        if (sig < 0 && de::interrupt_requested() && outcome.forwarded_signal == 0) sig = SIGINT;
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            now = Clock::now();
            if (outcome.forwarded_signal != 0 && !outcome.killed) {
                kill_group(now);  // asked twice: stop now
            } else if (outcome.forwarded_signal == 0) {
                outcome.forwarded_signal = sig;
                terminate_group(sig, now);
            }
        }
    }
    outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    if (outcome.forwarded_signal == SIGINT) de::request_interrupt();
    return outcome;
}

Result<PredeployPlan> plan_predeploy(const PredeployOptions& options) {
    std::error_code ec;
    const fs::path& app_dir = options.app_dir;
    if (!fs::is_directory(app_dir, ec))
        return fail(
            ErrorKind::not_found,
            fmt::format("app folder {} does not exist or is not a folder", app_dir.string()));
    PredeployPlan plan;
    plan.app_dir = fs::canonical(app_dir, ec);
    if (ec)
        return fail(ErrorKind::generic, fmt::format("cannot resolve the app folder {}: {}",
                                                    app_dir.string(), ec.message()));
    plan.project_file = display_path(app_dir, "project.toml");
    auto project = read_project_toml(app_dir / "project.toml");
    if (!project) return std::unexpected(project.error());
    auto script = resolve_predeploy_script(app_dir, *project);
    if (!script) return std::unexpected(script.error());
    plan.script = *project->predeploy;
    plan.script_path = *script;

    // The script's ../mount, resolved physically from its working directory.
    plan.mount_link = plan.app_dir.parent_path() / "mount";
    auto link_status = fs::symlink_status(plan.mount_link, ec);
    bool link_present = fs::exists(link_status) || fs::is_symlink(link_status);
    auto link_target = fs::status(plan.mount_link, ec);

    fs::path wanted = options.mount_dir ? real_or_normal(*options.mount_dir) : fs::path{};
    bool is_default = !options.mount_dir || wanted == real_or_normal(plan.mount_link);
    if (is_default) {
        if (link_present && !fs::exists(link_target))
            return fail(ErrorKind::conflict,
                        fmt::format("{} is a broken symlink (to {}): create its target or remove "
                                    "the link",
                                    plan.mount_link.string(),
                                    fs::read_symlink(plan.mount_link, ec).string()));
        if (link_present && !fs::is_directory(link_target))
            return fail(ErrorKind::conflict,
                        fmt::format("{} exists and is not a folder: the script's ../mount must be "
                                    "the mount folder; move that file away",
                                    plan.mount_link.string()));
        plan.mount_dir = real_or_normal(plan.mount_link);
        plan.create_mount_dir = !link_present;
    } else {
        plan.mount_dir = wanted;
        auto status = fs::status(wanted, ec);
        if (fs::exists(status) && !fs::is_directory(status))
            return fail(ErrorKind::usage, fmt::format("--mount-dir {} exists and is not a folder",
                                                      options.mount_dir->string()));
        plan.create_mount_dir = !fs::exists(status);
        if (link_present)
            return fail(ErrorKind::conflict,
                        fmt::format("{} already exists and is not --mount-dir {}: the script "
                                    "writes to ../mount, so its output would not land in {}; "
                                    "rename {} or run without --mount-dir",
                                    plan.mount_link.string(), options.mount_dir->string(),
                                    options.mount_dir->string(), plan.mount_link.string()));
        plan.link_mount = true;
    }
    // Pushing a folder that holds the app (or /) would publish the code, or everything.
    if (is_within(plan.app_dir, plan.mount_dir))
        return fail(
            ErrorKind::usage,
            fmt::format("the mount folder {} contains the app folder {}: choose a folder "
                        "beside the app, normally {}",
                        plan.mount_dir.string(), plan.app_dir.string(), plan.mount_link.string()));

    plan.env = {{"DE_APP_DIR", plan.app_dir.string()}, {"DE_MOUNT_DIR", plan.mount_dir.string()}};
    plan.timeout = options.timeout;
    plan.kill_grace = options.kill_grace;
    plan.stdout_to_stderr = options.stdout_to_stderr;
    return plan;
}

std::vector<std::string> describe_plan(const PredeployPlan& plan) {
    std::vector<std::string> lines;
    if (plan.create_mount_dir)
        lines.push_back(fmt::format("create the mount folder {}", plan.mount_dir.string()));
    if (plan.link_mount)
        lines.push_back(fmt::format("link {} -> {} for the run (removed afterwards)",
                                    plan.mount_link.string(), plan.mount_dir.string()));
    lines.push_back(fmt::format("run bash {} in {} (../mount is {})", plan.script,
                                plan.app_dir.string(), plan.mount_dir.string()));
    std::string env = "pass the environment through, adding";
    for (const auto& [key, value] : plan.env)
        env += fmt::format(" {}={}", key, value);
    lines.push_back(env);
    if (plan.timeout && plan.timeout->count() > 0)
        lines.push_back(
            fmt::format("stop it after {} (SIGTERM to its process group, SIGKILL {} later)",
                        format_duration(*plan.timeout), format_duration(plan.kill_grace)));
    return lines;
}

Result<ProcessOutcome> run_predeploy(const PredeployPlan& plan) {
    std::error_code ec;
    if (plan.create_mount_dir) {
        fs::create_directories(plan.mount_dir, ec);
        if (ec)
            return fail(ErrorKind::generic, fmt::format("cannot create the mount folder {}: {}",
                                                        plan.mount_dir.string(), ec.message()));
    }
    MountLink link;
    if (plan.link_mount) {
        if (auto made = link.make(plan.mount_link, plan.mount_dir); !made)
            return std::unexpected(made.error());
    }
    ProcessSpec spec;
    // A name starting with '-' would be read by bash as an option.
    spec.argv = {"bash", plan.script.starts_with('-') ? "./" + plan.script : plan.script};
    spec.cwd = plan.app_dir;
    spec.env = plan.env;
    spec.timeout = plan.timeout;
    spec.kill_grace = plan.kill_grace;
    spec.stdout_to_stderr = plan.stdout_to_stderr;
    return run_process_group(spec);
}

std::optional<PredeployFailure> predeploy_failure(const PredeployPlan& plan,
                                                  const ProcessOutcome& outcome) {
    if (outcome.forwarded_signal == SIGINT)
        return PredeployFailure{Error{ErrorKind::interrupted,
                                      fmt::format("predeploy script {} interrupted", plan.script),
                                      0,
                                      {}},
                                exit_code(ErrorKind::interrupted)};
    if (outcome.timed_out)
        return PredeployFailure{
            Error{ErrorKind::generic,
                  fmt::format("predeploy script {} timed out after {} and was stopped "
                              "(SIGTERM to its process group{})",
                              plan.script,
                              format_duration(plan.timeout.value_or(std::chrono::milliseconds{0})),
                              outcome.killed ? ", then SIGKILL" : ""),
                  0,
                  {}},
            k_predeploy_timeout_exit};
    if (outcome.ok()) return std::nullopt;
    std::string how = outcome.term_signal != 0
                          ? fmt::format("was killed by signal {} ({})", outcome.term_signal,
                                        ::strsignal(outcome.term_signal))
                          : fmt::format("failed with exit status {}", outcome.exit_status);
    if (outcome.forwarded_signal != 0 && outcome.term_signal == 0)
        how = fmt::format("was stopped by signal {} ({})", outcome.forwarded_signal,
                          ::strsignal(outcome.forwarded_signal));
    int status = outcome.exit_status != 0 ? outcome.exit_status : 128 + outcome.forwarded_signal;
    return PredeployFailure{
        Error{ErrorKind::generic, fmt::format("predeploy script {} {}", plan.script, how), 0, {}},
        status};
}

}  // namespace de

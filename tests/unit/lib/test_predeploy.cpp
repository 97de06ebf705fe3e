// The predeploy runner on real processes: exit statuses, signals, the
// environment, timeouts that must reach the whole process group, leftovers,
// and the plan's handling of the mount folder and its ../mount link.
#include <de/predeploy.hpp>

#include <doctest/doctest.h>
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using de::test::read_file;
using de::test::TempDir;
using de::test::write_file;
using namespace std::chrono_literals;

namespace {

de::ProcessSpec bash(const fs::path& cwd, std::string script) {
    de::ProcessSpec spec;
    spec.argv = {"bash", "-c", std::move(script)};
    spec.cwd = cwd;
    return spec;
}

// Polls for a file another process writes (its pid, say).
std::string wait_for_file(const fs::path& file) {
    for (int i = 0; i < 200; ++i) {
        std::string text = read_file(file);
        if (!text.empty() && text.back() == '\n') return text;
        std::this_thread::sleep_for(10ms);
    }
    return {};
}

de::PredeployOptions options(const fs::path& app, std::optional<fs::path> mount = {}) {
    de::PredeployOptions o;
    o.app_dir = app;
    o.mount_dir = std::move(mount);
    return o;
}

bool alive(pid_t pid) {
    return ::kill(pid, 0) == 0;
}

fs::path make_app(const TempDir& tmp, std::string_view script_body) {
    fs::path app = tmp.path / "app";
    write_file(app / "project.toml", "[scripts]\npredeploy = \"fetchdata.sh\"\n");
    write_file(app / "fetchdata.sh", script_body);
    write_file(app / "Procfile", "web: python app.py\n");
    return app;
}

// Sends our own stdout and stderr to files for the duration.
class CaptureOutput {
  public:
    CaptureOutput(const fs::path& out, const fs::path& err) {
        std::fflush(stdout);
        std::fflush(stderr);
        m_out = ::dup(1);
        m_err = ::dup(2);
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::close(o);
        ::close(e);
    }
    ~CaptureOutput() {
        std::fflush(stdout);
        std::fflush(stderr);
        ::dup2(m_out, 1);
        ::dup2(m_err, 2);
        ::close(m_out);
        ::close(m_err);
    }

  private:
    int m_out = -1;
    int m_err = -1;
};

}  // namespace

TEST_CASE("duration: units, plain seconds, and bad input") {
    CHECK(de::parse_duration("30s").value() == 30s);
    CHECK(de::parse_duration("5m").value() == 5min);
    CHECK(de::parse_duration("1h").value() == 1h);
    CHECK(de::parse_duration("90").value() == 90s);
    CHECK(de::parse_duration("250ms").value() == 250ms);
    CHECK(de::parse_duration("1.5m").value() == 90s);
    CHECK(de::parse_duration("1h30m").value() == 90min);
    CHECK(de::parse_duration("0").value() == 0ms);
    for (const char* bad : {"", "abc", "5x", "-1", "1m5", "s", "1e3", "10 s", "9999999h"}) {
        auto r = de::parse_duration(bad);
        CHECK_MESSAGE(!r, bad);
        if (!r) CHECK(r.error().kind == de::ErrorKind::usage);
    }
    CHECK(de::format_duration(90s) == "1m30s");
    CHECK(de::format_duration(250ms) == "250ms");
    CHECK(de::format_duration(1500ms) == "1.500s");
    CHECK(de::format_duration(2h) == "2h");
}

TEST_CASE("runner: exit statuses, including death by a signal") {
    TempDir tmp;
    auto ok = de::run_process_group(bash(tmp.path, "exit 0"));
    REQUIRE(ok);
    CHECK(ok->ok());
    CHECK(ok->exit_status == 0);

    auto three = de::run_process_group(bash(tmp.path, "exit 3"));
    REQUIRE(three);
    CHECK_FALSE(three->ok());
    CHECK(three->exit_status == 3);
    CHECK(three->term_signal == 0);

    auto killed = de::run_process_group(bash(tmp.path, "kill -KILL $$"));
    REQUIRE(killed);
    CHECK(killed->exit_status == 128 + SIGKILL);
    CHECK(killed->term_signal == SIGKILL);
}

TEST_CASE("runner: working directory, environment passed through, stdin closed") {
    TempDir tmp;
    ::setenv("DE_TEST_PASSED_THROUGH", "from-parent", 1);
    auto spec = bash(tmp.path,
                     "pwd -P > where; echo \"$DE_TEST_PASSED_THROUGH $EXTRA\" > env; "
                     "if read -r line; then echo got > stdin; else echo eof > stdin; fi; "
                     "echo \"$(ps -o pgid= $$) $$\" > pgid");
    spec.env = {{"EXTRA", "added"}};
    auto r = de::run_process_group(spec);
    ::unsetenv("DE_TEST_PASSED_THROUGH");
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(read_file(tmp.path / "where") == fs::canonical(tmp.path).string() + "\n");
    CHECK(read_file(tmp.path / "env") == "from-parent added\n");
    CHECK(read_file(tmp.path / "stdin") == "eof\n");
    // Its own process group: the group id is its pid.
    std::istringstream ids(read_file(tmp.path / "pgid"));
    long pgid = 0, pid = 0;
    ids >> pgid >> pid;
    CHECK(pgid == pid);
    CHECK(pgid != ::getpgrp());
}

TEST_CASE("runner: a timeout stops the script and its children") {
    TempDir tmp;
    auto spec = bash(tmp.path, "sleep 60 & echo $! > child; sleep 60");
    spec.timeout = 300ms;
    auto started = std::chrono::steady_clock::now();
    auto r = de::run_process_group(spec);
    auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r);
    CHECK(r->timed_out);
    CHECK_FALSE(r->ok());
    CHECK_FALSE(r->killed);  // SIGTERM was enough
    CHECK(took < 5s);
    pid_t child = std::stoi(read_file(tmp.path / "child"));
    CHECK_FALSE(alive(child));
}

TEST_CASE("runner: a script that ignores SIGTERM gets SIGKILL after the grace period") {
    TempDir tmp;
    auto spec = bash(tmp.path,
                     "trap '' TERM; (trap '' TERM; sleep 60) & echo $! > child; "
                     "while :; do sleep 0.05; done");
    spec.timeout = 200ms;
    spec.kill_grace = 300ms;
    auto started = std::chrono::steady_clock::now();
    auto r = de::run_process_group(spec);
    auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r);
    CHECK(r->timed_out);
    CHECK(r->killed);
    CHECK(r->term_signal == SIGKILL);
    CHECK(took >= 450ms);
    CHECK(took < 5s);
    pid_t child = std::stoi(wait_for_file(tmp.path / "child"));
    CHECK_FALSE(alive(child));
}

TEST_CASE("runner: what the script leaves running is stopped when it ends") {
    TempDir tmp;
    auto spec = bash(tmp.path, "(sleep 60 & echo $! > child); exit 0");
    auto started = std::chrono::steady_clock::now();
    auto r = de::run_process_group(spec);
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    pid_t child = std::stoi(read_file(tmp.path / "child"));
    CHECK_FALSE(alive(child));
}

TEST_CASE("runner: SIGTERM to us is passed on to the script's group") {
    TempDir tmp;
    auto spec = bash(tmp.path, "echo ready > ready; sleep 60");
    std::thread sender([&] {
        // Only the runner's thread may take the signal (else it kills the test).
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        ::pthread_sigmask(SIG_BLOCK, &term, nullptr);
        wait_for_file(tmp.path / "ready");
        ::kill(::getpid(), SIGTERM);
    });
    auto r = de::run_process_group(spec);
    sender.join();
    REQUIRE(r);
    CHECK(r->forwarded_signal == SIGTERM);
    CHECK(r->exit_status == 128 + SIGTERM);
    CHECK_FALSE(r->ok());
}

TEST_CASE("runner: stdout can be sent to stderr (keeps --json output clean)") {
    TempDir tmp;
    auto spec = bash(tmp.path, "echo to-stdout; echo to-stderr >&2");
    spec.stdout_to_stderr = true;
    {
        CaptureOutput capture(tmp.path / "out", tmp.path / "err");
        auto r = de::run_process_group(spec);
        REQUIRE(r);
    }
    CHECK(read_file(tmp.path / "out").empty());
    CHECK(read_file(tmp.path / "err") == "to-stdout\nto-stderr\n");

    spec.stdout_to_stderr = false;
    {
        CaptureOutput capture(tmp.path / "out", tmp.path / "err");
        auto r = de::run_process_group(spec);
        REQUIRE(r);
    }
    CHECK(read_file(tmp.path / "out") == "to-stdout\n");
}

TEST_CASE("runner: a missing program or folder is an error, not an outcome") {
    TempDir tmp;
    de::ProcessSpec spec;
    spec.argv = {"de-no-such-program-xyz"};
    spec.cwd = tmp.path;
    auto r = de::run_process_group(spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == de::ErrorKind::not_found);

    auto missing_cwd = de::run_process_group(bash(tmp.path / "nope", "true"));
    REQUIRE_FALSE(missing_cwd);
    CHECK(missing_cwd.error().kind == de::ErrorKind::not_found);
}

TEST_CASE("predeploy: the script's ../mount files land in the default mount folder") {
    TempDir tmp;
    fs::path app = make_app(tmp,
                            "set -e\nmkdir -p ../mount/data\necho rows > ../mount/data/a.csv\n"
                            "echo \"$DE_MOUNT_DIR\" > ../mount/where\n");
    auto plan = de::plan_predeploy(options(app));
    REQUIRE(plan);
    CHECK(plan->create_mount_dir);
    CHECK_FALSE(plan->link_mount);
    CHECK(plan->mount_dir == fs::canonical(tmp.path) / "mount");
    CHECK(plan->script == "fetchdata.sh");
    CHECK_FALSE(fs::exists(tmp.path / "mount"));  // planning changes nothing
    auto lines = de::describe_plan(*plan);
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0].find("create the mount folder") != std::string::npos);
    CHECK(lines[1].find("bash fetchdata.sh") != std::string::npos);

    auto r = de::run_predeploy(*plan);
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(read_file(tmp.path / "mount" / "data" / "a.csv") == "rows\n");
    CHECK(read_file(tmp.path / "mount" / "where") == plan->mount_dir.string() + "\n");
}

TEST_CASE("predeploy: --mount-dir elsewhere is linked as ../mount for the run only") {
    TempDir tmp;
    fs::path app = make_app(tmp, "echo data > ../mount/f.txt\n");
    fs::path elsewhere = tmp.path / "cache" / "m";
    auto plan = de::plan_predeploy(options(app, elsewhere));
    REQUIRE(plan);
    CHECK(plan->link_mount);
    CHECK(plan->create_mount_dir);
    auto r = de::run_predeploy(*plan);
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(read_file(elsewhere / "f.txt") == "data\n");
    CHECK_FALSE(fs::exists(fs::symlink_status(tmp.path / "mount")));  // link removed

    SUBCASE("an existing ../mount that is not --mount-dir is refused") {
        fs::create_directories(tmp.path / "mount");
        auto refused = de::plan_predeploy(options(app, elsewhere));
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == de::ErrorKind::conflict);
        CHECK(refused.error().message.find("already exists") != std::string::npos);
    }
    SUBCASE("--mount-dir naming ../mount itself is the default case") {
        fs::create_directories(tmp.path / "mount");
        auto same = de::plan_predeploy(options(app, tmp.path / "mount"));
        REQUIRE(same);
        CHECK_FALSE(same->link_mount);
        CHECK_FALSE(same->create_mount_dir);
    }
    SUBCASE("a mount folder holding the app folder is refused") {
        auto refused = de::plan_predeploy(options(app, tmp.path));
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == de::ErrorKind::usage);
    }
}

TEST_CASE("predeploy: a failing script's status comes back; a missing script is an error") {
    TempDir tmp;
    fs::path app = make_app(tmp, "echo partial > ../mount/p; exit 7\n");
    auto plan = de::plan_predeploy(options(app));
    REQUIRE(plan);
    auto r = de::run_predeploy(*plan);
    REQUIRE(r);
    CHECK(r->exit_status == 7);
    CHECK_FALSE(r->ok());

    fs::remove(app / "fetchdata.sh");
    auto missing = de::plan_predeploy(options(app));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == de::ErrorKind::not_found);
    CHECK(missing.error().message.find("project.toml:2:13: ") != std::string::npos);
    CHECK(missing.error().message.find("fetchdata.sh") != std::string::npos);

    auto no_app = de::plan_predeploy(options(tmp.path / "nope"));
    REQUIRE_FALSE(no_app);
    CHECK(no_app.error().kind == de::ErrorKind::not_found);

    fs::remove(app / "project.toml");
    auto no_toml = de::plan_predeploy(options(app));
    REQUIRE_FALSE(no_toml);
    CHECK(no_toml.error().kind == de::ErrorKind::not_found);
    CHECK(no_toml.error().message.find("project.toml") != std::string::npos);
}

TEST_CASE("predeploy: a ../mount that is a file or a broken link is refused") {
    TempDir tmp;
    fs::path app = make_app(tmp, "true\n");
    write_file(tmp.path / "mount", "x");
    auto file = de::plan_predeploy(options(app));
    REQUIRE_FALSE(file);
    CHECK(file.error().kind == de::ErrorKind::conflict);
    fs::remove(tmp.path / "mount");
    fs::create_directory_symlink(tmp.path / "gone", tmp.path / "mount");
    auto broken = de::plan_predeploy(options(app));
    REQUIRE_FALSE(broken);
    CHECK(broken.error().message.find("broken symlink") != std::string::npos);
}

TEST_CASE("predeploy_failure: the error carries the command's exit status") {
    de::PredeployPlan plan;
    plan.script = "predeploy.sh";
    plan.timeout = std::chrono::milliseconds(1500);
    de::ProcessOutcome ok;
    CHECK_FALSE(de::predeploy_failure(plan, ok));

    de::ProcessOutcome failed;
    failed.exit_status = 3;
    auto f = de::predeploy_failure(plan, failed);
    REQUIRE(f);
    CHECK(f->exit_status == 3);
    CHECK(f->error.message.find("failed with exit status 3") != std::string::npos);

    de::ProcessOutcome timed_out;
    timed_out.timed_out = true;
    timed_out.exit_status = 143;
    auto t = de::predeploy_failure(plan, timed_out);
    REQUIRE(t);
    CHECK(t->exit_status == de::k_predeploy_timeout_exit);

    de::ProcessOutcome interrupted;
    interrupted.forwarded_signal = SIGINT;
    auto i = de::predeploy_failure(plan, interrupted);
    REQUIRE(i);
    CHECK(i->error.kind == de::ErrorKind::interrupted);
    CHECK(i->exit_status == de::exit_code(de::ErrorKind::interrupted));

    de::ProcessOutcome stopped;
    stopped.forwarded_signal = SIGTERM;
    auto s = de::predeploy_failure(plan, stopped);
    REQUIRE(s);
    CHECK(s->exit_status == 128 + SIGTERM);
}

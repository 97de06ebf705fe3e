// predeploy [APP_DIR]: run project.toml's predeploy script as the platform
// does, optionally publish the mount folder it filled (sync push), or lint the
// app folder (--check). The library plans and runs (de/predeploy.hpp,
// de/project.hpp); this file only parses flags and reports.
//
// Exit status: the script's own status is the command's (124 when --timeout
// stopped it, 128+N when signal N killed it), so a CI step fails the way the
// script failed. Those outcomes return their error through the normal path
// with fail_with(), which records the status for main() to exit with (and,
// with --json, the run's record to print beside the error).
// With --json the script's stdout goes to stderr, so stdout holds only the
// one JSON document.

#include "../context.hpp"
#include "../helpers.hpp"
#include "commands.hpp"

#include <de/predeploy.hpp>
#include <de/project.hpp>
#include <de/size.hpp>
#include <de/sync.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <memory>

namespace de::cli {

namespace {

struct PredeployArgs {
    std::string app_dir = ".";
    std::string mount_dir;
    std::string timeout;
    std::string kill_grace;
    bool dry_run = false;
    bool check = false;
    bool push = false;
    std::string app;
    bool delete_extraneous = false;
    std::int64_t max_delete = k_default_max_delete;
    bool checksum = false;
    int jobs = k_default_sync_jobs;
};

nlohmann::json finding_json(const Finding& f) {
    return {{"severity", f.severity == Severity::error ? "error" : "warning"},
            {"rule", f.rule},
            {"file", f.file},
            {"line", f.location.line},
            {"column", f.location.column},
            {"message", f.message}};
}

nlohmann::json plan_json(const PredeployPlan& plan) {
    nlohmann::json env = nlohmann::json::object();
    for (const auto& [key, value] : plan.env)
        env[key] = value;
    return {{"app_dir", plan.app_dir.string()},
            {"project_file", plan.project_file},
            {"script", plan.script},
            {"mount_dir", plan.mount_dir.string()},
            {"mount_link", plan.mount_link.string()},
            {"create_mount_dir", plan.create_mount_dir},
            {"link_mount", plan.link_mount},
            {"env", env},
            {"timeout_seconds",
             plan.timeout ? nlohmann::json(static_cast<double>(plan.timeout->count()) / 1000.0)
                          : nullptr}};
}

Status run_check(Context& ctx, const PredeployArgs& args) {
    CheckOptions options;
    options.app_dir = args.app_dir;
    if (!args.mount_dir.empty()) options.mount_dir = args.mount_dir;
    CheckReport report = check_app_dir(options);
    std::size_t errors = report.errors(), warnings = report.warnings();
    nlohmann::json doc = {{"app_dir", args.app_dir},
                          {"ok", errors == 0},
                          {"errors", errors},
                          {"warnings", warnings},
                          {"findings", nlohmann::json::array()}};
    for (const auto& f : report.findings) {
        doc["findings"].push_back(finding_json(f));
        if (human(ctx)) std::fprintf(stdout, "%s\n", format_finding(f).c_str());
    }
    std::string counts = fmt::format("{} error{}, {} warning{}", errors, errors == 1 ? "" : "s",
                                     warnings, warnings == 1 ? "" : "s");
    if (errors > 0) {
        Error error{
            ErrorKind::generic,
            fmt::format("predeploy --check: {} in {}; fix the errors above", counts, args.app_dir),
            0,
            {}};
        if (ctx.global.json) return fail_with(ctx, std::move(error), std::nullopt, std::move(doc));
        return std::unexpected(std::move(error));
    }
    note(ctx, fmt::format("predeploy --check: {} passes ({})", args.app_dir, counts));
    if (ctx.global.json) ctx.json_result = std::move(doc);
    return {};
}

// The app to push to: -n, else the default resolve_app() finds from the app
// folder (the project folder's name in the app/ + mount/ layout, else the app
// folder's own name). --delete needs -n: it removes files from the app's mount.
Result<std::string> push_app(Context& ctx, const PredeployArgs& args, const PredeployPlan& plan) {
    return resolve_app(ctx, args.app, AppChoice{args.delete_extraneous, {}, plan.app_dir.string()});
}

void print_push_summary(const Context& ctx, const std::string& app,
                        const std::filesystem::path& local, const SyncSummary& s) {
    note(ctx, fmt::format("predeploy: pushed {} ({}) from {} to {}; {} unchanged, {} deleted, "
                          "{} failed in {:.2f} s",
                          plural(s.files_sent, "file", "files"), format_size(s.bytes_sent),
                          local.string(), remote_display(app, ""), s.files_skipped, s.files_deleted,
                          s.files_failed, s.seconds));
    warn_sync_failures(ctx, s);
    if (s.deletes_skipped)
        warn(ctx, "nothing was deleted because a transfer failed; fix it and run again");
}

Status run(Context& ctx, const PredeployArgs& args) {
    if (args.check) {
        if (args.push || args.dry_run || !args.timeout.empty())
            return fail(ErrorKind::usage,
                        "--check only lints the app folder; run without it to run the script "
                        "(--push, --dry-run, --timeout)");
        return run_check(ctx, args);
    }
    if (!args.push && (args.delete_extraneous || !args.app.empty() || args.checksum))
        return fail(ErrorKind::usage,
                    "-n, --delete and --checksum say how to publish the mount folder: add --push");
    if (args.jobs < 1 || args.jobs > 64) return fail(ErrorKind::usage, "--jobs must be 1 to 64");

    PredeployOptions options;
    options.app_dir = args.app_dir;
    if (!args.mount_dir.empty()) options.mount_dir = args.mount_dir;
    if (!args.timeout.empty()) {
        auto timeout = parse_duration(args.timeout);
        if (!timeout) return std::unexpected(timeout.error());
        if (timeout->count() > 0) options.timeout = *timeout;
    }
    if (!args.kill_grace.empty()) {
        auto grace = parse_duration(args.kill_grace);
        if (!grace) return std::unexpected(grace.error());
        options.kill_grace = *grace;
    }
    options.stdout_to_stderr = ctx.global.json;
    auto plan = plan_predeploy(options);
    if (!plan) return std::unexpected(plan.error());

    // Everything --push needs is checked before the script runs, so a long
    // data step is not wasted on a typo in the app name or missing credentials.
    std::string app;
    std::optional<ClientOptions> client_options;
    if (args.push) {
        auto name = push_app(ctx, args, *plan);
        if (!name) return std::unexpected(name.error());
        app = *name;
        auto client = make_client(ctx);
        if (!client) return std::unexpected(client.error());
        if (!args.dry_run) {
            auto mount = client->mount_status(app);
            if (!mount) return std::unexpected(explain(mount.error(), app));
            if (!mount->enabled)
                return fail(ErrorKind::conflict,
                            fmt::format("the persistent filesystem of '{}' is off, so there is "
                                        "nowhere to push: turn it on with `de-cli mount enable "
                                        "-n {}`",
                                        app, app));
        }
        client_options = client->options();
    }

    nlohmann::json doc = plan_json(*plan);
    doc["push"] = nullptr;
    if (args.dry_run) {
        doc["dry_run"] = true;
        std::vector<std::string> lines = describe_plan(*plan);
        if (args.push) {
            lines.push_back(fmt::format(
                "then push {} to the mount of {} on {} (sync push{}), only if the script "
                "succeeds",
                plan->mount_dir.string(), app_label(ctx, app), client_options->host,
                args.delete_extraneous ? " --delete" : "; nothing is deleted"));
            doc["push"] = {
                {"app", app}, {"host", client_options->host}, {"delete", args.delete_extraneous}};
        }
        if (human(ctx)) {
            for (const auto& line : lines)
                std::fprintf(stdout, "would %s\n", line.c_str());
        } else {
            ctx.json_result = std::move(doc);
        }
        note(ctx, "predeploy: dry run: nothing was run or changed");
        return {};
    }

    note(ctx, fmt::format("predeploy: running bash {} in {} (../mount is {})", plan->script,
                          plan->app_dir.string(), plan->mount_dir.string()));
    auto outcome = run_predeploy(*plan);
    if (!outcome) return std::unexpected(outcome.error());
    doc["exit_status"] = outcome->exit_status;
    doc["timed_out"] = outcome->timed_out;
    doc["seconds"] = static_cast<double>(outcome->elapsed.count()) / 1000.0;
    if (auto failure = predeploy_failure(*plan, *outcome)) {
        if (args.push) failure->error.message += "; nothing was pushed";
        return fail_with(ctx, std::move(failure->error), failure->exit_status, std::move(doc));
    }
    note(ctx, fmt::format("predeploy: {} finished in {}", plan->script,
                          format_duration(outcome->elapsed)));

    if (args.push) {
        SyncOptions sync;
        sync.delete_extraneous = args.delete_extraneous;
        sync.max_delete = args.max_delete;
        sync.checksum = args.checksum;
        sync.jobs = args.jobs;
        // A progress line on a terminal (bytes uploaded so far; the total is
        // only known inside sync_push), -v lines, and sync's warnings.
        auto progress = make_progress(ctx);
        auto sent = std::make_shared<std::uint64_t>(0);
        sync.on_event = [&ctx, progress, sent](const SyncEvent& ev) {
            if (ev.kind == SyncEvent::Kind::warning) warn(ctx, std::string(ev.message));
            if (ev.kind != SyncEvent::Kind::done) return;
            debug(ctx, fmt::format("{} {}", ev.action, ev.path));
            if (progress && ev.action == "upload") {
                *sent += ev.bytes;
                progress({ProgressEvent::Phase::advance, ev.path, *sent, 0});
            }
        };
        note(ctx, fmt::format("predeploy: pushing {} to the mount of {}{}",
                              plan->mount_dir.string(), app_label(ctx, app),
                              args.delete_extraneous ? " (deleting what is not in it)" : ""));
        if (progress) progress({ProgressEvent::Phase::start, "", 0, 0});
        auto summary = sync_push(*client_options, app, plan->mount_dir, sync);
        if (progress) progress({ProgressEvent::Phase::finish, "", *sent, 0});
        sync.on_event = nullptr;
        if (!summary) return std::unexpected(explain(summary.error(), app));
        doc["push"] = {{"app", app}, {"local_dir", plan->mount_dir.string()}, {"remote_dir", "/"}};
        doc["push"].update(sync_counts_json(*summary, ""));
        if (human(ctx)) print_push_summary(ctx, app, plan->mount_dir, *summary);
        if (auto status = sync_status(*summary); !status) {
            if (ctx.global.json)
                return fail_with(ctx, status.error(), std::nullopt, std::move(doc));
            return status;
        }
    }
    if (ctx.global.json) ctx.json_result = std::move(doc);
    return {};
}

}  // namespace

void register_predeploy(CLI::App& root, Context& ctx) {
    auto args = std::make_shared<PredeployArgs>();
    auto* sub = root.add_subcommand(
        "predeploy", "Run the app's predeploy script (project.toml) locally, and push its output");
    sub->footer(
        "Runs `bash SCRIPT` in APP_DIR, where ../mount is the local mount folder, with the\n"
        "environment passed through (plus DE_APP_DIR and DE_MOUNT_DIR) and stdin closed.\n"
        "Exits with the script's status (124 on --timeout, 128+N if killed by signal N).\n"
        "With --json the script's stdout goes to stderr. See docs/predeploy.md.\n"
        "\nExamples:\n"
        "  $ de-cli predeploy                           # in the app folder\n"
        "  $ de-cli predeploy ./app --push -n my-app --timeout 30m\n"
        "  $ de-cli predeploy --check ./app");
    sub->add_option("APP_DIR", args->app_dir, "The app folder with project.toml (default: .)");
    sub->add_option("--mount-dir", args->mount_dir,
                    "Local mount folder (default: APP_DIR/../mount, created if missing); another "
                    "folder is linked as ../mount for the run")
        ->type_name("DIR");
    sub->add_option("--timeout", args->timeout,
                    "Stop the script and its children after this long (e.g. 90, 30s, 5m, 1h)")
        ->type_name("DURATION");
    sub->add_option("--kill-grace", args->kill_grace,
                    fmt::format("After --timeout or Ctrl-C, wait this long before SIGKILL "
                                "(default {})",
                                format_duration(k_default_kill_grace)))
        ->type_name("DURATION");
    sub->add_flag("--dry-run", args->dry_run, "Say what would run and be pushed; do nothing")
        ->group(k_group_safety);
    sub->add_flag("--check", args->check,
                  "Lint the app folder against the platform's rules (project.toml, script, "
                  "Procfile, mount folder) instead of running");
    sub->add_flag("--push", args->push,
                  "After a successful run, publish the mount folder to the app's mount (sync "
                  "push; never deletes without --delete)");
    add_app_option(sub, args->app);
    sub->add_flag("--delete", args->delete_extraneous,
                  "With --push: delete files in the app's mount that the mount folder lacks")
        ->group(k_group_safety);
    sub->add_option("--max-delete", args->max_delete,
                    fmt::format("With --push --delete: refuse to delete more than N files "
                                "(default {}; -1: no limit)",
                                k_default_max_delete))
        ->type_name("N")
        ->group(k_group_safety);
    sub->add_flag("--checksum", args->checksum,
                  "With --push: compare SHA-256 instead of size and mtime");
    sub->add_option(
           "-j,--jobs", args->jobs,
           fmt::format("With --push: parallel transfers (default {})", k_default_sync_jobs))
        ->type_name("N");
    on_run(sub, ctx, [&ctx, args] { return run(ctx, *args); });
}

}  // namespace de::cli

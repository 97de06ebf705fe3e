// sync push|pull [LOCAL_DIR] and sync --apply PLAN: a thin layer over
// de::sync_plan / de::sync_execute. The command only parses options, turns the
// library's events into a progress line, and prints the plan or the summary
// (people: stderr; --json: one document on stdout).

#include "../context.hpp"
#include "../helpers.hpp"
#include "commands.hpp"

#include <de/size.hpp>
#include <de/sync.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace de::cli {

namespace {

struct SyncArgs {
    std::string local_dir = "../mount";
    std::string app;
    std::string remote_dir;
    bool delete_extraneous = false;
    std::int64_t max_delete = k_default_max_delete;
    bool force = false;
    bool dry_run = false;
    bool checksum = false;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    bool follow_symlinks = false;
    int jobs = k_default_sync_jobs;
    std::string apply;
};

nlohmann::json summary_json(const SyncSummary& s) {
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& f : s.failures) {
        failures.push_back({{"path", f.path},
                            {"action", f.action},
                            {"kind", to_string(f.error.kind)},
                            {"message", f.error.message}});
    }
    return {{"direction", to_string(s.direction)},
            {"dry_run", s.dry_run},
            {"files_sent", s.files_sent},
            {"bytes_sent", s.bytes_sent},
            {"files_skipped", s.files_skipped},
            {"unchanged", s.files_skipped},  // as upload names it
            {"bytes_skipped", s.bytes_skipped},
            {"files_deleted", s.files_deleted},
            {"dirs_deleted", s.dirs_deleted},
            {"dirs_created", s.dirs_created},
            {"mtimes_set", s.mtimes_set},
            {"files_failed", s.files_failed},
            {"excluded", s.excluded},
            {"symlinks_skipped", s.symlinks_skipped},
            {"symlinks_followed", s.symlinks_followed},
            {"deletes_skipped", s.deletes_skipped},
            {"failures", std::move(failures)},
            {"warnings", s.warnings},
            {"seconds", s.seconds}};
}

void print_summary(const Context& ctx, const SyncSummary& s) {
    const char* verb = s.direction == SyncDirection::push ? "sent" : "received";
    std::string head =
        s.dry_run ? fmt::format("sync {} (dry run, nothing changed): would", to_string(s.direction))
                  : fmt::format("sync {}:", to_string(s.direction));
    note(ctx, fmt::format("{} {} {} files ({}), {} unchanged ({}), {} deleted, {} failed{}", head,
                          s.dry_run ? "transfer" : verb, s.files_sent, format_size(s.bytes_sent),
                          s.files_skipped, format_size(s.bytes_skipped), s.files_deleted,
                          s.files_failed, s.dry_run ? "" : fmt::format(" in {:.2f} s", s.seconds)));
    std::string extra;
    if (s.dirs_created) extra += fmt::format(", {} folders created", s.dirs_created);
    if (s.dirs_deleted) extra += fmt::format(", {} folders deleted", s.dirs_deleted);
    if (s.mtimes_set) extra += fmt::format(", {} mtimes set", s.mtimes_set);
    if (s.excluded) extra += fmt::format(", {} excluded", s.excluded);
    if (s.symlinks_skipped)
        extra += fmt::format(", {} symlinks skipped (--follow-symlinks follows them)",
                             s.symlinks_skipped);
    if (s.symlinks_followed) extra += fmt::format(", {} symlinks followed", s.symlinks_followed);
    if (!extra.empty()) note(ctx, "  " + extra.substr(2));
    if (s.deletes_skipped) {
        warn(ctx, "nothing was deleted because a transfer failed; fix the failure and sync again");
    }
    warn_sync_failures(ctx, s);
}

void print_plan(const SyncPlan& plan) {
    bool push = plan.direction == SyncDirection::push;
    std::string out;
    for (const auto& op : plan.ops) {
        std::string_view what;
        switch (op.action) {
            case SyncOp::Action::transfer:
                what = push ? "upload" : "download";
                break;
            case SyncOp::Action::mkdir:
                what = "mkdir";
                break;
            case SyncOp::Action::remove:
                what = "delete";
                break;
            case SyncOp::Action::touch:
                what = "touch";
                break;
        }
        std::string detail;
        if (op.action == SyncOp::Action::transfer) {
            detail = fmt::format(" ({}, {})", format_size(op.size), op.reason);
        } else if (op.action == SyncOp::Action::remove) {
            detail = op.type == EntryType::dir
                         ? fmt::format("/ ({} files, {})", op.files, format_size(op.size))
                         : fmt::format(" ({})", format_size(op.size));
        }
        fmt::format_to(std::back_inserter(out), "{:<8} {}{}\n", what, op.path, detail);
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
}

// Turns the library's events into a progress line (a TTY only) and -v lines.
SyncEventFn make_events(Context& ctx, std::uint64_t* total_bytes) {
    auto progress = make_progress(ctx);
    auto done = std::make_shared<std::uint64_t>(0);
    auto warnings = std::make_shared<std::size_t>(0);
    return [&ctx, progress, done, warnings, total_bytes](const SyncEvent& ev) {
        switch (ev.kind) {
            case SyncEvent::Kind::scan:
                debug(ctx, std::string(ev.message));
                break;
            case SyncEvent::Kind::warning:
                if (++*warnings <= 10) {
                    warn(ctx, std::string(ev.message));
                } else if (*warnings == 11) {
                    warn(ctx, "(more warnings: see the summary)");
                }
                break;
            case SyncEvent::Kind::start:
                break;
            case SyncEvent::Kind::done:
                debug(ctx, fmt::format("{} {}", ev.action, ev.path));
                if (progress && (ev.action == "upload" || ev.action == "download")) {
                    *done += ev.bytes;
                    progress(
                        ProgressEvent{ProgressEvent::Phase::advance, ev.path, *done, *total_bytes});
                }
                break;
            case SyncEvent::Kind::failed:
                break;  // listed in the summary
        }
    };
}

std::uint64_t transfer_bytes(const SyncPlan& plan) {
    std::uint64_t n = 0;
    for (const auto& op : plan.ops)
        if (op.action == SyncOp::Action::transfer) n += op.size;
    return n;
}

SyncOptions to_options(const SyncArgs& a) {
    SyncOptions o;
    o.remote_dir = a.remote_dir;
    o.delete_extraneous = a.delete_extraneous;
    o.max_delete = a.max_delete;
    o.force = a.force;
    o.dry_run = a.dry_run;
    o.checksum = a.checksum;
    o.include = a.include;
    o.exclude = a.exclude;
    o.follow_symlinks = a.follow_symlinks;
    o.jobs = a.jobs;
    return o;
}

Status finish(Context& ctx, const SyncSummary& summary) {
    if (ctx.global.json) {
        ctx.json_result = summary_json(summary);
    } else {
        print_summary(ctx, summary);
    }
    return sync_status(summary);
}

Status run_sync(Context& ctx, const SyncArgs& args, SyncDirection direction) {
    if (args.jobs < 1 || args.jobs > 64) {
        return fail(ErrorKind::usage, "--jobs must be between 1 and 64");
    }
    auto app = resolve_app(ctx, args.app, args.delete_extraneous);
    if (!app) return std::unexpected(std::move(app.error()));
    auto client = make_client(ctx);
    if (!client) return std::unexpected(std::move(client.error()));
    const ClientOptions copts = client->options();

    SyncOptions options = to_options(args);
    std::uint64_t total = 0;
    options.on_event = make_events(ctx, &total);
    auto plan = sync_plan(copts, *app, args.local_dir, direction, options);
    if (!plan) return std::unexpected(std::move(plan.error()));

    if (args.dry_run) {
        if (ctx.global.json) {
            ctx.json_result = nlohmann::json::parse(sync_plan_to_json(*plan));
        } else {
            print_plan(*plan);
            print_summary(ctx, plan_summary(*plan));
            for (const auto& w : plan->warnings) {
                if (w.starts_with("refusing")) warn(ctx, "without --dry-run: " + w);
            }
        }
        return {};
    }
    total = transfer_bytes(*plan);
    auto summary = sync_execute(copts, *plan, options, false);
    if (!summary) return std::unexpected(std::move(summary.error()));
    return finish(ctx, *summary);
}

Status run_apply(Context& ctx, const SyncArgs& args) {
    std::string text;
    if (args.apply == "-") {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        text = ss.str();
    } else {
        std::ifstream in(args.apply);
        if (!in) {
            return fail(ErrorKind::not_found,
                        fmt::format("cannot read the plan file {}", args.apply));
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    auto plan = sync_plan_from_json(text);
    if (!plan) return std::unexpected(std::move(plan.error()));
    if (!args.app.empty() && args.app != plan->app) {
        return fail(ErrorKind::usage,
                    fmt::format("the plan is for app {}, not {}", plan->app, args.app));
    }
    auto client = make_client(ctx);
    if (!client) return std::unexpected(std::move(client.error()));
    const ClientOptions copts = client->options();

    SyncOptions options = to_options(args);
    std::uint64_t total = transfer_bytes(*plan);
    options.on_event = make_events(ctx, &total);
    auto summary = sync_apply(copts, *plan, options);
    if (!summary) return std::unexpected(std::move(summary.error()));
    return finish(ctx, *summary);
}

void add_common(CLI::App* sub, SyncArgs& a, bool with_local_dir) {
    if (with_local_dir) {
        sub->add_option("LOCAL_DIR", a.local_dir,
                        "Local folder (default: ../mount, as in the local-development layout)");
    }
    add_app_option(sub, a.app);
    sub->add_option("--remote-dir", a.remote_dir, "Folder inside the mount (default: its root)")
        ->type_name("DIR")
        ->group(k_group_app);
    sub->add_flag("--delete", a.delete_extraneous,
                  "Delete destination files that the source does not have")
        ->group(k_group_safety);
    sub->add_option("--max-delete", a.max_delete,
                    fmt::format("Refuse --delete when it would delete more than N files "
                                "(default {}; -1: no limit)",
                                k_default_max_delete))
        ->type_name("N")
        ->group(k_group_safety);
    sub->add_flag("--force", a.force, "Allow --delete even when the source is empty or missing")
        ->group(k_group_safety);
    sub->add_flag("--dry-run", a.dry_run,
                  "Print the plan and change nothing (with --json: a plan file for --apply)")
        ->group(k_group_safety);
    sub->add_flag("--checksum", a.checksum,
                  "Compare SHA-256 instead of size and mtime (hashes are cached on both sides)");
    sub->add_option("--include", a.include, "Only sync files matching GLOB (repeatable)")
        ->type_name("GLOB");
    sub->add_option(
           "--exclude", a.exclude,
           "Skip paths matching GLOB; a matching folder skips everything in it (repeatable)")
        ->type_name("GLOB");
    sub->add_flag("--follow-symlinks", a.follow_symlinks,
                  "Follow local symlinks (default: skip them with a warning)");
    sub->add_option("-j,--jobs", a.jobs,
                    fmt::format("Parallel transfers (default {})", k_default_sync_jobs))
        ->type_name("N");
}

}  // namespace

void register_sync(CLI::App& root, Context& ctx) {
    auto args = std::make_shared<SyncArgs>();
    auto* sync = root.add_subcommand("sync", "Keep a local folder and the app's mount in step");
    sync->footer(
        "Examples:\n"
        "  $ de-cli sync push -n my-app                 # ../mount -> the app's mount\n"
        "  $ de-cli sync push -n my-app --delete --dry-run --json > plan.json\n"
        "  $ de-cli sync --apply plan.json");
    sync->add_option("--apply", args->apply,
                     "Execute a plan written by --dry-run --json (refused if either side changed)")
        ->type_name("PLAN")
        ->group(k_group_safety);
    sync->add_option("--max-delete", args->max_delete,
                     "With --apply: refuse a plan that deletes more than N files (-1: no limit)")
        ->type_name("N")
        ->group(k_group_safety);
    sync->add_flag("--force", args->force, "With --apply: allow a plan that deletes everything")
        ->group(k_group_safety);
    sync->add_option("-j,--jobs", args->jobs, "With --apply: parallel transfers")->type_name("N");
    add_app_option(sync, args->app);

    auto* push = sync->add_subcommand("push", "Make the app's mount match a local folder");
    push->footer(
        "Examples:\n"
        "  $ de-cli sync push -n my-app\n"
        "  $ de-cli sync push ./data -n my-app --remote-dir data --delete --dry-run");
    add_common(push, *args, true);
    on_run(push, ctx, [&ctx, args] { return run_sync(ctx, *args, SyncDirection::push); });

    auto* pull = sync->add_subcommand("pull", "Make a local folder match the app's mount");
    pull->footer(
        "Examples:\n"
        "  $ de-cli sync pull -n my-app\n"
        "  $ de-cli sync pull ./mount -n my-app --delete --checksum");
    add_common(pull, *args, true);
    on_run(pull, ctx, [&ctx, args] { return run_sync(ctx, *args, SyncDirection::pull); });

    sync->require_subcommand(0, 1);
    sync->callback([&ctx, args, sync] {
        if (!sync->get_subcommands().empty() || ctx.parse_only) return;
        if (args->apply.empty()) {
            ctx.outcome = fail(ErrorKind::usage,
                               "sync needs push, pull or --apply PLAN; see de-cli sync --help");
            return;
        }
        ctx.outcome = run_apply(ctx, *args);
    });
}

}  // namespace de::cli

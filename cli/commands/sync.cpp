// sync push|pull [LOCAL_DIR] and sync --apply PLAN: a thin layer over
// de::sync_plan / de::sync_execute. The command only parses options, turns the
// library's events into a progress line, and prints the plan or the summary
// (people: stderr; --json: one document on stdout).

#include "../context.hpp"
#include "../helpers.hpp"
#include "commands.hpp"

#include <de/name_json.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>
#include <de/sync.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
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
    bool yes = false;
    bool checksum = false;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    bool follow_symlinks = false;
    int jobs = k_default_sync_jobs;
    std::string apply;
};

// Where a sync ran, for its summary line and its JSON document.
struct SyncWhere {
    std::string app;
    std::string local;           // as the user gave it ("../mount"), or the plan's absolute folder
    std::string remote_dir;      // normalized; "" : the mount root
    std::string local_abs;       // the plan's absolute folder (the JSON form)
    bool local_created = false;  // pull: the local folder did not exist before
};

nlohmann::json summary_json(const SyncSummary& s, const SyncWhere& where) {
    nlohmann::json j = {{"app", where.app},
                        {"local_dir", where.local_abs},
                        {"remote_dir", remote_abs(where.remote_dir)}};
    j.update(sync_counts_json(s, where.remote_dir));
    if (s.direction == SyncDirection::pull) j["local_dir_created"] = where.local_created;
    return j;
}

// "sync pull: received 3 files (1.2 MiB) from sales:/csv into ../mount; 2 unchanged, ..."
// A dry run says what it would do; counts of 0 other than the transfer are left out.
void print_summary(const Context& ctx, const SyncSummary& s, const SyncWhere& where) {
    const bool push = s.direction == SyncDirection::push;
    const bool dry = s.dry_run;
    const std::string remote = remote_display(where.app, where.remote_dir);
    const std::string verb =
        push ? (dry ? "would send" : "sent") : (dry ? "would receive" : "received");
    std::string head =
        fmt::format("sync {}{}: {} {} ({}) from {} {} {}", to_string(s.direction),
                    dry ? " (dry run, nothing changed)" : "", verb,
                    plural(s.files_sent, "file", "files"), format_size(s.bytes_sent),
                    push ? where.local : remote, push ? "to" : "into", push ? remote : where.local);
    std::vector<std::string> parts;
    if (s.files_skipped)
        parts.push_back(
            fmt::format("{} unchanged ({})", s.files_skipped, format_size(s.bytes_skipped)));
    const char* would = dry ? "would " : "";
    if (s.files_deleted)
        parts.push_back(fmt::format("{}delete{} {}", would, dry ? "" : "d",
                                    plural(s.files_deleted, "file", "files")));
    if (s.dirs_created)
        parts.push_back(
            dry ? fmt::format("would create {}", plural(s.dirs_created, "folder", "folders"))
                : fmt::format("{} created", plural(s.dirs_created, "folder", "folders")));
    if (s.dirs_deleted)
        parts.push_back(
            dry ? fmt::format("would delete {}", plural(s.dirs_deleted, "folder", "folders"))
                : fmt::format("{} deleted", plural(s.dirs_deleted, "folder", "folders")));
    if (s.mtimes_set)
        parts.push_back(fmt::format("{}set {}", would, plural(s.mtimes_set, "mtime", "mtimes")));
    if (s.files_failed)
        parts.push_back(fmt::format("{} failed", plural(s.files_failed, "file", "files")));
    if (s.excluded) parts.push_back(fmt::format("{} excluded", s.excluded));
    if (s.symlinks_skipped)
        parts.push_back(fmt::format("{} skipped (--follow-symlinks follows them)",
                                    plural(s.symlinks_skipped, "symlink", "symlinks")));
    if (s.symlinks_followed)
        parts.push_back(
            fmt::format("{} followed", plural(s.symlinks_followed, "symlink", "symlinks")));
    std::string line = head;
    for (std::size_t i = 0; i < parts.size(); ++i)
        line += (i == 0 ? "; " : ", ") + parts[i];
    if (!dry) line += fmt::format(" in {:.2f} s", s.seconds);
    if (where.local_created)
        line += fmt::format("\n  {} {} (it did not exist)", dry ? "would create" : "created",
                            where.local);
    note(ctx, line);
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

Status finish(Context& ctx, const SyncSummary& summary, const SyncWhere& where) {
    if (ctx.global.json) {
        ctx.json_result = summary_json(summary, where);
    } else {
        print_summary(ctx, summary, where);
    }
    return sync_status(summary);
}

bool missing(const std::string& dir) {
    std::error_code ec;
    return !std::filesystem::exists(dir, ec) && !ec;
}

// What --delete removes, for the confirmation: counts, size and the first paths
// (remote ones as app:/path, local ones as paths).
Confirmation deletions(const SyncPlan& plan) {
    const bool push = plan.direction == SyncDirection::push;
    std::uint64_t files = 0, dirs = 0, bytes = 0;
    Confirmation what;
    for (const auto& op : plan.ops) {
        if (op.action != SyncOp::Action::remove) continue;
        const bool dir = op.type == EntryType::dir;
        dirs += dir;
        files += dir ? op.files : 1;
        bytes += op.size;
        std::string shown =
            push ? remote_display(plan.app, join_path(plan.remote_dir, op.path))
                 : (std::filesystem::path(plan.local_dir) / op.path).lexically_normal().string();
        if (what.paths.size() < k_confirm_paths)
            what.paths.push_back(shown + (dir ? "/" : ""));
        else
            ++what.more_paths;
    }
    what.action = "delete";
    what.counts = fmt::format(
        "{} {}file{}{} ({})", files, push ? "" : "local ", files == 1 ? "" : "s",
        dirs ? fmt::format(" and {} folder{}", dirs, dirs == 1 ? "" : "s") : std::string(),
        format_size(bytes));
    what.target = push ? fmt::format("from {} (--delete: not in {})",
                                     remote_display(plan.app, plan.remote_dir), plan.local_dir)
                       : fmt::format("from {} (--delete: not in {})", plan.local_dir,
                                     remote_display(plan.app, plan.remote_dir));
    return what;
}

bool has_deletions(const SyncPlan& plan) {
    for (const auto& op : plan.ops)
        if (op.action == SyncOp::Action::remove) return true;
    return false;
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
    SyncWhere where{*app, args.local_dir, args.remote_dir, args.local_dir,
                    direction == SyncDirection::pull && missing(args.local_dir)};
    auto plan = sync_plan(copts, *app, args.local_dir, direction, options);
    if (!plan) return std::unexpected(std::move(plan.error()));
    where.remote_dir = plan->remote_dir;
    where.local_abs = plan->local_dir;

    if (args.dry_run) {
        SyncSummary summary = plan_summary(*plan);
        if (ctx.global.json) {
            // The plan file (--apply reads it) with the run's keys beside it.
            auto doc = nlohmann::json::parse(sync_plan_to_json(*plan));
            doc.update(summary_json(summary, where));
            ctx.json_result = std::move(doc);
        } else {
            print_plan(*plan);
            print_summary(ctx, summary, where);
            for (const auto& w : plan->warnings) {
                if (w.starts_with("refusing")) warn(ctx, "without --dry-run: " + w);
            }
        }
        return {};
    }
    // --delete removes only after a yes (or -y); --dry-run above never asks.
    if (has_deletions(*plan)) {
        if (auto ok = confirm(ctx, deletions(*plan), args.yes); !ok) return ok;
    }
    total = transfer_bytes(*plan);
    auto summary = sync_execute(copts, *plan, options, false);
    options.on_event = nullptr;  // ends the progress line before the summary
    if (!summary) return std::unexpected(std::move(summary.error()));
    where.local_created = where.local_created && !missing(args.local_dir);
    return finish(ctx, *summary, where);
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
    SyncWhere where{plan->app, plan->local_dir, plan->remote_dir, plan->local_dir,
                    plan->direction == SyncDirection::pull && missing(plan->local_dir)};
    auto summary = sync_apply(copts, *plan, options);
    options.on_event = nullptr;  // ends the progress line before the summary
    if (!summary) return std::unexpected(std::move(summary.error()));
    where.local_created = where.local_created && !missing(plan->local_dir);
    return finish(ctx, *summary, where);
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
                  "Delete destination files that the source does not have (asks first on a "
                  "terminal; -y without one)")
        ->group(k_group_safety);
    add_yes_option(sub, a.yes);
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

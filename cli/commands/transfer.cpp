// upload and download: map arguments to libde calls and results to output.
// upload is de/upload_plan.hpp's planner (the walk, globs, symlink policy,
// existing files, the quota, the batch / single / resumable split): this file
// prints its dry-run table and its summary. download is de/download_plan.hpp's
// planner (what each source is, local conflicts, room on the local disk).
// Both refuse before the first byte, so a refused transfer changes nothing.
#include "commands.hpp"
#include "context.hpp"
#include "helpers.hpp"
#include "output.hpp"

#include <de/download_plan.hpp>
#include <de/hash_cache.hpp>
#include <de/json.hpp>
#include <de/name_json.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>
#include <de/timestamp.hpp>
#include <de/upload_plan.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <unordered_map>

namespace de::cli {

namespace fs = std::filesystem;

namespace {

struct TransferArgs {
    std::vector<std::string> paths;
    std::string name;
    bool recursive = false;
    bool update = false;
    bool force = false;
    bool dry_run = false;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    int connections = 4;
    bool no_resume = false;
    bool verify = false;
    bool follow_symlinks = false;
};

constexpr int k_max_connections = 16;

Status check_connections(int n) {
    if (n < 1 || n > k_max_connections)
        return fail(ErrorKind::usage, fmt::format("-j/--jobs must be between 1 and {} (got {})",
                                                  k_max_connections, n));
    return {};
}

// What a resumed transfer adds to the JSON result.
void add_report(nlohmann::json& j, const TransferReport& report) {
    j["resumed"] = report.resumed;
    j["resumed_bytes"] = report.resumed_bytes;
    // What the re-run of a resumable upload cost: local bytes read, bytes sent.
    if (report.resumed && (report.read_bytes || report.sent_bytes)) {
        j["read_bytes"] = report.read_bytes;
        j["sent_bytes"] = report.sent_bytes;
    }
    if (report.retries) j["retries"] = report.retries;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string rate(std::uint64_t bytes, double secs) {
    if (secs <= 0.0) return "";
    return fmt::format(", {}/s", format_size(static_cast<std::uint64_t>(bytes / secs)));
}

// The one document of upload and download (docs/json.md, "Transfers").
nlohmann::json transfer_doc(const std::string& app, bool dry_run, nlohmann::json files,
                            std::uint64_t transferred, std::uint64_t bytes,
                            std::uint64_t unchanged) {
    return {{"app", app},
            {"dry_run", dry_run},
            {"files", std::move(files)},
            {"files_transferred", transferred},
            {"bytes_transferred", bytes},
            {"files_unchanged", unchanged},
            {"files_failed", 0}};
}

// ---------------------------------------------------------------- upload

// A planned upload as a transfer entry (the local file's facts).
// fields plus "local" and "path" (absolute in the mount), each in the percent form when not UTF-8.
nlohmann::json names_json(nlohmann::json fields, std::string_view local, std::string_view remote) {
    put_name(fields, "local", local);
    put_name(fields, "path", remote_abs(remote));
    return fields;
}

nlohmann::json upload_entry(const UploadItem& item, std::string action) {
    nlohmann::json j = names_json({{"size", item.size},
                                   {"mtime", format_rfc3339_ns(item.mtime_ns)},
                                   {"action", std::move(action)}},
                                  item.local, item.remote);
    if (item.sha256) j["sha256"] = *item.sha256;
    return j;
}

std::string_view action_of(const UploadItem& item, bool update) {
    if (item.completed) return "completed";  // by an interrupted run (its journal said so)
    if (item.unchanged) return "unchanged";
    if (item.kept_newer) return "skipped";  // --update keeps a newer target
    return !item.exists ? "upload" : update ? "replace" : "conflict";
}

// "; 3 unchanged" for the summary lines.
std::string unchanged_text(const UploadPlan& plan) {
    std::string out;
    if (std::size_t n = plan.unchanged())
        out = fmt::format("; {} unchanged ({}) not sent", n, format_size(plan.unchanged_bytes()));
    if (std::size_t k = plan.kept_newer())
        out += fmt::format("; {} newer remote file{} kept", k, k == 1 ? "" : "s");
    return out;
}

// "a, b, c and 4 more".
std::string some_of(const std::vector<std::string>& names, std::size_t shown = 3) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < shown; ++i)
        out += (i ? ", " : "") + names[i];
    if (names.size() > shown) out += fmt::format(" and {} more", names.size() - shown);
    return out;
}

// The warning for files --update kept because they are newer than the source
// (side: where they are, "remote" or "local"; other: the source's side).
void warn_kept_newer(const Context& ctx, const std::vector<std::string>& kept,
                     std::string_view side, std::string_view other) {
    if (kept.empty()) return;
    warn(ctx,
         fmt::format("kept {} {} file{} newer than the {} one{} ({}): --update never "
                     "replaces a newer file; pass --force to replace {}",
                     kept.size(), side, kept.size() == 1 ? "" : "s", other,
                     kept.size() == 1 ? "" : "s", some_of(kept), kept.size() == 1 ? "it" : "them"));
}

// Existing targets that differ, without --update: on a terminal, ask (a yes
// replaces them as --update would); without one, check_upload() refuses.
// Returns whether to replace.
Result<bool> ask_replace(Context& ctx, const std::vector<std::string>& targets,
                         std::string_view where, bool newer_kept_unless_force) {
    if (targets.empty() || !ctx.stdin_tty) return false;
    Confirmation what;
    what.action = "replace";
    what.counts = fmt::format("{} existing file{} with other content", targets.size(),
                              targets.size() == 1 ? "" : "s");
    what.target = fmt::format("in {}", where);
    what.paths = targets;
    if (newer_kept_unless_force)
        what.note = "(files newer than the ones replacing them are kept; --force replaces them)";
    if (auto ok = confirm(ctx, what, false); !ok) return std::unexpected(ok.error());
    return true;
}

// The local hash cache's use, for -v.
void trace_cache(Context& ctx, const HashCache& cache) {
    auto st = cache.stats();
    debug(ctx,
          fmt::format("hash cache: {} hit{}, {} file{} read ({})", st.hits, st.hits == 1 ? "" : "s",
                      st.misses, st.misses == 1 ? "" : "s", format_size(st.bytes_read)));
}

// `fields` with "local" and "remote" (names: percent form when not UTF-8).

Status run_upload(Context& ctx, const TransferArgs& args) {
    if (args.paths.size() < 2)
        return fail(ErrorKind::usage,
                    "upload needs at least one local file and the remote destination: "
                    "de-cli upload LOCAL... REMOTE");
    if (auto st = check_connections(args.connections); !st) return st;
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());

    UploadRequest request;
    request.sources.assign(args.paths.begin(), args.paths.end() - 1);
    request.remote = args.paths.back();
    request.recursive = args.recursive;
    request.follow_symlinks = args.follow_symlinks;
    request.include = args.include;
    request.exclude = args.exclude;
    auto plan = plan_upload_local(*app, request, [&ctx](std::string_view w) { warn(ctx, w); });
    if (!plan) return std::unexpected(plan.error());

    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    // The local hash cache: identical files are found without reading them
    // again, and what is sent is not hashed twice. Saved however this ends.
    HashCache cache = HashCache::open();
    struct SaveCache {
        Context& ctx;
        HashCache& cache;
        ~SaveCache() {
            trace_cache(ctx, cache);
            if (auto st = cache.save(); !st) debug(ctx, st.error().message);
        }
    } save_cache{ctx, cache};
    if (auto st = resolve_upload(*client, *plan, &cache); !st)
        return std::unexpected(explain(st.error(), *app));
    const auto& files = plan->files;
    if (files.empty() && plan->dirs.empty()) {
        note(ctx, "Nothing to upload: no file matched");
        ctx.json_result = transfer_doc(*app, args.dry_run, nlohmann::json::array(), 0, 0, 0);
        return {};
    }
    // Replacing: --update, or a yes on a terminal; newer targets are kept unless --force.
    bool update = args.update;
    if (!update && !args.dry_run) {
        std::vector<std::string> targets;
        for (const UploadItem* item : plan->existing())
            targets.push_back(remote_display(*app, item->remote));
        auto yes = ask_replace(ctx, targets, remote_display(*app, plan->remote_base), !args.force);
        if (!yes) return std::unexpected(yes.error());
        update = *yes;
    }
    if (update) {
        keep_newer_targets(*plan, args.force);
        std::vector<std::string> kept;
        for (const auto& item : files)
            if (item.kept_newer) kept.push_back(remote_display(*app, item.remote));
        warn_kept_newer(ctx, kept, "remote", "local");
    }
    const std::uint64_t total = plan->bytes();
    if (args.dry_run) {
        Table table({"LOCAL", "REMOTE", "SIZE", "ACTION"});
        table.align(2, Table::Align::right);
        for (const auto& item : files)
            table.add_row({display_name(item.local), "/" + display_name(item.remote),
                           ctx.stdout_tty ? format_size(item.size) : std::to_string(item.size),
                           std::string(action_of(item, update))});
        print_table(ctx, table);
    }
    if (auto st = check_upload(*plan, update); !st) return st;
    if (args.dry_run) {
        nlohmann::json listed = nlohmann::json::array();
        for (const auto& item : files) {
            std::string_view action = action_of(item, update);
            listed.push_back(upload_entry(
                item, item.to_send() ? fmt::format("would {}", action) : std::string(action)));
        }
        ctx.json_result =
            transfer_doc(*app, true, std::move(listed), plan->to_send(), total, plan->unchanged());
        note(ctx, fmt::format("Dry run: would upload {} ({}) to {}{}; nothing was sent",
                              plural(plan->to_send(), "file", "files"), format_size(total),
                              remote_display(*app, plan->remote_base), unchanged_text(*plan)));
        return {};
    }

    auto start = std::chrono::steady_clock::now();
    nlohmann::json done = nlohmann::json::array();
    UploadSendOptions options;
    options.cache = &cache;
    options.overwrite = update;
    options.connections = args.connections;
    options.resume = !args.no_resume;
    options.verify = args.verify;
    options.progress = make_progress(ctx);
    options.notice = [&ctx](std::string_view message) { note(ctx, message); };
    options.trace = [&ctx](std::string_view line) { debug(ctx, line); };
    // Entries are only printed with --json; without it none is kept. The
    // server's entry says what arrived; the plan, which local file it was.
    std::unordered_map<std::string_view, const UploadItem*> by_remote;
    if (ctx.global.json)
        for (const auto& item : files) {
            by_remote.emplace(item.remote, &item);
            if (!item.to_send())
                done.push_back(upload_entry(item, std::string(action_of(item, false))));
        }
    options.on_file = [&ctx, &done, &by_remote](Entry&& entry, const TransferReport& report) {
        if (!ctx.global.json) return;
        auto it = by_remote.find(entry.path);
        nlohmann::json j = {{"local", nullptr},
                            {"size", entry.size},
                            {"mtime", format_rfc3339_ns(entry.mtime_ns)},
                            {"action", "uploaded"}};
        if (it != by_remote.end()) put_name(j, "local", it->second->local);
        put_name(j, "path", remote_abs(entry.path));  // percent form when not UTF-8
        if (entry.sha256) j["sha256"] = *entry.sha256;
        if (report.resumed) add_report(j, report);
        done.push_back(std::move(j));
    };
    auto sent = send_upload(*client, *plan, options);
    if (!sent) return std::unexpected(explain(sent.error(), *app));
    double secs = seconds_since(start);
    ctx.json_result =
        transfer_doc(*app, false, std::move(done), sent->files, sent->bytes, sent->unchanged);
    (*ctx.json_result)["seconds"] = secs;
    add_report(*ctx.json_result, sent->report);
    const std::string where = files.size() == 1 ? remote_display(*app, files.front().remote)
                                                : remote_display(*app, plan->remote_base);
    if (sent->files == 0 && sent->unchanged > 0)
        note(
            ctx,
            fmt::format(
                "Nothing to upload: {} already {} the same content{}",
                files.size() == 1 ? where : fmt::format("{} files in {}", sent->unchanged, where),
                files.size() == 1 ? "has" : "have", files.size() == 1 ? "" : " as the local ones"));
    else
        note(ctx, fmt::format("Uploaded {} file{} ({}) to {} in {:.1f} s{}{}", sent->files,
                              sent->files == 1 ? "" : "s", format_size(sent->bytes), where, secs,
                              rate(sent->bytes, secs), unchanged_text(*plan)));
    return {};
}

// -------------------------------------------------------------- download

Status run_download(Context& ctx, const TransferArgs& args) {
    if (args.paths.empty())
        return fail(ErrorKind::usage,
                    "download needs a remote path: de-cli download REMOTE... [LOCAL]");
    if (auto st = check_connections(args.connections); !st) return st;
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    // One path: the remote one, into the current folder (as scp and cp -t do).
    const bool local_given = args.paths.size() >= 2;
    const std::string local_arg = local_given ? args.paths.back() : std::string(".");
    const std::size_t remote_count = local_given ? args.paths.size() - 1 : args.paths.size();
    DownloadRequest request;
    request.local = local_arg;
    std::error_code ec;
    request.local_is_dir = fs::is_directory(request.local, ec) || local_arg.ends_with('/');
    request.recursive = args.recursive;
    request.filter = PathFilter(args.include, args.exclude);
    for (std::size_t i = 0; i < remote_count; ++i) {
        auto p = normalize_remote_arg(args.paths[i], *app);
        if (!p) return std::unexpected(p.error());
        request.sources.push_back(*p);
    }
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto plan = plan_download(*client, *app, request);
    if (!plan) return std::unexpected(explain(plan.error(), *app));
    {
        HashCache cache = HashCache::open();
        if (auto st = resolve_local(*client, *plan, &cache); !st)
            return std::unexpected(explain(st.error(), *app));
        trace_cache(ctx, cache);
        if (auto st = cache.save(); !st) debug(ctx, st.error().message);
    }
    // Replacing: --update, or a yes on a terminal; newer local files are kept unless --force.
    bool update = args.update;
    if (!update && !args.dry_run) {
        std::vector<std::string> targets;
        for (const DownloadItem* item : plan->existing())
            targets.push_back(item->local.string());
        auto yes = ask_replace(ctx, targets, fmt::format("'{}'", local_arg), !args.force);
        if (!yes) return std::unexpected(yes.error());
        update = *yes;
    }
    if (update) {
        keep_newer_local(*plan, args.force);
        std::vector<std::string> kept;
        for (const auto& item : plan->items)
            if (item.kept_newer) kept.push_back(item.local.string());
        warn_kept_newer(ctx, kept, "local", "remote");
    }
    if (args.dry_run) {
        Table table({"REMOTE", "LOCAL", "SIZE", "ACTION"});
        table.align(2, Table::Align::right);
        nlohmann::json listed = nlohmann::json::array();
        for (const auto& item : plan->items) {
            if (item.is_dir) continue;
            std::string action = item.unchanged       ? "unchanged"
                                 : item.kept_newer    ? "skipped"
                                 : !item.local_exists ? "would download"
                                 : update             ? "would replace"
                                                      : "conflict";
            table.add_row({"/" + display_name(item.remote), display_name(item.local.string()),
                           ctx.stdout_tty ? format_size(item.size) : std::to_string(item.size),
                           action});
            listed.push_back(names_json({{"size", item.size}, {"action", action}},
                                        item.local.string(), item.remote));
        }
        print_table(ctx, table);
        if (auto st = check_download(*plan, update); !st) return st;
        ctx.json_result = transfer_doc(*app, true, std::move(listed), plan->files(), plan->bytes(),
                                       plan->unchanged());
        note(ctx, fmt::format("Dry run: would download {} ({}) into {}; nothing was written",
                              plural(plan->files(), "file", "files"), format_size(plan->bytes()),
                              display_name(local_arg)));
        return {};
    }
    if (auto st = check_download(*plan, update); !st) return st;

    auto start = std::chrono::steady_clock::now();
    nlohmann::json done = nlohmann::json::array();
    DownloadSendOptions options;
    options.overwrite = update;
    options.connections = args.connections;
    options.progress = make_progress(ctx);
    options.notice = [&ctx](std::string_view message) { note(ctx, message); };
    options.trace = [&ctx](std::string_view line) { debug(ctx, line); };
    options.on_file = [&done](const DownloadItem& item, const Entry& entry) {
        nlohmann::json j = names_json({{"size", entry.size},
                                       {"mtime", format_rfc3339_ns(entry.mtime_ns)},
                                       {"action", "downloaded"}},
                                      item.local.string(), item.remote);
        if (entry.sha256) j["sha256"] = *entry.sha256;
        done.push_back(std::move(j));
    };
    auto got = send_download(*client, *plan, options);
    if (!got) return std::unexpected(explain(got.error(), *app));
    double secs = seconds_since(start);
    ctx.json_result =
        transfer_doc(*app, false, std::move(done), got->files, got->bytes, plan->unchanged());
    (*ctx.json_result)["seconds"] = secs;
    add_report(*ctx.json_result, got->report);
    std::string skipped;
    if (std::size_t n = plan->unchanged()) skipped += fmt::format("; {} unchanged not fetched", n);
    if (std::size_t n = plan->kept_newer())
        skipped += fmt::format("; {} kept", plural(n, "newer local file", "newer local files"));
    const std::string from = request.sources.size() == 1
                                 ? remote_display(*app, request.sources.front())
                                 : fmt::format("{} paths of {}", request.sources.size(), *app);
    note(ctx, fmt::format("Downloaded {} ({}) from {} into {} in {:.1f} s{}{}",
                          plural(got->files, "file", "files"), format_size(got->bytes), from,
                          display_name(local_arg), secs, rate(got->bytes, secs), skipped));
    return {};
}

// -j/--jobs N, the one parallelism flag; the old --connections stays as a
// hidden alias.
void add_jobs_option(CLI::App* sub, int& jobs, const char* help) {
    sub->add_option("-j,--jobs", jobs, help)->type_name("N")->default_val(4);
    sub->add_option("--connections", jobs, "Old name of -j/--jobs")->type_name("N")->group("");
}

}  // namespace

void register_transfer(CLI::App& root, Context& ctx) {
    auto up = std::make_shared<TransferArgs>();
    auto* upload = root.add_subcommand("upload", "Upload files or folders into the mount");
    upload
        ->add_option("paths", up->paths,
                     "Local files (folders with -r), then the remote folder or file name")
        ->required()
        ->option_text("LOCAL... REMOTE");
    add_app_option(upload, up->name);
    upload->add_flag("-r,--recursive", up->recursive,
                     "Upload folders and everything in them ('dir/' uploads its contents)");
    upload
        ->add_flag("--update", up->update,
                   "Replace remote files that exist with other content, unless they are newer "
                   "than the local file (default: refuse; identical files are never sent). As "
                   "`dagshub upload --update`; like rsync's and `cp -u`'s --update it never "
                   "replaces a newer file, and --force does")
        ->group(k_group_safety);
    upload
        ->add_flag("--force", up->force,
                   "With --update: replace remote files even when they are newer than the local "
                   "file")
        ->group(k_group_safety);
    upload->add_flag("--dry-run", up->dry_run, "Print the plan and check it; send nothing")
        ->group(k_group_safety);
    upload
        ->add_option("--include", up->include,
                     "Only files matching this glob (repeatable; '*.csv', 'data/**')")
        ->type_name("GLOB")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    upload
        ->add_option("--exclude", up->exclude,
                     "Skip files and folders matching this glob (repeatable)")
        ->type_name("GLOB")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    add_jobs_option(upload, up->connections, "Connections for a big file's parts (1-16)");
    upload->add_flag("--no-resume", up->no_resume,
                     "Start big files over instead of resuming an interrupted upload");
    upload->add_flag("--verify", up->verify,
                     "When resuming, read the parts already on the server again for the "
                     "whole-file CRC-64 instead of trusting the resume journal");
    upload->add_flag("--follow-symlinks", up->follow_symlinks,
                     "Follow symlinks inside folders (default: skip them with a warning)");
    upload->footer(
        "Checks every target and the quota before the first byte: files the server already\n"
        "holds with the same size and SHA-256 are unchanged and not sent; other existing\n"
        "files are refused without --update (exit 5; on a terminal you are asked instead),\n"
        "and a lack of room says how much is missing (exit 6). Local hashes are cached in\n"
        "$XDG_CACHE_HOME/de-cli.\n"
        "--update keeps the meaning of `dagshub upload --update` (allow replacing files that\n"
        "changed) with rsync's safety: like `rsync --update` and `cp -u`, it never replaces a\n"
        "file that is newer (by modification time) than the one replacing it; those are kept\n"
        "with a warning, and --force replaces them too.\n"
        "Big files go up in parts over several connections; re-running an interrupted upload\n"
        "continues where it stopped (and says so). Small files go up together in batches.\n\n"
        "Examples:\n"
        "  $ de-cli upload sales.parquet /data/ -n sales-dashboard\n"
        "  $ de-cli upload -r ./data / --exclude '*.tmp' -n sales-dashboard\n"
        "  $ de-cli upload -r ./data / --dry-run");
    on_run(upload, ctx, [&ctx, up] { return run_upload(ctx, *up); });

    auto down = std::make_shared<TransferArgs>();
    auto* download = root.add_subcommand("download", "Download files or folders from the mount");
    download
        ->add_option("paths", down->paths,
                     "Remote files (folders with -r), then the local folder or file name "
                     "(default: the current folder)")
        ->required()
        ->option_text("REMOTE... [LOCAL]");
    add_app_option(download, down->name);
    download->add_flag("-r,--recursive", down->recursive,
                       "Download folders and everything in them");
    download
        ->add_flag("--update", down->update,
                   "Replace local files that exist with other content, unless they are newer "
                   "than the remote file (default: refuse; identical files are never fetched). "
                   "Like rsync's and `cp -u`'s --update it never replaces a newer file; --force "
                   "does")
        ->group(k_group_safety);
    download
        ->add_flag("--force", down->force,
                   "With --update: replace local files even when they are newer than the remote "
                   "file")
        ->group(k_group_safety);
    download->add_flag("--dry-run", down->dry_run, "Print the plan and check it; write nothing")
        ->group(k_group_safety);
    download
        ->add_option("--include", down->include,
                     "With -r: only files matching this glob (repeatable; '*.csv', 'data/**')")
        ->type_name("GLOB");
    download
        ->add_option("--exclude", down->exclude,
                     "With -r: skip files and folders matching this glob (repeatable)")
        ->type_name("GLOB");
    add_jobs_option(download, down->connections, "Connections for a big file's ranges (1-16)");
    download->footer(
        "Local files with the same size and SHA-256 as the remote ones are unchanged and not\n"
        "fetched. Other existing local files are refused without --update (exit 5; on a\n"
        "terminal you are asked instead). --update, like `rsync --update` and `cp -u`, never\n"
        "replaces a local file newer than the remote one; --force replaces those too.\n"
        "Globs match paths relative to each folder downloaded.\n\n"
        "Examples:\n"
        "  $ de-cli download /data/sales.parquet -n sales-dashboard\n"
        "  $ de-cli download -r /data ./backup -n sales-dashboard\n"
        "  $ de-cli download -r /data ./backup --include '*.csv' --dry-run");
    on_run(download, ctx, [&ctx, down] { return run_download(ctx, *down); });
}

}  // namespace de::cli

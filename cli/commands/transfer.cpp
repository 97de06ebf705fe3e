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
#include <de/remote_path.hpp>
#include <de/size.hpp>
#include <de/upload_plan.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>

namespace de::cli {

namespace fs = std::filesystem;

namespace {

struct TransferArgs {
    std::vector<std::string> paths;
    std::string name;
    bool recursive = false;
    bool update = false;
    bool dry_run = false;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    int connections = 4;
    bool no_resume = false;
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
    if (report.retries) j["retries"] = report.retries;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string rate(std::uint64_t bytes, double secs) {
    if (secs <= 0.0) return "";
    return fmt::format(", {}/s", format_size(static_cast<std::uint64_t>(bytes / secs)));
}

// ---------------------------------------------------------------- upload

std::string_view action_of(const UploadItem& item, bool update) {
    if (item.completed) return "completed";  // by an interrupted run (its journal said so)
    if (item.unchanged) return "unchanged";
    return !item.exists ? "upload" : update ? "replace" : "conflict";
}

// "; 3 unchanged" for the summary lines.
std::string unchanged_text(const UploadPlan& plan) {
    std::size_t n = plan.unchanged();
    if (!n) return "";
    return fmt::format("; {} unchanged ({}) not sent", n, format_size(plan.unchanged_bytes()));
}

// The local hash cache's use, for -v.
void trace_cache(Context& ctx, const HashCache& cache) {
    auto st = cache.stats();
    debug(ctx,
          fmt::format("hash cache: {} hit{}, {} file{} read ({})", st.hits, st.hits == 1 ? "" : "s",
                      st.misses, st.misses == 1 ? "" : "s", format_size(st.bytes_read)));
}

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
        ctx.json_result = nlohmann::json{{"app", *app},
                                         {"files", nlohmann::json::array()},
                                         {"bytes", 0},
                                         {"dry_run", args.dry_run}};
        return {};
    }
    const std::uint64_t total = plan->bytes();
    if (args.dry_run) {
        Table table({"LOCAL", "REMOTE", "SIZE", "ACTION"});
        table.align(2, Table::Align::right);
        for (const auto& item : files)
            table.add_row({item.local, "/" + item.remote,
                           ctx.stdout_tty ? format_size(item.size) : std::to_string(item.size),
                           std::string(action_of(item, args.update))});
        print_table(ctx, table);
    }
    if (auto st = check_upload(*plan, args.update); !st) return st;
    if (args.dry_run) {
        nlohmann::json listed = nlohmann::json::array();
        for (const auto& item : files)
            listed.push_back({{"local", item.local},
                              {"remote", item.remote},
                              {"size", item.size},
                              {"action", action_of(item, args.update)}});
        ctx.json_result = nlohmann::json{{"app", *app},
                                         {"dry_run", true},
                                         {"files", std::move(listed)},
                                         {"bytes", total},
                                         {"unchanged", plan->unchanged()}};
        note(ctx, fmt::format("Dry run: would upload {} file{} ({}){}; nothing was sent",
                              plan->to_send(), plan->to_send() == 1 ? "" : "s", format_size(total),
                              unchanged_text(*plan)));
        return {};
    }

    auto start = std::chrono::steady_clock::now();
    nlohmann::json done = nlohmann::json::array();
    UploadSendOptions options;
    options.cache = &cache;
    options.overwrite = args.update;
    options.connections = args.connections;
    options.resume = !args.no_resume;
    options.progress = make_progress(ctx);
    options.notice = [&ctx](std::string_view message) { note(ctx, message); };
    options.trace = [&ctx](std::string_view line) { debug(ctx, line); };
    // Entries are only printed with --json; without it none is kept.
    options.on_file = [&ctx, &done](Entry&& entry, const TransferReport& report) {
        if (!ctx.global.json) return;
        auto j = entry_json(entry);
        if (report.resumed) add_report(j, report);
        done.push_back(std::move(j));
    };
    auto sent = send_upload(*client, *plan, options);
    if (!sent) return std::unexpected(explain(sent.error(), *app));
    double secs = seconds_since(start);
    ctx.json_result = nlohmann::json{{"app", *app},
                                     {"files", std::move(done)},
                                     {"bytes", sent->bytes},
                                     {"unchanged", sent->unchanged},
                                     {"seconds", secs}};
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
    if (args.dry_run) {
        Table table({"REMOTE", "LOCAL", "SIZE", "ACTION"});
        table.align(2, Table::Align::right);
        nlohmann::json listed = nlohmann::json::array();
        std::error_code exists_ec;
        for (const auto& item : plan->items) {
            if (item.is_dir) continue;
            const bool exists = fs::exists(item.local, exists_ec);
            std::string action = !exists       ? "would download"
                                 : args.update ? "would replace"
                                               : "conflict";
            table.add_row({"/" + item.remote, item.local.string(),
                           ctx.stdout_tty ? format_size(item.size) : std::to_string(item.size),
                           action});
            listed.push_back({{"local", item.local.string()},
                              {"path", item.remote},
                              {"size", item.size},
                              {"action", action}});
        }
        print_table(ctx, table);
        if (auto st = check_download(*plan, args.update); !st) return st;
        ctx.json_result = nlohmann::json{{"app", *app},
                                         {"dry_run", true},
                                         {"files", std::move(listed)},
                                         {"bytes", plan->bytes()}};
        note(ctx, fmt::format("Dry run: would download {} file{} ({}) to '{}'; nothing was written",
                              plan->files(), plan->files() == 1 ? "" : "s",
                              format_size(plan->bytes()), local_arg));
        return {};
    }
    if (auto st = check_download(*plan, args.update); !st) return st;

    auto start = std::chrono::steady_clock::now();
    nlohmann::json done = nlohmann::json::array();
    DownloadSendOptions options;
    options.overwrite = args.update;
    options.connections = args.connections;
    options.progress = make_progress(ctx);
    options.notice = [&ctx](std::string_view message) { note(ctx, message); };
    options.trace = [&ctx](std::string_view line) { debug(ctx, line); };
    options.on_file = [&done](const DownloadItem& item, const Entry& entry) {
        done.push_back(
            {{"remote", item.remote}, {"local", item.local.string()}, {"size", entry.size}});
    };
    auto got = send_download(*client, *plan, options);
    if (!got) return std::unexpected(explain(got.error(), *app));
    double secs = seconds_since(start);
    ctx.json_result = nlohmann::json{
        {"app", *app}, {"files", std::move(done)}, {"bytes", got->bytes}, {"seconds", secs}};
    add_report(*ctx.json_result, got->report);
    note(ctx, fmt::format("Downloaded {} file{} ({}) to '{}' in {:.1f} s{}", got->files,
                          got->files == 1 ? "" : "s", format_size(got->bytes), local_arg, secs,
                          rate(got->bytes, secs)));
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
    upload->add_flag("--update", up->update, "Replace remote files that exist (default: refuse)")
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
    upload->add_flag("--follow-symlinks", up->follow_symlinks,
                     "Follow symlinks inside folders (default: skip them with a warning)");
    upload->footer(
        "Checks every target and the quota before the first byte: files the server already\n"
        "holds with the same size and SHA-256 are unchanged and not sent; other existing\n"
        "files are refused without --update (exit 5), and a lack of room says how much is\n"
        "missing (exit 6). Local hashes are cached in $XDG_CACHE_HOME/de-cli.\n"
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
    download->add_flag("--update", down->update, "Replace local files that exist (default: refuse)")
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
        "Globs match paths relative to each folder downloaded.\n\n"
        "Examples:\n"
        "  $ de-cli download /data/sales.parquet -n sales-dashboard\n"
        "  $ de-cli download -r /data ./backup -n sales-dashboard\n"
        "  $ de-cli download -r /data ./backup --include '*.csv' --dry-run");
    on_run(download, ctx, [&ctx, down] { return run_download(ctx, *down); });
}

}  // namespace de::cli

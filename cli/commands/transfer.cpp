// upload and download. Both build the whole plan of (local, remote) pairs and
// check it — missing sources, folders without -r, files that would be
// overwritten, room in the mount or on the local disk — before the first byte
// moves, so a refused transfer changes nothing. The transfers themselves are
// libde's Client::upload/download (streamed, digest-checked, atomic per file);
// the server's If-None-Match still guards against a file appearing between the
// check and the upload.
//
// Issue 4: big files go up as resumable uploads in parallel parts (libde picks
// that by size; --connections, --no-resume) and say when they resume; several
// files smaller than k_batch_below go up together through Client::upload_batch
// (a tar body per request) instead of a round trip each.
//
// Test-only tuning, read from the environment here (documented in
// tests/integration/test_upload_resume.sh), so tests can use small files:
//   DE_CLI_RESUMABLE_THRESHOLD=SIZE  files of at least SIZE use resumable uploads
//   DE_CLI_PART_SIZE=SIZE            the part size of resumable uploads
#include "commands.hpp"
#include "context.hpp"
#include "helpers.hpp"
#include "output.hpp"

#include <de/glob.hpp>
#include <de/json.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <unordered_map>

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
};

// Files below this size go up in batches when several files are uploaded.
constexpr std::uint64_t k_batch_below = 1 << 20;
constexpr int k_max_connections = 16;

Status check_connections(int n) {
    if (n < 1 || n > k_max_connections)
        return fail(ErrorKind::usage, fmt::format("--connections must be between 1 and {} (got {})",
                                                  k_max_connections, n));
    return {};
}

// TEST-ONLY knobs (see the top of this file); unset or malformed: the default.
std::optional<std::uint64_t> size_from_env(const char* name) {
    const char* text = std::getenv(name);
    if (!text || !*text) return std::nullopt;
    auto size = parse_size(text);
    if (!size) return std::nullopt;
    return *size;
}

// What a resumed transfer adds to the JSON result.
void add_report(nlohmann::json& j, const TransferReport& report) {
    j["resumed"] = report.resumed;
    j["resumed_bytes"] = report.resumed_bytes;
    if (report.retries) j["retries"] = report.retries;
}

struct PlanItem {
    std::string local;  // not a fs::path: that keeps a second allocation of components
    std::string remote;
    std::uint64_t size = 0;
    bool exists = false;  // the target exists (replaced with --update, refused without)
    std::uint64_t existing_size = 0;
    std::int64_t mtime_ns = 0;
};

// Size and mtime with one stat(); 0/0 when it fails (the upload then reports the file).
std::pair<std::uint64_t, std::int64_t> size_and_mtime(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {0, 0};
    return {static_cast<std::uint64_t>(st.st_size),
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::string list_some(const std::vector<std::string>& names, std::size_t max = 5) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < max; ++i) {
        if (i) out += ", ";
        out += names[i];
    }
    if (names.size() > max) out += fmt::format(" and {} more", names.size() - max);
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string rate(std::uint64_t bytes, double secs) {
    if (secs <= 0.0) return "";
    return fmt::format(", {}/s", format_size(static_cast<std::uint64_t>(bytes / secs)));
}

bool ends_with_slash(std::string_view s) {
    return !s.empty() && s.back() == '/';
}

// Several files share one bar over all their bytes, labelled with the current
// file, instead of drawing (and leaving) one line per file.
struct OverallProgress {
    ProgressFn bar;
    std::uint64_t total = 0;
    std::size_t files = 0;
    std::size_t index = 0;
    std::uint64_t base = 0;  // bytes of the files before the current one
    bool started = false;

    ProgressFn for_current_file() {
        if (!bar) return {};
        if (files == 1) return bar;
        return [this](const ProgressEvent& e) {
            std::string label = fmt::format("[{}/{}] {}", index + 1, files, e.name);
            auto phase = ProgressEvent::Phase::advance;
            if (!started) {
                phase = ProgressEvent::Phase::start;
                started = true;
            }
            bar({phase, label, base + e.done, total});
        };
    }
    void next_file(std::uint64_t size) {
        ++index;
        base += size;
    }
    void finish(std::string_view label) {
        if (bar && files > 1 && started) bar({ProgressEvent::Phase::finish, label, base, total});
    }
};

// ---------------------------------------------------------------- upload

// Local side of the plan: expands folders (-r) and applies the filters.
// Remote names are filled in relative to remote_dir; single_target is set when
// the one source is a file whose remote name still depends on whether the
// remote path is a folder.
Status plan_local(Context& ctx, const TransferArgs& args, const std::string& app,
                  const std::string& remote_dir, std::vector<PlanItem>& plan,
                  std::vector<std::string>& dirs) {
    PathFilter filter(args.include, args.exclude);
    const auto sources = std::span(args.paths).first(args.paths.size() - 1);
    for (const auto& source : sources) {
        std::error_code ec;
        fs::path local(source);
        auto status = fs::status(local, ec);
        if (ec || !fs::exists(status)) {
            return fail(
                ErrorKind::not_found,
                fmt::format("local file '{}' does not exist; nothing was uploaded", source));
        }
        if (fs::is_directory(status)) {
            if (!args.recursive)
                return fail(ErrorKind::usage,
                            fmt::format("'{}' is a folder: pass -r to upload it and everything in "
                                        "it; nothing was uploaded",
                                        source));
            // rsync's convention: "dir/" uploads the folder's contents, "dir" the folder itself.
            std::string base = remote_dir;
            if (!ends_with_slash(source)) {
                auto name = fs::absolute(local).lexically_normal().filename().string();
                if (name.empty())
                    name = fs::absolute(local).lexically_normal().parent_path().filename().string();
                base = join_path(remote_dir, name);
            }
            fs::recursive_directory_iterator it(local, ec), end;
            if (ec)
                return fail(ErrorKind::generic,
                            fmt::format("cannot read folder '{}': {}", source, ec.message()));
            for (; it != end; it.increment(ec)) {
                if (ec)
                    return fail(ErrorKind::generic,
                                fmt::format("cannot read folder '{}': {}", source, ec.message()));
                if (interrupt_requested()) return fail(ErrorKind::interrupted, "interrupted");
                const auto& entry = *it;
                std::string rel = entry.path().lexically_relative(local).generic_string();
                if (entry.is_symlink(ec) && entry.is_directory(ec)) {
                    warn(ctx, fmt::format("skipping '{}': a symbolic link to a folder",
                                          entry.path().string()));
                    continue;
                }
                if (entry.is_directory(ec)) {
                    if (!filter.enters_dir(rel)) {
                        it.disable_recursion_pending();
                    } else if (args.include.empty()) {
                        // Kept so that empty folders arrive too (with includes,
                        // folders are only walked through, as sync does).
                        auto dir = remote_path_arg(join_path(base, rel), app);
                        if (!dir) return std::unexpected(dir.error());
                        dirs.push_back(*dir);
                    }
                    continue;
                }
                if (!entry.is_regular_file(ec)) {
                    warn(ctx,
                         fmt::format("skipping '{}': not a regular file", entry.path().string()));
                    continue;
                }
                if (!filter.accepts_file(rel)) continue;
                auto remote = remote_path_arg(join_path(base, rel), app);
                if (!remote) return std::unexpected(remote.error());
                auto [size, mtime] = size_and_mtime(entry.path());
                plan.push_back({entry.path().string(), *remote, size, false, 0, mtime});
            }
            continue;
        }
        if (!fs::is_regular_file(status))
            return fail(ErrorKind::usage,
                        fmt::format("'{}' is not a regular file or folder", source));
        if (!filter.accepts_file(local.filename().string())) continue;
        auto remote = remote_path_arg(join_path(remote_dir, local.filename().string()), app);
        if (!remote) return std::unexpected(remote.error());
        auto [size, mtime] = size_and_mtime(local);
        plan.push_back({local.string(), *remote, size, false, 0, mtime});
    }
    return {};
}

// Marks which targets exist. Few files: one HEAD each; many: one streamed
// manifest of their common folder.
Status mark_existing(Client& client, const std::string& app, std::vector<PlanItem>& plan) {
    if (plan.size() <= 32) {
        for (auto& item : plan) {
            auto st = client.stat(app, item.remote);
            if (st) {
                if (st->type == EntryType::dir)
                    return fail(ErrorKind::conflict,
                                fmt::format("{} is a folder; cannot upload '{}' over it",
                                            remote_display(app, item.remote), item.local));
                item.exists = true;
                item.existing_size = st->size;
            } else if (st.error().kind == ErrorKind::conflict) {
                return fail(ErrorKind::conflict,
                            fmt::format("{} is a folder (or lies under a file); cannot upload "
                                        "'{}' there",
                                        remote_display(app, item.remote), item.local));
            } else if (st.error().kind != ErrorKind::not_found) {
                return std::unexpected(explain(st.error(), app));
            }
        }
        return {};
    }
    std::string common = std::string(parent_path(plan.front().remote));
    for (const auto& item : plan) {
        while (!common.empty() && !(item.remote.starts_with(common + "/")))
            common = std::string(parent_path(common));
    }
    std::unordered_map<std::string_view, PlanItem*> by_path;  // views of plan's strings
    for (auto& item : plan)
        by_path[item.remote] = &item;
    std::string folder_hit;
    auto st = client.manifest(app, common, false, [&](const Entry& e) -> Status {
        if (auto it = by_path.find(e.path); it != by_path.end()) {
            if (e.type == EntryType::dir) folder_hit = e.path;
            it->second->exists = true;
            it->second->existing_size = e.size;
        }
        return {};
    });
    if (!st && st.error().kind != ErrorKind::not_found)
        return std::unexpected(explain(st.error(), app));
    if (!folder_hit.empty())
        return fail(ErrorKind::conflict, fmt::format("{} is a folder; cannot upload a file over it",
                                                     remote_display(app, folder_hit)));
    return {};
}

Status run_upload(Context& ctx, const TransferArgs& args) {
    if (args.paths.size() < 2)
        return fail(ErrorKind::usage,
                    "upload needs at least one local file and the remote destination: "
                    "de-cli upload LOCAL... REMOTE");
    if (auto st = check_connections(args.connections); !st) return st;
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    const std::string& remote_arg = args.paths.back();
    auto remote_base = remote_path_arg(remote_arg, *app);
    if (!remote_base) return std::unexpected(remote_base.error());

    // A single file to a remote name that is not clearly a folder may be a rename.
    const bool single_file = args.paths.size() == 2 && fs::is_regular_file(args.paths.front());
    const bool remote_is_dir_hint = ends_with_slash(remote_arg) || remote_base->empty();

    std::vector<PlanItem> plan;
    std::vector<std::string> dirs;
    if (auto st = plan_local(ctx, args, *app, *remote_base, plan, dirs); !st) return st;

    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto mount = client->mount_status(*app);
    if (!mount) return std::unexpected(explain(mount.error(), *app));
    if (!mount->enabled)
        return fail(ErrorKind::conflict,
                    fmt::format("the persistent filesystem of '{}' is off; turn it on with "
                                "`de-cli mount enable -n {}`; nothing was uploaded",
                                *app, *app));

    if (single_file && !remote_is_dir_hint && plan.size() == 1) {
        // "upload a.csv data" puts a.csv into data/ when data is a folder, else names it data.
        auto listing = client->list(*app, *remote_base, ListOptions{});
        if (!listing) {
            auto kind = listing.error().kind;
            if (kind != ErrorKind::not_found && kind != ErrorKind::conflict)
                return std::unexpected(explain(listing.error(), *app));
            plan.front().remote = *remote_base;
        }
    }
    if (plan.empty() && dirs.empty()) {
        note(ctx, "Nothing to upload: no file matched");
        ctx.json_result = nlohmann::json{{"app", *app},
                                         {"files", nlohmann::json::array()},
                                         {"bytes", 0},
                                         {"dry_run", args.dry_run}};
        return {};
    }
    // Two sources mapping to one remote name would silently keep only one.
    {
        std::set<std::string_view> seen;
        for (const auto& item : plan)
            if (!seen.insert(item.remote).second)
                return fail(ErrorKind::usage,
                            fmt::format("two local files would both become {}; upload them "
                                        "separately",
                                        remote_display(*app, item.remote)));
    }

    if (auto st = mark_existing(*client, *app, plan); !st) return st;
    std::uint64_t total = 0, replaced = 0;
    std::vector<std::string> conflicts;
    for (const auto& item : plan) {
        total += item.size;
        if (item.exists) {
            replaced += item.existing_size;
            conflicts.push_back(remote_display(*app, item.remote));
        }
    }

    auto plan_json = [&] {
        nlohmann::json files = nlohmann::json::array();
        for (const auto& item : plan)
            files.push_back({{"local", item.local},
                             {"remote", item.remote},
                             {"size", item.size},
                             {"action", !item.exists  ? "upload"
                                        : args.update ? "replace"
                                                      : "conflict"}});
        return files;
    };
    if (args.dry_run) {
        Table table({"LOCAL", "REMOTE", "SIZE", "ACTION"});
        table.align(2, Table::Align::right);
        for (const auto& item : plan)
            table.add_row({item.local, "/" + item.remote,
                           ctx.stdout_tty ? format_size(item.size) : std::to_string(item.size),
                           !item.exists  ? "upload"
                           : args.update ? "replace"
                                         : "conflict"});
        print_table(ctx, table);
    }

    if (!conflicts.empty() && !args.update)
        return fail(ErrorKind::conflict,
                    fmt::format("{} of {} file{} exist{} already: {}; pass --update to replace "
                                "them; nothing was uploaded",
                                conflicts.size(), plan.size(), plan.size() == 1 ? "" : "s",
                                conflicts.size() == 1 ? "s" : "", list_some(conflicts)));
    std::uint64_t needed = total > replaced ? total - replaced : 0;
    std::uint64_t free_bytes =
        mount->quota_bytes > mount->used_bytes ? mount->quota_bytes - mount->used_bytes : 0;
    if (needed > free_bytes)
        return fail(ErrorKind::quota,
                    fmt::format("not enough room in the persistent filesystem of '{}': the upload "
                                "needs {} but only {} is free ({}); {} missing. Free space with "
                                "`de-cli rm` or upload less; nothing was uploaded",
                                *app, format_size(needed), format_size(free_bytes),
                                format_usage(mount->used_bytes, mount->quota_bytes),
                                format_size(needed - free_bytes)));

    if (args.dry_run) {
        ctx.json_result = nlohmann::json{
            {"app", *app}, {"dry_run", true}, {"files", plan_json()}, {"bytes", total}};
        note(ctx, fmt::format("Dry run: would upload {} file{} ({}); nothing was sent", plan.size(),
                              plan.size() == 1 ? "" : "s", format_size(total)));
        return {};
    }

    auto start = std::chrono::steady_clock::now();
    OverallProgress progress{make_progress(ctx), total, plan.size()};
    nlohmann::json done = nlohmann::json::array();
    std::uint64_t bytes = 0;
    std::size_t sent_files = 0;
    TransferReport overall;

    // Several files: the small ones together in batches, first.
    std::vector<std::size_t> singles;
    std::vector<std::size_t> batched;
    for (std::size_t i = 0; i < plan.size(); ++i)
        (plan.size() > 1 && plan[i].size < k_batch_below ? batched : singles).push_back(i);
    if (batched.size() == 1) {  // nothing to gain from a batch of one
        singles.push_back(batched.front());
        std::sort(singles.begin(), singles.end());
        batched.clear();
    }
    if (!batched.empty()) {
        std::vector<BatchItem> items;
        items.reserve(batched.size());
        std::uint64_t batch_bytes = 0;
        for (std::size_t i : batched) {
            BatchItem item;
            item.local = plan[i].local;
            item.remote = plan[i].remote;
            item.size = plan[i].size;
            item.mtime_ns = plan[i].mtime_ns;
            batch_bytes += item.size;
            items.push_back(std::move(item));
        }
        BatchOptions options;
        options.overwrite = args.update;
        if (progress.bar) {
            options.progress = [&](const ProgressEvent& e) {
                std::string label = fmt::format("{} small files", items.size());
                auto phase =
                    progress.started ? ProgressEvent::Phase::advance : ProgressEvent::Phase::start;
                progress.started = true;
                progress.bar({phase, label, progress.base + e.done, total});
            };
        }
        // The entries are only printed with --json; without it none is kept.
        options.on_entry = [&](Entry&& entry) {
            if (ctx.global.json) done.push_back(entry_json(entry));
        };
        auto result = client->upload_batch(*app, items, options);
        if (!result && result.error().http_status == 404) {
            // A server from before batch uploads (the app exists: its mount
            // answered above): one request per file after all.
            debug(ctx, "the server has no batch upload; sending small files one by one");
            singles.insert(singles.end(), batched.begin(), batched.end());
            std::sort(singles.begin(), singles.end());
        } else if (!result) {
            Error e = explain(result.error(), *app);
            e.message = fmt::format("uploading {} small files failed: {}", items.size(), e.message);
            return std::unexpected(e);
        } else {
            bytes += batch_bytes;
            sent_files += items.size();
            progress.index += items.size();
            progress.base += batch_bytes;
        }
    }

    for (std::size_t i : singles) {
        const auto& item = plan[i];
        if (interrupt_requested())
            return fail(ErrorKind::interrupted,
                        fmt::format("interrupted after {} of {} files", sent_files, plan.size()));
        UploadOptions options;
        options.overwrite = args.update;
        options.progress = progress.for_current_file();
        options.connections = args.connections;
        options.resume = !args.no_resume;
        options.notice = [&ctx](std::string_view message) { note(ctx, message); };
        if (auto threshold = size_from_env("DE_CLI_RESUMABLE_THRESHOLD"))
            options.resumable_threshold = *threshold;
        if (auto part = size_from_env("DE_CLI_PART_SIZE")) options.part_size = *part;
        TransferReport report;
        auto entry = client->upload(*app, item.local, item.remote, options, &report);
        overall.retries += report.retries;
        if (!entry) {
            Error e = explain(entry.error(), *app);
            e.message = fmt::format(
                "uploading '{}' to {} failed{}: {}", item.local, remote_display(*app, item.remote),
                sent_files ? fmt::format(" after {} of {} files", sent_files, plan.size()) : "",
                e.message);
            return std::unexpected(e);
        }
        debug(ctx, fmt::format("{} -> {}", item.local, remote_display(*app, item.remote)));
        bytes += item.size;
        ++sent_files;
        progress.next_file(item.size);
        auto j = entry_json(*entry);
        if (report.resumed) {
            add_report(j, report);
            overall.resumed = true;
            overall.resumed_bytes += report.resumed_bytes;
        }
        done.push_back(std::move(j));
    }
    progress.finish(fmt::format("{} files", plan.size()));
    // Folders that received no file (empty ones) are created explicitly.
    std::set<std::string> filled;
    for (const auto& item : plan)
        for (auto dir = parent_path(item.remote); !dir.empty(); dir = parent_path(dir))
            if (!filled.insert(std::string(dir)).second) break;
    for (const auto& dir : dirs) {
        if (filled.contains(dir)) continue;
        auto made = client->mkdir(*app, dir, true);
        if (!made) return std::unexpected(explain(made.error(), *app));
        filled.insert(dir);
    }
    double secs = seconds_since(start);
    ctx.json_result = nlohmann::json{
        {"app", *app}, {"files", std::move(done)}, {"bytes", bytes}, {"seconds", secs}};
    add_report(*ctx.json_result, overall);
    note(ctx, fmt::format("Uploaded {} file{} ({}) to {} in {:.1f} s{}", plan.size(),
                          plan.size() == 1 ? "" : "s", format_size(bytes),
                          plan.size() == 1 ? remote_display(*app, plan.front().remote)
                                           : remote_display(*app, *remote_base),
                          secs, rate(bytes, secs)));
    return {};
}

// -------------------------------------------------------------- download

struct DownloadItem {
    std::string remote;
    fs::path local;
    std::uint64_t size = 0;
    bool is_dir = false;
};

Status run_download(Context& ctx, const TransferArgs& args) {
    if (args.paths.size() < 2)
        return fail(ErrorKind::usage,
                    "download needs at least one remote path and the local destination: "
                    "de-cli download REMOTE... LOCAL");
    if (auto st = check_connections(args.connections); !st) return st;
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    const std::string local_arg = args.paths.back();
    fs::path local_target(local_arg);
    std::error_code ec;
    const bool local_is_dir = fs::is_directory(local_target, ec) || ends_with_slash(local_arg);
    const std::size_t n_sources = args.paths.size() - 1;

    std::vector<std::string> sources;
    for (std::size_t i = 0; i < n_sources; ++i) {
        auto p = remote_path_arg(args.paths[i], *app);
        if (!p) return std::unexpected(p.error());
        sources.push_back(*p);
    }
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());

    std::vector<DownloadItem> plan;
    for (const auto& src : sources) {
        bool is_dir = src.empty();
        std::uint64_t size = 0;
        if (!is_dir) {
            auto st = client->stat(*app, src);
            if (st) {
                is_dir = st->type == EntryType::dir;
                size = st->size;
            } else if (st.error().kind == ErrorKind::conflict &&
                       st.error().api_kind != "mount_disabled") {
                is_dir = true;  // GET/HEAD on a folder is 409
            } else {
                Error e = explain(st.error(), *app);
                if (e.kind == ErrorKind::not_found &&
                    e.message.find("apps list") == std::string::npos)
                    e.message =
                        fmt::format("{} does not exist ({})", remote_display(*app, src), e.message);
                return std::unexpected(e);
            }
        }
        if (!is_dir) {
            fs::path dest = (local_is_dir || n_sources > 1)
                                ? local_target / std::string(base_name(src))
                                : local_target;
            plan.push_back({src, dest, size, false});
            continue;
        }
        if (!args.recursive)
            return fail(ErrorKind::usage,
                        fmt::format("{} is a folder: pass -r to download it and everything in it",
                                    remote_display(*app, src)));
        fs::path dest_root = local_target;
        if ((local_is_dir || n_sources > 1) && !src.empty())
            dest_root = local_target / std::string(base_name(src));
        plan.push_back({src, dest_root, 0, true});
        std::string prefix = src.empty() ? "" : src + "/";
        auto st = client->manifest(*app, src, false, [&](const Entry& e) -> Status {
            // Never trust a name from the wire with the local filesystem.
            auto checked = normalize_remote_path(e.path);
            if (!checked || *checked != e.path || !e.path.starts_with(prefix) ||
                e.path.size() == prefix.size())
                return fail(ErrorKind::generic,
                            fmt::format("the server listed an unexpected path '{}' under {}; "
                                        "refusing to download it",
                                        e.path, remote_display(*app, src)));
            fs::path dest = dest_root / e.path.substr(prefix.size());
            plan.push_back({e.path, dest, e.size, e.type == EntryType::dir});
            return {};
        });
        if (!st) return std::unexpected(explain(st.error(), *app));
    }

    // Refuse before the first byte: existing local files, and room on the local disk.
    std::vector<std::string> conflicts;
    std::uint64_t total = 0;
    for (const auto& item : plan) {
        if (item.is_dir) {
            if (fs::exists(item.local, ec) && !fs::is_directory(item.local, ec))
                return fail(ErrorKind::conflict,
                            fmt::format("'{}' is a file, but {} is a folder", item.local.string(),
                                        remote_display(*app, item.remote)));
            continue;
        }
        total += item.size;
        if (fs::is_directory(item.local, ec))
            return fail(ErrorKind::conflict,
                        fmt::format("'{}' is a folder; cannot download {} over it",
                                    item.local.string(), remote_display(*app, item.remote)));
        if (fs::exists(item.local, ec)) conflicts.push_back(item.local.string());
    }
    if (!conflicts.empty() && !args.update)
        return fail(ErrorKind::conflict,
                    fmt::format("{} local file{} exist{} already: {}; pass --update to replace "
                                "them; nothing was downloaded",
                                conflicts.size(), conflicts.size() == 1 ? "" : "s",
                                conflicts.size() == 1 ? "s" : "", list_some(conflicts)));
    {
        fs::path probe = fs::absolute(local_target, ec);
        while (!probe.empty() && !fs::exists(probe, ec) && probe != probe.root_path())
            probe = probe.parent_path();
        auto space = fs::space(probe, ec);
        if (!ec && total > space.available)
            return fail(
                ErrorKind::quota,
                fmt::format("not enough room on the local disk at '{}': the download "
                            "needs {} but {} is free; nothing was downloaded",
                            probe.string(), format_size(total), format_size(space.available)));
    }

    auto start = std::chrono::steady_clock::now();
    std::size_t file_items = 0;
    for (const auto& item : plan)
        file_items += !item.is_dir;
    OverallProgress progress{make_progress(ctx), total, file_items};
    nlohmann::json done = nlohmann::json::array();
    std::uint64_t bytes = 0;
    std::size_t files = 0;
    TransferReport overall;
    for (const auto& item : plan) {
        if (interrupt_requested())
            return fail(ErrorKind::interrupted, fmt::format("interrupted after {} files", files));
        if (item.is_dir) {
            fs::create_directories(item.local, ec);
            if (ec)
                return fail(ErrorKind::generic, fmt::format("cannot create folder '{}': {}",
                                                            item.local.string(), ec.message()));
            continue;
        }
        if (item.local.has_parent_path()) {
            fs::create_directories(item.local.parent_path(), ec);
            if (ec)
                return fail(ErrorKind::generic,
                            fmt::format("cannot create folder '{}': {}",
                                        item.local.parent_path().string(), ec.message()));
        }
        DownloadOptions options;
        options.overwrite = args.update;
        options.progress = progress.for_current_file();
        options.connections = args.connections;
        options.notice = [&ctx](std::string_view message) { note(ctx, message); };
        TransferReport report;
        auto entry = client->download(*app, item.remote, item.local, options, &report);
        overall.retries += report.retries;
        if (report.resumed) {
            overall.resumed = true;
            overall.resumed_bytes += report.resumed_bytes;
        }
        if (!entry) {
            Error e = explain(entry.error(), *app);
            e.message =
                fmt::format("downloading {} to '{}' failed: {}", remote_display(*app, item.remote),
                            item.local.string(), e.message);
            return std::unexpected(e);
        }
        ++files;
        bytes += entry->size;
        progress.next_file(item.size);
        debug(ctx, fmt::format("{} -> {}", remote_display(*app, item.remote), item.local.string()));
        done.push_back(
            {{"remote", item.remote}, {"local", item.local.string()}, {"size", entry->size}});
    }
    progress.finish(fmt::format("{} files", files));
    double secs = seconds_since(start);
    ctx.json_result =
        nlohmann::json{{"app", *app}, {"files", done}, {"bytes", bytes}, {"seconds", secs}};
    add_report(*ctx.json_result, overall);
    note(ctx, fmt::format("Downloaded {} file{} ({}) to '{}' in {:.1f} s{}", files,
                          files == 1 ? "" : "s", format_size(bytes), local_arg, secs,
                          rate(bytes, secs)));
    return {};
}

}  // namespace

void register_transfer(CLI::App& root, Context& ctx) {
    auto up = std::make_shared<TransferArgs>();
    auto* upload = root.add_subcommand("upload", "Upload files or folders into the mount");
    upload
        ->add_option("paths", up->paths,
                     "LOCAL... REMOTE: files (folders with -r), then the "
                     "remote folder or file name")
        ->required()
        ->type_name("PATH");
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
    upload
        ->add_option("--connections", up->connections, "Connections for a big file's parts (1-16)")
        ->type_name("N")
        ->default_val(4);
    upload->add_flag("--no-resume", up->no_resume,
                     "Start big files over instead of resuming an interrupted upload");
    upload->footer(
        "Checks every target and the quota before the first byte: existing files are refused\n"
        "without --update (exit 5), and a lack of room says how much is missing (exit 6).\n"
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
                     "REMOTE... LOCAL: remote files (folders with -r), "
                     "then the local folder or file name")
        ->required()
        ->type_name("PATH");
    add_app_option(download, down->name);
    download->add_flag("-r,--recursive", down->recursive,
                       "Download folders and everything in them");
    download->add_flag("--update", down->update, "Replace local files that exist (default: refuse)")
        ->group(k_group_safety);
    download
        ->add_option("--connections", down->connections,
                     "Connections for a big file's ranges (1-16)")
        ->type_name("N")
        ->default_val(4);
    download->footer(
        "Examples:\n"
        "  $ de-cli download /data/sales.parquet . -n sales-dashboard\n"
        "  $ de-cli download -r /data ./backup -n sales-dashboard");
    on_run(download, ctx, [&ctx, down] { return run_download(ctx, *down); });
}

}  // namespace de::cli

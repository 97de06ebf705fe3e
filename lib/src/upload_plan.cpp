// The upload planner and sender (de/upload_plan.hpp). The local half names
// every target from the sources alone; the server half asks the server once
// per question (mount status, the rename probe, which targets exist); the
// checks refuse before the first byte; the sender applies the send split that
// sync push shares.

#include "local_walk.hpp"
#include "plan_text.hpp"

#include <de/remote_path.hpp>
#include <de/size.hpp>
#include <de/upload_plan.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <span>
#include <unordered_map>

namespace de {

namespace fs = std::filesystem;
using detail::list_some;
using detail::remote_display;

namespace {

bool ends_with_slash(std::string_view s) {
    return !s.empty() && s.back() == '/';
}

// "used 1.0 MiB of 4.0 MiB (25.0%)", as `mount status` puts it.
std::string usage_text(std::uint64_t used, std::uint64_t quota) {
    double pct = quota ? 100.0 * static_cast<double>(used) / static_cast<double>(quota) : 0.0;
    return fmt::format("used {} of {} ({:.1f}%)", format_size(used), format_size(quota), pct);
}

// A folder source: its walk, filtered, as items (and folders) under base.
Status plan_folder(UploadPlan& plan, const UploadRequest& request, const std::string& source,
                   const PathFilter& filter, const WarningFn& on_warning) {
    fs::path local(source);
    // rsync's convention: "dir/" uploads the folder's contents, "dir" the folder itself.
    std::string base = plan.remote_base;
    if (!ends_with_slash(source)) {
        auto abs = fs::absolute(local).lexically_normal();
        auto name = abs.filename().string();
        if (name.empty()) name = abs.parent_path().filename().string();
        base = join_path(plan.remote_base, name);
    }
    WalkOptions options;
    options.follow_symlinks = request.follow_symlinks;
    options.prune = &filter;
    options.on_warning = on_warning;
    // With each file's stat(): its identity (the hash cache's key) comes from
    // the walk, not from a second stat() per file in find_unchanged().
    std::vector<struct stat> stats;
    auto walk = detail::walk_local(local, options, &stats);
    if (!walk) {
        Error e = std::move(walk.error());
        if (e.kind != ErrorKind::interrupted)
            e.message = fmt::format("cannot read folder '{}': {}", source, e.message);
        return std::unexpected(std::move(e));
    }
    for (auto& w : walk->warnings)
        plan.warnings.push_back(std::move(w));
    const std::string prefix = local.string();
    for (std::size_t i = 0; i < walk->entries.size(); ++i) {
        const LocalEntry& entry = walk->entries[i];
        if (entry.type == EntryType::dir) {
            // Kept so that empty folders arrive too (with includes, folders
            // are only walked through, as sync does).
            if (!request.include.empty()) continue;
            auto dir = normalize_remote_arg(join_path(base, entry.path), plan.app);
            if (!dir) return std::unexpected(std::move(dir.error()));
            plan.dirs.push_back(std::move(*dir));
            continue;
        }
        if (!filter.accepts_file(entry.path)) continue;
        auto remote = normalize_remote_arg(join_path(base, entry.path), plan.app);
        if (!remote) return std::unexpected(std::move(remote.error()));
        plan.files.push_back({(fs::path(prefix) / entry.path).string(), std::move(*remote),
                              entry.size, entry.mtime_ns});
        plan.files.back().identity = detail::identity_of(stats[i]);
    }
    return {};
}

// The deepest folder holding every target.
std::string common_folder(const std::vector<UploadItem>& files) {
    std::string common = std::string(parent_path(files.front().remote));
    for (const auto& item : files)
        while (!common.empty() && !(item.remote.starts_with(common + "/")))
            common = std::string(parent_path(common));
    return common;
}

// Marks which targets exist. Few files: one HEAD each; many: one streamed
// manifest of their common folder.
Status mark_existing(Client& client, UploadPlan& plan) {
    const std::string& app = plan.app;
    auto& files = plan.files;
    if (files.size() <= 32) {
        for (auto& item : files) {
            auto st = client.stat(app, item.remote);
            if (st) {
                if (st->type == EntryType::dir)
                    return fail(ErrorKind::conflict,
                                fmt::format("{} is a folder; cannot upload '{}' over it",
                                            remote_display(app, item.remote), item.local));
                item.exists = true;
                item.existing_size = st->size;
                item.existing_mtime_ns = st->mtime_ns;
                item.existing_sha256 = st->sha256;
            } else if (st.error().kind == ErrorKind::conflict) {
                return fail(ErrorKind::conflict,
                            fmt::format("{} is a folder (or lies under a file); cannot upload "
                                        "'{}' there",
                                        remote_display(app, item.remote), item.local));
            } else if (st.error().kind != ErrorKind::not_found) {
                return std::unexpected(std::move(st.error()));
            }
        }
        return {};
    }
    std::string common = common_folder(files);
    std::unordered_map<std::string_view, UploadItem*> by_path;  // views of the plan's strings
    for (auto& item : files)
        by_path[item.remote] = &item;
    std::string folder_hit;
    auto st = client.manifest(app, common, false, [&](const Entry& e) -> Status {
        if (auto it = by_path.find(e.path); it != by_path.end()) {
            if (e.type == EntryType::dir) folder_hit = e.path;
            it->second->exists = true;
            it->second->existing_size = e.size;
            it->second->existing_mtime_ns = e.mtime_ns;
        }
        return {};
    });
    if (!st && st.error().kind != ErrorKind::not_found) return st;
    if (!folder_hit.empty())
        return fail(ErrorKind::conflict, fmt::format("{} is a folder; cannot upload a file over it",
                                                     remote_display(app, folder_hit)));
    return {};
}

// The server's SHA-256 of the targets that may be identical (they exist with
// the local file's size): a HEAD each for a few, else one manifest with hashes.
Status fetch_existing_hashes(Client& client, UploadPlan& plan) {
    std::vector<UploadItem*> wanted;
    for (auto& item : plan.files)
        if (item.exists && !item.completed && item.existing_size == item.size &&
            !item.existing_sha256)
            wanted.push_back(&item);
    if (wanted.empty()) return {};
    if (wanted.size() <= 32) {
        for (UploadItem* item : wanted) {
            auto st = client.stat(plan.app, item->remote);
            if (st)
                item->existing_sha256 = st->sha256;
            else if (st.error().kind != ErrorKind::not_found)
                return std::unexpected(std::move(st.error()));
        }
        return {};
    }
    std::unordered_map<std::string_view, UploadItem*> by_path;
    for (UploadItem* item : wanted)
        by_path[item->remote] = item;
    std::string common = std::string(parent_path(wanted.front()->remote));
    for (const UploadItem* item : wanted)
        while (!common.empty() && !(item->remote.starts_with(common + "/")))
            common = std::string(parent_path(common));
    auto st = client.manifest(plan.app, common, true, [&](const Entry& e) -> Status {
        if (auto it = by_path.find(e.path); it != by_path.end() && e.type == EntryType::file)
            it->second->existing_sha256 = e.sha256;
        return {};
    });
    if (!st && st.error().kind != ErrorKind::not_found) return st;
    return {};
}

// Journal first, then identical files (de/upload_plan.hpp, at the top).
Status find_unchanged(Client& client, UploadPlan& plan, HashCache& cache) {
    const UploadOptions tuned = tuned_upload_options(client);
    for (auto& item : plan.files) {
        if (!item.identity) item.identity = file_identity(item.local);
        if (item.size < tuned.resumable_threshold) continue;
        // Only files that went (or go) the resumable way have a journal.
        auto probe = client.probe_resume(plan.app, item.local, item.remote, tuned,
                                         [&cache, &item]() -> Result<std::string> {
                                             if (item.sha256) return *item.sha256;
                                             auto sha = cache.sha256_of(item.local);
                                             if (sha) item.sha256 = *sha;
                                             return sha;
                                         });
        if (!probe) return std::unexpected(std::move(probe.error()));
        if (probe->state == ResumeProbe::State::completed) {
            item.completed = true;
            item.exists = true;
            item.existing_size = item.size;
            item.existing_sha256 = probe->entry ? probe->entry->sha256 : item.sha256;
        }
    }
    if (auto st = fetch_existing_hashes(client, plan); !st) return st;
    for (auto& item : plan.files) {
        if (item.completed) continue;
        if (item.exists && item.existing_size == item.size && item.existing_sha256) {
            if (!item.sha256) {
                auto sha = cache.sha256_of(item.local);
                if (!sha) {
                    if (sha.error().kind == ErrorKind::interrupted)
                        return std::unexpected(std::move(sha.error()));
                    continue;  // unreadable: the upload says so
                }
                item.sha256 = std::move(*sha);
            }
            if (*item.sha256 == *item.existing_sha256) {
                item.unchanged = true;
                // An interrupted upload of it has nothing left to do.
                if (item.size >= tuned.resumable_threshold)
                    client.discard_resume(plan.app, item.local, item.remote, tuned);
                continue;
            }
        }
        // Files to send: a cached hash spares the client's hashing pass.
        if (!item.sha256 && item.identity) item.sha256 = cache.lookup(*item.identity);
    }
    return {};
}

}  // namespace

std::uint64_t UploadPlan::bytes() const {
    std::uint64_t total = 0;
    for (const auto& item : files)
        if (item.to_send()) total += item.size;
    return total;
}

std::size_t UploadPlan::to_send() const {
    return static_cast<std::size_t>(
        std::count_if(files.begin(), files.end(), [](const auto& f) { return f.to_send(); }));
}

std::size_t UploadPlan::unchanged() const {
    return files.size() - to_send() - kept_newer();
}

std::uint64_t UploadPlan::unchanged_bytes() const {
    std::uint64_t total = 0;
    for (const auto& item : files)
        if (item.unchanged || item.completed) total += item.size;
    return total;
}

std::size_t UploadPlan::kept_newer() const {
    return static_cast<std::size_t>(std::count_if(files.begin(), files.end(), [](const auto& f) {
        return f.kept_newer && !f.unchanged && !f.completed;
    }));
}

std::size_t keep_newer_targets(UploadPlan& plan, bool force) {
    std::size_t kept = 0;
    for (auto& item : plan.files) {
        item.kept_newer =
            !force && item.exists && !item.unchanged && !item.completed && item.newer_target();
        kept += item.kept_newer;
    }
    return kept;
}

std::vector<const UploadItem*> UploadPlan::existing() const {
    std::vector<const UploadItem*> out;
    for (const auto& item : files)
        if (item.exists && item.to_send()) out.push_back(&item);
    return out;
}

Result<UploadPlan> plan_upload_local(std::string_view app, const UploadRequest& request,
                                     const WarningFn& on_warning) {
    UploadPlan plan;
    plan.app = std::string(app);
    auto base = normalize_remote_arg(request.remote, app);
    if (!base) return std::unexpected(std::move(base.error()));
    plan.remote_base = std::move(*base);
    const bool remote_is_dir_hint = ends_with_slash(request.remote) || plan.remote_base.empty();

    PathFilter filter(request.include, request.exclude);
    for (const auto& source : request.sources) {
        std::error_code ec;
        fs::path local(source);
        auto status = fs::status(local, ec);  // a named path is resolved (symlink policy)
        if (ec || !fs::exists(status))
            return fail(
                ErrorKind::not_found,
                fmt::format("local file '{}' does not exist; nothing was uploaded", source));
        if (fs::is_directory(status)) {
            if (!request.recursive)
                return fail(ErrorKind::usage,
                            fmt::format("'{}' is a folder: pass -r to upload it and everything in "
                                        "it; nothing was uploaded",
                                        source));
            if (auto st = plan_folder(plan, request, source, filter, on_warning); !st)
                return std::unexpected(std::move(st.error()));
            continue;
        }
        if (!fs::is_regular_file(status))
            return fail(ErrorKind::usage,
                        fmt::format("'{}' is not a regular file or folder", source));
        std::string name = local.filename().string();
        if (!filter.accepts_file(name)) continue;
        auto remote = normalize_remote_arg(join_path(plan.remote_base, name), app);
        if (!remote) return std::unexpected(std::move(remote.error()));
        std::int64_t mtime_ns = 0;
        std::uint64_t size = fs::file_size(local, ec);
        if (ec) size = 0;  // the upload then reports the file
        if (auto t = fs::last_write_time(local, ec); !ec)
            mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::file_clock::to_sys(t).time_since_epoch())
                           .count();
        plan.files.push_back({local.string(), std::move(*remote), size, mtime_ns});
    }
    // A single file to a remote name that is not clearly a folder may be a rename.
    plan.maybe_rename = request.sources.size() == 1 && plan.files.size() == 1 &&
                        plan.dirs.empty() && !remote_is_dir_hint &&
                        fs::is_regular_file(request.sources.front());
    return plan;
}

Status resolve_upload(Client& client, UploadPlan& plan, HashCache* cache) {
    const std::string& app = plan.app;
    auto mount = client.mount_status(app);
    if (!mount) return std::unexpected(std::move(mount.error()));
    if (!mount->enabled)
        return fail(ErrorKind::conflict,
                    fmt::format("the persistent filesystem of '{}' is off; turn it on with "
                                "`de-cli mount enable -n {}`; nothing was uploaded",
                                app, app));
    plan.mount = *mount;
    if (plan.maybe_rename) {
        // "upload a.csv data" puts a.csv into data/ when data is a folder, else names it data.
        auto listing = client.list(app, plan.remote_base, ListOptions{});
        if (!listing) {
            auto kind = listing.error().kind;
            if (kind != ErrorKind::not_found && kind != ErrorKind::conflict)
                return std::unexpected(std::move(listing.error()));
            plan.files.front().remote = plan.remote_base;
        }
        plan.maybe_rename = false;
    }
    if (plan.files.empty()) return {};
    // Two sources mapping to one remote name would silently keep only one.
    std::set<std::string_view> seen;
    for (const auto& item : plan.files)
        if (!seen.insert(item.remote).second)
            return fail(ErrorKind::usage,
                        fmt::format("two local files would both become {}; upload them "
                                    "separately",
                                    remote_display(app, item.remote)));
    if (auto st = mark_existing(client, plan); !st) return st;
    HashCache none;
    return find_unchanged(client, plan, cache ? *cache : none);
}

Status check_upload(const UploadPlan& plan, bool overwrite) {
    std::uint64_t total = 0, replaced = 0;
    std::vector<std::string> conflicts;
    for (const auto& item : plan.files) {
        if (!item.to_send()) continue;  // costs nothing, conflicts with nothing
        total += item.size;
        if (item.exists) {
            replaced += item.existing_size;
            conflicts.push_back(remote_display(plan.app, item.remote));
        }
    }
    const std::size_t n = plan.files.size();
    if (!conflicts.empty() && !overwrite)
        return fail(ErrorKind::conflict,
                    fmt::format("{} of {} file{} exist{} already with other content: {}; pass "
                                "--update to replace them; nothing was uploaded",
                                conflicts.size(), n, n == 1 ? "" : "s",
                                conflicts.size() == 1 ? "s" : "", list_some(conflicts)));
    const MountStatus& mount = plan.mount;
    std::uint64_t needed = total > replaced ? total - replaced : 0;
    std::uint64_t free_bytes =
        mount.quota_bytes > mount.used_bytes ? mount.quota_bytes - mount.used_bytes : 0;
    if (needed > free_bytes)
        return fail(ErrorKind::quota,
                    fmt::format("not enough room in the persistent filesystem of '{}': the upload "
                                "needs {} but only {} is free ({}); {} missing. Free space with "
                                "`de-cli rm` or upload less; nothing was uploaded",
                                plan.app, format_size(needed), format_size(free_bytes),
                                usage_text(mount.used_bytes, mount.quota_bytes),
                                format_size(needed - free_bytes)));
    return {};
}

SendSplit split_for_send(std::size_t count,
                         const std::function<std::uint64_t(std::size_t)>& size_of,
                         const std::function<bool(std::size_t)>& alone) {
    SendSplit split;
    for (std::size_t i = 0; i < count; ++i) {
        bool small = size_of(i) < k_batch_threshold && !(alone && alone(i));
        (small ? split.batched : split.singles).push_back(i);
    }
    if (split.batched.size() == 1) {  // nothing to gain from a batch of one
        split.singles.push_back(split.batched.front());
        std::sort(split.singles.begin(), split.singles.end());
        split.batched.clear();
    }
    return split;
}

UploadOptions tuned_upload_options(const Client& client, UploadOptions options) {
    if (const auto& hooks = client.options().hooks) {
        if (hooks->resumable_threshold) options.resumable_threshold = *hooks->resumable_threshold;
        if (hooks->part_size) options.part_size = *hooks->part_size;
    }
    return options;
}

Result<UploadSummary> send_upload(Client& client, const UploadPlan& plan,
                                  const UploadSendOptions& options) {
    const std::string& app = plan.app;
    // The files to send (unchanged ones are not), as indices into the plan.
    std::vector<std::size_t> sending;
    sending.reserve(plan.files.size());
    for (std::size_t i = 0; i < plan.files.size(); ++i)
        if (plan.files[i].to_send()) sending.push_back(i);
    struct Files {
        const std::vector<UploadItem>& all;
        const std::vector<std::size_t>& index;
        const UploadItem& operator[](std::size_t k) const { return all[index[k]]; }
        std::size_t size() const { return index.size(); }
    } files{plan.files, sending};
    const std::uint64_t total = plan.bytes();
    FileSetProgress progress(options.progress, total, files.size());
    UploadSummary summary;
    summary.unchanged = plan.unchanged();
    // What the hash cache learns from a committed file: its content's SHA-256,
    // under the identity it had when planned (if it still has it).
    auto learn = [&options](const UploadItem& item, const Entry& entry) {
        if (!options.cache || !entry.sha256 || !item.identity) return;
        if (file_identity(item.local) == item.identity)
            options.cache->store(*item.identity, *entry.sha256);
    };

    // The small files together in batches, first.
    SendSplit split = split_for_send(files.size(), [&](std::size_t i) { return files[i].size; });
    if (!split.batched.empty()) {
        std::vector<BatchItem> items;
        items.reserve(split.batched.size());
        std::uint64_t batch_bytes = 0;
        std::unordered_map<std::string_view, const UploadItem*> by_remote;
        for (std::size_t i : split.batched) {
            const auto& f = files[i];
            items.push_back(BatchItem{f.local, f.remote, f.size, f.mtime_ns, f.sha256});
            batch_bytes += f.size;
            if (options.cache) by_remote[f.remote] = &f;
        }
        BatchOptions batch;
        batch.overwrite = options.overwrite;
        if (progress) {
            const std::string label = fmt::format("{} small files", items.size());
            batch.progress = [&progress, label](const ProgressEvent& e) {
                progress.group(label, e.done);
            };
        }
        // Always set, so that the batch keeps no entries: memory stays flat.
        batch.on_entry = [&options, &by_remote, &learn](Entry&& entry) {
            if (auto it = by_remote.find(entry.path); it != by_remote.end())
                learn(*it->second, entry);
            if (options.on_file) options.on_file(std::move(entry), TransferReport{});
        };
        auto result = client.upload_batch(app, items, batch);
        if (!result && result.error().http_status == 404) {
            // A server from before batch uploads (the app exists: its mount
            // answered): one request per file after all.
            if (options.trace)
                options.trace("the server has no batch upload; sending small files one by one");
            split.singles.insert(split.singles.end(), split.batched.begin(), split.batched.end());
            std::sort(split.singles.begin(), split.singles.end());
        } else if (!result) {
            Error e = std::move(result.error());
            e.message = fmt::format("uploading {} small files failed: {}", items.size(), e.message);
            return std::unexpected(std::move(e));
        } else {
            summary.bytes += batch_bytes;
            summary.files += items.size();
            progress.next(batch_bytes, items.size());
        }
    }

    for (std::size_t i : split.singles) {
        const auto& item = files[i];
        if (interrupt_requested())
            return fail(ErrorKind::interrupted, fmt::format("interrupted after {} of {} files",
                                                            summary.files, files.size()));
        UploadOptions upload = tuned_upload_options(client);
        upload.overwrite = options.overwrite;
        upload.progress = progress.for_current_file();
        upload.connections = options.connections;
        upload.resume = options.resume;
        upload.verify = options.verify;
        upload.notice = options.notice;
        if (options.resumable_threshold) upload.resumable_threshold = *options.resumable_threshold;
        if (options.part_size) upload.part_size = *options.part_size;
        upload.sha256 = item.sha256;  // known (hash cache): no hashing pass
        TransferReport report;
        auto entry = client.upload(app, item.local, item.remote, upload, &report);
        summary.report.retries += report.retries;
        if (!entry) {
            // Its message names the file and app:path already; only the count is ours.
            Error e = std::move(entry.error());
            if (summary.files)
                e.message += fmt::format(" ({} of {} files were uploaded before it)", summary.files,
                                         files.size());
            return std::unexpected(std::move(e));
        }
        if (options.trace)
            options.trace(fmt::format("{} -> {}", item.local, remote_display(app, item.remote)));
        summary.bytes += item.size;
        ++summary.files;
        progress.next(item.size);
        if (report.resumed) {
            summary.report.resumed = true;
            summary.report.resumed_bytes += report.resumed_bytes;
            summary.report.read_bytes += report.read_bytes;
            summary.report.sent_bytes += report.sent_bytes;
        }
        learn(item, *entry);
        if (options.on_file) options.on_file(std::move(*entry), report);
    }
    progress.finish(fmt::format("{} files", files.size()));

    // Folders that received no file (empty ones) are created explicitly.
    std::set<std::string> filled;
    for (const auto& item : plan.files)
        for (auto dir = parent_path(item.remote); !dir.empty(); dir = parent_path(dir))
            if (!filled.insert(std::string(dir)).second) break;
    for (const auto& dir : plan.dirs) {
        if (filled.contains(dir)) continue;
        auto made = client.mkdir(app, dir, true);
        if (!made) return std::unexpected(std::move(made.error()));
        filled.insert(dir);
    }
    return summary;
}

}  // namespace de

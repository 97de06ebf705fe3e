// The download planner and fetcher (de/download_plan.hpp). Planning asks the
// server one question per source (a HEAD, or one streamed manifest for a
// folder) and never trusts a listed name with the local filesystem until it
// is checked to lie beneath the folder asked for; the refusals run on the
// finished plan, so a refused download creates no file; the fetcher reports
// one progress set over every file (FileSetProgress).

#include "plan_text.hpp"

#include <de/download_plan.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>

#include <fmt/format.h>

#include <chrono>

namespace de {

namespace fs = std::filesystem;
using detail::list_some;
using detail::remote_display;

std::uint64_t DownloadPlan::bytes() const {
    std::uint64_t total = 0;
    for (const auto& item : items)
        if (item.to_fetch()) total += item.size;
    return total;
}

std::size_t DownloadPlan::files() const {
    std::size_t n = 0;
    for (const auto& item : items)
        n += item.to_fetch();
    return n;
}

std::size_t DownloadPlan::unchanged() const {
    std::size_t n = 0;
    for (const auto& item : items)
        n += item.unchanged;
    return n;
}

std::size_t DownloadPlan::kept_newer() const {
    std::size_t n = 0;
    for (const auto& item : items)
        n += item.kept_newer;
    return n;
}

std::vector<const DownloadItem*> DownloadPlan::existing() const {
    std::vector<const DownloadItem*> out;
    for (const auto& item : items)
        if (item.local_exists && item.to_fetch()) out.push_back(&item);
    return out;
}

std::size_t keep_newer_local(DownloadPlan& plan, bool force) {
    std::size_t kept = 0;
    for (auto& item : plan.items) {
        item.kept_newer = !force && item.local_exists && !item.unchanged && !item.is_dir &&
                          item.local_mtime_ns > item.mtime_ns;
        kept += item.kept_newer;
    }
    return kept;
}

Status resolve_local(Client& client, DownloadPlan& plan, HashCache* cache) {
    HashCache none;
    HashCache& hashes = cache ? *cache : none;
    std::error_code ec;
    for (auto& item : plan.items) {
        if (item.is_dir) continue;
        auto status = fs::symlink_status(item.local, ec);
        if (ec || !fs::is_regular_file(status)) continue;
        item.local_exists = true;
        auto mtime = fs::last_write_time(item.local, ec);
        if (!ec)
            item.local_mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                                      .count();
        auto size = fs::file_size(item.local, ec);
        if (!ec && size == item.size) {
            if (!item.sha256) {
                auto st = client.stat(plan.app, item.remote);
                if (!st) return std::unexpected(std::move(st.error()));
                item.sha256 = st->sha256;
            }
            if (item.sha256) {
                auto local = hashes.sha256_of(item.local.string());
                if (!local && local.error().kind == ErrorKind::interrupted)
                    return std::unexpected(std::move(local.error()));
                if (local && *local == *item.sha256) {
                    item.unchanged = true;
                    continue;
                }
            }
        }
    }
    return {};
}

Result<DownloadPlan> plan_download(Client& client, std::string_view app,
                                   const DownloadRequest& request) {
    DownloadPlan plan;
    plan.app = std::string(app);
    plan.local = request.local;
    const bool into = request.local_is_dir || request.sources.size() > 1;
    for (const auto& src : request.sources) {
        bool is_dir = src.empty();
        std::uint64_t size = 0;
        std::int64_t mtime_ns = 0;
        std::optional<std::string> sha256;
        if (!is_dir) {
            auto st = client.stat(app, src);
            if (st) {
                is_dir = st->type == EntryType::dir;
                size = st->size;
                mtime_ns = st->mtime_ns;
                sha256 = st->sha256;
            } else if (st.error().kind == ErrorKind::conflict &&
                       st.error().api_kind != "mount_disabled") {
                is_dir = true;  // GET/HEAD on a folder is 409
            } else {
                Error e = std::move(st.error());
                const bool no_app =
                    e.api_kind == "app_not_found" ||
                    e.message.find(fmt::format("app '{}' not found", app)) != std::string::npos;
                if (e.kind == ErrorKind::not_found && !no_app)
                    e.message = fmt::format("{} does not exist", remote_display(app, src));
                return std::unexpected(std::move(e));
            }
        }
        if (!is_dir) {
            fs::path dest = into ? request.local / std::string(base_name(src)) : request.local;
            DownloadItem item{src, dest, size, false};
            item.mtime_ns = mtime_ns;
            item.sha256 = std::move(sha256);
            plan.items.push_back(std::move(item));
            continue;
        }
        if (!request.recursive)
            return fail(ErrorKind::usage,
                        fmt::format("{} is a folder: pass -r to download it and everything in it",
                                    remote_display(app, src)));
        fs::path dest_root = request.local;
        if (into && !src.empty()) dest_root = request.local / std::string(base_name(src));
        plan.items.push_back({src, dest_root, 0, true});
        std::string prefix = src.empty() ? "" : src + "/";
        auto st = client.manifest(app, src, false, [&](const Entry& e) -> Status {
            // Never trust a name from the wire with the local filesystem.
            auto checked = normalize_remote_path(e.path);
            if (!checked || *checked != e.path || !e.path.starts_with(prefix) ||
                e.path.size() == prefix.size())
                return fail(ErrorKind::generic,
                            fmt::format("the server listed an unexpected path '{}' under {}; "
                                        "refusing to download it",
                                        e.path, remote_display(app, src)));
            const std::string rel = e.path.substr(prefix.size());
            if (!request.filter.empty()) {
                for (auto slash = rel.find('/'); slash != std::string::npos;
                     slash = rel.find('/', slash + 1))
                    if (!request.filter.enters_dir(rel.substr(0, slash))) return {};
                const bool entry_is_dir = e.type == EntryType::dir;
                if (entry_is_dir ? !request.filter.enters_dir(rel)
                                 : !request.filter.accepts_file(rel))
                    return {};
            }
            fs::path dest = dest_root / rel;
            DownloadItem item{e.path, dest, e.size, e.type == EntryType::dir};
            item.mtime_ns = e.mtime_ns;
            item.sha256 = e.sha256;
            plan.items.push_back(std::move(item));
            return {};
        });
        if (!st) return std::unexpected(std::move(st.error()));
    }
    return plan;
}

Status check_download(const DownloadPlan& plan, bool overwrite) {
    std::error_code ec;
    std::vector<std::string> conflicts;
    for (const auto& item : plan.items) {
        if (item.is_dir) {
            if (fs::exists(item.local, ec) && !fs::is_directory(item.local, ec))
                return fail(ErrorKind::conflict,
                            fmt::format("'{}' is a file, but {} is a folder", item.local.string(),
                                        remote_display(plan.app, item.remote)));
            continue;
        }
        if (fs::is_directory(item.local, ec))
            return fail(ErrorKind::conflict,
                        fmt::format("'{}' is a folder; cannot download {} over it",
                                    item.local.string(), remote_display(plan.app, item.remote)));
        if (!item.to_fetch()) continue;  // identical, or kept: conflicts with nothing
        if (fs::exists(item.local, ec)) conflicts.push_back(item.local.string());
    }
    if (!conflicts.empty() && !overwrite)
        return fail(ErrorKind::conflict,
                    fmt::format("{} local file{} exist{} already: {}; pass --update to replace "
                                "them; nothing was downloaded",
                                conflicts.size(), conflicts.size() == 1 ? "" : "s",
                                conflicts.size() == 1 ? "s" : "", list_some(conflicts)));
    // Room on the local disk, measured at the nearest folder that exists.
    const std::uint64_t total = plan.bytes();
    fs::path probe = fs::absolute(plan.local, ec);
    while (!probe.empty() && !fs::exists(probe, ec) && probe != probe.root_path())
        probe = probe.parent_path();
    auto space = fs::space(probe, ec);
    if (!ec && total > space.available)
        return fail(ErrorKind::quota,
                    fmt::format("not enough room on the local disk at '{}': the download "
                                "needs {} but {} is free; nothing was downloaded",
                                probe.string(), format_size(total), format_size(space.available)));
    return {};
}

Result<DownloadSummary> send_download(Client& client, const DownloadPlan& plan,
                                      const DownloadSendOptions& options) {
    FileSetProgress progress(options.progress, plan.bytes(), plan.files());
    DownloadSummary summary;
    std::error_code ec;
    // The folders first, then the small files in one tree archive request,
    // then the others one by one.
    for (const auto& item : plan.items) {
        if (!item.is_dir) continue;
        fs::create_directories(item.local, ec);
        if (ec)
            return fail(ErrorKind::generic, fmt::format("cannot create folder '{}': {}",
                                                        item.local.string(), ec.message()));
    }
    std::vector<TreeItem> tree;
    std::vector<const DownloadItem*> tree_of;
    // One small file is one GET; two or more come in one archive request.
    std::size_t small = 0;
    for (const auto& item : plan.items)
        if (item.to_fetch() && item.size < options.tree_below) ++small;
    const std::uint64_t tree_below = small >= 2 ? options.tree_below : 0;
    for (const auto& item : plan.items) {
        if (!item.to_fetch() || item.size >= tree_below) continue;
        if (item.local.has_parent_path()) {
            fs::create_directories(item.local.parent_path(), ec);
            if (ec)
                return fail(ErrorKind::generic,
                            fmt::format("cannot create folder '{}': {}",
                                        item.local.parent_path().string(), ec.message()));
        }
        tree.push_back(TreeItem{item.remote, item.local.string()});
        tree_of.push_back(&item);
    }
    if (!tree.empty()) {
        std::optional<Error> first_failure;
        TreeDownloadOptions to;
        to.overwrite = options.overwrite;
        to.on_file = [&](std::size_t i, const Entry& entry) {
            const DownloadItem& item = *tree_of[i];
            ++summary.files;
            summary.bytes += entry.size;
            progress.next(item.size);
            if (options.trace)
                options.trace(fmt::format("{} -> {}", remote_display(plan.app, item.remote),
                                          item.local.string()));
            if (options.on_file) options.on_file(item, entry);
        };
        to.on_failure = [&](std::size_t, Error e) {
            if (!first_failure) first_failure = std::move(e);
        };
        auto done = client.download_tree(plan.app, tree, to);
        if (!done) return std::unexpected(std::move(done.error()));
        if (first_failure) return std::unexpected(std::move(*first_failure));
    }
    for (const auto& item : plan.items) {
        if (!item.is_dir && item.to_fetch() && item.size < tree_below) continue;
        if (interrupt_requested())
            return fail(ErrorKind::interrupted,
                        fmt::format("interrupted after {} files", summary.files));
        if (item.is_dir) {
            fs::create_directories(item.local, ec);
            if (ec)
                return fail(ErrorKind::generic, fmt::format("cannot create folder '{}': {}",
                                                            item.local.string(), ec.message()));
            continue;
        }
        if (!item.to_fetch()) continue;  // identical, or a newer local file kept
        if (item.local.has_parent_path()) {
            fs::create_directories(item.local.parent_path(), ec);
            if (ec)
                return fail(ErrorKind::generic,
                            fmt::format("cannot create folder '{}': {}",
                                        item.local.parent_path().string(), ec.message()));
        }
        DownloadOptions download;
        download.overwrite = options.overwrite;
        download.progress = progress.for_current_file();
        download.connections = options.connections;
        download.notice = options.notice;
        TransferReport report;
        auto entry = client.download(plan.app, item.remote, item.local, download, &report);
        summary.report.retries += report.retries;
        if (report.resumed) {
            summary.report.resumed = true;
            summary.report.resumed_bytes += report.resumed_bytes;
        }
        if (!entry) {
            // Its message names the file, the app and the local path already.
            return std::unexpected(std::move(entry.error()));
        }
        ++summary.files;
        summary.bytes += entry->size;
        progress.next(item.size);
        if (options.trace)
            options.trace(fmt::format("{} -> {}", remote_display(plan.app, item.remote),
                                      item.local.string()));
        if (options.on_file) options.on_file(item, *entry);
    }
    progress.finish(fmt::format("{} files", summary.files));
    return summary;
}

}  // namespace de

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

namespace de {

namespace fs = std::filesystem;
using detail::list_some;
using detail::remote_display;

std::uint64_t DownloadPlan::bytes() const {
    std::uint64_t total = 0;
    for (const auto& item : items)
        if (!item.is_dir) total += item.size;
    return total;
}

std::size_t DownloadPlan::files() const {
    std::size_t n = 0;
    for (const auto& item : items)
        n += !item.is_dir;
    return n;
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
        if (!is_dir) {
            auto st = client.stat(app, src);
            if (st) {
                is_dir = st->type == EntryType::dir;
                size = st->size;
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
            plan.items.push_back({src, dest, size, false});
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
            fs::path dest = dest_root / e.path.substr(prefix.size());
            plan.items.push_back({e.path, dest, e.size, e.type == EntryType::dir});
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
    for (const auto& item : plan.items) {
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

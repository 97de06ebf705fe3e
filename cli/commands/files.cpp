// ls, cat, rm, mv, mkdir: one Client call each, plus the guard on rm -r (-n
// and a confirmation or -y). Paths are checked locally with the same lexical
// rules the server applies, so a hostile path is refused before any request.
#include "commands.hpp"
#include "context.hpp"
#include "helpers.hpp"
#include "output.hpp"

#include <de/api.hpp>
#include <de/json.hpp>
#include <de/remote_path.hpp>
#include <de/sha256.hpp>
#include <de/size.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>

namespace de::cli {

namespace {

struct FileArgs {
    std::string name;
    std::vector<std::string> paths;
    bool long_format = false;
    bool recursive = false;
    bool yes = false;
    bool update = false;
    std::string range;
};

std::string iso_utc(std::int64_t mtime_ns) {
    std::time_t t = static_cast<std::time_t>(mtime_ns / 1'000'000'000);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Status run_ls(Context& ctx, const FileArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    std::string arg = args.paths.empty() ? "" : args.paths.front();
    auto path = normalize_remote_arg(arg, *app);
    if (!path) return std::unexpected(path.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());

    std::vector<Entry> entries;
    std::string prefix = path->empty() ? "" : *path + "/";
    auto listing = client->list(*app, *path, ListOptions{args.recursive, false});
    if (listing) {
        entries = std::move(*listing);
    } else if (listing.error().kind == ErrorKind::conflict &&
               listing.error().api_kind != "mount_disabled") {
        // A file: list it alone, like ls does.
        auto st = client->stat(*app, *path);
        if (!st) return std::unexpected(explain(st.error(), *app));
        entries.push_back(*st);
        prefix = std::string(parent_path(*path));
        if (!prefix.empty()) prefix += "/";
    } else {
        Error e = explain(listing.error(), *app);
        if (e.kind == ErrorKind::not_found && e.message.find("apps list") == std::string::npos)
            e.message = fmt::format("{} does not exist", remote_display(*app, *path));
        return std::unexpected(e);
    }

    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : entries)
        j.push_back(entry_json(e));
    ctx.json_result = j;
    if (!human(ctx)) return {};

    auto shown = [&](const Entry& e) {
        std::string name = e.path.starts_with(prefix) ? e.path.substr(prefix.size()) : e.path;
        if (e.type == EntryType::dir) name += '/';
        return name;
    };
    if (!args.long_format) {
        for (const auto& e : entries)
            std::cout << shown(e) << '\n';
        return {};
    }
    Table table({"TYPE", "SIZE", "MODIFIED", "NAME"});
    table.align(1, Table::Align::right);
    for (const auto& e : entries) {
        bool dir = e.type == EntryType::dir;
        std::string size = dir              ? "-"
                           : ctx.stdout_tty ? format_size(e.size)
                                            : std::to_string(e.size);
        std::string mtime = ctx.stdout_tty ? format_mtime(e.mtime_ns) : iso_utc(e.mtime_ns);
        table.add_row({dir ? "dir" : "file", size, mtime, shown(e)});
    }
    print_table(ctx, table);
    return {};
}

Status run_cat(Context& ctx, const FileArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    auto path = normalize_remote_arg(args.paths.front(), *app);
    if (!path) return std::unexpected(path.error());
    if (path->empty()) return fail(ErrorKind::usage, "cat needs a file, not the mount root");
    std::optional<ByteRange> range;
    if (!args.range.empty()) {
        auto r = parse_range(args.range);
        if (!r) return std::unexpected(r.error());
        range = *r;
    }
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());

    std::string buffer;  // --json only: the content goes into the one document
    std::uint64_t bytes = 0;
    auto st = client->read(*app, *path, range, [&](std::string_view chunk) -> Status {
        bytes += chunk.size();
        if (ctx.global.json) {
            buffer.append(chunk);
            return {};
        }
        if (std::fwrite(chunk.data(), 1, chunk.size(), stdout) != chunk.size()) {
            if (errno == EPIPE) {
                // The reader went away (`| head`): end as a pipe writer is expected to.
                std::signal(SIGPIPE, SIG_DFL);
                std::raise(SIGPIPE);
            }
            return fail(ErrorKind::generic,
                        fmt::format("writing to stdout failed: {}", std::strerror(errno)));
        }
        return {};
    });
    if (!st) {
        Error e = explain(st.error(), *app);
        if (e.kind == ErrorKind::conflict && e.api_kind != "mount_disabled")
            e.message =
                fmt::format("cannot print {}: it is a folder; list it with `de-cli ls -n {} /{}`",
                            remote_display(*app, *path), *app, *path);
        return std::unexpected(e);
    }
    std::fflush(stdout);
    if (ctx.global.json) {
        auto data = std::span(reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size());
        ctx.json_result = nlohmann::json{
            {"path", *path}, {"bytes", bytes}, {"content_base64", base64_encode(data)}};
    }
    return {};
}

Status run_rm(Context& ctx, const FileArgs& args) {
    auto app = resolve_app(ctx, args.name, args.recursive);
    if (!app) return std::unexpected(app.error());
    std::vector<std::string> paths;
    for (const auto& p : args.paths) {
        auto path = normalize_remote_arg(p, *app);
        if (!path) return std::unexpected(path.error());
        if (path->empty())
            return fail(ErrorKind::usage,
                        fmt::format("refusing to remove the mount root of '{}'; to delete every "
                                    "file use `de-cli mount disable -n {}`",
                                    *app, *app));
        paths.push_back(*path);
    }
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    if (args.recursive) {
        std::string list;
        for (const auto& p : paths)
            list += (list.empty() ? "" : ", ") + remote_display(*app, p);
        if (auto ok = confirm(ctx, fmt::format("delete {} and everything in it", list), args.yes);
            !ok)
            return ok;
    }
    nlohmann::json removed = nlohmann::json::array();
    for (const auto& p : paths) {
        auto st = client->remove(*app, p, args.recursive);
        if (!st) {
            Error e = explain(st.error(), *app);
            if (e.api_reason == api::reason::not_empty)
                e.message = fmt::format(
                    "cannot remove {}: the folder is not empty; pass -r{} to remove it with "
                    "everything in it",
                    remote_display(*app, p), args.name.empty() ? " -n " + *app : "");
            else if (e.kind == ErrorKind::not_found &&
                     e.message.find("apps list") == std::string::npos)
                e.message =
                    fmt::format("cannot remove {}: it does not exist", remote_display(*app, p));
            return std::unexpected(e);
        }
        removed.push_back(p);
        note(ctx, fmt::format("Removed {}", remote_display(*app, p)));
    }
    ctx.json_result = nlohmann::json{{"app", *app}, {"removed", removed}};
    return {};
}

Status run_mv(Context& ctx, const FileArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    if (args.paths.size() != 2) return fail(ErrorKind::usage, "mv needs SRC and DST");
    auto from = normalize_remote_arg(args.paths[0], *app);
    if (!from) return std::unexpected(from.error());
    auto to = normalize_remote_arg(args.paths[1], *app);
    if (!to) return std::unexpected(to.error());
    if (from->empty()) return fail(ErrorKind::usage, "cannot move the mount root");
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    // Like mv: a folder as the destination receives the source.
    bool into = args.paths[1].ends_with('/') || to->empty();
    if (!into) {
        auto listing = client->list(*app, *to, ListOptions{});
        // Not a folder (or not there) is an answer; a server away is not.
        if (!listing && listing.error().kind == ErrorKind::network)
            return std::unexpected(explain(listing.error(), *app));
        into = listing.has_value();
    }
    std::string target = into ? join_path(*to, base_name(*from)) : *to;
    auto entry = client->move(*app, *from, target, args.update);
    if (!entry) {
        Error e = explain(entry.error(), *app);
        if (e.api_reason == api::reason::exists)
            e.message = fmt::format(
                "cannot move {} to {}: the target exists already; pass "
                "--update to replace it",
                remote_display(*app, *from), remote_display(*app, target));
        return std::unexpected(e);
    }
    ctx.json_result = entry_json(*entry);
    note(ctx, fmt::format("Moved {} to {}", remote_display(*app, *from),
                          remote_display(*app, entry->path)));
    return {};
}

Status run_mkdir(Context& ctx, const FileArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    std::vector<std::string> paths;
    for (const auto& p : args.paths) {
        auto path = normalize_remote_arg(p, *app);
        if (!path) return std::unexpected(path.error());
        if (path->empty()) return fail(ErrorKind::usage, "the mount root exists already");
        paths.push_back(*path);
    }
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    nlohmann::json made = nlohmann::json::array();
    for (const auto& p : paths) {
        auto entry = client->mkdir(*app, p, true);
        if (!entry) {
            Error e = explain(entry.error(), *app);
            if (e.kind == ErrorKind::conflict && e.api_kind != "mount_disabled")
                e.message =
                    fmt::format("cannot create folder {}: it or a folder above it is a file",
                                remote_display(*app, p));
            return std::unexpected(e);
        }
        made.push_back(entry_json(*entry));
        note(ctx, fmt::format("Created folder {}", remote_display(*app, p)));
    }
    ctx.json_result = made.size() == 1 ? made.front() : made;
    return {};
}

}  // namespace

void register_files(CLI::App& root, Context& ctx) {
    auto add = [&](const char* verb, const char* help, const char* examples, auto run) {
        auto args = std::make_shared<FileArgs>();
        auto* sub = root.add_subcommand(verb, help);
        add_app_option(sub, args->name);
        sub->footer(examples);
        on_run(sub, ctx, [&ctx, args, run] { return run(ctx, *args); });
        return std::pair{sub, args};
    };

    auto [ls, ls_args] = add("ls", "List a folder of the mount (default: its root)",
                             "On a terminal -l shows human sizes and local times; piped, exact\n"
                             "bytes and UTC times, tab-separated.\n\n"
                             "Examples:\n  $ de-cli ls -n sales-dashboard\n"
                             "  $ de-cli ls -lR data -n sales-dashboard",
                             run_ls);
    ls->add_option("path", ls_args->paths, "Folder or file in the mount")->expected(0, 1);
    ls->add_flag("-l,--long", ls_args->long_format, "Show type, size and modification time");
    ls->add_flag("-R,--recursive", ls_args->recursive, "List everything beneath the folder");

    auto [cat, cat_args] = add("cat", "Write a file (or a byte range of it) to stdout",
                               "Examples:\n  $ de-cli cat data/config.json -n sales-dashboard\n"
                               "  $ de-cli cat logs/app.log --range 0-1023",
                               run_cat);
    cat->add_option("path", cat_args->paths, "File in the mount")->required()->expected(1);
    cat->add_option("--range", cat_args->range, "Only bytes FIRST-LAST (inclusive) or FIRST-")
        ->type_name("A-B");

    auto [rm, rm_args] = add("rm", "Remove files, or folders with -r (needs -n)",
                             "-r asks for confirmation on a terminal; without one it refuses\n"
                             "unless -y is given.\n\n"
                             "Examples:\n  $ de-cli rm data/old.csv -n sales-dashboard\n"
                             "  $ de-cli rm -r cache -n sales-dashboard -y",
                             run_rm);
    rm->add_option("path", rm_args->paths, "Files or folders in the mount")->required();
    rm->add_flag("-r,--recursive", rm_args->recursive, "Remove folders and everything in them");
    add_yes_option(rm, rm_args->yes);

    auto [mv, mv_args] = add("mv", "Move or rename a file or folder inside the mount",
                             "Examples:\n  $ de-cli mv data/new.csv data/current.csv\n"
                             "  $ de-cli mv report.pdf archive/ -n sales-dashboard",
                             run_mv);
    mv->add_option("paths", mv_args->paths, "SRC DST")->required()->expected(2);
    mv->add_flag("--update", mv_args->update, "Replace DST if it exists (default: refuse)")
        ->group(k_group_safety);

    auto [mkdir, mkdir_args] =
        add("mkdir", "Create folders (and their parents) in the mount",
            "Examples:\n  $ de-cli mkdir data/2026/11 -n sales-dashboard", run_mkdir);
    mkdir->add_option("path", mkdir_args->paths, "Folders to create")->required();
}

}  // namespace de::cli

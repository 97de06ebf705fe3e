// ls, cat, rm, mv, mkdir: one Client call each, plus the guard on rm -r (-n
// and a confirmation or -y). Paths are checked locally with the same lexical
// rules the server applies, so a hostile path is refused before any request.
#include "commands.hpp"
#include "context.hpp"
#include "helpers.hpp"
#include "output.hpp"

#include <de/api.hpp>
#include <de/json.hpp>
#include <de/name_json.hpp>
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
    bool dry_run = false;
    std::string range;
    std::string source, dest;  // mv
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
        return display_name(name);  // escaped when not UTF-8 or with control characters
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
            {"app", *app}, {"bytes", bytes}, {"content_base64", base64_encode(data)}};
        put_name(*ctx.json_result, "path", remote_abs(*path));  // percent form when not UTF-8
    }
    return {};
}

// What rm -r deletes, for the confirmation: the files and folders beneath
// each path (one manifest each), their size, and the first of them.
Confirmation removal(Client& client, const std::string& app,
                     const std::vector<std::string>& paths) {
    std::uint64_t files = 0, dirs = 0, bytes = 0;
    Confirmation what;
    for (const auto& p : paths) {
        what.paths.push_back(remote_display(app, p));
        auto st = client.manifest(app, p, false, [&](const Entry& e) -> Status {
            if (e.type == EntryType::dir) {
                ++dirs;
            } else {
                ++files;
                bytes += e.size;
            }
            if (what.paths.size() < k_confirm_paths)
                what.paths.push_back(remote_display(app, e.path) +
                                     (e.type == EntryType::dir ? "/" : ""));
            else
                ++what.more_paths;
            return {};
        });
        if (st)
            ++dirs;  // the folder itself
        else
            ++files;  // a file (or nothing: rm says so below)
    }
    what.action = "delete";
    what.counts = fmt::format("{} file{} and {} folder{} ({})", files, files == 1 ? "" : "s", dirs,
                              dirs == 1 ? "" : "s", format_size(bytes));
    what.target = fmt::format("in {}", app);
    return what;
}

// rm's explanation of a failed removal of p: one sentence, with the flag to pass.
Error rm_error(Error e, const std::string& app, const std::string& p, const FileArgs& args) {
    e = explain(std::move(e), app);
    if (e.api_reason == api::reason::not_empty)
        e.message = fmt::format(
            "cannot remove {}: the folder is not empty; pass -r{} to remove it with "
            "everything in it",
            remote_display(app, p), args.name.empty() ? " -n " + app : "");
    else if (e.kind == ErrorKind::not_found && e.message.find("apps list") == std::string::npos)
        e.message = fmt::format("cannot remove {}: it does not exist", remote_display(app, p));
    return e;
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
    if (args.recursive && !args.yes && !args.dry_run) {
        if (auto ok = confirm(ctx, removal(*client, *app, paths), args.yes); !ok) return ok;
    }
    // Like rm: every path is tried; each failure is reported, and the exit
    // code is the first failure's.
    nlohmann::json removed = nlohmann::json::array();
    nlohmann::json failed = nlohmann::json::array();
    std::optional<Error> first_failure;
    for (const auto& p : paths) {
        Status st;
        if (args.dry_run) {
            // What the removal would find: the path, and (without -r) a file.
            auto entry = client->stat(*app, p);
            const bool is_dir = entry ? entry->type == EntryType::dir
                                      : entry.error().kind == ErrorKind::conflict &&
                                            entry.error().api_kind != "mount_disabled";
            if (is_dir) {
                // A folder: fine with -r; without it the real run is refused
                // only when the folder has something in it.
                if (!args.recursive) {
                    auto listing = client->list(*app, p, ListOptions{});
                    if (listing && !listing->empty()) {
                        auto refusal = fail(ErrorKind::conflict, "the folder is not empty");
                        refusal.error().api_reason = std::string(api::reason::not_empty);
                        st = std::move(refusal);
                    } else if (!listing) {
                        st = std::unexpected(listing.error());
                    }
                }
            } else if (!entry) {
                st = std::unexpected(entry.error());
            }
        } else {
            st = client->remove(*app, p, args.recursive);
        }
        if (!st) {
            Error e = rm_error(st.error(), *app, p, args);
            if (paths.size() == 1) return std::unexpected(e);
            nlohmann::json failure = {
                {"error", {{"kind", to_string(e.kind)}, {"message", e.message}}}};
            put_name(failure, "path", remote_abs(p));  // percent form when not UTF-8
            failed.push_back(std::move(failure));
            if (!ctx.global.json)
                std::fprintf(stderr, "%s %s\n", error_label().c_str(), e.message.c_str());
            if (!first_failure) first_failure = std::move(e);
            continue;
        }
        removed.push_back(name_value(remote_abs(p)));  // {"name", "name_encoding"} when not UTF-8
        note(ctx, fmt::format("{} {}", args.dry_run ? "Would remove" : "Removed",
                              remote_display(*app, p)));
    }
    nlohmann::json result = {{"app", *app}, {"removed", removed}};
    if (args.dry_run) result["dry_run"] = true;
    if (first_failure) {
        result["failed"] = failed;
        Error summary = *first_failure;
        summary.message = fmt::format(
            "{} of {} paths could not be removed ({} {}); see the errors above", failed.size(),
            paths.size(), removed.size(), args.dry_run ? "would be removed" : "removed");
        return fail_with(ctx, std::move(summary), std::nullopt, std::move(result));
    }
    if (args.dry_run) note(ctx, "Dry run: nothing was removed");
    ctx.json_result = std::move(result);
    return {};
}

Status run_mv(Context& ctx, const FileArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    auto from = normalize_remote_arg(args.source, *app);
    if (!from) return std::unexpected(from.error());
    auto to = normalize_remote_arg(args.dest, *app);
    if (!to) return std::unexpected(to.error());
    if (from->empty()) return fail(ErrorKind::usage, "cannot move the mount root");
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    // Like mv: a folder as the destination receives the source.
    bool into = args.dest.ends_with('/') || to->empty();
    if (!into) {
        auto listing = client->list(*app, *to, ListOptions{});
        // Not a folder (or not there) is an answer; a server away is not.
        if (!listing && listing.error().kind == ErrorKind::network)
            return std::unexpected(explain(listing.error(), *app));
        into = listing.has_value();
    }
    std::string target = into ? join_path(*to, base_name(*from)) : *to;
    if (args.dry_run) {
        // Both ends as the move would find them; nothing is changed.
        auto source = client->stat(*app, *from);
        if (!source && source.error().kind == ErrorKind::conflict &&
            source.error().api_kind != "mount_disabled")
            source = Entry{*from, EntryType::dir, 0, 0, std::nullopt};
        if (!source) {
            Error e = explain(source.error(), *app);
            if (e.kind == ErrorKind::not_found && e.message.find("apps list") == std::string::npos)
                e.message =
                    fmt::format("{} does not exist ({})", remote_display(*app, *from), e.message);
            return std::unexpected(e);
        }
        auto existing = client->stat(*app, target);
        const bool taken = existing.has_value() || existing.error().kind == ErrorKind::conflict;
        if (taken && !args.update)
            return fail(ErrorKind::conflict,
                        fmt::format("cannot move {} to {}: the target exists already; pass "
                                    "--update to replace it",
                                    remote_display(*app, *from), remote_display(*app, target)));
        nlohmann::json j = {{"app", *app},
                            {"dry_run", true},
                            {"type", source->type == EntryType::dir ? "dir" : "file"},
                            {"replace", taken}};
        put_name(j, "from", remote_abs(*from));  // percent form when not UTF-8
        put_name(j, "to", remote_abs(target));
        ctx.json_result = std::move(j);
        note(ctx, fmt::format("Dry run: would move {} to {}{}; nothing was changed",
                              remote_display(*app, *from), remote_display(*app, target),
                              taken ? " (replacing it)" : ""));
        return {};
    }
    auto entry = client->move(*app, *from, target, args.update);
    if (!entry && !args.update && ctx.stdin_tty && entry.error().kind == ErrorKind::conflict &&
        entry.error().api_kind != "mount_disabled") {
        // The destination exists: on a terminal, ask (as --update, a yes replaces it).
        Confirmation what;
        what.action = "replace";
        what.target =
            fmt::format("{} with {}", remote_display(*app, target), remote_display(*app, *from));
        if (auto ok = confirm(ctx, what, false); !ok) return ok;
        entry = client->move(*app, *from, target, true);
    }
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
    if (args.dry_run) {
        nlohmann::json would = nlohmann::json::array();
        for (const auto& p : paths) {
            auto st = client->stat(*app, p);
            const bool is_dir = st ? st->type == EntryType::dir
                                   : st.error().kind == ErrorKind::conflict &&
                                         st.error().api_kind != "mount_disabled";
            if ((st && !is_dir) || (!st && !is_dir && st.error().kind != ErrorKind::not_found))
                // A file in the way, or no answer: what the real run would meet.
                return fail(st ? ErrorKind::conflict : st.error().kind,
                            st ? fmt::format("cannot create folder {}: it is a file",
                                             remote_display(*app, p))
                               : explain(st.error(), *app).message);
            nlohmann::json dir = {{"type", "dir"}, {"exists", is_dir}};
            put_name(dir, "path", remote_abs(p));  // percent form when not UTF-8
            would.push_back(std::move(dir));
            note(ctx, fmt::format("Would create folder {}{}", remote_display(*app, p),
                                  is_dir ? " (it exists already)" : ""));
        }
        ctx.json_result = nlohmann::json{{"app", *app}, {"dry_run", true}, {"created", would}};
        note(ctx, "Dry run: nothing was created");
        return {};
    }
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
    ls->add_option("path", ls_args->paths, "Folder or file in the mount")
        ->expected(0, 1)
        ->option_text("PATH");
    ls->add_flag("-l,--long", ls_args->long_format, "Show type, size and modification time");
    ls->add_flag("-R,--recursive", ls_args->recursive, "List everything beneath the folder");

    auto [cat, cat_args] = add("cat", "Write a file (or a byte range of it) to stdout",
                               "Examples:\n  $ de-cli cat data/config.json -n sales-dashboard\n"
                               "  $ de-cli cat logs/app.log --range 0-1023\n"
                               "  $ de-cli cat logs/app.log --range -10     # the last 10 bytes",
                               run_cat);
    cat->add_option("path", cat_args->paths, "File in the mount")
        ->required()
        ->expected(1)
        ->option_text("PATH");
    cat->add_option("--range", cat_args->range,
                    "Only bytes FIRST-LAST (inclusive), from FIRST to the end (FIRST-), or the "
                    "last SUFFIX bytes (-SUFFIX); sizes take units (1MiB)")
        ->type_name("RANGE");

    auto [rm, rm_args] =
        add("rm", "Remove files, or folders with -r (needs -n)",
            "-r asks for confirmation on a terminal; without one it refuses\n"
            "unless -y is given.\n\n"
            "Several paths: each is tried; the ones that fail are reported and the\n"
            "exit code is the first failure's.\n\n"
            "Examples:\n  $ de-cli rm data/old.csv -n sales-dashboard\n"
            "  $ de-cli rm -r cache -n sales-dashboard -y\n"
            "  $ de-cli rm -r cache -n sales-dashboard --dry-run",
            run_rm);
    rm->add_option("path", rm_args->paths,
                   "Files or folders in the mount; each is tried, and each failure reported")
        ->required()
        ->option_text("PATH...");
    rm->add_flag("-r,--recursive", rm_args->recursive, "Remove folders and everything in them");
    add_yes_option(rm, rm_args->yes);
    rm->add_flag("--dry-run", rm_args->dry_run, "Say what would be removed; remove nothing")
        ->group(k_group_safety);
    // -r refuses the default app: say so where -n is described.
    rm->get_option("--name")->description(
        "The app; required with -r (without -r the default app applies, as for ls)");

    auto [mv, mv_args] = add("mv", "Move or rename a file or folder inside the mount",
                             "Examples:\n  $ de-cli mv data/new.csv data/current.csv\n"
                             "  $ de-cli mv report.pdf archive/ -n sales-dashboard",
                             run_mv);
    mv->add_option("source", mv_args->source, "The file or folder to move")
        ->required()
        ->expected(1)
        ->option_text("SOURCE");
    mv->add_option("dest", mv_args->dest,
                   "Its new path, or a folder (ending in '/', or existing) to move it into")
        ->required()
        ->expected(1)
        ->option_text("DEST");
    mv->add_flag("--update", mv_args->update,
                 "Replace DEST if it exists (default: refuse; on a terminal, ask)")
        ->group(k_group_safety);
    mv->add_flag("--dry-run", mv_args->dry_run, "Say what would be moved where; move nothing")
        ->group(k_group_safety);

    auto [mkdir, mkdir_args] =
        add("mkdir", "Create folders (and their parents) in the mount",
            "Examples:\n  $ de-cli mkdir data/2026/11 -n sales-dashboard", run_mkdir);
    mkdir->add_option("path", mkdir_args->paths, "Folders to create")
        ->required()
        ->option_text("PATH...");
    mkdir->add_flag("--dry-run", mkdir_args->dry_run, "Say what would be created; create nothing")
        ->group(k_group_safety);
}

}  // namespace de::cli

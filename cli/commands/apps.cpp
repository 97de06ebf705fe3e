// apps list | exists | create | info | delete | update: one Client call each.
// Deleting an app or turning its persistent filesystem off deletes files, so
// both need -n and a confirmation (or -y).
#include "commands.hpp"
#include "context.hpp"
#include "helpers.hpp"
#include "output.hpp"

#include <de/api.hpp>
#include <de/json.hpp>
#include <de/size.hpp>

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace de::cli {

namespace {

std::string format_unix(std::int64_t seconds) {
    return seconds == 0 ? "-" : format_mtime(seconds * 1'000'000'000);
}

struct AppArgs {
    std::string name;
    bool yes = false;
    bool pfs_on = false;
    bool pfs_off = false;
    bool dry_run = false;
};

// --dry-run of a state change: one note, one JSON document, nothing changed.
Status dry_run_note(Context& ctx, const std::string& app, std::string_view action, bool changed,
                    std::uint64_t files_deleted, const std::string& line) {
    ctx.json_result = state_dry_run_json(app, action, changed, files_deleted);
    note(ctx, fmt::format("Dry run: {}; nothing was changed", line));
    return {};
}

// The files a disable or delete would take with it (0 when the mount is off).
std::uint64_t files_in_mount(Client& client, const std::string& name) {
    auto mount = client.mount_status(name);
    return mount && mount->enabled ? mount->file_count : 0;
}

Status run_list(Context& ctx) {
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto apps = client->list_apps();
    if (!apps) return std::unexpected(apps.error());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& app : *apps)
        list.push_back(app_json(app));
    ctx.json_result = std::move(list);
    Table table({"NAME", "PERSISTENT FS", "CREATED"});
    for (const auto& app : *apps)
        table.add_row(
            {app.name, app.persistent_filesystem ? "on" : "off", format_unix(app.created_at)});
    print_table(ctx, table);
    if (apps->empty()) note(ctx, "No apps yet; create one with `de-cli apps create -n NAME`");
    return {};
}

Status run_exists(Context& ctx, const AppArgs& args) {
    auto name = resolve_app(ctx, args.name, false);
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto app = client->get_app(*name);
    if (!app) {
        if (app.error().kind == ErrorKind::not_found)
            return fail(ErrorKind::not_found, fmt::format("app '{}' does not exist", *name));
        return std::unexpected(app.error());
    }
    ctx.json_result = nlohmann::json{{"name", app->name}, {"exists", true}};
    note(ctx, fmt::format("app '{}' exists", app->name));
    return {};
}

Status run_create(Context& ctx, const AppArgs& args) {
    // No default: a new app's name is chosen, not guessed from a folder.
    auto name = resolve_app(
        ctx, args.name,
        AppChoice{true, "apps create names a new app, so it needs the name", std::nullopt});
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    if (args.dry_run) {
        auto existing = client->get_app(*name);
        if (existing)
            return fail(ErrorKind::conflict,
                        fmt::format("you already have an app named '{}'; the real run would "
                                    "fail (see `de-cli apps info -n {}`)",
                                    *name, *name));
        if (existing.error().kind != ErrorKind::not_found)
            return std::unexpected(explain(existing.error(), *name));
        return dry_run_note(ctx, *name, "create app", true, 0,
                            fmt::format("would create app '{}'", *name));
    }
    auto app = client->create_app(*name);
    if (!app) {
        Error e = app.error();
        if (e.api_reason == api::reason::exists)
            e.message = fmt::format(
                "app '{}' exists already and is yours; nothing was created (`de-cli apps info -n "
                "{}` shows it)",
                *name, *name);
        return std::unexpected(e);
    }
    ctx.json_result = app_json(*app);
    note(ctx, fmt::format("Created app '{}'; turn on its persistent filesystem with `de-cli mount "
                          "enable -n {}`",
                          app->name, app->name));
    return {};
}

Status run_info(Context& ctx, const AppArgs& args) {
    auto name = resolve_app(ctx, args.name, false);
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto app = client->get_app(*name);
    if (!app) return std::unexpected(explain(app.error(), *name));
    ctx.json_result = app_json(*app);
    print_fields(ctx, {{"name", app->name},
                       {"owner", app->owner},
                       {"created", format_unix(app->created_at)},
                       {"persistent filesystem", app->persistent_filesystem ? "on" : "off"}});
    return {};
}

// What deleting the app's files means, for the confirmation: the mount's
// file count and size when it is on, and its first entries on a terminal.
Confirmation deletion(Context& ctx, Client& client, const std::string& name, std::string action) {
    Confirmation what;
    what.action = std::move(action);
    what.dry_run_available = false;
    auto mount = client.mount_status(name);
    if (mount && mount->enabled) {
        what.counts =
            fmt::format("and the {} file{} ({}) in its persistent filesystem", mount->file_count,
                        mount->file_count == 1 ? "" : "s", format_size(mount->used_bytes));
        if (ctx.stdin_tty) {
            auto listing = client.list(name, "", ListOptions{});
            if (listing)
                for (const auto& e : *listing) {
                    if (what.paths.size() == k_confirm_paths) {
                        ++what.more_paths;
                        continue;
                    }
                    what.paths.push_back(remote_display(name, e.path) +
                                         (e.type == EntryType::dir ? "/" : ""));
                }
        }
    }
    what.target = "(irrecoverable)";
    return what;
}

// Deleting an app that does not exist is an error (exit 3), not a no-op: the
// name was typed with -n, and a typo must not look like success.
Status run_delete(Context& ctx, const AppArgs& args) {
    auto name = resolve_app(ctx, args.name, true);
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    // Ask only about an app that is there, so a typo fails before the prompt.
    auto app = client->get_app(*name);
    if (!app) return std::unexpected(explain(app.error(), *name));
    if (args.dry_run) {
        std::uint64_t files = files_in_mount(*client, *name);
        return dry_run_note(ctx, *name, "delete app", true, files,
                            fmt::format("would delete app '{}' and {} in its persistent filesystem",
                                        *name, plural(files, "file", "files")));
    }
    if (auto ok = confirm(ctx, deletion(ctx, *client, *name, fmt::format("delete app '{}'", *name)),
                          args.yes);
        !ok)
        return ok;
    if (auto st = client->delete_app(*name); !st)
        return std::unexpected(explain(st.error(), *name));
    ctx.json_result = nlohmann::json{{"name", *name}, {"deleted", true}};
    note(ctx, fmt::format("Deleted app '{}'", *name));
    return {};
}

// Asking for the setting the app already has changes nothing and exits 0
// with a note (as `mount enable` twice and `mount disable` twice).
Status run_update(Context& ctx, const AppArgs& args) {
    if (args.pfs_on == args.pfs_off)
        return fail(ErrorKind::usage,
                    "say what to change: --persistent-filesystem or --no-persistent-filesystem");
    auto name = resolve_app(ctx, args.name, args.pfs_off);
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto current = client->get_app(*name);
    if (!current) return std::unexpected(explain(current.error(), *name));
    if (args.dry_run) {
        const bool changed = current->persistent_filesystem != args.pfs_on;
        std::uint64_t files = changed && args.pfs_off ? files_in_mount(*client, *name) : 0;
        return dry_run_note(
            ctx, *name,
            args.pfs_on ? "enable persistent filesystem" : "disable persistent filesystem", changed,
            files,
            !changed ? fmt::format("the persistent filesystem of '{}' is already {}", *name,
                                   args.pfs_on ? "on" : "off")
            : args.pfs_on
                ? fmt::format("would turn on the persistent filesystem of '{}'", *name)
                : fmt::format("would turn off the persistent filesystem of '{}', deleting {}",
                              *name, plural(files, "file", "files")));
    }
    if (current->persistent_filesystem == args.pfs_on) {
        ctx.json_result = app_json(*current);
        (*ctx.json_result)["changed"] = false;
        note(ctx, fmt::format("The persistent filesystem of '{}' is already {}; nothing changed",
                              *name, args.pfs_on ? "on" : "off"));
        return {};
    }
    if (args.pfs_off) {
        Confirmation what = deletion(
            ctx, *client, *name, fmt::format("turn off the persistent filesystem of '{}'", *name));
        if (!what.counts.empty()) what.counts = "deleting" + what.counts.substr(3);
        if (auto ok = confirm(ctx, what, args.yes); !ok) return ok;
    }
    AppUpdate update;
    update.persistent_filesystem = args.pfs_on;
    auto app = client->update_app(*name, update);
    if (!app) return std::unexpected(explain(app.error(), *name));
    ctx.json_result = app_json(*app);
    note(ctx, fmt::format("Persistent filesystem of '{}' is {}", app->name,
                          app->persistent_filesystem ? "on" : "off"));
    return {};
}

}  // namespace

void register_apps(CLI::App& root, Context& ctx) {
    auto* apps = root.add_subcommand("apps", "List, create, inspect, update and delete apps");
    apps->require_subcommand(1);
    apps->footer("Examples:\n  $ de-cli apps list\n  $ de-cli apps create -n sales-dashboard");

    auto* list = apps->add_subcommand("list", "List your apps");
    list->footer("Examples:\n  $ de-cli apps list\n  $ de-cli apps list --json");
    on_run(list, ctx, [&ctx] { return run_list(ctx); });

    auto add = [&](const char* verb, const char* help, const char* examples, auto run) {
        auto args = std::make_shared<AppArgs>();
        auto* sub = apps->add_subcommand(verb, help);
        add_app_option(sub, args->name);
        if (std::string_view(verb) != "exists" && std::string_view(verb) != "info")
            sub->add_flag("--dry-run", args->dry_run, "Say what would change; change nothing")
                ->group(k_group_safety);
        sub->footer(examples);
        on_run(sub, ctx, [&ctx, args, run] { return run(ctx, *args); });
        return std::pair{sub, args};
    };
    add("exists", "Exit 0 when the app exists, 3 when it does not",
        "Examples:\n  $ de-cli apps exists -n sales-dashboard && echo yes", run_exists);
    add("create", "Create an app (needs -n)",
        "Needs -n: a new app's name is never taken from the current folder.\n\n"
        "Examples:\n  $ de-cli apps create -n sales-dashboard",
        run_create);
    add("info", "Show an app's owner, creation time and persistent filesystem setting",
        "Examples:\n  $ de-cli apps info -n sales-dashboard\n"
        "  $ de-cli apps info -n sales-dashboard --json",
        run_info);
    auto [del, del_args] = add("delete", "Delete an app and its persistent filesystem (needs -n)",
                               "Asks for confirmation on a terminal; without one it refuses\n"
                               "unless -y is given. An app that does not exist is an error\n"
                               "(exit 3), so a mistyped name never looks deleted.\n\n"
                               "Examples:\n  $ de-cli apps delete -n old-dashboard\n"
                               "  $ de-cli apps delete -n old-dashboard -y   # no prompt",
                               run_delete);
    add_yes_option(del, del_args->yes);
    auto [update, update_args] =
        add("update", "Turn an app's persistent filesystem on or off",
            "Turning it off deletes every file in it: it needs -n, and a confirmation or -y.\n\n"
            "Examples:\n  $ de-cli apps update -n sales-dashboard --persistent-filesystem\n"
            "  $ de-cli apps update -n sales-dashboard --no-persistent-filesystem -y",
            run_update);
    auto* on = update->add_flag("--persistent-filesystem", update_args->pfs_on,
                                "Turn the persistent filesystem (the mount) on");
    auto* off = update->add_flag("--no-persistent-filesystem", update_args->pfs_off,
                                 "Turn it off, deleting every file in it");
    on->excludes(off);
    add_yes_option(update, update_args->yes);
}

}  // namespace de::cli

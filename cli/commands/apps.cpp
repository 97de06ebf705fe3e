// apps list | exists | create | info | delete | update: one Client call each.
// Deleting an app or turning its persistent filesystem off deletes files, so
// both need -n and a confirmation (or -y).
#include "commands.hpp"
#include "context.hpp"
#include "output.hpp"

#include <de/api.hpp>
#include <de/json.hpp>

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
};

Status run_list(Context& ctx) {
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto apps = client->list_apps();
    if (!apps) return std::unexpected(apps.error());
    ctx.json_result = nlohmann::json(*apps);
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
    auto name = resolve_app(ctx, args.name, false);
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
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
    ctx.json_result = nlohmann::json(*app);
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
    ctx.json_result = nlohmann::json(*app);
    print_fields(ctx, {{"name", app->name},
                       {"owner", app->owner},
                       {"created", format_unix(app->created_at)},
                       {"persistent filesystem", app->persistent_filesystem ? "on" : "off"}});
    return {};
}

Status run_delete(Context& ctx, const AppArgs& args) {
    auto name = resolve_app(ctx, args.name, true);
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    // Ask only about an app that is there, so a typo fails before the prompt.
    auto app = client->get_app(*name);
    if (!app) return std::unexpected(explain(app.error(), *name));
    if (auto ok = confirm(ctx,
                          fmt::format("delete app '{}' and every file in its persistent "
                                      "filesystem (irrecoverable)",
                                      *name),
                          args.yes);
        !ok)
        return ok;
    if (auto st = client->delete_app(*name); !st)
        return std::unexpected(explain(st.error(), *name));
    ctx.json_result = nlohmann::json{{"name", *name}, {"deleted", true}};
    note(ctx, fmt::format("Deleted app '{}'", *name));
    return {};
}

Status run_update(Context& ctx, const AppArgs& args) {
    if (args.pfs_on == args.pfs_off)
        return fail(ErrorKind::usage,
                    "say what to change: --persistent-filesystem or --no-persistent-filesystem");
    auto name = resolve_app(ctx, args.name, args.pfs_off);
    if (!name) return std::unexpected(name.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    if (args.pfs_off) {
        auto app = client->get_app(*name);
        if (!app) return std::unexpected(explain(app.error(), *name));
        if (app->persistent_filesystem) {
            if (auto ok = confirm(ctx,
                                  fmt::format("turn off the persistent filesystem of '{}' and "
                                              "delete every file in it (irrecoverable)",
                                              *name),
                                  args.yes);
                !ok)
                return ok;
        }
    }
    AppUpdate update;
    update.persistent_filesystem = args.pfs_on;
    auto app = client->update_app(*name, update);
    if (!app) return std::unexpected(explain(app.error(), *name));
    ctx.json_result = nlohmann::json(*app);
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
        sub->footer(examples);
        on_run(sub, ctx, [&ctx, args, run] { return run(ctx, *args); });
        return std::pair{sub, args};
    };
    add("exists", "Exit 0 when the app exists, 3 when it does not",
        "Examples:\n  $ de-cli apps exists -n sales-dashboard && echo yes", run_exists);
    add("create", "Create an app",
        "Examples:\n  $ de-cli apps create -n sales-dashboard\n"
        "  $ cd sales-dashboard && de-cli apps create",
        run_create);
    add("info", "Show an app's owner, creation time and persistent filesystem setting",
        "Examples:\n  $ de-cli apps info -n sales-dashboard\n"
        "  $ de-cli apps info -n sales-dashboard --json",
        run_info);
    auto [del, del_args] = add("delete", "Delete an app and its persistent filesystem (needs -n)",
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

// mount enable | disable | status | url. Disabling deletes every file, so it needs
// -n, a confirmation (or -y), and can first write a tar backup of the whole
// mount (de::backup_mount, de/backup.hpp); only after a complete backup is the
// mount disabled — a failed backup deletes nothing.
#include "commands.hpp"
#include "context.hpp"
#include "helpers.hpp"
#include "output.hpp"

#include <de/backup.hpp>
#include <de/json.hpp>
#include <de/size.hpp>

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace de::cli {

namespace {

struct MountArgs {
    std::string name;
    bool yes = false;
    std::string backup;
    bool dry_run = false;
};

void print_status(const Context& ctx, const MountStatus& st) {
    if (!st.enabled) {
        print_fields(ctx, {{"app", st.app}, {"persistent filesystem", "off"}});
        return;
    }
    // Free is what a new upload can still get: the quota less what is stored
    // and what uploads in flight hold.
    std::uint64_t taken = st.used_bytes + st.reserved_bytes;
    print_fields(ctx, {{"app", st.app},
                       {"persistent filesystem", "on"},
                       {"used", format_usage(st.used_bytes, st.quota_bytes).substr(5)},
                       {"reserved by uploads in flight", format_size(st.reserved_bytes)},
                       {"free", format_size(st.quota_bytes > taken ? st.quota_bytes - taken : 0)},
                       {"files", std::to_string(st.file_count)},
                       {"entries (files and folders)",
                        st.max_entries ? fmt::format("{} of {}", st.entries, st.max_entries)
                                       : std::to_string(st.entries)},
                       {"storage class", st.storage_class}});
}

Status run_status(Context& ctx, const MountArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto st = client->mount_status(*app);
    if (!st) return std::unexpected(explain(st.error(), *app));
    ctx.json_result = mount_json(*st);
    print_status(ctx, *st);
    if (!st->enabled) note(ctx, fmt::format("Turn it on with `de-cli mount enable -n {}`", *app));
    return {};
}

// Where the WebDAV password (the API key) comes from in this setup; the key
// itself is never shown.
std::string key_hint(const Settings& s, bool no_keyfile) {
    if (s.api_key.is_set() && s.api_key.origin == Origin::environment)
        return fmt::format("the API key in ${}", s.api_key.source);
    if (s.token.is_set())
        return "your API key, the one given to `de-cli login` (de-cli keeps only a token)";
    return fmt::format("your API key (de-cli takes it from {}{})", k_env_password,
                       no_keyfile ? "" : " or `de-cli login`");
}

// mount url: the app's WebDAV address on stdout (alone, for $(...)), how to
// connect on stderr (silent with -q). The app is checked with the server first.
Status run_url(Context& ctx, const MountArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    auto settings = resolve_settings(ctx);
    if (!settings) return std::unexpected(settings.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto st = client->mount_status(*app);
    if (!st) return std::unexpected(explain(st.error(), *app));
    std::string username = client->options().credentials.username;
    if (username.empty()) {
        auto user = client->whoami();
        if (!user) return std::unexpected(user.error());
        username = user->username;
    }
    const std::string url = webdav_url(client->options().host, *app);
    ctx.json_result = nlohmann::json{{"app", *app}, {"url", url}, {"username", username}};
    if (human(ctx)) std::cout << url << '\n';
    if (!st->enabled)
        warn(ctx, fmt::format("the persistent filesystem of '{}' is off; turn it on with "
                              "`de-cli mount enable -n {}` before connecting",
                              *app, *app));
    std::string guide =
        webdav_instructions({*app, url, username, key_hint(*settings, ctx.global.no_keyfile)});
    if (guide.ends_with('\n')) guide.pop_back();
    note(ctx, guide);
    return {};
}

Status run_enable(Context& ctx, const MountArgs& args) {
    auto app = resolve_app(ctx, args.name, false);
    if (!app) return std::unexpected(app.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto before = client->mount_status(*app);
    if (!before) return std::unexpected(explain(before.error(), *app));
    if (args.dry_run) {
        ctx.json_result = state_dry_run_json(*app, "enable mount", !before->enabled, 0);
        note(ctx, fmt::format(
                      "Dry run: {}; nothing was changed",
                      before->enabled
                          ? fmt::format("the persistent filesystem of '{}' is already on", *app)
                          : fmt::format("would turn on the persistent filesystem of '{}'", *app)));
        return {};
    }
    auto st = client->enable_mount(*app);
    if (!st) return std::unexpected(explain(st.error(), *app));
    ctx.json_result = mount_json(*st);
    (*ctx.json_result)["changed"] = !before->enabled;
    if (before->enabled)
        note(ctx,
             fmt::format("The persistent filesystem of '{}' is already on; nothing changed", *app));
    else
        note(ctx,
             fmt::format("Persistent filesystem of '{}' is on: the app sees it at ../mount", *app));
    return {};
}

// mount disable --backup: libde writes the archive; this maps the result.
Result<nlohmann::json> write_backup(Context& ctx, Client& client, const std::string& app,
                                    const std::string& path) {
    BackupOptions options;
    options.progress = make_progress(ctx);
    auto backup = backup_mount(client, app, path, options);
    if (!backup) {
        Error e = explain(backup.error(), app);
        e.message = fmt::format("backup failed, nothing was deleted: {}", e.message);
        return std::unexpected(e);
    }
    note(ctx, fmt::format("Backed up {} ({}) to {}", plural(backup->files, "file", "files"),
                          format_size(backup->bytes), path));
    return nlohmann::json{{"path", path},
                          {"files", backup->files},
                          {"bytes", backup->bytes},
                          {"archive_bytes", backup->archive_bytes}};
}

Status run_disable(Context& ctx, const MountArgs& args) {
    auto app = resolve_app(ctx, args.name, true);
    if (!app) return std::unexpected(app.error());
    auto client = make_client(ctx);
    if (!client) return std::unexpected(client.error());
    auto st = client->mount_status(*app);
    if (!st) return std::unexpected(explain(st.error(), *app));
    if (!st->enabled && args.dry_run) {
        ctx.json_result = state_dry_run_json(*app, "disable mount", false, 0);
        note(ctx, fmt::format("Dry run: the persistent filesystem of '{}' is already off; nothing "
                              "was changed",
                              *app));
        return {};
    }
    if (!st->enabled) {
        // The state asked for is the state it is in: nothing to do, as enable twice.
        ctx.json_result = nlohmann::json{{"app", *app},
                                         {"mount", {{"enabled", false}}},
                                         {"files_deleted", 0},
                                         {"changed", false}};
        note(ctx, fmt::format("The persistent filesystem of '{}' is already off; nothing changed",
                              *app));
        return {};
    }
    if (args.dry_run) {
        ctx.json_result = state_dry_run_json(*app, "disable mount", true, st->file_count);
        note(ctx,
             fmt::format(
                 "Dry run: would turn off the persistent filesystem of '{}', "
                 "deleting {} ({}){}; nothing was changed",
                 *app, plural(st->file_count, "file", "files"), format_size(st->used_bytes),
                 args.backup.empty() ? "" : fmt::format(" after a backup to {}", args.backup)));
        return {};
    }
    Confirmation what;
    what.action = fmt::format("turn off the persistent filesystem of '{}', deleting", *app);
    what.counts = fmt::format("its {} file{} ({})", st->file_count, st->file_count == 1 ? "" : "s",
                              format_size(st->used_bytes));
    what.target =
        args.backup.empty() ? "irrecoverably" : fmt::format("after a backup to {}", args.backup);
    what.dry_run_available = false;
    if (!args.yes && ctx.stdin_tty) {
        // The first entries of the mount's root, so the prompt shows what goes.
        auto listing = client->list(*app, "", ListOptions{});
        if (listing) {
            for (const auto& e : *listing) {
                if (what.paths.size() == k_confirm_paths) {
                    ++what.more_paths;
                    continue;
                }
                what.paths.push_back(remote_display(*app, e.path) +
                                     (e.type == EntryType::dir ? "/" : ""));
            }
        }
    }
    if (auto ok = confirm(ctx, what, args.yes); !ok) return ok;

    nlohmann::json result{{"app", *app}};
    if (!args.backup.empty()) {
        auto backup = write_backup(ctx, *client, *app, args.backup);
        if (!backup) return std::unexpected(backup.error());
        result["backup"] = *backup;
    }
    // "Already off" here is the state asked for (a retried DELETE whose first
    // attempt took effect, or a second de-cli): done, as above.
    if (auto done = client->disable_mount(*app); !done && done.error().api_kind != "mount_disabled")
        return std::unexpected(explain(done.error(), *app));
    result["mount"] = {{"enabled", false}};
    result["files_deleted"] = st->file_count;
    result["changed"] = true;
    ctx.json_result = result;
    note(ctx, fmt::format("Persistent filesystem of '{}' is off; {} deleted", *app,
                          plural(st->file_count, "file", "files")));
    return {};
}

}  // namespace

void register_mount(CLI::App& root, Context& ctx) {
    auto* mount = root.add_subcommand(
        "mount", "Turn an app's persistent filesystem on or off, show it or its WebDAV address");
    mount->require_subcommand(1);
    mount->footer(
        "Examples:\n  $ de-cli mount status -n sales-dashboard\n"
        "  $ de-cli mount enable -n sales-dashboard\n"
        "  $ de-cli mount url -n sales-dashboard");

    auto add = [&](const char* verb, const char* help, const char* examples, auto run) {
        auto args = std::make_shared<MountArgs>();
        auto* sub = mount->add_subcommand(verb, help);
        add_app_option(sub, args->name);
        if (std::string_view(verb) != "status" && std::string_view(verb) != "url")
            sub->add_flag("--dry-run", args->dry_run, "Say what would change; change nothing")
                ->group(k_group_safety);
        sub->footer(examples);
        on_run(sub, ctx, [&ctx, args, run] { return run(ctx, *args); });
        return std::pair{sub, args};
    };
    add("status", "Show used space against the quota, the file count and the storage class",
        "Examples:\n  $ de-cli mount status -n sales-dashboard\n"
        "  $ de-cli mount status --json | jq .mount.used_bytes",
        run_status);
    add("url",
        "Print the app's WebDAV address and how to connect with davfs2, rclone, macOS, Windows",
        "The address goes to stdout (alone with -q), how to connect to stderr. The password is\n"
        "the user's API key, which is never printed.\n\n"
        "Examples:\n  $ de-cli mount url -n sales-dashboard\n"
        "  $ de-cli mount url -n sales-dashboard --json | jq -r .url",
        run_url);
    add("enable", "Turn the persistent filesystem on (the app sees it at ../mount)",
        "Examples:\n  $ de-cli mount enable -n sales-dashboard", run_enable);
    auto [disable, args] =
        add("disable", "Turn the persistent filesystem off, deleting every file in it (needs -n)",
            "Asks for confirmation on a terminal; without one it refuses unless -y is given.\n"
            "On a mount that is already off it changes nothing and exits 0.\n\n"
            "Examples:\n  $ de-cli mount disable -n sales-dashboard --backup sales-mount.tar\n"
            "  $ de-cli mount disable -n sales-dashboard -y",
            run_disable);
    add_yes_option(disable, args->yes);
    disable
        ->add_option("--backup", args->backup,
                     "First download every file into this tar archive; if that fails nothing "
                     "is deleted")
        ->type_name("FILE")
        ->group(k_group_safety);
}

}  // namespace de::cli

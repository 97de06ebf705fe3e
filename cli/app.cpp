// The de-cli command tree (see app.hpp): built once for main() and the tests,
// with the help formatter, `help`, `version` and the usage-error texts.
#include "app.hpp"

#include "commands/commands.hpp"
#include "context.hpp"

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/version.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#ifndef DE_CLI_VERSION
#error "DE_CLI_VERSION comes from project(VERSION) in CMakeLists.txt"
#endif

namespace de::cli {

namespace {

constexpr std::size_t k_vector_size = CLI::detail::expected_max_vector_size;

std::string exit_code_footer() {
    std::string text = "Exit codes:\n  0    ok\n";
    for (const auto& row : de::exit_code_table())
        text += fmt::format("  {:<4} {}\n", row.code, row.description);
    text +=
        "\nEnvironment: DASH_ENTERPRISE_HOST, DASH_ENTERPRISE_USERNAME, DASH_ENTERPRISE_PASSWORD"
        "\n(flags > environment > keyfile > defaults; `de-cli config` shows what is in effect).\n"
        "\nExamples:\n"
        "  $ de-cli login --host https://de.example.com\n"
        "  $ de-cli mount status -n sales-dashboard\n"
        "  $ de-cli upload -r ./data / -n sales-dashboard\n"
        "Run `de-cli COMMAND --help` (or `de-cli help COMMAND`) for a command's options.";
    return text;
}

// A positional's label in usage lines and help: its option_text when set
// ("LOCAL... REMOTE"), else its name upper-cased, "..." when it repeats.
std::string positional_label(const CLI::Option* opt) {
    if (!opt->get_option_text().empty()) return opt->get_option_text();
    std::string name = opt->get_name(true, false);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (static_cast<std::size_t>(opt->get_items_expected_max()) >= k_vector_size) name += "...";
    return name;
}

const CLI::App* root_of(const CLI::App* app) {
    while (app->get_parent() != nullptr)
        app = app->get_parent();
    return app;
}

// CLI11's formatter with: positionals shown by their metavar (no "(2x)", no
// "TEXT"), and a subcommand's help listing the global options it accepts.
class HelpFormatter : public CLI::Formatter {
  public:
    std::string make_help(const CLI::App* app, std::string name,
                          CLI::AppFormatMode mode) const override {
        if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
        std::string out = make_description(app);
        out += make_usage(app, std::move(name));
        out += make_positionals(app);
        out += make_groups(app, mode);
        if (app->get_parent() != nullptr) out += make_global_groups(app);
        out += make_subcommands(app, mode);
        out += "\n" + make_footer(app);
        return out;
    }

    std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
        if (is_positional) return positional_label(opt);
        return CLI::Formatter::make_option_name(opt, false);
    }

    std::string make_option_opts(const CLI::Option* opt) const override {
        if (opt->get_positional()) return {};
        return CLI::Formatter::make_option_opts(opt);
    }

    std::string make_option_usage(const CLI::Option* opt) const override {
        std::string label = positional_label(opt);
        return opt->get_required() ? label : "[" + label + "]";
    }

  private:
    // The root's options (--host, --json, ...), accepted after any command.
    std::string make_global_groups(const CLI::App* app) const {
        const CLI::App* root = root_of(app);
        std::string out;
        for (const std::string& group : root->get_groups()) {
            if (group.empty()) continue;
            auto opts = root->get_options([&](const CLI::Option* opt) {
                return opt->get_group() == group && opt->nonpositional() &&
                       opt != root->get_help_ptr() && opt != root->get_help_all_ptr() &&
                       opt->get_name() != "--version";
            });
            if (opts.empty()) continue;
            out += make_group(group + " (global options)", false, opts);
        }
        return out;
    }
};

void collect_long_names(const CLI::App* app, std::vector<std::string>& out) {
    for (const CLI::Option* opt : app->get_options()) {
        for (const auto& l : opt->get_lnames())
            out.push_back("--" + l);
        for (const auto& s : opt->get_snames())
            out.push_back("-" + s);
    }
}

std::vector<std::string> visible_subcommand_names(const CLI::App* app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app->get_subcommands({}))
        if (!sub->get_name().empty() && !sub->get_group().empty()) {
            names.push_back(sub->get_name());
        }
    return names;
}

// The option name (as typed, "--x" or "-x") in app or an ancestor (fallthrough).
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
    for (; app != nullptr; app = app->get_parent()) {
        for (const CLI::Option* opt : app->get_options())
            if (opt->check_name(name)) return opt;
    }
    return nullptr;
}

std::string command_path(const CLI::App* app) {
    std::vector<std::string> names;
    for (; app != nullptr; app = app->get_parent())
        names.push_back(app->get_name());
    std::string out;
    for (auto it = names.rbegin(); it != names.rend(); ++it)
        out += (out.empty() ? "" : " ") + *it;
    return out;
}

std::string did_you_mean(const std::string& suggestion) {
    return suggestion.empty() ? "" : fmt::format("; did you mean '{}'?", suggestion);
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return out;
}

// The app named by path (words after "de-cli"); nullptr with the message in
// error when a word is not a command.
const CLI::App* find_command(const CLI::App& root, const std::vector<std::string>& path,
                             std::string& error) {
    const CLI::App* app = &root;
    for (const auto& word : path) {
        const CLI::App* next = nullptr;
        for (const CLI::App* sub : app->get_subcommands({}))
            if (sub->check_name(word)) next = sub;
        if (next == nullptr) {
            error = fmt::format("unknown command '{}'{}", command_path(app) + " " + word,
                                did_you_mean(closest_match(word, visible_subcommand_names(app))));
            if (error.find("did you mean") == std::string::npos)
                error += fmt::format("; `{} --help` lists the commands", command_path(app));
            return nullptr;
        }
        app = next;
    }
    return app;
}

Status run_help(const CLI::App& root, Context& ctx, const std::vector<std::string>& words) {
    std::string error;
    const CLI::App* target = find_command(root, words, error);
    if (target == nullptr) return fail(ErrorKind::usage, error);
    std::string prefix;
    if (target->get_parent() != nullptr) prefix = command_path(target->get_parent());
    std::string text = target->help(prefix);
    if (ctx.global.json) {
        ctx.json_result = nlohmann::json{{"help", text}};
    } else {
        std::cout << text;
    }
    return {};
}

Status run_version(Context& ctx) {
    using namespace std::chrono_literals;
    nlohmann::json j = {{"de_cli", DE_CLI_VERSION},
                        {"libde", std::string(libde_version())},
                        {"libcurl", libcurl_version()},
                        {"openssl", openssl_version()}};
    // The server's, when one answers quickly; nothing is an error here.
    nlohmann::json server = {{"host", nullptr}, {"version", nullptr}};
    std::string server_line;
    if (auto settings = resolve_settings(ctx); settings) {
        ClientOptions options;
        options.host = settings->host.value;
        options.ca_path = settings->ca_path.value;
        options.verify_tls = !ctx.global.insecure;
        options.connect_timeout = 2s;
        options.request_timeout = 3s;
        options.max_retries = 0;
        options.retry_budget = 0ms;
        server["host"] = options.host;
        auto version = Client::server_version(options);
        if (version) {
            server["version"] = *version;
            server_line = fmt::format("de-server {} at {}", *version, options.host);
        } else {
            debug(ctx, version.error().message);
            server_line = fmt::format("de-server: no answer from {}", options.host);
        }
    }
    j["server"] = server;
    ctx.json_result = j;
    if (human(ctx)) {
        std::cout << local_version_text();
        if (!server_line.empty()) std::cout << server_line << '\n';
    }
    return {};
}

}  // namespace

std::string local_version_text() {
    return fmt::format("de-cli {}\nlibde {}\nlibcurl {}\n{}\n", DE_CLI_VERSION, libde_version(),
                       libcurl_version(), openssl_version());
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    // Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    auto distance = [](std::string_view a, std::string_view b) {
        std::vector<std::vector<std::size_t>> d(a.size() + 1,
                                                std::vector<std::size_t>(b.size() + 1));
        for (std::size_t i = 0; i <= a.size(); ++i)
            d[i][0] = i;
        for (std::size_t j = 0; j <= b.size(); ++j)
            d[0][j] = j;
        for (std::size_t i = 1; i <= a.size(); ++i)
            for (std::size_t j = 1; j <= b.size(); ++j) {
                const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        return d[a.size()][b.size()];
    };
    // Dashes do not count towards the allowance ("--recursve": 8 letters).
    const std::size_t letters = word.size() - std::min(word.find_first_not_of('-'), word.size());
    const std::size_t allowed = std::max<std::size_t>(1, letters / 3);
    std::string best;
    std::size_t best_distance = allowed + 1;
    std::string prefixed;
    int prefix_count = 0;
    for (const auto& c : candidates) {
        const std::size_t dist = distance(word, c);
        if (dist < best_distance) {
            best_distance = dist;
            best = c;
        }
        if (letters >= 2 && c.size() > word.size() && c.starts_with(word)) {
            prefixed = c;
            ++prefix_count;
        }
    }
    if (!best.empty()) return best;
    return prefix_count == 1 ? prefixed : std::string();
}

std::string usage_error_message(const CLI::App& root, const CLI::Error& error,
                                const std::vector<std::string>& args) {
    // Walk the words as CLI11 would: commands select subcommands, options
    // (of the command or, by fallthrough, of its parents) may take a value.
    const CLI::App* app = &root;
    bool options_end = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (options_end) break;  // the rest is positional
        if (arg == "--") {
            options_end = true;
            continue;
        }
        if (arg.size() > 2 && arg.starts_with("--")) {
            const std::string name = arg.substr(0, arg.find('='));
            const CLI::Option* opt = find_option(app, name);
            if (opt == nullptr) {
                std::vector<std::string> names;
                for (const CLI::App* a = app; a != nullptr; a = a->get_parent())
                    collect_long_names(a, names);
                std::string text =
                    fmt::format("unknown option '{}' for `{}`{}", name, command_path(app),
                                did_you_mean(closest_match(name, names)));
                // "...; did you mean '--x'? See `...`" reads as two sentences, not "?;".
                if (text.ends_with('?'))
                    return text + fmt::format(" See `{} --help`.", command_path(app));
                return text + fmt::format("; see `{} --help`", command_path(app));
            }
            if (opt->get_items_expected_max() > 0 && name.size() == arg.size()) ++i;  // its value
            continue;
        }
        if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-' && !(arg[1] >= '0' && arg[1] <= '9')) {
            // -abc: flags, the first one taking a value takes the rest.
            for (std::size_t k = 1; k < arg.size(); ++k) {
                const std::string name = std::string("-") + arg[k];
                const CLI::Option* opt = find_option(app, name);
                if (opt == nullptr) {
                    std::vector<std::string> names;
                    for (const CLI::App* a = app; a != nullptr; a = a->get_parent())
                        collect_long_names(a, names);
                    return fmt::format("unknown option '{}' for `{}`; see `{} --help`", name,
                                       command_path(app), command_path(app));
                }
                if (opt->get_items_expected_max() > 0) {
                    if (k + 1 == arg.size()) ++i;  // the value is the next word
                    break;
                }
            }
            continue;
        }
        // A word: a command of app, a positional, or an unknown command.
        const CLI::App* next = nullptr;
        for (const CLI::App* sub : app->get_subcommands({}))
            if (sub->check_name(arg)) next = sub;
        if (next != nullptr) {
            app = next;
            continue;
        }
        const bool has_positionals =
            !app->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
        if (!has_positionals && !visible_subcommand_names(app).empty()) {
            std::string suggestion = closest_match(arg, visible_subcommand_names(app));
            std::string text = fmt::format("unknown command '{} {}'", command_path(app), arg);
            if (!suggestion.empty()) return text + did_you_mean(suggestion);
            return text + fmt::format("; `{} --help` lists the commands", command_path(app));
        }
        if (!has_positionals)
            return fmt::format("`{}` takes no argument '{}'; see `{} --help`", command_path(app),
                               arg, command_path(app));
    }
    if (dynamic_cast<const CLI::RequiredError*>(&error) != nullptr &&
        std::string_view(error.what()).find("subcommand") != std::string_view::npos) {
        return fmt::format("`{}` needs a command: {}; see `{} --help`", command_path(app),
                           join_names(visible_subcommand_names(app)), command_path(app));
    }
    std::string what = error.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' '))
        what.pop_back();
    return fmt::format("{}; see `{} --help`", what, command_path(app));
}

void apply_conventions(CLI::App& app) {
    for (CLI::Option* opt : app.get_options()) {
        if (!opt->nonpositional() || opt->get_items_expected_max() == 0) continue;
        if (static_cast<std::size_t>(opt->get_items_expected_max()) > 1) {
            opt->expected(1);
            opt->allow_extra_args(false);
            opt->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        }
    }
    for (CLI::App* sub : app.get_subcommands({}))
        apply_conventions(*sub);
}

void build_app(CLI::App& app, Context& ctx) {
    // Before the commands: each subcommand takes its parent's formatter.
    app.formatter(std::make_shared<HelpFormatter>());
    app.require_subcommand(0, 1);
    // Global options may follow the command: `de-cli ls --json` as well as `de-cli --json ls`.
    app.fallthrough();
    app.footer(exit_code_footer());
    add_global_options(app, ctx);
    auto version_flag = std::make_shared<bool>(false);
    app.add_flag("-V,--version", *version_flag,
                 "Print the versions of de-cli, its libraries and the server, and exit");

    register_auth(app, ctx);
    register_apps(app, ctx);
    register_mount(app, ctx);
    register_transfer(app, ctx);
    register_files(app, ctx);
    register_sync(app, ctx);
    register_predeploy(app, ctx);
    register_completion(app, ctx);

    auto words = std::make_shared<std::vector<std::string>>();
    auto* help = app.add_subcommand("help", "Show the help of de-cli or of a command");
    help->add_option("command", *words, "The command, and its subcommand")
        ->option_text("[COMMAND [SUBCOMMAND]]");
    help->footer(
        "`de-cli help COMMAND` is `de-cli COMMAND --help`.\n\n"
        "Examples:\n  $ de-cli help\n  $ de-cli help mount status");
    on_run(help, ctx, [&app, &ctx, words] { return run_help(app, ctx, *words); });

    auto* version = app.add_subcommand(
        "version", "Print the versions of de-cli, its libraries and the server (when reachable)");
    version->footer(
        "The server is the one --host (or the environment, or the keyfile) names; asking it\n"
        "takes at most a few seconds, and no answer is not an error.\n\n"
        "Examples:\n  $ de-cli version\n  $ de-cli version --json");
    on_run(version, ctx, [&ctx] { return run_version(ctx); });

    // Runs after any command's callback: --version, or no command at all.
    app.callback([&ctx, version_flag] {
        if (ctx.outcome || ctx.parse_only) return;
        if (*version_flag) {
            ctx.outcome = run_version(ctx);
            return;
        }
        ctx.outcome = fail(ErrorKind::usage,
                           "no command given; `de-cli --help` lists the commands, and "
                           "`de-cli help COMMAND` explains one");
    });

    apply_conventions(app);
}

}  // namespace de::cli

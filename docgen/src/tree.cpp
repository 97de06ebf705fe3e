// Walking the CLI11 tree: what is visible, which values an option takes, the
// examples in help texts, and the flattened model the completion scripts use.
// Hidden means an empty group, as CLI11 itself decides in its help output.
// Nameless subcommands are CLI11 option groups: their options belong to the
// parent command.

#include "model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace de::docgen {

namespace {

using detail::trim;

void add_options(const CLI::App& app, std::vector<const CLI::Option*>& out) {
    for (const CLI::Option* opt : app.get_options({})) {
        if (!opt->get_group().empty()) {
            out.push_back(opt);
        }
    }
    for (const CLI::App* sub : app.get_subcommands({})) {
        if (sub->get_name().empty() && !sub->get_group().empty()) {
            add_options(*sub, out);
        }
    }
}

std::vector<std::string> option_names(const CLI::Option& opt) {
    std::vector<std::string> names;
    for (const auto& s : opt.get_snames()) {
        names.push_back("-" + s);
    }
    for (const auto& l : opt.get_lnames()) {
        names.push_back("--" + l);
    }
    return names;
}

bool rule_matches(const ValueRule& rule, const std::string& key, const detail::ArgModel& arg) {
    if (rule.command != "*" && rule.command != key) {
        return false;
    }
    if (!arg.positional.empty() && (rule.target.empty() || rule.target == arg.positional)) {
        return true;
    }
    return std::find(arg.names.begin(), arg.names.end(), rule.target) != arg.names.end();
}

detail::ArgModel make_arg(const CLI::Option& opt, const std::string& key,
                          const CompletionSpec& spec, bool positional) {
    detail::ArgModel arg;
    if (positional) {
        arg.positional = opt.get_name(true);
        const int max = opt.get_items_expected_max();
        arg.max_count = max >= (1 << 20) ? -1 : std::max(max, 1);
    } else {
        arg.names = option_names(opt);
    }
    arg.description = detail::first_line(opt.get_description());
    arg.takes_value = positional || opt.get_items_expected_max() > 0;
    if (!arg.takes_value) {
        return arg;
    }
    for (const ValueRule& rule : spec.rules) {
        if (rule.from_word == 0 && rule_matches(rule, key, arg)) {
            arg.source = rule.source;
            arg.words = rule.words;
            arg.query = rule.query;
            return arg;
        }
    }
    if (auto values = fixed_values(opt); !values.empty()) {
        arg.source = ValueSource::words;
        arg.words = std::move(values);
    } else if (spec.default_to_files) {
        // Positionals are mostly paths; an option only when its type says so
        // (CLI::ExistingFile shows "FILE"; --host or --username are not files).
        const std::string type = opt.get_type_name();
        if (type.find("DIR") != std::string::npos) {
            arg.source = ValueSource::directories;
        } else if (positional || type.find("FILE") != std::string::npos ||
                   type.find("PATH") != std::string::npos) {
            arg.source = ValueSource::files;
        }
    }
    return arg;
}

// A positional as the scripts see it: one segment per ValueRule::from_word
// that applies to it, each with its own source. A later segment is named
// "NAME@N" (N: its first word, 1-based) so the value tables can tell them apart.
std::vector<detail::ArgModel> positional_segments(const CLI::Option& opt, const std::string& key,
                                                  const CompletionSpec& spec) {
    const detail::ArgModel first = make_arg(opt, key, spec, true);
    std::vector<int> starts;
    for (const ValueRule& rule : spec.rules) {
        if (rule.from_word > 0 && (first.max_count < 0 || rule.from_word < first.max_count) &&
            rule_matches(rule, key, first)) {
            starts.push_back(rule.from_word);
        }
    }
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    std::vector<detail::ArgModel> out{first};
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const int start = starts[i];
        detail::ArgModel seg = first;
        seg.positional = fmt::format("{}@{}", first.positional, start + 1);
        seg.source = ValueSource::none;
        seg.words.clear();
        seg.query.clear();
        for (const ValueRule& rule : spec.rules) {
            if (rule.from_word == start && rule_matches(rule, key, first)) {
                seg.source = rule.source;
                seg.words = rule.words;
                seg.query = rule.query;
                break;
            }
        }
        const int end = i + 1 < starts.size() ? starts[i + 1] : first.max_count;
        seg.max_count = end < 0 ? -1 : end - start;
        out.push_back(std::move(seg));
    }
    // The first segment ends where the second starts.
    if (!starts.empty()) out.front().max_count = starts.front();
    return out;
}

// With fallthrough, CLI11 accepts a parent's options after the subcommand
// (`de-cli ls --json`): they are offered there too.
void flatten(const CLI::App& app, std::vector<std::string> path,
             std::vector<std::string> inherited_value_options,
             const std::vector<const CLI::Option*>& parent_options, const CompletionSpec& spec,
             std::vector<detail::CommandModel>& out) {
    detail::CommandModel cmd;
    cmd.path = path;
    cmd.key = detail::join(path, " ");
    cmd.description = detail::first_line(app.get_description());
    for (const CLI::App* sub : visible_subcommands(app)) {
        cmd.subcommands.push_back(sub->get_name());
        cmd.subcommand_descriptions.push_back(detail::first_line(sub->get_description()));
    }
    cmd.value_options = std::move(inherited_value_options);
    auto options = visible_options(app);
    const auto own_count = options.size();
    if (app.get_fallthrough()) {
        for (const CLI::Option* parent : parent_options) {
            const auto names = option_names(*parent);
            const bool clash = std::any_of(
                options.begin(), options.begin() + own_count, [&](const CLI::Option* o) {
                    const auto own = option_names(*o);
                    return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
                        return std::find(own.begin(), own.end(), n) != own.end();
                    });
                });
            if (parent->nonpositional() && !clash) {
                options.push_back(parent);
            }
        }
    }
    for (std::size_t i = 0; i < options.size(); ++i) {
        const CLI::Option* opt = options[i];
        if (opt->nonpositional()) {
            auto arg = make_arg(*opt, cmd.key, spec, false);
            if (arg.takes_value) {
                for (const auto& n : arg.names) {
                    if (std::find(cmd.value_options.begin(), cmd.value_options.end(), n) ==
                        cmd.value_options.end()) {
                        cmd.value_options.push_back(n);
                    }
                }
            }
            cmd.options.push_back(std::move(arg));
        }
        if (opt->get_positional() && i < own_count) {
            for (auto& seg : positional_segments(*opt, cmd.key, spec)) {
                cmd.positionals.push_back(std::move(seg));
            }
        }
    }
    const auto value_options = cmd.value_options;
    out.push_back(std::move(cmd));
    for (const CLI::App* sub : visible_subcommands(app)) {
        auto sub_path = path;
        sub_path.push_back(sub->get_name());
        flatten(*sub, std::move(sub_path), value_options, options, spec, out);
    }
}

}  // namespace

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
    std::vector<const CLI::App*> out;
    for (const CLI::App* sub : app.get_subcommands({})) {
        if (!sub->get_name().empty() && !sub->get_group().empty()) {
            out.push_back(sub);
        }
    }
    return out;
}

std::vector<const CLI::Option*> visible_options(const CLI::App& app) {
    std::vector<const CLI::Option*> out;
    add_options(app, out);
    return out;
}

std::vector<std::string> fixed_values(const CLI::Option& opt) {
    const std::string type = opt.get_type_name();
    const auto open = type.find(":{");
    const auto close = type.rfind('}');
    if (open == std::string::npos || close == std::string::npos || close < open + 2) {
        return {};
    }
    std::vector<std::string> values;
    std::stringstream items(type.substr(open + 2, close - open - 2));
    std::string item;
    while (std::getline(items, item, ',')) {
        // CheckedTransformer shows "value->result": only the value is typed.
        if (const auto arrow = item.find("->"); arrow != std::string::npos) {
            item.resize(arrow);
        }
        item = trim(item);
        if (!item.empty()) {
            values.push_back(item);
        }
    }
    return values;
}

std::vector<Example> collect_examples(const CLI::App& app, const std::string& program) {
    const std::string prompt = "$ " + (program.empty() ? app.get_name() : program);
    std::vector<Example> out;
    auto visit = [&](auto&& self, const CLI::App& cmd, const std::string& path) -> void {
        std::istringstream text(cmd.get_description() + "\n" + cmd.get_footer());
        std::string line;
        std::string comment;
        while (std::getline(text, line)) {
            line = trim(line);
            if (line.rfind(prompt, 0) == 0 &&
                (line.size() == prompt.size() || line[prompt.size()] == ' ')) {
                Example ex{path, line.substr(2), comment};
                const bool seen = std::any_of(out.begin(), out.end(),
                                              [&](const Example& e) { return e.line == ex.line; });
                if (!seen) {
                    out.push_back(std::move(ex));
                }
                comment.clear();
            } else if (line.rfind("# ", 0) == 0) {
                comment = line.substr(2);
            } else {
                comment.clear();
            }
        }
        for (const CLI::App* sub : visible_subcommands(cmd)) {
            self(self, *sub, path.empty() ? sub->get_name() : path + " " + sub->get_name());
        }
    };
    visit(visit, app, "");
    return out;
}

namespace detail {

std::vector<CommandModel> build_model(const CLI::App& app, const CompletionSpec& spec) {
    std::vector<CommandModel> out;
    flatten(app, {}, {}, {}, spec, out);
    return out;
}

std::vector<ForwardedOption> forwarded_options(const CLI::App& app, const CompletionSpec& spec) {
    // Where an option is defined decides where it goes in the query: options
    // of the root before the complete command, the others after the query.
    std::vector<ForwardedOption> out;
    const auto model = build_model(app, spec);
    for (const std::string& name : spec.forwarded_options) {
        ForwardedOption fwd{name, false, false};
        bool found = false;
        for (const CommandModel& cmd : model) {
            for (const ArgModel& arg : cmd.options) {
                if (std::find(arg.names.begin(), arg.names.end(), name) != arg.names.end()) {
                    if (!found || cmd.path.empty()) {
                        fwd.takes_value = arg.takes_value;
                        fwd.root = cmd.path.empty();
                    }
                    found = true;
                }
            }
        }
        if (found) {
            out.push_back(fwd);
        }
    }
    return out;
}

std::string program_name(const CLI::App& app, const CompletionSpec& spec) {
    return spec.program.empty() ? app.get_name() : spec.program;
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::vector<ValueCase> value_cases(const std::vector<CommandModel>& model) {
    std::vector<ValueCase> cases;
    for (const auto& cmd : model) {
        auto add = [&](const ArgModel& arg) {
            ValueCase c;
            for (const auto& n : arg.names) {
                c.keys.push_back(shell_quote(cmd.key + "|" + n));
            }
            if (!arg.positional.empty()) {
                c.keys.push_back(shell_quote(cmd.key + "|" + arg.positional));
            }
            c.arg = &arg;
            cases.push_back(std::move(c));
        };
        for (const auto& o : cmd.options) {
            add(o);
        }
        for (const auto& p : cmd.positionals) {
            add(p);
        }
    }
    return cases;
}

std::string first_line(const std::string& text) {
    std::string line = trim(text);
    if (const auto nl = line.find('\n'); nl != std::string::npos) {
        line.resize(nl);
    }
    return trim(line);
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += sep;
        }
        out += items[i];
    }
    return out;
}

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    out += '\'';
    return out;
}

std::string identifier(const std::string& name) {
    std::string out;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out += ok ? c : '_';
    }
    return out;
}

}  // namespace detail

}  // namespace de::docgen

#pragma once
// The command tree flattened into what the completion generators need: one
// CommandModel per visible command (the root first, then depth-first in
// declaration order), with every option's value source already resolved from
// the CompletionSpec rules and the options' fixed values. The three shell
// generators only print this model; they never look at CLI11 themselves.

#include <de/docgen.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace de::docgen::detail {

struct ArgModel {
    std::vector<std::string> names;  // "-n", "--name"; empty for a positional
    std::string positional;          // the positional's name, or ""
    std::string description;         // first line only
    bool takes_value = false;
    int max_count = 1;  // positional: words it takes; -1 for any number
    ValueSource source = ValueSource::none;
    std::vector<std::string> words;
    std::string query;
};

struct CommandModel {
    std::vector<std::string> path;  // {} for the root
    std::string key;                // path joined with ' '
    std::string description;        // first line only
    std::vector<std::string> subcommands;
    std::vector<std::string> subcommand_descriptions;
    std::vector<ArgModel> options;
    std::vector<ArgModel> positionals;
    // Names of value-taking options of this command and its ancestors: the
    // shell scripts skip their values while finding the command path.
    std::vector<std::string> value_options;
};

struct ForwardedOption {
    std::string name;
    bool takes_value = false;
    bool root = false;  // goes before the complete command
};

// One case of a generated `<fn>_values CMD TARGET` function: every
// "CMD|TARGET" key (an option's names, a positional's name) of one argument
// whose value completes from a source. Shells differ only in how they print it.
struct ValueCase {
    std::vector<std::string> keys;  // single-quoted for bash and zsh (shell_quote)
    const ArgModel* arg = nullptr;
};
std::vector<ValueCase> value_cases(const std::vector<CommandModel>& model);

std::vector<CommandModel> build_model(const CLI::App& app, const CompletionSpec& spec);
std::vector<ForwardedOption> forwarded_options(const CLI::App& app, const CompletionSpec& spec);

std::string program_name(const CLI::App& app, const CompletionSpec& spec);
// Text without leading and trailing white space.
std::string trim(std::string_view text);
std::string first_line(const std::string& text);
std::string join(const std::vector<std::string>& items, const std::string& sep);
// Bash/zsh single-quoted word: 'it'\''s'.
std::string shell_quote(const std::string& text);
// A name usable in a shell function name: de-cli -> de_cli.
std::string identifier(const std::string& name);

}  // namespace de::docgen::detail

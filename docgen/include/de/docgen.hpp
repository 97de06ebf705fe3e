#pragma once
// de_docgen: man pages and shell completion scripts generated from a CLI11
// command tree, so that neither can drift from the binary that ships them.
//
// The generators walk the tree with get_subcommands({}) / get_options(), and
// skip anything hidden (CLI11 marks hidden subcommands and options with an
// empty group). What the tree cannot say by itself is given as data:
//   - fixed values of an option come from its IsMember/CheckedTransformer
//     validator (CLI11 2.1 only exposes them through the type name, e.g.
//     "TEXT:{bash,zsh,fish}") or from a ValueRule;
//   - dynamic values (app names, remote paths) are a ValueRule naming a query;
//     the scripts run `<program> <forwarded options> __complete <query> ...`,
//     and the program prints one candidate per line.
// Output is deterministic: no clock, no environment; the date is an input.
// This library depends only on CLI11 and fmt (not on libde).

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace de::docgen {

// ---- man pages -------------------------------------------------------------

struct ManItem {
    std::string tag;   // e.g. "0", "DASH_ENTERPRISE_HOST", "~/.config/de-cli/keyfile"
    std::string text;  // plain text; escaped by the generator
};

// An extra section (EXIT STATUS, ENVIRONMENT, FILES, SEE ALSO...). Paragraphs
// come first, then the tagged list. All text is plain (no roff): the
// generator escapes it.
struct ManSection {
    std::string title;
    std::vector<std::string> paragraphs;
    std::vector<ManItem> items;
};

struct ManPageInfo {
    std::string name;  // "de-cli"; defaults to app.get_name()
    int section = 1;
    std::string date;                      // fixed, e.g. "2026-11-22" (never the clock)
    std::string source;                    // e.g. "de-cli 0.1.0"
    std::string manual = "User Commands";  // centre header
    std::string summary;                   // NAME line after "\-"; defaults to app description
    std::vector<std::string> description;  // DESCRIPTION paragraphs
    // Sections placed after COMMANDS and OPTIONS, in this order. A section
    // titled "EXAMPLES" gets the collected examples appended after its own text.
    std::vector<ManSection> sections;
    // Adds an EXAMPLES section (if none is given) from every command's
    // "$ <name> ..." lines (see collect_examples).
    bool collect_examples = true;
};

std::string man_page(const CLI::App& app, const ManPageInfo& info);

// One example: the command path it came from ("mount enable"), the line
// without the "$ " prompt, and the comment lines just above it (if any).
struct Example {
    std::string command;
    std::string line;
    std::string comment;
};

// Lines starting with "$ <program> " in each visible command's footer and
// description, in tree order (the convention for --help examples).
std::vector<Example> collect_examples(const CLI::App& app, const std::string& program = {});

// ---- shell completion ------------------------------------------------------

enum class ValueSource {
    none,         // complete nothing (e.g. a free-form name or a number)
    files,        // local file names
    directories,  // local directory names
    words,        // the fixed list in ValueRule::words
    dynamic,      // ask the program: `<program> __complete <query> ...`
};

// How to complete the value of one option or positional argument.
struct ValueRule {
    // Command path below the root, words separated by one space ("ls",
    // "sync push"); "*" matches every command.
    std::string command;
    // An option name as written ("-n", "--name": either matches the option)
    // or a positional argument's name as CLI11 reports it (get_name(true));
    // empty: every positional of the command.
    std::string target;
    ValueSource source = ValueSource::none;
    std::vector<std::string> words;  // for ValueSource::words
    std::string query;               // for ValueSource::dynamic, e.g. "apps", "paths"
    // A positional taking several words: the rule applies from this word on
    // (0-based), up to the next rule's start. `download REMOTE... LOCAL`
    // completes its first word remotely and the later ones locally with two
    // rules, from_word 0 and 1. Options ignore it.
    int from_word = 0;
};

struct CompletionSpec {
    std::string program;  // defaults to app.get_name()
    std::string complete_command = "__complete";
    // Options copied from the command line being completed into the dynamic
    // query, so it reaches the same server and app ("--host", "-n", ...).
    // Root options go before the complete command, others after the query.
    std::vector<std::string> forwarded_options;
    std::vector<ValueRule> rules;
    // With no rule and no fixed values: positionals complete local files, and
    // options too when their type name says FILE or PATH (DIR: directories).
    // False: such values complete nothing.
    bool default_to_files = true;
};

std::string bash_completion(const CLI::App& app, const CompletionSpec& spec = {});
std::string zsh_completion(const CLI::App& app, const CompletionSpec& spec = {});
std::string fish_completion(const CLI::App& app, const CompletionSpec& spec = {});

// ---- reproducible metadata -------------------------------------------------

// The project version and the date printed in generated pages, both fixed by
// CMake (docgen/CMakeLists.txt), never the clock: regenerating gives the same bytes.
std::string_view project_version();
std::string_view docs_date();

// ---- tree helpers (used by the generators, public for tests) ---------------

// The fixed values an option accepts, from its IsMember/CheckedTransformer
// type name ("TEXT:{bash,zsh,fish}" -> bash, zsh, fish); empty if none.
std::vector<std::string> fixed_values(const CLI::Option& opt);

// Visible subcommands (non-empty group, non-empty name), in declaration order.
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app);

// Visible options of one command (non-empty group), including --help.
std::vector<const CLI::Option*> visible_options(const CLI::App& app);

}  // namespace de::docgen

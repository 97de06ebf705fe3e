#pragma once
// The whole de-cli command tree, built in one place so main() and the tests
// parse exactly the same thing, and the command-line conventions every
// command follows (issue 14): an option that takes a value takes exactly one
// per occurrence and may repeat, so it never swallows a positional; usage
// errors name what is wrong and suggest the nearest command or option; each
// command's --help shows the global options too.

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace de::cli {

struct Context;

// Builds the command tree on app (the root, named "de-cli"): global options,
// every command, `help` and `version`, the help formatter, then
// apply_conventions(). ctx must outlive app.
void build_app(CLI::App& app, Context& ctx);

// Every option of the tree that takes values takes exactly one per occurrence
// (repeating it collects them): `--exclude '*.tmp' DIR` leaves DIR a
// positional. Called by build_app(); public for tests.
void apply_conventions(CLI::App& app);

// The nearest of candidates to word (edit distance with transpositions, at
// most a third of the word's length, at least 1; or a unique prefix); "" when
// none is near enough.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// The message (without the "de-cli: error: " prefix) for a failed parse of
// args (argv without the program name): an unknown command or option with a
// "did you mean" suggestion, a command group without its command, else
// CLI11's text with where to look next.
std::string usage_error_message(const CLI::App& root, const CLI::Error& error,
                                const std::vector<std::string>& args);

// The version lines of `de-cli --version` without the server's.
std::string local_version_text();

}  // namespace de::cli

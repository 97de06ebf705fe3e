// The whole command tree as main() builds it (issue 14 items 1, 6, 10, 11):
// options never swallow positionals, usage errors suggest the nearest name,
// help shows the global options and one metavar vocabulary.
#include "app.hpp"
#include "context.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using de::cli::Context;

// The tree with no command callbacks: parsing only, nothing runs.
struct Tree {
    Context ctx;
    CLI::App app{"de-cli test", "de-cli"};
    Tree() {
        ctx.parse_only = true;
        de::cli::build_app(app, ctx);
    }
    // Parses words (without the program name); throws CLI11's errors.
    void parse(const std::vector<std::string>& words) {
        std::vector<std::string> storage{"de-cli"};
        storage.insert(storage.end(), words.begin(), words.end());
        std::vector<char*> argv;
        for (auto& w : storage)
            argv.push_back(w.data());
        app.parse(static_cast<int>(argv.size()), argv.data());
    }
    CLI::App* find(const std::vector<std::string>& path) {
        CLI::App* a = &app;
        for (const auto& name : path)
            a = a->get_subcommand(name);
        return a;
    }
};

// Every command (path of names), the root excluded.
void walk(CLI::App& app, std::vector<std::string> path,
          std::vector<std::vector<std::string>>& out) {
    for (CLI::App* sub : app.get_subcommands({})) {
        auto p = path;
        p.push_back(sub->get_name());
        out.push_back(p);
        walk(*sub, p, out);
    }
}

std::vector<std::vector<std::string>> all_commands() {
    Tree tree;
    std::vector<std::vector<std::string>> out;
    walk(tree.app, {}, out);
    return out;
}

std::vector<const CLI::Option*> positionals_of(const CLI::App* app) {
    return app->get_options([](const CLI::Option* o) { return o->get_positional(); });
}

// The options usable on app: its own and (fallthrough) its parents'.
std::vector<std::string> value_options(const CLI::App* app) {
    std::vector<std::string> names;
    for (const CLI::App* a = app; a != nullptr; a = a->get_parent())
        for (const CLI::Option* o : a->get_options())
            if (o->nonpositional() && o->get_items_expected_max() > 0)
                names.push_back(o->get_lnames().empty() ? "-" + o->get_snames().front()
                                                        : "--" + o->get_lnames().front());
    return names;
}

std::string an_existing_file() {
    static const std::string path = [] {
        auto p = std::filesystem::temp_directory_path() / "de_cli_test_app_file";
        std::ofstream(p) << "x";
        return p.string();
    }();
    return path;
}

}  // namespace

TEST_CASE("every value option takes exactly one value per occurrence (tree-wide)") {
    Tree tree;
    std::function<void(const CLI::App*)> check = [&](const CLI::App* a) {
        for (const CLI::Option* o : a->get_options()) {
            if (!o->nonpositional() || o->get_items_expected_max() == 0) continue;
            INFO(a->get_name() << " " << o->get_name());
            CHECK(o->get_items_expected_max() == 1);
            CHECK_FALSE(o->get_allow_extra_args());
        }
        for (const CLI::App* sub : a->get_subcommands({}))
            check(sub);
    };
    check(&tree.app);
}

// "ok": the option took value and every positional landed; "extra": the
// word after the value was refused (a command without positionals);
// "refused": the value was; otherwise what went wrong.
std::string try_option(const std::vector<std::string>& path, const std::string& opt,
                       const std::string& value, std::size_t positional_count) {
    Tree tree;
    std::vector<std::string> words = path;
    words.push_back(opt);
    words.push_back(value);
    std::vector<std::string> pos;
    for (std::size_t i = 0; i < positional_count; ++i)
        pos.push_back("POS" + std::to_string(i));
    words.insert(words.end(), pos.begin(), pos.end());
    const CLI::App* cmd = tree.find(path);
    const bool has_positionals = !positionals_of(cmd).empty();
    try {
        tree.parse(words);
    } catch (const CLI::ExtrasError&) {
        return has_positionals ? "a positional was refused as extra" : "extra";
    } catch (const CLI::ParseError&) {
        return "refused";
    }
    if (!has_positionals) return "the word after the option's value was swallowed";
    const CLI::Option* o = nullptr;
    for (const CLI::App* a = cmd; o == nullptr && a != nullptr; a = a->get_parent())
        o = a->get_option_no_throw(opt);
    if (o == nullptr || o->results() != std::vector<std::string>{value})
        return "the option did not take exactly its value";
    std::vector<std::string> landed;
    for (const CLI::Option* p : positionals_of(cmd))
        for (const auto& r : p->results())
            landed.push_back(r);
    for (const auto& w : pos)
        if (std::find(landed.begin(), landed.end(), w) == landed.end())
            return w + " did not land in a positional";
    return "ok";
}

TEST_CASE("no option swallows the positional that follows it, in any command") {
    // For each command and each option taking a value (its own or a parent's):
    // `CMD --opt VALUE POS...` leaves every POS a positional; on a command
    // without positionals the extra word is an error, never the option's.
    int checked = 0;
    for (const auto& path : all_commands()) {
        std::vector<std::string> options;
        std::size_t positional_count = 0;
        bool group_only = false;
        {
            Tree probe;
            const CLI::App* cmd = probe.find(path);
            options = value_options(cmd);
            positional_count = std::max<std::size_t>(1, positionals_of(cmd).size());
            group_only = cmd->get_require_subcommand_min() > 0;
        }
        if (group_only) continue;  // `mount` alone: its commands are walked themselves
        if (path == std::vector<std::string>{"completion"}) continue;  // POS must be a shell
        for (const auto& opt : options) {
            std::string line = "de-cli";
            for (const auto& w : path)
                line += " " + w;
            line += " " + opt;
            INFO(line);
            std::string outcome = "refused";
            for (const std::string& value :
                 {std::string("1"), an_existing_file(), std::string("bash"), std::string("0-1")}) {
                outcome = try_option(path, opt, value, positional_count);
                if (outcome != "refused") break;
            }
            CHECK((outcome == "ok" || outcome == "extra"));
            if (outcome != "ok" && outcome != "extra") FAIL_CHECK(outcome);
            ++checked;
        }
    }
    CHECK(checked > 100);  // the walk saw the tree, not an empty one
}

TEST_CASE("the command line of issue 14 item 1: the folder stays the folder") {
    Tree tree;
    tree.parse({"sync", "push", "--exclude", "*.tmp", "/tmp/syncsrc", "-n", "my-project",
                "--delete", "--dry-run"});
    const CLI::App* push = tree.find({"sync", "push"});
    CHECK(push->get_option("LOCAL_DIR")->results() == std::vector<std::string>{"/tmp/syncsrc"});
    CHECK(push->get_option("--exclude")->results() == std::vector<std::string>{"*.tmp"});
    // Repeating collects.
    Tree again;
    again.parse({"upload", "--exclude", "a", "--exclude", "b", "x", "/"});
    const CLI::App* upload = again.find({"upload"});
    CHECK(upload->get_option("--exclude")->as<std::vector<std::string>>() ==
          std::vector<std::string>{"a", "b"});
    CHECK(upload->get_option("paths")->as<std::vector<std::string>>() ==
          std::vector<std::string>{"x", "/"});
}

TEST_CASE("closest_match suggests near names only") {
    using de::cli::closest_match;
    CHECK(closest_match("stauts", {"enable", "disable", "status"}) == "status");
    CHECK(closest_match("--recursve", {"--recursive", "--name", "--yes"}) == "--recursive");
    CHECK(closest_match("uplaod", {"upload", "download", "ls"}) == "upload");
    CHECK(closest_match("dowload", {"upload", "download"}) == "download");
    CHECK(closest_match("zzzzzz", {"upload", "download"}).empty());
    CHECK(closest_match("--dry", {"--dry-run", "--delete"}) == "--dry-run");
}

TEST_CASE("usage errors name the unknown word and suggest the nearest") {
    auto message = [](std::vector<std::string> words) {
        Tree tree;
        try {
            tree.parse(words);
        } catch (const CLI::ParseError& e) {
            return de::cli::usage_error_message(tree.app, e, words);
        }
        return std::string("parsed");
    };
    auto stauts = message({"mount", "stauts"});
    CHECK(stauts.find("unknown command 'de-cli mount stauts'") != std::string::npos);
    CHECK(stauts.find("did you mean 'status'?") != std::string::npos);
    CHECK(stauts.find("A subcommand is required") == std::string::npos);
    auto recursve = message({"rm", "--recursve", "x"});
    CHECK(recursve.find("unknown option '--recursve'") != std::string::npos);
    CHECK(recursve.find("did you mean '--recursive'?") != std::string::npos);
    CHECK(recursve.find("?;") == std::string::npos);
    CHECK(message({"uplaod", "x", "/"}).find("did you mean 'upload'?") != std::string::npos);
    // A global option after the command is known (fallthrough), and its value skipped.
    CHECK(message({"ls", "--host", "stauts", "--jsn"}).find("did you mean '--json'?") !=
          std::string::npos);
    auto group = message({"mount"});
    CHECK(group.find("`de-cli mount` needs a command") != std::string::npos);
    CHECK(group.find("status") != std::string::npos);
    // CLI11's own errors keep their text and say where to look.
    auto missing = message({"cat"});
    CHECK(missing.find("de-cli cat --help") != std::string::npos);
}

TEST_CASE("every command's help shows the global options and one metavar vocabulary") {
    for (const auto& path : all_commands()) {
        Tree tree;
        const CLI::App* cmd = tree.find(path);
        if (cmd->get_group().empty()) continue;  // hidden
        std::string prefix = "de-cli";
        for (std::size_t i = 0; i + 1 < path.size(); ++i)
            prefix += " " + path[i];
        const std::string help = cmd->help(prefix);
        INFO(prefix << " " << path.back() << " --help:\n" << help);
        CHECK(help.find("--host HOST") != std::string::npos);
        CHECK(help.find("--json") != std::string::npos);
        // CLI11's defaults and its "(2x)" rendering are gone.
        for (const char* bad : {" TEXT", " INT", " UINT", " FLOAT", "(2x)", " x 2", ":FILE"})
            CHECK(help.find(bad) == std::string::npos);
        // The footer does not stop on a dangling sentence before a blank line.
        CHECK(help.find(":\n\n") == std::string::npos);
    }
    Tree tree;
    const std::string mv = tree.find({"mv"})->help("de-cli");
    CHECK(mv.find("Usage: de-cli mv [OPTIONS] SOURCE DEST") != std::string::npos);
    const std::string rm = tree.find({"rm"})->help("de-cli");
    CHECK(rm.find("required with -r") != std::string::npos);
    CHECK(rm.find("default: the current folder") == std::string::npos);
    const std::string cat = tree.find({"cat"})->help("de-cli");
    CHECK(cat.find("--range RANGE") != std::string::npos);
}

TEST_CASE("one option set: --dry-run, -j/--jobs and globs wherever they apply") {
    Tree tree;
    for (const char* cmd : {"upload", "download", "rm", "mv", "mkdir"}) {
        INFO(cmd);
        CHECK(tree.find({cmd})->get_option_no_throw("--dry-run") != nullptr);
    }
    for (const char* cmd : {"upload", "download"}) {
        INFO(cmd);
        const CLI::App* sub = tree.find({cmd});
        CHECK(sub->get_option_no_throw("-j") != nullptr);
        CHECK(sub->get_option_no_throw("--include") != nullptr);
        CHECK(sub->get_option_no_throw("--exclude") != nullptr);
        // --connections is kept, hidden.
        const CLI::Option* old = sub->get_option_no_throw("--connections");
        REQUIRE(old != nullptr);
        CHECK(old->get_group().empty());
    }
    // download REMOTE alone parses (the local side defaults to .).
    Tree one;
    CHECK_NOTHROW(one.parse({"download", "data/x.csv"}));
    // The version flag and commands exist.
    Tree v;
    CHECK_NOTHROW(v.parse({"--version"}));
    Tree h;
    CHECK_NOTHROW(h.parse({"help", "mount", "status"}));
}

TEST_CASE("the local version text names de-cli, libde, libcurl and OpenSSL") {
    const std::string text = de::cli::local_version_text();
    CHECK(text.starts_with("de-cli "));
    CHECK(text.find("\nlibde ") != std::string::npos);
    CHECK(text.find("\nlibcurl ") != std::string::npos);
    CHECK(text.find("OpenSSL") != std::string::npos);
}

// The generators on a small CLI11 tree shaped like de-cli's: nested commands,
// a hidden command and option, fixed values, a dynamic value rule, examples.

#include <de/docgen.hpp>

#include <doctest/doctest.h>

#include <string>

namespace {

using namespace de::docgen;

struct SampleTree {
    CLI::App app{"tool: manage things", "tool"};
    std::string host, name, shell, path;
    bool yes = false;

    SampleTree() {
        app.add_option("--host", host, "Server URL")->type_name("URL");
        auto* mount = app.add_subcommand("mount", "Manage the mount");
        auto* enable = mount->add_subcommand("enable", "Turn the mount on");
        enable->add_option("-n,--name", name, "App name")->required()->type_name("APP");
        enable->footer("Examples:\n  $ tool mount enable -n myapp\n");
        mount->add_subcommand("disable", "Turn the mount off")
            ->add_flag("-y,--yes", yes, "No prompt");
        auto* ls = app.add_subcommand("ls", "List files");
        ls->add_option("-n,--name", name, "App name")->type_name("APP");
        ls->add_option("path", path, "Remote path");
        ls->footer("# List the top folder\n$ tool ls -n myapp\n");
        auto* completion = app.add_subcommand("completion", "Print a completion script");
        completion->add_option("shell", shell, "The shell")
            ->required()
            ->check(CLI::IsMember({"bash", "zsh", "fish"}));
        app.add_subcommand("__complete", "hidden")->group("");
        app.add_flag("--secret", yes, "hidden option")->group("");
    }

    CompletionSpec spec() const {
        CompletionSpec s;
        s.forwarded_options = {"--host", "-n", "--name"};
        s.rules = {{"*", "--name", ValueSource::dynamic, {}, "apps"},
                   {"ls", "path", ValueSource::dynamic, {}, "paths"}};
        return s;
    }
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("fixed values come from an IsMember validator") {
    SampleTree t;
    const auto* opt = t.app.get_subcommand("completion")->get_option("shell");
    CHECK(fixed_values(*opt) == std::vector<std::string>{"bash", "zsh", "fish"});
    CHECK(fixed_values(*t.app.get_option("--host")).empty());
}

TEST_CASE("hidden commands and options are not visible") {
    SampleTree t;
    std::vector<std::string> names;
    for (const auto* sub : visible_subcommands(t.app)) {
        names.push_back(sub->get_name());
    }
    CHECK(names == std::vector<std::string>{"mount", "ls", "completion"});
    for (const auto* opt : visible_options(t.app)) {
        CHECK(opt->get_name() != "--secret");
    }
}

TEST_CASE("examples are collected from help text in tree order") {
    SampleTree t;
    const auto examples = collect_examples(t.app);
    REQUIRE(examples.size() == 2);
    CHECK(examples[0].command == "mount enable");
    CHECK(examples[0].line == "tool mount enable -n myapp");
    CHECK(examples[1].comment == "List the top folder");
}

TEST_CASE("man page has every visible command and option, escaped, and the caller's sections") {
    SampleTree t;
    ManPageInfo info;
    info.date = "2026-01-02";
    info.source = "tool 1.0";
    info.description = {"First paragraph.", ".starts with a dot"};
    info.sections = {{"EXIT STATUS", {}, {{"0", "Success."}, {"2", "Usage error."}}}};
    const std::string page = man_page(t.app, info);
    CHECK(contains(page, ".TH \"TOOL\" \"1\" \"2026-01-02\" \"tool 1.0\""));
    CHECK(contains(page, "tool \\- manage things\n"));
    CHECK(contains(page, ".SS \"tool mount enable\""));
    CHECK(contains(page, "\\fB\\-n\\fR, \\fB\\-\\-name\\fR \\fIAPP\\fR"));
    CHECK(contains(page, "\\fB\\-\\-host\\fR \\fIURL\\fR"));
    CHECK(contains(page, "\\fIshell\\fR"));
    CHECK(contains(page, "\\&.starts with a dot"));
    CHECK(contains(page, ".SH EXIT STATUS\n.TP\n0\nSuccess.\n"));
    CHECK(contains(page, ".SH EXAMPLES"));
    CHECK(contains(page, "tool mount enable \\-n myapp"));
    CHECK_FALSE(contains(page, "__complete"));
    CHECK_FALSE(contains(page, "secret"));
    // Example lines appear once, in EXAMPLES, not in the command's text.
    CHECK(page.find("tool mount enable \\-n myapp") == page.rfind("tool mount enable \\-n myapp"));
    CHECK(man_page(t.app, info) == page);  // deterministic
}

TEST_CASE("bash script carries the tree, fixed and dynamic values") {
    SampleTree t;
    const std::string s = bash_completion(t.app, t.spec());
    CHECK(contains(s, "complete -F _tool tool\n"));
    CHECK(contains(s, "subs='mount ls completion'"));
    CHECK(contains(s, "subs='enable disable'"));
    CHECK(contains(s, "'completion|shell') _tool_words 'bash zsh fish'"));
    CHECK(contains(s, "'ls|-n' | 'ls|--name') _tool_dynamic 'apps'"));
    CHECK(contains(s, "'ls|path') _tool_dynamic 'paths'"));
    CHECK(contains(s, "__complete \"$1\""));
    // Free-form option values (a URL) do not complete local files; positionals do.
    CHECK_FALSE(contains(s, "'|--host')"));
    CHECK_FALSE(contains(s, "--secret"));
}

TEST_CASE("zsh and fish scripts name every visible command") {
    SampleTree t;
    const std::string z = zsh_completion(t.app, t.spec());
    CHECK(z.rfind("#compdef tool\n", 0) == 0);
    CHECK(contains(z, "'enable:Turn the mount on'"));
    CHECK(contains(z, "compadd -- 'bash' 'zsh' 'fish'"));
    const std::string f = fish_completion(t.app, t.spec());
    CHECK(contains(
        f, "complete -c tool -n '__tool_at \\'mount\\'' -a 'enable' -d 'Turn the mount on'"));
    CHECK(contains(f, "-s 'n' -l 'name' -x -a '(__tool_dynamic apps)'"));
    CHECK_FALSE(contains(f, "__complete'"));
}

TEST_CASE("from_word splits a many-word positional: source first, destination after") {
    CLI::App app{"tool", "tool"};
    std::vector<std::string> paths;
    auto* get = app.add_subcommand("get", "Fetch");
    get->add_option("paths", paths, "REMOTE... LOCAL");
    CompletionSpec spec;
    spec.rules = {{"get", "", ValueSource::dynamic, {}, "paths"},
                  {"get", "", ValueSource::files, {}, {}, 1}};
    const std::string s = bash_completion(app, spec);
    // The first word remote, every later word local.
    CHECK(contains(s, "pos='paths:1 paths@2:-1'"));
    CHECK(contains(s, "'get|paths') _tool_dynamic 'paths'"));
    CHECK(contains(s, "'get|paths@2') _tool_files"));
    const std::string z = zsh_completion(app, spec);
    CHECK(contains(z, "pos=('paths:1' 'paths@2:-1')"));
    const std::string f = fish_completion(app, spec);
    CHECK(contains(f, "__tool_pos \\'get\\' 0 1' -f -a '(__tool_dynamic paths)'"));
    CHECK(contains(f, "__tool_pos \\'get\\' 1 -1' -F"));
}

TEST_CASE("bash script: dynamic queries see the whole line, unquoted") {
    SampleTree t;
    const std::string s = bash_completion(t.app, t.spec());
    // Options after the cursor count (`ls da<TAB> -n app`): every word but the current.
    CHECK(contains(s, "for ((i = 1; i < n; i++)); do\n        ((i == COMP_CWORD)) && continue"));
    // The word is passed without its quoting (dir\ with\ space/), to compgen as well.
    CHECK(contains(s, "_tool_dequote() {"));
    CHECK(contains(s, "-- \"$dq\" 2>/dev/null)"));
    CHECK(contains(s, "COMPREPLY=($(compgen -f -- \"$dq\"))"));
}

// project.toml, Procfile and the app-folder linter.
//
// The parsers report structured failures (location + text) internally, so the
// same code serves two callers: parse_project_toml() turns the first failure
// into a de::Error for commands that must stop, and check_app_dir() turns every
// failure into a Finding for the linter. toml++ (built with exceptions on
// Debian) is used only here; its parse_error carries the line and column.
//
// Why one file of ~700 lines: the linter is the parsers run in "report every
// failure" mode, and both share the internal ParsedProject, the script
// resolution and the small-file reader; split, those would become a private
// header for no reader's benefit, and toml++ would reach a second
// translation unit.

#include <de/project.hpp>
#include <de/text.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace de {

namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";
// project.toml and Procfile are a few lines; anything this big is a mistake.
constexpr std::uintmax_t k_max_config_bytes = 1 << 20;
// Scripts are read whole for the CRLF/shebang checks.
constexpr std::uintmax_t k_max_script_bytes = 16 << 20;

struct Failure {
    ErrorKind kind = ErrorKind::usage;
    SourceLocation location;
    std::string message;
};

std::string_view strip_bom(std::string_view text) {
    if (text.starts_with(k_bom)) text.remove_prefix(k_bom.size());
    return text;
}

SourceLocation location_of(const toml::source_region& region) {
    return {static_cast<std::uint32_t>(region.begin.line),
            static_cast<std::uint32_t>(region.begin.column)};
}

std::string_view type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

std::string located(std::string_view source, SourceLocation loc, std::string_view message) {
    if (loc.line == 0) return fmt::format("{}: {}", source, message);
    return fmt::format("{}:{}:{}: {}", source, loc.line, loc.column, message);
}

// The most common mistake, predeploy = fetchdata.sh, gets a baffling message
// from the parser ("expected 'false'"): name the real problem when the value
// on the failing line is a bare word.
std::string unquoted_hint(std::string_view text, std::uint32_t line) {
    for (std::uint32_t n = 1; n < line && !text.empty(); ++n) {
        auto nl = text.find('\n');
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    std::string_view row = text.substr(0, text.find('\n'));
    auto eq = row.find('=');
    if (eq == std::string_view::npos) return {};
    std::string_view key = trim_space(row.substr(0, eq));
    std::string_view value = trim_space(row.substr(eq + 1));
    if (key.empty() || value.empty() || value == "true" || value == "false") return {};
    char c = value.front();
    bool bare = std::isalpha(static_cast<unsigned char>(c)) || c == '.' || c == '/' || c == '_';
    if (!bare) return {};
    return fmt::format(" (strings need quotes: {} = \"{}\")", key, value);
}

// toml++'s descriptions ("Error while parsing string: unescaped control
// characters other than TAB (U+0009) are explicitly prohibited") in plain
// words, and where they point: an unterminated string is shown at its
// opening quote, not at the line end the parser stopped at.
std::string plain_toml_error(std::string_view description, std::string_view text,
                             SourceLocation& loc) {
    std::string_view what = "value";
    std::string_view rest = description;
    if (rest.starts_with("Error while parsing ")) {
        rest.remove_prefix(20);
        auto colon = rest.find(": ");
        if (colon != std::string_view::npos) {
            what = rest.substr(0, colon);
            rest.remove_prefix(colon + 2);
        }
    }
    auto has = [&](std::string_view needle) { return rest.find(needle) != std::string_view::npos; };
    const bool eof = has("end-of-file");
    if (what == "string" || what == "literal string" || what == "multi-line string" ||
        what == "multi-line literal string") {
        if (eof || has("control characters")) {
            // Point at the opening quote: the last quote before the error on its line.
            std::string_view row = text;
            for (std::uint32_t n = 1; n < loc.line && !row.empty(); ++n) {
                auto nl = row.find('\n');
                row = nl == std::string_view::npos ? std::string_view{} : row.substr(nl + 1);
            }
            row = row.substr(0, row.find('\n'));
            std::size_t end =
                std::min<std::size_t>(loc.column > 0 ? loc.column - 1 : 0, row.size());
            auto quote = row.substr(0, end).find_last_of("\"'");
            if (quote != std::string_view::npos && !eof)
                loc.column = static_cast<std::uint32_t>(quote + 1);
            return eof ? "unterminated string: the file ends before its closing quote"
                       : "unterminated string: add the closing quote on the same line (a string "
                         "over several lines needs triple quotes)";
        }
        if (has("unknown escape sequence"))
            return fmt::format(
                "{} in a string: write '\\\\' for a backslash, or use single "
                "quotes for a string without escapes",
                rest.substr(rest.find("unknown ") + 8));
    }
    if (eof) return fmt::format("unexpected end of file: the {} is not closed", what);
    if (has("cannot redefine existing table"))
        return fmt::format("duplicate table {}: it is already defined above",
                           rest.substr(rest.find("table ") + 6));
    if (has("cannot redefine existing"))
        return fmt::format("duplicate key {}: it is already set above",
                           rest.substr(rest.rfind(' ') + 1));
    if (what == "table header" && has("expected ']'"))
        return "unclosed table header: end it with ']'";
    if (what == "inline table") return "unclosed inline table: end it with '}' on the same line";
    if (has("expected value")) return "missing value after '='";
    if (has("expected '='")) return "expected '=' after the key (a key with spaces needs quotes)";
    if (has("expected a comment or whitespace"))
        return "unexpected text after the value (one key = value per line)";
    if (what == "root table") return "expected 'key = value' or a [table] header";
    if (what == "boolean" || what == "value") return fmt::format("invalid value ({})", rest);
    return fmt::format("invalid {}: {}", what, rest);
}

// Levenshtein distance, for "did you mean" (names are a few characters).
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

bool looks_like(std::string_view typed, std::string_view known) {
    return typed != known && edit_distance(typed, known) <= 2;
}

struct KeyProblem {
    Severity severity = Severity::warning;
    SourceLocation location;
    std::string message;
};

struct ParsedProject {
    ProjectToml project;
    std::optional<Failure> failure;
    // Keys the platform does not read, in what de-cli knows of project.toml:
    // a near miss of a known name ([scripts] prepdeploy, [scrips]) is an
    // error with a suggestion; any other key in [scripts] is a warning; other
    // tables belong to the platform and are left alone.
    std::vector<KeyProblem> unknown_keys;
};

void find_unknown_keys(const toml::table& root, ParsedProject& out) {
    for (auto&& [key, node] : root) {
        if (key.str() == "predeploy" || looks_like(key.str(), "predeploy"))
            out.unknown_keys.push_back(
                {Severity::error, location_of(key.source()),
                 fmt::format("'{}' is outside any table; put it under [scripts] as "
                             "predeploy = \"SCRIPT\"",
                             key.str())});
        else if (key.str() != "scripts" && looks_like(key.str(), "scripts"))
            out.unknown_keys.push_back(
                {Severity::error, location_of(key.source()),
                 fmt::format("unknown table '{}'; did you mean [scripts]?", key.str())});
    }
    const toml::table* scripts = root.get_as<toml::table>("scripts");
    if (scripts == nullptr) return;
    for (auto&& [key, node] : *scripts) {
        if (key.str() == "predeploy") continue;
        if (looks_like(key.str(), "predeploy"))
            out.unknown_keys.push_back(
                {Severity::error, location_of(key.source()),
                 fmt::format("unknown key '{}' in [scripts]; did you mean 'predeploy'?",
                             key.str())});
        else
            out.unknown_keys.push_back(
                {Severity::warning, location_of(key.source()),
                 fmt::format("unknown key '{}' in [scripts]: de-cli only knows 'predeploy'",
                             key.str())});
    }
}

ParsedProject parse_project(std::string_view text, std::string source) {
    ParsedProject out;
    out.project.source = std::move(source);
    toml::table root;
    try {
        // toml++ copies the source name into every node's region; we format
        // messages ourselves, so the name is only for its own diagnostics.
        root = toml::parse(strip_bom(text), std::string_view{out.project.source});
    } catch (const toml::parse_error& e) {
        SourceLocation loc = location_of(e.source());
        std::string plain = plain_toml_error(e.description(), strip_bom(text), loc);
        out.failure = Failure{
            ErrorKind::usage, loc,
            fmt::format("malformed TOML: {}{}", plain, unquoted_hint(strip_bom(text), loc.line))};
        return out;
    }
    find_unknown_keys(root, out);
    const toml::node* scripts = root.get("scripts");
    if (scripts == nullptr) return out;
    const toml::table* table = scripts->as_table();
    if (table == nullptr) {
        out.failure = Failure{ErrorKind::usage, location_of(scripts->source()),
                              fmt::format("'scripts' must be a table ([scripts]), not {}",
                                          type_name(scripts->type()))};
        return out;
    }
    const toml::node* predeploy = table->get("predeploy");
    if (predeploy == nullptr) return out;
    out.project.predeploy_location = location_of(predeploy->source());
    const auto* value = predeploy->as_string();
    if (value == nullptr) {
        out.failure = Failure{
            ErrorKind::usage, out.project.predeploy_location,
            fmt::format("[scripts] predeploy must be a string naming the script file, not {}",
                        type_name(predeploy->type()))};
        return out;
    }
    if (trim_space(value->get()).empty()) {
        out.failure = Failure{ErrorKind::usage, out.project.predeploy_location,
                              "[scripts] predeploy is empty: name the script file, e.g. "
                              "predeploy = \"fetchdata.sh\""};
        return out;
    }
    out.project.predeploy = value->get();
    return out;
}

Result<std::string> read_small_file(const fs::path& file, std::uintmax_t limit,
                                    std::string_view shown) {
    std::error_code ec;
    auto status = fs::status(file, ec);
    if (ec || !fs::exists(status))
        return fail(ErrorKind::not_found, fmt::format("{}: no such file", shown));
    if (!fs::is_regular_file(status))
        return fail(ErrorKind::usage, fmt::format("{}: not a regular file", shown));
    auto size = fs::file_size(file, ec);
    if (!ec && size > limit)
        return fail(ErrorKind::usage,
                    fmt::format("{}: {} bytes is too big for this kind of file", shown, size));
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return fail(ErrorKind::generic,
                    fmt::format("{}: cannot read: {}", shown, std::strerror(errno)));
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return fail(ErrorKind::generic, fmt::format("{}: read error", shown));
    return text;
}

// Strictly beneath or equal: compares whole components, so /a/bc is not in /a/b.
bool is_within(const fs::path& inner, const fs::path& outer) {
    auto i = inner.begin();
    for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
        if (o->empty() && std::next(o) == outer.end()) break;  // trailing '/'
        if (i == inner.end() || *i != *o) return false;
    }
    return true;
}

Result<fs::path> resolve_script(const fs::path& app_dir, const ProjectToml& project,
                                Failure& failure) {
    auto bad = [&](ErrorKind kind, std::string message) {
        failure = Failure{kind, project.predeploy_location, std::move(message)};
        return fail(kind, located(project.source, project.predeploy_location, failure.message));
    };
    if (!project.predeploy) {
        failure = Failure{ErrorKind::usage,
                          {},
                          "no [scripts] predeploy: nothing to run (add [scripts] with "
                          "predeploy = \"fetchdata.sh\")"};
        return fail(ErrorKind::usage, located(project.source, {}, failure.message));
    }
    const std::string& name = *project.predeploy;
    fs::path relative(name);
    if (relative.is_absolute())
        return bad(
            ErrorKind::usage,
            fmt::format("predeploy script '{}' must be a path relative to the app folder", name));
    fs::path candidate = app_dir / relative;
    std::string shown = display_path(app_dir, name);
    std::error_code ec;
    auto status = fs::status(candidate, ec);
    if (!fs::exists(status)) {
        auto link = fs::symlink_status(candidate, ec);
        if (fs::is_symlink(link))
            return bad(ErrorKind::not_found,
                       fmt::format("predeploy script '{}' is a broken symlink ({})", name, shown));
        return bad(ErrorKind::not_found,
                   fmt::format("predeploy script '{}' not found: there is no {}; add it to the "
                               "app folder or fix the name in project.toml",
                               name, shown));
    }
    fs::path app_real = fs::canonical(app_dir, ec);
    fs::path script_real = ec ? fs::path{} : fs::canonical(candidate, ec);
    if (ec)
        return bad(ErrorKind::generic,
                   fmt::format("cannot resolve predeploy script {}: {}", shown, ec.message()));
    if (script_real == app_real || !is_within(script_real, app_real))
        return bad(ErrorKind::usage,
                   fmt::format("predeploy script '{}' resolves to {}, outside the app folder: "
                               "the platform only has the app's own files",
                               name, script_real.string()));
    if (!fs::is_regular_file(status))
        return bad(ErrorKind::usage,
                   fmt::format("predeploy script '{}' is not a regular file ({})", name, shown));
    if (::access(script_real.c_str(), R_OK) != 0)
        return bad(ErrorKind::generic, fmt::format("predeploy script {} cannot be read: {}", shown,
                                                   std::strerror(errno)));
    return script_real;
}

// Runs a small tool (bash -n, git check-ignore) with stdin and stdout on
// /dev/null and returns its status and stderr.
struct ToolRun {
    bool ran = false;
    int status = 0;
    std::string diagnostics;
};

ToolRun run_tool(std::vector<std::string> args) {
    ToolRun out;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return out;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        out.diagnostics = fmt::format("cannot run {}: {}", args[0], std::strerror(rc));
        return out;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
            if (out.diagnostics.size() < 64 * 1024) out.diagnostics.append(buf, std::size_t(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    out.ran = true;
    out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return out;
}

// bash -n: the cheapest way to know bash can run the file, without running it.
ToolRun bash_syntax_check(const fs::path& script) {
    return run_tool({"bash", "-n", script.string()});
}

// Whether git ignores files put in dir (so its data is never committed): asks
// about a file name that does not exist, because a pattern like "mount/*"
// ignores a folder's contents, not the folder. False when git cannot tell.
bool git_ignores_contents(const fs::path& repo, const fs::path& dir) {
    auto run = run_tool({"git", "-C", repo.string(), "check-ignore", "-q", "--",
                         (dir / "de-cli-probe.bin").string()});
    return run.ran && run.status == 0;
}

// The interpreter a shebang names: "/usr/bin/env -S python3 -u" -> "python3".
std::string shebang_interpreter(std::string_view first_line) {
    std::istringstream words{std::string(trim_space(first_line.substr(2)))};
    std::string word;
    words >> word;
    std::string base = fs::path(word).filename().string();
    if (base == "env") {
        while (words >> word) {
            if (word.starts_with("-")) continue;
            if (word.find('=') != std::string::npos) continue;
            return fs::path(word).filename().string();
        }
        return {};
    }
    return base;
}

void check_script_text(std::string_view text, const std::string& shown,
                       std::vector<Finding>& findings) {
    text = strip_bom(text);
    auto crlf = text.find("\r\n");
    if (crlf != std::string_view::npos) {
        auto line = static_cast<std::uint32_t>(std::count(text.begin(), text.begin() + crlf, '\n'));
        findings.push_back({Severity::error,
                            "script-crlf",
                            shown,
                            {line + 1, 0},
                            "the script has Windows (CRLF) line ends and bash fails on them; "
                            "convert it (dos2unix, or set your editor to LF)"});
    }
    if (text.starts_with("#!")) {
        auto first = text.substr(0, text.find('\n'));
        std::string interp = shebang_interpreter(trim_space(first));
        if (!interp.empty() && interp != "bash" && interp != "sh") {
            findings.push_back(
                {Severity::warning,
                 "script-shebang",
                 shown,
                 {1, 1},
                 fmt::format("the shebang names '{}', but the platform runs predeploy with bash: "
                             "call {} from a bash script instead",
                             interp, interp)});
        }
    }
}

// Absolute with symlinks resolved as far as the path exists (weakly_canonical
// of a relative path that does not exist yet would stay relative).
fs::path real_path(const fs::path& p) {
    std::error_code ec;
    fs::path absolute = fs::absolute(p, ec);
    if (ec) return p.lexically_normal();
    fs::path out = fs::weakly_canonical(absolute, ec);
    return ec ? absolute.lexically_normal() : out;
}

std::optional<fs::path> git_work_tree(const fs::path& start) {
    std::error_code ec;
    for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
        if (fs::exists(dir / ".git", ec)) return dir;
        if (dir == dir.root_path()) break;
    }
    return std::nullopt;
}

void check_project(const fs::path& app_dir, std::vector<Finding>& findings) {
    std::string shown = display_path(app_dir, "project.toml");
    std::error_code ec;
    if (!fs::exists(app_dir / "project.toml", ec)) {
        findings.push_back({Severity::warning,
                            "project-toml",
                            shown,
                            {},
                            "no project.toml: the app has no predeploy step"});
        return;
    }
    auto text = read_small_file(app_dir / "project.toml", k_max_config_bytes, shown);
    if (!text) {
        findings.push_back({Severity::error, "project-toml", shown, {}, text.error().message});
        return;
    }
    auto parsed = parse_project(*text, shown);
    if (parsed.failure) {
        findings.push_back({Severity::error, "project-toml", shown, parsed.failure->location,
                            parsed.failure->message});
        return;
    }
    for (const auto& problem : parsed.unknown_keys)
        findings.push_back(
            {problem.severity, "project-toml-key", shown, problem.location, problem.message});
    if (!parsed.project.predeploy) {
        findings.push_back({Severity::warning,
                            "no-predeploy",
                            shown,
                            {},
                            "project.toml has no [scripts] predeploy: de-cli predeploy has "
                            "nothing to run"});
        return;
    }
    Failure failure;
    auto script = resolve_script(app_dir, parsed.project, failure);
    if (!script) {
        findings.push_back(
            {Severity::error, "predeploy-script", shown, failure.location, failure.message});
        return;
    }
    std::string script_shown = display_path(app_dir, *parsed.project.predeploy);
    auto body = read_small_file(*script, k_max_script_bytes, script_shown);
    if (!body) {
        findings.push_back(
            {Severity::error, "predeploy-script", script_shown, {}, body.error().message});
        return;
    }
    check_script_text(*body, script_shown, findings);
    auto syntax = bash_syntax_check(*script);
    if (!syntax.ran) {
        findings.push_back({Severity::warning,
                            "script-syntax",
                            script_shown,
                            {},
                            fmt::format("could not check the syntax: {}", syntax.diagnostics)});
    } else if (syntax.status != 0) {
        // bash says "PATH: line N: message"; keep the line, drop the path.
        std::string first(trim_space(syntax.diagnostics.substr(0, syntax.diagnostics.find('\n'))));
        SourceLocation loc;
        auto at = first.find(": line ");
        if (at != std::string::npos) {
            auto colon = first.find(": ", at + 7);
            try {
                loc.line = static_cast<std::uint32_t>(std::stoul(first.substr(at + 7)));
            } catch (...) {
            }
            if (colon != std::string::npos) first = first.substr(colon + 2);
        }
        findings.push_back({Severity::error, "script-syntax", script_shown, loc,
                            fmt::format("bash cannot parse the script: {}", first)});
    }
}

void check_procfile(const fs::path& app_dir, std::vector<Finding>& findings) {
    std::string shown = display_path(app_dir, "Procfile");
    std::error_code ec;
    if (!fs::exists(app_dir / "Procfile", ec)) {
        findings.push_back({Severity::error,
                            "procfile-missing",
                            shown,
                            {},
                            "no Procfile: the platform starts the app's processes from it; add "
                            "one with a line like 'web: gunicorn app:server'"});
        return;
    }
    auto text = read_small_file(app_dir / "Procfile", k_max_config_bytes, shown);
    if (!text) {
        findings.push_back({Severity::error, "procfile-syntax", shown, {}, text.error().message});
        return;
    }
    auto procfile = parse_procfile(*text, shown);
    findings.insert(findings.end(), procfile.findings.begin(), procfile.findings.end());
    bool has_web = std::any_of(procfile.processes.begin(), procfile.processes.end(),
                               [](const ProcfileProcess& p) { return p.name == "web"; });
    if (!has_web)
        findings.push_back({Severity::warning,
                            "procfile-web",
                            shown,
                            {},
                            "no 'web' process: the app deploys but serves no pages"});
}

void check_mount(const fs::path& app_dir, const std::optional<fs::path>& mount_option,
                 std::vector<Finding>& findings) {
    std::error_code ec;
    fs::path sibling = default_mount_dir(app_dir);
    fs::path mount = mount_option.value_or(sibling);
    std::string shown = mount.string();
    fs::path mount_real = real_path(mount);
    fs::path sibling_real = real_path(sibling);
    if (mount_real != sibling_real) {
        findings.push_back(
            {Severity::error,
             "mount-sibling",
             shown,
             {},
             fmt::format("the mount folder must be the app folder's sibling {} (the app "
                         "reads it as ../mount on the platform), not {}",
                         sibling.string(), mount_real.string())});
    }
    auto status = fs::status(mount, ec);
    if (fs::exists(status) && !fs::is_directory(status)) {
        findings.push_back({Severity::error,
                            "mount-not-dir",
                            shown,
                            {},
                            "the mount folder exists but is not a folder"});
    } else if (!fs::exists(status) && fs::is_symlink(fs::symlink_status(mount, ec))) {
        findings.push_back(
            {Severity::error, "mount-not-dir", shown, {}, "the mount folder is a broken symlink"});
    }
    fs::path app_real = fs::canonical(app_dir, ec);
    if (ec) return;
    if (auto repo = git_work_tree(app_real); repo && is_within(mount_real, *repo)) {
        // Ignored by git, the data is never committed, so the layout still
        // works locally (a demo repository holding app/ and mount/ does this).
        if (git_ignores_contents(*repo, mount_real))
            findings.push_back(
                {Severity::warning,
                 "mount-in-git",
                 shown,
                 {},
                 fmt::format("the mount folder {} is inside the git repository {} (git ignores "
                             "its files, so they are not committed); on the platform the mount "
                             "is outside the app's repository",
                             mount_real.string(), repo->string())});
        else
            findings.push_back(
                {Severity::error,
                 "mount-in-git",
                 shown,
                 {},
                 fmt::format("the mount folder {} is inside the app's git repository {}: its "
                             "data would be committed and deployed with the code; keep it "
                             "beside the repository",
                             mount_real.string(), repo->string())});
    }
}

}  // namespace

Result<ProjectToml> parse_project_toml(std::string_view text, std::string source) {
    auto parsed = parse_project(text, std::move(source));
    if (parsed.failure)
        return fail(parsed.failure->kind, located(parsed.project.source, parsed.failure->location,
                                                  parsed.failure->message));
    // Without a predeploy, a near miss ([scripts] prepdeploy) is the reason.
    if (!parsed.project.predeploy)
        for (const auto& problem : parsed.unknown_keys)
            if (problem.severity == Severity::error)
                return fail(ErrorKind::usage,
                            located(parsed.project.source, problem.location, problem.message));
    return std::move(parsed.project);
}

Result<ProjectToml> read_project_toml(const fs::path& file) {
    std::string shown = file.lexically_normal().string();
    auto text = read_small_file(file, k_max_config_bytes, shown);
    if (!text) {
        if (text.error().kind == ErrorKind::not_found)
            return fail(ErrorKind::not_found,
                        fmt::format("{}: no such file; the app folder needs a project.toml with "
                                    "[scripts] predeploy = \"SCRIPT\"",
                                    shown));
        return std::unexpected(text.error());
    }
    return parse_project_toml(*text, shown);
}

Result<fs::path> resolve_predeploy_script(const fs::path& app_dir, const ProjectToml& project) {
    Failure failure;
    return resolve_script(app_dir, project, failure);
}

fs::path default_mount_dir(const fs::path& app_dir) {
    fs::path lexical = (app_dir / ".." / "mount").lexically_normal();
    // The script resolves ../mount physically from its cwd; when app_dir goes
    // through a symlink that differs from the lexical answer, and the physical
    // one is what the script will write to.
    std::error_code ec;
    fs::path app_real = fs::canonical(app_dir, ec);
    if (ec) return lexical;
    fs::path parent = lexical.parent_path().empty() ? fs::path(".") : lexical.parent_path();
    fs::path parent_real = fs::weakly_canonical(parent, ec);
    if (!ec && parent_real == app_real.parent_path()) return lexical;
    return app_real.parent_path() / "mount";
}

std::optional<fs::path> layout_project_folder(const fs::path& dir) {
    fs::path app = dir.lexically_normal();
    if (app.filename().empty()) app = app.parent_path();  // "x/app/" -> "x/app"
    fs::path project = app.parent_path();
    if (project.empty() || project == app) return std::nullopt;
    std::error_code ec;
    if (!fs::is_directory(project / "mount", ec)) return std::nullopt;
    if (app.filename() != "app" && !fs::is_regular_file(app / "project.toml", ec))
        return std::nullopt;
    return project;
}

std::string display_path(const fs::path& app_dir, std::string_view name) {
    return (app_dir / fs::path(name)).lexically_normal().string();
}

std::string format_finding(const Finding& finding) {
    std::string_view severity = finding.severity == Severity::error ? "error" : "warning";
    std::string where = finding.file;
    if (!where.empty() && finding.location.line != 0) {
        where += fmt::format(":{}", finding.location.line);
        if (finding.location.column != 0) where += fmt::format(":{}", finding.location.column);
    }
    if (where.empty()) return fmt::format("{}: {}", severity, finding.message);
    return fmt::format("{}: {}: {}", where, severity, finding.message);
}

Procfile parse_procfile(std::string_view text, std::string source) {
    Procfile out;
    text = strip_bom(text);
    std::map<std::string, std::uint32_t, std::less<>> seen;
    std::uint32_t number = 0;
    while (!text.empty()) {
        ++number;
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.ends_with('\r')) line.remove_suffix(1);
        std::string_view content = trim_space(line);
        if (content.empty() || content.starts_with('#')) continue;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            out.findings.push_back({Severity::error,
                                    "procfile-syntax",
                                    source,
                                    {number, 1},
                                    fmt::format("expected 'name: command', got '{}'", content)});
            continue;
        }
        std::string_view name = line.substr(0, colon);
        bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-';
        });
        if (!valid) {
            out.findings.push_back(
                {Severity::error,
                 "procfile-name",
                 source,
                 {number, 1},
                 fmt::format("invalid process name '{}': use only letters, digits, '_' and '-', "
                             "at the start of the line",
                             name)});
            continue;
        }
        std::string_view command = trim_space(line.substr(colon + 1));
        if (command.empty()) {
            out.findings.push_back({Severity::error,
                                    "procfile-syntax",
                                    source,
                                    {number, static_cast<std::uint32_t>(colon + 2)},
                                    fmt::format("process '{}' has no command", name)});
            continue;
        }
        if (auto it = seen.find(name); it != seen.end()) {
            out.findings.push_back({Severity::error,
                                    "procfile-duplicate",
                                    source,
                                    {number, 1},
                                    fmt::format("process '{}' is defined twice (first on line {})",
                                                name, it->second)});
            continue;
        }
        seen.emplace(std::string(name), number);
        out.processes.push_back({std::string(name), std::string(command), number});
    }
    return out;
}

std::size_t CheckReport::errors() const {
    return static_cast<std::size_t>(std::count_if(
        findings.begin(), findings.end(), [](auto& f) { return f.severity == Severity::error; }));
}

std::size_t CheckReport::warnings() const {
    return findings.size() - errors();
}

CheckReport check_app_dir(const CheckOptions& options) {
    CheckReport report;
    std::error_code ec;
    if (!fs::is_directory(options.app_dir, ec)) {
        report.findings.push_back({Severity::error,
                                   "app-dir",
                                   options.app_dir.string(),
                                   {},
                                   "the app folder does not exist or is not a folder"});
        return report;
    }
    check_project(options.app_dir, report.findings);
    check_procfile(options.app_dir, report.findings);
    check_mount(options.app_dir, options.mount_dir, report.findings);
    return report;
}

}  // namespace de

#pragma once
// An app folder as the platform sees it: project.toml (only [scripts].predeploy
// matters to us; every other table and key is accepted and ignored), the
// Procfile, and the mount folder beside the app at ../mount.
//
// Parsing is pure (text in, values out) so it can be tested without files;
// the check_app_dir() linter gathers every finding instead of stopping at the
// first, because a user fixing an app folder wants the whole list at once.
// toml++ stays private to project.cpp.

#include <de/error.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de {

// 1-based; 0 means "no position" (the finding is about the whole file).
struct SourceLocation {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

struct ProjectToml {
    std::string source;                    // the name used in messages, e.g. "app/project.toml"
    std::optional<std::string> predeploy;  // [scripts].predeploy, as written
    SourceLocation predeploy_location;     // where that value is, for messages
};

// Parses project.toml text. A UTF-8 BOM and CRLF line ends are accepted.
// Malformed TOML, a [scripts] that is not a table, or a predeploy that is not
// a non-empty string give a usage error "SOURCE:LINE:COLUMN: what is wrong".
Result<ProjectToml> parse_project_toml(std::string_view text, std::string source = "project.toml");

// Reads and parses a project.toml file (not_found when there is none).
Result<ProjectToml> read_project_toml(const std::filesystem::path& file);

// Where the predeploy script named in project is: a readable regular file
// strictly inside app_dir (symlinks resolved). Errors name project.toml's
// line and column: not_found for a missing file, usage for a path that leaves
// the app folder or is not a file.
Result<std::filesystem::path> resolve_predeploy_script(const std::filesystem::path& app_dir,
                                                       const ProjectToml& project);

// APP_DIR/../mount, the platform's layout: what the script sees as ../mount.
std::filesystem::path default_mount_dir(const std::filesystem::path& app_dir);

// The platform's layout, my-project/app + my-project/mount: when dir is an
// app folder in it (named "app", or holding project.toml, with a "mount"
// folder beside it), the project folder (dir's parent, as given: pass an
// absolute path for an absolute answer). nullopt otherwise.
std::optional<std::filesystem::path> layout_project_folder(const std::filesystem::path& dir);

// How a file inside app_dir is named in messages ("project.toml" when app_dir
// is ".", else "APP_DIR/project.toml"), so the user can click or copy it.
std::string display_path(const std::filesystem::path& app_dir, std::string_view name);

enum class Severity { error, warning };

struct Finding {
    Severity severity = Severity::error;
    std::string rule;  // stable id, e.g. "procfile-syntax"; used by --json and the docs
    std::string file;  // as shown to the user; empty for findings about no single file
    SourceLocation location;
    std::string message;
};

// "FILE:LINE:COLUMN: error: MESSAGE" (the compiler style editors understand).
std::string format_finding(const Finding& finding);

struct ProcfileProcess {
    std::string name;
    std::string command;
    std::uint32_t line = 0;
};

struct Procfile {
    std::vector<ProcfileProcess> processes;
    std::vector<Finding> findings;  // malformed lines, bad names, duplicates
};

// Lines are "name: command" with name [A-Za-z0-9_-]+; blank lines and lines
// starting with '#' are ignored. BOM and CRLF are accepted.
Procfile parse_procfile(std::string_view text, std::string source = "Procfile");

struct CheckOptions {
    std::filesystem::path app_dir = ".";
    std::optional<std::filesystem::path> mount_dir;  // default: default_mount_dir(app_dir)
};

struct CheckReport {
    std::vector<Finding> findings;
    std::size_t errors() const;
    std::size_t warnings() const;
};

// Lints an app folder against the platform's rules:
// - project.toml parses, and its [scripts].predeploy (if any) names a readable
//   file inside the app folder that bash can parse (bash -n), without CRLF line
//   ends and without a shebang for another interpreter;
// - the Procfile exists, its lines are well formed, names are valid and unique,
//   and it has a web process (a warning: the app deploys but serves nothing);
// - the mount folder is APP_DIR/../mount, a folder (or not yet created), and
//   not inside the app's git work tree.
// Never fails as a call: an unreadable folder is itself a finding.
CheckReport check_app_dir(const CheckOptions& options);

}  // namespace de

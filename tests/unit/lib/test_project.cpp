// project.toml and Procfile parsing, predeploy script resolution, and each rule
// of the app-folder linter (check_app_dir) on real folders in a temp dir.
#include <de/project.hpp>

#include <doctest/doctest.h>
#include "support/temp_dir.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using de::test::TempDir;
using de::test::write_file;

namespace {

// A well-formed app folder: TMP/app with project.toml, fetchdata.sh, Procfile.
fs::path make_app(const TempDir& tmp) {
    fs::path app = tmp.path / "app";
    write_file(app / "project.toml", "[scripts]\npredeploy = \"fetchdata.sh\"\n");
    write_file(app / "fetchdata.sh", "#!/usr/bin/env bash\nset -e\necho hi > ../mount/x\n");
    write_file(app / "Procfile", "web: gunicorn app:server\nworker: python worker.py\n");
    return app;
}

bool has_rule(const de::CheckReport& report, std::string_view rule, de::Severity severity) {
    return std::any_of(report.findings.begin(), report.findings.end(), [&](const de::Finding& f) {
        return f.rule == rule && f.severity == severity;
    });
}

const de::Finding* find_rule(const de::CheckReport& report, std::string_view rule) {
    for (const auto& f : report.findings)
        if (f.rule == rule) return &f;
    return nullptr;
}

std::string all_findings(const de::CheckReport& report) {
    std::string out;
    for (const auto& f : report.findings)
        out += de::format_finding(f) + "\n";
    return out;
}

}  // namespace

TEST_CASE("project.toml: a valid file gives the predeploy script and where it is") {
    auto parsed = de::parse_project_toml("[scripts]\npredeploy = \"fetchdata.sh\"\n");
    REQUIRE(parsed);
    REQUIRE(parsed->predeploy);
    CHECK(*parsed->predeploy == "fetchdata.sh");
    CHECK(parsed->predeploy_location.line == 2);
    CHECK(parsed->predeploy_location.column == 13);
}

TEST_CASE("project.toml: other tables and keys are accepted and ignored") {
    auto parsed = de::parse_project_toml(
        "name = \"sales\"\n[project]\nversion = 3\n[scripts]\npostdeploy = \"x.sh\"\n"
        "predeploy = 'data/get.sh'\n[deploy.env]\nA = [1, 2]\n");
    REQUIRE(parsed);
    CHECK(parsed->predeploy == "data/get.sh");

    auto dotted = de::parse_project_toml("scripts.predeploy = \"a.sh\"\n");
    REQUIRE(dotted);
    CHECK(dotted->predeploy == "a.sh");
}

TEST_CASE("project.toml: no [scripts], or [scripts] without predeploy, is not an error") {
    auto none = de::parse_project_toml("[project]\nname = \"x\"\n");
    REQUIRE(none);
    CHECK_FALSE(none->predeploy);
    auto empty_file = de::parse_project_toml("");
    REQUIRE(empty_file);
    CHECK_FALSE(empty_file->predeploy);
    auto no_key = de::parse_project_toml("[scripts]\nother = \"y.sh\"\n");
    REQUIRE(no_key);
    CHECK_FALSE(no_key->predeploy);
}

TEST_CASE("project.toml: wrong types name the file, line and column") {
    SUBCASE("predeploy is an integer") {
        auto r = de::parse_project_toml("[scripts]\npredeploy = 5\n");
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == de::ErrorKind::usage);
        CHECK(r.error().message.starts_with("project.toml:2:13: "));
        CHECK(r.error().message.find("an integer") != std::string::npos);
    }
    SUBCASE("predeploy is an array") {
        auto r = de::parse_project_toml("\n\n[scripts]\n  predeploy = [\"a.sh\"]\n");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.starts_with("project.toml:4:15: "));
        CHECK(r.error().message.find("an array") != std::string::npos);
    }
    SUBCASE("scripts is a string") {
        auto r = de::parse_project_toml("scripts = \"fetchdata.sh\"\n", "app/project.toml");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.starts_with("app/project.toml:1:11: "));
        CHECK(r.error().message.find("must be a table") != std::string::npos);
    }
    SUBCASE("predeploy is empty") {
        auto r = de::parse_project_toml("[scripts]\npredeploy = \"  \"\n");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.starts_with("project.toml:2:13: "));
        CHECK(r.error().message.find("empty") != std::string::npos);
    }
}

TEST_CASE("project.toml: malformed TOML reports its line") {
    auto unterminated = de::parse_project_toml("[scripts]\n\npredeploy = \"fetchdata.sh\n");
    REQUIRE_FALSE(unterminated);
    CHECK(unterminated.error().kind == de::ErrorKind::usage);
    CHECK(unterminated.error().message.starts_with("project.toml:3:"));
    CHECK(unterminated.error().message.find("malformed TOML") != std::string::npos);

    auto duplicate = de::parse_project_toml("[scripts]\npredeploy = \"a\"\npredeploy = \"b\"\n");
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().message.starts_with("project.toml:3:"));

    auto bad_header = de::parse_project_toml("a = 1\n[scripts\npredeploy = \"a\"\n");
    REQUIRE_FALSE(bad_header);
    CHECK(bad_header.error().message.starts_with("project.toml:2:"));
}

TEST_CASE("project.toml: an unquoted script name says strings need quotes") {
    auto r = de::parse_project_toml("[scripts]\npredeploy = fetchdata.sh\r\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("project.toml:2:"));
    CHECK(r.error().message.find("(strings need quotes: predeploy = \"fetchdata.sh\")") !=
          std::string::npos);
    auto other = de::parse_project_toml("[scripts]\npredeploy = \"x\" junk\n");
    REQUIRE_FALSE(other);
    CHECK(other.error().message.find("strings need quotes") == std::string::npos);
}

TEST_CASE("project.toml: a BOM and CRLF line ends parse, and keep line numbers right") {
    auto bom = de::parse_project_toml("\xEF\xBB\xBF[scripts]\npredeploy = \"x.sh\"\n");
    REQUIRE(bom);
    CHECK(bom->predeploy == "x.sh");
    CHECK(bom->predeploy_location.line == 2);

    auto crlf = de::parse_project_toml("[scripts]\r\npredeploy = \"x.sh\"\r\n");
    REQUIRE(crlf);
    CHECK(crlf->predeploy == "x.sh");

    auto both = de::parse_project_toml("\xEF\xBB\xBF# c\r\n[scripts]\r\npredeploy = \"y.sh\"\r\n");
    REQUIRE(both);
    CHECK(both->predeploy == "y.sh");
    CHECK(both->predeploy_location.line == 3);

    auto crlf_bad = de::parse_project_toml("[scripts]\r\n\r\npredeploy = 'x\r\n");
    REQUIRE_FALSE(crlf_bad);
    CHECK(crlf_bad.error().message.starts_with("project.toml:3:"));
}

TEST_CASE("project.toml: read_project_toml reads a file, and a missing one is not_found") {
    TempDir tmp;
    write_file(tmp.path / "project.toml", "[scripts]\npredeploy = \"a.sh\"\n");
    auto ok = de::read_project_toml(tmp.path / "project.toml");
    REQUIRE(ok);
    CHECK(ok->predeploy == "a.sh");
    CHECK(ok->source == (tmp.path / "project.toml").string());

    auto missing = de::read_project_toml(tmp.path / "nope" / "project.toml");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == de::ErrorKind::not_found);
}

TEST_CASE("predeploy script: resolved inside the app folder, with clear errors otherwise") {
    TempDir tmp;
    fs::path app = make_app(tmp);
    auto project = de::parse_project_toml("[scripts]\npredeploy = \"fetchdata.sh\"\n");
    REQUIRE(project);

    SUBCASE("an existing script") {
        auto script = de::resolve_predeploy_script(app, *project);
        REQUIRE(script);
        CHECK(*script == fs::canonical(app / "fetchdata.sh"));
    }
    SUBCASE("a missing script names project.toml's line and the file looked for") {
        fs::remove(app / "fetchdata.sh");
        auto script = de::resolve_predeploy_script(app, *project);
        REQUIRE_FALSE(script);
        CHECK(script.error().kind == de::ErrorKind::not_found);
        CHECK(script.error().message.starts_with("project.toml:2:13: "));
        CHECK(script.error().message.find((app / "fetchdata.sh").string()) != std::string::npos);
    }
    SUBCASE("no predeploy key") {
        auto none = de::parse_project_toml("[scripts]\n");
        auto script = de::resolve_predeploy_script(app, *none);
        REQUIRE_FALSE(script);
        CHECK(script.error().message.find("no [scripts] predeploy") != std::string::npos);
    }
    SUBCASE("an absolute path") {
        auto abs = de::parse_project_toml("[scripts]\npredeploy = \"/bin/true\"\n");
        auto script = de::resolve_predeploy_script(app, *abs);
        REQUIRE_FALSE(script);
        CHECK(script.error().kind == de::ErrorKind::usage);
    }
    SUBCASE("a path out of the app folder, directly or through a symlink") {
        write_file(tmp.path / "outside.sh", "echo out\n");
        auto up = de::parse_project_toml("[scripts]\npredeploy = \"../outside.sh\"\n");
        auto script = de::resolve_predeploy_script(app, *up);
        REQUIRE_FALSE(script);
        CHECK(script.error().message.find("outside the app folder") != std::string::npos);

        fs::create_symlink(tmp.path / "outside.sh", app / "link.sh");
        auto link = de::parse_project_toml("[scripts]\npredeploy = \"link.sh\"\n");
        auto via_link = de::resolve_predeploy_script(app, *link);
        REQUIRE_FALSE(via_link);
        CHECK(via_link.error().message.find("outside the app folder") != std::string::npos);
    }
    SUBCASE("a folder, and a broken symlink") {
        fs::create_directories(app / "dir.sh");
        auto dir = de::parse_project_toml("[scripts]\npredeploy = \"dir.sh\"\n");
        auto script = de::resolve_predeploy_script(app, *dir);
        REQUIRE_FALSE(script);
        CHECK(script.error().message.find("not a regular file") != std::string::npos);

        fs::create_symlink(app / "gone.sh", app / "broken.sh");
        auto broken = de::parse_project_toml("[scripts]\npredeploy = \"broken.sh\"\n");
        auto r = de::resolve_predeploy_script(app, *broken);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == de::ErrorKind::not_found);
        CHECK(r.error().message.find("broken symlink") != std::string::npos);
    }
}

TEST_CASE("mount folder: the app folder's sibling, spelled as the user would") {
    CHECK(de::default_mount_dir("app-that-does-not-exist") == fs::path("mount"));
    CHECK(de::default_mount_dir("/srv/x/app/") == fs::path("/srv/x/mount"));
    TempDir tmp;
    fs::create_directories(tmp.path / "real" / "app");
    fs::create_directory_symlink(tmp.path / "real" / "app", tmp.path / "link");
    // Through a symlink the script's ../mount is the physical sibling.
    CHECK(de::default_mount_dir(tmp.path / "link") == fs::canonical(tmp.path / "real") / "mount");
    CHECK(de::display_path(".", "project.toml") == "project.toml");
    CHECK(de::display_path("a/b/", "Procfile") == "a/b/Procfile");
}

TEST_CASE("Procfile: well-formed lines, comments, blank lines, BOM and CRLF") {
    auto p = de::parse_procfile(
        "\xEF\xBB\xBF# processes\r\nweb: gunicorn app:server --workers 2\r\n\r\n"
        "worker_1:python worker.py\r\n  # indented comment\nclock-2: python clock.py");
    CHECK(p.findings.empty());
    REQUIRE(p.processes.size() == 3);
    CHECK(p.processes[0].name == "web");
    CHECK(p.processes[0].command == "gunicorn app:server --workers 2");
    CHECK(p.processes[0].line == 2);
    CHECK(p.processes[1].name == "worker_1");
    CHECK(p.processes[1].command == "python worker.py");
    CHECK(p.processes[2].name == "clock-2");
    CHECK(p.processes[2].line == 6);
}

TEST_CASE("Procfile: each malformed line is a finding with its line number") {
    auto p = de::parse_procfile(
        "web: gunicorn app:server\njust a command\nbad name: x\nworker:\nweb: again\n"
        " lead: x\n");
    REQUIRE(p.findings.size() == 5);
    CHECK(p.findings[0].rule == "procfile-syntax");
    CHECK(p.findings[0].location.line == 2);
    CHECK(p.findings[1].rule == "procfile-name");
    CHECK(p.findings[1].location.line == 3);
    CHECK(p.findings[2].rule == "procfile-syntax");
    CHECK(p.findings[2].location.line == 4);
    CHECK(p.findings[2].message.find("no command") != std::string::npos);
    CHECK(p.findings[3].rule == "procfile-duplicate");
    CHECK(p.findings[3].location.line == 5);
    CHECK(p.findings[3].message.find("line 1") != std::string::npos);
    CHECK(p.findings[4].rule == "procfile-name");
    CHECK(p.findings[4].location.line == 6);
    CHECK(p.processes.size() == 1);
    CHECK(de::format_finding(p.findings[0]) ==
          "Procfile:2:1: error: expected 'name: command', got 'just a command'");
}

TEST_CASE("check: a well-formed app folder has no findings") {
    TempDir tmp;
    fs::path app = make_app(tmp);
    auto report = de::check_app_dir({app, std::nullopt});
    CHECK_MESSAGE(report.findings.empty(), all_findings(report));
    fs::create_directories(tmp.path / "mount");
    report = de::check_app_dir({app, tmp.path / "mount"});
    CHECK_MESSAGE(report.errors() == 0, all_findings(report));
}

TEST_CASE("check: project.toml rules") {
    TempDir tmp;
    fs::path app = make_app(tmp);

    SUBCASE("malformed project.toml, with its position") {
        write_file(app / "project.toml", "[scripts]\npredeploy = = 1\n");
        auto report = de::check_app_dir({app, std::nullopt});
        const auto* f = find_rule(report, "project-toml");
        REQUIRE(f);
        CHECK(f->severity == de::Severity::error);
        CHECK(f->location.line == 2);
        CHECK(f->file == (app / "project.toml").string());
    }
    SUBCASE("wrong type") {
        write_file(app / "project.toml", "[scripts]\npredeploy = true\n");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "project-toml", de::Severity::error));
    }
    SUBCASE("missing script") {
        fs::remove(app / "fetchdata.sh");
        auto report = de::check_app_dir({app, std::nullopt});
        const auto* f = find_rule(report, "predeploy-script");
        REQUIRE(f);
        CHECK(f->severity == de::Severity::error);
        CHECK(f->location.line == 2);
        CHECK(f->location.column == 13);
    }
    SUBCASE("unreadable script") {
        if (::geteuid() == 0) return;  // root reads everything
        fs::permissions(app / "fetchdata.sh", fs::perms::none);
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "predeploy-script", de::Severity::error));
    }
    SUBCASE("bash cannot parse the script") {
        write_file(app / "fetchdata.sh", "#!/bin/bash\necho ok\nif true; then\n  echo x\n");
        auto report = de::check_app_dir({app, std::nullopt});
        const auto* f = find_rule(report, "script-syntax");
        REQUIRE_MESSAGE(f, all_findings(report));
        CHECK(f->severity == de::Severity::error);
        CHECK(f->location.line >= 3);
        CHECK(f->file == (app / "fetchdata.sh").string());
    }
    SUBCASE("CRLF line ends in the script") {
        write_file(app / "fetchdata.sh", "#!/bin/bash\necho a\r\necho b\r\n");
        auto report = de::check_app_dir({app, std::nullopt});
        const auto* f = find_rule(report, "script-crlf");
        REQUIRE(f);
        CHECK(f->severity == de::Severity::error);
        CHECK(f->location.line == 2);
    }
    SUBCASE("a shebang for another interpreter is a warning") {
        write_file(app / "fetchdata.sh", "#!/usr/bin/env python3\nprint(1)\n");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "script-shebang", de::Severity::warning));
        write_file(app / "fetchdata.sh", "#!/bin/sh\necho ok\n");
        CHECK_FALSE(has_rule(de::check_app_dir({app, std::nullopt}), "script-shebang",
                             de::Severity::warning));
    }
    SUBCASE("no project.toml or no predeploy is a warning, not an error") {
        write_file(app / "project.toml", "[project]\nname = 'x'\n");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "no-predeploy", de::Severity::warning));
        CHECK(report.errors() == 0);
        fs::remove(app / "project.toml");
        report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "project-toml", de::Severity::warning));
        CHECK(report.errors() == 0);
    }
}

TEST_CASE("check: Procfile rules") {
    TempDir tmp;
    fs::path app = make_app(tmp);

    SUBCASE("missing Procfile is an error") {
        fs::remove(app / "Procfile");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "procfile-missing", de::Severity::error));
    }
    SUBCASE("malformed lines are errors with their line") {
        write_file(app / "Procfile", "web: gunicorn app:server\nworker python w.py\n");
        auto report = de::check_app_dir({app, std::nullopt});
        const auto* f = find_rule(report, "procfile-syntax");
        REQUIRE(f);
        CHECK(f->location.line == 2);
        CHECK(de::format_finding(*f).starts_with((app / "Procfile").string() + ":2:1: error: "));
    }
    SUBCASE("duplicates are errors") {
        write_file(app / "Procfile", "web: a\nweb: b\n");
        CHECK(has_rule(de::check_app_dir({app, std::nullopt}), "procfile-duplicate",
                       de::Severity::error));
    }
    SUBCASE("no web process is a warning") {
        write_file(app / "Procfile", "worker: python worker.py\n");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "procfile-web", de::Severity::warning));
        CHECK(report.errors() == 0);
    }
}

TEST_CASE("check: mount folder rules") {
    TempDir tmp;
    fs::path app = make_app(tmp);

    SUBCASE("a mount folder that is not the sibling ../mount") {
        fs::create_directories(tmp.path / "elsewhere");
        auto report = de::check_app_dir({app, tmp.path / "elsewhere"});
        CHECK(has_rule(report, "mount-sibling", de::Severity::error));
        report = de::check_app_dir({app, app / "mount"});
        CHECK(has_rule(report, "mount-sibling", de::Severity::error));
    }
    SUBCASE("../mount is a file") {
        write_file(tmp.path / "mount", "not a folder");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "mount-not-dir", de::Severity::error));
    }
    SUBCASE("the mount folder inside the app's git repository") {
        // The repository holds both app/ and mount/ (a monorepo layout).
        fs::create_directories(tmp.path / ".git");
        auto report = de::check_app_dir({app, std::nullopt});
        const auto* f = find_rule(report, "mount-in-git");
        REQUIRE(f);
        CHECK(f->severity == de::Severity::error);
    }
    SUBCASE("inside the repository but ignored by git: only a warning") {
        if (std::system("git --version >/dev/null 2>&1") != 0) return;
        std::string init = "git init -q '" + tmp.path.string() + "'";
        REQUIRE(std::system(init.c_str()) == 0);
        write_file(tmp.path / ".gitignore", "/mount/*\n");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK(has_rule(report, "mount-in-git", de::Severity::warning));
        CHECK_MESSAGE(report.errors() == 0, all_findings(report));
        write_file(tmp.path / ".gitignore", "*.log\n");
        CHECK(
            has_rule(de::check_app_dir({app, std::nullopt}), "mount-in-git", de::Severity::error));
    }
    SUBCASE("mount-in-git with a relative app folder and no mount folder yet") {
        fs::create_directories(tmp.path / ".git");
        auto cwd = fs::current_path();
        fs::current_path(tmp.path);
        auto report = de::check_app_dir({"app", std::nullopt});
        fs::current_path(cwd);
        CHECK(has_rule(report, "mount-in-git", de::Severity::error));
    }
    SUBCASE("the app is a git repository and the mount is beside it: fine") {
        fs::create_directories(app / ".git");
        auto report = de::check_app_dir({app, std::nullopt});
        CHECK_MESSAGE(report.findings.empty(), all_findings(report));
    }
    SUBCASE("an app folder that does not exist") {
        auto report = de::check_app_dir({tmp.path / "nope", std::nullopt});
        CHECK(has_rule(report, "app-dir", de::Severity::error));
    }
}

TEST_CASE("project.toml: TOML errors in plain words, at the place to fix") {
    auto unterminated = de::parse_project_toml("[scripts]\npredeploy = \"fetchdata.sh\n");
    REQUIRE_FALSE(unterminated);
    // The opening quote, not the end of the line where the parser stopped.
    CHECK(unterminated.error().message ==
          "project.toml:2:13: malformed TOML: unterminated string: add the closing quote on the "
          "same line (a string over several lines needs triple quotes)");
    CHECK(unterminated.error().message.find("control characters") == std::string::npos);

    auto at_eof = de::parse_project_toml("[scripts]\npredeploy = 'fetchdata.sh");
    REQUIRE_FALSE(at_eof);
    CHECK(at_eof.error().message.find("unterminated string") != std::string::npos);

    auto duplicate = de::parse_project_toml("[scripts]\npredeploy = \"a\"\npredeploy = \"b\"\n");
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().message.find("duplicate key 'predeploy'") != std::string::npos);

    auto header = de::parse_project_toml("[scripts\npredeploy = \"a\"\n");
    REQUIRE_FALSE(header);
    CHECK(header.error().message.find("unclosed table header") != std::string::npos);

    auto no_value = de::parse_project_toml("[scripts]\npredeploy =\n");
    REQUIRE_FALSE(no_value);
    CHECK(no_value.error().message.find("missing value after '='") != std::string::npos);

    auto array = de::parse_project_toml("[scripts]\nx = [1, 2\n");
    REQUIRE_FALSE(array);
    CHECK(array.error().message.find("Error while parsing") == std::string::npos);
}

TEST_CASE("project.toml: a near miss of predeploy is the reason there is none") {
    auto typo = de::parse_project_toml("[scripts]\nprepdeploy = \"fetchdata.sh\"\n");
    REQUIRE_FALSE(typo);
    CHECK(typo.error().message ==
          "project.toml:2:1: unknown key 'prepdeploy' in [scripts]; did you mean 'predeploy'?");
    auto outside = de::parse_project_toml("predeploy = \"fetchdata.sh\"\n");
    REQUIRE_FALSE(outside);
    CHECK(outside.error().message.find("under [scripts]") != std::string::npos);
    // With predeploy present, other keys do not stop a run.
    CHECK(de::parse_project_toml("[scripts]\npredeploy = \"a\"\npredeply = \"b\"\n"));
}

TEST_CASE("check: unknown keys in project.toml, with a suggestion for near misses") {
    TempDir tmp;
    fs::path app = make_app(tmp);
    write_file(
        app / "project.toml",
        "[scripts]\npredeploy = \"fetchdata.sh\"\n  prepdeploy = \"x.sh\"\nbuild = \"b.sh\"\n"
        "[scrpts]\na = 1\n[project]\nname = \"x\"\n");
    auto report = de::check_app_dir({app, std::nullopt});
    std::string all = all_findings(report);
    std::string shown = (app / "project.toml").string();
    CHECK_MESSAGE(all.find(shown + ":3:3: error: unknown key 'prepdeploy' in [scripts]; did you "
                                   "mean 'predeploy'?") != std::string::npos,
                  all);
    CHECK_MESSAGE(
        all.find(shown + ":4:1: warning: unknown key 'build' in [scripts]") != std::string::npos,
        all);
    CHECK_MESSAGE(all.find("unknown table 'scrpts'; did you mean [scripts]?") != std::string::npos,
                  all);
    CHECK_MESSAGE(all.find("'project'") == std::string::npos, all);  // other tables: not ours
    CHECK(report.errors() == 2);
}

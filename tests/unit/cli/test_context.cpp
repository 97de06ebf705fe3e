// App selection and the confirmation rule, which guard destructive commands.
#include "context.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

TEST_CASE("resolve_app: -n wins, is checked, and is required for destructive commands") {
    de::cli::Context ctx;
    CHECK(de::cli::resolve_app(ctx, "sales-2", false).value() == "sales-2");
    auto bad = de::cli::resolve_app(ctx, "Sales_App", false);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == de::ErrorKind::usage);
    auto missing = de::cli::resolve_app(ctx, "", true);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("-n") != std::string::npos);
}

TEST_CASE("resolve_app: without -n the current folder's name is the app") {
    de::cli::Context ctx;
    auto old = std::filesystem::current_path();
    char tmpl[] = "/tmp/de-ctx.XXXXXX";
    std::filesystem::path base = ::mkdtemp(tmpl);
    std::filesystem::create_directory(base / "my-app");
    std::filesystem::create_directory(base / "Not_Valid");
    std::filesystem::current_path(base / "my-app");
    CHECK(de::cli::resolve_app(ctx, "", false).value() == "my-app");
    std::filesystem::current_path(base / "Not_Valid");
    auto bad = de::cli::resolve_app(ctx, "", false);
    std::filesystem::current_path(old);
    std::filesystem::remove_all(base);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("-n APP") != std::string::npos);
}

TEST_CASE("confirm: -y passes, no terminal refuses with a hint to pass -y") {
    de::cli::Context ctx;
    ctx.stdin_tty = false;
    CHECK(de::cli::confirm(ctx, "delete everything", true));
    auto refused = de::cli::confirm(ctx, "delete everything", false);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == de::ErrorKind::usage);
    CHECK(refused.error().message.find("-y") != std::string::npos);
}

namespace {
// A temporary folder tree, removed (and the working folder restored) at the end.
struct TempTree {
    std::filesystem::path old = std::filesystem::current_path();
    std::filesystem::path base;
    TempTree() {
        char tmpl[] = "/tmp/de-ctx.XXXXXX";
        base = std::filesystem::canonical(::mkdtemp(tmpl));
    }
    ~TempTree() {
        std::filesystem::current_path(old);
        std::filesystem::remove_all(base);
    }
};
}  // namespace

TEST_CASE("resolve_app: in the app/ + mount/ layout the project folder names the app") {
    TempTree t;
    namespace fs = std::filesystem;
    fs::create_directories(t.base / "my-project" / "app");
    fs::create_directories(t.base / "my-project" / "mount");
    // A folder holding project.toml with mount/ beside it, whatever its name.
    fs::create_directories(t.base / "sales" / "dash-app");
    fs::create_directories(t.base / "sales" / "mount");
    { std::ofstream(t.base / "sales" / "dash-app" / "project.toml") << "[scripts]\n"; }
    // app/ without mount/ beside it: not the layout, the folder's own name.
    fs::create_directories(t.base / "lonely" / "app");
    // Neither named app nor holding project.toml: not the layout.
    fs::create_directories(t.base / "other" / "web");
    fs::create_directories(t.base / "other" / "mount");

    de::cli::Context ctx;
    fs::current_path(t.base / "my-project" / "app");
    CHECK(de::cli::resolve_app(ctx, "", false).value() == "my-project");
    CHECK(ctx.default_app == "my-project");
    CHECK(ctx.default_app_origin == "from the project folder " + (t.base / "my-project").string());
    CHECK(de::cli::app_label(ctx, "my-project") == "'my-project' (from the project folder " +
                                                       (t.base / "my-project").string() +
                                                       "; pass -n to choose)");
    CHECK(de::cli::app_label(ctx, "other") == "'other'");

    de::cli::Context ctx2;
    fs::current_path(t.base / "sales" / "dash-app");
    CHECK(de::cli::resolve_app(ctx2, "", false).value() == "sales");

    de::cli::Context ctx3;
    fs::current_path(t.base / "lonely" / "app");
    CHECK(de::cli::resolve_app(ctx3, "", false).value() == "app");
    CHECK(ctx3.default_app_origin.find("current folder") != std::string::npos);

    de::cli::Context ctx4;
    fs::current_path(t.base / "other" / "web");
    CHECK(de::cli::resolve_app(ctx4, "", false).value() == "web");

    // An explicit folder (predeploy APP_DIR) instead of the current one.
    de::cli::Context ctx5;
    fs::current_path(t.base);
    de::cli::AppChoice choice;
    choice.folder = (t.base / "my-project" / "app").string();
    CHECK(de::cli::resolve_app(ctx5, "", choice).value() == "my-project");

    // -n given: no default recorded, no label.
    de::cli::Context ctx6;
    CHECK(de::cli::resolve_app(ctx6, "named", false).value() == "named");
    CHECK(ctx6.default_app.empty());
}

TEST_CASE("resolve_app: a required name says why") {
    de::cli::Context ctx;
    auto created = de::cli::resolve_app(
        ctx, "", de::cli::AppChoice{true, "apps create names a new app, so it needs the name", {}});
    REQUIRE_FALSE(created);
    CHECK(created.error().kind == de::ErrorKind::usage);
    CHECK(created.error().message ==
          "apps create names a new app, so it needs the name: pass -n APP");
}

TEST_CASE("confirm: the prompt text has the counts, the first paths and how many more") {
    de::cli::Confirmation what;
    what.action = "delete";
    what.counts = "12 files and 2 folders (3.0 KiB)";
    what.target = "from app:/data";
    for (int i = 0; i < 12; ++i)
        what.paths.push_back("app:/data/f" + std::to_string(i));
    std::string text = de::cli::confirmation_text(what);
    CHECK(text.find("delete 12 files and 2 folders (3.0 KiB) from app:/data:\n") !=
          std::string::npos);
    CHECK(text.find("  app:/data/f0\n") != std::string::npos);
    CHECK(text.find("  app:/data/f9\n") != std::string::npos);
    CHECK(text.find("f10") == std::string::npos);
    CHECK(text.find("  ... and 2 more\n") != std::string::npos);

    de::cli::Context ctx;
    ctx.stdin_tty = false;
    auto refused = de::cli::confirm(ctx, what, false);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == de::ErrorKind::usage);
    CHECK(refused.error().message.find("refusing to delete 12 files and 2 folders") !=
          std::string::npos);
    CHECK(refused.error().message.find("pass -y") != std::string::npos);
    CHECK(refused.error().message.find("--dry-run") != std::string::npos);
    what.dry_run_available = false;
    CHECK(de::cli::confirm(ctx, what, false).error().message.find("--dry-run") ==
          std::string::npos);
    CHECK(de::cli::confirm(ctx, what, true));
}

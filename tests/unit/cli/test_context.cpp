// App selection and the confirmation rule, which guard destructive commands.
#include "context.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>

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

// Configuration precedence (flags > environment > keyfile > defaults), the
// recorded origins, and the keyfile's safety rules.
#include <de/config.hpp>

#include <doctest/doctest.h>
#include "support/temp_dir.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

namespace fs = std::filesystem;
using de::test::TempDir;

namespace {

de::ConfigInputs inputs(std::map<std::string, std::string> env, const fs::path& keyfile) {
    de::ConfigInputs in;
    in.getenv = [env](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(std::string(name));
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    in.keyfile_path = keyfile;
    return in;
}

de::Keyfile sample_keyfile() {
    de::Keyfile k;
    k.default_host = "http://keyfile-host:8050";
    k.hosts["http://keyfile-host:8050"] = {"alice", "tok-a", 0};
    k.hosts["http://flag-host:1"] = {"carol", "tok-c", 0};
    return k;
}

}  // namespace

TEST_CASE("defaults apply when nothing is set") {
    TempDir dir;
    auto s = de::resolve_settings(inputs({}, dir.path / "keyfile"));
    REQUIRE(s);
    CHECK(s->host.value == "http://127.0.0.1:8050");
    CHECK(s->host.origin == de::Origin::default_value);
    CHECK_FALSE(s->token.is_set());
    CHECK_FALSE(s->api_key.is_set());
}

TEST_CASE("keyfile beats defaults, environment beats keyfile, flag beats environment") {
    TempDir dir;
    auto path = dir.path / "de-cli" / "keyfile";
    REQUIRE(de::write_keyfile(path, sample_keyfile()));

    auto from_keyfile = de::resolve_settings(inputs({}, path));
    REQUIRE(from_keyfile);
    CHECK(from_keyfile->host.value == "http://keyfile-host:8050");
    CHECK(from_keyfile->host.origin == de::Origin::keyfile);
    CHECK(from_keyfile->token.value == "tok-a");
    CHECK(from_keyfile->username.value == "alice");

    auto from_env =
        de::resolve_settings(inputs({{"DASH_ENTERPRISE_HOST", "http://env-host"}}, path));
    REQUIRE(from_env);
    CHECK(from_env->host.value == "http://env-host");
    CHECK(from_env->host.origin == de::Origin::environment);
    CHECK(from_env->host.source == "DASH_ENTERPRISE_HOST");
    CHECK_FALSE(from_env->token.is_set());  // no keyfile entry for that host

    auto in = inputs({{"DASH_ENTERPRISE_HOST", "http://env-host"}}, path);
    in.flag_host = "http://FLAG-host:1/";
    auto from_flag = de::resolve_settings(in);
    REQUIRE(from_flag);
    CHECK(from_flag->host.value == "http://flag-host:1");  // normalized
    CHECK(from_flag->host.origin == de::Origin::flag);
    CHECK(from_flag->token.value == "tok-c");  // the entry for the flag's host
    CHECK(from_flag->username.value == "carol");
}

TEST_CASE("environment credentials win over the keyfile's token") {
    TempDir dir;
    auto path = dir.path / "keyfile";
    REQUIRE(de::write_keyfile(path, sample_keyfile()));
    auto s = de::resolve_settings(
        inputs({{"DASH_ENTERPRISE_USERNAME", "bob"}, {"DASH_ENTERPRISE_PASSWORD", "key"}}, path));
    REQUIRE(s);
    CHECK(s->username.value == "bob");
    CHECK(s->username.origin == de::Origin::environment);
    CHECK(s->api_key.value == "key");
    CHECK_FALSE(s->token.is_set());
}

TEST_CASE("a token is never paired with another user's name") {
    TempDir dir;
    auto path = dir.path / "keyfile";
    REQUIRE(de::write_keyfile(path, sample_keyfile()));
    auto s = de::resolve_settings(inputs({{"DASH_ENTERPRISE_USERNAME", "mallory"}}, path));
    REQUIRE(s);
    CHECK(s->username.value == "mallory");
    CHECK_FALSE(s->token.is_set());
}

TEST_CASE("--no-keyfile ignores the keyfile entirely, even an unsafe one") {
    TempDir dir;
    auto path = dir.path / "keyfile";
    REQUIRE(de::write_keyfile(path, sample_keyfile()));
    ::chmod(path.c_str(), 0644);
    auto in = inputs({}, path);
    in.no_keyfile = true;
    auto s = de::resolve_settings(in);
    REQUIRE(s);
    CHECK(s->host.origin == de::Origin::default_value);
    CHECK_FALSE(s->token.is_set());
}

TEST_CASE("keyfile is written 0600 in a 0700 folder and refused when others can read it") {
    TempDir dir;
    auto path = dir.path / "de-cli" / "keyfile";
    REQUIRE(de::write_keyfile(path, sample_keyfile()));
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    auto back = de::read_keyfile(path);
    REQUIRE(back);
    CHECK(back->default_host == "http://keyfile-host:8050");
    CHECK(back->hosts.at("http://flag-host:1").token == "tok-c");

    ::chmod(path.c_str(), 0640);
    auto refused = de::read_keyfile(path);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == de::ErrorKind::auth);
    CHECK(refused.error().message.find("chmod 600") != std::string::npos);
    auto settings = de::resolve_settings(inputs({}, path));
    CHECK_FALSE(settings);
}

TEST_CASE("a missing keyfile is empty; a malformed one is an error") {
    TempDir dir;
    auto missing = de::read_keyfile(dir.path / "nope");
    REQUIRE(missing);
    CHECK(missing->hosts.empty());
    auto bad = dir.path / "bad";
    {
        FILE* f = std::fopen(bad.c_str(), "w");
        std::fputs("{not json", f);
        std::fclose(f);
    }
    ::chmod(bad.c_str(), 0600);
    CHECK_FALSE(de::read_keyfile(bad));
}

TEST_CASE("host URLs are normalized and checked") {
    CHECK(de::normalize_host("HTTPS://De.Example.com/").value() == "https://de.example.com");
    CHECK(de::normalize_host("http://127.0.0.1:8050").value() == "http://127.0.0.1:8050");
    // A bare host (as DASH_ENTERPRISE_HOST has it in existing `de` setups): https://,
    // or http:// for a loopback name.
    CHECK(de::normalize_host("de.example.com").value() == "https://de.example.com");
    CHECK(de::normalize_host("De.Example.com:8443/").value() == "https://de.example.com:8443");
    CHECK(de::normalize_host("localhost:8050").value() == "http://localhost:8050");
    CHECK(de::normalize_host("127.0.0.1:8050").value() == "http://127.0.0.1:8050");
    CHECK(de::normalize_host("[::1]:8050").value() == "http://[::1]:8050");
    CHECK(de::normalize_host("localhost.example.com").value() == "https://localhost.example.com");
    CHECK_FALSE(de::normalize_host(""));
    CHECK_FALSE(de::normalize_host("ftp://x"));
    CHECK_FALSE(de::normalize_host("http://"));
    CHECK_FALSE(de::normalize_host("http://user:pw@host"));
    auto bad = de::resolve_settings([] {
        de::ConfigInputs in;
        in.no_keyfile = true;
        in.flag_host = "ftp://nonsense";
        in.getenv = [](std::string_view) { return std::optional<std::string>(); };
        return in;
    }());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == de::ErrorKind::usage);
    CHECK(bad.error().message.find("--host") != std::string::npos);
}

TEST_CASE("the default keyfile path follows XDG_CONFIG_HOME, then HOME") {
    auto env = [](std::map<std::string, std::string> m) {
        return [m](std::string_view n) -> std::optional<std::string> {
            auto it = m.find(std::string(n));
            if (it == m.end()) return std::nullopt;
            return it->second;
        };
    };
    CHECK(de::default_keyfile_path(env({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}})).value() ==
          "/x/de-cli/keyfile");
    CHECK(de::default_keyfile_path(env({{"HOME", "/h"}})).value() == "/h/.config/de-cli/keyfile");
    // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
    CHECK(de::default_keyfile_path(env({{"XDG_CONFIG_HOME", "rel"}, {"HOME", "/h"}})).value() ==
          "/h/.config/de-cli/keyfile");
    CHECK_FALSE(de::default_keyfile_path(env({})));
}

TEST_CASE("logout leaves the host logged into last as the default") {
    de::Keyfile k;
    k.hosts["http://aaa.example"] = {"u", "t", 0, 10};
    k.hosts["https://b.example"] = {"u", "t", 0, 30};
    k.hosts["https://c.example"] = {"u", "t", 0, 20};
    k.default_host = "https://b.example";
    // Not the first name in order (aaa): the one logged into most recently.
    CHECK(de::default_host_after_logout(k, "https://b.example") == "https://c.example");
    // Logging out of another host keeps the default.
    CHECK(de::default_host_after_logout(k, "http://aaa.example") == "https://b.example");
    // The last host stays the default, so commands ask to log in there again.
    de::Keyfile one;
    one.hosts["https://b.example"] = {"u", "t", 0, 30};
    one.default_host = "https://b.example";
    CHECK(de::default_host_after_logout(one, "https://b.example") == "https://b.example");
}

// The resume journal of resumable uploads: where it lives, what names it, that
// it round-trips, is private (0600) and replaced atomically, and how
// Upload-Parts-Done is read.
#include "../../../lib/src/upload_journal.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace de::detail;
namespace fs = std::filesystem;
using de::test::TempDir;

namespace {

UploadJournal sample() {
    UploadJournal j;
    j.upload_url =
        "http://127.0.0.1:8050/api/v1/apps/sales/uploads/0123456789abcdef0123456789abcdef";
    j.host = "http://127.0.0.1:8050";
    j.app = "sales";
    j.remote = "data/big.parquet";
    j.local = "/home/me/big.parquet";
    j.identity = {2147483648ULL, 1763781234123456789LL, 2049, 131077};
    j.part_size = 4 << 20;
    j.created_unix = 1763781234;
    return j;
}

}  // namespace

TEST_CASE("the journal folder follows XDG_STATE_HOME, else HOME") {
    const char* old_state = std::getenv("XDG_STATE_HOME");
    const char* old_home = std::getenv("HOME");
    std::string saved_state = old_state ? old_state : "";
    std::string saved_home = old_home ? old_home : "";
    ::setenv("XDG_STATE_HOME", "/x/state", 1);
    CHECK(default_journal_dir() == fs::path("/x/state/de-cli/uploads"));
    ::unsetenv("XDG_STATE_HOME");
    ::setenv("HOME", "/home/u", 1);
    CHECK(default_journal_dir() == fs::path("/home/u/.local/state/de-cli/uploads"));
    // A relative XDG_STATE_HOME is invalid per the spec and ignored.
    ::setenv("XDG_STATE_HOME", "rel", 1);
    CHECK(default_journal_dir() == fs::path("/home/u/.local/state/de-cli/uploads"));
    if (old_state)
        ::setenv("XDG_STATE_HOME", saved_state.c_str(), 1);
    else
        ::unsetenv("XDG_STATE_HOME");
    if (old_home)
        ::setenv("HOME", saved_home.c_str(), 1);
    else
        ::unsetenv("HOME");
}

TEST_CASE("the journal is named by host, app, remote path and local file") {
    fs::path dir = "/j";
    auto a = journal_path(dir, "http://h:1", "app", "a/b", "/l/f");
    CHECK(a == journal_path(dir, "http://h:1", "app", "a/b", "/l/f"));
    CHECK(a.parent_path() == dir);
    CHECK(a.extension() == ".json");
    CHECK(a != journal_path(dir, "http://h:2", "app", "a/b", "/l/f"));
    CHECK(a != journal_path(dir, "http://h:1", "app2", "a/b", "/l/f"));
    CHECK(a != journal_path(dir, "http://h:1", "app", "a/c", "/l/f"));
    CHECK(a != journal_path(dir, "http://h:1", "app", "a/b", "/l/g"));
    // Fields are separated, not just concatenated.
    CHECK(journal_path(dir, "ab", "c", "d", "e") != journal_path(dir, "a", "bc", "d", "e"));
}

TEST_CASE("a journal round-trips, is 0600 and leaves no temporary file") {
    TempDir tmp;
    fs::path file = tmp.path / "sub" / "j.json";
    CHECK_FALSE(load_journal(file));
    auto j = sample();
    REQUIRE(save_journal(file, j));
    auto back = load_journal(file);
    REQUIRE(back);
    CHECK(back->upload_url == j.upload_url);
    CHECK(back->host == j.host);
    CHECK(back->app == j.app);
    CHECK(back->remote == j.remote);
    CHECK(back->local == j.local);
    CHECK(back->identity == j.identity);
    CHECK(back->part_size == j.part_size);
    CHECK(back->created_unix == j.created_unix);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(file.parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    // Replacing keeps one file: the new content, no leftovers.
    j.upload_url += "x";
    REQUIRE(save_journal(file, j));
    CHECK(load_journal(file)->upload_url == j.upload_url);
    int entries = 0;
    for (const auto& e : fs::directory_iterator(file.parent_path())) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);

    remove_journal(file);
    CHECK_FALSE(fs::exists(file));
    remove_journal(file);  // missing is fine
}

TEST_CASE("a pending creation (key, no URL yet) round-trips; a killed write's temp file goes") {
    TempDir tmp;
    fs::path file = tmp.path / "j.json";
    auto j = sample();
    j.upload_url.clear();
    REQUIRE(save_journal(file, j));
    CHECK_FALSE(load_journal(file));  // neither URL nor key: none
    j.creation_key = "0123abcd";
    REQUIRE(save_journal(file, j));
    auto back = load_journal(file);
    REQUIRE(back);
    CHECK(back->upload_url.empty());
    CHECK(back->creation_key == "0123abcd");

    // A run killed between writing its temp file and the rename left this.
    const fs::path stale = tmp.path / ".j.json.deadbeef.tmp";
    const fs::path other = tmp.path / ".k.json.deadbeef.tmp";  // another journal's
    { std::ofstream(stale) << "{"; }
    { std::ofstream(other) << "{"; }
    REQUIRE(save_journal(file, j));
    CHECK_FALSE(fs::exists(stale));
    CHECK(fs::exists(other));
    { std::ofstream(stale) << "{"; }
    remove_journal(file);
    CHECK_FALSE(fs::exists(stale));
    CHECK_FALSE(fs::exists(file));
}

TEST_CASE("a damaged journal reads as none (the upload starts over)") {
    TempDir tmp;
    fs::path file = tmp.path / "j.json";
    for (std::string text : {"", "{", "[]", "{\"version\":1}", "{\"version\":99}"}) {
        std::ofstream(file, std::ios::trunc) << text;
        CHECK_FALSE(load_journal(file));
    }
}

TEST_CASE("local identity compares every field") {
    LocalIdentity a{1, 2, 3, 4};
    CHECK(a == LocalIdentity{1, 2, 3, 4});
    CHECK(a != LocalIdentity{9, 2, 3, 4});
    CHECK(a != LocalIdentity{1, 9, 3, 4});
    CHECK(a != LocalIdentity{1, 2, 9, 4});
    CHECK(a != LocalIdentity{1, 2, 3, 9});
}

TEST_CASE("Upload-Parts-Done ranges") {
    auto none = parse_parts_done("", 4);
    REQUIRE(none);
    CHECK(*none == std::vector<bool>{false, false, false, false});
    auto some = parse_parts_done("0-1,3", 5);
    REQUIRE(some);
    CHECK(*some == std::vector<bool>{true, true, false, true, false});
    auto spaced = parse_parts_done(" 0 - 2 , 4 ", 5);
    REQUIRE(spaced);
    CHECK(*spaced == std::vector<bool>{true, true, true, false, true});
    CHECK_FALSE(parse_parts_done("5", 5));    // beyond the last part
    CHECK_FALSE(parse_parts_done("3-1", 5));  // backwards
    CHECK_FALSE(parse_parts_done("a", 5));
    CHECK_FALSE(parse_parts_done("1,", 5));
    CHECK_FALSE(parse_parts_done("-1", 5));
}

// Include/exclude globs as rsync and .gitignore users read them.
#include <de/glob.hpp>

#include <doctest/doctest.h>

TEST_CASE("a pattern without '/' matches the last component") {
    CHECK(de::glob_match("*.csv", "a.csv"));
    CHECK(de::glob_match("*.csv", "data/2026/a.csv"));
    CHECK_FALSE(de::glob_match("*.csv", "a.csv.gz"));
    CHECK(de::glob_match("data", "x/data"));
}

TEST_CASE("a pattern with '/' matches the whole path; a leading '/' anchors") {
    CHECK(de::glob_match("data/*.csv", "data/a.csv"));
    CHECK_FALSE(de::glob_match("data/*.csv", "data/sub/a.csv"));
    CHECK_FALSE(de::glob_match("data/*.csv", "x/data/a.csv"));
    CHECK(de::glob_match("/tmp", "tmp"));
    CHECK_FALSE(de::glob_match("/tmp", "a/tmp"));
    CHECK(de::glob_match("cache/", "cache"));
}

TEST_CASE("** crosses folders, and **/ may stand for none") {
    CHECK(de::glob_match("data/**", "data/a/b/c.bin"));
    CHECK(de::glob_match("data/**/*.csv", "data/a.csv"));
    CHECK(de::glob_match("data/**/*.csv", "data/x/y/a.csv"));
    CHECK_FALSE(de::glob_match("data/**/*.csv", "other/x/a.csv"));
    CHECK(de::glob_match("**/*.tmp", "a.tmp"));
}

TEST_CASE("?, classes and escapes") {
    CHECK(de::glob_match("file?.txt", "file1.txt"));
    CHECK_FALSE(de::glob_match("file?.txt", "file10.txt"));
    CHECK_FALSE(de::glob_match("a?b", "a/b"));
    CHECK(de::glob_match("[a-c]*.log", "b1.log"));
    CHECK_FALSE(de::glob_match("[a-c]*.log", "d1.log"));
    CHECK(de::glob_match("[!0-9]*", "x9"));
    CHECK_FALSE(de::glob_match("[!0-9]*", "9x"));
    CHECK(de::glob_match("\\*.txt", "*.txt"));
    CHECK_FALSE(de::glob_match("\\*.txt", "a.txt"));
    CHECK(de::glob_match("[oops", "[oops"));  // unterminated class: literal
    CHECK_FALSE(de::glob_match("", "a"));
}

TEST_CASE("PathFilter: excluded folders prune their subtree; includes select files") {
    de::PathFilter none;
    CHECK(none.accepts_file("anything/at/all"));
    CHECK(none.empty());

    de::PathFilter filter({"*.csv", "docs/**"}, {"tmp", "*.bak.csv"});
    CHECK(filter.accepts_file("a.csv"));
    CHECK(filter.accepts_file("x/y/a.csv"));
    CHECK(filter.accepts_file("docs/readme.md"));
    CHECK_FALSE(filter.accepts_file("a.parquet"));
    CHECK_FALSE(filter.accepts_file("tmp/a.csv"));      // under an excluded folder
    CHECK_FALSE(filter.accepts_file("x/tmp/y/a.csv"));  // at any depth
    CHECK_FALSE(filter.accepts_file("old.bak.csv"));    // exclude wins over include
    CHECK_FALSE(filter.enters_dir("tmp"));
    CHECK(filter.enters_dir("data"));
}

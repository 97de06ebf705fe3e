// Include/exclude globs as rsync and .gitignore users read them.
#include <de/glob.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <string_view>

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

TEST_CASE("glob_match is linear in the name: no exponential backtracking") {
    // A backtracking matcher tries every split of every '*' here: more than
    // 30 s for this pattern against a 60-character name with no 'b'.
    const std::string name(60, 'a');
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(de::glob_match("*a*a*a*a*a*a*a*a*a*b", name));
    CHECK_FALSE(de::glob_match("**a**a**a**a**a**a**a**a**a**b", name + "/" + name));
    CHECK(de::glob_match("*a*a*a*a*a*a*a*a*a*", name));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < std::chrono::milliseconds(10));
}

namespace {
// The obvious backtracking matcher, as an oracle for short inputs only.
bool reference_match(std::string_view pat, std::string_view str) {
    while (!pat.empty()) {
        if (pat[0] == '*') {
            bool any_depth = pat.size() > 1 && pat[1] == '*';
            std::string_view rest = pat.substr(any_depth ? 2 : 1);
            if (any_depth && !rest.empty() && rest[0] == '/' &&
                reference_match(rest.substr(1), str))
                return true;
            for (std::size_t k = 0;; ++k) {
                if (reference_match(rest, str.substr(k))) return true;
                if (k >= str.size() || (!any_depth && str[k] == '/')) return false;
            }
        }
        if (str.empty()) return false;
        std::size_t used = 1;
        if (pat[0] == '?') {
            if (str[0] == '/') return false;
        } else if (pat[0] == '[') {
            std::size_t i = 1;
            bool negate = i < pat.size() && (pat[i] == '!' || pat[i] == '^');
            if (negate) ++i;
            std::size_t start = i;
            bool hit = false;
            for (; i < pat.size(); ++i) {
                if (pat[i] == ']' && i > start) break;
                char lo = pat[i], hi = pat[i];
                if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
                    hi = pat[i + 2];
                    i += 2;
                }
                if (lo <= str[0] && str[0] <= hi) hit = true;
            }
            if (i >= pat.size()) {
                if (str[0] != '[') return false;
            } else {
                if (str[0] == '/' || hit == negate) return false;
                used = i + 1;
            }
        } else if (pat[0] == '\\' && pat.size() > 1) {
            if (pat[1] != str[0]) return false;
            used = 2;
        } else if (pat[0] != str[0]) {
            return false;
        }
        pat.remove_prefix(used);
        str.remove_prefix(1);
    }
    return str.empty();
}
}  // namespace

TEST_CASE("glob_match agrees with a backtracking oracle on random short inputs") {
    std::mt19937 rng(20261206);
    const std::string pattern_chars = "ab/*?[]!-\\";
    const std::string name_chars = "ab/[]-\\*";
    int matches = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string pat, name;
        for (int i = 0, n = static_cast<int>(rng() % 9); i < n; ++i)
            pat += pattern_chars[rng() % pattern_chars.size()];
        for (int i = 0, n = static_cast<int>(rng() % 9); i < n; ++i)
            name += name_chars[rng() % name_chars.size()];
        if (pat.empty() || pat[0] == '/' || pat.back() == '/') continue;
        // Whole-path matching (a pattern with '/') and last-component matching
        // both end in the same core; compare through the public entry point.
        std::string anchored = "/" + pat;
        bool expected = reference_match(pat, name);
        INFO("pattern '", pat, "' name '", name, "'");
        CHECK(de::glob_match(anchored, name) == expected);
        matches += expected;
    }
    CHECK(matches > 100);  // the generator does reach matching cases
}

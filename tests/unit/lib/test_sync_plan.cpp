// The sync planner and its rules: order, equality, filters, guards,
// fingerprints and plan files. Pure functions, so no server is needed here;
// the integration tests drive the same code against a real de-server.

#include <de/sync.hpp>

#include <doctest/doctest.h>

#include <algorithm>

using namespace de;

namespace {

SyncEntry file(std::string path, std::uint64_t size, std::int64_t mtime,
               std::optional<std::string> sha = std::nullopt) {
    return SyncEntry{std::move(path), EntryType::file, size, mtime, std::move(sha)};
}
SyncEntry dir(std::string path) {
    return SyncEntry{std::move(path), EntryType::dir, 0, 0, std::nullopt};
}

std::vector<SyncEntry> sorted(std::vector<SyncEntry> v) {
    sort_sync_entries(v);
    return v;
}

std::vector<std::string> ops_of(const SyncPlan& plan) {
    std::vector<std::string> out;
    for (const auto& op : plan.ops)
        out.push_back(std::string(to_string(op.action)) + " " + op.path);
    return out;
}

const std::int64_t T = 1'763'781'234'123'456'789;

}  // namespace

TEST_CASE("sync paths sort depth first, siblings by bytewise name") {
    CHECK(sync_path_less("a", "a/b"));
    CHECK(sync_path_less("a/b", "a-b"));  // bytewise "a-b" < "a/b", depth first the other way
    CHECK(sync_path_less("a/z", "a0"));
    CHECK_FALSE(sync_path_less("a", "a"));
    std::vector<SyncEntry> v{file("a-b", 1, 0), file("a/b", 1, 0), dir("a"), file("B", 1, 0)};
    sort_sync_entries(v);
    CHECK(v[0].path == "B");
    CHECK(v[1].path == "a");
    CHECK(v[2].path == "a/b");
    CHECK(v[3].path == "a-b");
}

TEST_CASE("mtimes compare to the microsecond") {
    CHECK(mtime_equal(T, T));
    CHECK(mtime_equal(1'000'000'123, 1'000'000'999));
    CHECK_FALSE(mtime_equal(1'000'000'999, 1'000'001'000));
    CHECK(mtime_equal(-1, -999));
}

TEST_CASE("globs") {
    CHECK(sync_glob_match("*.tmp", "x.tmp"));
    CHECK(sync_glob_match("*.tmp", "a/b/x.tmp"));       // no '/': base name anywhere
    CHECK_FALSE(sync_glob_match("/*.tmp", "a/x.tmp"));  // anchored
    CHECK(sync_glob_match("/*.tmp", "x.tmp"));
    CHECK(sync_glob_match("data/*.csv", "data/x.csv"));
    CHECK_FALSE(sync_glob_match("data/*.csv", "data/sub/x.csv"));  // '*' stays in one folder
    CHECK(sync_glob_match("data/**/*.csv", "data/sub/deep/x.csv"));
    CHECK(sync_glob_match("data/**/*.csv", "data/x.csv"));  // '**/' may match no folder
    CHECK(sync_glob_match("file?.h5", "file1.h5"));
    CHECK_FALSE(sync_glob_match("file?.h5", "file12.h5"));
    CHECK(sync_glob_match("[ab]*.txt", "b1.txt"));
    CHECK_FALSE(sync_glob_match("[!ab]*.txt", "b1.txt"));
    CHECK(sync_glob_match("cache/", "cache"));
}

TEST_CASE("filter: an excluded folder excludes its subtree; includes pick files") {
    std::vector<std::string> inc;
    std::vector<std::string> exc{"cache", "*.tmp"};
    CHECK_FALSE(sync_filter_accepts("cache", EntryType::dir, inc, exc));
    CHECK_FALSE(sync_filter_accepts("cache/a/b.bin", EntryType::file, inc, exc));
    CHECK_FALSE(sync_filter_accepts("x/y.tmp", EntryType::file, inc, exc));
    CHECK(sync_filter_accepts("x/y.csv", EntryType::file, inc, exc));
    std::vector<std::string> inc2{"*.parquet"};
    CHECK(sync_filter_accepts("d/a.parquet", EntryType::file, inc2, exc));
    CHECK_FALSE(sync_filter_accepts("d/a.csv", EntryType::file, inc2, exc));
    CHECK(sync_filter_accepts("d", EntryType::dir, inc2, exc));  // walked through
}

TEST_CASE("planner: new, changed, unchanged") {
    auto src = sorted(
        {dir("d"), file("d/a", 10, T), file("d/b", 20, T), file("c", 5, T), file("e", 7, T)});
    auto dst = sorted({dir("d"), file("d/a", 10, T), file("d/b", 21, T), file("c", 5, T + 5000)});
    SyncOptions o;
    auto plan = plan_sync(src, dst, SyncDirection::push, o);
    CHECK(ops_of(plan) == std::vector<std::string>{"transfer c", "transfer d/b", "transfer e"});
    CHECK(plan.ops[0].reason == "mtime");
    CHECK(plan.ops[0].replace);
    CHECK(plan.ops[1].reason == "size");
    CHECK(plan.ops[2].reason == "new");
    CHECK_FALSE(plan.ops[2].replace);
    CHECK(plan.unchanged_files == 1);
    CHECK(plan.unchanged_bytes == 10);
    CHECK(plan.source_files == 4);
}

TEST_CASE("planner: identical sides plan nothing") {
    auto side = sorted({dir("x"), file("x/1", 1, T), file("x/2", 2, T), file("y", 3, T)});
    auto plan = plan_sync(side, side, SyncDirection::pull, SyncOptions{});
    CHECK(plan.ops.empty());
    CHECK(plan.unchanged_files == 3);
}

TEST_CASE("planner: extraneous entries are deleted only with --delete, folders in one op") {
    auto src = sorted({file("keep", 1, T)});
    auto dst = sorted({file("keep", 1, T), dir("old"), dir("old/sub"), file("old/sub/a", 4, T),
                       file("old/b", 5, T), file("stray", 6, T)});
    SyncOptions o;
    CHECK(plan_sync(src, dst, SyncDirection::push, o).ops.empty());
    o.delete_extraneous = true;
    auto plan = plan_sync(src, dst, SyncDirection::push, o);
    REQUIRE(ops_of(plan) == std::vector<std::string>{"delete old", "delete stray"});
    CHECK(plan.ops[0].type == EntryType::dir);
    CHECK(plan.ops[0].files == 2);
    CHECK(plan.ops[0].size == 9);
    CHECK(plan_summary(plan).files_deleted == 3);
}

TEST_CASE("planner: excluded destination files survive --delete") {
    auto src = sorted({file("a", 1, T)});
    auto dst = sorted({file("a", 1, T), dir("old"), file("old/x.tmp", 1, T), file("old/y", 1, T),
                       file("z.tmp", 1, T)});
    SyncOptions o;
    o.delete_extraneous = true;
    o.exclude = {"*.tmp"};
    auto plan = plan_sync(src, dst, SyncDirection::push, o);
    // "old" holds a protected file, so only its accepted file goes.
    CHECK(ops_of(plan) == std::vector<std::string>{"delete old/y"});
}

TEST_CASE("planner: excluded source files are not sent") {
    auto src =
        sorted({dir("cache"), file("cache/big", 100, T), file("a.csv", 1, T), file("b.tmp", 1, T)});
    SyncOptions o;
    o.exclude = {"cache", "*.tmp"};
    auto plan = plan_sync(src, {}, SyncDirection::push, o);
    CHECK(ops_of(plan) == std::vector<std::string>{"transfer a.csv"});
    CHECK(plan.excluded == 3);
}

TEST_CASE("planner: empty folders are created; folders with new content are implied") {
    auto src = sorted({dir("empty"), dir("full"), dir("full/deeper"), file("full/deeper/f", 1, T)});
    auto plan = plan_sync(src, {}, SyncDirection::push, SyncOptions{});
    CHECK(ops_of(plan) == std::vector<std::string>{"mkdir empty", "transfer full/deeper/f"});
}

TEST_CASE("planner: --checksum compares hashes, not mtimes") {
    std::string h1(64, 'a'), h2(64, 'b');
    auto src = sorted({file("same", 3, T, h1), file("diff", 3, T, h1)});
    auto dst = sorted({file("same", 3, T + 9'000'000, h1), file("diff", 3, T, h2)});
    SyncOptions o;
    o.checksum = true;
    auto push = plan_sync(src, dst, SyncDirection::push, o);
    CHECK(ops_of(push) == std::vector<std::string>{"transfer diff"});
    CHECK(push.ops[0].reason == "checksum");
    REQUIRE(push.ops[0].dest_sha256);
    CHECK(*push.ops[0].dest_sha256 == h2);
    // Pulling, the equal file's local mtime follows the server without a download.
    auto pull = plan_sync(src, dst, SyncDirection::pull, o);
    CHECK(ops_of(pull) == std::vector<std::string>{"transfer diff", "touch same"});
}

TEST_CASE("planner: a file replacing a folder waits for the delete") {
    auto src = sorted({file("x", 1, T)});
    auto dst = sorted({dir("x"), file("x/inner", 1, T)});
    SyncOptions o;
    auto no_delete = plan_sync(src, dst, SyncDirection::push, o);
    REQUIRE(no_delete.ops.size() == 1);  // left to fail: nothing is deleted without --delete
    CHECK(no_delete.ops[0].action == SyncOp::Action::transfer);
    o.delete_extraneous = true;
    auto plan = plan_sync(src, dst, SyncDirection::push, o);
    REQUIRE(ops_of(plan) == std::vector<std::string>{"delete x", "transfer x"});
    CHECK(plan.ops[1].after_delete);
}

TEST_CASE("planner: a folder replacing a file waits for the delete, with its contents") {
    auto src = sorted({dir("x"), file("x/a", 1, T), file("y", 1, T)});
    auto dst = sorted({file("x", 1, T), file("y", 1, T)});
    SyncOptions o;
    o.delete_extraneous = true;
    auto plan = plan_sync(src, dst, SyncDirection::push, o);
    REQUIRE(ops_of(plan) == std::vector<std::string>{"delete x", "transfer x/a"});
    CHECK(plan.ops[1].after_delete);
}

TEST_CASE("delete guards: max-delete, empty source, missing source") {
    auto dst = sorted({file("a", 1, T), file("b", 1, T), file("c", 1, T)});
    SyncOptions o;
    o.delete_extraneous = true;

    SUBCASE("empty source refuses unless forced") {
        auto plan = plan_sync({}, dst, SyncDirection::push, o);
        CHECK(plan.ops.size() == 3);
        auto st = check_delete_guards(plan, o, true);
        REQUIRE_FALSE(st);
        CHECK(st.error().kind == ErrorKind::conflict);
        CHECK(st.error().message.find("--force") != std::string::npos);
        o.force = true;
        CHECK(check_delete_guards(plan, o, true));
    }
    SUBCASE("missing source refuses unless forced") {
        auto plan = plan_sync({}, dst, SyncDirection::push, o);
        auto st = check_delete_guards(plan, o, false);
        REQUIRE_FALSE(st);
        CHECK(st.error().message.find("does not exist") != std::string::npos);
    }
    SUBCASE("max-delete") {
        auto src = sorted({file("keep", 1, T)});
        auto plan = plan_sync(src, dst, SyncDirection::push, o);
        o.max_delete = 2;
        auto st = check_delete_guards(plan, o, true);
        REQUIRE_FALSE(st);
        CHECK(st.error().message.find("--max-delete 3") != std::string::npos);
        o.max_delete = 3;
        CHECK(check_delete_guards(plan, o, true));
        o.max_delete = -1;
        CHECK(check_delete_guards(plan, o, true));
    }
    SUBCASE("a folder counts its files") {
        auto d2 =
            sorted({dir("big"), file("big/1", 1, T), file("big/2", 1, T), file("big/3", 1, T)});
        auto src = sorted({file("keep", 1, T)});
        auto plan = plan_sync(src, d2, SyncDirection::push, o);
        o.max_delete = 2;
        CHECK_FALSE(check_delete_guards(plan, o, true));
    }
    SUBCASE("no deletes, no guard") {
        SyncOptions plain;
        auto plan = plan_sync({}, dst, SyncDirection::push, plain);
        CHECK(check_delete_guards(plan, plain, false));
    }
}

TEST_CASE("fingerprints change with any size, mtime, path or type") {
    auto a = sorted({dir("d"), file("d/x", 1, T)});
    auto fp = sync_fingerprint(a, false);
    CHECK(fp.size() == 64);
    CHECK(fp == sync_fingerprint(a, false));
    auto b = a;
    b[1].mtime_ns += 1;
    CHECK(fp != sync_fingerprint(b, false));
    b = a;
    b[1].size = 2;
    CHECK(fp != sync_fingerprint(b, false));
    b = a;
    b.push_back(file("e", 0, T));
    CHECK(fp != sync_fingerprint(b, false));
    b = a;
    b[1].sha256 = std::string(64, 'c');
    CHECK(fp == sync_fingerprint(b, false));
    CHECK(fp != sync_fingerprint(b, true));
}

TEST_CASE("plan files round-trip and refuse unsafe or malformed input") {
    auto src = sorted({file("a b/ü.csv", 3, T), dir("e")});
    auto dst = sorted({file("zz", 1, T)});
    SyncOptions o;
    o.delete_extraneous = true;
    o.exclude = {"*.tmp"};
    auto plan = plan_sync(src, dst, SyncDirection::pull, o);
    plan.app = "app1";
    plan.local_dir = "/tmp/x";
    plan.local_fingerprint = std::string(64, '1');
    plan.remote_fingerprint = std::string(64, '2');
    auto text = sync_plan_to_json(plan);
    auto back = sync_plan_from_json(text);
    REQUIRE(back);
    CHECK(back->direction == SyncDirection::pull);
    CHECK(back->app == "app1");
    CHECK(back->exclude == o.exclude);
    CHECK(back->delete_extraneous);
    REQUIRE(back->ops.size() == plan.ops.size());
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        CHECK(back->ops[i].path == plan.ops[i].path);
        CHECK(back->ops[i].action == plan.ops[i].action);
        CHECK(back->ops[i].size == plan.ops[i].size);
        CHECK(back->ops[i].mtime_ns == plan.ops[i].mtime_ns);
    }
    CHECK(back->local_fingerprint == plan.local_fingerprint);

    auto evil = text;
    auto pos = evil.find("\"zz\"");
    REQUIRE(pos != std::string::npos);
    evil.replace(pos, 4, "\"../../etc/passwd\"");
    auto refused = sync_plan_from_json(evil);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::usage);

    CHECK_FALSE(sync_plan_from_json("{\"format\":\"de-sync-plan/9\"}"));
    CHECK_FALSE(sync_plan_from_json("not json"));
    CHECK_FALSE(sync_plan_from_json("{\"format\":\"de-sync-plan/1\"}"));
}

TEST_CASE("sync_status reports the first failure's kind") {
    SyncSummary s;
    CHECK(sync_status(s));
    s.files_failed = 1;
    s.failures.push_back(SyncFailure{"a", "upload", Error{ErrorKind::quota, "no room", 507, {}}});
    s.deletes_skipped = true;
    auto st = sync_status(s);
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::quota);
    CHECK(st.error().message.find("nothing was deleted") != std::string::npos);
}

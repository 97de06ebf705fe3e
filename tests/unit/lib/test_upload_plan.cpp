// The upload planner's local half (walk, globs, symlink policy, target
// names), its refusals and the send split shared with sync push. The server
// half (resolve_upload, send_upload) runs in the integration tests against a
// real de-server.

#include <de/test_hooks.hpp>
#include <de/upload_plan.hpp>

#include <doctest/doctest.h>
#include "support/temp_dir.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

using namespace de;
namespace fs = std::filesystem;
using de::test::TempDir;
using de::test::write_file;

namespace {

std::vector<std::string> remotes(const UploadPlan& plan) {
    std::vector<std::string> out;
    for (const auto& f : plan.files)
        out.push_back(f.remote);
    return out;
}

}  // namespace

TEST_CASE("walk_local: depth-first order, and symlinks inside the folder are skipped") {
    TempDir tmp;
    write_file(tmp.path / "b.txt", "b");
    write_file(tmp.path / "a" / "x.txt", "xx");
    fs::create_symlink(tmp.path / "b.txt", tmp.path / "link.txt");
    fs::create_directory_symlink(tmp.path / "a", tmp.path / "dirlink");
    std::vector<std::string> warned;
    WalkOptions options;
    options.on_warning = [&](std::string_view w) { warned.emplace_back(w); };
    auto walk = walk_local(tmp.path, options);
    REQUIRE(walk);
    REQUIRE(walk->entries.size() == 3);
    CHECK(walk->entries[0].path == "a");
    CHECK(walk->entries[0].type == EntryType::dir);
    CHECK(walk->entries[1].path == "a/x.txt");
    CHECK(walk->entries[1].size == 2);
    CHECK(walk->entries[2].path == "b.txt");
    CHECK(walk->symlinks_skipped == 2);
    CHECK(warned.size() == 2);
    CHECK(walk->warnings == warned);

    options.follow_symlinks = true;
    auto followed = walk_local(tmp.path, options);
    REQUIRE(followed);
    CHECK(followed->symlinks_followed == 2);
    CHECK(followed->entries.size() == 6);  // dirlink, dirlink/x.txt, link.txt as well
}

TEST_CASE("walk_local: an excluded folder is neither listed nor entered") {
    TempDir tmp;
    write_file(tmp.path / "keep" / "a.csv", "a");
    write_file(tmp.path / "cache" / "big.bin", "b");
    PathFilter filter({}, {"cache"});
    WalkOptions options;
    options.prune = &filter;
    auto walk = walk_local(tmp.path, options);
    REQUIRE(walk);
    REQUIRE(walk->entries.size() == 2);
    CHECK(walk->entries[0].path == "keep");
    CHECK(walk->entries[1].path == "keep/a.csv");
}

TEST_CASE("walk_local: a missing root is not an error, a file root is") {
    TempDir tmp;
    auto missing = walk_local(tmp.path / "nope", {});
    REQUIRE(missing);
    CHECK_FALSE(missing->exists);
    write_file(tmp.path / "f", "x");
    auto file = walk_local(tmp.path / "f", {});
    REQUIRE_FALSE(file);
    CHECK(file.error().kind == ErrorKind::usage);
}

TEST_CASE("plan_upload_local: 'dir' sends the folder, 'dir/' its contents (rsync)") {
    TempDir tmp;
    write_file(tmp.path / "data" / "a.csv", "a");
    write_file(tmp.path / "data" / "sub" / "b.csv", "bb");
    fs::create_directories(tmp.path / "data" / "empty");
    UploadRequest request;
    request.recursive = true;
    request.remote = "/dest";
    request.sources = {(tmp.path / "data").string()};
    auto plan = plan_upload_local("sales", request);
    REQUIRE(plan);
    CHECK(plan->remote_base == "dest");
    CHECK(remotes(*plan) == std::vector<std::string>{"dest/data/a.csv", "dest/data/sub/b.csv"});
    CHECK(plan->bytes() == 3);
    CHECK(std::find(plan->dirs.begin(), plan->dirs.end(), "dest/data/empty") != plan->dirs.end());
    CHECK_FALSE(plan->maybe_rename);

    request.sources = {(tmp.path / "data").string() + "/"};
    auto contents = plan_upload_local("sales", request);
    REQUIRE(contents);
    CHECK(remotes(*contents) == std::vector<std::string>{"dest/a.csv", "dest/sub/b.csv"});
}

TEST_CASE("plan_upload_local: globs, and the refusals of the local half") {
    TempDir tmp;
    write_file(tmp.path / "d" / "a.csv", "a");
    write_file(tmp.path / "d" / "a.tmp", "t");
    write_file(tmp.path / "d" / "tmp" / "c.csv", "c");
    UploadRequest request;
    request.recursive = true;
    request.remote = "/";
    request.sources = {(tmp.path / "d").string() + "/"};
    request.exclude = {"*.tmp", "tmp"};
    auto plan = plan_upload_local("sales", request);
    REQUIRE(plan);
    CHECK(remotes(*plan) == std::vector<std::string>{"a.csv"});

    request.exclude.clear();
    request.include = {"*.csv"};
    auto included = plan_upload_local("sales", request);
    REQUIRE(included);
    CHECK(remotes(*included) == std::vector<std::string>{"a.csv", "tmp/c.csv"});
    CHECK(included->dirs.empty());  // with includes folders are only walked through

    request.recursive = false;
    auto no_r = plan_upload_local("sales", request);
    REQUIRE_FALSE(no_r);
    CHECK(no_r.error().kind == ErrorKind::usage);

    request.sources = {(tmp.path / "missing").string()};
    auto missing = plan_upload_local("sales", request);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::not_found);
}

TEST_CASE("plan_upload_local: a named file is followed, and may be a rename") {
    TempDir tmp;
    write_file(tmp.path / "real.csv", "abc");
    fs::create_symlink(tmp.path / "real.csv", tmp.path / "named.csv");
    UploadRequest request;
    request.remote = "/data";
    request.sources = {(tmp.path / "named.csv").string()};
    auto plan = plan_upload_local("sales", request);
    REQUIRE(plan);
    REQUIRE(plan->files.size() == 1);
    CHECK(plan->files[0].remote == "data/named.csv");
    CHECK(plan->files[0].size == 3);
    CHECK(plan->maybe_rename);  // resolve_upload decides: into data/, or named data

    request.remote = "/data/";
    auto into = plan_upload_local("sales", request);
    REQUIRE(into);
    CHECK_FALSE(into->maybe_rename);
}

TEST_CASE("check_upload: existing targets need overwrite; the quota counts replaced bytes") {
    UploadPlan plan;
    plan.app = "sales";
    plan.mount.enabled = true;
    plan.mount.quota_bytes = 100;
    plan.mount.used_bytes = 60;
    plan.files.push_back({"a", "a", 30, 0, false, 0});
    plan.files.push_back({"b", "b", 20, 0, true, 15});
    auto refused = check_upload(plan, false);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::conflict);
    CHECK(refused.error().message.find("sales:/b") != std::string::npos);
    // 50 bytes, 15 of them replacing: 35 needed, 40 free.
    CHECK(check_upload(plan, true));
    plan.files[0].size = 40;  // 45 needed
    auto quota = check_upload(plan, true);
    REQUIRE_FALSE(quota);
    CHECK(quota.error().kind == ErrorKind::quota);
}

TEST_CASE("split_for_send: small files batch only in company; alone() keeps a file single") {
    std::vector<std::uint64_t> sizes{10, 2 << 20, 20, k_batch_threshold, 30};
    auto size_of = [&](std::size_t i) { return sizes[i]; };
    auto split = split_for_send(sizes.size(), size_of);
    CHECK(split.batched == std::vector<std::size_t>{0, 2, 4});
    CHECK(split.singles == std::vector<std::size_t>{1, 3});

    auto alone = split_for_send(sizes.size(), size_of, [](std::size_t i) { return i != 2; });
    CHECK(alone.batched.empty());  // a batch of one is no batch
    CHECK(alone.singles == std::vector<std::size_t>{0, 1, 2, 3, 4});

    auto one = split_for_send(1, [](std::size_t) { return std::uint64_t{5}; });
    CHECK(one.batched.empty());
    CHECK(one.singles == std::vector<std::size_t>{0});
}

TEST_CASE("tuned_upload_options: the client's test hooks set the resumable sizes") {
    ClientOptions options;
    options.host = "http://127.0.0.1:1";
    options.credentials.token = "t";
    auto plain = Client::create(options);
    REQUIRE(plain);
    UploadOptions defaults;
    CHECK(tuned_upload_options(*plain).resumable_threshold == defaults.resumable_threshold);

    auto hooks = std::make_shared<TestHooks>();
    hooks->resumable_threshold = 1 << 20;
    hooks->part_size = 512 << 10;
    options.hooks = hooks;
    auto tuned = Client::create(options);
    REQUIRE(tuned);
    auto upload = tuned_upload_options(*tuned);
    CHECK(upload.resumable_threshold == (1u << 20));
    CHECK(upload.part_size == (512u << 10));
}

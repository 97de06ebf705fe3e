// The WebDAV lock table shared by replicas (dav_locks.hpp): two LockTable
// objects on one root stand for two de-server processes. What one grants the
// other sees at once (conflicts, lockdiscovery, UNLOCK and refresh through
// either), threads of both racing for one resource leave exactly one winner,
// the per-user limits count both, locks outlive the table that granted them,
// expiry follows the injected wall clock (and a clock that runs ahead), and a
// damaged state file fails closed for writes until it can hold no live lock.
#include "dav_locks.hpp"

#include <doctest/doctest.h>
#include "support/dav_locks_root.hpp"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

// Everything in one namespace: the unit executables are one unity translation unit.
namespace dav_locks_shared_test {

using de::server::dav::Lock;
using de::server::dav::LockRefused;
using de::server::dav::LockScope;
using de::server::dav::LockTable;
using de::test::DavLocksRoot;
using de::test::FakeWallClock;
using std::chrono::seconds;

constexpr auto X = LockScope::exclusive;
constexpr auto S = LockScope::shared;

std::expected<Lock, LockRefused> take(LockTable& t, std::string path, LockScope scope = X,
                                      bool infinite = false, std::string user = "ann",
                                      int ttl = 600, std::string app = "web") {
    return t.acquire(std::move(app), std::move(path), scope, infinite, seconds(ttl),
                     std::move(user), "<D:href>ann</D:href>");
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void spill(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

TEST_CASE("dav locks shared: a lock taken through one table is seen at once by another") {
    FakeWallClock clock;
    DavLocksRoot root;
    LockTable one(root.path, clock.fn());
    LockTable two(root.path, clock.fn());
    // `two` reads first, so it holds a copy that the grant must replace.
    CHECK(two.covering("web", "docs/a.txt").empty());

    auto l = take(one, "docs", X, true);
    REQUIRE(l);
    auto seen = two.covering("web", "docs/a.txt");
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].token == l->token);
    CHECK(seen[0].app == "web");
    CHECK(seen[0].path == "docs");
    CHECK(seen[0].user == "ann");
    CHECK(seen[0].owner_xml == "<D:href>ann</D:href>");
    CHECK(seen[0].infinite_depth);
    CHECK(seen[0].timeout == seconds(600));
    CHECK(seen[0].expires == l->expires);
    CHECK(two.within("web", "").size() == 1);

    // A conflicting grant through the other table: 423 naming the lock's root.
    auto clash = take(two, "docs/a.txt", S, false, "bob");
    REQUIRE_FALSE(clash);
    CHECK(clash.error().status == 423);
    CHECK(clash.error().conflicting_path == "docs");

    // Refresh through `two`; `one` sees the new expiry.
    clock.advance(100);
    auto r = two.refresh("web", "docs/x", l->token, "ann", seconds(900));
    REQUIRE(r);
    CHECK(r->expires == clock.now() + seconds(900));
    REQUIRE(one.covering("web", "docs").size() == 1);
    CHECK(one.covering("web", "docs")[0].expires == r->expires);

    // UNLOCK through `two` frees it for `one`.
    CHECK(two.release("web", "docs", l->token, "bob").error().status == 403);
    REQUIRE(two.release("web", "docs", l->token, "ann"));
    CHECK(one.covering("web", "docs/a.txt").empty());
    CHECK(one.release("web", "docs", l->token, "ann").error().status == 409);
    CHECK(take(one, "docs/a.txt", X, false, "bob").has_value());

    // DELETE through `one` (forget) drops what `two` sees.
    REQUIRE(take(two, "old/f", S));
    one.forget("web", "old");
    CHECK(two.within("web", "old").empty());
    CHECK(one.size() == 1);
    CHECK(two.size() == 1);
}

TEST_CASE("dav locks shared: locks outlive the table (the process) that granted them") {
    FakeWallClock clock;
    DavLocksRoot root;
    std::string token;
    {
        LockTable granting(root.path, clock.fn());
        auto l = take(granting, "f", X);
        REQUIRE(l);
        token = l->token;
    }  // the replica is gone
    LockTable other(root.path, clock.fn());
    REQUIRE(other.covering("web", "f").size() == 1);
    CHECK(take(other, "f", X, false, "bob").error().status == 423);
    REQUIRE(other.release("web", "f", token, "ann"));
    CHECK(take(other, "f", X, false, "bob").has_value());
}

TEST_CASE("dav locks shared: tables racing for one resource leave exactly one winner") {
    FakeWallClock clock;
    DavLocksRoot root;
    LockTable one(root.path, clock.fn(), 100000);
    LockTable two(root.path, clock.fn(), 100000);
    constexpr int k_threads = 6;
    for (int round = 0; round < 10; ++round) {
        const std::string path = "race/" + std::to_string(round);
        std::atomic<int> wins{0}, refused{0}, ready{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < k_threads; ++i) {
            threads.emplace_back([&, i] {
                LockTable& t = i % 2 == 0 ? one : two;
                ready.fetch_add(1);
                while (ready.load() < k_threads)
                    std::this_thread::yield();
                // Folder with infinite depth against a member: they conflict.
                auto r = (i % 4 < 2) ? take(t, path, X, true, "u" + std::to_string(i))
                                     : take(t, path + "/m", X, false, "u" + std::to_string(i));
                if (r)
                    wins.fetch_add(1);
                else if (r.error().status == 423)
                    refused.fetch_add(1);
            });
        }
        for (auto& th : threads)
            th.join();
        CHECK(wins.load() == 1);
        CHECK(refused.load() == k_threads - 1);
        CHECK(one.within("web", path).size() == 1);
        CHECK(two.within("web", path).size() == 1);
    }
    // Distinct paths from both tables at once: every grant lands in the file.
    std::vector<std::thread> threads;
    std::atomic<int> granted{0};
    for (int i = 0; i < k_threads; ++i) {
        threads.emplace_back([&, i] {
            LockTable& t = i % 2 == 0 ? one : two;
            for (int j = 0; j < 30; ++j)
                if (take(t, "t" + std::to_string(i) + "/" + std::to_string(j), S))
                    granted.fetch_add(1);
        });
    }
    for (auto& th : threads)
        th.join();
    CHECK(granted.load() == k_threads * 30);
    CHECK(one.size() == 10 + k_threads * 30);
    CHECK(two.size() == 10 + k_threads * 30);
}

TEST_CASE("dav locks shared: the per-user limits count the locks granted by every table") {
    FakeWallClock clock;
    DavLocksRoot root;
    LockTable one(root.path, clock.fn(), 4);
    LockTable two(root.path, clock.fn(), 4);
    REQUIRE(take(one, "a"));
    REQUIRE(take(two, "b"));
    REQUIRE(take(one, "c"));
    auto last = take(two, "d");
    REQUIRE(last);
    CHECK(take(one, "e").error().status == 503);
    CHECK(take(two, "e").error().status == 503);
    CHECK(take(two, "e", X, false, "bob").has_value());  // per user
    REQUIRE(one.release("web", "d", last->token, "ann"));
    CHECK(take(two, "f").has_value());

    // Racing: ten threads of both tables for the places left, never more granted.
    DavLocksRoot root2;
    LockTable p(root2.path, clock.fn(), 5);
    LockTable q(root2.path, clock.fn(), 5);
    std::atomic<int> granted{0}, over{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 10; ++i)
        threads.emplace_back([&, i] {
            auto r = take(i % 2 ? p : q, "f" + std::to_string(i));
            if (r)
                granted.fetch_add(1);
            else if (r.error().status == 503)
                over.fetch_add(1);
        });
    for (auto& th : threads)
        th.join();
    CHECK(granted.load() == 5);
    CHECK(over.load() == 5);
}

TEST_CASE("dav locks shared: expiry follows the wall clock each table is given") {
    FakeWallClock clock;
    DavLocksRoot root;
    LockTable one(root.path, clock.fn());
    LockTable two(root.path, clock.fn());
    LockTable ahead(root.path, clock.fn(5));  // a replica whose clock runs 5 s fast
    auto l = take(one, "a", X, false, "ann", 10);
    REQUIRE(l);
    // The file holds wall-clock milliseconds, so the expiry reads back exactly.
    CHECK(two.covering("web", "a").at(0).expires == clock.now() + seconds(10));
    clock.advance(4);
    CHECK(ahead.covering("web", "a").size() == 1);
    clock.advance(1);
    // 5 s before the lock's end by the granting clock, `ahead` sees it expired
    // (dav_locks.hpp: what clock skew does) and grants a conflicting lock.
    CHECK(ahead.covering("web", "a").empty());
    CHECK(two.covering("web", "a").size() == 1);
    auto early = take(ahead, "a", X, false, "bob", 60);
    REQUIRE(early);
    // Its change also dropped ann's lock from the file, for every replica.
    auto left = two.covering("web", "a");
    REQUIRE(left.size() == 1);
    CHECK(left[0].user == "bob");
    CHECK(left[0].expires == clock.now() + seconds(65));  // granted by `ahead`'s clock
    clock.advance(5);
    // A change through any table drops what expired from the file.
    REQUIRE(two.release("web", "a", early->token, "bob"));
    auto j = nlohmann::json::parse(slurp(root.state_file("web")));
    CHECK(j["locks"].empty());
}

TEST_CASE("dav locks shared: the state file leads with a fresh generation and keeps any bytes") {
    FakeWallClock clock;
    DavLocksRoot root;
    LockTable one(root.path, clock.fn());
    LockTable two(root.path, clock.fn());
    const std::string odd = "caf\xe9/x";  // not UTF-8
    auto l = take(one, odd, S, false, "ann", 30);
    REQUIRE(l);
    std::string first = slurp(root.state_file("web"));
    CHECK(first.starts_with("{\"gen\":\""));
    auto seen = two.covering("web", odd);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].path == odd);
    // A refresh to the same timeout one second later: a file of the same size,
    // maybe the same inode number and mtime tick, yet a new generation, and
    // `two` sees the new expiry.
    clock.advance(1);
    REQUIRE(one.refresh("web", odd, l->token, "ann", seconds(30)));
    std::string second = slurp(root.state_file("web"));
    CHECK(second.size() == first.size());
    CHECK(second.substr(0, 40) != first.substr(0, 40));
    CHECK(two.covering("web", odd).at(0).expires == clock.now() + seconds(30));
}

TEST_CASE("dav locks shared: an app without a folder holds no locks and takes none") {
    FakeWallClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    auto l = take(t, "a", X, false, "ann", 60, "ghost");
    REQUIRE_FALSE(l);
    CHECK(l.error().status == 404);
    CHECK(t.covering("ghost", "a").empty());
    CHECK(t.usable("ghost").has_value());
    CHECK(t.release("ghost", "a", "urn:x-de:none", "ann").error().status == 409);
    CHECK(take(t, "a", X, false, "ann", 60, "../web").error().status == 404);
    CHECK_FALSE(std::filesystem::exists(root.path / "apps" / "ghost"));
}

TEST_CASE("dav locks shared: a damaged state file refuses writes until no lock in it can live") {
    FakeWallClock clock;
    DavLocksRoot root;
    LockTable one(root.path, clock.fn());
    LockTable two(root.path, clock.fn());
    auto l = take(one, "a", X);
    REQUIRE(l);
    REQUIRE(two.covering("web", "a").size() == 1);

    SUBCASE("garbage") {
        spill(root.state_file("web"), "{\"gen\":\"x\", this is not JSON");
    }
    SUBCASE("a lock without its token") {
        spill(root.state_file("web"),
              "{\"gen\":\"y\",\"version\":1,\"locks\":[{\"path\":\"a\",\"user\":\"ann\"}]}\n");
    }
    SUBCASE("cut short") {
        std::string text = slurp(root.state_file("web"));
        spill(root.state_file("web"), text.substr(0, text.size() / 2));
    }
    SUBCASE("empty") {
        spill(root.state_file("web"), "");
    }
    // Now the file is as damage leaves it; its mtime is the real time.
    struct stat st {};
    REQUIRE(::stat(root.state_file("web").c_str(), &st) == 0);
    clock.set(st.st_mtim.tv_sec);

    for (LockTable* t : {&one, &two}) {
        auto state = t->usable("web");
        REQUIRE_FALSE(state);
        CHECK(state.error().status == 503);
        CHECK(state.error().message.find("damaged") != std::string::npos);
        CHECK(t->covering("web", "a").empty());       // reads show nothing...
        auto grant = take(*t, "b", X, false, "bob");  // ...but nothing is granted
        REQUIRE_FALSE(grant);
        CHECK(grant.error().status == 503);
        CHECK(t->release("web", "a", l->token, "ann").error().status == 503);
        CHECK_FALSE(t->refresh("web", "a", l->token, "ann", seconds(60)));
    }
    // Other apps are not affected.
    CHECK(one.usable("other").has_value());
    CHECK(take(one, "a", X, false, "ann", 60, "other").has_value());

    // An hour (the longest timeout) after the file's last write it holds no live lock.
    clock.advance(3599);
    CHECK_FALSE(two.usable("web"));
    clock.advance(2);
    CHECK(two.usable("web").has_value());
    auto fresh = take(two, "b", X, false, "bob");
    REQUIRE(fresh);
    CHECK(std::filesystem::exists(root.path / "apps/web/dav-locks.json.damaged"));
    CHECK(one.usable("web").has_value());
    REQUIRE(one.covering("web", "b").size() == 1);
    CHECK(one.covering("web", "b")[0].token == fresh->token);
}

}  // namespace dav_locks_shared_test

// The WebDAV lock table (dav_locks.hpp, RFC 4918 6, 7, 9.10, 9.11): conflicts
// by scope and depth, covering/within (and the byte order of '/' against '-',
// '.' and letters), refresh, the rules of UNLOCK, expiry on an injected clock,
// forget, the per-user limits, the tokens, threads racing for one lock, and
// the Timeout header. Each table keeps its locks in files beneath a temporary
// root (test_dav_locks_shared.cpp: several tables on one root).
#include "dav_locks.hpp"

#include <doctest/doctest.h>
#include "support/dav_locks_root.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

// Everything in one namespace: the unit executables are one unity translation unit.
namespace dav_locks_test {

using de::server::dav::Lock;
using de::server::dav::LockScope;
using de::server::dav::LockTable;
using std::chrono::seconds;

constexpr auto X = LockScope::exclusive;
constexpr auto S = LockScope::shared;

using de::test::DavLocksRoot;
using de::test::FakeWallClock;
using FakeClock = FakeWallClock;

std::expected<Lock, de::server::dav::LockRefused> take(LockTable& t, std::string path,
                                                       LockScope scope = X, bool infinite = false,
                                                       std::string user = "ann",
                                                       std::string app = "web", int ttl = 600) {
    return t.acquire(std::move(app), std::move(path), scope, infinite, seconds(ttl),
                     std::move(user), "<D:href>ann</D:href>");
}

std::vector<std::string> paths_of(const std::vector<Lock>& locks) {
    std::vector<std::string> out;
    for (const auto& l : locks)
        out.push_back(l.path);
    return out;
}

using Paths = std::vector<std::string>;

TEST_CASE("dav locks: a lock is granted with what was asked and a fresh token") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    auto a = t.acquire("web", "docs/a.txt", X, false, seconds(120), "ann", "<D:href>me</D:href>");
    REQUIRE(a);
    CHECK(a->app == "web");
    CHECK(a->path == "docs/a.txt");
    CHECK(a->user == "ann");
    CHECK(a->owner_xml == "<D:href>me</D:href>");
    CHECK(a->scope == X);
    CHECK_FALSE(a->infinite_depth);
    CHECK(a->timeout == seconds(120));
    CHECK(a->expires == clock.now() + seconds(120));
    // Leading and trailing slashes are not part of a normalized path.
    auto b = take(t, "/docs/b/", S, true);
    REQUIRE(b);
    CHECK(b->path == "docs/b");
    CHECK(paths_of(t.covering("web", "docs/b/c")) == Paths{"docs/b"});
}

TEST_CASE("dav locks: tokens are urn:x-de: and 128 random bits in base32, all different") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn(), 5000);
    // 26 base32 characters: 25 carry 5 bits each, the last the remaining 3 (then zeros).
    const std::regex form("urn:x-de:[a-z2-7]{25}[aeimquy4]");
    std::set<std::string> seen;
    std::set<char> first_chars;
    // 400, not thousands: each grant rewrites the app's state file whole.
    for (int i = 0; i < 400; ++i) {
        auto l = take(t, "f" + std::to_string(i));
        REQUIRE(l);
        CHECK(std::regex_match(l->token, form));
        CHECK(seen.insert(l->token).second);
        first_chars.insert(l->token[9]);
    }
    // Random, not a counter: the first hex digit takes many values.
    CHECK(first_chars.size() >= 12);
    // A second table (on a root of its own) does not repeat the first one's sequence.
    DavLocksRoot root2;
    LockTable u(root2.path, clock.fn());
    auto l = take(u, "f0");
    REQUIRE(l);
    CHECK_FALSE(seen.contains(l->token));
}

TEST_CASE("dav locks: exclusive conflicts with everything, shared only with exclusive") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    REQUIRE(take(t, "a", X));
    auto again = take(t, "a", X, false, "bob");
    REQUIRE_FALSE(again);
    CHECK(again.error().status == 423);
    CHECK(again.error().conflicting_path == "a");
    // The same user is refused too: an exclusive lock is exclusive.
    CHECK(take(t, "a", X).error().status == 423);
    CHECK(take(t, "a", S, false, "bob").error().status == 423);

    REQUIRE(take(t, "b", S));
    REQUIRE(take(t, "b", S, false, "bob"));
    auto x = take(t, "b", X, false, "cid");
    REQUIRE_FALSE(x);
    CHECK(x.error().status == 423);
    CHECK(t.covering("web", "b").size() == 2);

    // Another app's locks are another table.
    CHECK(take(t, "a", X, false, "ann", "other"));
}

TEST_CASE("dav locks: depth decides which paths a lock reaches") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    SUBCASE("an infinite lock covers everything below it") {
        REQUIRE(take(t, "a", X, true));
        auto below = take(t, "a/b/c", S, false, "bob");
        REQUIRE_FALSE(below);
        CHECK(below.error().status == 423);
        CHECK(below.error().conflicting_path == "a");
        CHECK(take(t, "a2/b").has_value());
    }
    SUBCASE("a depth-0 lock on a folder does not reach its members") {
        REQUIRE(take(t, "a", X, false));
        CHECK(take(t, "a/b", X, false, "bob").has_value());
        CHECK(take(t, "a/c", X, true, "bob").has_value());
        // ...but an infinite request on the folder meets both.
        CHECK(take(t, "a", S, true, "bob").error().status == 423);
    }
    SUBCASE("an infinite request meets the locks below it") {
        REQUIRE(take(t, "a/b/c", X, false, "bob"));
        auto up = take(t, "a", S, true);
        REQUIRE_FALSE(up);
        CHECK(up.error().conflicting_path == "a/b/c");
        // A depth-0 request on the folder does not.
        CHECK(take(t, "a", X, false).has_value());
    }
    SUBCASE("shared locks below allow a shared infinite lock, not an exclusive one") {
        REQUIRE(take(t, "a/b", S, false, "bob"));
        CHECK(take(t, "a", X, true).error().status == 423);
        CHECK(take(t, "a", S, true).has_value());
        // Now the shared infinite lock on "a" keeps exclusive locks out below.
        CHECK(take(t, "a/z", X, false, "cid").error().conflicting_path == "a");
        CHECK(take(t, "a/z", S, false, "cid").has_value());
    }
    SUBCASE("an infinite lock on the mount's root covers all of it") {
        REQUIRE(take(t, "", X, true));
        auto deep = take(t, "x/y/z", S, false, "bob");
        REQUIRE_FALSE(deep);
        CHECK(deep.error().conflicting_path == "");
        CHECK(take(t, "", S, false, "bob").error().status == 423);
        CHECK(paths_of(t.covering("web", "x/y/z")) == Paths{""});
        CHECK(paths_of(t.within("web", "")) == Paths{""});
        CHECK(take(t, "x", S, false, "bob", "other").has_value());
    }
    SUBCASE("an infinite request on the root meets any lock in the app") {
        REQUIRE(take(t, "deep/down/file", X, false, "bob"));
        CHECK(take(t, "", S, true).error().conflicting_path == "deep/down/file");
        CHECK(take(t, "", S, false).has_value());
    }
}

TEST_CASE("dav locks: 'a/b' is within 'a', 'a-b', 'a.b', 'a0' and 'ab' are not") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    // '-' and '.' sort just before '/', '0' just after it, letters later.
    for (std::string p : {"a-b", "a-b/x", "a.b", "a0", "ab", "ab/x", "a+", "b", "A"})
        REQUIRE(take(t, p, S, true));
    CHECK(t.within("web", "a").empty());
    CHECK(t.covering("web", "a/b").empty());
    // So an exclusive infinite lock on "a" is free to take...
    REQUIRE(take(t, "a", X, true));
    CHECK(paths_of(t.within("web", "a")) == Paths{"a"});
    // ...and "a-b/x" is still covered only by "a-b" and its own lock.
    CHECK(paths_of(t.covering("web", "a-b/x")) == Paths{"a-b", "a-b/x"});
    CHECK(paths_of(t.covering("web", "a-b/y")) == Paths{"a-b"});
    CHECK(paths_of(t.covering("web", "a/zz")) == Paths{"a"});

    DavLocksRoot root2;
    LockTable u(root2.path, clock.fn());
    for (std::string p : {"a/b", "a/b/c", "a-b", "ab", "a/b-c", "a/bc", "a/b.c/d"})
        REQUIRE(take(u, p, S));
    CHECK(paths_of(u.within("web", "a/b")) == Paths{"a/b", "a/b/c"});
    CHECK(paths_of(u.within("web", "a")) == Paths{"a/b", "a/b-c", "a/b.c/d", "a/b/c", "a/bc"});
    CHECK(u.within("web", "").size() == 7);
    CHECK(u.within("other", "").empty());
}

TEST_CASE("dav locks: covering lists the root's lock first and ignores depth-0 ancestors") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    REQUIRE(take(t, "", S, true, "r"));
    REQUIRE(take(t, "a", S, false, "a0"));  // depth 0: not covering a/b/c
    REQUIRE(take(t, "a", S, true, "ai"));
    REQUIRE(take(t, "a/b", S, true, "abi"));
    REQUIRE(take(t, "a/b/c", S, false, "abc"));
    REQUIRE(take(t, "a/b/c/d", S, true, "below"));  // below: not covering
    std::vector<std::string> users;
    for (const auto& l : t.covering("web", "a/b/c"))
        users.push_back(l.user);
    CHECK(users == Paths{"r", "ai", "abi", "abc"});
    CHECK(t.covering("web", "").size() == 1);
    CHECK(t.covering("web", "zzz").size() == 1);
    CHECK(t.covering("nope", "a").empty());
}

TEST_CASE("dav locks: refresh needs the token, the app, the user and a covered path") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    auto l = take(t, "d", X, true, "ann", "web", 600);
    REQUIRE(l);
    clock.advance(500);
    CHECK_FALSE(t.refresh("web", "d", l->token, "bob", seconds(600)));
    CHECK_FALSE(t.refresh("other", "d", l->token, "ann", seconds(600)));
    CHECK_FALSE(t.refresh("web", "e", l->token, "ann", seconds(600)));
    CHECK_FALSE(t.refresh("web", "d-x", l->token, "ann", seconds(600)));
    CHECK_FALSE(t.refresh("web", "d", "urn:uuid:00000000-0000-4000-8000-000000000000", "ann",
                          seconds(600)));
    // A member of the locked folder may name it (the If header's resource).
    auto r = t.refresh("web", "d/sub/f", l->token, "ann", seconds(300));
    REQUIRE(r);
    CHECK(r->token == l->token);
    CHECK(r->timeout == seconds(300));
    CHECK(r->expires == clock.now() + seconds(300));
    clock.advance(200);  // 700 s after the lock: alive only thanks to the refresh
    REQUIRE(t.covering("web", "d").size() == 1);
    CHECK(t.covering("web", "d")[0].expires == r->expires);
    // Refresh clamps like acquire.
    CHECK(t.refresh("web", "d", l->token, "ann", seconds(99999))->timeout == seconds(3600));
    CHECK(t.refresh("web", "d", l->token, "ann", seconds(0))->timeout == seconds(1));
    clock.advance(1);
    CHECK_FALSE(t.refresh("web", "d", l->token, "ann", seconds(600)));  // expired
    CHECK(t.covering("web", "d").empty());
}

TEST_CASE("dav locks: unlock by the owner within the lock's scope; 403 and 409 otherwise") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    auto l = take(t, "d", X, true);
    auto flat = take(t, "f", X, false);
    REQUIRE(l);
    REQUIRE(flat);

    auto other_user = t.release("web", "d", l->token, "bob");
    REQUIRE_FALSE(other_user);
    CHECK(other_user.error().status == 403);

    auto not_covering = t.release("web", "f", l->token, "ann");
    REQUIRE_FALSE(not_covering);
    CHECK(not_covering.error().status == 409);
    // Another user's token that does not cover the path: 409, not 403.
    CHECK(t.release("web", "f", l->token, "bob").error().status == 409);
    // A depth-0 lock does not reach below its folder.
    CHECK(t.release("web", "f/x", flat->token, "ann").error().status == 409);
    CHECK(t.release("other", "d", l->token, "ann").error().status == 409);
    CHECK(t.release("web", "d", "urn:uuid:not-a-lock", "ann").error().status == 409);
    CHECK(t.covering("web", "d").size() == 1);

    // RFC 4918 9.11: any resource in the lock's scope may be the UNLOCK's target.
    CHECK(t.release("web", "d/x/y", l->token, "ann").has_value());
    CHECK(t.covering("web", "d/x/y").empty());
    CHECK(t.release("web", "d", l->token, "ann").error().status == 409);  // gone
    CHECK(take(t, "d", X, true, "bob").has_value());
    CHECK(t.release("web", "/f/", flat->token, "ann").has_value());
    CHECK(t.size() == 1);
}

TEST_CASE("dav locks: a lock expires at its timeout and is then dropped") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    auto l = take(t, "a", X, false, "ann", "web", 10);
    REQUIRE(l);
    clock.advance(9);
    CHECK(t.covering("web", "a").size() == 1);
    CHECK(take(t, "a", X, false, "bob").error().status == 423);
    clock.advance(1);
    CHECK(t.covering("web", "a").empty());
    CHECK(t.within("web", "").empty());
    CHECK(t.size() == 0);
    CHECK(t.stored() == 1);  // not dropped by readers...
    REQUIRE(take(t, "z", S, false, "cid", "elsewhere"));
    CHECK(t.stored() == 2);  // ...nor by a change to another app's file...
    REQUIRE(take(t, "z", S, false, "cid"));
    CHECK(t.stored() == 2);  // ...but by the next change to its own (z and z elsewhere)
    CHECK(t.release("web", "a", l->token, "ann").error().status == 409);
    CHECK(take(t, "a", X, false, "bob").has_value());

    // Many short locks leave nothing behind.
    for (int i = 0; i < 500; ++i) {
        REQUIRE(take(t, "tmp/" + std::to_string(i), X, false, "ann", "web", 1));
        clock.advance(1);
    }
    REQUIRE(take(t, "last", S));
    CHECK(t.stored() == 4);  // both z, a (bob) and last; z's and a's 600 s are not over
}

TEST_CASE("dav locks: timeouts are clamped to [1 s, 3600 s]") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    auto zero = take(t, "a", X, false, "ann", "web", 0);
    REQUIRE(zero);
    CHECK(zero->timeout == seconds(1));
    CHECK(t.covering("web", "a").size() == 1);
    auto neg = take(t, "b", X, false, "ann", "web", -5);
    REQUIRE(neg);
    CHECK(neg->timeout == seconds(1));
    auto huge = t.acquire("web", "c", X, false, seconds(std::int64_t{1} << 60), "ann", "");
    REQUIRE(huge);
    CHECK(huge->timeout == seconds(3600));
    CHECK(huge->expires == clock.now() + seconds(3600));
}

TEST_CASE("dav locks: forget drops the locks at and below a path only") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn());
    for (std::string p : {"d", "d/x", "d/x/y", "d-e", "d.e", "dd", "e"})
        REQUIRE(take(t, p, S));
    REQUIRE(take(t, "", S, true));
    REQUIRE(take(t, "d", S, false, "ann", "other"));
    t.forget("web", "d");
    CHECK(paths_of(t.within("web", "")) == Paths{"", "d-e", "d.e", "dd", "e"});
    CHECK(t.within("other", "").size() == 1);
    CHECK(t.stored() == 6);
    t.forget("web", "nothing/here");
    CHECK(t.stored() == 6);
    t.forget("web", "");
    CHECK(t.within("web", "").empty());
    CHECK(t.stored() == 1);
    // The dropped locks no longer count against their user.
    DavLocksRoot root2;
    LockTable small(root2.path, clock.fn(), 2);
    REQUIRE(take(small, "q/1"));
    REQUIRE(take(small, "q/2"));
    CHECK(take(small, "q/3").error().status == 503);
    small.forget("web", "q");
    CHECK(take(small, "q/3").has_value());
}

TEST_CASE("dav locks: one user holds at most max_locks_per_user and a bounded number of bytes") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn(), 3, 64 * 1024);
    std::vector<Lock> held;
    for (int i = 0; i < 3; ++i) {
        auto l = take(t, "f" + std::to_string(i));
        REQUIRE(l);
        held.push_back(*l);
    }
    auto over = take(t, "f3");
    REQUIRE_FALSE(over);
    CHECK(over.error().status == 503);
    CHECK_FALSE(over.error().conflicting_path);
    CHECK(take(t, "f3", X, false, "bob").has_value());  // others are not affected
    REQUIRE(t.release("web", "f0", held[0].token, "ann"));
    CHECK(take(t, "f5").has_value());
    CHECK(take(t, "f4").error().status == 503);
    // The limits are checked before the conflicts (no scan for a user at them).
    CHECK(take(t, "f1").error().status == 503);
    // Expiry gives the places back too.
    clock.advance(600);
    CHECK(take(t, "f4").has_value());

    // Large owner XML: the byte budget binds before the count.
    auto big = t.acquire("web", "g0", S, false, seconds(60), "cid", std::string(40 * 1024, 'x'));
    REQUIRE(big);
    auto big2 = t.acquire("web", "g1", S, false, seconds(60), "cid", std::string(40 * 1024, 'x'));
    REQUIRE_FALSE(big2);
    CHECK(big2.error().status == 503);
    CHECK(t.acquire("web", "g1", S, false, seconds(60), "cid", "<small/>").has_value());
}

TEST_CASE("dav locks: threads racing for one exclusive lock, exactly one wins") {
    FakeClock clock;
    DavLocksRoot root;
    LockTable t(root.path, clock.fn(), 100000);
    constexpr int k_threads = 8;
    for (int round = 0; round < 20; ++round) {
        const std::string path = "race/" + std::to_string(round);
        std::atomic<int> wins{0}, refused{0}, ready{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < k_threads; ++i) {
            threads.emplace_back([&, i] {
                ready.fetch_add(1);
                while (ready.load() < k_threads)
                    std::this_thread::yield();
                // Half go for the folder with infinite depth, half for a member.
                auto r = (i % 2 == 0) ? take(t, path, X, true, "u" + std::to_string(i))
                                      : take(t, path + "/m", X, false, "u" + std::to_string(i));
                if (r) {
                    wins.fetch_add(1);
                } else if (r.error().status == 423) {
                    refused.fetch_add(1);
                }
            });
        }
        for (auto& th : threads)
            th.join();
        CHECK(wins.load() == 1);
        CHECK(refused.load() == k_threads - 1);
        CHECK(t.within("web", path).size() == 1);
    }
    // Many threads, distinct paths, with readers and releases mixed in: all granted.
    std::vector<std::thread> threads;
    std::atomic<int> granted{0};
    for (int i = 0; i < k_threads; ++i) {
        threads.emplace_back([&, i] {
            for (int j = 0; j < 50; ++j) {  // each grant rewrites the app's file: not thousands
                auto p = "t" + std::to_string(i) + "/" + std::to_string(j);
                auto r = take(t, p, X, false, "u" + std::to_string(i));
                if (!r) continue;
                granted.fetch_add(1);
                (void)t.covering("web", p);
                if (j % 2 == 0) (void)t.release("web", p, r->token, r->user);
            }
        });
    }
    for (auto& th : threads)
        th.join();
    CHECK(granted.load() == k_threads * 50);
    CHECK(t.size() == 20 + k_threads * 25);
}

TEST_CASE("dav locks: the Timeout header (RFC 4918 10.7)") {
    using de::server::dav::parse_timeout;
    CHECK(parse_timeout("") == seconds(600));
    CHECK(parse_timeout("Second-600") == seconds(600));
    CHECK(parse_timeout("Second-1") == seconds(1));
    CHECK(parse_timeout("Second-0") == seconds(1));
    CHECK(parse_timeout("Second-3600") == seconds(3600));
    CHECK(parse_timeout("Second-3601") == seconds(3600));
    CHECK(parse_timeout("Second-4100000000") == seconds(3600));
    CHECK(parse_timeout("Second-99999999999999999999999999999") == seconds(3600));
    CHECK(parse_timeout("Infinite") == seconds(3600));
    CHECK(parse_timeout("Infinite, Second-4100000000") == seconds(3600));
    CHECK(parse_timeout("Second-30, Infinite") == seconds(30));
    CHECK(parse_timeout("  second-45  ") == seconds(45));
    CHECK(parse_timeout("INFINITE") == seconds(3600));
    // Unacceptable entries are skipped; none acceptable is the default.
    CHECK(parse_timeout("Minute-5, Second-20") == seconds(20));
    CHECK(parse_timeout(" , ,Second-7") == seconds(7));
    CHECK(parse_timeout("Second-") == seconds(600));
    CHECK(parse_timeout("Second--5") == seconds(600));
    CHECK(parse_timeout("Second-12abc") == seconds(600));
    CHECK(parse_timeout("Second-+5") == seconds(600));
    CHECK(parse_timeout("Infinitely") == seconds(600));
    CHECK(parse_timeout("garbage") == seconds(600));
    CHECK(parse_timeout(",") == seconds(600));
}

}  // namespace dav_locks_test

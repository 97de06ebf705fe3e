// LeaseStore (sync leases, docs/api.md "Sync lease"): one live lease per app,
// takeover only of the named lease, renewal and release only by the live id,
// expiry after the TTL, fencing, the state on disk shared by two stores (as
// two server processes on one root would), and threads racing for one lease.
#include "lease.hpp"

#include <de/api.hpp>

#include <doctest/doctest.h>
#include <unistd.h>
#include "support/temp_dir.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using de::api::WireError;
using de::server::LeaseStore;
using de::test::TempDir;

// A clock the test moves by hand.
struct FakeClock {
    std::shared_ptr<std::atomic<std::int64_t>> ms =
        std::make_shared<std::atomic<std::int64_t>>(1'800'000'000'000);
    void attach(LeaseStore& s) const {
        auto m = ms;
        s.set_clock([m] { return m->load(); });
    }
    void advance_s(int s) const { *ms += std::int64_t{s} * 1000; }
};

}  // namespace

TEST_CASE("a second acquire conflicts and names the holder and since when") {
    TempDir root("de-lease");
    fs::create_directories(root.path / "apps" / "web");
    LeaseStore store(root.path);
    FakeClock clock;
    clock.attach(store);
    auto a = store.acquire("web", "hostA pid=1 start=2", 60, std::nullopt);
    REQUIRE(a);
    CHECK(a->id.size() == 32);
    CHECK(a->holder == "hostA pid=1 start=2");
    CHECK(a->expires - a->since == 60);
    CHECK(fs::exists(root.path / "apps" / "web" / "sync.lease"));

    auto b = store.acquire("web", "hostB pid=3 start=4", 60, std::nullopt);
    REQUIRE_FALSE(b);
    CHECK(b.error().kind == WireError::conflict);
    CHECK(b.error().message == "another sync of web is running since " +
                                   de::server::iso_time_utc(a->since) + " (hostA pid=1 start=2)");
    CHECK(b.error().extra["lease"]["id"] == a->id);
    CHECK(b.error().extra["lease"]["holder"] == "hostA pid=1 start=2");

    // A replace naming another id takes nothing over.
    auto c = store.acquire("web", "hostB pid=3 start=4", 60, std::string("0123"));
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == WireError::conflict);
    CHECK(store.check("web", a->id));
}

TEST_CASE("replace takes over exactly the named live lease and fences the old id") {
    TempDir root("de-lease");
    fs::create_directories(root.path / "apps" / "web");
    LeaseStore store(root.path);
    auto a = store.acquire("web", "h pid=1 start=2", 60, std::nullopt);
    REQUIRE(a);
    auto b = store.acquire("web", "h pid=9 start=9", 60, a->id);
    REQUIRE(b);
    CHECK(b->id != a->id);
    CHECK(store.check("web", b->id));
    auto old = store.check("web", a->id);
    REQUIRE_FALSE(old);
    CHECK(old.error().kind == WireError::conflict);
    CHECK(old.error().message == "the sync lease of web was lost (another sync took over)");
    auto r = store.renew("web", a->id, 60);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == WireError::conflict);
    auto d = store.release("web", a->id);
    REQUIRE_FALSE(d);
    CHECK(d.error().kind == WireError::not_found);
    CHECK(store.check("web", b->id));  // the failed release left the live lease alone
}

TEST_CASE("a lease expires after its TTL unless renewed") {
    TempDir root("de-lease");
    fs::create_directories(root.path / "apps" / "web");
    LeaseStore store(root.path);
    FakeClock clock;
    clock.attach(store);
    auto a = store.acquire("web", "h pid=1 start=2", 10, std::nullopt);
    REQUIRE(a);
    clock.advance_s(8);
    auto r = store.renew("web", a->id, 10);  // now expires 18 s after the start
    REQUIRE(r);
    CHECK(r->expires == a->since + 18);
    clock.advance_s(9);  // 17 s: still live
    CHECK(store.check("web", a->id));
    auto blocked = store.acquire("web", "other pid=5 start=6", 10, std::nullopt);
    CHECK_FALSE(blocked);
    clock.advance_s(1);  // 18 s: expired
    auto gone = store.check("web", a->id);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().message == "the sync lease of web was lost (it expired or was released)");
    auto late = store.renew("web", a->id, 10);
    CHECK_FALSE(late);
    auto live = store.live("web");
    REQUIRE(live);
    CHECK_FALSE(live->has_value());
    auto b = store.acquire("web", "other pid=5 start=6", 10, std::nullopt);
    REQUIRE(b);
    CHECK(store.check("web", b->id));
}

TEST_CASE("release ends the lease; a new sync may start at once") {
    TempDir root("de-lease");
    fs::create_directories(root.path / "apps" / "web");
    LeaseStore store(root.path);
    auto a = store.acquire("web", "h pid=1 start=2", 60, std::nullopt);
    REQUIRE(a);
    REQUIRE(store.release("web", a->id));
    CHECK_FALSE(fs::exists(root.path / "apps" / "web" / "sync.lease"));
    CHECK_FALSE(store.release("web", a->id));
    CHECK_FALSE(store.check("web", a->id));
    CHECK(store.acquire("web", "h pid=3 start=4", 60, std::nullopt));
}

TEST_CASE("the TTL is clamped to 5..600 s, 60 by default") {
    CHECK(LeaseStore::clamp_ttl(std::nullopt) == 60);
    CHECK(LeaseStore::clamp_ttl(1) == 5);
    CHECK(LeaseStore::clamp_ttl(-7) == 5);
    CHECK(LeaseStore::clamp_ttl(30) == 30);
    CHECK(LeaseStore::clamp_ttl(100000) == 600);
}

TEST_CASE("two stores on one root (two server processes) see one lease") {
    TempDir root("de-lease");
    fs::create_directories(root.path / "apps" / "web");
    LeaseStore one(root.path);
    LeaseStore two(root.path);
    auto a = one.acquire("web", "h pid=1 start=2", 60, std::nullopt);
    REQUIRE(a);
    CHECK_FALSE(two.acquire("web", "h pid=3 start=4", 60, std::nullopt));
    CHECK(two.check("web", a->id));
    REQUIRE(two.renew("web", a->id, 60));
    REQUIRE(two.release("web", a->id));
    CHECK_FALSE(one.check("web", a->id));
}

TEST_CASE("an app without a folder is not found; a damaged lease file counts as none") {
    TempDir root("de-lease");
    fs::create_directories(root.path / "apps" / "web");
    LeaseStore store(root.path);
    auto a = store.acquire("nope", "h pid=1 start=2", 60, std::nullopt);
    REQUIRE_FALSE(a);
    CHECK(a.error().kind == WireError::not_found);
    std::ofstream(root.path / "apps" / "web" / "sync.lease") << "{not json";
    CHECK(store.acquire("web", "h pid=1 start=2", 60, std::nullopt));
}

TEST_CASE("threads racing for one app's lease: exactly one wins") {
    TempDir root("de-lease");
    fs::create_directories(root.path / "apps" / "web");
    // One store per thread, as separate processes would have: only the file
    // lock keeps them apart.
    constexpr int k_threads = 8;
    std::vector<std::unique_ptr<LeaseStore>> stores;
    for (int i = 0; i < k_threads; ++i)
        stores.push_back(std::make_unique<LeaseStore>(root.path));
    std::atomic<int> wins{0}, conflicts{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < k_threads; ++i) {
        threads.emplace_back([&, i] {
            auto r = stores[static_cast<std::size_t>(i)]->acquire(
                "web", "h pid=" + std::to_string(i) + " start=1", 60, std::nullopt);
            if (r)
                ++wins;
            else if (r.error().kind == WireError::conflict)
                ++conflicts;
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(wins == 1);
    CHECK(conflicts == k_threads - 1);
}

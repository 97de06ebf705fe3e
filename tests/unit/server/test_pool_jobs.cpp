// JobGroup (server/src/pool_jobs.hpp): jobs run on the pool, the coroutine
// awaits them, and a group left with jobs in flight waits for them.
#include "pool_jobs.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

using namespace de::server;
using namespace std::chrono_literals;

TEST_CASE("JobGroup: wait() resumes once every job started ran") {
    asio::io_context ioc;
    asio::thread_pool pool(2);
    std::atomic<int> ran{0};
    bool resumed = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            JobGroup g(co_await asio::this_coro::executor);
            CHECK(!g.busy());
            co_await g.wait();  // nothing started: at once
            std::vector<std::function<void()>> fns;
            for (int i = 0; i < 3; ++i)
                fns.push_back([&ran] {
                    std::this_thread::sleep_for(20ms);
                    ++ran;
                });
            g.start(pool, std::move(fns));
            CHECK(g.busy());
            co_await g.wait();
            CHECK(!g.busy());
            CHECK(ran == 3);
            co_await on_pool(pool, [&ran] { ++ran; });
            CHECK(ran == 4);
            resumed = true;
        },
        asio::detached);
    ioc.run();
    CHECK(resumed);
}

TEST_CASE("JobGroup: a job's closure is gone before the group hears it is done") {
    asio::io_context ioc;
    asio::thread_pool pool(1);
    auto held = std::make_shared<int>(7);
    std::weak_ptr<int> watch = held;
    bool gone_at_wait = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            JobGroup g(co_await asio::this_coro::executor);
            g.start(pool, [h = std::move(held)] { CHECK(*h == 7); });
            co_await g.wait();
            gone_at_wait = watch.expired();
        },
        asio::detached);
    ioc.run();
    CHECK(gone_at_wait);
}

TEST_CASE("JobGroup: a group left with a job running waits for it") {
    // The path an exception between start() and wait() takes: the group goes
    // while its job still uses what was declared before it.
    asio::io_context ioc;
    asio::thread_pool pool(1);
    std::atomic<bool> finished{false};
    int value = 0;  // declared before the group, as its users must
    {
        JobGroup g(ioc.get_executor());
        g.start(pool, [&] {
            std::this_thread::sleep_for(150ms);
            value = 42;
            finished = true;
        });
    }
    CHECK(finished);
    CHECK(value == 42);
    // The group's "done" message arrives after the group: it must not touch it.
    ioc.run();
}

TEST_CASE("JobGroup: a job the stopped pool drops unrun counts as done") {
    asio::io_context ioc;
    auto pool = std::make_unique<asio::thread_pool>(1);
    std::promise<void> release;
    auto released = release.get_future().share();
    std::promise<void> blocking;
    // Occupy the pool's one thread so the group's job stays queued.
    asio::post(*pool, [released, &blocking] {
        blocking.set_value();
        released.wait();
    });
    blocking.get_future().wait();
    std::atomic<bool> ran{false};
    auto destroyed = std::async(std::launch::async, [&] {
        JobGroup g(ioc.get_executor());
        g.start(*pool, [&ran] { ran = true; });
        pool->stop();
        release.set_value();
        pool.reset();  // joins; the queued job is destroyed unrun
        // ~JobGroup here must not wait for a job that will never run.
    });
    REQUIRE(destroyed.wait_for(10s) == std::future_status::ready);
    CHECK(!ran);
    ioc.run();
}

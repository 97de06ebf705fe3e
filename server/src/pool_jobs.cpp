#include "pool_jobs.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>
#include <utility>

namespace de::server {

namespace {

// Test builds: DE_SERVER_TEST_POOL_LINGER_MS=N keeps a pool thread N ms past
// the end of a job, after the session was told the job is done: what the job
// still held then would outlive the request (the ~Batch regression, see
// batch.cpp).
void linger_after_job() {
#ifdef DE_TEST_HOOKS
    static const int ms = [] {
        const char* v = std::getenv("DE_SERVER_TEST_POOL_LINGER_MS");
        return v ? std::atoi(v) : 0;
    }();
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
#endif
}

}  // namespace

JobGroup::JobGroup(asio::any_io_executor ex) : m_ex(ex), m_timer(ex) {}

void JobGroup::start(asio::thread_pool& pool, std::vector<std::function<void()>> fns) {
    m_busy = true;
    m_done = fns.empty();
    auto left = std::make_shared<std::atomic<int>>(static_cast<int>(fns.size()));
    for (auto& fn : fns)
        asio::post(pool, [this, left, fn = std::move(fn)]() mutable {
            {
                // Run and destroy the closure here, before the session learns
                // the job is done.
                auto job = std::move(fn);
                job();
            }
            if (left->fetch_sub(1) == 1)
                asio::post(m_ex, [this] {
                    m_done = true;
                    m_timer.cancel();
                });
            linger_after_job();
        });
}

void JobGroup::start(asio::thread_pool& pool, std::function<void()> fn) {
    std::vector<std::function<void()>> fns;
    fns.push_back(std::move(fn));
    start(pool, std::move(fns));
}

asio::awaitable<void> JobGroup::wait() {
    boost::system::error_code ec;
    while (m_busy && !m_done) {
        m_timer.expires_at(std::chrono::steady_clock::time_point::max());
        co_await m_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    m_busy = false;
}

asio::awaitable<void> on_pool(asio::thread_pool& pool, std::function<void()> fn) {
    JobGroup g(co_await asio::this_coro::executor);
    g.start(pool, std::move(fn));
    co_await g.wait();
}

}  // namespace de::server

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

// Jobs of the current start() not yet done, and the group's timer while the
// group exists. `timer` and `done` are touched on the group's executor only (the session's
// strand, or no thread at all while the io_context is destroyed).
struct JobGroup::State {
    std::atomic<int> left{0};
    asio::steady_timer* timer = nullptr;
    bool done = true;
};

namespace {

// Counts its job done when destroyed: after the job ran and its closure was
// destroyed, or when a stopping pool drops the job unrun.
class JobDone {
  public:
    JobDone(std::shared_ptr<JobGroup::State> st, asio::any_io_executor ex)
        : m_st(std::move(st)), m_ex(std::move(ex)) {}
    JobDone(JobDone&& o) noexcept = default;
    JobDone& operator=(JobDone&&) = delete;
    ~JobDone() {
        if (!m_st) return;  // moved from
        auto st = std::move(m_st);
        if (st->left.fetch_sub(1) == 1) {
            asio::post(m_ex, [st] {
                st->done = true;
                if (st->timer) st->timer->cancel();
            });
            st->left.notify_all();
        }
        linger_after_job();
    }

  private:
    std::shared_ptr<JobGroup::State> m_st;
    asio::any_io_executor m_ex;
};

// One job as posted: the function is destroyed before `done` (members go in
// reverse order), whether the job ran or not.
struct PostedJob {
    JobDone done;
    std::function<void()> fn;
    void operator()() {
        // Run and destroy the closure here, before `done` tells the session.
        auto job = std::move(fn);
        job();
    }
};

}  // namespace

JobGroup::JobGroup(asio::any_io_executor ex)
    : m_ex(ex), m_timer(ex), m_state(std::make_shared<State>()) {
    m_state->timer = &m_timer;
}

JobGroup::~JobGroup() {
    m_state->timer = nullptr;
    for (int n = m_state->left.load(); n > 0; n = m_state->left.load())
        m_state->left.wait(n);
}

void JobGroup::start(asio::thread_pool& pool, std::vector<std::function<void()>> fns) {
    m_busy = true;
    m_state->done = fns.empty();
    m_state->left = static_cast<int>(fns.size());
    for (auto& fn : fns)
        asio::post(pool, PostedJob{JobDone(m_state, m_ex), std::move(fn)});
}

void JobGroup::start(asio::thread_pool& pool, std::function<void()> fn) {
    std::vector<std::function<void()>> fns;
    fns.push_back(std::move(fn));
    start(pool, std::move(fns));
}

asio::awaitable<void> JobGroup::wait() {
    boost::system::error_code ec;
    while (m_busy && !m_state->done) {
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

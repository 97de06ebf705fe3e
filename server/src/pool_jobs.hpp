#pragma once
// Blocking work (file system calls, hashing) run on the server's thread pool
// while a session's coroutine goes on with its connection; the coroutine
// awaits the work when it needs its result. Used by tus (a PATCH's write,
// checksum and hash jobs), the batch upload (tar members to staged files) and
// WebDAV's PROPFIND (the next page of a listing, stat'ed while the previous
// one is sent).
//
// The rules a user of JobGroup keeps:
// - co_await wait() before the group leaves scope on every path it controls;
// - declare the group after whatever its jobs use by reference. If the scope is
//   left with jobs still running anyway (an exception between start() and
//   wait(), or the coroutine's frame destroyed with the io_context), the
//   group's destructor blocks until they are done, and what is declared before
//   the group is still there for them.

#include <boost/asio.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace de::server {

namespace asio = boost::asio;

// Functions started at once on the pool; the session's coroutine awaits them
// all. Each function is run and then destroyed on its pool thread before the
// group learns it is done: what a job captured never outlives the request. A
// job the pool drops unrun (the pool stopped) counts as done.
class JobGroup {
  public:
    explicit JobGroup(asio::any_io_executor ex);
    // Waits, blocking the calling thread, for jobs still running (see above).
    ~JobGroup();
    JobGroup(const JobGroup&) = delete;
    JobGroup& operator=(const JobGroup&) = delete;

    // Starts the jobs; the group must not be busy (wait() first).
    void start(asio::thread_pool& pool, std::vector<std::function<void()>> fns);
    void start(asio::thread_pool& pool, std::function<void()> fn);
    // Started and not yet waited for.
    bool busy() const { return m_busy; }
    // Resumes once every job started is done (at once when none is).
    asio::awaitable<void> wait();

    struct State;

  private:
    asio::any_io_executor m_ex;
    asio::steady_timer m_timer;
    bool m_busy = false;
    // Shared with the jobs in flight, so a job finishing after the group is
    // gone touches only this.
    std::shared_ptr<State> m_state;
};

// Runs `fn` on the pool and waits for it.
asio::awaitable<void> on_pool(asio::thread_pool& pool, std::function<void()> fn);

}  // namespace de::server

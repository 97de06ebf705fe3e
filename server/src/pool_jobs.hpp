#pragma once
// Blocking work (file system calls, hashing) run on the server's thread pool
// while a session's coroutine goes on with its connection; the coroutine
// awaits the work when it needs its result. Used by tus (a PATCH's write,
// checksum and hash jobs), the batch upload (tar members to staged files) and
// WebDAV's PROPFIND (the next page of a listing, stat'ed while the previous
// one is sent).
//
// The rule a user of JobGroup keeps: wait() before the group (and whatever its
// jobs use) leaves scope, on every path, errors included.

#include <boost/asio.hpp>

#include <functional>
#include <vector>

namespace de::server {

namespace asio = boost::asio;

// Functions started at once on the pool; the session's coroutine awaits them
// all. Each function is run and then destroyed on its pool thread before the
// group learns it is done: what a job captured never outlives the request.
class JobGroup {
  public:
    explicit JobGroup(asio::any_io_executor ex);
    JobGroup(const JobGroup&) = delete;
    JobGroup& operator=(const JobGroup&) = delete;

    // Starts the jobs; the group must not be busy (wait() first).
    void start(asio::thread_pool& pool, std::vector<std::function<void()>> fns);
    void start(asio::thread_pool& pool, std::function<void()> fn);
    // Started and not yet waited for.
    bool busy() const { return m_busy; }
    // Resumes once every job started is done (at once when none is).
    asio::awaitable<void> wait();

  private:
    asio::any_io_executor m_ex;
    asio::steady_timer m_timer;
    bool m_busy = false;
    bool m_done = true;
};

// Runs `fn` on the pool and waits for it.
asio::awaitable<void> on_pool(asio::thread_pool& pool, std::function<void()> fn);

}  // namespace de::server

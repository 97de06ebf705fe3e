// What the WebDAV lock table's tests share (test_dav_locks*.cpp): a server
// root with a few apps' folders for LockTable to keep its files in, and a wall
// clock the test moves by hand.
#pragma once

#include "support/temp_dir.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace de::test {

// <tmp>/apps/{web,other,elsewhere}/ in tmpfs (/dev/shm) when there is one:
// every lock change fsyncs its file and folder, which costs milliseconds on a
// busy disk and nothing in memory, and the tests make thousands of changes.
class DavLocksRoot {
  public:
    DavLocksRoot() {
        std::string tmpl = "/dev/shm/de-dav-locks.XXXXXX";
        if (::access("/dev/shm", W_OK) == 0 && ::mkdtemp(tmpl.data())) {
            path = tmpl;
        } else {
            m_fallback = std::make_unique<TempDir>("de-dav-locks");
            path = m_fallback->path;
        }
        for (const char* app : {"web", "other", "elsewhere"})
            std::filesystem::create_directories(path / "apps" / app);
    }
    ~DavLocksRoot() {
        if (m_fallback) return;  // TempDir removes its own
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    DavLocksRoot(const DavLocksRoot&) = delete;
    DavLocksRoot& operator=(const DavLocksRoot&) = delete;

    std::filesystem::path state_file(const std::string& app) const {
        return path / "apps" / app / "dav-locks.json";
    }

    std::filesystem::path path;

  private:
    std::unique_ptr<TempDir> m_fallback;
};

// Whole seconds of system_clock time, shared by copies of the functor; starts
// in 2027 so that no real file time is ahead of it.
struct FakeWallClock {
    using TimePoint = std::chrono::system_clock::time_point;
    std::shared_ptr<std::atomic<std::int64_t>> s =
        std::make_shared<std::atomic<std::int64_t>>(1'800'000'000);
    std::function<TimePoint()> fn(std::int64_t skew_s = 0) const {
        auto p = s;
        return [p, skew_s] { return TimePoint(std::chrono::seconds(p->load() + skew_s)); };
    }
    void advance(std::int64_t by) const { *s += by; }
    void set(std::int64_t unix_s) const { *s = unix_s; }
    TimePoint now() const { return TimePoint(std::chrono::seconds(s->load())); }
};

}  // namespace de::test

#pragma once
// Deleting a folder of 20,000 files, a mount being turned off or an app being
// deleted costs one unlink per file: tens of seconds on a slow disk, longer
// than a client waits for an answer and, for the app store, with its lock
// held. The Reaper lets those requests answer after one rename: the tree goes
// into <root>/trash (the same file system, so the rename is atomic and
// immediate) and a thread of its own removes it afterwards.
//
// Nothing is lost if the server stops or dies first: what is left in the trash
// is removed by the next reaper. Several replicas on one root share the trash
// and one of them reaps at a time: the one holding the lock of
// <root>/replicas/reaper (file_lock.hpp). The others only rename trees into
// the trash; the reaper reads the trash again at least every second, and when
// it dies its lock goes with it and the next replica to try (within a second)
// takes over what is left, half-removed trees included. Until a tree is
// removed its blocks are still on disk but no longer count against the app's
// quota.
#include "file_lock.hpp"
#include "fs.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace de::server {

class Reaper {
  public:
    Reaper() = default;
    ~Reaper();  // stops at the next entry; the rest stays in the trash for the next start
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;

    // Opens the trash folder and starts the thread (once), which reaps while
    // it holds `lock_path`'s lock and tries for the lock every second until
    // then.
    Status start(const std::filesystem::path& trash_dir, const std::filesystem::path& lock_path);
    // Whether this replica's thread is the one reaping (tests, metrics).
    bool reaping() const { return m_reaping; }

    // Moves parent_fd/name into the trash under a fresh name starting with
    // `label` and queues it. When the trash is on another file system (EXDEV)
    // and fallback_dir_fd is given (a folder on the tree's file system), the
    // tree is renamed there instead and removed before returning. Returns 0
    // or the rename's errno (nothing moved).
    int discard(int parent_fd, const std::string& name, std::string_view label,
                int fallback_dir_fd = -1);

    // Trees in the trash not yet removed: queued, or being removed now (the
    // de_reaper_backlog metric; 0 on a replica that does not reap).
    std::size_t backlog();

  private:
    void run();
    // Queues what is in the trash and not queued yet (with m_mutex held).
    void rescan_locked();

    UniqueFd m_trash;
    std::filesystem::path m_lock_path;
    FileLock m_lock;
    std::atomic<bool> m_reaping{false};
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::string> m_queue;
    bool m_removing = false;  // run() is removing a tree (m_mutex)
    std::atomic<bool> m_stop{false};
};

}  // namespace de::server

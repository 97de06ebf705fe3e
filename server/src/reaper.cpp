// See reaper.hpp.
#include "reaper.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace de::server {

Reaper::~Reaper() {
    m_stop = true;
    { std::lock_guard lock(m_mutex); }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

Status Reaper::start(const std::filesystem::path& trash_dir,
                     const std::filesystem::path& lock_path) {
    std::lock_guard lock(m_mutex);
    if (!m_trash) {
        int fd = ::open(trash_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return fail(ErrorKind::generic, fmt::format("cannot open the trash folder '{}': {}",
                                                        trash_dir.string(), std::strerror(errno)));
        m_trash = UniqueFd(fd);
        m_lock_path = lock_path;
    }
    if (!m_thread.joinable()) m_thread = std::thread([this] { run(); });
    m_wake.notify_one();
    return {};
}

void Reaper::rescan_locked() {
    auto children = read_dir(m_trash.get());
    if (!children) return;
    for (const auto& c : *children)
        if (std::find(m_queue.begin(), m_queue.end(), c.name) == m_queue.end())
            m_queue.push_back(c.name);
}

int Reaper::discard(int parent_fd, const std::string& name, std::string_view label,
                    int fallback_dir_fd) {
    std::string trash_name = fmt::format("{}-{}", label, random_hex(8));
    {
        std::lock_guard lock(m_mutex);
        int err = EBADF;
        if (m_trash) {
            if (::renameat(parent_fd, name.c_str(), m_trash.get(), trash_name.c_str()) == 0) {
                m_queue.push_back(std::move(trash_name));
                m_wake.notify_one();
                return 0;
            }
            err = errno;
        }
        if ((err != EXDEV && err != EBADF) || fallback_dir_fd < 0) return err;
    }
    // The tree is on another file system than the trash: out of sight in the
    // fallback folder (the caller's, on the tree's file system), removed now.
    if (::renameat(parent_fd, name.c_str(), fallback_dir_fd, trash_name.c_str()) != 0) return errno;
    remove_tree(fallback_dir_fd, trash_name);
    return 0;
}

void Reaper::run() {
    constexpr auto k_look_every = std::chrono::seconds(1);
#ifdef DE_TEST_HOOKS
    // Tests kill a reaper midway: each top-level member of a tree waits this long.
    const char* pause_env = std::getenv("DE_SERVER_TEST_REAP_PAUSE_MS");
    const auto pause = std::chrono::milliseconds(pause_env ? std::atoi(pause_env) : 0);
#endif
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        if (!m_lock.held()) {
            lock.unlock();
            auto taken = FileLock::take(m_lock_path, false);
            lock.lock();
            if (!taken) {
                // Another replica reaps (or the lock cannot be had): try again soon.
                m_queue.clear();
                m_wake.wait_for(lock, k_look_every, [&] { return m_stop.load(); });
                continue;
            }
            m_lock = std::move(*taken);
            m_reaping = true;
            std::fprintf(stderr, "de-server: this replica reaps the trash\n");
        }
        if (m_queue.empty()) rescan_locked();
        if (m_queue.empty()) {
            // What other replicas rename into the trash is found by looking again.
            m_wake.wait_for(lock, k_look_every, [&] { return m_stop || !m_queue.empty(); });
            continue;
        }
        std::string name = std::move(m_queue.front());
        m_queue.pop_front();
        m_removing = true;
        lock.unlock();
#ifdef DE_TEST_HOOKS
        if (pause.count() > 0) {
            UniqueFd dir(::openat(m_trash.get(), name.c_str(),
                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (auto children = dir ? read_dir(dir.get()) : decltype(read_dir(0)){})
                for (const auto& c : *children) {
                    if (m_stop) break;
                    remove_tree(dir.get(), c.name, &m_stop);
                    std::this_thread::sleep_for(pause);
                }
        }
#endif
        int err = remove_tree(m_trash.get(), name, &m_stop);
        if (err != 0 && err != ENOENT && err != ECANCELED)
            std::fprintf(stderr, "de-server: cannot remove %s from the trash: %s\n", name.c_str(),
                         std::strerror(err));
        lock.lock();
        m_removing = false;
    }
    m_reaping = false;
    m_lock.release();
}

std::size_t Reaper::backlog() {
    std::lock_guard lock(m_mutex);
    return m_queue.size() + (m_removing ? 1 : 0);
}

}  // namespace de::server

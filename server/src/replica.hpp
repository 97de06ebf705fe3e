#pragma once
// This process among the de-server replicas that serve one root. Each replica
// holds, for as long as it lives, the lock of its own file
// <root>/replicas/<id> (file_lock.hpp: an OFD lock, released by the kernel
// when the process dies, kill -9 included). Whatever a replica leaves on the
// root under its id (staged files, its quota ledger) is its own while that
// lock is held, and anybody's to clean up once it is not.

#include "file_lock.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace de::server {

class Replicas {
  public:
    explicit Replicas(std::filesystem::path root) : m_root(std::move(root)) {}

    // Picks this replica's id (16 hex digits, random) and takes its lock.
    Status start();
    const std::string& id() const { return m_id; }

    // Whether replica `id` lives (its lock is held). Our own id: true. An
    // answer is reused for up to a second (a replica that just died looks
    // alive that long more: the careful answer for what it holds).
    bool alive(std::string_view id);
    // Removes the files of replicas that are gone (their lock is free).
    void forget_dead();

    // A name for something this replica stages: "<id>.<rest>".
    std::string tag(std::string_view rest) const;
    // The replica id of a name made by tag(), or "" for any other name.
    static std::string_view owner_of(std::string_view name);

  private:
    std::filesystem::path m_root;
    std::string m_id;
    FileLock m_lock;
    std::mutex m_mutex;
    struct Seen {
        bool alive = false;
        std::chrono::steady_clock::time_point at;
    };
    std::map<std::string, Seen, std::less<>> m_seen;
};

}  // namespace de::server

#pragma once
// Apps and their owners. Each app is a folder <root>/apps/<name>/ holding
// app.json (owner, created_at, persistent_filesystem), the mount and the
// staging folder. Creating the folder with mkdir(2) is what claims a name, so
// two concurrent creates cannot both win. A caller that is not the owner gets
// exactly the not_found a missing app gets.

#include "api_error.hpp"
#include "reaper.hpp"
#include "replica.hpp"

#include <de/types.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace de::server {

// 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit.
bool valid_app_name(std::string_view name);

class AppStore {
  public:
    explicit AppStore(std::filesystem::path root);

    // Creates <root>/apps and <root>/trash, registers this replica
    // (replica.hpp), removes what replicas that are gone left in staging
    // folders, and starts the reaper (which removes what is in the trash).
    Status prepare();
    // Shutdown: removes what this replica left in staging folders.
    void clean_own_staging();
    // Removes the temporary files of write_file_atomic (fs.hpp) at least
    // k_stale_temp_age old in the root, each app's folder and its tus folder:
    // what a process killed mid-write left (users.json, app.json,
    // dav-locks.json, the sync lease, tus creation keys). At start and every
    // few minutes after (Server). Returns how many it removed.
    std::size_t remove_stale_temps();
    static constexpr std::chrono::seconds k_stale_temp_age{600};

    Replicas& replicas() { return m_replicas; }
    Reaper& reaper() { return m_reaper; }

    ApiResult<std::vector<App>> list(std::string_view owner);
    ApiResult<App> create(std::string_view name, std::string_view owner);
    ApiResult<App> get(std::string_view name, std::string_view owner);
    // Turns the mount on or off. Off deletes every file in it. `changed` tells
    // whether the state was different before.
    ApiResult<App> set_persistent(std::string_view name, std::string_view owner, bool on,
                                  bool& changed);
    ApiResult<void> remove(std::string_view name, std::string_view owner);

    // Called (with the store's lock held) after an app's mount was turned off
    // or the app deleted, so that what lives beside the mount (resumable
    // uploads and their quota reservations) goes with it.
    void set_mount_gone_hook(std::function<void(const std::string& app)> hook);

    std::filesystem::path app_dir(std::string_view name) const;
    std::filesystem::path mount_dir(std::string_view name) const;
    std::filesystem::path staging_dir(std::string_view name) const;
    const std::filesystem::path& root() const { return m_root; }

    // Moves parent_fd/name out of sight into <root>/trash, to be removed in
    // the background (see reaper.hpp). Returns 0 or an errno.
    int discard(int parent_fd, const std::string& name, std::string_view label,
                int fallback_dir_fd = -1) {
        return m_reaper.discard(parent_fd, name, label, fallback_dir_fd);
    }
    // Trees in the trash the reaper has yet to remove (metrics).
    std::size_t trash_backlog() { return m_reaper.backlog(); }

  private:
    // Removes the staging folders' entries that no live replica owns (`own`:
    // only this replica's).
    void clean_staging(bool own);
    ApiResult<App> load(std::string_view name);
    // The app's lock between replicas, taken with m_mutex held.
    ApiResult<FileLock> lock_app(std::string_view name);
    ApiResult<void> save(const App& app);
    ApiResult<App> not_found(std::string_view name) const;

    std::filesystem::path m_root;
    // Serialise changes of app.json and of the mount's existence: the mutex
    // within this process, the app's lock file <root>/apps/.<name>.lock
    // between replicas.
    std::mutex m_mutex;
    Replicas m_replicas;
    std::function<void(const std::string&)> m_mount_gone;
    Reaper m_reaper;  // last: stops before the rest goes
};

}  // namespace de::server

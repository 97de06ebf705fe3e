// See replica.hpp.
#include "replica.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace de::server {

namespace {
constexpr auto k_alive_reuse = std::chrono::seconds(1);
constexpr std::size_t k_id_chars = 16;

bool valid_id(std::string_view id) {
    if (id.size() != k_id_chars) return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}
}  // namespace

Status Replicas::start() {
    std::error_code ec;
    std::filesystem::create_directories(m_root / "replicas", ec);
    if (ec)
        return fail(ErrorKind::generic, fmt::format("cannot create '{}': {}",
                                                    (m_root / "replicas").string(), ec.message()));
    // Another replica's forget_dead() may take a fresh file's lock between its
    // creation and ours and unlink it: the lock must be on the file the name
    // still leads to, else another id is tried.
    for (int attempt = 0; attempt < 8; ++attempt) {
        m_id = random_hex(k_id_chars / 2);
        auto path = m_root / "replicas" / m_id;
        auto lock = FileLock::take(path, false);
        if (!lock) continue;
        struct stat held {
        }, named{};
        if (::fstat(lock->fd(), &held) != 0 || ::stat(path.c_str(), &named) != 0 ||
            held.st_ino != named.st_ino || held.st_dev != named.st_dev)
            continue;
        m_lock = std::move(*lock);
        forget_dead();
        return {};
    }
    return fail(ErrorKind::generic, fmt::format("cannot register this replica in '{}'",
                                                (m_root / "replicas").string()));
}

bool Replicas::alive(std::string_view id) {
    if (id == m_id) return true;
    if (!valid_id(id)) return false;
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard guard(m_mutex);
        auto it = m_seen.find(id);
        if (it != m_seen.end() && now - it->second.at < k_alive_reuse) return it->second.alive;
    }
    bool alive = FileLock::held_elsewhere(m_root / "replicas" / std::string(id));
    std::lock_guard guard(m_mutex);
    if (m_seen.size() > 4096) m_seen.clear();
    m_seen[std::string(id)] = Seen{alive, now};
    return alive;
}

void Replicas::forget_dead() {
    UniqueFd dir(::open((m_root / "replicas").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return;
    auto children = read_dir(dir.get());
    if (!children) return;
    for (const auto& c : *children) {
        if (c.name == m_id || !valid_id(c.name)) continue;
        // Taking its lock proves it free; unlinking while holding it means a
        // replica that (impossibly) reused the id would find no file to lock.
        auto lock = FileLock::take_at(dir.get(), c.name.c_str(), false);
        if (lock) ::unlinkat(dir.get(), c.name.c_str(), 0);
    }
}

std::string Replicas::tag(std::string_view rest) const {
    return fmt::format("{}.{}", m_id, rest);
}

std::string_view Replicas::owner_of(std::string_view name) {
    if (name.size() <= k_id_chars || name[k_id_chars] != '.') return {};
    auto id = name.substr(0, k_id_chars);
    return valid_id(id) ? id : std::string_view{};
}

}  // namespace de::server

// See apps.hpp. Deleting an app or disabling its mount renames the folder out
// of sight into <root>/trash, and the Reaper removes it after the answer: a
// request that races the deletion sees either everything or nothing.
#include "apps.hpp"

#include "fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace de::server {

namespace {
using api::WireError;
using nlohmann::json;

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

bool valid_app_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!ok(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) { return ok(c) || c == '-'; });
}

AppStore::AppStore(std::filesystem::path root) : m_root(std::move(root)), m_replicas(m_root) {}

std::filesystem::path AppStore::app_dir(std::string_view name) const {
    return m_root / "apps" / std::string(name);
}
std::filesystem::path AppStore::mount_dir(std::string_view name) const {
    return app_dir(name) / "mount";
}
std::filesystem::path AppStore::staging_dir(std::string_view name) const {
    return app_dir(name) / "staging";
}

void AppStore::set_mount_gone_hook(std::function<void(const std::string&)> hook) {
    std::lock_guard guard(m_mutex);
    m_mount_gone = std::move(hook);
}

Status AppStore::prepare() {
    std::error_code ec;
    std::filesystem::create_directories(m_root / "apps", ec);
    if (!ec) std::filesystem::create_directories(m_root / "trash", ec);
    if (ec)
        return fail(ErrorKind::generic,
                    fmt::format("cannot prepare root '{}': {}", m_root.string(), ec.message()));
    if (m_replicas.id().empty())
        if (auto r = m_replicas.start(); !r) return r;
    // What is in the trash is removed in the background, by one replica at a time.
    if (auto r = m_reaper.start(m_root / "trash", m_root / "replicas" / "reaper"); !r) return r;
    clean_staging(false);
    if (auto n = remove_stale_temps())
        fmt::print(stderr, "removed {} temporary file(s) a stopped de-server left\n", n);
    return {};
}

std::size_t AppStore::remove_stale_temps() {
    std::size_t removed = 0;
    auto sweep = [&](const std::filesystem::path& dir) {
        UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (fd) removed += remove_stale_atomic_temps(fd.get(), k_stale_temp_age);
    };
    sweep(m_root);
    UniqueFd apps(::open((m_root / "apps").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!apps) return removed;
    auto children = read_dir(apps.get());
    if (!children) return removed;
    for (const auto& c : *children) {
        if (!valid_app_name(c.name) || !S_ISDIR(c.st.st_mode)) continue;
        sweep(app_dir(c.name));
        sweep(app_dir(c.name) / "tus");  // tus_store.cpp's k_tus_dir: its creation keys
    }
    return removed;
}

void AppStore::clean_own_staging() {
    clean_staging(true);
}

void AppStore::clean_staging(bool own) {
    UniqueFd apps(::open((m_root / "apps").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!apps) return;
    auto children = read_dir(apps.get());
    if (!children) return;
    for (const auto& c : *children) {
        if (!valid_app_name(c.name)) continue;
        UniqueFd dir(
            ::open(staging_dir(c.name).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir) continue;
        auto staged = read_dir(dir.get());
        if (!staged) continue;
        for (const auto& f : *staged) {
            // Named by Replicas::tag: its replica's while that one lives. Any
            // other name is a tree being removed by a discard's fallback, or
            // left by an older de-server: nobody's.
            auto owner = Replicas::owner_of(f.name);
            bool remove =
                own ? owner == m_replicas.id() : owner.empty() || !m_replicas.alive(owner);
            if (remove) remove_tree(dir.get(), f.name);
        }
    }
}

ApiResult<FileLock> AppStore::lock_app(std::string_view name) {
    if (!valid_app_name(name)) return std::unexpected(not_found(name).error());
    auto lock = FileLock::take(m_root / "apps" / fmt::format(".{}.lock", name));
    if (!lock) return api_fail(WireError::internal, lock.error().message);
    return std::move(*lock);
}

ApiResult<App> AppStore::not_found(std::string_view name) const {
    return api_fail(WireError::not_found, fmt::format("app '{}' not found", name));
}

ApiResult<App> AppStore::load(std::string_view name) {
    if (!valid_app_name(name)) return not_found(name);
    auto text = read_small_file(app_dir(name) / "app.json");
    if (!text) {
        // Only a missing app.json means "no such app": a server out of open files
        // (or any other read failure) says so, never "not found" (issue 18, F5).
        if (text.error().kind == ErrorKind::not_found) return not_found(name);
        const int err = errno;
        if (err == EMFILE || err == ENFILE)
            return std::unexpected(errno_error(err, "reading app", std::string(name)));
        return api_fail(WireError::internal,
                        fmt::format("app '{}': {}", name, text.error().message));
    }
    try {
        auto j = json::parse(*text);
        App a;
        a.name = std::string(name);
        a.owner = j.at("owner").get<std::string>();
        a.created_at = j.at("created_at").get<std::int64_t>();
        a.persistent_filesystem = j.at("persistent_filesystem").get<bool>();
        return a;
    } catch (const std::exception& e) {
        return api_fail(WireError::internal,
                        fmt::format("app '{}': app.json is damaged: {}", name, e.what()));
    }
}

ApiResult<void> AppStore::save(const App& a) {
    json j{{"owner", a.owner},
           {"created_at", a.created_at},
           {"persistent_filesystem", a.persistent_filesystem}};
    auto s = write_file_atomic(app_dir(a.name) / "app.json", j.dump(2) + "\n", 0644);
    if (!s) return api_fail(WireError::internal, s.error().message);
    return {};
}

ApiResult<std::vector<App>> AppStore::list(std::string_view owner) {
    std::vector<App> out;
    int fd = ::open((m_root / "apps").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return out;
        return std::unexpected(errno_error(errno, "listing", "apps"));
    }
    UniqueFd apps(fd);
    auto children = read_dir(apps.get());
    if (!children) return std::unexpected(children.error());
    for (const auto& c : *children) {
        if (!S_ISDIR(c.st.st_mode) || !valid_app_name(c.name)) continue;
        auto a = load(c.name);
        // A folder without app.json is not an app (one being created or deleted);
        // any other failure fails the listing: never a partial list (issue 18, F5).
        if (!a) {
            if (a.error().kind == WireError::not_found) continue;
            return std::unexpected(a.error());
        }
        if (a->owner == owner) out.push_back(std::move(*a));
    }
    std::sort(out.begin(), out.end(), [](const App& x, const App& y) { return x.name < y.name; });
    return out;
}

ApiResult<App> AppStore::create(std::string_view name, std::string_view owner) {
    if (!valid_app_name(name))
        return api_fail(WireError::bad_request,
                        fmt::format("invalid app name '{:.80}': use 1-63 characters of a-z, 0-9 "
                                    "and '-', starting with a letter or digit",
                                    name));
    std::lock_guard guard(m_mutex);
    auto dir = app_dir(name);
    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno == EEXIST)
            return api_fail(WireError::conflict,
                            fmt::format("app name '{}' is taken; choose another name", name));
        return api_fail(WireError::internal,
                        fmt::format("cannot create app '{}': {}", name, std::strerror(errno)));
    }
    App a{std::string(name), std::string(owner), now_s(), false};
    if (::mkdir(staging_dir(name).c_str(), 0700) != 0 && errno != EEXIST) {
        int err = errno;
        std::filesystem::remove_all(dir);
        return api_fail(WireError::internal,
                        fmt::format("cannot create app '{}': {}", name, std::strerror(err)));
    }
    if (auto s = save(a); !s) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        return std::unexpected(s.error());
    }
    return a;
}

ApiResult<App> AppStore::get(std::string_view name, std::string_view owner) {
    auto a = load(name);
    if (!a) return a;
    if (a->owner != owner) return not_found(name);
    return a;
}

ApiResult<App> AppStore::set_persistent(std::string_view name, std::string_view owner, bool on,
                                        bool& changed) {
    std::lock_guard guard(m_mutex);
    auto across = lock_app(name);
    if (!across) return std::unexpected(across.error());
    auto a = get(name, owner);
    if (!a) return a;
    changed = a->persistent_filesystem != on;
    if (on) {
        // Create the folders even when the flag was on already: repairs a mount
        // folder that someone removed by hand.
        if (::mkdir(mount_dir(name).c_str(), 0755) != 0 && errno != EEXIST)
            return api_fail(WireError::internal, fmt::format("cannot create the mount of '{}': {}",
                                                             name, std::strerror(errno)));
        ::mkdir(staging_dir(name).c_str(), 0700);
        if (changed) {
            a->persistent_filesystem = true;
            if (auto s = save(*a); !s) return std::unexpected(s.error());
        }
        return a;
    }
    if (!changed) return a;
    // The files go out of sight first (one rename into the trash; the reaper
    // removes them after this answer), and only then is the app saved as
    // disabled: when the rename fails the app stays enabled with its files and
    // the caller gets the error, never an answer that claims they are gone.
    ::mkdir(staging_dir(name).c_str(), 0700);
    UniqueFd app_fd(::open(app_dir(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!app_fd)
        return api_fail(WireError::internal,
                        fmt::format("cannot open app '{}': {}", name, std::strerror(errno)));
    struct stat st {};
    // A missing mount folder (removed by hand) is already what we want.
    if (::fstatat(app_fd.get(), "mount", &st, AT_SYMLINK_NOFOLLOW) == 0) {
        UniqueFd staging_fd(::open(staging_dir(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        int err = m_reaper.discard(app_fd.get(), "mount", fmt::format("{}-disabled", name),
                                   staging_fd.get());
        if (err != 0)
            return api_fail(WireError::internal,
                            fmt::format("cannot delete the files of app '{}'; the mount stays "
                                        "enabled: {}",
                                        name, std::strerror(err)));
        ::fsync(app_fd.get());
    } else if (errno != ENOENT) {
        return api_fail(WireError::internal, fmt::format("cannot delete the files of app '{}': {}",
                                                         name, std::strerror(errno)));
    }
    // What lived beside the mount (resumable uploads) goes with it, whether or
    // not the app can be saved below: its files are gone either way.
    if (m_mount_gone) m_mount_gone(std::string(name));
    a->persistent_filesystem = false;
    if (auto s = save(*a); !s) {
        // The app still says enabled: give it an empty mount, so that it
        // serves what it now holds (nothing) and a repeated DELETE converges.
        ::mkdirat(app_fd.get(), "mount", 0755);
        ApiError e = s.error();
        e.message = fmt::format(
            "the files of app '{}' were deleted, but the mount could not be "
            "marked disabled: {}",
            name, e.message);
        return std::unexpected(e);
    }
    return a;
}

ApiResult<void> AppStore::remove(std::string_view name, std::string_view owner) {
    std::lock_guard guard(m_mutex);
    auto across = lock_app(name);
    if (!across) return std::unexpected(across.error());
    auto a = get(name, owner);
    if (!a) return std::unexpected(a.error());
    UniqueFd apps_fd(::open((m_root / "apps").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    int err = apps_fd ? m_reaper.discard(apps_fd.get(), std::string(name), name) : errno;
    if (err != 0)
        return api_fail(WireError::internal,
                        fmt::format("cannot delete app '{}': {}", name, std::strerror(err)));
    ::fsync(apps_fd.get());
    if (m_mount_gone) m_mount_gone(std::string(name));
    return {};
}

}  // namespace de::server

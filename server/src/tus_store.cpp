// See tus_store.hpp. State files are rewritten with write + rename and not
// fsynced: a process crash keeps the page cache, and a machine crash is
// caught by the whole-file SHA-256 at completion. The one exception is the
// commit record (TusUpload::commit_record), fsynced before the rename into
// the mount: the rename and the record of it cannot be one atomic step, so
// the record comes first and start-up resolves it (resolve_commit).
#include "tus_store.hpp"

#include <de/name_json.hpp>
#include <de/text.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <set>
#include <vector>

namespace de::server::tus {

using api::WireError;

namespace {

constexpr std::size_t k_max_tombstones = 100'000;

json state_json(const TusUpload& u) {
    json j{{"version", 1},
           {"id", u.id},
           {"app", u.app},
           {"owner", u.owner},
           {"app_created_at", u.app_created_at},
           {"length", u.length},
           {"part_size", u.parts_mode ? u.part_size : 0},
           {"metadata", u.metadata_raw},
           {"creation_key", u.creation_key},
           {"overwrite", u.overwrite},
           {"concat", u.concat == tus::Concat::Kind::partial ? "partial"
                      : u.concat == tus::Concat::Kind::final ? "final"
                                                             : ""},
           {"concat_header", u.concat_header},
           {"touched_ms", u.touched_ms},
           {"completed", u.completed}};
    put_name(j, "path", u.rel);  // any bytes (de/name_json.hpp)
    if (u.sha256) j["sha256"] = *u.sha256;
    if (u.mtime_ns) j["mtime_ns"] = *u.mtime_ns;
    if (u.completed) {
        j["entry"] = u.entry;
        j["created"] = u.created;
    } else {
        if (u.commit_record)
            j["committing"] = {{"sha256", u.commit_record->sha256},
                               {"dev", u.commit_record->dev},
                               {"ino", u.commit_record->ino},
                               {"target_existed", u.commit_record->target_existed}};
        j["done"] = u.done_ranges();
        json partial = json::object();
        for (std::size_t k = 0; k < u.parts.size(); ++k)
            if (u.parts[k].confirmed != 0 && u.parts[k].confirmed != u.plen(k))
                partial[std::to_string(k)] = u.parts[k].confirmed;
        j["partial"] = partial;
    }
    return j;
}

}  // namespace

void init_parts(TusUpload& u) {
    if (!u.parts_mode) u.part_size = u.length;
    // Without overflow, whatever part_size is (length + part_size - 1 could
    // wrap to a count of 0: an upload "complete" with no byte received).
    std::size_t n = u.length == 0 ? 0 : u.length / u.part_size + (u.length % u.part_size != 0);
    u.parts.assign(n, Part{});
}

// Writes <id>.json with write + rename (no fsync unless `durable`, see the top
// of the file).
bool save(TusUpload& u, bool durable) {
    std::lock_guard s(u.save_mu);
    std::string text;
    {
        std::lock_guard g(u.mu);
        if (u.dropped) return false;
        text = dump_json(state_json(u));
    }
    std::string tmp = u.id + ".json.tmp";
    int fd = ::openat(u.dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    UniqueFd f(fd);
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        off += static_cast<std::size_t>(w);
    }
    if (durable && ::fsync(fd) != 0) return false;
    f.reset();
    if (::renameat(u.dir.get(), tmp.c_str(), u.dir.get(), (u.id + ".json").c_str()) != 0)
        return false;
    return !durable || ::fsync(u.dir.get()) == 0;
}

void remove_files(TusUpload& u) {
    std::lock_guard s(u.save_mu);
    ::unlinkat(u.dir.get(), (u.id + ".data").c_str(), 0);
    ::unlinkat(u.dir.get(), (u.id + ".json").c_str(), 0);
    ::unlinkat(u.dir.get(), (u.id + ".json.tmp").c_str(), 0);
}

UploadStore::UploadStore(AppStore& apps, MountStore& mounts, std::chrono::milliseconds expiry)
    : m_apps(apps), m_mounts(mounts), m_expiry(expiry) {}

std::string UploadStore::key(std::string_view app, std::string_view id) {
    return std::string(app) + "/" + std::string(id);
}

std::filesystem::path UploadStore::uploads_dir(std::string_view app) const {
    return m_apps.app_dir(app) / "uploads";
}

void UploadStore::add(const UploadPtr& u) {
    std::lock_guard g(m_mu);
    m_uploads[key(u->app, u->id)] = u;
}

namespace {
// Caller holds the store's lock. A dropped upload has left the map; a
// completed one stays there (for HEAD) and still counts: its creator knew its
// Location (it had sent the parts), so a repeat cannot come without it.
std::optional<UploadPtr> live_with_key(const std::map<std::string, UploadPtr>& uploads,
                                       std::string_view app, std::string_view owner,
                                       std::string_view creation_key) {
    if (creation_key.empty()) return std::nullopt;
    for (const auto& [k, u] : uploads) {
        if (u->app == app && u->owner == owner && u->creation_key == creation_key) return u;
    }
    return std::nullopt;
}
}  // namespace

std::optional<UploadPtr> UploadStore::find_by_key(std::string_view app, std::string_view owner,
                                                  std::string_view creation_key) {
    std::lock_guard g(m_mu);
    return live_with_key(m_uploads, app, owner, creation_key);
}

UploadPtr UploadStore::add_unique(const UploadPtr& u) {
    std::lock_guard g(m_mu);
    if (auto existing = live_with_key(m_uploads, u->app, u->owner, u->creation_key))
        return *existing;
    m_uploads[key(u->app, u->id)] = u;
    return u;
}

void UploadStore::discard(const UploadPtr& u, bool tombstone) {
    {
        std::lock_guard g(u->mu);
        if (u->dropped) return;
        u->dropped = true;
        if (!u->committing) u->res.commit(0);
        u->drop_ahead_locked(0, UINT64_MAX);
    }
    remove_files(*u);
    std::lock_guard g(m_mu);
    auto k = key(u->app, u->id);
    m_uploads.erase(k);
    if (tombstone) {
        if (m_gone.size() >= k_max_tombstones) m_gone.clear();
        m_gone[k] = now_ms();
    }
}

void UploadStore::drop_app(const std::string& app) {
    std::vector<UploadPtr> victims;
    {
        std::lock_guard g(m_mu);
        for (auto& [k, u] : m_uploads)
            if (u->app == app) victims.push_back(u);
    }
    for (auto& u : victims)
        discard(u, false);
    // Whatever else is in the folder (a disabled mount keeps the app folder).
    int fd = ::open(uploads_dir(app).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        UniqueFd d(fd);
        if (auto children = read_dir(d.get()))
            for (const auto& c : *children)
                remove_tree(d.get(), c.name);
    }
}

ApiResult<UploadPtr> UploadStore::find(std::string_view app, std::string_view id,
                                       std::string_view owner) {
    auto not_found = [&] {
        return api_fail(WireError::not_found,
                        fmt::format("upload '{:.40}' not found in app '{}'", id, app));
    };
    if (!tus::valid_upload_id(id)) return not_found();
    UploadPtr u;
    {
        std::lock_guard g(m_mu);
        auto k = key(app, id);
        auto it = m_uploads.find(k);
        if (it == m_uploads.end()) {
            if (m_gone.count(k))
                return api_fail(WireError::gone,
                                fmt::format("upload '{}' expired or was terminated", id));
            return not_found();
        }
        u = it->second;
    }
    if (u->owner != owner) return not_found();
    bool expired = false;
    {
        std::lock_guard g(u->mu);
        expired = !u->any_active() && !u->committing && now_ms() > u->touched_ms + expiry_ms();
    }
    if (expired) {
        discard(u, true);
        return api_fail(WireError::gone, fmt::format("upload '{}' expired", id));
    }
    return u;
}

std::optional<UploadPtr> UploadStore::load(const std::string& app, int dir_fd,
                                           const std::string& id) {
    auto drop = [&] {
        ::unlinkat(dir_fd, (id + ".data").c_str(), 0);
        ::unlinkat(dir_fd, (id + ".json").c_str(), 0);
        return std::nullopt;
    };
    std::string text;
    {
        int fd = ::openat(dir_fd, (id + ".json").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return drop();
        UniqueFd f(fd);
        char buf[65536];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0)
            text.append(buf, static_cast<std::size_t>(n));
    }
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return drop();
    auto u = std::make_shared<TusUpload>();
    u->buffers = m_buffers;
    try {
        u->id = id;
        u->app = j.at("app").get<std::string>();
        u->owner = j.at("owner").get<std::string>();
        u->app_created_at = j.at("app_created_at").get<std::int64_t>();
        u->length = j.at("length").get<std::uint64_t>();
        u->part_size = j.at("part_size").get<std::uint64_t>();
        u->parts_mode = u->part_size != 0;
        if (u->parts_mode &&
            (u->part_size < api::k_tus_min_part || u->part_size > api::k_tus_max_part))
            return drop();
        u->metadata_raw = j.at("metadata").get<std::string>();
        u->creation_key = j.value("creation_key", "");
        auto rel = get_name(j, "path");
        if (!rel) return drop();
        u->rel = std::move(*rel);
        u->overwrite = j.at("overwrite").get<bool>();
        auto c = j.at("concat").get<std::string>();
        u->concat = c == "partial" ? tus::Concat::Kind::partial
                    : c == "final" ? tus::Concat::Kind::final
                                   : tus::Concat::Kind::none;
        u->concat_header = j.value("concat_header", "");
        u->touched_ms = j.at("touched_ms").get<std::int64_t>();
        u->completed = j.at("completed").get<bool>();
        if (j.contains("sha256")) u->sha256 = j["sha256"].get<std::string>();
        if (j.contains("mtime_ns")) u->mtime_ns = j["mtime_ns"].get<std::int64_t>();
        init_parts(*u);
        if (u->completed) {
            u->entry = j.at("entry");
            u->created = j.at("created").get<bool>();
        } else {
            if (j.contains("committing")) {
                const auto& cr = j["committing"];
                TusUpload::CommitRecord r;
                r.sha256 = cr.at("sha256").get<std::string>();
                r.dev = cr.at("dev").get<std::uint64_t>();
                r.ino = cr.at("ino").get<std::uint64_t>();
                r.target_existed = cr.at("target_existed").get<bool>();
                u->commit_record = r;
            }
            auto done = j.at("done").get<std::string>();
            std::size_t i = 0;
            while (i < done.size()) {
                auto comma = done.find(',', i);
                if (comma == std::string::npos) comma = done.size();
                auto item = std::string_view(done).substr(i, comma - i);
                auto dash = item.find('-');
                auto a = parse_decimal_u64(item.substr(0, dash));
                auto b =
                    dash == std::string_view::npos ? a : parse_decimal_u64(item.substr(dash + 1));
                if (!a || !b || *b < *a || *b >= u->parts.size()) return drop();
                for (auto p = *a; p <= *b; ++p)
                    u->parts[p].confirmed = u->plen(p);
                i = comma + 1;
            }
            for (auto& [ks, v] : j.at("partial").items()) {
                auto p = parse_decimal_u64(ks);
                if (!p || *p >= u->parts.size() || v.get<std::uint64_t>() > u->plen(*p))
                    return drop();
                u->parts[*p].confirmed = v.get<std::uint64_t>();
            }
            for (auto& p : u->parts)
                p.filled = p.confirmed;
        }
    } catch (const std::exception&) {
        return drop();
    }
    if (u->app != app || now_ms() > u->touched_ms + expiry_ms()) return drop();
    auto a = m_apps.get(app, u->owner);
    if (!a || !a->persistent_filesystem || a->created_at != u->app_created_at) return drop();
    int dfd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0) return drop();
    u->dir = UniqueFd(dfd);
    if (u->commit_record) resolve_commit(*u, dir_fd);
    if (!u->completed) {
        int fd = ::openat(dir_fd, (id + ".data").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        struct stat st {};
        if (fd < 0) return drop();
        u->data = UniqueFd(fd);
        if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != u->length)
            return drop();
        u->direct = open_direct(dir_fd, id + ".data");
        u->res = m_mounts.reserve_unchecked(app, u->length);
    }
    return u;
}

void UploadStore::resolve_commit(TusUpload& u, int dir_fd) {
    const auto rec = *u.commit_record;
    u.commit_record.reset();
    struct stat st {};
    bool staged = ::fstatat(dir_fd, (u.id + ".data").c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    bool placed = false;
    struct stat mst {};
    {
        int mfd =
            ::open(m_apps.mount_dir(u.app).c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd >= 0) {
            UniqueFd mount(mfd);
            int fd = open_beneath_raw(mount.get(), u.rel, O_PATH | O_NOFOLLOW);
            if (fd >= 0) {
                UniqueFd f(fd);
                placed = ::fstat(fd, &mst) == 0 &&
                         static_cast<std::uint64_t>(mst.st_dev) == rec.dev &&
                         static_cast<std::uint64_t>(mst.st_ino) == rec.ino;
            }
        }
    }
    if (staged && !placed) {
        // The rename did not happen: every byte is there and confirmed, so the
        // upload is complete but uncommitted (HEAD: Upload-Offset = length).
        fmt::print(stderr,
                   "tus: upload {} of app '{}' was being committed to '{}' when the server "
                   "stopped; it is complete, not committed (POST .../complete commits it)\n",
                   u.id, u.app, u.rel);
        save(u);
        return;
    }
    // The staged file was renamed into the mount: the commit happened (if the
    // file there is another one now, a later writer replaced it).
    Entry e;
    e.path = u.rel;
    e.type = EntryType::file;
    e.size = u.length;
    e.mtime_ns = placed ? mtime_ns_of(mst) : u.mtime_ns.value_or(0);
    e.sha256 = rec.sha256;
    if (placed) m_mounts.remember_hash(mst, rec.sha256);
    u.completed = true;
    u.created = !rec.target_existed;
    u.entry = json(e);
    for (auto& p : u.parts)
        p.confirmed = p.filled = 0;
    fmt::print(stderr,
               "tus: upload {} of app '{}' was committed to '{}' just before the server "
               "stopped; recorded as completed\n",
               u.id, u.app, u.rel);
    save(u);
}

void UploadStore::start() {
    auto root = m_apps.root() / "apps";
    int afd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (afd < 0) return;
    UniqueFd apps_fd(afd);
    auto apps = read_dir(apps_fd.get());
    if (!apps) return;
    std::size_t loaded = 0;
    for (const auto& a : *apps) {
        if (!S_ISDIR(a.st.st_mode) || !valid_app_name(a.name)) continue;
        int dfd =
            ::open(uploads_dir(a.name).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) continue;
        UniqueFd dir(dfd);
        auto children = read_dir(dfd);
        if (!children) continue;
        std::set<std::string> kept;
        for (const auto& c : *children) {
            if (c.name.size() == 37 && c.name.substr(32) == ".json" &&
                tus::valid_upload_id(c.name.substr(0, 32))) {
                if (auto u = load(a.name, dfd, c.name.substr(0, 32))) {
                    kept.insert(c.name.substr(0, 32));
                    std::lock_guard g(m_mu);
                    m_uploads[key(a.name, (*u)->id)] = *u;
                    ++loaded;
                }
            }
        }
        // Anything else (temp files, data without state) is a leftover.
        for (const auto& c : *children) {
            std::string id = c.name.substr(0, 32);
            bool ours = c.name.size() >= 32 && kept.count(id) &&
                        (c.name == id + ".json" || c.name == id + ".data");
            if (!ours) remove_tree(dfd, c.name);
        }
    }
    if (loaded) fmt::print(stderr, "tus: resumed {} upload(s) from the last run\n", loaded);
}

void UploadStore::reap() {
    std::vector<UploadPtr> all;
    {
        std::lock_guard g(m_mu);
        for (auto& [k, u] : m_uploads)
            all.push_back(u);
        auto limit = now_ms() - std::max<std::int64_t>(expiry_ms(), 3'600'000);
        for (auto it = m_gone.begin(); it != m_gone.end();)
            it = it->second < limit ? m_gone.erase(it) : std::next(it);
    }
    std::map<std::string, bool> app_ok;
    for (auto& u : all) {
        bool expired = false;
        {
            std::lock_guard g(u->mu);
            expired = !u->any_active() && !u->committing && now_ms() > u->touched_ms + expiry_ms();
        }
        if (expired) {
            discard(u, true);
            continue;
        }
        // An app deleted or a mount turned off behind our back (the hook covers
        // the API; this covers a creation that raced it).
        auto k = u->app + "/" + u->owner + "/" + std::to_string(u->app_created_at);
        auto it = app_ok.find(k);
        if (it == app_ok.end()) {
            auto a = m_apps.get(u->app, u->owner);
            bool ok = a && a->persistent_filesystem && a->created_at == u->app_created_at;
            it = app_ok.emplace(k, ok).first;
        }
        if (!it->second) discard(u, false);
    }
}

}  // namespace de::server::tus

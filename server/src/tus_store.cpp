// See tus_store.hpp. State files are rewritten with write + rename and not
// fsynced: a process crash keeps the page cache, and a machine crash is
// caught by the whole-file SHA-256 at completion. The one exception is the
// commit record (TusUpload::commit_record), fsynced before the rename into
// the mount: the rename and the record of it cannot be one atomic step, so
// the record comes first and whoever loads the upload next, once no process
// holds its commit lock, resolves it (resolve_commit).
//
// Merging (replicas): a part that a PATCH of this process writes (`active`,
// its part lock held) is ours; every other part, the completion, the commit
// record of a commit we do not run, and the touch time come from the disk.
// A part whose epoch changed there was rolled back elsewhere: our hash of it
// goes back to the nearest mark before it. The persisted whole-file hash is
// the furthest of ours and the disk's, never beyond the confirmed prefix
// (bytes past it may still be rolled back, also by a replica that dies), and
// cut back to before any rollback of ours.
#include "tus_store.hpp"

#include <de/name_json.hpp>
#include <de/sha256.hpp>
#include <de/text.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <charconv>
#include <set>
#include <vector>

namespace de::server::tus {

using api::WireError;

namespace {

constexpr std::size_t k_max_tombstones = 100'000;
constexpr const char* k_tus_dir = "tus";

// ---- locks -----------------------------------------------------------------------------------

struct flock make_flock(short type, off_t start, off_t len) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    fl.l_pid = 0;  // OFD locks want 0
    return fl;
}

// ---- the state file ------------------------------------------------------------------------

// The persisted whole-file hash: its state after `at` bytes and the marks
// (states at part starts) before it.
struct DiskHash {
    std::uint64_t at = 0;
    std::string state;
    std::map<std::uint64_t, std::string> marks;
    // Back to the furthest point at or before `point` (a mark), or nothing.
    bool cut(std::uint64_t point) {
        if (at <= point) return true;
        auto it = marks.upper_bound(point);
        if (it == marks.begin()) return false;
        --it;
        at = it->first;
        state = it->second;
        marks.erase(marks.upper_bound(at), marks.end());
        return true;
    }
};

// What of the state file changes after creation.
struct Disk {
    std::int64_t touched_ms = 0;
    bool completed = false;
    json entry;
    bool created = false;
    std::optional<TusUpload::CommitRecord> commit_record;
    std::vector<std::uint64_t> confirmed, epoch;
    std::optional<DiskHash> hash;
};

bool read_text(int dir_fd, const std::string& name, std::string& text) {
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    UniqueFd f(fd);
    text.clear();
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return true;
}

// The mutable part of a state file of upload u (whose parts are sized);
// nullopt when malformed.
std::optional<Disk> parse_disk(const TusUpload& u, const json& j) {
    Disk d;
    try {
        d.touched_ms = j.at("touched_ms").get<std::int64_t>();
        d.completed = j.at("completed").get<bool>();
        d.confirmed.assign(u.parts.size(), 0);
        d.epoch.assign(u.parts.size(), 0);
        if (d.completed) {
            d.entry = j.at("entry");
            d.created = j.at("created").get<bool>();
            return d;
        }
        if (j.contains("committing")) {
            const auto& cr = j["committing"];
            TusUpload::CommitRecord r;
            r.sha256 = cr.at("sha256").get<std::string>();
            r.dev = cr.at("dev").get<std::uint64_t>();
            r.ino = cr.at("ino").get<std::uint64_t>();
            r.target_existed = cr.at("target_existed").get<bool>();
            d.commit_record = r;
        }
        auto done = j.at("done").get<std::string>();
        std::size_t i = 0;
        while (i < done.size()) {
            auto comma = done.find(',', i);
            if (comma == std::string::npos) comma = done.size();
            auto item = std::string_view(done).substr(i, comma - i);
            auto dash = item.find('-');
            auto a = parse_decimal_u64(item.substr(0, dash));
            auto b = dash == std::string_view::npos ? a : parse_decimal_u64(item.substr(dash + 1));
            if (!a || !b || *b < *a || *b >= u.parts.size()) return std::nullopt;
            for (auto p = *a; p <= *b; ++p)
                d.confirmed[p] = u.plen(p);
            i = comma + 1;
        }
        for (auto& [ks, v] : j.at("partial").items()) {
            auto p = parse_decimal_u64(ks);
            if (!p || *p >= u.parts.size() || v.get<std::uint64_t>() > u.plen(*p))
                return std::nullopt;
            d.confirmed[*p] = v.get<std::uint64_t>();
        }
        if (j.contains("epochs"))
            for (auto& [ks, v] : j["epochs"].items()) {
                auto p = parse_decimal_u64(ks);
                if (!p || *p >= u.parts.size()) return std::nullopt;
                d.epoch[*p] = v.get<std::uint64_t>();
            }
        if (j.contains("hash")) {
            const auto& h = j["hash"];
            DiskHash dh;
            dh.at = h.at("at").get<std::uint64_t>();
            dh.state = h.at("state").get<std::string>();
            for (auto& [ks, v] : h.at("marks").items()) {
                auto p = parse_decimal_u64(ks);
                if (!p || *p > dh.at) return std::nullopt;
                dh.marks[*p] = v.get<std::string>();
            }
            d.hash = std::move(dh);
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return d;
}

std::uint64_t prefix_of(const TusUpload& u, const std::vector<std::uint64_t>& confirmed) {
    for (std::size_t k = 0; k < confirmed.size(); ++k)
        if (confirmed[k] != u.plen(k)) return u.pbegin(k) + confirmed[k];
    return u.length;
}

// Takes what other replicas changed (see the top of the file). Holds u.mu.
void merge_locked(TusUpload& u, const Disk& d) {
    u.touched_ms = std::max(u.touched_ms, d.touched_ms);
    if (u.completed) return;
    if (d.completed) {
        u.completed = true;
        u.entry = d.entry;
        u.created = d.created;
        u.commit_record.reset();
        for (auto& p : u.parts)
            p.confirmed = p.filled = 0;
        u.drop_ahead_locked(0, UINT64_MAX);
        // Another replica committed the upload and ended its reservation (on the
        // root); ending it again here removes nothing more.
        u.res.commit(0);
        return;
    }
    if (!u.committing) u.commit_record = d.commit_record;
    for (std::size_t k = 0; k < u.parts.size(); ++k) {
        auto& p = u.parts[k];
        if (p.active) continue;  // ours: we hold its lock
        if (d.epoch[k] != p.epoch || d.confirmed[k] < p.confirmed) {
            rollback_locked(u, k, 0, false);
            p.epoch = d.epoch[k];
        }
        p.confirmed = p.filled = d.confirmed[k];
    }
    // A hash another replica got further with (and that is valid here).
    if (d.hash && !u.hash_busy && d.hash->at > u.hashed &&
        d.hash->at <= prefix_of(u, d.confirmed) && d.hash->at <= u.confirmed_prefix()) {
        auto h = Digest::import_state(d.hash->state, true);
        if (h) {
            u.file_hash = std::move(*h);
            u.hashed = d.hash->at;
            for (const auto& [at, text] : d.hash->marks)
                if (!u.hash_marks.contains(at))
                    if (auto m = Digest::import_state(text, true))
                        u.hash_marks.emplace(at, std::move(*m));
            while (u.hash_marks.size() > k_max_hash_marks)
                u.hash_marks.erase(u.hash_marks.begin());
            u.drop_ahead_locked(0, u.hashed);
            note_hash_locked(u);
        }
    }
}

// The hash to persist: ours or the disk's (cut back to our rollbacks),
// whichever is further, within the confirmed prefix. Holds u.mu.
std::optional<DiskHash> choose_hash_locked(const TusUpload& u, std::optional<DiskHash> theirs) {
    const std::uint64_t cp = u.confirmed_prefix();
    std::optional<DiskHash> mine;
    if (u.snap && u.snap_at > 0 && u.snap_at <= cp) {
        mine = DiskHash{u.snap_at, u.snap->export_state(), {}};
    } else {
        auto it = u.hash_marks.upper_bound(cp);
        if (it != u.hash_marks.begin()) {
            --it;
            mine = DiskHash{it->first, it->second.export_state(), {}};
        }
    }
    if (theirs && (!theirs->cut(u.rollback_cut) || theirs->at > cp || theirs->at == 0))
        theirs.reset();
    std::optional<DiskHash> best = mine;
    if (theirs && (!best || theirs->at > best->at)) best = std::move(theirs);
    if (!best) return std::nullopt;
    for (const auto& [at, d] : u.hash_marks)
        if (at <= best->at && !best->marks.contains(at)) best->marks[at] = d.export_state();
    while (best->marks.size() > k_max_hash_marks)
        best->marks.erase(best->marks.begin());
    return best;
}

json state_json(const TusUpload& u, const std::optional<DiskHash>& hash) {
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
        json partial = json::object(), epochs = json::object();
        for (std::size_t k = 0; k < u.parts.size(); ++k) {
            if (u.parts[k].confirmed != 0 && u.parts[k].confirmed != u.plen(k))
                partial[std::to_string(k)] = u.parts[k].confirmed;
            if (u.parts[k].epoch != 0) epochs[std::to_string(k)] = u.parts[k].epoch;
        }
        j["partial"] = partial;
        j["epochs"] = epochs;
        if (hash) {
            json marks = json::object();
            for (const auto& [at, text] : hash->marks)
                marks[std::to_string(at)] = text;
            j["hash"] = {{"at", hash->at}, {"state", hash->state}, {"marks", marks}};
        }
    }
    return j;
}

// A tombstone: an empty file whose mtime says when (no fsync: a tombstone
// lost in a machine crash only turns a 410 into a 404).
void touch(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
}

std::string key_file(std::string_view owner, std::string_view creation_key) {
    return "key." + sha256_hex(std::string(owner) + '\n' + std::string(creation_key));
}

}  // namespace

off_t lock_base(std::string_view id) {
    std::uint64_t v = 0;
    std::from_chars(id.data(), id.data() + std::min<std::size_t>(id.size(), 10), v, 16);
    return static_cast<off_t>((v + 1) << 16);
}

bool ofd_lock(int fd, short type, off_t start, off_t len, bool wait) {
    auto fl = make_flock(type, start, len);
    int r;
    while ((r = ::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) != 0 && errno == EINTR) {
    }
    if (r != 0 && errno == EACCES) errno = EAGAIN;
    return r == 0;
}

void ofd_unlock(int fd, off_t start, off_t len) {
    auto fl = make_flock(F_UNLCK, start, len);
    ::fcntl(fd, F_OFD_SETLK, &fl);
}

bool ofd_held_elsewhere(int fd, off_t start, off_t len) {
    if (fd < 0) return false;
    auto fl = make_flock(F_WRLCK, start, len);
    if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
    return fl.l_type != F_UNLCK;
}

bool foreign_parts_busy(const TusUpload& u) {
    return ofd_held_elsewhere(u.lock.get(), u.lock_base + k_lock_parts,
                              k_lock_region - k_lock_parts);
}

bool foreign_commit_busy(const TusUpload& u) {
    return ofd_held_elsewhere(u.lock.get(), u.lock_base + k_lock_commit, 1);
}

void note_hash_locked(TusUpload& u) {
    if (u.hashed == 0) {
        u.snap.reset();
        u.snap_at = 0;
        return;
    }
    u.snap = u.file_hash;
    u.snap_at = u.hashed;
}

void init_parts(TusUpload& u) {
    if (!u.parts_mode) u.part_size = u.length;
    // Without overflow, whatever part_size is (length + part_size - 1 could
    // wrap to a count of 0: an upload "complete" with no byte received).
    std::size_t n = u.length == 0 ? 0 : u.length / u.part_size + (u.length % u.part_size != 0);
    u.parts.assign(n, Part{});
}

// Read-modify-write of <id>.json under the upload's state lock (the top of
// the file); no fsync unless `durable`.
bool save(TusUpload& u, bool durable) {
    std::lock_guard s(u.save_mu);
    OfdLock lock(u.lock.get(), F_WRLCK, u.lock_base + k_lock_state, 1, true);
    std::string cur;
    bool exists = read_text(u.dir.get(), u.id + ".json", cur);
    std::string text;
    {
        std::lock_guard g(u.mu);
        if (u.dropped) return false;
        if (u.on_disk && !exists) {
            // Terminated or expired by another replica meanwhile.
            u.dropped = true;
            // Ended where the upload was dropped; again here is harmless.
            if (!u.committing) u.res.commit(0);
            u.drop_ahead_locked(0, UINT64_MAX);
            errno = ENOENT;
            return false;
        }
        std::optional<Disk> d;
        if (exists) {
            json j = json::parse(cur, nullptr, false);
            if (!j.is_discarded()) d = parse_disk(u, j);
        }
        if (d && cur != u.seen) merge_locked(u, *d);
        std::optional<DiskHash> hash;
        if (!u.completed) hash = choose_hash_locked(u, d ? d->hash : std::nullopt);
        text = dump_json(state_json(u, hash));
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
    {
        std::lock_guard g(u.mu);
        u.seen = std::move(text);
        u.on_disk = true;
        u.rollback_cut = UINT64_MAX;
    }
    return !durable || ::fsync(u.dir.get()) == 0;
}

bool refresh(TusUpload& u) {
    std::lock_guard s(u.save_mu);
    std::string cur;
    bool exists = read_text(u.dir.get(), u.id + ".json", cur);
    std::lock_guard g(u.mu);
    if (u.dropped) return false;
    if (!exists) return !u.on_disk;
    if (cur == u.seen) return true;
    json j = json::parse(cur, nullptr, false);
    if (j.is_discarded()) return true;  // written whole (rename): outside damage; keep ours
    auto d = parse_disk(u, j);
    if (!d) return true;
    merge_locked(u, *d);
    u.seen = std::move(cur);
    return true;
}

void remove_files(TusUpload& u) {
    std::lock_guard s(u.save_mu);
    OfdLock lock(u.lock.get(), F_WRLCK, u.lock_base + k_lock_state, 1, true);
    // The data first: a state file always has its data (tus.cpp creates them
    // in the other order), so another replica never loads a half upload.
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

UniqueFd UploadStore::open_lock(std::string_view app) const {
    auto dir = m_apps.app_dir(app) / k_tus_dir;
    ::mkdir(dir.c_str(), 0700);
    return UniqueFd(
        ::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
}

bool UploadStore::tombstoned(std::string_view app, std::string_view id) const {
    auto p = m_apps.app_dir(app) / k_tus_dir / ("gone." + std::string(id));
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
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
    if (creation_key.empty()) return std::nullopt;
    std::string id;
    {
        std::lock_guard g(m_mu);
        if (auto u = live_with_key(m_uploads, app, owner, creation_key)) id = (*u)->id;
    }
    if (!id.empty())
        if (auto live = find(app, id, owner)) return *live;
    // Made by another replica (or before a restart): tus/key.<hash> names it.
    if (!read_text(AT_FDCWD,
                   (m_apps.app_dir(app) / k_tus_dir / key_file(owner, creation_key)).string(), id))
        return std::nullopt;
    while (!id.empty() && (id.back() == '\n'))
        id.pop_back();
    auto u = find(app, id, owner);
    if (!u || (*u)->creation_key != creation_key) return std::nullopt;
    return *u;
}

UploadPtr UploadStore::add_unique(const UploadPtr& u) {
    if (u->creation_key.empty()) {
        add(u);
        return u;
    }
    // The app's key lock makes check-then-record one step across replicas
    // (and across the threads here: each upload has its own descriptor).
    OfdLock lock(u->lock.get(), F_WRLCK, k_lock_keys, 1, true);
    if (auto existing = find_by_key(u->app, u->owner, u->creation_key)) return *existing;
    auto path = m_apps.app_dir(u->app) / k_tus_dir / key_file(u->owner, u->creation_key);
    (void)write_file_atomic(path, u->id + "\n", 0600);
    add(u);
    return u;
}
void UploadStore::forget(const UploadPtr& u) {
    {
        std::lock_guard g(u->mu);
        u->dropped = true;
        // Another replica dropped or completed the upload (and ended its reservation).
        if (!u->committing) u->res.commit(0);
        u->drop_ahead_locked(0, UINT64_MAX);
    }
    bool gone = tombstoned(u->app, u->id);
    std::lock_guard g(m_mu);
    auto k = key(u->app, u->id);
    if (auto it = m_uploads.find(k); it != m_uploads.end() && it->second == u) m_uploads.erase(it);
    if (gone) {
        if (m_gone.size() >= k_max_tombstones) m_gone.clear();
        m_gone[k] = now_ms();
    }
}

void UploadStore::discard(const UploadPtr& u, bool tombstone) {
    {
        std::lock_guard g(u->mu);
        if (u->dropped) return;
        u->dropped = true;
        // The upload's reservation on the root ends (terminated, expired, refused, discarded).
        if (!u->committing) u->res.commit(0);
        u->drop_ahead_locked(0, UINT64_MAX);
    }
    auto tus_dir = m_apps.app_dir(u->app) / k_tus_dir;
    if (tombstone) {
        // Before the state goes, so that no replica sees neither (404).
        ::mkdir(tus_dir.c_str(), 0700);
        touch(tus_dir / ("gone." + u->id));
    }
    remove_files(*u);
    if (!u->creation_key.empty()) {
        // Without waiting: a creation holding the key lock may be the caller
        // (add_unique -> find -> an expired upload). A key left behind is
        // swept later.
        OfdLock lock(u->lock.get(), F_WRLCK, k_lock_keys, 1, false);
        auto path = tus_dir / key_file(u->owner, u->creation_key);
        std::string named;
        if (lock.held() && read_text(AT_FDCWD, path.string(), named) && named == u->id + "\n")
            ::unlink(path.c_str());
    }
    std::lock_guard g(m_mu);
    auto k = key(u->app, u->id);
    if (auto it = m_uploads.find(k); it != m_uploads.end() && it->second == u) m_uploads.erase(it);
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
    m_mounts.forget_uploads(app);  // the reservations of uploads no replica had loaded
    // Whatever else is in the folder (a disabled mount keeps the app folder),
    // and the keys and tombstones (the lock file stays: others may hold it).
    for (const char* sub : {"uploads", k_tus_dir}) {
        int fd = ::open((m_apps.app_dir(app) / sub).c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        UniqueFd d(fd);
        if (auto children = read_dir(d.get()))
            for (const auto& c : *children)
                if (c.name != "lock") remove_tree(d.get(), c.name);
    }
}

ApiResult<UploadPtr> UploadStore::find(std::string_view app, std::string_view id,
                                       std::string_view owner) {
    auto not_found = [&] {
        return api_fail(WireError::not_found,
                        fmt::format("upload '{:.40}' not found in app '{}'", id, app));
    };
    auto gone = [&] {
        return api_fail(WireError::gone, fmt::format("upload '{}' expired or was terminated", id));
    };
    if (!tus::valid_upload_id(id)) return not_found();
    UploadPtr u;
    {
        std::lock_guard g(m_mu);
        auto k = key(app, id);
        auto it = m_uploads.find(k);
        if (it != m_uploads.end())
            u = it->second;
        else if (m_gone.count(k))
            return gone();
    }
    if (!u) {
        // Made (or last touched) by another replica, or before a restart.
        std::string a(app);
        int dfd = ::open(uploads_dir(a).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        std::optional<UploadPtr> loaded;
        if (dfd >= 0) {
            UniqueFd dir(dfd);
            loaded = load(a, dfd, std::string(id));
        }
        if (!loaded) return tombstoned(app, id) ? gone() : not_found();
        std::lock_guard g(m_mu);
        auto [it, fresh] = m_uploads.emplace(key(app, id), *loaded);
        u = it->second;  // another thread's load won: ours goes (with its reservation)
    }
    if (u->owner != owner) return not_found();
    if (!refresh(*u)) {
        forget(u);
        return tombstoned(app, id) ? gone() : not_found();
    }
    bool orphan_record = false;
    {
        std::lock_guard g(u->mu);
        orphan_record = u->commit_record && !u->committing && !u->completed;
    }
    if (orphan_record) {
        // A commit record whose committer is gone (its commit lock with it):
        // find out whether the rename happened.
        OfdLock lock(u->lock.get(), F_WRLCK, u->lock_base + k_lock_commit, 1, false);
        if (lock.held() && !foreign_commit_busy(*u) && refresh(*u)) {
            bool still = false;
            {
                std::lock_guard g(u->mu);
                still = u->commit_record && !u->committing && !u->completed;
            }
            if (still) resolve_commit(*u, u->dir.get());
        }
    }
    bool expired = false;
    {
        std::lock_guard g(u->mu);
        expired = !u->any_active() && !u->committing && now_ms() > u->touched_ms + expiry_ms();
        u->used_ms = now_ms();
    }
    if (expired && !foreign_parts_busy(*u) && !foreign_commit_busy(*u)) {
        discard(u, true);
        return api_fail(WireError::gone, fmt::format("upload '{}' expired", id));
    }
    return u;
}

std::optional<UploadPtr> UploadStore::load(const std::string& app, int dir_fd,
                                           const std::string& id) {
    // Nothing is removed here: a state file another replica is writing, or
    // one only a sweep may judge stale, is simply not loaded.
    std::string text;
    if (!read_text(dir_fd, id + ".json", text)) return std::nullopt;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    auto u = std::make_shared<TusUpload>();
    u->buffers = m_buffers;
    std::optional<Disk> d;
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
            return std::nullopt;
        u->metadata_raw = j.at("metadata").get<std::string>();
        u->creation_key = j.value("creation_key", "");
        auto rel = get_name(j, "path");
        if (!rel) return std::nullopt;
        u->rel = std::move(*rel);
        u->overwrite = j.at("overwrite").get<bool>();
        auto c = j.at("concat").get<std::string>();
        u->concat = c == "partial" ? tus::Concat::Kind::partial
                    : c == "final" ? tus::Concat::Kind::final
                                   : tus::Concat::Kind::none;
        u->concat_header = j.value("concat_header", "");
        if (j.contains("sha256")) u->sha256 = j["sha256"].get<std::string>();
        if (j.contains("mtime_ns")) u->mtime_ns = j["mtime_ns"].get<std::int64_t>();
        init_parts(*u);
        d = parse_disk(*u, j);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (!d || u->app != app) return std::nullopt;
    auto a = m_apps.get(app, u->owner);
    if (!a || !a->persistent_filesystem || a->created_at != u->app_created_at) return std::nullopt;
    int dfd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0) return std::nullopt;
    u->dir = UniqueFd(dfd);
    u->lock = open_lock(app);
    u->lock_base = lock_base(id);
    if (!u->lock) return std::nullopt;
    if (!d->completed) {
        int fd = ::openat(dir_fd, (id + ".data").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        // Renamed into the mount by a commit (running, or that died before
        // it said so): loaded without data, its commit record decides.
        if (fd < 0 && !(errno == ENOENT && d->commit_record)) return std::nullopt;
        if (fd >= 0) {
            u->data = UniqueFd(fd);
            struct stat st {};
            if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != u->length)
                return std::nullopt;
            u->direct = open_direct(dir_fd, id + ".data");
            // The upload's reservation, on the root since its creation, is taken
            // up as it is (made again, unchecked, for an upload that has none).
            u->res = m_mounts.adopt_upload(app, id, u->length);
        }
    }
    {
        std::lock_guard g(u->mu);
        merge_locked(*u, *d);
        u->touched_ms = d->touched_ms;
        u->seen = std::move(text);
        u->on_disk = true;
        u->used_ms = now_ms();
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
    // The commit happened in a process that died; the file is in
    // the mount (the next count sees it), so the reservation is released.
    u.res.commit(0);
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
    std::size_t before = 0;
    for (const auto& a : *apps)
        if (S_ISDIR(a.st.st_mode) && valid_app_name(a.name)) sweep(a.name, true);
    {
        std::lock_guard g(m_mu);
        before = m_uploads.size();
    }
    m_last_sweep_ms = now_ms();
    if (before) fmt::print(stderr, "tus: {} upload(s) on the disk to resume\n", before);
}

// One app's uploads folder. `load_all` (start-up) loads every upload into
// this process. Removes, under the app's sweep lock (one replica at a time;
// a busy lock means another replica sweeps now) and only where no live
// process holds the upload's locks: expired uploads, data without state (a
// creation that died), temp files, unreadable state, strange names, old
// tombstones and keys whose upload is gone.
void UploadStore::sweep(const std::string& app, bool load_all) {
    int dfd = ::open(uploads_dir(app).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return;
    UniqueFd dir(dfd);
    UniqueFd lockfd = open_lock(app);
    if (!lockfd) return;
    auto children = read_dir(dfd);
    if (!children) return;
    std::set<std::string> states;
    for (const auto& c : *children)
        if (c.name.size() == 37 && c.name.ends_with(".json") &&
            tus::valid_upload_id(c.name.substr(0, 32)))
            states.insert(c.name.substr(0, 32));
    if (load_all)
        for (const auto& id : states) {
            {
                std::lock_guard g(m_mu);
                if (m_uploads.count(key(app, id))) continue;
            }
            if (auto u = load(app, dfd, id)) {
                std::lock_guard g(m_mu);
                m_uploads.emplace(key(app, id), *u);
            }
        }
    OfdLock sweeping(lockfd.get(), F_WRLCK, k_lock_sweep, 1, false);
    if (!sweeping.held()) return;
    const std::int64_t now = now_ms();
    auto idle = [&](const std::string& id) {  // no process holds any of its locks
        return !ofd_held_elsewhere(lockfd.get(), lock_base(id), k_lock_region);
    };
    for (const auto& c : *children) {
        const std::string id = c.name.substr(0, 32);
        const bool ours_id = c.name.size() >= 32 && tus::valid_upload_id(id);
        if (ours_id && c.name == id + ".json") {
            // Expired? (The state file is rewritten at every touch, so one
            // modified recently is not; only older ones are read.)
            if (c.st.st_mtime * 1000 + expiry_ms() + 2000 > now) continue;
            std::string text;
            if (!read_text(dfd, c.name, text)) continue;
            json j = json::parse(text, nullptr, false);
            std::int64_t touched = 0;
            bool readable = !j.is_discarded() && j.is_object() && j.contains("touched_ms") &&
                            j["touched_ms"].is_number_integer();
            if (readable) touched = j["touched_ms"].get<std::int64_t>();
            if ((readable && now <= touched + expiry_ms()) || !idle(id)) continue;
            UploadPtr mine;
            {
                std::lock_guard g(m_mu);
                if (auto it = m_uploads.find(key(app, id)); it != m_uploads.end())
                    mine = it->second;
            }
            if (mine) {
                bool busy;
                {
                    std::lock_guard g(mine->mu);
                    busy = mine->any_active() || mine->committing;
                }
                if (!busy) discard(mine, true);
                continue;
            }
            OfdLock state(lockfd.get(), F_WRLCK, lock_base(id) + k_lock_state, 1, false);
            if (!state.held()) continue;
            ::mkdir((m_apps.app_dir(app) / k_tus_dir).c_str(), 0700);
            if (readable) touch(m_apps.app_dir(app) / k_tus_dir / ("gone." + id));
            ::unlinkat(dfd, (id + ".data").c_str(), 0);
            ::unlinkat(dfd, c.name.c_str(), 0);
            if (readable && j.value("creation_key", "") != "") {
                auto kp = m_apps.app_dir(app) / k_tus_dir /
                          key_file(j.value("owner", ""), j.value("creation_key", ""));
                std::string named;
                if (read_text(AT_FDCWD, kp.string(), named) && named == id + "\n")
                    ::unlink(kp.c_str());
            }
            continue;
        }
        if (ours_id && (c.name == id + ".data" || c.name == id + ".json.tmp")) {
            if (states.count(id) && c.name == id + ".data") continue;
            // Data without state: a creation that died (a live one holds the
            // commit lock until its state is written). A temp file: a write
            // that died (a live one holds the state lock).
            OfdLock held(lockfd.get(), F_WRLCK, lock_base(id), k_lock_region, false);
            if (!held.held()) continue;
            struct stat st {};
            if (c.name.ends_with(".data") && ::fstatat(dfd, (id + ".json").c_str(), &st, 0) == 0)
                continue;
            ::unlinkat(dfd, c.name.c_str(), 0);
            continue;
        }
        remove_tree(dfd, c.name);  // not ours: a stray file or folder
    }
    // Tombstones older than the expiry (at least an hour); keys whose upload is gone.
    int tfd = ::open((m_apps.app_dir(app) / k_tus_dir).c_str(),
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0) return;
    UniqueFd tdir(tfd);
    auto entries = read_dir(tfd);
    if (!entries) return;
    const std::int64_t keep_ms = std::max<std::int64_t>(expiry_ms(), 3'600'000);
    OfdLock keys(lockfd.get(), F_WRLCK, k_lock_keys, 1, false);
    for (const auto& c : *entries) {
        if (c.name.starts_with("gone.") && c.st.st_mtime * 1000 + keep_ms < now) {
            ::unlinkat(tfd, c.name.c_str(), 0);
        } else if (c.name.starts_with("key.") && keys.held()) {
            std::string id;
            if (!read_text(tfd, c.name, id)) continue;
            while (!id.empty() && id.back() == '\n')
                id.pop_back();
            struct stat st {};
            if (!tus::valid_upload_id(id) || ::fstatat(dfd, (id + ".json").c_str(), &st, 0) != 0)
                ::unlinkat(tfd, c.name.c_str(), 0);
        }
    }
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
        bool expired = false, evict = false;
        {
            std::lock_guard g(u->mu);
            bool idle = !u->any_active() && !u->committing;
            expired = idle && now_ms() > u->touched_ms + expiry_ms();
            // A completed upload holds nothing: it leaves this process's cache
            // after a minute unused (HEAD loads it again from its state file).
            evict = idle && u->completed && now_ms() > u->used_ms + 60'000;
        }
        if (!refresh(*u)) {  // dropped by another replica
            forget(u);
            continue;
        }
        if (expired && !foreign_parts_busy(*u) && !foreign_commit_busy(*u)) {
            discard(u, true);
            continue;
        }
        if (evict) {
            std::lock_guard g(m_mu);
            m_uploads.erase(key(u->app, u->id));
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
    // The folders on the disk, for what no replica has loaded: every tenth of
    // the expiry, from once a second to once a minute.
    const std::int64_t every = std::clamp<std::int64_t>(expiry_ms() / 10, 1000, 60'000);
    if (now_ms() < m_last_sweep_ms + every) return;
    m_last_sweep_ms = now_ms();
    auto root = m_apps.root() / "apps";
    int afd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (afd < 0) return;
    UniqueFd apps_fd(afd);
    if (auto apps = read_dir(apps_fd.get()))
        for (const auto& a : *apps)
            if (S_ISDIR(a.st.st_mode) && valid_app_name(a.name)) sweep(a.name, false);
}

}  // namespace de::server::tus

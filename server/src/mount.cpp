// See mount.hpp. Final path components are handled with *at(2) calls on the
// parent's fd (unlinkat, renameat2, fstatat with AT_SYMLINK_NOFOLLOW), which
// never follow a symlink; everything else goes through open_beneath().
//
// One unit of about 900 lines: every operation here shares the same
// resolution rules, the quota state and the hash cache under MountStore's
// locks, and each is short; splitting them by verb would spread the one
// confinement discipline (and commit_staged, the one commit path) over files.
#include "mount.hpp"

#include "dav_props.hpp"

#include "crc_store.hpp"

#include <de/crc64.hpp>
#include <de/remote_path.hpp>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace de::server {

namespace {
using api::WireError;

constexpr std::size_t k_io_buffer = 1 << 20;

Entry entry_from_stat(std::string path, const struct stat& st) {
    Entry e;
    e.path = std::move(path);
    e.type = S_ISDIR(st.st_mode) ? EntryType::dir : EntryType::file;
    e.size = S_ISDIR(st.st_mode) ? 0 : static_cast<std::uint64_t>(st.st_size);
    e.mtime_ns = mtime_ns_of(st);
    return e;
}

// A regular file with more than one link may share its inode with a file
// outside the mount (an app process can `ln /elsewhere/secret mount/x`): like
// a symlink, it is neither listed nor served (docs/api.md, "Entries").
bool several_links(const struct stat& st) {
    return S_ISREG(st.st_mode) && st.st_nlink > 1;
}

ApiError hard_link_error(std::string_view rel, const struct stat& st) {
    return ApiError{WireError::forbidden,
                    fmt::format("'{}' has {} hard links, and one may lead outside the mount; "
                                "de-server serves only files with a single link (remove the "
                                "other links, or copy the file inside the app)",
                                rel, st.st_nlink),
                    {}};
}

bool is_within(std::string_view inner, std::string_view outer) {
    return inner == outer || (inner.size() > outer.size() &&
                              inner.substr(0, outer.size()) == outer && inner[outer.size()] == '/');
}

void fsync_fd(int fd) {
    if (fd >= 0) ::fsync(fd);
}

// Copies a regular file's bytes with copy_file_range (in-kernel, reflink where
// the filesystem can) and fsyncs the copy.
int copy_file_data(int src, int dst) {
    loff_t in_off = 0;
    while (true) {
        ssize_t n = ::copy_file_range(src, &in_off, dst, nullptr, 1 << 30, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EXDEV || errno == EINVAL || errno == ENOSYS) break;  // fall back below
            return errno;
        }
        if (n == 0) return ::fsync(dst) == 0 ? 0 : errno;
    }
    std::vector<char> buf(k_io_buffer);
    while (true) {
        ssize_t n = ::pread(src, buf.data(), buf.size(), in_off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) break;
        in_off += n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(dst, buf.data() + off, static_cast<std::size_t>(n - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            off += w;
        }
    }
    return ::fsync(dst) == 0 ? 0 : errno;
}

// Copies the folder src_fd as `name` inside dst_parent, skipping symlinks.
int copy_tree(int src_fd, int dst_parent, const std::string& name, const struct stat& src_st) {
    if (::mkdirat(dst_parent, name.c_str(), 0755) != 0) return errno;
    int d = ::openat(dst_parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0) return errno;
    UniqueFd dst(d);
    auto children = read_dir(src_fd);
    if (!children) return EIO;
    for (const auto& c : *children) {
        if (S_ISDIR(c.st.st_mode)) {
            int s =
                ::openat(src_fd, c.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s < 0) continue;
            UniqueFd sub(s);
            if (int err = copy_tree(sub.get(), dst.get(), c.name, c.st); err) return err;
        } else if (S_ISREG(c.st.st_mode) && !several_links(c.st)) {
            int s =
                ::openat(src_fd, c.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (s < 0) continue;
            UniqueFd in(s);
            struct stat ist {};
            if (::fstat(s, &ist) != 0 || several_links(ist)) continue;
            int o =
                ::openat(dst.get(), c.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (o < 0) return errno;
            UniqueFd out(o);
            if (int err = copy_file_data(in.get(), out.get()); err) return err;
            dav::copy_dead_props(in.get(), out.get());
            set_mtime(out.get(), mtime_ns_of(c.st));
        }
    }
    dav::copy_dead_props(src_fd, dst.get());
    set_mtime(dst.get(), mtime_ns_of(src_st));
    fsync_fd(dst.get());
    return 0;
}

// "'x' is a file, not a folder" instead of the generic ENOTDIR message when the
// path itself, not one of its parents, is the file.
ApiError not_a_folder(int mount_fd, std::string_view rel, int err) {
    if (err == ENOTDIR) {
        int fd = open_beneath_raw(mount_fd, rel, O_PATH);
        if (fd >= 0) {
            ::close(fd);
            return {WireError::conflict, fmt::format("'{}' is a file, not a folder", rel), {}};
        }
    }
    return errno_error(err, "opening folder", rel);
}
// How many folders of `rel` (a folder's path) do not exist yet beneath the mount.
std::uint64_t missing_dirs(int mount_fd, std::string_view rel) {
    std::uint64_t n = 0;
    for (std::string_view p = rel; !p.empty(); p = parent_path(p)) {
        int fd = open_beneath_raw(mount_fd, p, O_PATH);
        if (fd >= 0) {
            ::close(fd);
            break;
        }
        ++n;
    }
    return n;
}

// make_dirs_beneath, telling how many folders it created (at most: a racing
// request may have made some of them).
ApiResult<UniqueFd> make_parents(int mount_fd, std::string_view rel, std::uint64_t& created) {
    created = missing_dirs(mount_fd, rel);
    return make_dirs_beneath(mount_fd, rel);
}
}  // namespace

// ---- Reservation -------------------------------------------------------------------------

Reservation::~Reservation() {
    let_go();
}

void Reservation::let_go() {
    if (m_upload.empty())
        commit(0);
    else
        m_store = nullptr;  // the upload's reservation stays on the root
}

Reservation::Reservation(Reservation&& o) noexcept
    : m_store(std::exchange(o.m_store, nullptr)),
      m_app(std::move(o.m_app)),
      m_upload(std::move(o.m_upload)),
      m_bytes(std::exchange(o.m_bytes, 0)),
      m_entries(std::exchange(o.m_entries, 0)),
      m_streamed(o.m_streamed) {}

Reservation& Reservation::operator=(Reservation&& o) noexcept {
    if (this != &o) {
        let_go();
        m_store = std::exchange(o.m_store, nullptr);
        m_app = std::move(o.m_app);
        m_upload = std::move(o.m_upload);
        m_bytes = std::exchange(o.m_bytes, 0);
        m_entries = std::exchange(o.m_entries, 0);
        m_streamed = o.m_streamed;
    }
    return *this;
}

ApiResult<void> Reservation::grow(std::uint64_t more) {
    if (!m_store) return {};
    auto r = m_store->change_reservation(m_app, static_cast<std::int64_t>(more), 0, m_streamed,
                                         m_bytes, m_upload, m_entries);
    if (!r) return r;
    m_bytes += more;
    return {};
}

ApiResult<void> Reservation::grow_entries(std::uint64_t more) {
    if (!m_store || more == 0) return {};
    auto r = m_store->change_reservation(m_app, 0, static_cast<std::int64_t>(more), m_streamed,
                                         m_bytes, m_upload, m_entries);
    if (!r) return r;
    m_entries += more;
    return {};
}

void Reservation::commit(std::int64_t delta, std::int64_t entries) {
    if (!m_store) return;
    m_store->end_reservation(m_app, m_bytes, m_entries, m_streamed, delta, entries, m_upload);
    m_bytes = 0;
    m_entries = 0;
    m_store = nullptr;
}

void Reservation::absorb(Reservation&& o) {
    if (!o.m_store) return;
    if (!m_store) {
        *this = std::move(o);
        return;
    }
    if (!m_upload.empty() || !o.m_upload.empty()) {
        // Uploads' reservations (tus: a final upload takes its partial ones'):
        // one file on the root grows, the other goes.
        m_store->move_reservation(m_app, o.m_upload, o.m_bytes, o.m_entries, o.m_streamed, m_upload,
                                  m_bytes, m_entries);
        m_bytes += std::exchange(o.m_bytes, 0);
        m_entries += std::exchange(o.m_entries, 0);
        o.m_store = nullptr;
        return;
    }
    if (o.m_streamed != m_streamed) {
        // Not met in practice (tus absorbs tus); keep the disk count right anyway.
        std::lock_guard guard(m_store->m_quota_mutex);
        auto& pending = m_store->m_streamed_pending;
        auto& app_pending = m_store->m_quota_state[m_app].reserved_streamed;
        if (o.m_streamed) {
            pending -= std::min(pending, o.m_bytes);
            app_pending -= std::min(app_pending, o.m_bytes);
        } else {
            pending += o.m_bytes;
            app_pending += o.m_bytes;
        }
    }
    m_bytes += std::exchange(o.m_bytes, 0);
    m_entries += std::exchange(o.m_entries, 0);
    o.m_store = nullptr;
}

// ---- Upload ------------------------------------------------------------------------------

Upload::Upload(MountStore& store, Mount& mount, std::string rel, PutOptions opts, Reservation res,
               UniqueFd fd, std::string staging_name)
    : m_store(store),
      m_mount(mount),
      m_rel(std::move(rel)),
      m_opts(std::move(opts)),
      m_res(std::move(res)),
      m_fd(std::move(fd)),
      m_staging_name(std::move(staging_name)) {
    if (m_opts.content_length && *m_opts.content_length >= k_direct_from)
        m_direct = open_direct(m_mount.staging.get(), m_staging_name);
}

Upload::~Upload() {
    if (!m_done) ::unlinkat(m_mount.staging.get(), m_staging_name.c_str(), 0);
}

ApiResult<void> Upload::write(const char* data, std::size_t n) {
    if (m_opts.content_length) {
        if (m_received + n > *m_opts.content_length)
            return api_fail(WireError::bad_request, "the body is longer than Content-Length");
    } else if (m_received + n > m_res.bytes()) {
        // Chunked: claim room as the body arrives, in steps, so a full mount stops it early.
        std::uint64_t need = m_received + n - m_res.bytes();
        if (auto g = m_res.grow(need); !g) return g;
    }
    hash(data, n);
    return store(data, n);
}

void Upload::hash(const char* data, std::size_t n) {
    m_hash.update(std::string_view(data, n));
    m_crc.update(data, n);
}

ApiResult<void> Upload::store(const char* data, std::size_t n) {
    int err = 0;
    write_at(m_direct.get(), m_fd.get(), data, n, m_received, err);
    if (err != 0) return std::unexpected(errno_error(err, "writing", m_rel));
    m_received += n;
    return {};
}

ApiResult<PutResult> Upload::commit() {
    if (m_opts.content_length && m_received != *m_opts.content_length)
        return api_fail(WireError::bad_request, "the body is shorter than Content-Length");
    const std::uint64_t crc = m_crc.value();
    if (m_opts.crc64 && *m_opts.crc64 != crc)
        return std::unexpected(ApiError{
            WireError::digest_mismatch,
            fmt::format("the body of '{}' has CRC-64 {}, but Repr-Digest says {}: bytes were "
                        "damaged on the way; nothing was stored",
                        m_rel, crc64_hex(crc), crc64_hex(*m_opts.crc64)),
            {{"received_crc64", crc64_hex(crc)}}});
    std::string sha = m_hash.finish_hex();
    if (m_opts.digest && *m_opts.digest != sha)
        return std::unexpected(ApiError{
            WireError::digest_mismatch,
            fmt::format("the body of '{}' has SHA-256 {}, but Content-Digest says {}; nothing "
                        "was stored",
                        m_rel, sha, *m_opts.digest),
            {{"received_sha256", sha}}});
    std::uint64_t dirs_created = 0;
    auto parent = make_parents(m_mount.dir.get(), parent_path(m_rel), dirs_created);
    if (!parent) return std::unexpected(parent.error());
    std::string base(base_name(m_rel));

    // If-Match is checked again just before the rename; If-None-Match: * is
    // enforced by the kernel itself (RENAME_NOREPLACE in commit_staged).
    struct stat old {};
    bool existed = ::fstatat(parent->get(), base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (existed && S_ISDIR(old.st_mode))
        return api_fail(WireError::conflict, fmt::format("'{}' is a folder", m_rel));
    if (m_opts.if_match && *m_opts.if_match != "*") {
        if (!existed)
            return api_fail(WireError::precondition_failed,
                            fmt::format("'{}' no longer exists (If-Match)", m_rel));
        int fd =
            ::openat(parent->get(), base.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        UniqueFd cur(fd);
        struct stat cst {};
        std::optional<std::string> h;
        if (fd >= 0 && ::fstat(fd, &cst) == 0 && S_ISREG(cst.st_mode))
            if (auto r = m_store.hash_of(fd, cst)) h = *r;
        if (!h || *h != *m_opts.if_match)
            return api_fail(WireError::precondition_failed,
                            fmt::format("'{}' changed meanwhile (If-Match)", m_rel));
    } else if (m_opts.if_match && !existed) {
        return api_fail(WireError::precondition_failed,
                        fmt::format("'{}' does not exist (If-Match: *)", m_rel));
    }

    MountStore::CommitOptions o;
    o.rel = m_rel;
    o.sha256 = sha;
    o.crc64 = crc;
    o.mtime_ns = m_opts.mtime_ns;
    o.overwrite = !m_opts.if_none_match_star;
    o.parent_fd = parent->get();
    o.dirs_created = dirs_created;
    o.exists_error = ApiError{WireError::precondition_failed,
                              fmt::format("'{}' exists already (If-None-Match: *)", m_rel),
                              {}};
    auto r = m_store.commit_staged(m_mount, {m_mount.staging.get(), m_staging_name, m_fd.get(), {}},
                                   o, &m_res);
    if (r) m_done = true;
    return r;
}

// ---- TreeWalker --------------------------------------------------------------------------

TreeWalker::TreeWalker(MountStore& store, SortedWalk walk, bool hashes)
    : m_store(store), m_walk(std::move(walk)), m_hashes(hashes) {}

ApiResult<std::optional<Entry>> TreeWalker::next() {
    auto item = m_walk.next();
    if (!item) return std::unexpected(item.error());
    if (!*item) return std::optional<Entry>();
    return std::optional<Entry>(m_store.entry_of(**item, m_hashes));
}

// ---- FolderPages -------------------------------------------------------------------------

FolderPages::FolderPages(MountStore& store, FolderScan scan, bool hashes)
    : m_store(store), m_scan(std::move(scan)), m_hashes(hashes) {}

ApiResult<void> FolderPages::next_names(std::vector<Member>& page, std::size_t max) {
    page.clear();
    while (page.size() < max) {
        auto name = m_scan.next_name();
        if (!name) return std::unexpected(name.error());
        if (!*name) break;
        page.emplace_back().item.name = std::move(**name);
    }
    return {};
}

ApiResult<void> FolderPages::fill(std::span<Member> slice) const {
    for (auto& m : slice) {
        auto listed = stat_member(m_scan.fd(), m_scan.path(), m.item);
        if (!listed) return std::unexpected(listed.error());
        if (*listed) m.entry = m_store.entry_of(m.item, m_hashes, &m.bare);
    }
    return {};
}

// ---- MountStore --------------------------------------------------------------------------

MountStore::MountStore(AppStore& apps, std::uint64_t quota_bytes, MinFree min_free,
                       std::uint64_t max_entries)
    : m_apps(apps),
      m_quota(quota_bytes),
      m_max_entries(max_entries),
      m_min_free(min_free),
      m_ledger(apps.root() / "apps", apps.replicas()) {}

std::string MountStore::staging_name(std::string_view kind) {
    return m_apps.replicas().tag(fmt::format("{}-{}", kind, random_hex(12)));
}

std::uint64_t MountStore::min_free_bytes_now() {
    auto d = disk_space(m_apps.root());
    return min_free_bytes(m_min_free, d ? d->total : 0);
}

std::optional<ApiError> MountStore::disk_full_locked(std::uint64_t bytes,
                                                     std::uint64_t others_streamed) {
    if (bytes == 0) return std::nullopt;
    auto d = disk_space(m_apps.root());
    if (!d) return std::nullopt;  // cannot tell: the write's own ENOSPC still answers 507
    std::uint64_t reserve = min_free_bytes(m_min_free, d->total);
    std::uint64_t room = writable_bytes(*d, m_streamed_pending + others_streamed, reserve);
    if (bytes <= room) return std::nullopt;
    return ApiError{WireError::quota_exceeded,
                    fmt::format("not enough free space on the server's disk: {} bytes needed, {} "
                                "bytes writable above the {} byte free-space reserve "
                                "(de-server --min-free); free some space on the server",
                                bytes, room, reserve),
                    {{"needed_bytes", bytes},
                     {"available_bytes", room},
                     {"reserve_bytes", reserve},
                     {"disk_full", true}}};
}

std::uint64_t MountStore::reserved(const std::string& app) {
    std::lock_guard guard(m_quota_mutex);
    auto it = m_quota_state.find(app);
    return it == m_quota_state.end() ? 0 : it->second.reserved;
}

std::uint64_t MountStore::reserved_total() {
    std::lock_guard guard(m_quota_mutex);
    std::uint64_t total = 0;
    for (const auto& [app, st] : m_quota_state)
        total += st.reserved;
    return total;
}

QuotaLedger::Others MountStore::others_locked(QuotaLedger::Session& ledger, const QuotaState& st) {
    return ledger.others(st.counted_at_wall_ms);
}

void MountStore::publish_locked(QuotaLedger::Session& ledger, QuotaState& st) {
    // Commits older than every count that could have missed them are dropped.
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    while (!st.recent.empty() && now - st.recent.front().second > QuotaLedger::k_keep_s)
        st.recent.pop_front();
    ledger.publish({st.reserved, st.reserved_entries, st.reserved_streamed}, st.recent);
}

ApiResult<void> MountStore::change_reservation(const std::string& app, std::int64_t bytes,
                                               std::int64_t entries, bool streamed,
                                               std::uint64_t held, const std::string& upload,
                                               std::uint64_t held_entries) {
    std::lock_guard guard(m_quota_mutex);
    auto ledger = m_ledger.open(app);
    if (!ledger) return std::unexpected(ledger.error());
    auto& st = m_quota_state[app];
    auto others = others_locked(*ledger, st);
    const bool mine = upload.empty();  // else the upload's, on the root (in `others`)
    if (bytes > 0) {
        auto more = static_cast<std::uint64_t>(bytes);
        std::uint64_t used =
            st.usage.used_bytes + st.reserved + others.reserved.bytes + others.recent_bytes;
        std::uint64_t avail = m_quota > used ? m_quota - used : 0;
        if (more > avail) return std::unexpected(quota_error(held + more, avail + held));
        if (streamed)
            if (auto full = disk_full_locked(more, others.reserved.streamed))
                return std::unexpected(*full);
        if (mine) st.reserved += more;
        if (streamed && mine) {
            st.reserved_streamed += more;
            m_streamed_pending += more;
        }
    }
    if (entries > 0) {
        auto more = static_cast<std::uint64_t>(entries);
        std::uint64_t used = st.usage.entries + st.reserved_entries + others.reserved.entries +
                             others.recent_entries;
        std::uint64_t avail = m_max_entries > used ? m_max_entries - used : 0;
        if (more > avail) return std::unexpected(entries_error(more, avail));
        if (mine) st.reserved_entries += more;
    }
    if (mine)
        publish_locked(*ledger, st);
    else
        ledger->put_upload(
            upload,
            {held + static_cast<std::uint64_t>(std::max<std::int64_t>(bytes, 0)),
             held_entries + static_cast<std::uint64_t>(std::max<std::int64_t>(entries, 0)), 0});
    return {};
}

void MountStore::move_reservation(const std::string& app, const std::string& from_upload,
                                  std::uint64_t bytes, std::uint64_t entries, bool streamed,
                                  const std::string& to_upload, std::uint64_t to_bytes,
                                  std::uint64_t to_entries) {
    std::lock_guard guard(m_quota_mutex);
    auto ledger = m_ledger.open(app);
    auto& st = m_quota_state[app];
    if (from_upload.empty()) {
        st.reserved -= std::min(st.reserved, bytes);
        st.reserved_entries -= std::min(st.reserved_entries, entries);
        if (streamed) {
            st.reserved_streamed -= std::min(st.reserved_streamed, bytes);
            m_streamed_pending -= std::min(m_streamed_pending, bytes);
        }
    } else if (ledger) {
        ledger->remove_upload(from_upload);
    }
    if (to_upload.empty()) {
        st.reserved += bytes;
        st.reserved_entries += entries;
    } else if (ledger) {
        ledger->put_upload(to_upload, {to_bytes + bytes, to_entries + entries, 0});
    }
    if (ledger && (from_upload.empty() || to_upload.empty())) publish_locked(*ledger, st);
}

ApiResult<Reservation> MountStore::reserve_upload(const std::string& app, int mount_fd,
                                                  std::uint64_t bytes, const std::string& upload) {
    auto r = reserve(app, mount_fd, bytes, false, 1);
    if (!r) return r;
    // Checked and held as this replica's; now handed to the upload, on the root.
    move_reservation(app, {}, r->m_bytes, r->m_entries, false, upload, 0, 0);
    r->m_upload = upload;
    return r;
}

Reservation MountStore::adopt_upload(const std::string& app, const std::string& upload,
                                     std::uint64_t bytes) {
    std::lock_guard guard(m_quota_mutex);
    Reservation r(this, app, bytes, false, 1);
    r.m_upload = upload;
    auto ledger = m_ledger.open(app);
    if (!ledger) return r;
    if (auto held = ledger->upload(upload)) {
        r.m_bytes = held->bytes;
        r.m_entries = held->entries;
    } else {
        // Made before the ledger knew uploads (or lost): held again, unchecked.
        ledger->put_upload(upload, {bytes, 1, 0});
    }
    return r;
}

void MountStore::forget_uploads(const std::string& app) {
    std::lock_guard guard(m_quota_mutex);
    if (auto ledger = m_ledger.open(app)) ledger->remove_uploads();
}

void MountStore::end_reservation(const std::string& app, std::uint64_t bytes, std::uint64_t entries,
                                 bool streamed, std::int64_t delta, std::int64_t entries_delta,
                                 const std::string& upload) {
    std::lock_guard guard(m_quota_mutex);
    auto& st = m_quota_state[app];
    if (!upload.empty()) {
        bytes = 0;  // the upload's, on the root: its file goes below
        entries = 0;
        streamed = false;
        if (auto ledger = m_ledger.open(app)) ledger->remove_upload(upload);
    }
    // Without the ledger (out of descriptors, say) the other replicas see this
    // replica's old figures until its next change: too much held, never too little.
    st.reserved -= std::min(st.reserved, bytes);
    st.reserved_entries -= std::min(st.reserved_entries, entries);
    if (streamed) {
        st.reserved_streamed -= std::min(st.reserved_streamed, bytes);
        m_streamed_pending -= std::min(m_streamed_pending, bytes);
    }
    add_usage_locked(st, delta, entries_delta);
    if (delta > 0 || entries_delta > 0) {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        if (st.recent.empty() || st.recent.back().second != now) st.recent.push_back({now, 0, 0});
        if (delta > 0) st.recent.back().bytes += static_cast<std::uint64_t>(delta);
        if (entries_delta > 0)
            st.recent.back().entries += static_cast<std::uint64_t>(entries_delta);
    }
    if (bytes == 0 && entries == 0 && delta <= 0 && entries_delta <= 0) return;
    if (auto ledger = m_ledger.open(app)) publish_locked(*ledger, st);
}

ApiResult<Mount> MountStore::open(const App& app) {
    if (!app.persistent_filesystem)
        return api_fail(WireError::mount_disabled,
                        fmt::format("the persistent filesystem of app '{}' is off; turn it on "
                                    "with `de-cli mount enable -n {}`",
                                    app.name, app.name));
    Mount m;
    m.app = app.name;
    auto dir = m_apps.mount_dir(app.name);
    auto staging = m_apps.staging_dir(app.name);
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        // Someone removed the folder by hand: the mount is on, so it exists (empty).
        ::mkdir(dir.c_str(), 0755);
        fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return api_fail(WireError::internal, fmt::format("cannot open the mount of '{}': {}",
                                                         app.name, std::strerror(errno)));
    m.dir = UniqueFd(fd);
    int sfd = ::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0 && errno == ENOENT) {
        ::mkdir(staging.c_str(), 0700);
        sfd = ::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (sfd < 0)
        return api_fail(WireError::internal,
                        fmt::format("cannot open the staging folder of '{}': {}", app.name,
                                    std::strerror(errno)));
    m.staging = UniqueFd(sfd);
    return m;
}

ApiResult<Usage> MountStore::count_usage(int mount_fd) {
    auto c = count_tree(mount_fd);
    if (!c) {
        ApiError e = c.error();
        e.message =
            fmt::format("cannot count the mount's usage, so nothing is written: {}", e.message);
        return std::unexpected(std::move(e));
    }
    return Usage{c->bytes, c->files, c->files + c->dirs};
}

void MountStore::add_usage_locked(QuotaState& st, std::int64_t bytes, std::int64_t entries) {
    auto add = [](std::uint64_t& v, std::int64_t d) {
        auto r = static_cast<std::int64_t>(v) + d;
        v = r < 0 ? 0 : static_cast<std::uint64_t>(r);
    };
    add(st.usage.used_bytes, bytes);
    add(st.usage.entries, entries);
    if (st.walks > 0) {
        // A count running now may miss this: it is added to its result too.
        if (bytes > 0) st.during_walk.used_bytes += static_cast<std::uint64_t>(bytes);
        if (entries > 0) st.during_walk.entries += static_cast<std::uint64_t>(entries);
    }
}

ApiResult<void> MountStore::refresh_usage(const std::string& app, int mount_fd,
                                          std::unique_lock<std::mutex>& lock, bool force) {
    auto now = std::chrono::steady_clock::now();
    {
        auto& st = m_quota_state[app];
        if (!force && st.valid && now - st.counted_at <= st.ttl) return {};
        // Another request is counting: its result comes soon; until then the
        // last count, corrected by our commits, stands.
        if (!force && st.valid && st.walks > 0) return {};
        if (st.walks++ == 0) st.during_walk = {};
    }
    lock.unlock();
    auto started = std::chrono::steady_clock::now();
    auto started_wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto u = count_usage(mount_fd);
    auto took = std::chrono::steady_clock::now() - started;
    lock.lock();
    auto& st = m_quota_state[app];
    --st.walks;
    if (!u) return std::unexpected(u.error());
    st.usage = *u;
    st.usage.used_bytes += st.during_walk.used_bytes;
    st.usage.entries += st.during_walk.entries;
    st.counted_at = started;
    // Which of the other replicas' commits this count may have missed.
    st.counted_at_wall_ms = started_wall;
    st.valid = true;
    // A big tree is counted less often: the walk takes at most a tenth of the
    // time, and a count is never older than the other replicas list their
    // commits for (QuotaLedger::k_keep_s, less a margin).
    st.ttl =
        std::clamp<std::chrono::steady_clock::duration>(took * 10, k_usage_ttl, k_usage_ttl_max);
    return {};
}

ApiResult<Usage> MountStore::usage(Mount& m) {
    std::unique_lock lock(m_quota_mutex);
    if (auto r = refresh_usage(m.app, m.dir.get(), lock, false); !r)
        return std::unexpected(r.error());
    return m_quota_state[m.app].usage;
}

ApiResult<MountStatus> MountStore::status(const App& app) {
    MountStatus s;
    s.app = app.name;
    s.enabled = app.persistent_filesystem;
    s.quota_bytes = m_quota;
    s.max_entries = m_max_entries;
    s.storage_class = "local";
    if (!s.enabled) return s;
    auto m = open(app);
    if (!m) return std::unexpected(m.error());  // never a status of 0 bytes it did not count
    std::unique_lock lock(m_quota_mutex);
    if (auto r = refresh_usage(app.name, m->dir.get(), lock, true); !r)
        return std::unexpected(r.error());
    auto& q = m_quota_state[app.name];
    s.reserved_bytes = q.reserved;
    if (auto ledger = m_ledger.open(app.name); ledger)
        s.reserved_bytes += others_locked(*ledger, q).reserved.bytes;
    s.used_bytes = q.usage.used_bytes;
    s.file_count = q.usage.file_count;
    s.entries = q.usage.entries;
    return s;
}

ApiError MountStore::quota_error(std::uint64_t needed, std::uint64_t available) const {
    return ApiError{WireError::quota_exceeded,
                    fmt::format("not enough room in the mount: {} bytes needed, {} bytes left of "
                                "the {} byte quota; delete files or ask for a larger quota",
                                needed, available, m_quota),
                    {{"needed_bytes", needed}, {"available_bytes", available}}};
}

ApiError MountStore::entries_error(std::uint64_t needed, std::uint64_t available) const {
    return ApiError{WireError::quota_exceeded,
                    fmt::format("too many files and folders in the mount: {} more needed, {} left "
                                "of the {} allowed (de-server --max-entries); delete some",
                                needed, available, m_max_entries),
                    {{"needed_entries", needed},
                     {"available_entries", available},
                     {"max_entries", m_max_entries}}};
}

ApiResult<Reservation> MountStore::reserve(const std::string& app, int mount_fd,
                                           std::uint64_t bytes, bool streamed,
                                           std::uint64_t entries) {
    std::unique_lock lock(m_quota_mutex);
    if (auto r = refresh_usage(app, mount_fd, lock, false); !r) return std::unexpected(r.error());
    auto ledger = m_ledger.open(app);
    if (!ledger) return std::unexpected(ledger.error());
    auto& st = m_quota_state[app];
    auto others = others_locked(*ledger, st);
    std::uint64_t used =
        st.usage.used_bytes + st.reserved + others.reserved.bytes + others.recent_bytes;
    std::uint64_t avail = m_quota > used ? m_quota - used : 0;
    if (bytes > avail) return std::unexpected(quota_error(bytes, avail));
    std::uint64_t used_entries =
        st.usage.entries + st.reserved_entries + others.reserved.entries + others.recent_entries;
    std::uint64_t avail_entries = m_max_entries > used_entries ? m_max_entries - used_entries : 0;
    if (entries > avail_entries) return std::unexpected(entries_error(entries, avail_entries));
    // A tus upload (not streamed) is checked against the disk too, then preallocates.
    if (auto full = disk_full_locked(bytes, others.reserved.streamed))
        return std::unexpected(*full);
    st.reserved += bytes;
    st.reserved_entries += entries;
    if (streamed) {
        st.reserved_streamed += bytes;
        m_streamed_pending += bytes;
    }
    publish_locked(*ledger, st);
    return Reservation(this, app, bytes, streamed, entries);
}

ApiResult<PutResult> MountStore::commit_staged(Mount& m, const StagedFile& f,
                                               const CommitOptions& o, Reservation* res) {
    const std::string& rel = o.rel;
    if (rel.empty()) return api_fail(WireError::conflict, "'/' is the mount's root folder");
    struct stat st = f.st;
    if (!o.flushed) {
        if (o.mtime_ns) set_mtime(f.fd, *o.mtime_ns);
        if (::fsync(f.fd) != 0) return std::unexpected(errno_error(errno, "syncing", rel));
        // After the mtime: the attribute names the size, mtime and inode it describes.
        if (o.crc64) store_crc64(f.fd, *o.crc64);
        ::fstat(f.fd, &st);
    }
    UniqueFd own_parent;
    int parent = o.parent_fd;
    std::uint64_t dirs_created = o.dirs_created;
    if (parent < 0) {
        auto p = make_parents(m.dir.get(), parent_path(rel), dirs_created);
        if (!p) return std::unexpected(p.error());
        own_parent = std::move(*p);
        parent = own_parent.get();
    }
    std::string base(base_name(rel));
    auto is_folder = [&] {
        return api_fail(WireError::conflict,
                        fmt::format("'{}' is a folder; a file cannot replace it", rel));
    };
    // RENAME_NOREPLACE first: a new file needs nothing else, and without
    // overwrite the kernel itself refuses a file that appeared meanwhile.
    bool created = true;
    std::int64_t old_size = 0;
    if (::renameat2(f.dir_fd, f.name.c_str(), parent, base.c_str(), RENAME_NOREPLACE) != 0) {
        int err = errno;
        if (err != EEXIST) return std::unexpected(errno_error(err, "storing", rel));
        struct stat old {};
        bool existed = ::fstatat(parent, base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
        if (existed && S_ISDIR(old.st_mode)) return is_folder();
        if (!o.overwrite) {
            if (o.exists_error) return std::unexpected(*o.exists_error);
            return api_fail(
                WireError::conflict,
                fmt::format("'{}' exists already; upload with overwrite to replace it", rel));
        }
        if (::renameat(f.dir_fd, f.name.c_str(), parent, base.c_str()) != 0) {
            int e = errno;
            if (e == EISDIR) return is_folder();
            return std::unexpected(errno_error(e, "storing", rel));
        }
        created = false;
        old_size = existed && S_ISREG(old.st_mode) ? old.st_size : 0;
    }
    if (o.sync_folder) fsync_fd(parent);
    PutResult r;
    r.usage_delta = static_cast<std::int64_t>(st.st_size) - old_size;
    if (res)
        res->commit(r.usage_delta, static_cast<std::int64_t>(dirs_created) + (created ? 1 : 0));
    remember_hash(st, o.sha256);
    r.entry = entry_from_stat(rel, st);
    r.entry.sha256 = o.sha256;
    r.created = created;
    return r;
}

std::optional<std::string> MountStore::cached_hash(const struct stat& st) {
    return m_inodes.sha256(st);
}

void MountStore::remember_hash(const struct stat& st, std::string_view sha256) {
    m_inodes.remember_sha256(st, sha256);
}

ApiResult<std::string> MountStore::hash_of(int fd, const struct stat& st,
                                           std::optional<std::uint64_t>* crc) {
    if (auto h = cached_hash(st)) return *h;
    Sha256 hasher;
    Crc64 crc_pass;
    // Sized to the file (plus one byte, to see the end in the same read): a
    // buffer of k_io_buffer for each small file cost a 1 MiB allocation and
    // memset apiece (a first PROPFIND of 30,000 empty files: 133 s under ASan).
    std::vector<char> buf(static_cast<std::size_t>(
        std::min<std::uint64_t>(k_io_buffer, static_cast<std::uint64_t>(st.st_size) + 1)));
    off_t off = 0;
    while (true) {
        ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return api_fail(WireError::internal, fmt::format("reading a file to hash it failed: {}",
                                                             std::strerror(errno)));
        }
        if (n == 0) break;
        hasher.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        if (crc) crc_pass.update(buf.data(), static_cast<std::size_t>(n));
        off += n;
    }
    std::string hex = hasher.finish_hex();
    struct stat after {};
    // Only remember a hash of a file that did not change while we read it.
    if (::fstat(fd, &after) == 0 && after.st_size == st.st_size &&
        mtime_ns_of(after) == mtime_ns_of(st) && off == st.st_size) {
        remember_hash(after, hex);
        if (crc) {
            const auto value = crc_xattr_value(crc_pass.value(), st);
            (void)::fsetxattr(fd, k_crc_xattr, value.data(), value.size(), 0);
            *crc = crc_pass.value();
        }
    }
    return hex;
}

ApiResult<Entry> MountStore::stat_entry(Mount& m, std::string_view rel, bool hash) {
    auto fd = open_beneath(m.dir.get(), rel, O_PATH);
    if (!fd) return std::unexpected(fd.error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return std::unexpected(errno_error(errno, "reading", rel));
    Entry e = entry_from_stat(std::string(rel), st);
    if (S_ISREG(st.st_mode) && !several_links(st)) {
        e.sha256 = cached_hash(st);
        if (hash && !e.sha256) {
            auto rfd = open_beneath(m.dir.get(), rel, O_RDONLY | O_NONBLOCK);
            if (!rfd) return std::unexpected(rfd.error());
            auto h = hash_of(rfd->get(), st);
            if (!h) return std::unexpected(h.error());
            e.sha256 = *h;
        }
    }
    return e;
}

ApiResult<ReadFile> MountStore::open_read(Mount& m, std::string_view rel) {
    if (rel.empty())
        return api_fail(WireError::conflict, "'/' is the mount's root folder, not a file");
    auto fd = open_beneath(m.dir.get(), rel, O_RDONLY | O_NONBLOCK);
    if (!fd) return std::unexpected(fd.error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return std::unexpected(errno_error(errno, "reading", rel));
    if (S_ISDIR(st.st_mode))
        return api_fail(WireError::conflict,
                        fmt::format("'{}' is a folder; list it instead of fetching it", rel));
    if (!S_ISREG(st.st_mode))
        return api_fail(WireError::conflict, fmt::format("'{}' is not a regular file", rel));
    if (several_links(st)) return std::unexpected(hard_link_error(rel, st));
    // The CRC-64 for Repr-Digest: stored, or from the pass that hashes an
    // unhashed file, or (hash cached, CRC not) one read of its own that leaves
    // the file in the page cache for the GET that follows.
    std::optional<std::uint64_t> crc = stored_crc64(fd->get(), st);
    auto h = hash_of(fd->get(), st, crc ? nullptr : &crc);
    if (!h) return std::unexpected(h.error());
    if (!crc) crc = file_crc64(fd->get(), st);
    if (!crc)
        return api_fail(WireError::conflict,
                        fmt::format("'{}' changed while it was read; try again", rel));
    ReadFile r;
    r.crc64 = *crc;
    r.fd = std::move(*fd);
    r.size = static_cast<std::uint64_t>(st.st_size);
    r.mtime_ns = mtime_ns_of(st);
    r.sha256 = *h;
    return r;
}

ApiResult<std::unique_ptr<Upload>> MountStore::begin_put(Mount& m, std::string rel,
                                                         PutOptions opts) {
    if (rel.empty()) return api_fail(WireError::conflict, "'/' is the mount's root folder");
    std::uint64_t old_size = 0;
    bool exists = false;
    int pfd = open_beneath_raw(m.dir.get(), parent_path(rel), O_PATH | O_DIRECTORY);
    if (pfd >= 0) {
        UniqueFd parent(pfd);
        std::string base(base_name(rel));
        struct stat st {};
        if (::fstatat(parent.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
            exists = true;
            if (S_ISLNK(st.st_mode)) {
                // Replacing a link would be harmless, but one pointing outside is refused
                // like every other escape.
                auto target = open_beneath(m.dir.get(), rel, O_PATH);
                if (!target && target.error().kind == WireError::forbidden)
                    return std::unexpected(target.error());
                if (target) ::fstat(target->get(), &st);
            }
            if (S_ISDIR(st.st_mode))
                return api_fail(WireError::conflict,
                                fmt::format("'{}' is a folder; a file cannot replace it", rel));
            if (S_ISREG(st.st_mode)) old_size = static_cast<std::uint64_t>(st.st_size);
        }
        if (opts.if_none_match_star && exists)
            return api_fail(WireError::precondition_failed,
                            fmt::format("'{}' exists already (If-None-Match: *)", rel),
                            api::reason::exists);
        if (opts.if_match) {
            if (!exists)
                return api_fail(WireError::precondition_failed,
                                fmt::format("'{}' does not exist (If-Match)", rel));
            if (*opts.if_match != "*") {
                auto cur = open_read(m, rel);
                if (!cur || cur->sha256 != *opts.if_match)
                    return api_fail(WireError::precondition_failed,
                                    fmt::format("'{}' has changed (If-Match did not hold)", rel));
            }
        }
    } else if (pfd == -ENOENT) {
        if (opts.if_match)
            return api_fail(WireError::precondition_failed,
                            fmt::format("'{}' does not exist (If-Match)", rel));
    } else {
        return std::unexpected(errno_error(-pfd, "opening folder", parent_path(rel)));
    }

    std::uint64_t need = 0;
    if (opts.content_length)
        need = *opts.content_length > old_size ? *opts.content_length - old_size : 0;
    // A new file is one entry more, and so is each folder it needs.
    std::uint64_t entries =
        exists ? 0 : 1 + (pfd >= 0 ? 0 : missing_dirs(m.dir.get(), parent_path(rel)));
    auto res = reserve(m.app, m.dir.get(), need, true, entries);
    if (!res) return std::unexpected(res.error());

    std::string name = staging_name("up");
    int fd = ::openat(m.staging.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return std::unexpected(errno_error(errno, "staging", rel));
    return std::make_unique<Upload>(*this, m, std::move(rel), std::move(opts), std::move(*res),
                                    UniqueFd(fd), std::move(name));
}

ApiResult<void> MountStore::remove(Mount& m, std::string_view rel, bool recursive) {
    if (rel.empty())
        return api_fail(WireError::bad_request, "the mount's root folder cannot be deleted");
    auto parent = open_beneath(m.dir.get(), parent_path(rel), O_RDONLY | O_DIRECTORY);
    if (!parent) return std::unexpected(parent.error());
    std::string base(base_name(rel));
    struct stat st {};
    if (::fstatat(parent->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return std::unexpected(errno_error(errno, "deleting", rel));
    if (S_ISDIR(st.st_mode)) {
        if (!recursive) {
            if (::unlinkat(parent->get(), base.c_str(), AT_REMOVEDIR) != 0) {
                if (errno == ENOTEMPTY || errno == EEXIST)
                    return api_fail(WireError::conflict,
                                    fmt::format("folder '{}' is not empty; pass recursive=true to "
                                                "delete it with everything in it",
                                                rel),
                                    api::reason::not_empty);
                return std::unexpected(errno_error(errno, "deleting", rel));
            }
        } else {
            // Out of sight in one rename; the reaper removes the files after
            // the answer (20,000 unlinks can outlast a client's patience).
            if (int err = m_apps.discard(parent->get(), base, m.app + "-del", m.staging.get());
                err != 0)
                return std::unexpected(errno_error(err, "deleting", rel));
        }
    } else if (::unlinkat(parent->get(), base.c_str(), 0) != 0) {
        return std::unexpected(errno_error(errno, "deleting", rel));
    }
    fsync_fd(parent->get());
    std::lock_guard guard(m_quota_mutex);
    m_quota_state[m.app].valid = false;
    return {};
}

ApiResult<PutResult> MountStore::mkdir(Mount& m, std::string_view rel, bool parents) {
    if (rel.empty()) {
        if (!parents) return api_fail(WireError::conflict, "the mount's root folder exists");
        auto e = stat_entry(m, rel, false);
        if (!e) return std::unexpected(e.error());
        return PutResult{*e, false};
    }
    int existing = open_beneath_raw(m.dir.get(), rel, O_PATH);
    if (existing >= 0) {
        UniqueFd fd(existing);
        struct stat st {};
        ::fstat(fd.get(), &st);
        if (!S_ISDIR(st.st_mode))
            return api_fail(WireError::conflict, fmt::format("'{}' exists and is a file", rel));
        if (!parents)
            return api_fail(WireError::conflict, fmt::format("folder '{}' exists already", rel));
        return PutResult{entry_from_stat(std::string(rel), st), false};
    }
    if (existing != -ENOENT) return std::unexpected(errno_error(-existing, "creating folder", rel));
    // Every folder is an entry against --max-entries.
    auto res = reserve(m.app, m.dir.get(), 0, false, parents ? missing_dirs(m.dir.get(), rel) : 1);
    if (!res) return std::unexpected(res.error());
    if (parents) {
        std::uint64_t made = 0;
        auto fd = make_parents(m.dir.get(), rel, made);
        if (!fd) return std::unexpected(fd.error());
        res->commit(0, static_cast<std::int64_t>(made));
    } else {
        auto parent = open_beneath(m.dir.get(), parent_path(rel), O_RDONLY | O_DIRECTORY);
        if (!parent) {
            if (parent.error().kind == WireError::not_found)
                return api_fail(WireError::not_found,
                                fmt::format("the parent folder of '{}' does not exist; pass "
                                            "parents=true to create it",
                                            rel),
                                api::reason::no_parent);
            return std::unexpected(parent.error());
        }
        if (::mkdirat(parent->get(), std::string(base_name(rel)).c_str(), 0755) != 0)
            return std::unexpected(errno_error(errno, "creating folder", rel));
        res->commit(0, 1);
        fsync_fd(parent->get());
    }
    auto e = stat_entry(m, rel, false);
    if (!e) return std::unexpected(e.error());
    return PutResult{*e, true};
}

namespace {

// What move and copy refuse before they touch anything: the root as the
// source or the target, and a target inside the source.
ApiResult<void> check_move_or_copy(std::string_view from, std::string_view to,
                                   std::string_view verb, std::string_view verbed) {
    if (from.empty())
        return api_fail(WireError::bad_request,
                        fmt::format("the mount's root folder cannot be {}", verbed));
    if (is_within(to, from))
        return api_fail(WireError::bad_request,
                        fmt::format("cannot {} '{}' into itself ('{}')", verb, from, to));
    if (to.empty()) return api_fail(WireError::conflict, "'/' exists already");
    return {};
}

std::unexpected<ApiError> target_exists(std::string_view to) {
    return api_fail(WireError::conflict,
                    fmt::format("'{}' exists already; pass overwrite=true to replace it", to),
                    api::reason::exists);
}

// Without overwrite, an existing target is refused before any work is done
// (the final rename checks again, with RENAME_NOREPLACE).
ApiResult<void> check_target_free(int mount_dir, std::string_view to, bool overwrite) {
    if (overwrite) return {};
    int fd = open_beneath_raw(mount_dir, to, O_PATH | O_NOFOLLOW);
    if (fd < 0) return {};
    ::close(fd);
    return target_exists(to);
}

}  // namespace

ApiResult<Entry> MountStore::move(Mount& m, std::string_view from, std::string_view to,
                                  bool overwrite) {
    if (auto ok = check_move_or_copy(from, to, "move", "moved"); !ok)
        return std::unexpected(ok.error());
    auto src_parent = open_beneath(m.dir.get(), parent_path(from), O_RDONLY | O_DIRECTORY);
    if (!src_parent) return std::unexpected(src_parent.error());
    std::string src_base(base_name(from));
    struct stat st {};
    if (::fstatat(src_parent->get(), src_base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return std::unexpected(errno_error(errno, "moving", from));
    if (auto vacant = check_target_free(m.dir.get(), to, overwrite); !vacant)
        return std::unexpected(vacant.error());
    // The folders made for the target are new entries.
    auto res = reserve(m.app, m.dir.get(), 0, false, missing_dirs(m.dir.get(), parent_path(to)));
    if (!res) return std::unexpected(res.error());
    auto dst_parent = make_dirs_beneath(m.dir.get(), parent_path(to));
    if (!dst_parent) return std::unexpected(dst_parent.error());
    std::string dst_base(base_name(to));
    if (::renameat2(src_parent->get(), src_base.c_str(), dst_parent->get(), dst_base.c_str(),
                    overwrite ? 0 : RENAME_NOREPLACE) != 0) {
        int err = errno;
        if (err == EEXIST) return target_exists(to);
        if (err == EINVAL)
            return api_fail(WireError::bad_request,
                            fmt::format("cannot move '{}' into itself", from));
        return std::unexpected(errno_error(err, "moving to", to));
    }
    fsync_fd(dst_parent->get());
    fsync_fd(src_parent->get());
    {
        std::lock_guard guard(m_quota_mutex);
        m_quota_state[m.app].valid = false;
    }
    return stat_entry(m, to, false);
}

ApiResult<Entry> MountStore::copy(Mount& m, std::string_view from, std::string_view to,
                                  bool overwrite) {
    if (auto ok = check_move_or_copy(from, to, "copy", "copied"); !ok)
        return std::unexpected(ok.error());
    auto src = open_beneath(m.dir.get(), from, O_RDONLY | O_NONBLOCK);
    if (!src) return std::unexpected(src.error());
    struct stat st {};
    ::fstat(src->get(), &st);
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return api_fail(WireError::conflict, fmt::format("'{}' is not a regular file", from));
    if (several_links(st)) return std::unexpected(hard_link_error(from, st));
    if (auto vacant = check_target_free(m.dir.get(), to, overwrite); !vacant)
        return std::unexpected(vacant.error());
    std::uint64_t need = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t entries = 1;
    if (S_ISDIR(st.st_mode)) {
        auto c = count_usage(src->get());
        if (!c) return std::unexpected(c.error());
        need = c->used_bytes;
        entries += c->entries;
    }
    entries += missing_dirs(m.dir.get(), parent_path(to));
    auto res = reserve(m.app, m.dir.get(), need, true, entries);
    if (!res) return std::unexpected(res.error());

    std::string tmp = staging_name("cp");
    int err = 0;
    if (S_ISDIR(st.st_mode)) {
        err = copy_tree(src->get(), m.staging.get(), tmp, st);
    } else {
        int o =
            ::openat(m.staging.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (o < 0) {
            err = errno;
        } else {
            UniqueFd out(o);
            err = copy_file_data(src->get(), out.get());
            if (!err) dav::copy_dead_props(src->get(), out.get());  // WebDAV's properties
            if (!err) set_mtime(out.get(), mtime_ns_of(st));
            struct stat cst {};
            if (!err && ::fstat(out.get(), &cst) == 0)
                if (auto h = cached_hash(st)) remember_hash(cst, *h);
        }
    }
    auto cleanup = [&] { remove_tree(m.staging.get(), tmp); };
    if (err) {
        cleanup();
        return std::unexpected(errno_error(err, "copying to", to));
    }
    auto dst_parent = make_dirs_beneath(m.dir.get(), parent_path(to));
    if (!dst_parent) {
        cleanup();
        return std::unexpected(dst_parent.error());
    }
    std::string dst_base(base_name(to));
    struct stat old {};
    bool existed = ::fstatat(dst_parent->get(), dst_base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (::renameat2(m.staging.get(), tmp.c_str(), dst_parent->get(), dst_base.c_str(),
                    overwrite ? 0 : RENAME_NOREPLACE) != 0) {
        int e = errno;
        cleanup();
        if (e == EEXIST) return target_exists(to);
        return std::unexpected(errno_error(e, "copying to", to));
    }
    fsync_fd(dst_parent->get());
    res->commit(static_cast<std::int64_t>(need) -
                    (existed && S_ISREG(old.st_mode) ? static_cast<std::int64_t>(old.st_size) : 0),
                static_cast<std::int64_t>(entries) - (existed ? 1 : 0));
    if (existed && S_ISDIR(old.st_mode)) {
        std::lock_guard guard(m_quota_mutex);
        m_quota_state[m.app].valid = false;
    }
    return stat_entry(m, to, false);
}

ApiResult<ListPage> MountStore::list(Mount& m, std::string_view rel, bool recursive, bool hashes,
                                     std::size_t limit, std::string_view cursor) {
    int fd = open_beneath_raw(m.dir.get(), rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return std::unexpected(not_a_folder(m.dir.get(), rel, -fd));
    UniqueFd base(fd);
    // The cursor is the last path of the previous page: the walk resumes after
    // it, reading one folder at a time (bounded memory whatever the tree).
    std::string after;
    if (!cursor.empty()) {
        auto c = normalize_remote_path(cursor);
        bool below = c && !c->empty() && *c != rel && (rel.empty() || is_within(*c, rel));
        if (below) after = c->substr(rel.empty() ? 0 : rel.size() + 1);
        if (!below || (!recursive && after.find('/') != std::string::npos))
            return api_fail(
                WireError::bad_request,
                fmt::format("the cursor '{:.300}' is not one of this listing's", cursor));
    }
    auto w = SortedWalk::start(std::move(base), std::string(rel), after, recursive, limit + 1);
    if (!w) return std::unexpected(w.error());
    return list_page(std::move(*w), hashes, limit);
}

ApiResult<ListPage> MountStore::list_page(SortedWalk walk, bool hashes, std::size_t limit) {
    TreeWalker walker(*this, std::move(walk), hashes);
    ListPage page;
    while (true) {
        auto e = walker.next();
        if (!e) return std::unexpected(e.error());  // never a page that silently lacks entries
        if (!*e) break;
        if (page.entries.size() == limit) {
            page.next_cursor = page.entries.back().path;
            break;
        }
        page.entries.push_back(std::move(**e));
    }
    return page;
}

ApiResult<std::unique_ptr<TreeWalker>> MountStore::walk(Mount& m, std::string_view rel,
                                                        bool hashes) {
    int fd = open_beneath_raw(m.dir.get(), rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return std::unexpected(not_a_folder(m.dir.get(), rel, -fd));
    auto w = SortedWalk::start(UniqueFd(fd), std::string(rel), {}, true);
    if (!w) return std::unexpected(w.error());
    return std::make_unique<TreeWalker>(*this, std::move(*w), hashes);
}

ApiResult<std::unique_ptr<FolderPages>> MountStore::folder_pages(Mount& m, std::string_view rel,
                                                                 bool hashes) {
    int fd = open_beneath_raw(m.dir.get(), rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return std::unexpected(not_a_folder(m.dir.get(), rel, -fd));
    return std::make_unique<FolderPages>(*this, FolderScan(UniqueFd(fd), std::string(rel)), hashes);
}

Entry MountStore::entry_of(SortedWalk::Item& it, bool hash, bool* bare) {
    Entry e = entry_from_stat(std::move(it.path), it.st);
    auto known = m_inodes.lookup(it.st);
    if (bare) *bare = known.bare;
    if (S_ISREG(it.st.st_mode)) {
        e.sha256 = std::move(known.sha256);
        if (hash && !e.sha256) {
            int fd = ::openat(it.dir_fd, it.name.c_str(),
                              O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0) {
                UniqueFd f(fd);
                struct stat st {};
                if (::fstat(fd, &st) == 0)
                    if (auto h = hash_of(fd, st)) e.sha256 = *h;
            }
        }
    }
    return e;
}

}  // namespace de::server

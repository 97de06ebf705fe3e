// POST .../mount/batch (docs/api.md, "Batch upload"): many small files in one
// tar body, committed as a whole.
//
// Why this shape: with thousands of small files, the cost is not bytes but a
// round trip and an fsync per file (design.md §5: ≈ 20 s for 20k files with an
// fsync each, ≈ 1 s without). So the body streams through two fixed 1 MiB
// buffers -- the session reads one from the socket while a pool thread feeds
// the other to the TarReader, which writes each member to its own named file
// in <app>/staging while hashing it -- and durability costs one syncfs() of the
// staging filesystem for the whole batch, then the renames (each through
// MountStore::commit_staged, the one commit path of the mount, told that the
// data is flushed already and that the folders are synced here), then one
// fsync per folder touched. Every conflict is checked before the first rename, so a
// refused batch commits nothing; only a writer racing the renames can make a
// member fail afterwards (207). Staged files are unlinked on every failure path
// (the Batch object owns them until they are renamed), before the answer: an
// aborted body, a refused batch and the members a 207 could not place leave
// nothing in staging once the request ends, and the batch's reservation is
// released then too.
//
// Lifetimes: the Batch is shared with the pool jobs that parse into it, so it
// may outlive the request's coroutine by a moment (a job's closure is
// destroyed on the pool thread). It therefore holds its own descriptor of the
// staging folder: it once used the Mount's, which the coroutine had closed by
// then, so the last reference's ~Batch unlinked with fd -1 (EBADF) and leaked
// every uncommitted staged file until the next restart. A JobGroup
// (pool_jobs.hpp) also drops a job's closure before it reports the job done.
//
// Measured on the 2-core box (20k files of 1-16 KiB, 4 batches of 5000 on 2
// connections, box shared with other builds at load 7-10): per batch, body
// (parse, hash, write 5000 staged files) 0.4-1.0 s, syncfs 0.01-0.65 s (it also
// flushes other writers' dirty data on the filesystem), renames + folder
// fsyncs 0.2-0.5 s. Starting each file's write-back early
// (sync_file_range(SYNC_FILE_RANGE_WRITE) after it is written) made the body
// phase 50-100 % slower for a 30 % shorter flush, so it is not done.
//
// Paths: each member's path is normalised under the mount's rules and
// resolved beneath the mount with openat2(RESOLVE_BENEATH) (open_beneath_raw),
// so neither '..' nor a symlink an app left in the mount leads outside it.
#include "batch.hpp"

#include "crc_store.hpp"
#include "pool_jobs.hpp"

#include <de/crc64.hpp>
#include <de/json.hpp>
#include <de/name_json.hpp>
#include <de/remote_path.hpp>
#include <de/sha256.hpp>
#include <de/tar_reader.hpp>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace de::server {

namespace {
using api::WireError;
using asio::awaitable;
using asio::use_awaitable;

constexpr std::size_t k_chunk = 1 << 20;

// `fields` with the member's "path" (percent form when not UTF-8).
nlohmann::json path_json(const std::string& rel, nlohmann::json fields) {
    put_name(fields, "path", rel);
    return fields;
}

// Test builds: DE_SERVER_TEST_BATCH_RACE=PATH plays a writer that creates PATH
// in the mount between a batch's conflict check and its renames, so a test
// can make a batch commit in part (207) on demand.
void race_writer([[maybe_unused]] int mount_fd) {
#ifdef DE_TEST_HOOKS
    const char* path = std::getenv("DE_SERVER_TEST_BATCH_RACE");
    if (!path || !*path) return;
    int fd = open_beneath_raw(mount_fd, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) ::close(fd);
#endif
}

// One batch: the members staged so far, and the commit.
class Batch final : public TarHandler {
  public:
    Batch(MountStore& store, Mount& mount, bool overwrite)
        : m_store(store),
          m_mount(mount),
          m_staging(::fcntl(mount.staging.get(), F_DUPFD_CLOEXEC, 0)),
          m_overwrite(overwrite),
          m_prefix(store.staging_name("batch")) {}
    ~Batch() override { discard(); }

    ApiResult<void> begin(const TarMember& m) override {
        if (++m_members > api::k_batch_max_members)
            return api_fail(WireError::too_large,
                            fmt::format("a batch holds at most {} members; split it",
                                        api::k_batch_max_members));
        auto rel = normalize_remote_path(m.path);
        if (!rel)
            return api_fail(WireError::bad_request,
                            fmt::format("member '{}': {}", m.path, rel.error().message));
        if (m.type == TarMember::Type::dir) {
            if (!rel->empty() && m_dir_set.insert(*rel).second) m_dirs.push_back(*rel);
            m_current.reset();
            return {};
        }
        if (rel->empty())
            return api_fail(WireError::bad_request, "a file member names the mount root");
        if (!m.sha256 && !m.crc64)
            return api_fail(WireError::bad_request,
                            fmt::format("member '{}' has no DE.crc64 (or DE.sha256) pax record; "
                                        "every file in a batch carries its CRC-64",
                                        *rel));
        if (!m_file_set.insert(*rel).second)
            return api_fail(WireError::bad_request,
                            fmt::format("'{}' appears twice in the batch", *rel));
        Staged s;
        s.rel = std::move(*rel);
        s.expected = m.sha256.value_or("");
        s.expected_crc = m.crc64;
        s.size = m.size;
        s.mtime_ns = m.mtime_ns;
        s.name = fmt::format("{}-{}", m_prefix, m_files.size());
        if (!m_staging) return std::unexpected(errno_error(EMFILE, "staging", s.rel));
        int fd = ::openat(m_staging.get(), s.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                          0644);
        if (fd < 0) return std::unexpected(errno_error(errno, "staging", s.rel));
        m_fd = UniqueFd(fd);
        m_files.push_back(std::move(s));
        m_current = m_files.size() - 1;  // m_hash was reset by the last finish_hex()
        return {};
    }

    ApiResult<void> data(std::string_view bytes) override {
        if (!m_current) return {};
        m_hash.update(bytes);
        m_crc.update(bytes);
        while (!bytes.empty()) {
            ssize_t w = ::write(m_fd.get(), bytes.data(), bytes.size());
            if (w < 0) {
                if (errno == EINTR) continue;
                return std::unexpected(errno_error(errno, "writing", m_files[*m_current].rel));
            }
            bytes.remove_prefix(static_cast<std::size_t>(w));
        }
        return {};
    }

    ApiResult<void> end() override {
        if (!m_current) return {};
        Staged& s = m_files[*m_current];
        m_current.reset();
        s.sha256 = m_hash.finish_hex();
        s.crc64 = m_crc.value();
        m_crc.reset();
        if (s.expected_crc && *s.expected_crc != s.crc64)
            return std::unexpected(ApiError{
                WireError::digest_mismatch,
                fmt::format("the content of '{}' has CRC-64 {}, but its DE.crc64 says {}: bytes "
                            "were damaged on the way; nothing of the batch was stored",
                            s.rel, crc64_hex(s.crc64), crc64_hex(*s.expected_crc)),
                path_json(s.rel, {{"received_crc64", crc64_hex(s.crc64)}})});
        if (!s.expected.empty() && s.sha256 != s.expected)
            return std::unexpected(ApiError{
                WireError::digest_mismatch,
                fmt::format("the content of '{}' has SHA-256 {}, but its DE.sha256 says {}; "
                            "nothing of the batch was stored",
                            s.rel, s.sha256, s.expected),
                path_json(s.rel, {{"received_sha256", s.sha256}})});
        if (s.mtime_ns) set_mtime(m_fd.get(), *s.mtime_ns);
        // One fstat for both the commit and the stored CRC (after the mtime:
        // crc_store.hpp); the attribute changes only the ctime.
        ::fstat(m_fd.get(), &s.st);
        store_crc64(m_fd.get(), s.crc64, s.st);
        m_fd.reset();
        m_bytes += s.size;
        return {};
    }

    std::size_t files() const { return m_files.size(); }
    std::size_t dirs() const { return m_dirs.size(); }
    std::uint64_t bytes() const { return m_bytes; }

    // At most how many files and folders the commit adds (--max-entries):
    // every file (a replaced one too) and every folder named or implied that
    // does not exist yet. Blocking: runs on a pool thread.
    std::uint64_t new_entries() const {
        std::unordered_set<std::string_view> dirs;
        auto add = [&](std::string_view p) {
            for (; !p.empty(); p = parent_path(p))
                if (!dirs.insert(p).second) break;  // its parents are in already
        };
        for (const auto& s : m_files)
            add(parent_path(s.rel));
        for (const auto& d : m_dirs)
            add(d);
        std::uint64_t n = m_files.size();
        for (auto d : dirs) {
            int fd = open_beneath_raw(m_mount.dir.get(), d, O_PATH | O_DIRECTORY);
            if (fd >= 0)
                ::close(fd);
            else
                ++n;
        }
        return n;
    }

    // Flush, check, rename, fsync folders. Blocking: runs on a pool thread.
    struct Outcome {
        std::string body;  // the JSON answer, written as it is built
        int status = 200;
        std::int64_t delta = 0;                               // usage change
        double flush_ms = 0, commit_ms = 0, dir_sync_ms = 0;  // dir_sync_ms: part of commit_ms
        std::size_t dirs_synced = 0;
    };
    ApiResult<Outcome> commit() {
        Outcome out;
        using clock = std::chrono::steady_clock;
        auto t0 = clock::now();
        // One flush for the whole batch: every staged file's data and inode.
        if (!m_files.empty() && ::syncfs(m_staging.get()) != 0)
            return std::unexpected(errno_error(errno, "syncing", "staging"));
        auto t1 = clock::now();
        if (auto c = check_conflicts(); !c) return std::unexpected(c.error());
        race_writer(m_mount.dir.get());

        for (const auto& d : m_dirs)
            if (auto r = ensure_dir(d); !r) return std::unexpected(r.error());

        // The answer is serialized entry by entry: a JSON tree of 5000
        // entries (about 1 KiB each as nlohmann objects) per batch in flight
        // was most of the server's peak memory in a 20k-file upload.
        std::string entries = "[";
        std::size_t n_entries = 0;
        nlohmann::json failed = nlohmann::json::array();
        std::string cur_parent;
        int cur_fd = -1;
        for (auto& s : m_files) {
            std::string parent(parent_path(s.rel));
            if (cur_fd < 0 || parent != cur_parent) {
                auto fd = ensure_dir(parent);
                if (!fd) {
                    failed.push_back(
                        path_json(s.rel, {{"kind", std::string(api::to_string(fd.error().kind))},
                                          {"message", fd.error().message}}));
                    continue;
                }
                cur_parent = parent;
                cur_fd = *fd;
            }
            MountStore::CommitOptions o;
            o.rel = s.rel;
            o.sha256 = s.sha256;
            o.overwrite = m_overwrite;
            o.flushed = true;       // mtime set at end(), data flushed by the syncfs above
            o.sync_folder = false;  // one fsync per folder below
            o.parent_fd = cur_fd;
            o.exists_error =
                ApiError{WireError::conflict,
                         fmt::format("'{}' was created by another writer meanwhile", s.rel),
                         {}};
            auto placed =
                m_store.commit_staged(m_mount, {m_staging.get(), s.name, -1, s.st}, o, nullptr);
            if (!placed) {
                failed.push_back(
                    path_json(s.rel, {{"kind", std::string(api::to_string(placed.error().kind))},
                                      {"message", placed.error().message}}));
                continue;
            }
            s.committed = true;
            m_dirty.insert(parent);
            out.delta += placed->usage_delta;
            if (n_entries++) entries += ',';
            entries += dump_json(nlohmann::json(placed->entry));
        }
        auto t_renamed = clock::now();
        // One fsync per folder that got a new name (and per parent of a new folder).
        for (const auto& d : m_dirty) {
            int fd = open_beneath_raw(m_mount.dir.get(), d, O_RDONLY | O_DIRECTORY);
            if (fd >= 0) {
                ::fsync(fd);
                ::close(fd);
            }
        }
        m_dir_fds.clear();
        auto t2 = clock::now();
        out.flush_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        out.commit_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
        out.dir_sync_ms = std::chrono::duration<double, std::milli>(t2 - t_renamed).count();
        out.dirs_synced = m_dirty.size();
        entries += ']';
        out.body = fmt::format(R"({{"files":{},"dirs":{},"bytes":{},"entries":)", n_entries,
                               m_dirs.size(), m_bytes);
        out.body += entries;
        if (!failed.empty()) {
            out.status = 207;
            out.body += R"(,"failed":)" + dump_json(failed);
        }
        out.body += '}';
        return out;
    }

    // Removes every staged file not renamed into place (the one being
    // written too). Returns how many it removed.
    std::size_t discard() {
        m_fd.reset();
        std::size_t n = 0;
        for (auto& s : m_files)
            if (!s.committed) {
                if (::unlinkat(m_staging.get(), s.name.c_str(), 0) == 0) ++n;
                s.committed = true;
            }
        return n;
    }

  private:
    struct Staged {
        std::string rel;
        std::string name;      // in staging
        std::string expected;  // DE.sha256, "" when not sent
        std::optional<std::uint64_t> expected_crc;
        std::string sha256;
        std::uint64_t crc64 = 0;
        std::uint64_t size = 0;
        std::optional<std::int64_t> mtime_ns;
        struct stat st {};
        bool committed = false;
    };

    // Everything that would make a rename fail, before the first one.
    ApiResult<void> check_conflicts() {
        // Inside the batch: a file where another member needs a folder (each
        // folder's ancestors once: members come grouped by folder).
        std::string_view last_parent;
        bool first_file = true;
        for (const auto& s : m_files) {
            if (m_dir_set.contains(s.rel))
                return api_fail(
                    WireError::conflict,
                    fmt::format("'{}' is both a file and a folder in the batch", s.rel));
            std::string_view parent = parent_path(s.rel);
            if (!first_file && parent == last_parent) continue;
            first_file = false;
            last_parent = parent;
            for (auto p = parent; !p.empty(); p = parent_path(p))
                if (m_file_set.contains(std::string(p)))
                    return api_fail(WireError::conflict,
                                    fmt::format("'{}' is a file in the batch, but '{}' needs it "
                                                "to be a folder",
                                                p, s.rel));
        }
        for (const auto& d : m_dirs)
            for (std::string_view p = parent_path(d); !p.empty(); p = parent_path(p))
                if (m_file_set.contains(std::string(p)))
                    return api_fail(WireError::conflict,
                                    fmt::format("'{}' is a file in the batch, but folder '{}' "
                                                "needs it to be a folder",
                                                p, d));
        for (const auto& d : m_dirs) {
            int fd = open_beneath_raw(m_mount.dir.get(), d, O_PATH | O_DIRECTORY);
            if (fd >= 0) {
                ::close(fd);
                continue;
            }
            if (fd == -ENOENT) continue;
            if (fd == -ENOTDIR)
                return api_fail(
                    WireError::conflict,
                    fmt::format("'{}' (or a folder above it) is a file in the mount", d));
            return std::unexpected(errno_error(-fd, "opening folder", d));
        }
        // In the mount: one open of each parent folder (members come grouped by folder).
        std::string cur_parent;
        UniqueFd parent_fd;
        int parent_state = 0;  // 0 open, -ENOENT missing
        bool first = true;
        for (auto& s : m_files) {
            std::string parent(parent_path(s.rel));
            if (first || parent != cur_parent) {
                first = false;
                cur_parent = parent;
                int fd = open_beneath_raw(m_mount.dir.get(), parent, O_PATH | O_DIRECTORY);
                parent_fd = UniqueFd(fd >= 0 ? fd : -1);
                parent_state = fd >= 0 ? 0 : fd;
                if (fd == -ENOTDIR)
                    return api_fail(
                        WireError::conflict,
                        fmt::format("a parent folder of '{}' is a file in the mount", s.rel));
                if (fd < 0 && fd != -ENOENT)
                    return std::unexpected(errno_error(-fd, "opening folder", parent));
            }
            if (parent_state != 0) continue;  // the folder will be created: nothing to collide with
            std::string base(base_name(s.rel));
            struct stat st {};
            if (::fstatat(parent_fd.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            if (S_ISDIR(st.st_mode))
                return api_fail(WireError::conflict,
                                fmt::format("'{}' is a folder in the mount; a file cannot "
                                            "replace it",
                                            s.rel));
            if (!m_overwrite)
                return api_fail(WireError::conflict,
                                fmt::format("'{}' exists already; nothing of the batch was stored "
                                            "(send it with overwrite=true to replace files)",
                                            s.rel),
                                api::reason::exists);
        }
        return {};
    }

    // An O_DIRECTORY fd of `rel` beneath the mount, creating what is missing
    // (the parent of every new folder is marked for an fsync). Cached per batch.
    ApiResult<int> ensure_dir(const std::string& rel) {
        if (auto it = m_dir_fds.find(rel); it != m_dir_fds.end()) return it->second.get();
        if (m_dir_fds.size() >= 64) m_dir_fds.clear();  // bounded fds
        int fd = open_beneath_raw(m_mount.dir.get(), rel, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT) {
            std::string parent(parent_path(rel));
            auto pfd = ensure_dir(parent);
            if (!pfd) return std::unexpected(pfd.error());
            std::string name(base_name(rel));
            if (::mkdirat(*pfd, name.c_str(), 0755) != 0 && errno != EEXIST)
                return std::unexpected(errno_error(errno, "creating folder", rel));
            m_dirty.insert(parent);
            fd = open_beneath_raw(m_mount.dir.get(), rel, O_RDONLY | O_DIRECTORY);
        }
        if (fd < 0) return std::unexpected(errno_error(-fd, "opening folder", rel));
        int raw = fd;
        m_dir_fds[rel] = UniqueFd(fd);
        return raw;
    }

    MountStore& m_store;
    Mount& m_mount;      // for commit(), which runs while the request waits for it
    UniqueFd m_staging;  // our own: discard() may run after the request's Mount is gone
    bool m_overwrite;
    std::string m_prefix;
    std::vector<Staged> m_files;
    std::vector<std::string> m_dirs;
    std::unordered_set<std::string> m_file_set;
    std::unordered_set<std::string> m_dir_set;
    std::optional<std::size_t> m_current;
    UniqueFd m_fd;
    Sha256 m_hash;
    Crc64 m_crc;
    std::uint64_t m_members = 0;
    std::uint64_t m_bytes = 0;
    std::unordered_map<std::string, UniqueFd> m_dir_fds;
    std::set<std::string> m_dirty;
};

}  // namespace

awaitable<bool> handle_batch(ServerContext& ctx, Exchange& x) {
    const auto& h = x.parser.get();
    unsigned version = h.version();
    auto send = [&](const Response& r, bool keep) -> awaitable<bool> {
        co_return co_await send_response(x.stream, r, version, keep, ctx.options.body_timeout);
    };
    // Before the body is read, an answer closes the connection (the body would
    // be taken for the next request).
    auto refuse = [&](const ApiError& e) -> awaitable<bool> {
        x.status = api::http_status(e.kind);
        co_return co_await send(error_response(e), x.keep_alive && x.parser.is_done());
    };

    auto mount = ctx.api.open_mount(x.route.app, x.caller);
    if (!mount) co_return co_await refuse(mount.error());
    auto overwrite = query_bool(x.query, "overwrite", false);
    if (!overwrite) co_return co_await refuse(overwrite.error());
    if (h.chunked() || h.find(http::field::content_length) == h.end()) {
        ApiError e{WireError::length_required, "a batch upload needs Content-Length", {}};
        co_return co_await refuse(e);
    }
    if (auto ct = sv(h[http::field::content_type]);
        !ct.empty() && !ct.starts_with("application/x-tar")) {
        ApiError e{WireError::unsupported_media,
                   fmt::format("a batch body is a tar archive (application/x-tar), not '{}'", ct),
                   {}};
        co_return co_await refuse(e);
    }
    std::uint64_t length = x.parser.content_length().value_or(0);
    if (length > api::k_batch_max_body) {
        ApiError e{WireError::too_large,
                   fmt::format("a batch body is at most {} bytes; split it into several batches",
                               api::k_batch_max_body),
                   {}};
        co_return co_await refuse(e);
    }
    auto reservation = ctx.mounts.reserve(mount->app, mount->dir.get(), length);
    if (!reservation) co_return co_await refuse(reservation.error());

    boost::system::error_code ec;
    if (!x.parser.is_done() && beast::iequals(h[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, version};
        x.stream.expires_after(ctx.options.body_timeout);
        co_await http::async_write(x.stream, cont, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return false;
    }

    auto started = std::chrono::steady_clock::now();
    auto batch = std::make_shared<Batch>(ctx.mounts, *mount, *overwrite);
    auto reader = std::make_shared<TarReader>();
    std::optional<ApiError> error;
    ApiResult<void> job_result;
    ApiResult<Batch::Outcome> outcome = std::unexpected(ApiError{});
    std::uint64_t new_entries = 0;

    // Two buffers: the socket fills one while a pool thread parses the other.
    std::vector<char> bufs[2] = {std::vector<char>(k_chunk), std::vector<char>(k_chunk)};
    // After what its jobs use (the buffers, job_result, outcome, new_entries).
    JobGroup job(x.stream.get_executor());
    int cur = 0;
    std::uint64_t left = length;
    bool first = true;
    while (true) {
        std::size_t n = 0;
        char* buf = bufs[cur].data();
        if (first && x.buffer.size() > 0 && left > 0) {
            n = static_cast<std::size_t>(std::min<std::uint64_t>(x.buffer.size(), left));
            n = std::min(n, k_chunk);
            std::memcpy(buf, x.buffer.data().data(), n);
            x.buffer.consume(n);
        } else if (left > 0) {
            std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(k_chunk, left));
            while (n < want && !ec) {
                x.stream.expires_after(ctx.options.body_timeout);
                n += co_await x.stream.async_read_some(asio::buffer(buf + n, want - n),
                                                       asio::redirect_error(use_awaitable, ec));
            }
        }
        first = first && x.buffer.size() > 0;
        if (ec) {
            co_await job.wait();
            job.start(ctx.pool, [batch] { batch->discard(); });
            co_await job.wait();
            reservation->commit(0);
            x.status = 0;
            fmt::print(stderr, "batch upload to app '{}' aborted after {} of {} bytes: {}\n",
                       mount->app, length - left, length, ec.message());
            co_return false;
        }
        if (job.busy()) {
            co_await job.wait();
            if (!job_result && !error) error = job_result.error();
        }
        if (n == 0) break;
        left -= n;
        if (!error) {
            job.start(ctx.pool, [batch, reader, buf, n, &job_result] {
                job_result = reader->feed(std::string_view(buf, n), *batch);
            });
            cur ^= 1;
        }
        // After an error the rest of the body is read and dropped, so the
        // answer reaches the client and the connection stays usable.
    }
    if (!error)
        if (auto f = reader->finish(); !f) error = f.error();
    auto body_done = std::chrono::steady_clock::now();

    if (!error) {
        job.start(ctx.pool, [batch, &outcome, &reservation, &new_entries] {
            new_entries = batch->new_entries();
            if (auto g = reservation->grow_entries(new_entries); !g) {
                outcome = std::unexpected(g.error());
                return;
            }
            outcome = batch->commit();
        });
        co_await job.wait();
        if (!outcome) error = outcome.error();
    }
    if (error) {
        job.start(ctx.pool, [batch] { batch->discard(); });
        co_await job.wait();
        reservation->commit(0);
        x.status = api::http_status(error->kind);
        co_return co_await send(error_response(*error), x.keep_alive);
    }
    if (outcome->status != 200) {
        // A 207: the members that could not be placed are still staged.
        job.start(ctx.pool, [batch] { batch->discard(); });
        co_await job.wait();
    }
    reservation->commit(outcome->delta, static_cast<std::int64_t>(new_entries));
    auto ms = [](auto d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    fmt::print(stderr,
               "batch to app '{}': {} files, {} folders, {} bytes: body {} ms, flush {:.0f} ms, "
               "commit {:.0f} ms (of which {} folder fsyncs {:.0f} ms)\n",
               mount->app, batch->files(), batch->dirs(), batch->bytes(), ms(body_done - started),
               outcome->flush_ms, outcome->commit_ms, outcome->dirs_synced, outcome->dir_sync_ms);
    Response r;
    r.status = outcome->status;
    r.body = std::move(outcome->body);
    x.status = r.status;
    co_return co_await send(r, x.keep_alive);
}

}  // namespace de::server

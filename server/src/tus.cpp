// tus 1.0 uploads (core, creation, creation-with-upload, checksum, termination,
// expiration, concatenation) and de's `parts` extension. Design:
//
// - An upload is <root>/apps/<app>/uploads/<id>.data (preallocated to its
//   length; every PATCH writes at its offset with pwrite) and <id>.json (its
//   state, rewritten with write + rename after each PATCH and every 64 MiB
//   during one; never fsynced: a process crash keeps the page cache, and a
//   machine crash is caught by the whole-file SHA-256 at completion).
// - Core tus is the parts machinery with one part. A part has `filled` bytes
//   (written, in memory) and `confirmed` bytes (what HEAD and the state file
//   report). A PATCH with Upload-Checksum confirms its bytes only at its end;
//   on a mismatch (or a cut-off) they are rolled back. Without a checksum
//   every written byte counts.
// - The body streams through two 1 MiB buffers per connection (4 KiB
//   aligned): while one is read from the socket, pool threads write the other
//   (pwrite), check it for Upload-Checksum and feed the whole-file SHA-256, in
//   parallel. Aligned writes go through a second, O_DIRECT descriptor: the
//   bytes have to reach the disk before completion anyway, and filling fresh
//   page-cache pages was the largest CPU cost of an upload (measured: 47 % of
//   de-server's samples for 2 GiB, 3.3 CPU-s; with O_DIRECT the server spends
//   about 3.3 CPU-s on the whole upload instead of 7). Unaligned heads and
//   tails, and file systems without O_DIRECT (tmpfs), use the page cache.
// - The whole-file SHA-256 runs beside the upload: a PATCH whose bytes start
//   where the hash stands feeds it straight from its buffer; bytes that arrive
//   ahead of it (other parts) are copied into pooled buffers when they start
//   less than 16 MiB past the hash (32 MiB across uploads), and a catch-up job
//   on the pool hashes runs of those from memory, or reads the rest back from
//   the file (O_DIRECT, 4 MiB at a time) as soon as the contiguous prefix
//   reaches them. A rollback drops its kept copies and, behind the hash, resets
//   it (a rare event: a bad checksum). So completion mostly finishes the hash,
//   fsyncs and renames; its log line says where the hash got its bytes.
// - Quota: creation reserves Upload-Length (MountStore::reserve counts usage
//   plus every reservation under one lock); the reservation is released on
//   termination or expiry, and turned into usage at completion. Surviving
//   uploads re-reserve at start().
// - Completion is recorded atomically with the commit: before the rename into
//   the mount, the state file gets a commit record (the staged file's dev and
//   inode, its SHA-256), fsynced; after the rename it says "completed" with the
//   entry. A restart between the two finds the record and looks at the mount:
//   the staged inode there means the commit happened (the upload is completed,
//   HEAD names the file), the staged file still in uploads/ means it did not
//   (complete but uncommitted; POST .../complete commits it). A completed
//   upload holds no reservation.
// - A completion refused because the target is in the way (409, 412) discards
//   the upload at once (its staged file and its reservation): metadata fixed
//   at creation cannot make it succeed later. DELETE of an upload that is gone
//   answers 204 like the first one (a retried termination).
// - Uploads are reached only through the owner's app routes (open_mount checks
//   ownership) and are keyed by app and a 128-bit random id.
// - Replicas (docs/server.md, "tus uploads across replicas"): any de-server
//   on the same root continues any upload. A request starts from the state
//   file (UploadStore::find refreshes), a PATCH holds its part's OFD lock
//   from before it checks its offset until after it saved, and a completion
//   holds the upload's commit lock; see tus_store.hpp.
//
// Three units: tus_store (the upload records, their state files, expiry,
// reservations, restart recovery), tus_hash (buffers, O_DIRECT writes and
// reads, catch-up hashing, pool jobs) and this file, the HTTP handlers. It
// stays one unit of about 1,300 lines because its handlers share one request
// state (Req, the body reader, the PATCH pump) and the create/patch/complete
// paths interleave (a creation may carry a body and complete at once).
#include "tus.hpp"

#include "pool_jobs.hpp"
#include "tus_hash.hpp"
#include "tus_proto.hpp"
#include "tus_store.hpp"

#include <de/crc64.hpp>
#include <de/json.hpp>
#include <de/remote_path.hpp>
#include <de/text.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

namespace de::server {

using api::WireError;
using asio::awaitable;
using asio::use_awaitable;
using nlohmann::json;

using tus::BufferPool;
using tus::g_ahead_total;
using tus::k_ahead_total_max;
using tus::k_ahead_window;
using tus::k_chunk;
using tus::k_writeback_window;
using tus::now_ms;
using tus::ofd_lock;
using tus::ofd_unlock;
using tus::TusUpload;
using tus::UploadPtr;

namespace {

// Whether a commit refused with `e` can never succeed for this upload (the
// target is in the way and the upload's metadata says not to replace it).
bool target_refused(const ApiError& e) {
    return e.kind == WireError::conflict || e.kind == WireError::precondition_failed;
}

// A PATCH saves the upload's state every this many bytes as well as at its end.
constexpr std::uint64_t k_save_every = 64ull << 20;

// ---- the request ---------------------------------------------------------------------------

struct Req {
    std::string method;
    unsigned version = 11;
    bool head = false;
    bool body_done = true;  // no body, or it has been read
    bool chunked = false;
    std::optional<std::uint64_t> content_length;
    bool expect_continue = false;
    std::string content_type;
    const http::request_header<>* h = nullptr;
    std::string_view header(std::string_view name) const { return sv((*h)[bsv(name)]); }
    bool has(std::string_view name) const { return h->find(bsv(name)) != h->end(); }
};

// Reads a request body into caller buffers: raw reads for Content-Length
// (bytes that came with the header first), Beast's parser for chunked.
class BodyReader {
  public:
    BodyReader(Exchange& x, Req& rq, std::chrono::milliseconds timeout)
        : m_x(x), m_rq(rq), m_timeout(timeout) {
        if (rq.chunked) {
            m_bp.emplace(std::move(x.parser));
            m_bp->body_limit(std::numeric_limits<std::uint64_t>::max());
        } else {
            m_left = rq.body_done ? 0 : rq.content_length.value_or(0);
        }
    }
    bool done() const { return m_bp ? m_bp->is_done() : m_left == 0; }
    // Fills up to `cap` bytes; returns how many (0 only at the end or on error).
    awaitable<std::size_t> read(char* out, std::size_t cap, boost::system::error_code& ec) {
        std::size_t n = 0;
        if (m_bp) {
            while (n < cap && !m_bp->is_done()) {
                m_bp->get().body().data = out + n;
                m_bp->get().body().size = cap - n;
                m_x.stream.expires_after(m_timeout);
                co_await http::async_read(m_x.stream, m_x.buffer, *m_bp,
                                          asio::redirect_error(use_awaitable, ec));
                if (ec == http::error::need_buffer) ec = {};
                n = cap - m_bp->get().body().size;
                if (ec) break;
            }
            if (m_bp->is_done()) m_rq.body_done = true;
            co_return n;
        }
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cap, m_left));
        if (want > 0 && m_x.buffer.size() > 0) {
            std::size_t take = std::min(want, m_x.buffer.size());
            std::memcpy(out, m_x.buffer.data().data(), take);
            m_x.buffer.consume(take);
            n = take;
        }
        while (n < want && !ec) {
            m_x.stream.expires_after(m_timeout);
            n += co_await m_x.stream.async_read_some(asio::buffer(out + n, want - n),
                                                     asio::redirect_error(use_awaitable, ec));
        }
        m_left -= n;
        if (m_left == 0) m_rq.body_done = true;
        co_return n;
    }

  private:
    Exchange& m_x;
    Req& m_rq;
    std::chrono::milliseconds m_timeout;
    std::uint64_t m_left = 0;
    std::optional<http::request_parser<http::buffer_body>> m_bp;
};

// Renames an upload's finished data file into the mount where its metadata
// says, on the pool (commit_staged fsyncs), against the upload's reservation.
// (Callers pass named objects: g++ 12 may end a temporary in a co_await early.)
awaitable<ApiResult<PutResult>> commit_to_mount(ServerContext& ctx, Mount& m, TusUpload& u,
                                                const MountStore::StagedFile& f,
                                                const std::string& sha, std::uint64_t crc) {
    // The commit turns the upload's reservation (u.res, on the root) into usage.
    MountStore::CommitOptions o;
    o.rel = u.rel;
    o.sha256 = sha;
    o.crc64 = crc;
    o.mtime_ns = u.mtime_ns;
    o.overwrite = u.overwrite;
    std::optional<ApiResult<PutResult>> res;
    std::function<void()> job = [&] { res = ctx.mounts.commit_staged(m, f, o, &u.res); };
    co_await on_pool(ctx.pool, job);
    co_return std::move(*res);
}

struct PumpResult {
    bool connection_lost = false;
    std::optional<ApiError> error;
};

}  // namespace

// ---- the service ----------------------------------------------------------------------------

struct TusService::Impl {
    ServerContext& ctx;
    tus::UploadStore store;

    explicit Impl(ServerContext& c) : ctx(c), store(c.apps, c.mounts, c.options.upload_expiry) {}

    std::string expires_header(const TusUpload& u) const {
        std::int64_t at = u.touched_ms + store.expiry_ms();
        return http_date((at + 999) / 1000);
    }

    // A creation repeated with the key of upload u: 201 with u's Location
    // and where it stands, as a fresh creation answers (a body sent along is
    // not read: the connection closes after the answer).
    awaitable<bool> answer_existing(Exchange& x, Req& rq, TusUpload& u) {
        Response r;
        r.status = 201;
        r.headers.emplace_back("Location",
                               fmt::format("{}/apps/{}/uploads/{}", api::k_prefix, u.app, u.id));
        {
            std::lock_guard g(u.mu);
            r.headers.emplace_back(std::string(api::k_header_upload_offset),
                                   std::to_string(u.completed ? u.length : u.confirmed_prefix()));
            r.headers.emplace_back(std::string(api::k_header_upload_expires), expires_header(u));
        }
        co_return co_await reply(x, rq, r);
    }

    awaitable<bool> reply(Exchange& x, Req& rq, Response& r, bool close = false) {
        r.headers.emplace_back(std::string(api::k_header_tus_resumable),
                               std::string(api::k_tus_version));
        x.status = r.status;
        bool keep = x.keep_alive && rq.body_done && !close;
        co_return co_await send_response(x.stream, r, rq.version, keep, ctx.options.body_timeout,
                                         rq.head);
    }
    awaitable<bool> fail(Exchange& x, Req& rq, const ApiError& e) {
        Response r = error_response(e);
        if (e.kind == WireError::precondition_failed)
            r.headers.emplace_back(std::string(api::k_header_tus_version),
                                   std::string(api::k_tus_version));
        co_return co_await reply(x, rq, r);
    }

    // 409 when `rel` exists (unless overwrite) or cannot become a file.
    ApiResult<void> check_target(Mount& m, const std::string& rel, bool overwrite) {
        if (rel.empty()) return api_fail(WireError::bad_request, "the path is the mount's root");
        int fd = open_beneath_raw(m.dir.get(), rel, O_PATH | O_NOFOLLOW);
        if (fd >= 0) {
            UniqueFd f(fd);
            struct stat st {};
            ::fstat(fd, &st);
            if (S_ISDIR(st.st_mode))
                return api_fail(WireError::conflict,
                                fmt::format("'{}' is a folder; a file cannot replace it", rel));
            if (!overwrite)
                return api_fail(WireError::conflict,
                                fmt::format("'{}' exists already; set metadata overwrite=true to "
                                            "replace it",
                                            rel),
                                api::reason::exists);
            return {};
        }
        if (fd == -ENOENT) return {};
        return std::unexpected(errno_error(-fd, "checking", rel));
    }

    awaitable<bool> handle(Exchange& x);
    awaitable<bool> create(Exchange& x, Req& rq, Mount& m);
    awaitable<bool> create_final(Exchange& x, Req& rq, Mount& m, const tus::Concat& concat,
                                 const tus::Metadata& md);
    awaitable<bool> head(Exchange& x, Req& rq, const UploadPtr& u);
    awaitable<bool> patch(Exchange& x, Req& rq, Mount& m, const UploadPtr& u);
    awaitable<bool> terminate(Exchange& x, Req& rq, const UploadPtr& u);
    awaitable<bool> complete(Exchange& x, Req& rq, Mount& m, const UploadPtr& u);
    awaitable<PumpResult> pump(Exchange& x, Req& rq, const UploadPtr& u, std::size_t k,
                               std::uint64_t offset, const std::optional<tus::Checksum>& ck);
    awaitable<ApiResult<PutResult>> finish(Exchange& x, Mount& m, const UploadPtr& u,
                                           const std::optional<std::string>& expected,
                                           std::optional<std::uint64_t> expected_crc = {});
    ApiResult<void> start_patch_locked(TusUpload& u, std::uint64_t offset, std::size_t k);
    ApiResult<std::size_t> claim_part(const UploadPtr& u, std::uint64_t offset);
    void release_part(const UploadPtr& u, std::size_t k);
    ApiResult<void> record_commit(Mount& m, TusUpload& u, const std::string& sha);
    Response completed_response(int status, const TusUpload& u);
};

namespace {

// Upload-Checksum, when the request has one; a malformed one is a 400.
ApiResult<std::optional<tus::Checksum>> request_checksum(const Req& rq) {
    if (!rq.has(api::k_header_upload_checksum)) return std::nullopt;
    std::string err;
    auto ck = tus::parse_checksum(rq.header(api::k_header_upload_checksum), err);
    if (!ck) return api_fail(WireError::bad_request, err);
    return ck;
}

// A PATCH or a creation that completed its upload names the file it made.
void add_entry_headers(Response& r, const Entry& entry) {
    r.headers.emplace_back("ETag", api::etag_for(*entry.sha256));
    r.headers.emplace_back(std::string(api::k_header_entry), dump_json(json(entry), -1, true));
}

struct ParsedMeta {
    std::string rel;
    std::optional<std::string> sha256;
    std::optional<std::int64_t> mtime_ns;
    bool overwrite = false;
};

ApiResult<ParsedMeta> interpret_metadata(const tus::Metadata& md, bool need_path) {
    ParsedMeta p;
    const std::string* path = md.find("path");
    if (!path) path = md.find("filename");
    if (path) {
        auto rel = normalize_remote_path(*path);
        if (!rel) return api_fail(WireError::bad_request, "metadata path: " + rel.error().message);
        p.rel = *rel;
    }
    if (need_path && p.rel.empty())
        return api_fail(WireError::bad_request,
                        "Upload-Metadata needs 'path' (or 'filename'): where the file goes in the "
                        "mount");
    if (auto s = md.find("sha256")) {
        std::string l = ascii_lower(*s);
        if (l.size() != 64 || l.find_first_not_of("0123456789abcdef") != std::string::npos)
            return api_fail(WireError::bad_request, "metadata sha256 must be 64 hex digits");
        p.sha256 = l;
    }
    if (auto s = md.find("mtime_ns")) {
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
        if (s->empty() || ec != std::errc() || ptr != s->data() + s->size())
            return api_fail(WireError::bad_request, "metadata mtime_ns must be an integer");
        p.mtime_ns = v;
    }
    if (auto s = md.find("overwrite")) {
        auto b = parse_bool(*s);
        if (!b) return api_fail(WireError::bad_request, "metadata overwrite must be true or false");
        p.overwrite = *b;
    }
    return p;
}

}  // namespace

Response TusService::Impl::completed_response(int status, const TusUpload& u) {
    Response r = json_response(status, u.entry);
    if (u.entry.contains("sha256"))
        r.headers.emplace_back("ETag", api::etag_for(u.entry["sha256"].get<std::string>()));
    return r;
}

awaitable<bool> TusService::Impl::handle(Exchange& x) {
    const auto& h = x.parser.get();
    Req rq;
    rq.h = &h;
    rq.method = std::string(sv(h.method_string()));
    rq.version = h.version();
    rq.head = h.method() == http::verb::head;
    rq.body_done = x.parser.is_done();
    rq.chunked = h.chunked();
    if (h.find(http::field::content_length) != h.end())
        rq.content_length = x.parser.content_length().value_or(0);
    rq.expect_continue = beast::iequals(h[http::field::expect], "100-continue");
    rq.content_type = std::string(sv(h[http::field::content_type]));

    if (rq.method == "OPTIONS") {
        Response r;
        r.status = 204;
        r.headers.emplace_back(std::string(api::k_header_tus_version),
                               std::string(api::k_tus_version));
        r.headers.emplace_back(std::string(api::k_header_tus_extension),
                               std::string(api::k_tus_extensions));
        r.headers.emplace_back(std::string(api::k_header_tus_checksum_algorithm),
                               std::string(tus::k_checksum_algorithms));
        r.headers.emplace_back(std::string(api::k_header_tus_max_size),
                               std::to_string(ctx.mounts.quota()));
        co_return co_await reply(x, rq, r);
    }
    if (rq.header(api::k_header_tus_resumable) != api::k_tus_version) {
        ApiError e{WireError::precondition_failed,
                   fmt::format("tus requests need 'Tus-Resumable: {}'", api::k_tus_version),
                   {}};
        co_return co_await fail(x, rq, e);
    }
    const Route& route = x.route;
    auto mount = ctx.api.open_mount(route.app, x.caller);
    if (!mount) co_return co_await fail(x, rq, mount.error());

    if (route.id == RouteId::uploads) co_return co_await create(x, rq, *mount);
    auto u = store.find(route.app, route.upload_id, x.caller.username);
    if (!u && u.error().kind == WireError::gone && rq.method == "DELETE") {
        Response r;  // terminated (or expired) already: a retried DELETE succeeds
        r.status = 204;
        co_return co_await reply(x, rq, r);
    }
    if (!u) co_return co_await fail(x, rq, u.error());
    if (route.id == RouteId::upload_complete) co_return co_await complete(x, rq, *mount, *u);
    if (rq.method == "HEAD") co_return co_await head(x, rq, *u);
    if (rq.method == "PATCH") co_return co_await patch(x, rq, *mount, *u);
    if (rq.method == "DELETE") co_return co_await terminate(x, rq, *u);
    ApiError e{WireError::method_not_allowed, "method not allowed", {}};
    co_return co_await fail(x, rq, e);
}

awaitable<bool> TusService::Impl::head(Exchange& x, Req& rq, const UploadPtr& u) {
    Response r;
    r.status = 200;
    r.headers.emplace_back("Cache-Control", "no-store");
    std::unique_lock g(u->mu);
    r.headers.emplace_back(std::string(api::k_header_upload_offset),
                           std::to_string(u->completed ? u->length : u->confirmed_prefix()));
    r.headers.emplace_back(std::string(api::k_header_upload_length), std::to_string(u->length));
    if (!u->metadata_raw.empty())
        r.headers.emplace_back(std::string(api::k_header_upload_metadata), u->metadata_raw);
    r.headers.emplace_back(std::string(api::k_header_upload_expires), expires_header(*u));
    if (u->concat == tus::Concat::Kind::partial)
        r.headers.emplace_back(std::string(api::k_header_upload_concat), "partial");
    if (u->concat == tus::Concat::Kind::final)
        r.headers.emplace_back(std::string(api::k_header_upload_concat), u->concat_header);
    if (u->parts_mode) {
        r.headers.emplace_back(std::string(api::k_header_upload_parts),
                               std::to_string(u->part_size));
        r.headers.emplace_back(
            std::string(api::k_header_upload_parts_done),
            u->completed
                ? tus::format_ranges_if(u->parts.size(), [](std::uint64_t) { return true; })
                : u->done_ranges());
    }
    if (u->completed) {
        r.headers.emplace_back(std::string(api::k_header_entry), dump_json(u->entry, -1, true));
        if (u->entry.contains("sha256"))
            r.headers.emplace_back("ETag", api::etag_for(u->entry["sha256"].get<std::string>()));
    }
    g.unlock();
    co_return co_await reply(x, rq, r);
}

awaitable<bool> TusService::Impl::terminate(Exchange& x, Req& rq, const UploadPtr& u) {
    bool busy = false;
    {
        std::lock_guard g(u->mu);
        busy = u->committing;
    }
    busy = busy || foreign_commit_busy(*u);  // being committed by another replica
    if (busy) {
        ApiError e{WireError::conflict, "the upload is being completed", {}};
        co_return co_await fail(x, rq, e);
    }
    store.discard(u, true);
    Response r;
    r.status = 204;
    co_return co_await reply(x, rq, r);
}

// Writes the commit record (see the top of the file) and fsyncs it: from here
// on a restart can tell whether the rename happened.
ApiResult<void> TusService::Impl::record_commit(Mount& m, TusUpload& u, const std::string& sha) {
    struct stat st {};
    if (::fstat(u.data.get(), &st) != 0)
        return std::unexpected(errno_error(errno, "reading the staged upload", u.rel));
    TusUpload::CommitRecord rec;
    rec.sha256 = sha;
    rec.dev = static_cast<std::uint64_t>(st.st_dev);
    rec.ino = static_cast<std::uint64_t>(st.st_ino);
    int fd = open_beneath_raw(m.dir.get(), u.rel, O_PATH | O_NOFOLLOW);
    if (fd >= 0) ::close(fd);
    rec.target_existed = fd >= 0;
    {
        std::lock_guard g(u.mu);
        u.commit_record = rec;
    }
    if (!save(u, true)) {
        int err = errno;
        std::lock_guard g(u.mu);
        u.commit_record.reset();
        return std::unexpected(errno_error(err ? err : EIO, "recording the commit of", u.rel));
    }
    return {};
}

namespace {
// The part a PATCH at `offset` writes.
std::size_t part_of(const TusUpload& u, std::uint64_t offset) {
    if (!u.parts_mode || u.parts.empty()) return 0;
    return std::min<std::size_t>(offset / u.part_size, u.parts.size() - 1);  // the end of the last
}
}  // namespace

// Claims the part a PATCH at `offset` writes: in this process (`active`)
// and across replicas (its OFD lock), then reads the state on the disk, so
// the offset is checked against what every replica wrote. 409 while another
// PATCH writes the part, or the upload is being committed, wherever.
ApiResult<std::size_t> TusService::Impl::claim_part(const UploadPtr& u, std::uint64_t offset) {
    std::size_t k = 0;
    {
        std::lock_guard g(u->mu);
        if (u->parts.empty()) return k;
        k = part_of(*u, offset);
        if (u->parts[k].active)
            return api_fail(WireError::conflict,
                            u->parts_mode ? fmt::format("another PATCH is writing part {}", k)
                                          : std::string("another PATCH is writing this upload"));
        u->parts[k].active = true;
    }
    if (!ofd_lock(u->lock.get(), F_WRLCK, tus::part_lock(u->lock_base, k), 1, false)) {
        std::lock_guard g(u->mu);
        u->parts[k].active = false;
        return api_fail(WireError::conflict,
                        u->parts_mode
                            ? fmt::format("another PATCH is writing part {} (on another server)", k)
                            : std::string("another PATCH is writing this upload (on another "
                                          "server)"));
    }
    if (foreign_commit_busy(*u)) {
        release_part(u, k);
        return api_fail(WireError::conflict, "the upload is being completed");
    }
    if (!refresh(*u)) {
        release_part(u, k);
        return api_fail(WireError::gone, "the upload was terminated");
    }
    return k;
}

void TusService::Impl::release_part(const UploadPtr& u, std::size_t k) {
    if (u->parts.empty()) return;
    ofd_unlock(u->lock.get(), tus::part_lock(u->lock_base, k), 1);
    std::lock_guard g(u->mu);
    u->parts[k].active = false;
}

// Checks a PATCH's offset against the upload (whose part k the caller claimed).
ApiResult<void> TusService::Impl::start_patch_locked(TusUpload& u, std::uint64_t offset,
                                                     std::size_t k) {
    if (u.dropped) return api_fail(WireError::gone, "the upload was terminated");
    if (u.concat == tus::Concat::Kind::final)
        return api_fail(WireError::forbidden, "a final upload cannot be patched");
    if (u.completed) return api_fail(WireError::conflict, "the upload is complete already");
    if (u.committing || u.commit_record)
        return api_fail(WireError::conflict, "the upload is being completed");
    if (u.parts.empty()) {
        if (offset != 0)
            return api_fail(
                WireError::conflict,
                fmt::format("Upload-Offset {} does not match the upload's offset 0", offset));
        return {};
    }
    if (!u.parts_mode) {
        if (offset != u.parts[0].confirmed)
            return api_fail(WireError::conflict,
                            fmt::format("Upload-Offset {} does not match the upload's offset {}",
                                        offset, u.parts[0].confirmed));
    } else {
        std::uint64_t at = u.pbegin(k) + u.parts[k].confirmed;
        if (offset != u.pbegin(k) && offset != at)
            return api_fail(WireError::conflict,
                            fmt::format("Upload-Offset {} is neither the start of part {} ({}) "
                                        "nor where its received bytes end ({})",
                                        offset, k, u.pbegin(k), at));
    }
    if (u.parts_mode && offset == u.pbegin(k) && u.parts[k].confirmed > 0) rollback_locked(u, k, 0);
    u.touched_ms = now_ms();
    return {};
}

awaitable<PumpResult> TusService::Impl::pump(Exchange& x, Req& rq, const UploadPtr& u,
                                             std::size_t k, std::uint64_t offset,
                                             const std::optional<tus::Checksum>& ck) {
    PumpResult out;
    std::uint64_t start_conf = 0, part_end = 0, part_begin = 0;
    {
        std::lock_guard g(u->mu);
        if (!u->parts.empty()) {
            start_conf = u->parts[k].confirmed;
            part_end = u->pend(k);
            part_begin = u->pbegin(k);
        }
    }
    boost::system::error_code ec;
    if (!rq.body_done && rq.expect_continue) {
        http::response<http::empty_body> cont{http::status::continue_, rq.version};
        x.stream.expires_after(ctx.options.body_timeout);
        co_await http::async_write(x.stream, cont, asio::redirect_error(use_awaitable, ec));
    }
    auto& pool = ctx.pool;
    BufferPool::Lease buf_a(store.buffers(), rq.body_done ? nullptr : store.buffers()->get());
    BufferPool::Lease buf_b(store.buffers(), rq.body_done ? nullptr : store.buffers()->get());
    char* bufs[2] = {buf_a.data(), buf_b.data()};
    int cur = 0;
    std::optional<tus::Digest> patch_hash;
    if (ck) patch_hash.emplace(ck->algo);
    int write_errno = 0;
    // Bytes written through the page cache (unaligned heads and tails, file
    // systems without O_DIRECT) are flushed before they are confirmed: on a
    // shared file system (NFS) another replica reads them only once they
    // left this machine's cache. O_DIRECT writes have left it already.
    std::atomic<bool> cached{false};
    // After what its jobs use (the buffers, patch_hash, write_errno, cached).
    JobGroup jobs(x.stream.get_executor());
    std::function<void()> flush_job = [&] { ::fdatasync(u->data.get()); };
    std::uint64_t pos = offset, since_save = 0;
    BodyReader reader(x, rq, ctx.options.body_timeout);

    while (!ec && !reader.done()) {
        std::size_t n = co_await reader.read(bufs[cur], k_chunk, ec);
        if (jobs.busy()) co_await jobs.wait();
        if (write_errno) break;
        bool overrun = false;
        if (pos + n > part_end) {
            n = static_cast<std::size_t>(part_end - pos);
            overrun = true;
        }
        if (n > 0) {
            bool inline_hash = false;
            std::uint64_t gen = 0;
            {
                std::lock_guard g(u->mu);
                if (u->dropped) {
                    out.error = ApiError{WireError::gone, "the upload was terminated", {}};
                    break;
                }
                if (!u->hash_busy && !u->committing && u->hashed == pos) {
                    u->hash_busy = true;
                    inline_hash = true;
                    gen = u->hash_gen;
                }
            }
            const char* data = bufs[cur];
            std::vector<std::function<void()>> fns;
            fns.push_back(
                [u, &pool, data, n, pos, k, part_begin, inline_hash, &write_errno, &cached] {
                    int err = 0;
                    bool direct = write_at(*u, data, n, pos, err);
                    if (err) {
                        write_errno = err;
                        return;
                    }
                    if (!direct) cached = true;
                    // Bytes beyond the hash: keep a copy for it while the budget allows.
                    TusUpload::Ahead copy;
                    bool near = false;
                    if (!inline_hash && u->buffers) {
                        std::lock_guard g(u->mu);
                        near = pos >= u->hashed && pos < u->hashed + k_ahead_window;
                    }
                    if (near && g_ahead_total.fetch_add(k_chunk) + k_chunk <= k_ahead_total_max) {
                        copy.buf = u->buffers->get();
                        copy.n = n;
                        std::memcpy(copy.buf.get(), data, n);
                    } else if (near) {
                        g_ahead_total -= k_chunk;
                    }
                    // Start the write-back of each finished 8 MiB window of cached
                    // bytes now, so the fsync at completion has little left to do.
                    std::uint64_t window = pos + n - (pos + n) % k_writeback_window;
                    if (!direct && window > pos && window >= k_writeback_window)
                        ::sync_file_range(
                            u->data.get(), static_cast<off_t>(window - k_writeback_window),
                            static_cast<off_t>(k_writeback_window), SYNC_FILE_RANGE_WRITE);
                    std::lock_guard g(u->mu);
                    if (copy.buf) {
                        if (pos >= u->hashed && !u->dropped && !u->committing &&
                            !u->ahead.contains(pos)) {
                            u->ahead.emplace(pos, std::move(copy));
                        } else {
                            g_ahead_total -= k_chunk;
                            u->buffers->put(std::move(copy.buf));
                        }
                    }
                    u->parts[k].filled = pos + n - part_begin;
                    maybe_catch_up_locked(u, pool);
                });
            if (patch_hash) fns.push_back([&patch_hash, data, n] { patch_hash->update(data, n); });
            if (inline_hash)
                fns.push_back([u, &pool, data, n, pos, gen] {
                    hash_feed(*u, pos, data, n);
                    u->hashed_inline += n;
                    std::lock_guard g(u->mu);
                    release_hasher_locked(*u, gen, pos + n);
                    maybe_catch_up_locked(u, pool);
                });
            jobs.start(pool, std::move(fns));
            pos += n;
            since_save += n;
            cur ^= 1;
        }
        if (overrun) {
            out.error = ApiError{WireError::bad_request,
                                 u->parts_mode ? "the PATCH runs past the end of its part"
                                               : "the PATCH runs past Upload-Length",
                                 {}};
            break;
        }
        if (since_save >= k_save_every && !ec) {
            if (jobs.busy()) co_await jobs.wait();
            if (write_errno) break;
            if (!ck && cached.exchange(false)) co_await on_pool(pool, flush_job);
            {
                std::lock_guard g(u->mu);
                if (!ck) u->parts[k].confirmed = u->parts[k].filled;
                u->touched_ms = now_ms();
            }
            save(*u);
            since_save = 0;
        }
    }
    if (jobs.busy()) co_await jobs.wait();
    if (write_errno && !out.error) out.error = errno_error(write_errno, "writing upload", u->rel);
    if (ec && !out.error && is_framing_error(ec))
        out.error = ApiError{WireError::bad_request, "malformed chunked body: " + ec.message(), {}};
    if (ec && !out.error) out.connection_lost = true;

    bool keep = true;
    if (out.error || out.connection_lost) {
        keep = !ck;
    } else if (ck) {
        std::string got = patch_hash->finish();
        keep = got == ck->digest;
        if (!keep)
            out.error = ApiError{
                WireError::checksum_mismatch,
                fmt::format("the PATCH body's {} is {}, but Upload-Checksum says {}; nothing of it "
                            "was kept",
                            tus::algo_name(ck->algo), tus::hex(got), tus::hex(ck->digest)),
                {}};
    }
    if (keep && cached.exchange(false)) co_await on_pool(pool, flush_job);
    {
        std::lock_guard g(u->mu);
        if (!u->parts.empty()) {
            if (keep)
                u->parts[k].confirmed = u->parts[k].filled;
            else
                rollback_locked(*u, k, start_conf);
        }
        u->touched_ms = now_ms();
        maybe_catch_up_locked(u, pool);
    }
    // Saved before the part is released: another replica's next PATCH of it
    // reads where this one ended.
    if (!save(*u) && !out.error && !out.connection_lost) {
        std::lock_guard g(u->mu);
        if (u->dropped) out.error = ApiError{WireError::gone, "the upload was terminated", {}};
    }
    release_part(u, k);
    co_return out;
}

awaitable<ApiResult<PutResult>> TusService::Impl::finish(
    Exchange& x, Mount& m, const UploadPtr& u, const std::optional<std::string>& expected,
    std::optional<std::uint64_t> expected_crc) {
    {
        std::lock_guard g(u->mu);
        if (u->dropped) co_return api_fail(WireError::gone, "the upload was terminated");
        if (u->completed) {
            PutResult r;
            r.entry = u->entry.get<Entry>();
            r.created = u->created;
            co_return r;
        }
        if (u->committing) co_return api_fail(WireError::conflict, "the upload is being completed");
        if (u->any_active())
            co_return api_fail(WireError::conflict, "a PATCH to this upload is still running");
        if (!u->all_confirmed()) {
            auto missing = u->missing_ranges();
            co_return std::unexpected(
                ApiError{WireError::conflict,
                         missing.empty()
                             ? fmt::format("the parts received do not cover the upload's {} bytes",
                                           u->length)
                         : u->parts_mode ? fmt::format("parts {} are not complete", missing)
                                         : fmt::format("the upload is at {} of {} bytes",
                                                       u->confirmed_prefix(), u->length),
                         {{"missing_parts", missing}}});
        }
        u->committing = true;
    }
    // Across replicas: the commit lock (held until the end of the commit; a
    // replica that dies drops it, and the next one to load the upload
    // resolves its commit record), no PATCH running anywhere, and the state
    // on the disk checked again.
    tus::OfdLock commit_lock(u->lock.get(), F_WRLCK, u->lock_base + tus::k_lock_commit, 1, false);
    {
        std::optional<ApiError> busy;
        if (!commit_lock.held())
            busy = ApiError{WireError::conflict, "the upload is being completed", {}};
        else if (foreign_parts_busy(*u))
            busy = ApiError{WireError::conflict, "a PATCH to this upload is still running", {}};
        else if (!refresh(*u))
            busy = ApiError{WireError::gone, "the upload was terminated", {}};
        std::lock_guard g(u->mu);
        if (!busy && u->completed) {  // by another replica, meanwhile
            u->committing = false;
            PutResult r;
            r.entry = u->entry.get<Entry>();
            r.created = u->created;
            co_return r;
        }
        if (!busy && !u->all_confirmed())
            busy = ApiError{WireError::conflict,
                            fmt::format("parts {} are not complete", u->missing_ranges()),
                            {{"missing_parts", u->missing_ranges()}}};
        if (busy) {
            u->committing = false;
            co_return std::unexpected(*busy);
        }
    }
    // Take the hasher from whoever holds it, then finish the hash on the pool.
    auto t0 = std::chrono::steady_clock::now();
    asio::steady_timer t(x.stream.get_executor());
    std::uint64_t gen = 0;
    while (true) {
        {
            std::lock_guard g(u->mu);
            if (!u->hash_busy) {
                u->hash_busy = true;
                gen = u->hash_gen;
                break;
            }
        }
        t.expires_after(std::chrono::milliseconds(2));
        boost::system::error_code ec;
        co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    std::string sha;
    std::uint64_t crc = 0;
    bool read_ok = true;
    std::uint64_t from = u->hashed;  // stable: we hold the hasher
    std::function<void()> job1_ = [&] {
        read_ok = hash_range(*u, from, u->length);
        if (read_ok) {
            tus::Digest copy = u->file_hash;
            crc = copy.crc64();  // the same pass as the SHA-256
            sha = tus::hex(copy.finish());
        }
    };
    co_await on_pool(ctx.pool, job1_);
    auto t1 = std::chrono::steady_clock::now();
    {
        std::lock_guard g(u->mu);
        release_hasher_locked(*u, gen, read_ok ? u->length : from);
        if (!read_ok) {
            u->file_hash.reset();
            u->hashed = 0;
            u->hash_marks.clear();
            ++u->hash_gen;
            tus::note_hash_locked(*u);
            u->committing = false;
        }
    }
    if (!read_ok)
        co_return api_fail(WireError::internal, fmt::format("reading the staged upload failed: {}",
                                                            std::strerror(errno)));
    if (expected_crc && *expected_crc != crc) {
        {
            std::lock_guard g(u->mu);
            u->committing = false;
        }
        store.discard(u, true);
        co_return std::unexpected(ApiError{
            WireError::checksum_mismatch,
            fmt::format("the uploaded file's CRC-64 is {}, but the client's is {}: bytes were "
                        "damaged on the way; the upload was discarded",
                        crc64_hex(crc), crc64_hex(*expected_crc)),
            {{"received_crc64", crc64_hex(crc)}}});
    }
    if (expected && *expected != sha) {
        {
            std::lock_guard g(u->mu);
            u->committing = false;
        }
        store.discard(u, true);
        co_return std::unexpected(ApiError{
            WireError::checksum_mismatch,
            fmt::format("the uploaded file's SHA-256 is {}, but {} was expected; the upload was "
                        "discarded",
                        sha, *expected),
            {{"received_sha256", sha}}});
    }
    ApiResult<void> recorded;
    std::function<void()> job2_ = [&] { recorded = record_commit(m, *u, sha); };
    co_await on_pool(ctx.pool, job2_);
    if (!recorded) {
        std::lock_guard g(u->mu);
        u->committing = false;
        co_return std::unexpected(recorded.error());
    }
    test_crash_point("before_rename");  // test builds: DE_SERVER_TEST_CRASH (fs.hpp)
    MountStore::StagedFile staged{u->dir.get(), u->id + ".data", u->data.get(), {}};
    auto res = co_await commit_to_mount(ctx, m, *u, staged, sha, crc);
    if (res) test_crash_point("after_rename");
    bool discard = false;
    {
        std::lock_guard g(u->mu);
        u->committing = false;
        u->commit_record.reset();
        if (!res) {
            // Released when the upload was dropped during the commit.
            if (u->dropped) u->res.commit(0);
            discard = target_refused(res.error());
        }
    }
    if (!res) {
        if (discard) {
            store.discard(u, true);
            ApiError e = res.error();
            e.message += "; the upload was discarded";
            co_return std::unexpected(e);
        }
        save(*u);  // without the commit record
        co_return std::unexpected(res.error());
    }
    {
        std::lock_guard g(u->mu);
        u->completed = true;
        u->entry = json(res->entry);
        u->created = res->created;
        u->touched_ms = now_ms();
        u->data.reset();  // renamed into the mount; nothing reads it any more
        u->direct.reset();
        u->drop_ahead_locked(0, UINT64_MAX);
    }
    save(*u);
    if (u->length >= (64u << 20)) {
        // Big uploads: what completion cost (the hash tail left, then fsync + rename).
        auto ms = [](auto d) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
        };
        fmt::print(stderr,
                   "tus upload of {} bytes completed: {} bytes left to hash ({} ms), fsync and "
                   "rename {} ms; hashed on arrival {}, from memory {}, read back {}\n",
                   u->length, u->length - from, ms(t1 - t0),
                   ms(std::chrono::steady_clock::now() - t1), u->hashed_inline.load(),
                   u->hashed_ahead.load(), u->hashed_file.load());
    }
    co_return std::move(*res);
}

awaitable<bool> TusService::Impl::patch(Exchange& x, Req& rq, Mount& m, const UploadPtr& u) {
    if (media_type(rq.content_type) != api::k_tus_content_type) {
        ApiError e{WireError::unsupported_media,
                   fmt::format("a PATCH needs Content-Type: {}", api::k_tus_content_type),
                   {}};
        co_return co_await fail(x, rq, e);
    }
    auto off = parse_decimal_u64(rq.header(api::k_header_upload_offset));
    if (!off) {
        ApiError e{WireError::bad_request, "a PATCH needs Upload-Offset: a byte count", {}};
        co_return co_await fail(x, rq, e);
    }
    auto checksum = request_checksum(rq);
    if (!checksum) co_return co_await fail(x, rq, checksum.error());
    std::optional<tus::Checksum> ck = *checksum;
    auto claimed = claim_part(u, *off);
    if (!claimed) co_return co_await fail(x, rq, claimed.error());
    const std::size_t k = *claimed;
    ApiResult<void> started;
    {
        std::lock_guard g(u->mu);
        auto& s = started;
        s = start_patch_locked(*u, *off, k);
        // (Compared without adding: offset + Content-Length could wrap.)
        if (s && rq.content_length && !u->parts.empty() &&
            (*off > u->pend(k) || *rq.content_length > u->pend(k) - *off)) {
            std::uint64_t end = u->pend(k);
            s = api_fail(
                WireError::bad_request,
                fmt::format("the PATCH ({} bytes at {}) runs past {} ({})", *rq.content_length,
                            *off, u->parts_mode ? "the end of its part" : "Upload-Length", end));
        }
        if (s && u->parts.empty() && rq.content_length && *rq.content_length > 0)
            s = api_fail(WireError::bad_request, "the PATCH runs past Upload-Length (0)");
    }
    if (!started) {
        release_part(u, k);
        co_return co_await fail(x, rq, started.error());
    }
    auto pr = co_await pump(x, rq, u, k, *off, ck);
    if (pr.connection_lost) {
        x.status = 0;
        co_return false;
    }
    if (pr.error) co_return co_await fail(x, rq, *pr.error);

    Response r;
    r.status = 204;
    bool complete_now = false;
    {
        std::lock_guard g(u->mu);
        std::uint64_t at = u->parts.empty() ? 0 : u->pbegin(k) + u->parts[k].confirmed;
        r.headers.emplace_back(std::string(api::k_header_upload_offset), std::to_string(at));
        r.headers.emplace_back(std::string(api::k_header_upload_expires), expires_header(*u));
        complete_now =
            !u->parts_mode && u->concat != tus::Concat::Kind::partial && u->all_confirmed();
    }
    if (complete_now) {
        auto done = co_await finish(x, m, u, u->sha256);
        if (!done) co_return co_await fail(x, rq, done.error());
        add_entry_headers(r, done->entry);
    }
    co_return co_await reply(x, rq, r);
}

awaitable<bool> TusService::Impl::create(Exchange& x, Req& rq, Mount& m) {
    if (rq.has(api::k_header_upload_defer_length)) {
        ApiError e{WireError::bad_request, "Upload-Defer-Length is not supported", {}};
        co_return co_await fail(x, rq, e);
    }
    tus::Concat concat;
    if (rq.has(api::k_header_upload_concat)) {
        auto c = tus::parse_concat(rq.header(api::k_header_upload_concat));
        if (!c) {
            ApiError e{WireError::bad_request,
                       "Upload-Concat must be 'partial' or 'final;URL URL ...'",
                       {}};
            co_return co_await fail(x, rq, e);
        }
        concat = *c;
    }
    // Idempotent creation: a creation repeated with its key (the answer was
    // lost, or the client died before it journaled the Location) gets the
    // upload the first one made, so no orphan keeps a reservation.
    std::string creation_key(rq.header(api::k_header_idempotency_key));
    if (!creation_key.empty()) {
        bool valid = creation_key.size() <= 128 &&
                     std::all_of(creation_key.begin(), creation_key.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                     });
        if (!valid) {
            ApiError e{WireError::bad_request,
                       "Idempotency-Key must be 1 to 128 of A-Z, a-z, 0-9, '-' and '_'",
                       {}};
            co_return co_await fail(x, rq, e);
        }
        if (auto existing = store.find_by_key(m.app, x.caller.username, creation_key))
            co_return co_await answer_existing(x, rq, **existing);
    }
    auto md = tus::parse_metadata(rq.header(api::k_header_upload_metadata));
    if (!md) {
        ApiError e{WireError::bad_request,
                   "malformed Upload-Metadata (comma-separated 'key base64value' pairs)",
                   {}};
        co_return co_await fail(x, rq, e);
    }
    if (concat.kind == tus::Concat::Kind::final)
        co_return co_await create_final(x, rq, m, concat, *md);
    bool partial = concat.kind == tus::Concat::Kind::partial;
    auto len = parse_decimal_u64(rq.header(api::k_header_upload_length));
    if (!len) {
        ApiError e{WireError::bad_request, "a creation needs Upload-Length: a byte count", {}};
        co_return co_await fail(x, rq, e);
    }
    if (*len > ctx.mounts.quota()) {
        ApiError e{WireError::too_large,
                   fmt::format("Upload-Length {} is larger than the quota (Tus-Max-Size {})", *len,
                               ctx.mounts.quota()),
                   {}};
        co_return co_await fail(x, rq, e);
    }
    std::uint64_t part_size = 0;
    if (rq.has(api::k_header_upload_parts)) {
        auto p = parse_decimal_u64(rq.header(api::k_header_upload_parts));
        if (!p || *p < api::k_tus_min_part || *p > api::k_tus_max_part || partial) {
            ApiError e{WireError::bad_request,
                       partial ? "Upload-Parts cannot be combined with Upload-Concat"
                               : "Upload-Parts must be a part size from 1048576 to 1099511627776 "
                                 "bytes",
                       {}};
            co_return co_await fail(x, rq, e);
        }
        part_size = *p;
    }
    auto meta = interpret_metadata(*md, !partial);
    if (!meta) co_return co_await fail(x, rq, meta.error());
    bool has_body = !rq.body_done;
    std::optional<tus::Checksum> ck;
    if (has_body) {
        if (media_type(rq.content_type) != api::k_tus_content_type) {
            ApiError e{WireError::unsupported_media,
                       fmt::format("a creation with a body needs Content-Type: {}",
                                   api::k_tus_content_type),
                       {}};
            co_return co_await fail(x, rq, e);
        }
        auto checksum = request_checksum(rq);
        if (!checksum) co_return co_await fail(x, rq, checksum.error());
        ck = *checksum;
        std::uint64_t first = part_size ? std::min(part_size, *len) : *len;
        if (rq.content_length && *rq.content_length > first) {
            ApiError e{WireError::bad_request, "the body runs past Upload-Length", {}};
            co_return co_await fail(x, rq, e);
        }
    }
    if (!partial)
        if (auto t = check_target(m, meta->rel, meta->overwrite); !t)
            co_return co_await fail(x, rq, t.error());
    auto app = ctx.apps.get(x.route.app, x.caller.username);
    if (!app) co_return co_await fail(x, rq, app.error());
    // The upload's reservation is its own, on the root (MountStore::reserve_upload):
    // whichever replica continues, completes, terminates or expires it ends it.
    std::string id = tus::new_upload_id();
    auto res = ctx.mounts.reserve_upload(m.app, m.dir.get(), *len, id);
    if (!res) co_return co_await fail(x, rq, res.error());

    auto dir_path = store.uploads_dir(m.app);
    ::mkdir(dir_path.c_str(), 0700);
    int dfd = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        ApiError fe_ = errno_error(errno, "opening the uploads folder", "");
        co_return co_await fail(x, rq, fe_);
    }
    auto u = std::make_shared<TusUpload>();
    u->buffers = store.buffers();
    u->dir = UniqueFd(dfd);
    u->id = id;
    u->app = m.app;
    u->owner = x.caller.username;
    u->app_created_at = app->created_at;
    u->length = *len;
    u->parts_mode = part_size != 0;
    u->part_size = part_size;
    u->metadata_raw = std::string(rq.header(api::k_header_upload_metadata));
    u->creation_key = creation_key;
    u->rel = partial ? std::string() : meta->rel;
    u->sha256 = meta->sha256;
    u->mtime_ns = meta->mtime_ns;
    u->overwrite = meta->overwrite;
    u->concat = concat.kind;
    u->touched_ms = now_ms();
    u->used_ms = u->touched_ms;
    u->res = std::move(*res);
    u->lock = store.open_lock(m.app);
    u->lock_base = tus::lock_base(u->id);
    init_parts(*u);
    if (!u->lock) {
        ApiError fe_ = errno_error(errno, "opening the uploads' lock file", "");
        co_return co_await fail(x, rq, fe_);
    }
    // The data file, then the state: a state file always has its data, so
    // another replica may load the upload as soon as it sees the state. The
    // commit lock, held until the upload is recorded, tells a sweep that the
    // data without state is a creation under way. Until the upload is in the
    // store, any failure (or exception) removes both, and the reservation
    // goes with u.
    std::optional<tus::OfdLock> creating;
    creating.emplace(u->lock.get(), F_WRLCK, u->lock_base + tus::k_lock_commit, 1, false);
    struct Undo {
        TusUpload& u;
        bool keep = false;
        ~Undo() {
            if (!keep) remove_files(u);
        }
    } undo{*u};
    // 0644 like a PUT's file: the uploads folder (0700) hides it until the rename.
    int fd = ::openat(dfd, (u->id + ".data").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        ApiError fe_ = errno_error(errno, "creating the upload", "");
        co_return co_await fail(x, rq, fe_);
    }
    u->data = UniqueFd(fd);
    u->direct = open_direct(dfd, u->id + ".data");
    if (*len > 0 && ::fallocate(fd, 0, 0, static_cast<off_t>(*len)) != 0) {
        int err = errno;
        if (err != EOPNOTSUPP || ::ftruncate(fd, static_cast<off_t>(*len)) != 0) {
            ApiError fe_ = errno_error(err, "allocating the upload", meta->rel);
            co_return co_await fail(x, rq, fe_);
        }
    }
    if (!save(*u)) {
        ApiError fe_ = errno_error(errno ? errno : EIO, "saving the upload's state", meta->rel);
        co_return co_await fail(x, rq, fe_);
    }
    if (auto first = store.add_unique(u); first != u) {
        // The same key raced in on another connection (or replica) and won:
        // answer its upload.
        remove_files(*u);
        creating.reset();
        co_return co_await answer_existing(x, rq, *first);
    }
    undo.keep = true;
    creating.reset();
    Response r;
    r.status = 201;
    r.headers.emplace_back("Location",
                           fmt::format("{}/apps/{}/uploads/{}", api::k_prefix, u->app, u->id));
    if (has_body) {
        std::size_t k = 0;
        // A fresh upload: nothing can be in the way (but a repeat of its
        // creation key may have found it already).
        auto claimed = claim_part(u, 0);
        if (!claimed) co_return co_await fail(x, rq, claimed.error());
        {
            std::lock_guard g(u->mu);
            auto s = start_patch_locked(*u, 0, k);
            (void)s;
        }
        auto pr = co_await pump(x, rq, u, k, 0, ck);
        if (pr.connection_lost) {
            x.status = 0;
            co_return false;
        }
        if (pr.error && pr.error->kind != WireError::checksum_mismatch)
            co_return co_await fail(x, rq, *pr.error);
    }
    bool complete_now = false;
    {
        std::lock_guard g(u->mu);
        r.headers.emplace_back(std::string(api::k_header_upload_offset),
                               std::to_string(u->confirmed_prefix()));
        r.headers.emplace_back(std::string(api::k_header_upload_expires), expires_header(*u));
        complete_now = !u->parts_mode && !partial && u->all_confirmed();
    }
    if (complete_now) {
        auto done = co_await finish(x, m, u, u->sha256);
        if (!done) co_return co_await fail(x, rq, done.error());
        add_entry_headers(r, done->entry);
    }
    co_return co_await reply(x, rq, r);
}

awaitable<bool> TusService::Impl::create_final(Exchange& x, Req& rq, Mount& m,
                                               const tus::Concat& concat, const tus::Metadata& md) {
    auto meta = interpret_metadata(md, true);
    if (!meta) co_return co_await fail(x, rq, meta.error());
    std::vector<UploadPtr> partials;
    std::set<std::string> seen;
    for (const auto& url : concat.urls) {
        auto id = tus::upload_id_from_url(url, x.route.app);
        if (!id) {
            ApiError e{WireError::not_found,
                       fmt::format("'{:.200}' is not an upload of app '{}'", url, x.route.app),
                       {}};
            co_return co_await fail(x, rq, e);
        }
        if (!seen.insert(*id).second) {
            ApiError e{WireError::bad_request, fmt::format("upload {} is listed twice", *id), {}};
            co_return co_await fail(x, rq, e);
        }
        auto u = store.find(x.route.app, *id, x.caller.username);
        if (!u) co_return co_await fail(x, rq, u.error());
        partials.push_back(*u);
    }
    // Claim the partials (a second final over the same ones gets 409, on any
    // replica: their commit locks).
    std::uint64_t total = 0;
    std::vector<UploadPtr> claimed;
    std::vector<std::unique_ptr<tus::OfdLock>> partial_locks;
    auto unclaim = [&] {
        for (auto& p : claimed) {
            std::lock_guard g(p->mu);
            p->committing = false;
        }
    };
    for (auto& p : partials) {
        std::unique_lock g(p->mu);
        std::optional<ApiError> e;
        if (p->concat != tus::Concat::Kind::partial)
            e = ApiError{WireError::bad_request,
                         fmt::format("upload {} is not a partial upload", p->id),
                         {}};
        else if (p->committing || p->any_active() || foreign_parts_busy(*p))
            e = ApiError{WireError::conflict, fmt::format("upload {} is busy", p->id), {}};
        else if (!p->all_confirmed())
            e = ApiError{WireError::bad_request,
                         fmt::format("partial upload {} is not complete", p->id),
                         {}};
        if (e) {
            g.unlock();
            unclaim();
            co_return co_await fail(x, rq, *e);
        }
        partial_locks.push_back(std::make_unique<tus::OfdLock>(
            p->lock.get(), F_WRLCK, p->lock_base + tus::k_lock_commit, 1, false));
        if (!partial_locks.back()->held()) {
            g.unlock();
            unclaim();
            ApiError busy{WireError::conflict, fmt::format("upload {} is busy", p->id), {}};
            co_return co_await fail(x, rq, busy);
        }
        p->committing = true;
        claimed.push_back(p);
        total += p->length;
    }
    if (rq.has(api::k_header_upload_length) &&
        parse_decimal_u64(rq.header(api::k_header_upload_length)) != total) {
        unclaim();
        ApiError e{
            WireError::bad_request, "Upload-Length differs from the partial uploads' sum", {}};
        co_return co_await fail(x, rq, e);
    }
    if (auto t = check_target(m, meta->rel, meta->overwrite); !t) {
        unclaim();
        co_return co_await fail(x, rq, t.error());
    }
    auto app = ctx.apps.get(x.route.app, x.caller.username);
    auto dir_path = store.uploads_dir(m.app);
    int dfd = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!app || dfd < 0) {
        unclaim();
        {
            ApiError fe_ = app ? errno_error(errno, "opening uploads", "") : app.error();
            co_return co_await fail(x, rq, fe_);
        }
    }
    auto f = std::make_shared<TusUpload>();
    f->dir = UniqueFd(dfd);
    f->id = tus::new_upload_id();
    f->app = m.app;
    f->owner = x.caller.username;
    f->app_created_at = app->created_at;
    f->length = total;
    f->metadata_raw = std::string(rq.header(api::k_header_upload_metadata));
    f->rel = meta->rel;
    f->sha256 = meta->sha256;
    f->mtime_ns = meta->mtime_ns;
    f->overwrite = meta->overwrite;
    f->concat = tus::Concat::Kind::final;
    f->concat_header = std::string(rq.header(api::k_header_upload_concat));
    f->touched_ms = now_ms();
    f->used_ms = f->touched_ms;
    f->lock = store.open_lock(m.app);
    f->lock_base = tus::lock_base(f->id);
    tus::OfdLock final_commit(f->lock.get(), F_WRLCK, f->lock_base + tus::k_lock_commit, 1, false);
    init_parts(*f);
    int fd = ::openat(dfd, (f->id + ".data").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        unclaim();
        {
            ApiError fe_ = errno_error(errno, "creating the upload", meta->rel);
            co_return co_await fail(x, rq, fe_);
        }
    }
    f->data = UniqueFd(fd);
    // Copy the partials in (copy_file_range: in the kernel), then hash the result.
    int err = 0;
    std::string sha;
    std::uint64_t crc = 0;
    std::function<void()> job3_ = [&] {
        loff_t out_off = 0;
        for (auto& p : partials) {
            loff_t in_off = 0;
            while (in_off < static_cast<loff_t>(p->length)) {
                ssize_t n = ::copy_file_range(p->data.get(), &in_off, fd, &out_off,
                                              p->length - static_cast<std::uint64_t>(in_off), 0);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    err = n < 0 ? errno : EIO;
                    return;
                }
            }
        }
        if (!hash_range(*f, 0, total)) {
            err = errno ? errno : EIO;
            return;
        }
        crc = f->file_hash.crc64();
        sha = tus::hex(f->file_hash.finish());
    };
    co_await on_pool(ctx.pool, job3_);
    auto drop_final = [&] { ::unlinkat(dfd, (f->id + ".data").c_str(), 0); };
    if (err) {
        drop_final();
        unclaim();
        {
            ApiError fe_ = errno_error(err, "concatenating", meta->rel);
            co_return co_await fail(x, rq, fe_);
        }
    }
    if (f->sha256 && *f->sha256 != sha) {
        drop_final();
        unclaim();
        ApiError e{WireError::checksum_mismatch,
                   fmt::format("the concatenated file's SHA-256 is {}, but {} was expected", sha,
                               *f->sha256),
                   {{"received_sha256", sha}}};
        co_return co_await fail(x, rq, e);
    }
    for (auto& p : partials) {
        std::lock_guard g(p->mu);
        // The final upload takes over its partials' reservations (their files on the root).
        f->res.absorb(std::move(p->res));
    }
    // The final upload is complete: a crash before the rename leaves it complete
    // but uncommitted (its commit record resolved at start-up).
    for (std::size_t k = 0; k < f->parts.size(); ++k)
        f->parts[k].confirmed = f->parts[k].filled = f->plen(k);
    ApiResult<void> recorded;
    std::function<void()> job4_ = [&] { recorded = record_commit(m, *f, sha); };
    co_await on_pool(ctx.pool, job4_);
    if (!recorded) {
        {
            // The reservations go back to the partials (the final failed).
            std::lock_guard g(partials.front()->mu);
            partials.front()->res.absorb(std::move(f->res));
        }
        remove_files(*f);
        unclaim();
        co_return co_await fail(x, rq, recorded.error());
    }
    test_crash_point("before_rename");  // test builds: DE_SERVER_TEST_CRASH (fs.hpp)
    MountStore::StagedFile staged{dfd, f->id + ".data", fd, {}};
    auto res = co_await commit_to_mount(ctx, m, *f, staged, sha, crc);
    if (res) test_crash_point("after_rename");
    if (!res) {
        {
            // The reservations go back to the partials (the final failed).
            std::lock_guard g(partials.front()->mu);
            partials.front()->res.absorb(std::move(f->res));
        }
        remove_files(*f);
        unclaim();
        co_return co_await fail(x, rq, res.error());
    }
    {
        std::lock_guard g(f->mu);
        f->commit_record.reset();
        f->completed = true;
        f->entry = json(res->entry);
        f->created = res->created;
        for (auto& p : f->parts)
            p.confirmed = p.filled = 0;
    }
    f->data.reset();
    save(*f);
    store.add(f);
    for (auto& p : partials) {
        {
            std::lock_guard g(p->mu);
            p->committing = false;
        }
        store.discard(p, false);
    }
    Response r = completed_response(res->created ? 201 : 200, *f);
    r.status = 201;
    r.body.clear();
    r.headers.emplace_back("Location",
                           fmt::format("{}/apps/{}/uploads/{}", api::k_prefix, f->app, f->id));
    r.headers.emplace_back(std::string(api::k_header_upload_offset), std::to_string(total));
    r.headers.emplace_back(std::string(api::k_header_upload_length), std::to_string(total));
    r.headers.emplace_back(std::string(api::k_header_upload_expires), expires_header(*f));
    r.headers.emplace_back(std::string(api::k_header_entry), dump_json(f->entry, -1, true));
    co_return co_await reply(x, rq, r);
}

awaitable<bool> TusService::Impl::complete(Exchange& x, Req& rq, Mount& m, const UploadPtr& u) {
    // The (small, optional) JSON body.
    std::string body;
    if (!rq.body_done) {
        if (rq.content_length && *rq.content_length > api::k_json_body_limit) {
            ApiError e{WireError::too_large, "a JSON body is limited to 64 KiB", {}};
            co_return co_await fail(x, rq, e);
        }
        http::request_parser<http::string_body> sp{std::move(x.parser)};
        sp.body_limit(api::k_json_body_limit);
        boost::system::error_code ec = co_await read_small_body(
            x.stream, x.buffer, sp, rq.expect_continue, rq.version, ctx.options.body_timeout);
        if (is_framing_error(ec)) {
            ApiError e{WireError::bad_request, "malformed chunked body: " + ec.message(), {}};
            co_return co_await fail(x, rq, e);
        }
        if (ec) {
            x.status = 0;
            co_return false;
        }
        rq.body_done = true;
        body = std::move(sp.get().body());
    }
    std::optional<std::string> given;
    std::optional<std::uint64_t> given_crc;
    if (!body.empty()) {
        if (media_type(rq.content_type) != "application/json") {
            ApiError e{WireError::unsupported_media, "the body must be application/json", {}};
            co_return co_await fail(x, rq, e);
        }
        json j = json::parse(body, nullptr, false);
        if (j.is_discarded()) {
            ApiError e{WireError::bad_request, "the body is not JSON", {}};
            co_return co_await fail(x, rq, e);
        }
        if (!j.is_object()) {
            ApiError e{WireError::unprocessable, "the body must be a JSON object", {}};
            co_return co_await fail(x, rq, e);
        }
        if (j.contains("sha256")) {
            std::string s =
                j["sha256"].is_string() ? ascii_lower(j["sha256"].get<std::string>()) : "";
            if (s.size() != 64 || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
                ApiError e{WireError::unprocessable, "sha256 must be 64 hex digits", {}};
                co_return co_await fail(x, rq, e);
            }
            given = s;
        }
        if (j.contains("crc64")) {
            std::optional<std::uint64_t> c;
            if (j["crc64"].is_string()) c = crc64_from_hex(j["crc64"].get<std::string>());
            if (!c) {
                ApiError e{WireError::unprocessable, "crc64 must be 16 hex digits", {}};
                co_return co_await fail(x, rq, e);
            }
            given_crc = c;
        }
    }
    std::optional<std::string> expected;
    std::optional<ApiError> err;
    std::optional<Response> again;
    {
        std::lock_guard g(u->mu);
        if (u->concat == tus::Concat::Kind::partial) {
            err = ApiError{WireError::bad_request,
                           "a partial upload is completed by creating a final upload",
                           {}};
        } else if (u->completed) {
            if (given && u->entry.value("sha256", "") != *given)
                err = ApiError{WireError::checksum_mismatch,
                               "the upload was completed with another SHA-256",
                               {}};
            else
                again = completed_response(u->created ? 201 : 200, *u);
        } else if (given && u->sha256 && *given != *u->sha256) {
            err = ApiError{
                WireError::bad_request, "sha256 differs from the one in the upload's metadata", {}};
        }
        expected = given ? given : u->sha256;
    }
    if (err) co_return co_await fail(x, rq, *err);
    if (again) co_return co_await reply(x, rq, *again);
    if (!expected && !given_crc) {
        ApiError e{WireError::unprocessable,
                   "completion needs {\"crc64\": HEX} or {\"sha256\": HEX} (the metadata had "
                   "no sha256)",
                   {}};
        co_return co_await fail(x, rq, e);
    }
    auto done = co_await finish(x, m, u, expected, given_crc);
    if (!done) co_return co_await fail(x, rq, done.error());
    Response r;
    {
        std::lock_guard g(u->mu);
        r = completed_response(u->created ? 201 : 200, *u);
    }
    co_return co_await reply(x, rq, r);
}

// ---- TusService -----------------------------------------------------------------------------

void TusService::release_idle_memory() {
    m_impl->store.buffers()->clear();
}

TusService::TusService(ServerContext& ctx) : m_impl(std::make_unique<Impl>(ctx)) {
    Impl* impl = m_impl.get();
    ctx.apps.set_mount_gone_hook([impl](const std::string& app) { impl->store.drop_app(app); });
}

TusService::~TusService() {
    m_impl->ctx.apps.set_mount_gone_hook({});
}

void TusService::start() {
    m_impl->store.start();
}

void TusService::reap() {
    m_impl->store.reap();
}

asio::awaitable<bool> TusService::handle(Exchange& x) {
    co_return co_await m_impl->handle(x);
}

}  // namespace de::server

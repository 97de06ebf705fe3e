// The streaming file handlers (see files.hpp). Each checks everything it can
// from the header (mount, path, preconditions, quota) before it reads or
// writes a byte of a body, and keeps memory flat: GET reads 1 MiB at a time
// through the page cache, PUT reads 1 MiB buffers from the socket while pool
// threads hash and write (O_DIRECT for a big body) the ones before, the
// manifest is sent in 64 KiB chunks. ETags are the content's SHA-256
// (de/api.hpp's etag helpers); the conditional logic of RFC 9110 is here for
// GET/HEAD and in MountStore for PUT (checked again at the rename).
#include "files.hpp"

#include <de/json.hpp>
#include <de/remote_path.hpp>
#include <de/text.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace de::server {

using api::WireError;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::size_t k_chunk = 1 << 20;
// Buffers in flight for a big PUT body (see handle_put).
constexpr std::size_t k_put_depth = 4;

bool parse_i64(std::string_view s, std::int64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// Sends `r` within the body timeout; false when the connection must close.
awaitable<bool> reply(ServerContext& ctx, Exchange& x, const Response& r, unsigned version,
                      bool keep_alive, bool head = false) {
    return send_response(x.stream, r, version, keep_alive, ctx.options.send_timeout, head);
}

// Answers `e`; its status is what the log line shows.
awaitable<bool> reply_error(ServerContext& ctx, Exchange& x, const ApiError& e, unsigned version,
                            bool keep_alive, bool head = false) {
    x.status = api::http_status(e.kind);
    Response r = error_response(e);
    co_return co_await reply(ctx, x, r, version, keep_alive, head);
}

}  // namespace

std::string_view file_content_type(std::string_view name) {
    if (auto slash = name.rfind('/'); slash != std::string_view::npos)
        name.remove_prefix(slash + 1);  // "data.v2/readme" has no extension
    auto dot = name.rfind('.');
    std::string ext = dot == std::string_view::npos || dot == 0
                          ? std::string()  // ".log" is a name, not an extension
                          : ascii_lower(name.substr(dot + 1));
    if (ext == "txt" || ext == "log" || ext == "md") return "text/plain";
    if (ext == "csv") return "text/csv";
    if (ext == "json") return "application/json";
    if (ext == "html" || ext == "htm") return "text/html";
    if (ext == "xml") return "application/xml";
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "pdf") return "application/pdf";
    return "application/octet-stream";
}

awaitable<bool> handle_file_get(ServerContext& ctx, Exchange& x) {
    const auto& h = x.parser.get();
    auto& stream = x.stream;
    const Route& route = x.route;
    const Caller& caller = x.caller;
    bool keep_alive = x.keep_alive;
    int& status = x.status;
    bool head = h.method() == http::verb::head;
    auto fail_with = [&](const ApiError& e) {
        return reply_error(ctx, x, e, h.version(), keep_alive, head);
    };
    auto mount = ctx.api.open_mount(route.app, caller);
    if (!mount) co_return co_await fail_with(mount.error());
    auto rel = normalize_remote_path(route.file_path);
    if (!rel) {
        ApiError err_{WireError::bad_request, rel.error().message, {}};
        co_return co_await fail_with(err_);
    }
    auto file = ctx.mounts.open_read(*mount, *rel);
    if (!file) co_return co_await fail_with(file.error());
    mount->staging.reset();  // a download writes nothing: one descriptor less while it streams

    http::response<http::empty_body> res{http::status::ok, h.version()};
    res.set(http::field::server, "de-server");
    res.set(bsv(api::k_header_server), DE_SERVER_VERSION);
    res.set(http::field::etag, api::etag_for(file->sha256));
    res.set(http::field::last_modified, http_date(file->mtime_ns / 1'000'000'000));
    res.set(bsv(api::k_header_mtime_ns), std::to_string(file->mtime_ns));
    res.set(http::field::accept_ranges, "bytes");
    // The whole file's CRC-64, also on 206: a ranged download combines its
    // ranges' CRCs and compares the result with it (issue #15).
    res.set(bsv(api::k_header_repr_digest), api::repr_digest_crc64(file->crc64));
    res.keep_alive(keep_alive);

    // If-Match (RFC 9110 13.1.1): a download that fetches a file in ranges
    // names the version it started on; another version is 412, not its bytes.
    if (auto im = sv(h[http::field::if_match]);
        !im.empty() && !api::etag_list_matches(im, file->sha256)) {
        ApiError e{WireError::precondition_failed,
                   fmt::format("'{}' changed: its ETag is no longer {:.80}", *rel, im),
                   {}};
        Response r = error_response(e);
        r.headers.emplace_back("ETag", api::etag_for(file->sha256));
        status = 412;
        co_return co_await reply(ctx, x, r, h.version(), keep_alive, head);
    }
    if (auto inm = sv(h[http::field::if_none_match]);
        !inm.empty() && api::etag_list_matches(inm, file->sha256)) {
        res.result(http::status::not_modified);
        status = 304;
        http::response_serializer<http::empty_body> sr{res};
        boost::system::error_code ec;
        stream.expires_after(ctx.options.send_timeout);
        co_await http::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
        co_return !ec && keep_alive;
    }

    std::uint64_t first = 0, length = file->size;
    if (!head) {
        if (auto rh = sv(h[http::field::range]); !rh.empty()) {
            auto r = parse_range(rh, file->size);
            if (r.kind == RangeKind::unsatisfiable) {
                Response er = error_response(ApiError{
                    WireError::range_not_satisfiable,
                    fmt::format("range '{:.100}' is outside '{}' ({} bytes)", rh, *rel, file->size),
                    {}});
                er.headers.emplace_back("Content-Range", fmt::format("bytes */{}", file->size));
                status = 416;
                co_return co_await reply(ctx, x, er, h.version(), keep_alive);
            }
            if (r.kind == RangeKind::satisfiable) {
                first = r.range.first;
                length = r.range.last - r.range.first + 1;
                res.result(http::status::partial_content);
                res.set(http::field::content_range,
                        fmt::format("bytes {}-{}/{}", r.range.first, r.range.last, file->size));
            }
        }
    }
    status = static_cast<int>(res.result_int());
    res.set(http::field::content_type, bsv(file_content_type(*rel)));
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Content-Security-Policy", "sandbox");
    res.set(http::field::content_length, std::to_string(length));
    boost::system::error_code ec;
    http::response_serializer<http::empty_body> sr{res};
    stream.expires_after(ctx.options.send_timeout);
    co_await http::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    if (head) co_return keep_alive;

    // Reads go through the page cache: the kernel's readahead overlaps the disk
    // with the send, and a file the app just wrote is served from memory.
    // (O_DIRECT reads were tried: a single-stream 2 GiB GET took 2.2-2.9 s
    // instead of 1.6-2.0 s cold and 2.8-3.0 s instead of 1.6-1.7 s warm, for
    // 0.4 s less server CPU only with 4 parallel ranges; docs/server.md.)
    std::vector<char> buf(std::min<std::uint64_t>(k_chunk, std::max<std::uint64_t>(length, 1)));
    std::uint64_t off = first, left = length;
    while (left > 0) {
        auto r = read_at(file->fd.get(), buf.data(), buf.size(), off, left, false);
        // The file shrank under us: the length cannot be kept.
        if (r.n <= 0) co_return false;
        auto got = static_cast<std::uint64_t>(r.n);
        auto piece = asio::buffer(buf.data(), static_cast<std::size_t>(got));
        co_await write_progress(stream, piece, ctx.options.send_timeout, ec);
        if (ec) co_return false;
        off += got;
        left -= got;
    }
    co_return keep_alive;
}

awaitable<bool> handle_file_put(ServerContext& ctx, Exchange& x) {
    auto& buffer = x.buffer;
    auto& hp = x.parser;
    auto& stream = x.stream;
    const Route& route = x.route;
    const Caller& caller = x.caller;
    bool keep_alive = x.keep_alive;
    int& status = x.status;
    const auto& h = hp.get();
    unsigned version = h.version();
    // Until the body is read, an answer must close the connection: the rest of
    // the body would otherwise be taken for the next request.
    auto refuse = [&](const ApiError& e) {
        bool body_pending = !hp.is_done();
        return reply_error(ctx, x, e, version, keep_alive && !body_pending);
    };
    auto mount = ctx.api.open_mount(route.app, caller);
    if (!mount) co_return co_await refuse(mount.error());
    auto rel = normalize_remote_path(route.file_path);
    if (!rel) {
        ApiError err_{WireError::bad_request, rel.error().message, {}};
        co_return co_await refuse(err_);
    }

    PutOptions opts;
    bool chunked = h.chunked();
    if (!chunked) {
        if (h.find(http::field::content_length) == h.end()) {
            ApiError err_{WireError::length_required,
                          "a PUT needs Content-Length (or Transfer-Encoding: chunked)",
                          {}};
            co_return co_await refuse(err_);
        }
        opts.content_length = hp.content_length().value_or(0);
    }
    if (auto inm = sv(h[http::field::if_none_match]); !inm.empty()) {
        if (api::unquote_etag(inm) != "*") {
            ApiError err_{WireError::bad_request, "on PUT, If-None-Match supports only '*'", {}};
            co_return co_await refuse(err_);
        }
        opts.if_none_match_star = true;
    }
    if (auto im = sv(h[http::field::if_match]); !im.empty())
        opts.if_match = std::string(api::unquote_etag(im));
    if (auto d = sv(h[bsv(api::k_header_content_digest)]); !d.empty()) {
        opts.digest = api::parse_content_digest(d);
        if (!opts.digest && ascii_lower(d).find("sha-256") != std::string::npos) {
            ApiError err_{
                WireError::bad_request, "malformed Content-Digest (expected sha-256=:BASE64:)", {}};
            co_return co_await refuse(err_);
        }
    }
    if (auto d = sv(h[bsv(api::k_header_repr_digest)]); !d.empty()) {
        bool malformed = false;
        opts.crc64 = api::parse_digest_crc64(d, malformed);
        if (malformed) {
            ApiError err_{
                WireError::bad_request, "malformed Repr-Digest (expected crc64=:BASE64:)", {}};
            co_return co_await refuse(err_);
        }
    }
    if (auto mt = sv(h[bsv(api::k_header_mtime_ns)]); !mt.empty()) {
        std::int64_t v = 0;
        if (!parse_i64(mt, v)) {
            ApiError err_{
                WireError::bad_request, "X-De-Mtime-Ns must be an integer of nanoseconds", {}};
            co_return co_await refuse(err_);
        }
        opts.mtime_ns = v;
    }

    auto upload = ctx.mounts.begin_put(*mount, *rel, opts);
    if (!upload) co_return co_await refuse(upload.error());

    boost::system::error_code ec;
    if (!hp.is_done() && beast::iequals(h[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, version};
        stream.expires_after(ctx.options.body_timeout);
        co_await http::async_write(stream, cont, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return false;
    }

    auto body_started = std::chrono::steady_clock::now();
    auto abort = [&](const ApiError& e) {
        upload->reset();  // removes the staging file
        return reply_error(ctx, x, e, version, false);
    };
    if (opts.content_length) {
        std::uint64_t left = *opts.content_length;
        // Pipelined: while buffers are read from the network, pool threads hash
        // (one strand, in order) and write (another strand, in order) the ones
        // read before. A few 1 MiB buffers per upload (k_put_depth for a big
        // body, two otherwise), so memory stays flat; aligned and always full
        // but the last, so a big body goes to the disk with O_DIRECT
        // (Upload::store), whose writes take their time: the deeper queue keeps
        // the network busy meanwhile.
        const std::size_t depth = left >= Upload::k_direct_from ? k_put_depth : 2;
        struct Slot {
            AlignedBuffer buf;
            bool busy = false;
            bool done = false;
            ApiResult<void> result;
        };
        std::vector<Slot> slots(depth);
        for (auto& sl : slots)
            sl.buf = aligned_buffer(k_chunk);
        std::size_t cur = 0;
        auto strand = stream.get_executor();
        asio::steady_timer signal(strand);
        auto hash_strand = asio::make_strand(ctx.pool);
        auto store_strand = asio::make_strand(ctx.pool);
        auto await_signal = [&]() -> awaitable<void> {
            boost::system::error_code wec;
            signal.expires_at(std::chrono::steady_clock::time_point::max());
            co_await signal.async_wait(asio::redirect_error(use_awaitable, wec));
        };
        // Waits for the slot's two jobs; the slot is free again after.
        auto wait_slot = [&](Slot& sl) -> awaitable<void> {
            while (!sl.done)
                co_await await_signal();
            sl.busy = false;
        };
        // Waits for every job in flight (they use the buffers and the upload).
        auto drain = [&]() -> awaitable<std::optional<ApiError>> {
            std::optional<ApiError> first;
            for (std::size_t k = 0; k < depth; ++k) {
                auto& sl = slots[(cur + k) % depth];  // oldest first
                if (!sl.busy) continue;
                co_await wait_slot(sl);
                if (!sl.result && !first) first = sl.result.error();
            }
            co_return first;
        };
        while (left > 0) {
            auto& sl = slots[cur];
            if (sl.busy) {
                co_await wait_slot(sl);
                if (!sl.result) {
                    ApiError e = sl.result.error();
                    (void)co_await drain();  // the other jobs still use their buffers
                    co_return co_await abort(e);
                }
            }
            // Fill the buffer: first with body bytes that came with the header
            // (they start the body, and keep every later write aligned), then
            // from the socket, with a deadline per read: a slow, steady client
            // is fine, a stalled one is cut off after body_timeout.
            std::size_t want = std::min<std::uint64_t>(k_chunk, left);
            char* data = sl.buf.get();
            std::size_t n = std::min<std::size_t>(buffer.size(), want);
            if (n > 0) {
                std::memcpy(data, buffer.data().data(), n);
                buffer.consume(n);
            }
            while (n < want && !ec) {
                stream.expires_after(ctx.options.body_timeout);
                n += co_await stream.async_read_some(asio::buffer(data + n, want - n),
                                                     asio::redirect_error(use_awaitable, ec));
            }
            if (ec) {
                (void)co_await drain();
                status = 0;
                fmt::print(stderr, "upload of '{}' in app '{}' aborted after {} bytes: {}\n", *rel,
                           route.app, (*upload)->received(), ec.message());
                co_return false;  // the Upload's destructor removes the staging file
            }
            sl.busy = true;
            sl.done = false;
            auto parts = std::make_shared<std::atomic<int>>(2);
            Upload* up = upload->get();
            // The second job to finish wakes the session.
            auto finish_part = [&sl, &signal, strand, parts] {
                if (parts->fetch_sub(1) != 1) return;
                asio::post(strand, [&sl, &signal] {
                    sl.done = true;
                    signal.cancel();
                });
            };
            asio::post(hash_strand, [up, data, n, finish_part] {
                up->hash(data, n);
                finish_part();
            });
            asio::post(store_strand, [up, data, n, &sl, finish_part] {
                sl.result = up->store(data, n);
                finish_part();
            });
            cur = (cur + 1) % depth;
            left -= n;
        }
        if (auto e = co_await drain()) co_return co_await abort(*e);
    } else {
        http::request_parser<http::buffer_body> bp{std::move(hp)};
        bp.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none misbehaves in 1.74
        std::vector<char> chunk(k_chunk);
        while (!bp.is_done()) {
            bp.get().body().data = chunk.data();
            bp.get().body().size = chunk.size();
            stream.expires_after(ctx.options.body_timeout);
            co_await http::async_read(stream, buffer, bp, asio::redirect_error(use_awaitable, ec));
            if (ec == http::error::need_buffer) ec = {};
            if (is_framing_error(ec)) {
                ApiError e{WireError::bad_request, "malformed chunked body: " + ec.message(), {}};
                co_return co_await abort(e);
            }
            if (ec) {
                status = 0;
                fmt::print(stderr, "chunked upload of '{}' in app '{}' aborted: {}\n", *rel,
                           route.app, ec.message());
                co_return false;
            }
            std::size_t n = chunk.size() - bp.get().body().size;
            if (n > 0)
                if (auto w = (*upload)->write(chunk.data(), n); !w)
                    co_return co_await abort(w.error());
        }
    }

    auto body_done = std::chrono::steady_clock::now();
    auto result = (*upload)->commit();
    upload->reset();
    if (result && result->entry.size >= (64u << 20)) {
        // Big uploads: where the time went (network+hash+write vs fsync+rename).
        auto ms = [](auto d) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
        };
        fmt::print(stderr, "upload of {} bytes: body {} ms, commit (fsync, rename) {} ms\n",
                   result->entry.size, ms(body_done - body_started),
                   ms(std::chrono::steady_clock::now() - body_done));
    }
    if (!result) co_return co_await reply_error(ctx, x, result.error(), version, keep_alive);
    Response r = json_response(result->created ? 201 : 200, nlohmann::json(result->entry));
    r.headers.emplace_back("ETag", api::etag_for(*result->entry.sha256));
    status = r.status;
    co_return co_await reply(ctx, x, r, version, keep_alive);
}

awaitable<bool> handle_manifest(ServerContext& ctx, Exchange& x) {
    const auto& h = x.parser.get();
    const auto& query = x.query;
    auto& stream = x.stream;
    const Route& route = x.route;
    const Caller& caller = x.caller;
    bool keep_alive = x.keep_alive;
    int& status = x.status;
    auto fail_with = [&](const ApiError& e) {
        return reply_error(ctx, x, e, h.version(), keep_alive);
    };
    auto mount = ctx.api.open_mount(route.app, caller);
    if (!mount) co_return co_await fail_with(mount.error());
    auto rel = query_path(query, "path");
    if (!rel) co_return co_await fail_with(rel.error());
    auto hashes = query_bool(query, "hashes", false);
    if (!hashes) co_return co_await fail_with(hashes.error());
    auto walker = ctx.mounts.walk(*mount, *rel, *hashes);
    if (!walker) co_return co_await fail_with(walker.error());
    mount->staging.reset();  // a manifest writes nothing: one descriptor less while it streams

    http::response<http::empty_body> res{http::status::ok, h.version()};
    res.set(http::field::server, "de-server");
    res.set(bsv(api::k_header_server), DE_SERVER_VERSION);
    res.set(http::field::content_type, "application/x-ndjson");
    res.chunked(true);
    res.keep_alive(keep_alive);
    status = 200;
    boost::system::error_code ec;
    http::response_serializer<http::empty_body> sr{res};
    stream.expires_after(ctx.options.send_timeout);
    co_await http::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    std::string batch;
    std::uint64_t count = 0;
    bool end = false;
    while (!end) {
        batch.clear();
        while (batch.size() < 64 * 1024) {
            auto e = (*walker)->next();
            if (!e) {
                // The walk could not go on (out of descriptors, a folder it may
                // not read, a folder moved meanwhile): an error record instead
                // of the end line, so no client takes the stream for complete.
                const ApiError& err = e.error();
                fmt::print(stderr, "manifest of '{}' in app '{}' cut after {} entries: {}\n", *rel,
                           route.app, count, err.message);
                batch += dump_json(nlohmann::json{
                    {"error",
                     {{"kind", std::string(api::to_string(err.kind))}, {"message", err.message}}}});
                batch += '\n';
                end = true;
                break;
            }
            if (!*e) {
                batch += nlohmann::json{{"end", true}, {"count", count}}.dump();
                batch += '\n';
                end = true;
                break;
            }
            ++count;
            batch += dump_json(nlohmann::json(**e));
            batch += '\n';
        }
        auto chunk = http::make_chunk(asio::buffer(batch));
        co_await write_progress(stream, chunk, ctx.options.send_timeout, ec);
        if (ec) co_return false;
    }
    auto last = http::make_chunk_last();
    co_await write_progress(stream, last, ctx.options.send_timeout, ec);
    co_return !ec && keep_alive;
}

}  // namespace de::server

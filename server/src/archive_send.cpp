// The tree archive (see archive_send.hpp). The request body is the list of
// paths, one per line; the answer is a chunked pax tar written by the same
// TarWriter the batch upload's client uses (lib/src/archive.cpp).
//
// Memory: the path list (at most 16 MiB), one file buffer of 1 MiB and an
// output buffer of about 1 MiB, whatever the files' sizes and count.
//
// A file of at most 1 MiB is read whole into the buffer first: its CRC-64 is
// then computed from exactly the bytes sent (one read; stored in the file's
// xattr when it was not), and a file whose size or mtime changed while it was
// read is not sent but answered with DE.error (kind conflict) — refused, never
// sent torn. A larger file gets its stored CRC (or one computed and stored,
// crc_store.hpp), then its bytes are streamed; when it changes meanwhile the
// client's CRC check fails and the connection is cut after it.
#include "archive_send.hpp"

#include "crc_store.hpp"
#include "fs.hpp"

#include <de/archive.hpp>
#include <de/crc64.hpp>
#include <de/remote_path.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <vector>

namespace de::server {

using api::WireError;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::size_t k_whole = 1 << 20;      // files read whole before their header
constexpr std::size_t k_out_flush = 1 << 20;  // a chunk on the wire

std::string pax_time(std::int64_t ns) {
    if (ns >= 0) return fmt::format("{}.{:09}", ns / 1'000'000'000, ns % 1'000'000'000);
    // pax times are "-S.F" meaning -(S.F)
    std::uint64_t m = static_cast<std::uint64_t>(-(ns + 1)) + 1;
    return fmt::format("-{}.{:09}", m / 1'000'000'000, m % 1'000'000'000);
}

// Reads [0, size) of fd into buf; false when it could not be read whole.
bool read_whole(int fd, char* buf, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::pread(fd, buf + got, size - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        got += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

awaitable<bool> handle_archive(ServerContext& ctx, Exchange& x) {
    auto& stream = x.stream;
    const auto& h = x.parser.get();
    const unsigned version = h.version();
    bool keep_alive = x.keep_alive;
    auto refuse = [&](const ApiError& e) -> awaitable<bool> {
        x.status = api::http_status(e.kind);
        Response r = error_response(e);
        co_return co_await send_response(stream, r, version, keep_alive && x.parser.is_done(),
                                         ctx.options.send_timeout);
    };
    auto mount = ctx.api.open_mount(x.route.app, x.caller);
    if (!mount) co_return co_await refuse(mount.error());
    if (h.chunked() || !x.parser.content_length()) {
        ApiError e{WireError::length_required, "the archive request needs a Content-Length", {}};
        co_return co_await refuse(e);
    }
    if (*x.parser.content_length() > k_archive_max_body) {
        ApiError e{WireError::too_large,
                   fmt::format("the list of paths is over {} bytes; split it into several "
                               "requests",
                               k_archive_max_body),
                   {}};
        co_return co_await refuse(e);
    }

    // The body: the paths, one per line.
    boost::system::error_code ec;
    http::request_parser<http::string_body> sp{std::move(x.parser)};
    sp.body_limit(k_archive_max_body);
    if (!sp.is_done()) {
        stream.expires_after(ctx.options.body_timeout);
        co_await http::async_read(stream, x.buffer, sp, asio::redirect_error(use_awaitable, ec));
        if (ec) {
            x.status = 0;
            co_return false;
        }
    }
    const std::string body = std::move(sp.get().body());
    std::vector<std::string> paths;
    for (std::size_t at = 0; at < body.size();) {
        std::size_t nl = body.find('\n', at);
        if (nl == std::string::npos) nl = body.size();
        std::string_view line(body.data() + at, nl - at);
        at = nl + 1;
        if (line.empty()) continue;
        auto rel = normalize_remote_path(line);
        if (!rel || rel->empty()) {
            x.status = 400;
            Response r = error_response(ApiError{
                WireError::bad_request,
                rel ? "the mount root is a folder, not a file"
                    : fmt::format("path {} of the list: {}", paths.size() + 1, rel.error().message),
                {}});
            co_return co_await send_response(stream, r, version, keep_alive,
                                             ctx.options.send_timeout);
        }
        if (paths.size() >= k_archive_max_paths) {
            x.status = 413;
            Response r = error_response(ApiError{
                WireError::too_large,
                fmt::format("more than {} paths in one archive request", k_archive_max_paths),
                {}});
            co_return co_await send_response(stream, r, version, keep_alive,
                                             ctx.options.send_timeout);
        }
        paths.push_back(std::move(*rel));
    }
    mount->staging.reset();  // an archive writes nothing to the mount

    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::server, "de-server");
    res.set(bsv(api::k_header_server), DE_SERVER_VERSION);
    res.set(http::field::content_type, "application/x-tar");
    res.chunked(true);
    res.keep_alive(keep_alive);
    x.status = 200;
    http::response_serializer<http::empty_body> sr{res};
    stream.expires_after(ctx.options.send_timeout);
    co_await http::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;

    std::string out;
    out.reserve(k_out_flush + 64 * 1024);
    TarWriter tar([&out](std::string_view bytes) -> Status {
        out.append(bytes);
        return {};
    });
    auto flush = [&]() -> awaitable<bool> {
        if (out.empty()) co_return true;
        auto chunk = http::make_chunk(asio::buffer(out));
        co_await write_progress(stream, chunk, ctx.options.send_timeout, ec);
        out.clear();
        co_return !ec;
    };
    std::vector<char> buf(k_whole);
    auto refused = [&](const std::string& rel, WireError kind, std::string_view why) {
        PaxRecords rec{{"DE.error", fmt::format("{} {}", api::to_string(kind), why)}};
        (void)tar.begin_file(rel, 0, 0, rec);
        (void)tar.end_file();
    };
    std::uint64_t files = 0, bytes = 0;
    for (const std::string& rel : paths) {
        auto fd = open_beneath(mount->dir.get(), rel, O_RDONLY | O_NONBLOCK);
        if (!fd) {
            refused(rel, fd.error().kind, fd.error().message);
        } else if (struct stat st{}; ::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
            refused(rel, WireError::conflict, fmt::format("'{}' is not a regular file", rel));
        } else if (st.st_nlink > 1) {
            refused(rel, WireError::forbidden,
                    fmt::format("'{}' has more than one hard link; it is not served", rel));
        } else {
            const auto size = static_cast<std::uint64_t>(st.st_size);
            PaxRecords rec{{"mtime", pax_time(mtime_ns_of(st))}};
            auto sha = ctx.mounts.cached_hash(st);
            if (size <= k_whole) {
                // Read whole, checked unchanged, its CRC from exactly these bytes.
                struct stat after {};
                bool ok = read_whole(fd->get(), buf.data(), static_cast<std::size_t>(size)) &&
                          ::fstat(fd->get(), &after) == 0 && after.st_size == st.st_size &&
                          mtime_ns_of(after) == mtime_ns_of(st);
                if (!ok) {
                    refused(rel, WireError::conflict,
                            fmt::format("'{}' changed while it was read; try again", rel));
                } else {
                    std::uint64_t crc = crc64(std::string_view(buf.data(), size));
                    if (stored_crc64(fd->get(), st) != crc) {
                        const auto value = crc_xattr_value(crc, st);
                        (void)::fsetxattr(fd->get(), k_crc_xattr, value.data(), value.size(), 0);
                    }
                    rec.emplace_back("DE.crc64", crc64_hex(crc));
                    if (sha) rec.emplace_back("DE.sha256", *sha);
                    (void)tar.begin_file(rel, size, mtime_ns_of(st), rec);
                    (void)tar.write(std::string_view(buf.data(), size));
                    (void)tar.end_file();
                    ++files;
                    bytes += size;
                }
            } else if (auto crc = file_crc64(fd->get(), st); !crc) {
                refused(rel, WireError::conflict,
                        fmt::format("'{}' changed while it was read; try again", rel));
            } else {
                rec.emplace_back("DE.crc64", crc64_hex(*crc));
                if (sha) rec.emplace_back("DE.sha256", *sha);
                (void)tar.begin_file(rel, size, mtime_ns_of(st), rec);
                std::uint64_t off = 0;
                while (off < size) {
                    auto want =
                        static_cast<std::size_t>(std::min<std::uint64_t>(k_whole, size - off));
                    ssize_t n = ::pread(fd->get(), buf.data(), want, static_cast<off_t>(off));
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0) {
                        // Shrunk under us: the member's length cannot be kept.
                        fmt::print(stderr, "archive of app '{}': '{}' shrank while sent; cut\n",
                                   x.route.app, rel);
                        co_return false;
                    }
                    (void)tar.write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
                    off += static_cast<std::uint64_t>(n);
                    if (out.size() >= k_out_flush && !co_await flush()) co_return false;
                }
                (void)tar.end_file();
                ++files;
                bytes += size;
            }
        }
        if (out.size() >= k_out_flush && !co_await flush()) co_return false;
    }
    (void)tar.finish();
    if (!co_await flush()) co_return false;
    auto last = http::make_chunk_last();
    co_await write_progress(stream, last, ctx.options.send_timeout, ec);
    (void)files;
    (void)bytes;
    co_return !ec && keep_alive;
}

}  // namespace de::server

#pragma once
// One request/response exchange on a connection, as the session hands it to a
// streaming handler (tus uploads, batch uploads): the stream (plain or TLS,
// stream.hpp), the bytes already buffered past the header, the parser holding
// the header, the route and the caller. Handlers answer with send_response() and return whether the
// connection may carry another request. `status` is what the log line shows
// (0: the connection was dropped without an answer).

#include "http_framing.hpp"
#include "http_parse.hpp"
#include "router.hpp"
#include "server.hpp"
#include "stream.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

namespace de::server {

namespace dav {
class LockTable;
}  // namespace dav

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct Exchange {
    Stream& stream;
    beast::flat_buffer& buffer;  // bytes read past the header: the body's start
    http::request_parser<http::empty_body>& parser;
    const Route& route;
    const std::map<std::string, std::string>& query;
    const Caller& caller;  // empty for unauthenticated requests (tus OPTIONS)
    bool keep_alive = false;
    int status = 0;
};

// What the streaming handlers share with the session: the stores, the pool
// that hashes and writes body buffers, and the options (timeouts, root, quota).
struct ServerContext {
    const ServerOptions& options;
    Api& api;
    MountStore& mounts;
    AppStore& apps;
    asio::thread_pool& pool;
    dav::LockTable& dav_locks;  // WebDAV's locks (dav.cpp)
};

// Writes `r`; false when the connection must close (or the write failed).
asio::awaitable<bool> send_response(Stream& stream, const Response& r, unsigned version,
                                    bool keep_alive, std::chrono::milliseconds timeout,
                                    bool head = false);

// Writes all of `buffers`, a stalled reader being cut: each write may wait
// `stall` for the client to take a byte (de-server --send-timeout), however
// long the whole takes. `ec` is beast::error::timeout when the reader stalled.
template <class Buffers>
asio::awaitable<void> write_progress(Stream& stream, const Buffers& buffers,
                                     std::chrono::milliseconds stall,
                                     boost::system::error_code& ec) {
    beast::buffers_suffix<Buffers> rest(buffers);
    while (beast::buffer_bytes(rest) > 0) {
        stream.expires_after(stall);
        std::size_t n =
            co_await stream.async_write_some(rest, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        rest.consume(n);
    }
}

// Reads the rest of a small body into `sp` (the header's parser, converted),
// sending 100 Continue first when the client waits for it; each step may take
// `timeout` (de-server --body-timeout). The error of the write or the read.
// For the JSON routes, tus completion and WebDAV's XML bodies.
inline asio::awaitable<boost::system::error_code> read_small_body(
    Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::string_body>& sp,
    bool expect_continue, unsigned version, std::chrono::milliseconds timeout) {
    boost::system::error_code ec;
    if (sp.is_done()) co_return ec;
    if (expect_continue) {
        http::response<http::empty_body> cont{http::status::continue_, version};
        stream.expires_after(timeout);
        co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return ec;
    }
    stream.expires_after(timeout);
    co_await http::async_read(stream, buffer, sp, asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
}

// Boost 1.74's Beast speaks boost::string_view; the rest of de speaks std::string_view.
inline std::string_view sv(beast::string_view s) {
    return {s.data(), s.size()};
}
inline beast::string_view bsv(std::string_view s) {
    return {s.data(), s.size()};
}

// An error reading a body that means its framing (chunk sizes, chunk
// extensions, line ends, trailers) is malformed, as opposed to a connection
// that ended or stalled: answered 400, then the connection closes (where the
// next request would start is unknown).
inline bool is_framing_error(const boost::system::error_code& ec) {
    return ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension ||
           ec == http::error::bad_line_ending || ec == http::error::bad_field ||
           ec == http::error::bad_value || ec == http::error::bad_obs_fold ||
           ec == http::error::header_limit;
}

}  // namespace de::server

#pragma once
// The connection a session serves: plain TCP, or TLS over TCP when de-server
// runs with --tls-cert/--tls-key. Every handler is written once against this
// one type, which is a Beast AsyncReadStream and AsyncWriteStream.
//
// Which of the two it is is fixed when the connection is accepted; each read
// or write is one branch on it and then the underlying stream's own call with
// the caller's buffers and completion token. So the plain path costs a
// predictable branch per operation and nothing per byte: no copy, no virtual
// call, no type-erased handler.
//
// Deadlines are Beast's, on the TCP stream at the bottom of either
// (expires_after): a TLS record is read and written through it, so the
// header, body, send and handshake timeouts bound TLS as they bound plain TCP.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>
#include <variant>

namespace de::server {

// Beast's tcp_stream with a rate policy that never limits and only counts the
// bytes read from and written to the socket (called once per read or write,
// on the connection's strand: plain adds). The session takes the counts
// before each request's header and after its answer: the request's bytes in
// and out for the metrics and the access log, exact whichever handler did
// the reading and writing.
class ByteCount {
  public:
    // Marks the start of a request (before its header is read).
    void start_request() {
        m_request_read = m_read;
        m_request_written = m_written;
    }
    // The bytes read and written since start_request().
    std::uint64_t request_read() const { return m_read - m_request_read; }
    std::uint64_t request_written() const { return m_written - m_request_written; }

  private:
    friend class boost::beast::rate_policy_access;
    static constexpr std::size_t k_all = std::numeric_limits<std::size_t>::max();
    std::size_t available_read_bytes() const noexcept { return k_all; }
    std::size_t available_write_bytes() const noexcept { return k_all; }
    void transfer_read_bytes(std::size_t n) noexcept { m_read += n; }
    void transfer_write_bytes(std::size_t n) noexcept { m_written += n; }
    void on_timer() noexcept {}
    std::uint64_t m_read = 0;
    std::uint64_t m_written = 0;
    std::uint64_t m_request_read = 0;
    std::uint64_t m_request_written = 0;
};
using TcpStream =
    boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::any_io_executor, ByteCount>;

class Stream {
  public:
    // Both count their bytes (ByteCount: over TLS, the bytes on the wire).
    using Plain = TcpStream;
    using Tls = boost::beast::ssl_stream<TcpStream>;
    using executor_type = Plain::executor_type;

    // A plain connection.
    explicit Stream(boost::asio::ip::tcp::socket socket)
        : m_stream(std::in_place_type<Plain>, std::move(socket)) {}
    // A TLS connection (server side), to be opened with async_handshake.
    Stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls)
        : m_stream(std::in_place_type<Tls>, std::move(socket), tls) {}

    bool is_tls() const noexcept { return m_stream.index() == 1; }

    // The TCP stream at the bottom: its socket and its deadlines.
    Plain& tcp() noexcept {
        if (auto* t = std::get_if<Tls>(&m_stream)) return t->next_layer();
        return *std::get_if<Plain>(&m_stream);
    }
    boost::asio::ip::tcp::socket& socket() noexcept { return tcp().socket(); }

    executor_type get_executor() noexcept { return tcp().get_executor(); }

    // The deadline of the next reads and writes (Beast closes the socket when it passes).
    void expires_after(std::chrono::steady_clock::duration d) { tcp().expires_after(d); }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        if (auto* t = std::get_if<Tls>(&m_stream))
            return t->async_read_some(buffers, std::forward<Token>(token));
        return std::get_if<Plain>(&m_stream)->async_read_some(buffers, std::forward<Token>(token));
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        if (auto* t = std::get_if<Tls>(&m_stream))
            return t->async_write_some(buffers, std::forward<Token>(token));
        return std::get_if<Plain>(&m_stream)->async_write_some(buffers, std::forward<Token>(token));
    }

    // TLS only (is_tls()): the server side of the handshake.
    template <class Token>
    auto async_handshake(Token&& token) {
        return std::get_if<Tls>(&m_stream)->async_handshake(boost::asio::ssl::stream_base::server,
                                                            std::forward<Token>(token));
    }
    // TLS only: sends close_notify and completes, without waiting for the
    // client's (the TCP connection is closed next; RFC 8446 6.1 allows it).
    // Asio's shutdown would wait for the client's alert, and meeting the rest
    // of a body instead would fail it; marking the client's alert as received
    // makes OpenSSL's SSL_shutdown stop after sending ours.
    template <class Token>
    auto async_close_notify(Token&& token) {
        auto& tls = *std::get_if<Tls>(&m_stream);
        SSL_set_shutdown(tls.native_handle(),
                         SSL_get_shutdown(tls.native_handle()) | SSL_RECEIVED_SHUTDOWN);
        return tls.async_shutdown(std::forward<Token>(token));
    }

    // Ends the connection at once, whatever is in flight (shutdown, the test
    // hook that loses an answer): both directions shut, the socket closed.
    void close() noexcept {
        boost::system::error_code ignored;
        socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }

  private:
    std::variant<Plain, Tls> m_stream;
};

}  // namespace de::server

#pragma once
// The libcurl transport behind de::Client, private to libde (no public header
// sees <curl/curl.h>). CurlHandle is the one RAII, move-only owner of an easy
// handle, its request header list and its error buffer. A Transport keeps one
// handle across requests so connections are reused; like the Client that owns
// it, it is used from one thread at a time.
//
// configure_easy() is the one place where an easy handle gets the client's
// settings: TLS verification and CA file, Basic or Bearer credentials,
// timeouts, user agent, protocols, keep-alive and the debug trace with
// credentials redacted. Transport::perform and the engines that drive their
// own handles on a curl multi (resumable upload, parallel download) all call
// it, so none of them can drift from the others.
//
// perform() keeps transport failure and HTTP status apart: a request that got
// any HTTP answer is a Response (whatever its status); only a failure to talk
// HTTP at all is a TransportError. Turning either into a de::Error
// (transport_error, response_error) and retrying (Retry) go through
// http_util.hpp, the same for every engine.

#include "http_util.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef void CURL;  // as <curl/curl.h> declares it
struct curl_slist;

namespace de::http {

// Global libcurl initialisation, once per process and thread-safe.
void global_init();

class CurlHandle {
  public:
    CurlHandle();  // throws std::bad_alloc when libcurl cannot make a handle
    CurlHandle(CurlHandle&&) noexcept = default;
    CurlHandle& operator=(CurlHandle&&) noexcept = default;
    CurlHandle(const CurlHandle&) = delete;
    CurlHandle& operator=(const CurlHandle&) = delete;
    ~CurlHandle() = default;

    CURL* get() const { return m_easy.get(); }
    // Forgets the previous request's options (keeping the connection cache)
    // and points the error buffer at ours again.
    void reset();
    // Takes ownership of the list; it lives until the next set_headers/reset.
    void set_headers(std::vector<std::string> const& lines);
    // A header line every request of this handle carries besides its own
    // (configure_easy sets it from the settings; set_headers appends it).
    void set_standing_header(std::string line) { m_standing = std::move(line); }
    // libcurl's detailed message for the last failure ("" when none).
    std::string_view error_message() const { return m_error.get(); }

  private:
    struct EasyDeleter {
        void operator()(CURL* easy) const noexcept;
    };
    struct SlistDeleter {
        void operator()(curl_slist* list) const noexcept;
    };
    std::unique_ptr<CURL, EasyDeleter> m_easy;
    std::unique_ptr<curl_slist, SlistDeleter> m_headers;
    std::unique_ptr<char[]> m_error;  // CURL_ERROR_SIZE; on the heap so moves keep it valid
    std::string m_standing;
};

enum class Auth { preferred, basic, bearer, none };

// What a Client's options say about every connection it makes.
struct TransportSettings {
    std::string username;
    std::string api_key;
    std::string token;
    std::string ca_path;
    bool verify_tls = true;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds request_timeout{60'000};
    std::chrono::seconds stall_timeout{30};
    std::function<void(std::string_view)> debug;  // header lines, Authorization redacted
    // A sync lease id: every request then carries X-De-Sync-Lease (ClientOptions::sync_lease).
    std::string sync_lease;
};

// Sets every option of a (fresh or reset) easy handle that comes from the
// client's settings: protocols, NOSIGNAL, keep-alive, user agent, connect
// timeout, a total timeout or (streaming) a stall timeout, TLS verification
// and CA file, the credentials for `auth` (Basic through libcurl, or Bearer),
// and the redacted debug trace when settings.debug is set. A proxy comes from
// the environment (http_proxy, ...) as libcurl does by default. `settings`
// must outlive the handle's transfers (the debug trace points at it).
void configure_easy(CurlHandle& handle, const TransportSettings& settings, Auth auth,
                    bool streaming);

// The kind of failure a libcurl result (a CURLcode) stands for.
TransportError::Kind classify_curl_code(int code);
// libcurl's detailed message for a failed transfer of handle (its error
// buffer, else the code's text), without a trailing newline.
std::string curl_failure_detail(const CurlHandle& handle, int code);

// Reads up to len bytes of a streamed request body into buf: the count, 0 at
// the end, or nullopt to abort the transfer.
using ReadFn = std::function<std::optional<std::size_t>(char* buf, std::size_t len)>;
// Called with each chunk of a 2xx response body; false stops the transfer.
using BodyFn = std::function<bool(std::string_view chunk)>;
// Bytes moved so far in the direction that matters (upload or download).
using TransferFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct Response {
    int status = 0;
    Headers headers;
    std::string body;  // a collected 2xx body, or the (capped) error body
    // How often the request went out. More than 1 when libcurl sent it again
    // by itself (a reused connection died before any answer came, e.g. a lost
    // answer): the server may have carried out the first sending.
    int sends = 0;
};

struct Request {
    std::string method = "GET";  // GET, HEAD, PUT, POST, PATCH, DELETE
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    Auth auth = Auth::preferred;
    std::optional<std::string> json_body;  // small JSON body (POST/PATCH)
    // A streamed body of known size (PUT); rewind() restarts it from byte 0.
    ReadFn read_body;
    std::function<bool()> rewind_body;
    std::uint64_t body_size = 0;
    BodyFn on_body;  // unset: a 2xx body is collected into Response::body
    // Called once before the first chunk of a 2xx body goes to on_body.
    std::function<void(const Response&)> on_body_start;
    TransferFn on_transfer;
    bool streaming = false;  // stall timeout instead of a total timeout; big buffers
    // Sent even after Ctrl-C (releasing a sync lease on the way out).
    bool ignore_interrupt = false;
};

class Transport {
  public:
    explicit Transport(TransportSettings settings);
    Transport(Transport&&) noexcept;
    Transport& operator=(Transport&&) noexcept;
    ~Transport();

    std::expected<Response, TransportError> perform(const Request& request);

  private:
    TransportSettings m_settings;
    std::optional<CurlHandle> m_handle;  // made on the first request: create() stays cheap
};

}  // namespace de::http

// libcurl transport (see http.hpp). configure_easy() sets what comes from
// the client's settings (TLS, credentials, timeouts, debug trace) for every
// engine; Transport::perform adds what belongs to one request. One easy
// handle per Transport, reset between requests so its connection cache
// survives.
#include "http.hpp"

#include <de/api.hpp>
#include <de/progress.hpp>

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdio>
#include <mutex>
#include <new>

namespace de::http {

namespace {
constexpr std::size_t k_error_body_cap = 64 * 1024;        // enough for any error JSON
constexpr std::size_t k_collected_body_cap = 64ull << 20;  // a listing page is a few MiB
constexpr long k_stream_buffer = 512 * 1024;               // CURL_MAX_READ_SIZE
constexpr long k_upload_buffer = 1 << 20;

struct Call {
    const Request* request = nullptr;
    Response response;
    std::uint64_t received = 0;
    bool body_started = false;
    bool interrupted = false;
    bool stopped = false;  // our callback stopped the transfer
    bool too_big = false;
};

// Before each sending of the request (once, unless libcurl sends it again by
// itself because a reused connection turned out dead).
int on_prereq(void* user, char*, char*, int, int) {
    ++static_cast<Call*>(user)->response.sends;
    return CURL_PREREQFUNC_OK;
}

bool is_2xx(int status) {
    return status >= 200 && status < 300;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* call = static_cast<Call*>(user);
    std::string_view line(data, size * count);
    if (auto status = parse_status_line(line)) {
        // A new status line (after 100 Continue) starts a new header block.
        call->response.status = *status;
        call->response.headers.clear();
    } else if (auto header = parse_header_line(line)) {
        call->response.headers.add(std::move(header->first), std::move(header->second));
    }
    return size * count;
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
    auto* call = static_cast<Call*>(user);
    std::string_view chunk(data, size * count);
    const Request& request = *call->request;
    if (is_2xx(call->response.status) && request.on_body) {
        if (!call->body_started) {
            call->body_started = true;
            if (request.on_body_start) request.on_body_start(call->response);
        }
        if (!request.on_body(chunk)) {
            call->stopped = true;
            return CURL_WRITEFUNC_ERROR;
        }
        call->received += chunk.size();
        return chunk.size();
    }
    std::size_t cap = is_2xx(call->response.status) ? k_collected_body_cap : k_error_body_cap;
    std::string& body = call->response.body;
    if (body.size() + chunk.size() > cap) {
        if (is_2xx(call->response.status)) {
            call->too_big = true;
            return CURL_WRITEFUNC_ERROR;
        }
        body.append(chunk.substr(0, cap - std::min(cap, body.size())));
        return chunk.size();
    }
    body.append(chunk);
    return chunk.size();
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* call = static_cast<Call*>(user);
    auto n = call->request->read_body(buffer, size * count);
    if (!n) {
        call->stopped = true;
        return CURL_READFUNC_ABORT;
    }
    return *n;
}

int on_seek(void* user, curl_off_t offset, int origin) {
    auto* call = static_cast<Call*>(user);
    // libcurl only rewinds to the start (redirects, auth, a reused connection that died).
    if (offset != 0 || origin != SEEK_SET || !call->request->rewind_body)
        return CURL_SEEKFUNC_CANTSEEK;
    return call->request->rewind_body() ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                curl_off_t ulnow) {
    auto* call = static_cast<Call*>(user);
    if (interrupt_requested() && !call->request->ignore_interrupt) {
        call->interrupted = true;
        return 1;
    }
    if (const auto& report = call->request->on_transfer) {
        if (call->request->read_body)
            report(static_cast<std::uint64_t>(ulnow), static_cast<std::uint64_t>(ultotal));
        else
            report(static_cast<std::uint64_t>(dlnow), static_cast<std::uint64_t>(dltotal));
    }
    return 0;
}

// The trace behind -v: libcurl's notes and the header lines, one call each,
// with the value of any Authorization header (Basic or Bearer) redacted.
int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
    const auto& debug = *static_cast<const std::function<void(std::string_view)>*>(user);
    std::string_view prefix;
    switch (type) {
        case CURLINFO_TEXT:
            prefix = "* ";
            break;
        case CURLINFO_HEADER_OUT:
            prefix = "> ";
            break;
        case CURLINFO_HEADER_IN:
            prefix = "< ";
            break;
        default:
            return 0;  // bodies are not debug output
    }
    std::string_view text(data, size);
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
            line.remove_suffix(1);
        if (line.empty()) continue;
        std::string out(prefix);
        auto header = parse_header_line(line);
        if (type == CURLINFO_HEADER_OUT && header &&
            (header->first == "authorization" || header->first == "proxy-authorization"))
            out += std::string(line.substr(0, line.find(':'))) + ": [redacted]";
        else
            out += line;
        debug(out);
    }
    return 0;
}

}  // namespace

TransportError::Kind classify_curl_code(int curl_code) {
    using K = TransportError::Kind;
    switch (static_cast<CURLcode>(curl_code)) {
        case CURLE_COULDNT_RESOLVE_HOST:
            return K::resolve;
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
            return K::connect;
        case CURLE_OPERATION_TIMEDOUT:
            return K::timeout;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_USE_SSL_FAILED:
            return K::tls;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_UPLOAD_FAILED:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_WEIRD_SERVER_REPLY:
            return K::io;
        case CURLE_ABORTED_BY_CALLBACK:
            return interrupt_requested() ? K::interrupted : K::aborted;
        default:
            return K::other;
    }
}

std::string curl_failure_detail(const CurlHandle& handle, int code) {
    std::string detail(handle.error_message());
    if (detail.empty()) detail = curl_easy_strerror(static_cast<CURLcode>(code));
    while (!detail.empty() && detail.back() == '\n')
        detail.pop_back();
    return detail;
}

void configure_easy(CurlHandle& handle, const TransportSettings& settings, Auth auth,
                    bool streaming) {
    CURL* easy = handle.get();
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(easy, CURLOPT_USERAGENT, api::k_user_agent.data());
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(settings.connect_timeout.count()));
    if (streaming) {
        // No total limit for a transfer of any size, but a stalled one ends.
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                         static_cast<long>(settings.stall_timeout.count()));
    } else {
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                         static_cast<long>(settings.request_timeout.count()));
    }
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, settings.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, settings.verify_tls ? 2L : 0L);
    if (!settings.ca_path.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, settings.ca_path.c_str());
    // (fmt rather than std::string + ": " + ...: g++ 12 reports a false
    // -Warray-bounds on that concatenation once inlined here.)
    handle.set_standing_header(
        settings.sync_lease.empty()
            ? std::string()
            : fmt::format("{}: {}", api::k_header_sync_lease, settings.sync_lease));

    if (auth == Auth::preferred) auth = settings.token.empty() ? Auth::basic : Auth::bearer;
    if (auth == Auth::bearer) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
        curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, settings.token.c_str());
    } else if (auth == Auth::basic) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        curl_easy_setopt(easy, CURLOPT_USERNAME, settings.username.c_str());
        curl_easy_setopt(easy, CURLOPT_PASSWORD, settings.api_key.c_str());
    }

    if (settings.debug) {
        curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(easy, CURLOPT_DEBUGDATA, &settings.debug);
        curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
    }
}

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void CurlHandle::EasyDeleter::operator()(CURL* easy) const noexcept {
    curl_easy_cleanup(easy);
}
void CurlHandle::SlistDeleter::operator()(curl_slist* list) const noexcept {
    curl_slist_free_all(list);
}

CurlHandle::CurlHandle() : m_easy(curl_easy_init()), m_error(new char[CURL_ERROR_SIZE]) {
    if (!m_easy) throw std::bad_alloc();
    reset();
}

void CurlHandle::reset() {
    curl_easy_reset(m_easy.get());
    m_headers.reset();
    m_error[0] = '\0';
    curl_easy_setopt(m_easy.get(), CURLOPT_ERRORBUFFER, m_error.get());
}

void CurlHandle::set_headers(const std::vector<std::string>& lines) {
    curl_slist* list = nullptr;
    auto append = [&](const std::string& line) {
        curl_slist* next = curl_slist_append(list, line.c_str());
        if (!next) {
            curl_slist_free_all(list);
            throw std::bad_alloc();
        }
        list = next;
    };
    for (const auto& line : lines)
        append(line);
    if (!m_standing.empty()) append(m_standing);
    m_headers.reset(list);
    curl_easy_setopt(m_easy.get(), CURLOPT_HTTPHEADER, list);
}

Transport::Transport(TransportSettings settings) : m_settings(std::move(settings)) {
    global_init();
}
Transport::Transport(Transport&&) noexcept = default;
Transport& Transport::operator=(Transport&&) noexcept = default;
Transport::~Transport() = default;

std::expected<Response, TransportError> Transport::perform(const Request& request) {
    if (interrupt_requested() && !request.ignore_interrupt)
        return std::unexpected(TransportError{TransportError::Kind::interrupted, "interrupted", 0});
    if (!m_handle)
        m_handle.emplace();
    else
        m_handle->reset();
    CURL* easy = m_handle->get();
    Call call;
    call.request = &request;

    configure_easy(*m_handle, m_settings, request.auth, request.streaming);
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    if (request.streaming) {
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, k_stream_buffer);
        curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, k_upload_buffer);
    }
    std::vector<std::string> headers = request.headers;

    const std::string& method = request.method;
    if (method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if ((method == "PUT" || method == "POST") && request.read_body) {
        curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        // A streamed POST (the batch upload's tar body): libcurl's upload mode
        // under the right method name.
        if (method == "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "POST");
        curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(easy, CURLOPT_READDATA, &call);
        curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(easy, CURLOPT_SEEKDATA, &call);
        curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE,
                         static_cast<curl_off_t>(request.body_size));
    } else if (method != "GET") {
        const std::string empty;
        const std::string& body = request.json_body ? *request.json_body : empty;
        if (method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
        if (request.json_body || method == "POST" || method == "PUT" || method == "PATCH") {
            // COPYPOSTFIELDS: the body may be the empty temporary above.
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(body.size()));
            curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, body.c_str());
        }
        // libcurl would label a POST body as a form; say what it is, or nothing.
        headers.push_back(request.json_body ? "Content-Type: application/json" : "Content-Type:");
        headers.push_back("Expect:");
    }
    m_handle->set_headers(headers);

    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &call);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &call);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &call);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, &call);

    CURLcode code = curl_easy_perform(easy);
    if (code == CURLE_OK) return std::move(call.response);

    TransportError error;
    error.received = call.received;
    error.sends = call.response.sends;
    error.detail = curl_failure_detail(*m_handle, code);
    if (call.interrupted || (interrupt_requested() && !request.ignore_interrupt)) {
        error.kind = TransportError::Kind::interrupted;
    } else if (call.stopped) {
        error.kind = TransportError::Kind::aborted;
    } else if (call.too_big) {
        error.kind = TransportError::Kind::other;
        error.detail = "the response is larger than expected";
    } else {
        error.kind = classify_curl_code(code);
        // A server may answer an upload early (quota, conflict) and close the
        // connection while the body is still being sent; its status is what counts.
        if (error.kind == TransportError::Kind::io && call.response.status >= 400)
            return std::move(call.response);
    }
    return std::unexpected(std::move(error));
}

}  // namespace de::http

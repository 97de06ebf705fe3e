#pragma once
// A small RAII owner of a libcurl multi handle, private to libde, for engines
// that keep several transfers in flight on one thread (resumable uploads in
// parts, parallel ranged downloads). The caller owns the easy handles (e.g.
// http::CurlHandle, reused request after request so their connections stay
// alive; set up by http::configure_easy); CurlMulti only drives them. Nothing
// here retries or interprets a response: the engine does, asking the shared
// classifier and retry policy (http_util.hpp).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

typedef void CURL;  // as <curl/curl.h> declares them
typedef void CURLM;

namespace de::http {

class CurlMulti {
  public:
    // One finished transfer: its easy handle and libcurl's result (a CURLcode).
    struct Done {
        CURL* easy = nullptr;
        int code = 0;
    };

    // max_connections caps the connections to one host (0: libcurl's default);
    // the pool is shared by every handle added, so keep-alive connections are reused.
    explicit CurlMulti(long max_connections = 0);  // throws std::bad_alloc
    CurlMulti(CurlMulti&&) noexcept = default;
    CurlMulti& operator=(CurlMulti&&) noexcept = default;
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;
    ~CurlMulti();  // removes any handle still added

    CURLM* get() const { return m_multi.get(); }

    // Starts driving a configured easy handle / stops (also mid-transfer). An
    // easy handle must be removed before it is reset, reconfigured or freed.
    void add(CURL* easy);
    void remove(CURL* easy);
    std::size_t active() const { return m_easies.size(); }

    // Moves every transfer forward, then waits up to timeout for socket
    // activity (returns early when there is some). Returns the transfers that
    // finished; they are removed from the multi handle already. An empty
    // string in error means the multi handle works; otherwise it says why not.
    std::vector<Done> run(std::chrono::milliseconds timeout, std::string& error);
    // Ends a wait in run() early; callable from any thread.
    void wakeup();

  private:
    struct MultiDeleter {
        void operator()(CURLM* multi) const noexcept;
    };
    std::unique_ptr<CURLM, MultiDeleter> m_multi;
    std::vector<CURL*> m_easies;
};

}  // namespace de::http

// CurlMulti (see curl_multi.hpp): perform, poll, collect finished transfers.
// curl_multi_poll (not wait) so that a caller on another thread could wake it,
// and so an idle multi still sleeps the whole timeout instead of spinning.
#include "curl_multi.hpp"

#include "http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <new>

namespace de::http {

void CurlMulti::MultiDeleter::operator()(CURLM* multi) const noexcept {
    curl_multi_cleanup(multi);
}

CurlMulti::CurlMulti(long max_connections) {
    global_init();
    m_multi.reset(curl_multi_init());
    if (!m_multi) throw std::bad_alloc();
    if (max_connections > 0) {
        curl_multi_setopt(m_multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS, max_connections);
        curl_multi_setopt(m_multi.get(), CURLMOPT_MAXCONNECTS, max_connections);
    }
}

CurlMulti::~CurlMulti() {
    if (!m_multi) return;  // moved from
    for (CURL* easy : m_easies)
        curl_multi_remove_handle(m_multi.get(), easy);
}

void CurlMulti::add(CURL* easy) {
    if (curl_multi_add_handle(m_multi.get(), easy) == CURLM_OK) m_easies.push_back(easy);
}

void CurlMulti::remove(CURL* easy) {
    auto it = std::find(m_easies.begin(), m_easies.end(), easy);
    if (it == m_easies.end()) return;
    curl_multi_remove_handle(m_multi.get(), easy);
    m_easies.erase(it);
}

void CurlMulti::wakeup() {
    curl_multi_wakeup(m_multi.get());
}

std::vector<CurlMulti::Done> CurlMulti::run(std::chrono::milliseconds timeout, std::string& error) {
    error.clear();
    std::vector<Done> done;
    int running = 0;
    CURLMcode mc = curl_multi_perform(m_multi.get(), &running);
    // With nothing added, poll just sleeps the timeout (callers waiting out a backoff).
    if (mc == CURLM_OK && (running > 0 || m_easies.empty()))
        mc = curl_multi_poll(m_multi.get(), nullptr, 0, static_cast<int>(timeout.count()), nullptr);
    if (mc == CURLM_OK) mc = curl_multi_perform(m_multi.get(), &running);
    if (mc != CURLM_OK) {
        error = curl_multi_strerror(mc);
        return done;
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m_multi.get(), &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        done.push_back(Done{msg->easy_handle, static_cast<int>(msg->data.result)});
    }
    for (const auto& d : done)
        remove(d.easy);
    return done;
}

}  // namespace de::http

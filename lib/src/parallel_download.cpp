// Parallel ranged downloads (issue 4): a file of at least
// DownloadOptions::parallel_threshold bytes is fetched as ranges of 16 MiB
// over several connections at once into a temporary file beside the target,
// which is renamed into place only after its CRC-64 equals the server's
// Repr-Digest (issue #15: no SHA-256 on the client; the ETag names the content).
//
// The CRC: each range's CRC-64 is computed from the bytes as they are written
// (a range that breaks and is asked again from where it stopped continues its
// CRC), and the ranges' CRCs are combined in file order (crc64_combine) into
// the whole file's, so nothing is read back. Per range there is no separate
// check on the wire (the server would have to read each range twice to send
// its CRC before the bytes): a mismatch of the combined CRC starts the
// download over once, like a change of the file on the server; a second
// mismatch fails, and nothing is written.
//
// One unit although long: the multi loop, the range table, the gathering
// buffers, the hash follower and the final rename all act on one temporary
// file and one attempt's state (size, ETag, which bytes are written).
//
// Threads: one thread (the caller's) drives every connection with a libcurl
// multi handle and pwrite()s what each connection receives at its offset,
// gathered into one fixed buffer per connection (1 MiB, at most 4 MiB in all)
// besides libcurl's own, so memory stays flat whatever the size (measured:
// 24 MiB peak RSS at 2 GiB and at 8 GiB with 8 connections).
// A second thread, the writeback follower, starts the writeback of the file's
// contiguous written prefix as it grows (sync_file_range), so the fdatasync
// before the rename costs little once the last byte arrives. Progress events
// come from the caller's thread only.
//
// No extra round trip: the first range request also learns the size (from
// Content-Range), the ETag and the mtime; the other connections start when its
// headers arrive. Every later range carries If-Match with that ETag and its
// answer's ETag and total size are checked as well (de-server answers 412 to
// an If-Match that no longer holds; the check on our side covers servers that
// ignore If-Match on GET); a change starts the download over once, a second
// one fails.
//
// Failures: a range that breaks (connection refused or reset, timeout, 5xx,
// 503 while a server restarts) keeps the bytes it already wrote and is asked
// again from where it stopped; each range has its own http::Retry (backoff,
// and a budget of 30 s without progress). Failures are classified by the
// shared http::classify_curl_code / response_error.
//
// HTTP: every range connection is set up by http::configure_easy (TLS,
// credentials, timeouts, the -v trace), like every other request of libde.
//
// Durability: like the single-stream download, the temporary file is
// fdatasync()ed before the rename and the folder is fsynced after it, so a
// crash never leaves a torn file under the target's name; the early writeback
// keeps that flush short.
//
// Test seams (ClientOptions::hooks, never the environment): range_size tunes
// the ranges; slow_download_bps (over all connections together), no_writeback
// and fallocate are compiled in only with DE_TEST_HOOKS. With -vv a last line
// says where the time went.
#include "transfers.hpp"

#include <de/api.hpp>
#include <de/crc64.hpp>
#include <de/remote_path.hpp>
#include <de/sha256.hpp>
#include <de/size.hpp>

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace de::detail {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint64_t k_range_size = 16ULL << 20;
constexpr std::uint64_t k_writeback_step = 32ULL << 20;
constexpr std::uint64_t k_progress_step = 1 << 20;
constexpr std::size_t k_error_body_cap = 16 * 1024;
constexpr long k_receive_buffer = 512 * 1024;  // CURL_MAX_READ_SIZE
constexpr int k_max_connections = 16;
constexpr int k_max_restarts = 1;  // the file changed on the server: start over once

std::string errno_text(int err) {
    return std::strerror(err);
}

// "bytes A-B/SIZE" -> {A, B, SIZE}; "bytes */SIZE" -> {0, 0, SIZE} with star set.
struct ContentRange {
    std::uint64_t first = 0, last = 0, size = 0;
    bool star = false;
};
std::optional<ContentRange> parse_content_range(std::string_view text) {
    if (!text.starts_with("bytes ")) return std::nullopt;
    text.remove_prefix(6);
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    ContentRange out;
    auto size = http::parse_int(text.substr(slash + 1));
    if (!size || *size < 0) return std::nullopt;
    out.size = static_cast<std::uint64_t>(*size);
    std::string_view span = text.substr(0, slash);
    if (span == "*") {
        out.star = true;
        return out;
    }
    auto dash = span.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto first = http::parse_int(span.substr(0, dash));
    auto last = http::parse_int(span.substr(dash + 1));
    if (!first || !last || *first < 0 || *last < *first) return std::nullopt;
    out.first = static_cast<std::uint64_t>(*first);
    out.last = static_cast<std::uint64_t>(*last);
    return out;
}

using http::response_error;

// The follower: starts the writeback of [0, ready) as `ready` grows.
class WritebackFollower {
  public:
    WritebackFollower(int fd, bool early_writeback)
        : m_fd(fd), m_early_writeback(early_writeback), m_thread([this] { run(); }) {}
    ~WritebackFollower() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }
    // Bytes [0, ready) are written.
    void advance(std::uint64_t ready) {
        {
            std::lock_guard lock(m_mutex);
            if (ready <= m_ready) return;
            m_ready = ready;
        }
        m_cv.notify_one();
    }

  private:
    void run() {
        std::uint64_t flushed = 0;
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_cv.wait(lock, [&] { return m_stop || m_ready >= flushed + k_writeback_step; });
            if (m_stop) return;
            std::uint64_t to = m_ready;
            lock.unlock();
            if (m_early_writeback)
                ::sync_file_range(m_fd, static_cast<off_t>(flushed),
                                  static_cast<off_t>(to - flushed), SYNC_FILE_RANGE_WRITE);
            flushed = to;
            lock.lock();
        }
    }

    int m_fd;
    bool m_early_writeback;  // off only through TestHooks::no_writeback, to measure it
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::uint64_t m_ready = 0;
    bool m_stop = false;
    std::thread m_thread;  // last: starts after everything above is set up
};

struct Range {
    std::uint64_t begin = 0, end = 0;  // [begin, end)
    std::uint64_t pos = 0;             // bytes [begin, pos) are written
    std::uint64_t crc = 0;             // CRC-64 of [begin, pos)
    bool active = false;
    http::Retry retry;  // this range's fetches
    Clock::time_point retry_at{};
};

class Engine;

// One connection: an easy handle reused request after request (the multi
// handle keeps its connection alive), and the state of its current request.
struct Slot {
    Engine* engine = nullptr;
    http::CurlHandle handle;
    std::size_t range = 0;
    bool busy = false;
    int status = 0;
    http::Headers headers;
    bool checked = false;        // the answer's headers were checked (first body byte)
    std::string error_body;      // a non-2xx answer's body
    std::optional<Error> abort;  // why our callback stopped the transfer
    bool changed = false;        // the file changed on the server
    std::uint64_t received = 0;  // body bytes of this request
    // libcurl hands the body over 16 KiB at a time; gathering it here first
    // makes one pwrite() a MiB instead of 64 (measured: 131k pwrites for 2 GiB).
    // It holds the bytes [range.pos, range.pos + buffered).
    std::unique_ptr<char[]> buffer;
    std::size_t buffered = 0;
};

enum class Outcome { done, restart, failed };

class Engine {
  public:
    Engine(const TransferEnv& env, std::string url, const std::string& remote,
           const DownloadOptions& options, const std::string& what, TransferReport* report, int fd,
           std::string temp)
        : m_env(env),
          m_url(std::move(url)),
          m_remote(remote),
          m_options(options),
          m_what(what),
          m_report(report),
          m_fd(fd),
          m_temp(std::move(temp)),
          m_rng(static_cast<unsigned>(Clock::now().time_since_epoch().count())) {
        m_connections = std::clamp(options.connections, 1, k_max_connections);
        const TestHooks* hooks = env.hooks.get();
        if (hooks && hooks->range_size)
            m_range_size = std::max<std::uint64_t>(4096, *hooks->range_size);
#ifdef DE_TEST_HOOKS
        if (hooks) {
            if (hooks->slow_download_bps) m_recv_limit = hooks->slow_download_bps;
            m_early_writeback = !hooks->no_writeback;
            m_fallocate = hooks->fallocate;
        }
#endif
    }

    // One attempt at the whole file. On done, size/crc/mtime are set.
    Outcome run();

    std::optional<Error> error;
    std::uint64_t size = 0;
    std::string etag_sha;                   // the server's SHA-256 (hex), from the first answer
    std::optional<std::uint64_t> repr_crc;  // the server's Repr-Digest, from the first answer
    std::int64_t mtime_ns = 0;
    std::uint64_t crc = 0;             // what we received, combined from the ranges
    bool crc_mismatch = false;         // the last attempt's CRC differed from Repr-Digest
    Clock::time_point last_byte_at{};  // for the -v timing line

    // libcurl callbacks
    static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user);
    static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user);

  private:
    bool check_answer(Slot& slot);
    std::size_t write_body(Slot& slot, std::string_view chunk);
    void start(Slot& slot, std::size_t range);
    void finished(Slot& slot, CURLcode code);
    void retry_later(Slot& slot, const http::Attempt& attempt, std::string_view why);
    // Per range, without a byte of progress: ClientOptions::retry_budget (30 s
    // by default; 0: max_retries in a row instead).
    http::Retry new_retry() {
        const bool timed = m_env.retry_budget.count() > 0;
        return http::Retry(
            http::RetryPolicy{timed ? -1 : m_env.max_retries, 250ms, 2'000ms, m_env.retry_budget},
            true, static_cast<std::uint32_t>(m_rng()));
    }
    void learned_size();
#ifdef DE_TEST_HOOKS
    void throttle();
#endif
    bool flush(Slot& slot);
    std::uint64_t prefix();
    void report_progress(bool force);

    const TransferEnv& m_env;
    std::string m_url;
    const std::string& m_remote;
    const DownloadOptions& m_options;
    const std::string& m_what;
    TransferReport* m_report;
    int m_fd;
    std::string m_temp;
    std::minstd_rand m_rng;
    int m_connections = 1;
    std::uint64_t m_range_size = k_range_size;
    std::size_t m_buffer_size = 1 << 20;
    std::uint64_t m_recv_limit = 0;  // TestHooks::slow_download_bps; 0: no limit
    bool m_early_writeback = true;   // TestHooks::no_writeback turns it off
    bool m_fallocate = false;        // TestHooks::fallocate
    Clock::time_point m_throttle_start{};

    CURLM* m_multi = nullptr;
    std::vector<Slot> m_slots;
    std::vector<Range> m_ranges;
    bool m_size_known = false;
    bool m_restart = false;
    std::size_t m_first_open = 0;  // ranges before it are complete
    std::uint64_t m_done = 0, m_reported = 0;
    bool m_started = false;
    bool m_failing = false;
    Clock::time_point m_hold_until{};  // no new range starts before (after a failure)  // for the
                                       // notice when transfers recover
};

std::size_t Engine::on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* slot = static_cast<Slot*>(user);
    std::string_view line(data, size * count);
    if (auto status = http::parse_status_line(line)) {
        slot->status = *status;
        slot->headers.clear();
    } else if (auto header = http::parse_header_line(line)) {
        slot->headers.add(std::move(header->first), std::move(header->second));
    }
    return size * count;
}

std::size_t Engine::on_write(char* data, std::size_t size, std::size_t count, void* user) {
    auto* slot = static_cast<Slot*>(user);
    return slot->engine->write_body(*slot, std::string_view(data, size * count));
}

// Checks a 206 answer against what this range asked for and what the first
// answer said about the file. Learns size, ETag and mtime from the first one.
bool Engine::check_answer(Slot& slot) {
    slot.checked = true;
    auto cr_text = slot.headers.find("content-range");
    auto parsed = parse_content_range(cr_text.value_or(""));
    auto etag_text = slot.headers.find("etag");
    auto etag = etag_text ? api::sha256_from_etag(*etag_text) : std::nullopt;
    if (!parsed || parsed->star || !etag) {
        slot.abort = Error{ErrorKind::generic,
                           fmt::format("{} failed: the server answered a range request without a "
                                       "valid Content-Range and ETag; check that the host is a "
                                       "de-server",
                                       m_what),
                           slot.status,
                           {}};
        return false;
    }
    const ContentRange* cr = &*parsed;
    if (!m_size_known) {
        size = cr->size;
        etag_sha = *etag;
        if (auto v = slot.headers.find("repr-digest")) repr_crc = api::parse_digest_crc64(*v);
        if (auto v = slot.headers.find("x-de-mtime-ns")) mtime_ns = http::parse_int(*v).value_or(0);
        m_size_known = true;
        learned_size();
        if (error) return false;
    } else if (cr->size != size || *etag != etag_sha) {
        slot.changed = true;
        return false;
    }
    const Range& range = m_ranges[slot.range];  // after learned_size(), which rebuilds the list
    if (cr->first != range.pos || cr->last >= range.end) {
        slot.abort = Error{ErrorKind::generic,
                           fmt::format("{} failed: the server sent bytes {}-{} for a request of "
                                       "{}-{}",
                                       m_what, cr->first, cr->last, range.pos, range.end - 1),
                           slot.status,
                           {}};
        return false;
    }
    return true;
}

std::size_t Engine::write_body(Slot& slot, std::string_view chunk) {
    const std::size_t size_of_chunk = chunk.size();
    if (slot.status != 206) {
        if (slot.status >= 200 && slot.status < 300) {
            slot.abort = Error{ErrorKind::generic,
                               fmt::format("{} failed: the server ignored the Range request "
                                           "(HTTP {})",
                                           m_what, slot.status),
                               slot.status,
                               {}};
            return CURL_WRITEFUNC_ERROR;
        }
        auto room = k_error_body_cap - std::min(k_error_body_cap, slot.error_body.size());
        slot.error_body.append(chunk.substr(0, room));
        return chunk.size();
    }
    if (!slot.checked && !check_answer(slot)) return CURL_WRITEFUNC_ERROR;
    Range& range = m_ranges[slot.range];
    if (chunk.size() > range.end - range.pos - slot.buffered) {
        slot.abort =
            Error{ErrorKind::generic,
                  fmt::format("{} failed: the server sent more than the range asked for", m_what),
                  0,
                  {}};
        return CURL_WRITEFUNC_ERROR;
    }
    while (!chunk.empty()) {
        std::size_t take = std::min(chunk.size(), m_buffer_size - slot.buffered);
        std::memcpy(slot.buffer.get() + slot.buffered, chunk.data(), take);
        slot.buffered += take;
        chunk.remove_prefix(take);
        m_done += take;
        slot.received += take;
        if (slot.buffered == m_buffer_size && !flush(slot)) return CURL_WRITEFUNC_ERROR;
    }
    range.retry.succeeded();  // progress again: a fresh retry budget
#ifdef DE_TEST_HOOKS
    if (m_recv_limit) throttle();
#endif
    return size_of_chunk;
}

// Writes the slot's gathered bytes at their offset; false (and slot.abort) on failure.
bool Engine::flush(Slot& slot) {
    Range& range = m_ranges[slot.range];
    const char* data = slot.buffer.get();
    std::size_t left = slot.buffered;
    while (left > 0) {
        ssize_t n = ::pwrite(m_fd, data, left, static_cast<off_t>(range.pos));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            slot.abort = Error{
                err == ENOSPC || err == EDQUOT ? ErrorKind::quota : ErrorKind::generic,
                fmt::format("{} failed: cannot write '{}': {}", m_what, m_temp, errno_text(err)),
                0,
                {}};
            slot.buffered = 0;
            return false;
        }
        range.crc = crc64_update(range.crc, data, static_cast<std::size_t>(n));
        data += n;
        left -= static_cast<std::size_t>(n);
        range.pos += static_cast<std::uint64_t>(n);
    }
    slot.buffered = 0;
    return true;
}

#ifdef DE_TEST_HOOKS
// TestHooks::slow_download_bps: holds the whole loop back to m_recv_limit
// bytes a second over all connections. libcurl's own per-transfer limit
// measures each request afresh, so short ranges would burst past it.
void Engine::throttle() {
    auto now = Clock::now();
    if (m_throttle_start == Clock::time_point{}) m_throttle_start = now;
    auto due = m_throttle_start +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                   static_cast<double>(m_done) / static_cast<double>(m_recv_limit)));
    while (now < due && !interrupt_requested()) {
        std::this_thread::sleep_for(std::min<Clock::duration>(due - now, 20ms));
        now = Clock::now();
    }
}
#endif

// The file's size is known: reserve the space and cut it into ranges.
void Engine::learned_size() {
    if (size > 0) {
        // A sparse file of the full size, not fallocate(): writing into
        // preallocated (unwritten) extents measured slower here (2 GiB over 8
        // connections: 5.3-5.8 s against 3.8-4.1 s). Room is checked up front
        // instead, so a full disk fails before the first byte, not at 90%.
        // TestHooks::fallocate reserves the blocks, to measure it again.
        int rc = 0;
        struct statvfs fs {};
        if (::fstatvfs(m_fd, &fs) == 0 &&
            static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < size) {
            rc = ENOSPC;
        } else if (m_fallocate) {
            rc = ::posix_fallocate(m_fd, 0, static_cast<off_t>(size));
        }
        if (rc == 0 || rc == EOPNOTSUPP || rc == EINVAL)
            rc = ::ftruncate(m_fd, static_cast<off_t>(size)) ? errno : 0;
        if (rc != 0) {
            error = Error{rc == ENOSPC || rc == EDQUOT ? ErrorKind::quota : ErrorKind::generic,
                          fmt::format("{} failed: cannot make room for {} in '{}': {}{}", m_what,
                                      format_size(size), m_temp, errno_text(rc),
                                      rc == ENOSPC ? "; free some space on the local disk" : ""),
                          0,
                          {}};
            return;
        }
    }
    // Range 0 is in flight already (it asked for the first m_range_size bytes).
    Range first = m_ranges.front();
    m_ranges.clear();
    for (std::uint64_t at = 0; at < size; at += m_range_size) {
        Range r;
        r.retry = new_retry();
        r.begin = r.pos = at;
        r.end = std::min(size, at + m_range_size);
        m_ranges.push_back(r);
    }
    if (m_ranges.empty()) {
        m_ranges.push_back(Range{});  // an empty file: one empty, complete range
    } else {
        m_ranges.front().active = first.active;
        m_ranges.front().pos = first.pos;
        m_ranges.front().crc = first.crc;
        m_ranges.front().retry = first.retry;
    }
    if (m_options.progress && !m_started) {
        m_started = true;
        m_options.progress(ProgressEvent{ProgressEvent::Phase::start, m_remote, 0, size});
    }
}

void Engine::start(Slot& slot, std::size_t index) {
    Range& range = m_ranges[index];
    range.active = true;
    slot.range = index;
    slot.busy = true;
    slot.status = 0;
    slot.headers.clear();
    slot.checked = false;
    slot.error_body.clear();
    slot.abort.reset();
    slot.changed = false;
    slot.received = 0;
    slot.buffered = 0;

    slot.handle.reset();
    CURL* easy = slot.handle.get();
    http::configure_easy(slot.handle, m_env.settings, http::Auth::preferred, true);
    curl_easy_setopt(easy, CURLOPT_URL, m_url.c_str());
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, k_receive_buffer);

    std::vector<std::string> headers;
    // Before the size is known, the first request asks for the first range's bytes.
    std::uint64_t last = m_size_known ? range.end - 1 : m_range_size - 1;
    headers.push_back(fmt::format("Range: bytes={}-{}", range.pos, last));
    if (!etag_sha.empty()) headers.push_back("If-Match: " + api::etag_for(etag_sha));
    slot.handle.set_headers(headers);

    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Engine::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &slot);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Engine::on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &slot);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &slot);
    curl_multi_add_handle(m_multi, easy);
}

void Engine::retry_later(Slot& slot, const http::Attempt& attempt, std::string_view why) {
    Range& range = m_ranges[slot.range];
    range.active = false;
    auto now = Clock::now();
    auto verdict = range.retry.next(attempt, now);
    if (verdict.action != http::Retry::Action::retry) {
        error =
            Error{ErrorKind::network,
                  fmt::format("{} failed: de-server at {} did not answer for {} ({}); check the "
                              "network and that the server is running, then try again",
                              m_what, m_env.base_url, http::format_wait(m_env.retry_budget), why),
                  0,
                  {}};
        return;
    }
    range.retry_at = now + verdict.delay;
    // Hold back new ranges too: while the server is away, every untried range
    // would otherwise fail at once and count as a retry of its own.
    m_hold_until = std::max(m_hold_until, range.retry_at);
    if (m_report) ++m_report->retries;
    if (!m_failing) {
        m_failing = true;
        if (m_options.notice)
            m_options.notice(fmt::format(
                "downloading {}: a range fetch from {} failed ({}); retrying the unfinished "
                "ranges for up to {} (the bytes already received are kept)",
                m_remote, m_env.host, why, http::format_wait(m_env.retry_budget)));
    }
}

void Engine::finished(Slot& slot, CURLcode code) {
    curl_multi_remove_handle(m_multi, slot.handle.get());
    slot.busy = false;
    if (code == CURLE_OK && slot.status == 206 && !slot.checked) {
        // An empty body: nothing was checked yet (and the size may be learned here).
        if (!check_answer(slot) && !slot.changed && !slot.abort) return;  // error is set
    }
    if (code == CURLE_OK && slot.status == 416 && !m_size_known) {
        // The first answer: an empty file has no byte to ask for.
        auto cr_text = slot.headers.find("content-range");
        ContentRange cr = parse_content_range(cr_text.value_or("")).value_or(ContentRange{});
        if (cr.star && cr.size == 0) {
            size = 0;
            etag_sha = sha256_hex("");
            if (auto v = slot.headers.find("repr-digest")) repr_crc = api::parse_digest_crc64(*v);
            m_size_known = true;
            learned_size();
            return;
        }
    }
    if (slot.changed) {
        slot.buffered = 0;  // bytes of another version of the file: dropped
    } else if (slot.buffered > 0 && !flush(slot) && !slot.abort) {
        slot.abort = Error{ErrorKind::generic, m_what + " failed: cannot write", 0, {}};
    }
    Range& range = m_ranges[std::min(slot.range, m_ranges.size() - 1)];
    if (slot.changed) {
        range.active = false;
        m_restart = true;
        return;
    }
    if (slot.abort) {
        range.active = false;
        error = std::move(slot.abort);
        return;
    }
    if (code == CURLE_OK && slot.status == 206) {
        range.active = false;
        if (range.pos >= range.end) {
            if (m_failing && slot.received > 0) {
                m_failing = false;
                if (m_options.notice)
                    m_options.notice(
                        fmt::format("downloading {}: the server answers again; "
                                    "resumed the range fetches",
                                    m_remote));
            }
            return;
        }
        // An answer that ended early: as a broken connection, idempotent GET.
        retry_later(slot, http::Attempt{http::TransportError::Kind::io, 0},
                    "the server closed a range early");
        return;
    }
    if (code != CURLE_OK) {
        range.active = false;
        if (interrupt_requested()) return;
        auto kind = http::classify_curl_code(code);
        if (http::transient(kind)) {
            retry_later(slot, http::Attempt{kind, 0},
                        kind == http::TransportError::Kind::connect ? "cannot connect"
                                                                    : curl_easy_strerror(code));
            return;
        }
        error = http::transport_error(
            http::TransportError{kind, http::curl_failure_detail(slot.handle, code), 0}, m_env.host,
            m_what);
        return;
    }
    range.active = false;
    if (slot.status == 412 || slot.status == 416 || (slot.status == 404 && m_size_known)) {
        // 412: If-Match failed; 416: the file shrank; 404: it went away (maybe being replaced).
        if (slot.status == 404) {
            error = response_error(slot.status, slot.error_body, m_what);
            error->message +=
                "; the file was removed on the server during the download; "
                "nothing was written";
            return;
        }
        m_restart = true;
        return;
    }
    if (range.retry.retryable(http::Attempt{std::nullopt, slot.status})) {
        retry_later(slot, http::Attempt{std::nullopt, slot.status},
                    fmt::format("HTTP {}", slot.status));
        return;
    }
    error = response_error(slot.status, slot.error_body, m_what);
}

std::uint64_t Engine::prefix() {
    while (m_first_open < m_ranges.size() &&
           m_ranges[m_first_open].pos >= m_ranges[m_first_open].end)
        ++m_first_open;
    return m_first_open < m_ranges.size() ? m_ranges[m_first_open].pos : size;
}

void Engine::report_progress(bool force) {
    if (!m_options.progress || !m_started) return;
    if (!force && m_done < m_reported + k_progress_step) return;
    m_reported = m_done;
    m_options.progress(ProgressEvent{ProgressEvent::Phase::advance, m_remote, m_done, size});
}

Outcome Engine::run() {
    error.reset();
    m_restart = false;
    m_size_known = false;  // each attempt learns the file afresh
    etag_sha.clear();
    repr_crc.reset();
    size = 0;
    m_done = m_reported = 0;
    m_throttle_start = {};
    m_first_open = 0;
    m_failing = false;
    m_hold_until = {};
    m_ranges.assign(1, Range{});
    m_ranges.front().end = m_range_size;
    m_ranges.front().retry = new_retry();
    if (::ftruncate(m_fd, 0) != 0) {
        error = Error{
            ErrorKind::generic,
            fmt::format("{} failed: cannot truncate '{}': {}", m_what, m_temp, errno_text(errno)),
            0,
            {}};
        return Outcome::failed;
    }

    m_multi = curl_multi_init();
    if (!m_multi) throw std::bad_alloc();
    struct MultiGuard {
        Engine* self;
        ~MultiGuard() {
            for (auto& slot : self->m_slots)
                if (slot.busy) curl_multi_remove_handle(self->m_multi, slot.handle.get());
            curl_multi_cleanup(self->m_multi);
            self->m_multi = nullptr;
        }
    } multi_guard{this};
    curl_multi_setopt(m_multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(m_connections));
    if (m_slots.empty()) {
        m_slots.resize(static_cast<std::size_t>(m_connections));
        // At most 4 MiB of gathering buffers over all connections (RSS target 32 MiB).
        m_buffer_size = std::min<std::size_t>(1 << 20, (4 << 20) / m_slots.size());
        for (auto& slot : m_slots) {
            slot.engine = this;
            slot.buffer = std::make_unique<char[]>(m_buffer_size);
        }
    }
    for (auto& slot : m_slots) {
        slot.busy = false;
        slot.buffered = 0;
    }

    WritebackFollower follower(m_fd, m_early_writeback);
    start(m_slots.front(), 0);

    for (;;) {
        if (interrupt_requested()) {
            error = Error{ErrorKind::interrupted, fmt::format("{} interrupted", m_what), 0, {}};
            return Outcome::failed;
        }
        auto now = Clock::now();
        auto next_wake = now + 100ms;
        if (m_size_known && now < m_hold_until) {
            next_wake = std::min(next_wake, m_hold_until);
        } else if (m_size_known) {
            std::size_t next = m_first_open;
            for (auto& slot : m_slots) {
                if (slot.busy) continue;
                while (next < m_ranges.size() &&
                       (m_ranges[next].active || m_ranges[next].pos >= m_ranges[next].end ||
                        m_ranges[next].retry_at > now)) {
                    if (!m_ranges[next].active && m_ranges[next].pos < m_ranges[next].end)
                        next_wake = std::min(next_wake, m_ranges[next].retry_at);
                    ++next;
                }
                if (next >= m_ranges.size()) break;
                start(slot, next++);
            }
        } else if (!m_slots.front().busy && m_ranges.front().retry_at <= now) {
            start(m_slots.front(), 0);
        } else if (!m_slots.front().busy) {
            next_wake = std::min(next_wake, m_ranges.front().retry_at);
        }

        int running = 0;
        CURLMcode mc = curl_multi_perform(m_multi, &running);
        if (mc != CURLM_OK) {
            error = Error{ErrorKind::generic,
                          fmt::format("{} failed: libcurl: {}", m_what, curl_multi_strerror(mc)),
                          0,
                          {}};
            return Outcome::failed;
        }
        int left = 0;
        bool freed = false;  // a connection is free: give it its next range at once
        while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            freed = true;
            Slot* slot = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &slot);
            finished(*slot, msg->data.result);
            if (error || m_restart) break;
        }
        if (interrupt_requested()) continue;
        if (error) return Outcome::failed;
        if (m_restart) return Outcome::restart;

        if (m_size_known) {
            follower.advance(prefix());
            report_progress(false);
            if (m_first_open >= m_ranges.size()) break;
        }
        if (freed) continue;
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_wake - Clock::now());
        int timeout = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 100));
        if (running > 0 || timeout > 0) curl_multi_poll(m_multi, nullptr, 0, timeout, nullptr);
    }
    report_progress(true);
    last_byte_at = Clock::now();
    crc = 0;
    for (const Range& r : m_ranges)
        crc = crc64_combine(crc, r.crc, r.end - r.begin);
    if (repr_crc && *repr_crc != crc) {
        crc_mismatch = true;
        return Outcome::restart;
    }
    return Outcome::done;
}

}  // namespace

Result<Entry> parallel_download(const TransferEnv& env, const std::string& remote,
                                const std::filesystem::path& local, const DownloadOptions& options,
                                const std::string& what, TransferReport* report) {
    http::global_init();
    if (report) *report = TransferReport{};
    auto encoded = http::encode_remote_path(remote);
    if (!encoded) return std::unexpected(encoded.error());
    std::string url = http::build_url(env.base_url, env.app_route + "/mount/files/" + *encoded);

    std::filesystem::path dir = local.parent_path();
    if (dir.empty()) dir = ".";
    std::string temp;
    int raw_fd = create_download_temp(dir, local, temp);
    if (raw_fd < 0)
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: cannot create a temporary file in '{}': {}", what,
                                dir.string(), errno_text(errno)));
    // Whatever goes wrong below, the partial file goes.
    struct TempGuard {
        std::string path;
        int fd;
        bool armed = true;
        ~TempGuard() {
            if (fd >= 0) ::close(fd);
            if (armed) ::unlink(path.c_str());
        }
    } guard{temp, raw_fd};

    Engine engine(env, url, remote, options, what, report, raw_fd, temp);
    if (report) report->connections = std::clamp(options.connections, 1, k_max_connections);
    Clock::time_point begun;
    for (int restarts = 0;; ++restarts) {
        begun = Clock::now();
        Outcome outcome = engine.run();
        if (outcome == Outcome::done) break;
        if (outcome == Outcome::failed) return std::unexpected(*engine.error);
        if (engine.crc_mismatch && restarts >= k_max_restarts)
            return fail(
                ErrorKind::generic,
                fmt::format("{} failed: the received data's CRC-64 ({}) differs from the "
                            "server's ({}), twice: damaged in transit, or the file changed "
                            "during the transfer; nothing was written; try again",
                            what, crc64_hex(engine.crc), crc64_hex(engine.repr_crc.value_or(0))));
        if (restarts >= k_max_restarts)
            return fail(ErrorKind::conflict,
                        fmt::format("{} failed: the file changed on the server while it was being "
                                    "downloaded, twice; nothing was written; try again when it is "
                                    "no longer being written",
                                    what));
        if (options.notice)
            options.notice(
                engine.crc_mismatch
                    ? fmt::format("downloading {}: the received data's CRC-64 differs from the "
                                  "server's; starting over",
                                  remote)
                    : fmt::format("downloading {}: the file changed on the server; starting over",
                                  remote));
        engine.crc_mismatch = false;
    }

    int fd = guard.fd;
    if (auto sealed = seal_download(fd, temp, engine.mtime_ns, what); !sealed)
        return std::unexpected(sealed.error());
    if (env.settings.debug) {
        auto secs = [&](Clock::time_point t) {
            return std::chrono::duration<double>(t - begun).count();
        };
        // Where the time went, for tuning: the hash and the flush should end soon after the data.
        env.settings.debug(fmt::format(
            "* parallel download of {}: {} in {} ranges over {} connections; last byte at {:.2f} "
            "s, flushed at {:.2f} s; {} retries",
            remote, format_size(engine.size), (engine.size + k_range_size - 1) / k_range_size,
            std::clamp(options.connections, 1, k_max_connections), secs(engine.last_byte_at),
            secs(Clock::now()), report ? report->retries : 0));
    }
    guard.fd = -1;
    if (::close(fd) != 0)
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: cannot close '{}': {}", what, temp, errno_text(errno)));
    if (!options.overwrite) {
        struct stat st {};
        if (::lstat(local.c_str(), &st) == 0)
            return fail(ErrorKind::conflict,
                        fmt::format("{} failed: the local file appeared during the download; "
                                    "allow overwriting to replace it",
                                    what));
    }
    if (auto placed = move_download_into_place(temp, local, dir, what); !placed)
        return std::unexpected(placed.error());
    guard.armed = false;
    if (options.progress)
        options.progress(
            ProgressEvent{ProgressEvent::Phase::finish, remote, engine.size, engine.size});
    return Entry{remote, EntryType::file, engine.size, engine.mtime_ns, engine.etag_sha};
}

}  // namespace de::detail

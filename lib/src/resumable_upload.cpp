// Resumable uploads in parallel parts (docs/api.md: "Resumable uploads (tus 1.0)"
// and "The parts extension"), the engine behind Client::upload for big files.
//
// One unit although long: the connections, the loader thread, the hashing
// modes and the resume journal share one Upload's state (which parts are
// acknowledged, which bytes went through the hasher) and one retry fate;
// split apart they would have to expose that state to each other.
//
// Design:
// - One tus upload with `Upload-Parts: P`; its URL goes into the resume journal
//   (upload_journal.hpp) right after creation. A re-run of the same upload asks
//   the server (HEAD → Upload-Parts-Done) what it holds and sends the rest.
// - Transfer: `connections` easy handles (each reused, HTTP/1.1 keep-alive)
//   driven by one CurlMulti on this thread. Each connection owns one buffer of
//   C bytes (C = P by default): a loader thread reads a PATCH body into it and
//   computes its CRC-64 (Upload-Checksum: crc64, ISA-L at several GB/s), then
//   it is sent straight from there (CURLOPT_POSTFIELDS, no copy). The buffer
//   stays until the server acknowledges it, so a 460 or a broken connection
//   resends the same bytes. Memory is connections × C (≤ 12 MiB) whatever the
//   file size.
// - Whole-file check: the CRC-64 of the file (sent to .../complete; the server
//   commits only when the bytes it holds have it) is combined from the parts'
//   CRCs (crc64_combine), so each byte is read once, by the loader, for the
//   socket and the CRC together. No SHA-256 on this side: the server computes
//   it once, in the pass where it checks the data (the ETag). Each part's CRC
//   is appended to the journal's `.crc` file when the server acknowledges the
//   part, so a re-run after kill -9 reads and sends only what the server does
//   not hold (plus the few parts whose CRC line was lost); `verify` reads the
//   held parts again instead of trusting those lines.
// - Failures: 460 resends the chunk; network errors and 5xx back off and
//   resend as http::Retry decides (one policy for the whole upload, with a
//   time budget (ClientOptions::retry_budget, 30 s) since the server last answered or took
//   bytes, so a server restart is survived); beyond that the upload fails
//   with ErrorKind::network and the journal lets a re-run continue. Ctrl-C
//   stops at once, keeping the journal.
// - HTTP: every PATCH connection is set up by http::configure_easy (TLS,
//   credentials, timeouts, the -v trace), like every other request of libde.
// - Test seams (ClientOptions::hooks): a corrupted part, throttled PATCH
//   connections and a short outage budget, compiled in only with DE_TEST_HOOKS.
#include "curl_multi.hpp"
#include "transfers.hpp"
#include "upload_journal.hpp"

#include <de/api.hpp>
#include <de/crc64.hpp>
#include <de/json.hpp>
#include <de/sha256.hpp>  // base64_encode
#include <de/size.hpp>

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace de::detail {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t k_mib = 1ULL << 20;
constexpr std::uint64_t k_buffers_total = 12 * k_mib;  // all PATCH buffers together
constexpr std::uint64_t k_min_chunk = 512 * 1024;
constexpr std::uint64_t k_max_chunk = 4 * k_mib;
constexpr std::uint64_t k_target_max_parts = 4096;  // keeps the server's part table small
constexpr int k_max_connections = 16;
constexpr int k_max_checksum_retries = 5;  // 460s in a row for one chunk
constexpr int k_max_conflicts = 5;         // 409s in a row for one chunk
constexpr std::size_t k_error_body_cap = 64 * 1024;
constexpr std::size_t k_hash_read = 512 * 1024;
constexpr std::uint64_t k_progress_step = 256 * 1024;

// The fault injection of de/test_hooks.hpp this engine obeys, copied out of
// ClientOptions::hooks; all unset in a build without DE_TEST_HOOKS.
struct Faults {
    std::optional<std::uint64_t> corrupt_part;  // cleared once used
    curl_off_t slow_bytes_per_sec = 0;
    // ClientOptions::retry_budget (TransferEnv), or the test hook's.
    std::chrono::milliseconds outage_budget{30'000};
    bool abort_after_complete = false;      // die (SIGKILL) once the server answered .../complete
    bool abort_in_journal_removal = false;  // die (SIGKILL) halfway through removing the journal

    static Faults from(const TestHooks* hooks, std::chrono::milliseconds retry_budget) {
        Faults faults;
        faults.outage_budget = retry_budget;
#ifdef DE_TEST_HOOKS
        if (!hooks) return faults;
        faults.corrupt_part = hooks->corrupt_part;
        faults.slow_bytes_per_sec = static_cast<curl_off_t>(hooks->slow_upload_bps);
        if (hooks->outage_budget) faults.outage_budget = *hooks->outage_budget;
        faults.abort_after_complete = hooks->abort_after_complete;
        faults.abort_in_journal_removal = hooks->abort_in_journal_removal;
#else
        (void)hooks;
#endif
        return faults;
    }
};

std::string b64(std::string_view text) {
    return base64_encode(
        std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string errno_text(int err) {
    return std::strerror(err);
}

LocalIdentity identity_of(const struct stat& st) {
    return LocalIdentity{
        static_cast<std::uint64_t>(st.st_size),
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
        static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

using http::response_error;

// A 409 at completion that a later attempt can overcome (docs/api.md: the
// upload is still being written or completed), as opposed to a target that
// exists already or cannot become a file, which ends the upload.
bool transient_conflict(std::string_view message) {
    for (std::string_view phrase :
         {"are not complete", "the upload is at ", "still running", "being completed"})
        if (message.find(phrase) != std::string_view::npos) return true;
    return false;
}

// ---- one PATCH connection --------------------------------------------------

struct Chunk {
    std::uint64_t part = 0;
    std::uint64_t offset = 0;  // in the file
    std::uint64_t length = 0;
    int checksum_failures = 0;
    int conflicts = 0;       // 409s at the part's start
    bool corrupted = false;  // TestHooks::corrupt_part: one byte flipped after hashing
    std::size_t corrupted_at = 0;
};

struct Connection {
    http::CurlHandle handle;
    std::vector<char> buffer;
    std::optional<std::uint64_t> part;  // the part this connection works on
    std::uint64_t cursor = 0;           // next byte of that part to send (file offset)
    std::optional<Chunk> chunk;         // loaded into buffer, not yet acknowledged
    bool in_flight = false;
    bool loading = false;            // the loader thread is filling buffer for chunk
    std::string checksum;            // Upload-Checksum value of the loaded chunk
    std::uint64_t chunk_crc = 0;     // its CRC-64
    std::string load_error;          // set by the loader instead of checksum
    Clock::time_point not_before{};  // backoff after a failure
    std::string body;                // the (capped) answer body
    std::uint64_t sent = 0;          // body bytes of the PATCH in flight
};

int on_xfer(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t ulnow) {
    auto* conn = static_cast<Connection*>(user);
    conn->sent = static_cast<std::uint64_t>(ulnow);
    return interrupt_requested() ? 1 : 0;
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
    auto* conn = static_cast<Connection*>(user);
    std::size_t n = size * count;
    if (conn->body.size() < k_error_body_cap)
        conn->body.append(data, std::min(n, k_error_body_cap - conn->body.size()));
    return n;
}

// The options that stay the same for every PATCH of one connection.
void configure_patch_handle(Connection& conn, const TransferEnv& env, const std::string& url,
                            const Faults& faults) {
    CURL* easy = conn.handle.get();
    http::configure_easy(conn.handle, env.settings, http::Auth::preferred, true);
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "PATCH");
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &conn);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &conn);
#ifdef DE_TEST_HOOKS
    if (faults.slow_bytes_per_sec > 0)
        curl_easy_setopt(easy, CURLOPT_MAX_SEND_SPEED_LARGE, faults.slow_bytes_per_sec);
#else
    (void)faults;
#endif
}

// Reads and hashes PATCH bodies on its own thread, in the order they were
// asked for, so the thread driving the connections never stalls on hashing
// (measured: loading was over half of that thread's time at 4 connections).
class Loader {
  public:
    Loader(std::function<void(Connection&)> load, http::CurlMulti& multi)
        : m_load(std::move(load)), m_multi(multi), m_thread([this] { run(); }) {}
    ~Loader() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_one();
        m_thread.join();
    }
    void submit(Connection* conn) {
        {
            std::lock_guard lock(m_mutex);
            m_jobs.push_back(conn);
        }
        m_wake.notify_one();
    }
    std::vector<Connection*> take_done() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_done, {});
    }

  private:
    void run() {
        for (;;) {
            Connection* conn = nullptr;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return m_stop || !m_jobs.empty(); });
                if (m_stop) return;
                conn = m_jobs.front();
                m_jobs.pop_front();
            }
            m_load(*conn);
            {
                std::lock_guard lock(m_mutex);
                m_done.push_back(conn);
            }
            m_multi.wakeup();
        }
    }

    std::function<void(Connection&)> m_load;
    http::CurlMulti& m_multi;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Connection*> m_jobs;
    std::vector<Connection*> m_done;
    bool m_stop = false;
    std::thread m_thread;  // last: starts once everything above exists
};

// ---- the upload ------------------------------------------------------------

class Upload {
  public:
    Upload(const TransferEnv& env, const fs::path& local, int fd, std::uint64_t size,
           std::int64_t mtime_ns, const std::string& remote, const UploadOptions& options,
           const std::string& what, TransferReport* report)
        : m_env(env),
          m_local(local),
          m_fd(fd),
          m_size(size),
          m_mtime_ns(mtime_ns),
          m_remote(remote),
          m_options(options),
          m_what(what),
          m_report(report),
          m_faults(Faults::from(env.hooks.get(), env.retry_budget)),
          m_control(env.settings),
          m_rng(static_cast<unsigned>(Clock::now().time_since_epoch().count())),
          m_retry(retry_policy(), true, static_cast<std::uint32_t>(m_rng())) {}

    Result<Entry> run();
    // Client::probe_resume / discard_resume: the journal of this upload, asked
    // about before anything else (see there).
    Result<ResumeProbe> probe(const std::function<Result<std::string>()>& local_sha256);
    void discard();

  private:
    Status stat_local();
    void locate_journal();
    // A failure after which the upload cannot continue: the server's upload is
    // terminated (its staged bytes and reservation freed now, not at expiry)
    // and the journal removed.
    Error abandon(Error error);
    // Sends again without a count limit, for as long as the outage budget
    // lasts (0: max_retries in a row instead).
    http::RetryPolicy retry_policy() const {
        const bool timed = m_faults.outage_budget.count() > 0;
        return http::RetryPolicy{timed ? -1 : m_env.max_retries, std::chrono::milliseconds(100),
                                 std::chrono::milliseconds(2'000), m_faults.outage_budget};
    }
    // Control requests (create, HEAD, complete, DELETE) with the outage budget.
    Result<http::Response> control(http::Request& request, bool resend_safe);
    http::Request tus_request(std::string method, std::string url) const;
    Status find_or_create();
    Result<bool> try_resume(const UploadJournal& journal);
    Status create();
    void terminate(const std::string& url);
    Status transfer();
    void read_chunk(Connection& conn);  // on the loader thread
    void arm_chunk(Connection& conn);
    void start(Connection& conn, http::CurlMulti& multi);
    Status handle_done(Connection& conn, int code);
    Status resync_part(Connection& conn);
    Result<std::uint64_t> whole_file_crc();
    Result<Entry> complete(std::uint64_t crc);
    Error network_error(std::string_view detail) const;
    Error interrupted() const;
    void progress(ProgressEvent::Phase phase, std::uint64_t done);
    void report_progress(const std::vector<std::unique_ptr<Connection>>& conns);

    std::uint64_t part_begin(std::uint64_t k) const { return k * m_part_size; }
    std::uint64_t part_end(std::uint64_t k) const {
        return std::min(m_size, (k + 1) * m_part_size);
    }

    const TransferEnv& m_env;
    const fs::path& m_local;
    int m_fd;
    std::uint64_t m_size;
    std::int64_t m_mtime_ns;
    const std::string& m_remote;
    const UploadOptions& m_options;
    const std::string& m_what;
    TransferReport* m_report;
    Faults m_faults;
    http::Transport m_control;
    std::minstd_rand m_rng;
    http::Retry m_retry;  // the PATCHes: one fate for all connections

    LocalIdentity m_identity;
    fs::path m_journal_file;
    std::string m_upload_url;
    std::string m_creation_key;  // Idempotency-Key of create(); see UploadJournal
    std::uint64_t m_part_size = 0;
    std::uint64_t m_chunk = 0;
    std::uint64_t m_parts = 0;
    std::vector<bool> m_done;          // per part, acknowledged by the server
    std::optional<Entry> m_completed;  // HEAD said the upload completed already
    TransferReport m_rep;

    // Per part: the CRC-64 of the bytes acknowledged so far (chunks of a part
    // go in order), and whether it covers the whole part.
    std::vector<std::uint64_t> m_part_crc;
    std::vector<bool> m_crc_known;
    std::atomic<std::uint64_t> m_read{0};  // local bytes read (the loader, the end)
    std::uint64_t m_sent = 0;              // PATCH body bytes sent

    std::deque<std::uint64_t> m_pending;  // parts not started, in file order
    std::uint64_t m_acked = 0;            // bytes acknowledged (incl. resumed)
    std::uint64_t m_reported = 0;
    std::uint64_t m_moved = 0;
};

Error Upload::network_error(std::string_view detail) const {
    return Error{
        ErrorKind::network,
        fmt::format("{} failed: de-server at {} did not answer for {} ({}); the "
                    "upload can continue: run the same command again",
                    m_what, m_env.base_url, http::format_wait(m_faults.outage_budget), detail),
        0,
        {}};
}

Error Upload::interrupted() const {
    return Error{ErrorKind::interrupted,
                 fmt::format("{} interrupted; run the same command again to resume it", m_what),
                 0,
                 {}};
}

http::Request Upload::tus_request(std::string method, std::string url) const {
    http::Request request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers.push_back(fmt::format("Tus-Resumable: {}", api::k_tus_version));
    return request;
}

Result<http::Response> Upload::control(http::Request& request, bool resend_safe) {
    http::Retry retry(retry_policy(), resend_safe, static_cast<std::uint32_t>(m_rng()));
    for (;;) {
        auto result = m_control.perform(request);
        http::Attempt attempt;
        std::string detail;
        if (result) {
            attempt.status = result->status;
            detail = fmt::format("HTTP {}", result->status);
        } else {
            attempt.failure = result.error().kind;
            detail = result.error().detail;
        }
        auto verdict = retry.next(attempt);
        if (verdict.action == http::Retry::Action::exhausted)
            return std::unexpected(network_error(detail));
        if (verdict.action == http::Retry::Action::give_up) {
            if (result) return std::move(*result);
            const auto& e = result.error();
            if (e.kind == http::TransportError::Kind::interrupted)
                return std::unexpected(interrupted());
            // Not safe to send again, but the next run can resume.
            if (http::transient(e.kind)) return std::unexpected(network_error(e.detail));
            return std::unexpected(http::transport_error(e, m_env.host, m_what));
        }
        ++m_rep.retries;
        auto until = Clock::now() + verdict.delay;
        while (Clock::now() < until) {
            if (interrupt_requested()) return std::unexpected(interrupted());
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
}

void Upload::terminate(const std::string& url) {
    // Best effort: frees the old upload's quota reservation now instead of at expiry.
    auto request = tus_request("DELETE", url);
    (void)m_control.perform(request);
}

Status Upload::create() {
    std::string metadata =
        fmt::format("path {},mtime_ns {},overwrite {}", b64(m_remote),
                    b64(std::to_string(m_mtime_ns)), b64(m_options.overwrite ? "true" : "false"));
    if (m_creation_key.empty()) {
        std::random_device random;
        for (int i = 0; i < 4; ++i)
            m_creation_key += fmt::format("{:08x}", static_cast<std::uint32_t>(random()));
    }
    UploadJournal journal{"",
                          m_env.base_url,
                          m_env.app,
                          m_remote,
                          "",
                          m_identity,
                          m_part_size,
                          static_cast<std::int64_t>(std::time(nullptr)),
                          m_creation_key};
    std::error_code ec;
    auto real = fs::canonical(m_local, ec);
    journal.local = ec ? fs::absolute(m_local).string() : real.string();
    // Journaled before it is sent: a run that dies before the answer comes
    // leaves the key, and the next run's creation with it gets this upload.
    // A new upload: no part CRCs of another one. Removed before the journal
    // is written, so a run killed in between cannot pair them.
    remove_part_crcs(m_journal_file);
    (void)save_journal(m_journal_file, journal);
    auto request =
        tus_request("POST", http::build_url(m_env.base_url, m_env.app_route + "/uploads"));
    request.headers.push_back(fmt::format("Upload-Length: {}", m_size));
    request.headers.push_back("Upload-Metadata: " + metadata);
    request.headers.push_back(fmt::format("{}: {}", api::k_header_upload_parts, m_part_size));
    request.headers.push_back(fmt::format("{}: {}", api::k_header_idempotency_key, m_creation_key));
    request.headers.push_back("Accept: application/json");
    // Safe to send again: a repeat with the key cannot make a second upload.
    auto response = control(request, true);
    if (!response) return std::unexpected(response.error());
    if (response->status != 201) {
        remove_journal(m_journal_file);
        Error error = response_error(response->status, response->body, m_what);
        if (response->status == 409 && error.api_kind == "conflict" && !m_options.overwrite)
            error.message += "; allow overwriting (--update) to replace it";
        return std::unexpected(error);
    }
    auto location = response->headers.find("location");
    if (!location || location->empty())
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: the server created the upload without a Location; "
                                "check that the host is a de-server",
                                m_what));
    m_upload_url = location->starts_with("http://") || location->starts_with("https://")
                       ? std::string(*location)
                       : m_env.base_url + std::string(*location);
    m_done.assign(m_parts, false);
    journal.upload_url = m_upload_url;
    // Without a journal the upload still works; it just cannot be resumed.
    (void)save_journal(m_journal_file, journal);
    return {};
}

// True when the journal's upload can be continued (m_done filled).
Result<bool> Upload::try_resume(const UploadJournal& journal) {
    const std::string name = m_local.string();
    if (journal.identity != m_identity) {
        if (m_options.notice)
            m_options.notice(
                fmt::format("'{}' changed since its upload was interrupted; starting "
                            "over",
                            name));
        terminate(journal.upload_url);
        return false;
    }
    auto request = tus_request("HEAD", journal.upload_url);
    auto response = control(request, true);
    if (!response) return std::unexpected(response.error());
    if (response->status == 404 || response->status == 410) {
        if (m_options.notice)
            m_options.notice(
                fmt::format("the interrupted upload of '{}' expired on the server; "
                            "starting over",
                            name));
        return false;
    }
    if (response->status != 200)
        return std::unexpected(response_error(response->status, response->body, m_what));
    const auto& h = response->headers;
    auto length = http::parse_int(h.find("upload-length").value_or(""));
    auto parts = http::parse_int(h.find(std::string("upload-parts")).value_or(""));
    // Upload-Parts is the part size: one this client could have chosen
    // (k_tus_min_part..k_tus_max_part), or a hostile answer (1 byte) would make
    // the part table as large as the file in bits (issue 18).
    if (!length || static_cast<std::uint64_t>(*length) != m_size || !parts ||
        *parts < static_cast<std::int64_t>(api::k_tus_min_part) ||
        static_cast<std::uint64_t>(*parts) > api::k_tus_max_part) {
        if (m_options.notice)
            m_options.notice(
                fmt::format("the server's copy of the interrupted upload of '{}' "
                            "does not match it; starting over",
                            name));
        terminate(journal.upload_url);
        return false;
    }
    m_upload_url = journal.upload_url;
    m_part_size = static_cast<std::uint64_t>(*parts);
    m_parts = (m_size + m_part_size - 1) / m_part_size;
    if (auto entry_json = h.find("x-de-entry")) {
        // It completed, but the answer was lost: check it is this file's content.
        try {
            m_completed = json::parse(*entry_json).get<Entry>();
        } catch (const json::exception&) {
        }
        if (m_completed && m_completed->path != m_remote) {
            // Completed as another file (cannot happen with a sane server): not ours to claim.
            m_completed.reset();
            remove_journal(m_journal_file);
            return false;
        }
    }
    auto done = parse_parts_done(h.find("upload-parts-done").value_or(""), m_parts);
    if (!done) {
        if (!m_completed)
            return fail(ErrorKind::generic,
                        fmt::format("{} failed: the server's Upload-Parts-Done is malformed; "
                                    "retry with --no-resume",
                                    m_what));
        done = std::vector<bool>(m_parts, true);
    }
    m_done = std::move(*done);
    std::uint64_t have = 0;
    for (std::uint64_t k = 0; k < m_parts; ++k)
        if (m_done[k]) have += part_end(k) - part_begin(k);
    if (m_completed) have = m_size;
    m_rep.resumed = true;
    m_rep.resumed_bytes = have;
    if (m_options.notice)
        m_options.notice(fmt::format("resuming upload of '{}': {} of {} already on the server",
                                     name, format_size(have), format_size(m_size)));
    return true;
}

void Upload::locate_journal() {
    const fs::path dir =
        m_options.journal_dir.empty() ? default_journal_dir() : m_options.journal_dir;
    std::error_code ec;
    auto real = fs::canonical(m_local, ec);
    m_journal_file = journal_path(dir, m_env.base_url, m_env.app, m_remote,
                                  (ec ? fs::absolute(m_local) : real).string());
}

Error Upload::abandon(Error error) {
    if (!m_upload_url.empty()) terminate(m_upload_url);
    if (!m_journal_file.empty()) remove_journal(m_journal_file);
    return error;
}

Status Upload::stat_local() {
    struct stat st {};
    if (::fstat(m_fd, &st) != 0)
        return fail(ErrorKind::generic, fmt::format("{} failed: cannot stat the local file: {}",
                                                    m_what, errno_text(errno)));
    m_identity = identity_of(st);
    return {};
}

Result<ResumeProbe> Upload::probe(const std::function<Result<std::string>()>& local_sha256) {
    if (auto st = stat_local(); !st) return std::unexpected(st.error());
    locate_journal();
    auto journal = load_journal(m_journal_file);
    // A file changed since cannot be that upload: upload() says so and starts over.
    if (!journal || journal->identity != m_identity || journal->remote != m_remote ||
        journal->upload_url.empty())  // a creation without its answer: upload() repeats it
        return ResumeProbe{};
    auto request = tus_request("HEAD", journal->upload_url);
    auto response = control(request, true);
    if (!response) return std::unexpected(response.error());
    // Forgotten or expired: upload() says so, removes the journal and starts over.
    if (response->status == 404 || response->status == 410) return ResumeProbe{};
    if (response->status != 200)
        return std::unexpected(response_error(response->status, response->body, m_what));
    const auto& h = response->headers;
    auto offset = http::parse_int(h.find("upload-offset").value_or(""));
    auto length = http::parse_int(h.find("upload-length").value_or(""));
    auto entry_json = h.find("x-de-entry");
    if (!entry_json) return ResumeProbe{ResumeProbe::State::in_progress, std::nullopt};
    // Completed: it counts as this file's upload only when it is this path
    // and this content (the ETag and the entry both name the local SHA-256).
    std::optional<Entry> entry;
    try {
        entry = json::parse(*entry_json).get<Entry>();
    } catch (const json::exception&) {
    }
    auto etag = api::sha256_from_etag(h.find("etag").value_or(""));
    bool same = entry && offset && length && *offset == *length &&
                static_cast<std::uint64_t>(*length) == m_size && entry->path == m_remote &&
                entry->sha256 && (!etag || *etag == *entry->sha256);
    if (same) {
        auto sha = local_sha256();
        if (!sha) return std::unexpected(sha.error());
        same = *sha == *entry->sha256;
    }
    remove_journal(m_journal_file);  // completed either way: nothing left to resume
    if (!same) return ResumeProbe{};
    return ResumeProbe{ResumeProbe::State::completed, std::move(entry)};
}

void Upload::discard() {
    locate_journal();
    if (auto journal = load_journal(m_journal_file)) {
        if (!journal->upload_url.empty()) terminate(journal->upload_url);
        remove_journal(m_journal_file);
    }
}

Status Upload::find_or_create() {
    locate_journal();
    if (auto journal = load_journal(m_journal_file)) {
        if (journal->upload_url.empty()) {
            // The creation's answer never came: repeat it with the key, which
            // answers the upload it made, if it made one.
            m_creation_key = journal->creation_key;
            bool same = m_options.resume && journal->identity == m_identity &&
                        journal->part_size == m_part_size && journal->remote == m_remote;
            if (same) return create();
            // Not resumable as it is: take that upload only to end it.
            if (create()) terminate(m_upload_url);
            m_upload_url.clear();
            m_creation_key.clear();
            remove_journal(m_journal_file);
            return create();
        }
        if (!m_options.resume) {
            terminate(journal->upload_url);
        } else {
            auto resumed = try_resume(*journal);
            if (!resumed) return std::unexpected(resumed.error());
            if (*resumed) return {};
        }
        remove_journal(m_journal_file);
    }
    return create();
}

void Upload::read_chunk(Connection& conn) {
    const Chunk& chunk = *conn.chunk;
    std::uint64_t got = 0;
    while (got < chunk.length) {
        ssize_t n = ::pread(m_fd, conn.buffer.data() + got, chunk.length - got,
                            static_cast<off_t>(chunk.offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            conn.load_error = n < 0 ? fmt::format("{} failed: cannot read the local file: {}",
                                                  m_what, errno_text(errno))
                                    : fmt::format(
                                          "{} failed: the local file shrank while it was sent; try "
                                          "again when it is complete",
                                          m_what);
            return;
        }
        got += static_cast<std::uint64_t>(n);
    }
    m_read += chunk.length;
    conn.chunk_crc = crc64_update(0, conn.buffer.data(), chunk.length);
    conn.checksum = "crc64 " + crc64_base64(conn.chunk_crc);
}

void Upload::arm_chunk(Connection& conn) {
    Chunk& chunk = *conn.chunk;
    std::vector<std::string> headers = {
        fmt::format("Tus-Resumable: {}", api::k_tus_version),
        fmt::format("Content-Type: {}", api::k_tus_content_type),
        fmt::format("Upload-Offset: {}", chunk.offset),
        "Upload-Checksum: " + conn.checksum,
        "Expect:",
    };
    conn.handle.set_headers(headers);
#ifdef DE_TEST_HOOKS
    // TestHooks::corrupt_part: the first attempt of this part lies about its bytes.
    if (m_faults.corrupt_part && *m_faults.corrupt_part == chunk.part &&
        chunk.offset == part_begin(chunk.part)) {
        m_faults.corrupt_part.reset();
        chunk.corrupted = true;
        chunk.corrupted_at = chunk.length / 2;
        conn.buffer[chunk.corrupted_at] = static_cast<char>(~conn.buffer[chunk.corrupted_at]);
    }
#endif
}

void Upload::start(Connection& conn, http::CurlMulti& multi) {
    CURL* easy = conn.handle.get();
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(conn.chunk->length));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, conn.buffer.data());
    conn.body.clear();
    conn.sent = 0;
    conn.in_flight = true;
    multi.add(easy);
}

Status Upload::resync_part(Connection& conn) {
    // The server's idea of this part differs from ours (an answer lost in a
    // broken connection, a restart): ask, then continue or restart the part.
    auto request = tus_request("HEAD", m_upload_url);
    auto response = control(request, true);
    if (!response) return std::unexpected(response.error());
    if (response->status != 200)
        return std::unexpected(response_error(response->status, response->body, m_what));
    auto done = parse_parts_done(response->headers.find("upload-parts-done").value_or(""), m_parts);
    std::uint64_t k = *conn.part;
    if (done && (*done)[k]) {
        m_acked += part_end(k) - conn.cursor;
        m_done[k] = true;
        m_crc_known[k] = false;  // not all of it acknowledged here: read at the end
        conn.part.reset();
        conn.chunk.reset();
        return {};
    }
    if (conn.chunk && conn.chunk->offset == part_begin(k)) {
        // Perhaps the server still finishes a PATCH of this part from a broken
        // connection: wait a little, a few times, before giving up.
        if (++conn.chunk->conflicts >= k_max_conflicts)
            return fail(ErrorKind::generic,
                        fmt::format("{} failed: the server keeps refusing part {} at its start "
                                    "(409); retry with --no-resume",
                                    m_what, k));
        double unit = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
        conn.not_before =
            Clock::now() + http::backoff_delay(retry_policy(), conn.chunk->conflicts + 2, unit);
        return {};
    }
    m_acked -= conn.cursor - part_begin(k);
    conn.cursor = part_begin(k);
    conn.chunk.reset();
    return {};
}

Status Upload::handle_done(Connection& conn, int code) {
    conn.in_flight = false;
    Chunk& chunk = *conn.chunk;
    long status = 0;
    curl_easy_getinfo(conn.handle.get(), CURLINFO_RESPONSE_CODE, &status);
    std::optional<http::TransportError> failure;
    if (code != CURLE_OK) {
        failure = http::TransportError{http::classify_curl_code(code),
                                       http::curl_failure_detail(conn.handle, code), 0};
        if (failure->kind == http::TransportError::Kind::interrupted ||
            failure->kind == http::TransportError::Kind::aborted || interrupt_requested())
            return std::unexpected(interrupted());
        status = 0;  // a broken connection: whatever status came is not the answer
    }
    if (status == 204) {
        m_retry.succeeded();
        m_acked += chunk.length;
        m_sent += chunk.length;
        const std::uint64_t k = *conn.part;
        m_part_crc[k] = chunk.offset == part_begin(k)
                            ? conn.chunk_crc
                            : crc64_combine(m_part_crc[k], conn.chunk_crc, chunk.length);
        conn.cursor = chunk.offset + chunk.length;
        conn.chunk.reset();
        if (conn.cursor == part_end(k)) {
            m_done[k] = true;
            m_crc_known[k] = true;
            append_part_crc(m_journal_file, k, m_part_crc[k]);
            conn.part.reset();
        }
        return {};
    }
    m_sent += std::min<std::uint64_t>(conn.sent, chunk.length);
    if (status == 460) {
        m_retry.succeeded();  // an answer: the server is there
        ++m_rep.retries;
#ifdef DE_TEST_HOOKS
        if (chunk.corrupted) {  // TestHooks::corrupt_part: put the right byte back for the resend
            conn.buffer[chunk.corrupted_at] = static_cast<char>(~conn.buffer[chunk.corrupted_at]);
            chunk.corrupted = false;
        }
#endif
        if (++chunk.checksum_failures >= k_max_checksum_retries)
            return fail(ErrorKind::network,
                        fmt::format("{} failed: part {} arrived damaged {} times in a row; check "
                                    "the network (a proxy altering bodies?) and try again",
                                    m_what, chunk.part, chunk.checksum_failures));
        return {};
    }
    if (status == 409) {
        m_retry.succeeded();
        ++m_rep.retries;
        return resync_part(conn);
    }
    if (status == 404 || status == 410) {
        remove_journal(m_journal_file);
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: the server dropped the upload (it expired or was "
                                "cancelled); run the same command again to start over",
                                m_what));
    }
    // A broken connection or a passing 5xx (a restarting server): resend after a pause.
    http::Attempt attempt;
    if (failure)
        attempt.failure = failure->kind;
    else
        attempt.status = static_cast<int>(status);
    auto verdict = m_retry.next(attempt);
    if (verdict.action == http::Retry::Action::give_up) {
        if (failure) return std::unexpected(http::transport_error(*failure, m_env.host, m_what));
        return std::unexpected(response_error(static_cast<int>(status), conn.body, m_what));
    }
    if (verdict.action == http::Retry::Action::exhausted)
        return std::unexpected(
            network_error(failure ? failure->detail : fmt::format("HTTP {}", status)));
    ++m_rep.retries;
    conn.not_before = Clock::now() + verdict.delay;
    return {};
}

void Upload::progress(ProgressEvent::Phase phase, std::uint64_t done) {
    if (!m_options.progress) return;
    m_reported = done;
    m_options.progress(ProgressEvent{phase, m_remote, done, m_size});
}

void Upload::report_progress(const std::vector<std::unique_ptr<Connection>>& conns) {
    std::uint64_t done = m_acked;
    for (const auto& c : conns)
        if (c->in_flight) done += std::min<std::uint64_t>(c->sent, c->chunk->length);
    done = std::min(done, m_size);
    // Bytes moving count as the server being there (a slow link may take
    // longer than the outage budget for one PATCH).
    if (done > m_moved) {
        m_moved = done;
        m_retry.succeeded();
    }
    if (m_options.progress && done > m_reported + k_progress_step)
        progress(ProgressEvent::Phase::advance, done);
}

Status Upload::transfer() {
    for (std::uint64_t k = 0; k < m_parts; ++k) {
        if (m_done[k])
            m_acked += part_end(k) - part_begin(k);
        else
            m_pending.push_back(k);
    }
    progress(ProgressEvent::Phase::start, m_acked);
    if (m_pending.empty()) return {};

    const int n = static_cast<int>(
        std::min<std::uint64_t>(static_cast<std::uint64_t>(m_rep.connections), m_pending.size()));
    m_rep.connections = n;
    std::vector<std::unique_ptr<Connection>> conns;
    for (int i = 0; i < n; ++i) {
        auto conn = std::make_unique<Connection>();
        conn->buffer.resize(m_chunk);
        configure_patch_handle(*conn, m_env, m_upload_url, m_faults);
        conns.push_back(std::move(conn));
    }
    // Declared after the connections: removed from the multi, and the loader
    // stopped, before they are freed.
    http::CurlMulti multi(n);
    Loader loader([this](Connection& conn) { read_chunk(conn); }, multi);
    std::unordered_map<CURL*, Connection*> by_easy;
    for (auto& c : conns)
        by_easy[c->handle.get()] = c.get();

    for (;;) {
        if (interrupt_requested()) return std::unexpected(interrupted());
        const auto now = Clock::now();
        bool busy = false;
        for (auto& c : conns) {
            Connection& conn = *c;
            if (conn.in_flight || conn.loading) {
                busy = true;
                continue;
            }
            if (!conn.part && !m_pending.empty()) {
                conn.part = m_pending.front();
                m_pending.pop_front();
                conn.cursor = part_begin(*conn.part);
            }
            if (!conn.part) continue;
            busy = true;
            if (now < conn.not_before) continue;
            if (!conn.chunk) {
                Chunk chunk;
                chunk.part = *conn.part;
                chunk.offset = conn.cursor;
                chunk.length = std::min(m_chunk, part_end(chunk.part) - conn.cursor);
                conn.chunk = chunk;
                conn.loading = true;
                loader.submit(&conn);
                continue;
            }
            start(conn, multi);
        }
        if (!busy) break;
        std::string error;
        auto finished = multi.run(std::chrono::milliseconds(100), error);
        if (!error.empty())
            return fail(ErrorKind::generic, fmt::format("{} failed: {}", m_what, error));
        for (const auto& d : finished)
            if (auto st = handle_done(*by_easy.at(d.easy), d.code); !st) return st;
        for (Connection* conn : loader.take_done()) {
            conn->loading = false;
            if (!conn->load_error.empty())
                return fail(ErrorKind::generic, std::exchange(conn->load_error, {}));
            arm_chunk(*conn);
            start(*conn, multi);
        }
        report_progress(conns);
    }
    return {};
}

Result<std::uint64_t> Upload::whole_file_crc() {
    // Combined from the parts' CRCs; a part without one (its journal line was
    // lost, the server finished it from a broken connection, or `verify`) is
    // read here.
    std::vector<char> buffer(k_hash_read);
    std::uint64_t whole = 0;
    for (std::uint64_t k = 0; k < m_parts; ++k) {
        const std::uint64_t len = part_end(k) - part_begin(k);
        if (!m_crc_known[k]) {
            std::uint64_t crc = 0;
            for (std::uint64_t at = part_begin(k); at < part_end(k);) {
                if (interrupt_requested()) return std::unexpected(interrupted());
                ssize_t n = ::pread(m_fd, buffer.data(),
                                    std::min<std::uint64_t>(buffer.size(), part_end(k) - at),
                                    static_cast<off_t>(at));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0)
                    return fail(ErrorKind::generic,
                                fmt::format("{} failed: cannot read the local file: {}", m_what,
                                            n < 0 ? errno_text(errno) : "it shrank"));
                crc = crc64_update(crc, buffer.data(), static_cast<std::size_t>(n));
                at += static_cast<std::uint64_t>(n);
                m_read += static_cast<std::uint64_t>(n);
            }
            m_part_crc[k] = crc;
            m_crc_known[k] = true;
        }
        whole = crc64_combine(whole, m_part_crc[k], len);
    }
    return whole;
}

Result<Entry> Upload::complete(std::uint64_t crc) {
    auto request = tus_request("POST", m_upload_url + "/complete");
    json body = {{"crc64", crc64_hex(crc)}};
    // Known already (the hash cache): checked by the server for free.
    if (m_options.sha256) body["sha256"] = *m_options.sha256;
    request.json_body = body.dump();
    request.headers.push_back("Accept: application/json");
    auto response = control(request, true);  // repeating it after success answers the same entry
    if (!response) return std::unexpected(response.error());
#ifdef DE_TEST_HOOKS
    if (m_faults.abort_after_complete && (response->status == 200 || response->status == 201))
        ::kill(::getpid(), SIGKILL);  // the client dies after its last byte, journal kept
#endif
    if (response->status == 460) {
        return std::unexpected(abandon(
            Error{ErrorKind::generic,
                  fmt::format("{} failed: the server's copy does not match the local file "
                              "(CRC-64: bytes damaged on the way, or the file changed while it "
                              "was uploaded); the upload was discarded: run the command again",
                              m_what),
                  0,
                  {}}));
    }
    if (response->status == 404 || response->status == 410) {
        remove_journal(m_journal_file);
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: the server dropped the upload before it completed; "
                                "run the same command again to start over",
                                m_what));
    }
    if (response->status != 200 && response->status != 201) {
        Error error = response_error(response->status, response->body, m_what);
        // Nothing left to resume once the server refuses to commit (e.g. the
        // file exists now: a lost race): terminate the upload so that its
        // staged bytes and reservation go now, not at its expiry.
        if (response->status == 409 && error.api_kind == "conflict" &&
            !transient_conflict(error.message))
            return std::unexpected(abandon(std::move(error)));
        if (response->status != 409 && response->status < 500)
            return std::unexpected(abandon(std::move(error)));
        return std::unexpected(error);
    }
    try {
        return json::parse(response->body).get<Entry>();
    } catch (const json::exception& e) {
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: the server's answer is not what API v1 describes "
                                "({})",
                                m_what, e.what()));
    }
}

Result<Entry> Upload::run() {
    if (auto st = stat_local(); !st) return std::unexpected(st.error());
    ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    m_rep.connections = std::clamp(m_options.connections, 1, k_max_connections);

    const std::uint64_t max_chunk = std::clamp<std::uint64_t>(
        k_buffers_total / static_cast<std::uint64_t>(m_rep.connections) / k_min_chunk * k_min_chunk,
        k_min_chunk, k_max_chunk);
    if (m_options.part_size) {
        m_part_size = std::max(m_options.part_size, api::k_tus_min_part);
    } else {
        // One PATCH per part keeps the parts (and so the hashing) in file order.
        std::uint64_t spread = (m_size + k_target_max_parts - 1) / k_target_max_parts;
        m_part_size =
            std::max({max_chunk, api::k_tus_min_part, (spread + k_mib - 1) / k_mib * k_mib});
    }
    m_parts = (m_size + m_part_size - 1) / m_part_size;

    if (auto st2 = find_or_create(); !st2) return std::unexpected(st2.error());
    m_chunk = std::min(m_part_size, max_chunk);

    m_part_crc.assign(m_parts, 0);
    m_crc_known.assign(m_parts, false);
    if (m_rep.resumed && !m_options.verify && !m_completed) {
        // The CRCs of the parts the server holds, as they were sent.
        auto known = load_part_crcs(m_journal_file, m_parts);
        for (std::uint64_t k = 0; k < m_parts; ++k)
            if (m_done[k] && known[k]) {
                m_part_crc[k] = *known[k];
                m_crc_known[k] = true;
            }
    }

    Status sent = {};
    if (!m_completed) sent = transfer();
    m_rep.sent_bytes = m_sent;
    if (!sent) {
        m_rep.read_bytes = m_read;
        if (m_report) *m_report = m_rep;
        // An outage or Ctrl-C keeps the journal for the re-run; anything else
        // (the server refused a part, the local file shrank, the quota) ends it.
        const auto kind = sent.error().kind;
        if (kind == ErrorKind::network || kind == ErrorKind::interrupted)
            return std::unexpected(sent.error());
        return std::unexpected(abandon(std::move(sent.error())));
    }
    // Completed already (its answer was lost): the journal names this file,
    // unchanged since (identity), and the server checked the CRC it was sent.
    std::uint64_t crc = 0;
    if (!m_completed) {
        auto whole = whole_file_crc();
        if (!whole) return std::unexpected(whole.error());
        crc = *whole;
    }
    m_rep.read_bytes = m_read;
    struct stat after {};
    if (::fstat(m_fd, &after) != 0 || identity_of(after) != m_identity) {
        terminate(m_upload_url);
        remove_journal(m_journal_file);
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: the local file changed while it was uploaded; the "
                                "upload was discarded: try again when it is complete",
                                m_what));
    }

    Result<Entry> entry = m_completed ? Result<Entry>(*m_completed) : complete(crc);
    if (!entry) {
        if (m_report) *m_report = m_rep;
        return entry;
    }
    if (m_options.sha256 && (!entry->sha256 || *entry->sha256 != *m_options.sha256)) {
        remove_journal(m_journal_file);
        return fail(ErrorKind::generic,
                    fmt::format("{} failed: the server stored content with SHA-256 {} but the "
                                "local file's is {}; upload it again with --update",
                                m_what, entry->sha256.value_or("(none)"), *m_options.sha256));
    }
    void (*between)() = nullptr;
#ifdef DE_TEST_HOOKS
    if (m_faults.abort_in_journal_removal) between = [] { ::kill(::getpid(), SIGKILL); };
#endif
    remove_journal(m_journal_file, between);
    progress(ProgressEvent::Phase::finish, m_size);
    if (m_report) *m_report = m_rep;
    return entry;
}

}  // namespace

Result<ResumeProbe> resumable_probe(const TransferEnv& env, const std::filesystem::path& local,
                                    int fd, std::uint64_t size, const std::string& remote,
                                    const UploadOptions& options, const std::string& what,
                                    const std::function<Result<std::string>()>& local_sha256) {
    Upload upload(env, local, fd, size, 0, remote, options, what, nullptr);
    return upload.probe(local_sha256);
}

void resumable_discard(const TransferEnv& env, const std::filesystem::path& local,
                       const std::string& remote, const UploadOptions& options,
                       const std::string& what) {
    Upload upload(env, local, -1, 0, 0, remote, options, what, nullptr);
    upload.discard();
}

Result<Entry> resumable_upload(const TransferEnv& env, const std::filesystem::path& local, int fd,
                               std::uint64_t size, std::int64_t mtime_ns, const std::string& remote,
                               const UploadOptions& options, const std::string& what,
                               TransferReport* report) {
    Upload upload(env, local, fd, size, mtime_ns, remote, options, what, report);
    return upload.run();
}

}  // namespace de::detail

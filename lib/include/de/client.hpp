#pragma once
// libde's client for REST API v1 (docs/api.md). One Client per host and set of
// credentials. Every call returns a Result; transport failures and HTTP errors
// both become de::Error values whose kind maps to the exit-code table.
// libcurl is private to the implementation; uploads and downloads stream with
// bounded memory whatever the file size.

#include <de/error.hpp>
#include <de/progress.hpp>
#include <de/test_hooks.hpp>
#include <de/types.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de {

struct Credentials {
    std::string username;
    std::string api_key;  // HTTP Basic username:api_key
    std::string token;    // bearer token from login(); preferred when set
};

struct ClientOptions {
    std::string host;  // base URL: "http://127.0.0.1:8050" or "https://de.example.com"
    Credentials credentials;
    std::string ca_path;     // CA bundle file; empty: the system's
    bool verify_tls = true;  // off only when the user opts out explicitly
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds request_timeout{60'000};  // whole request, for non-streaming calls
    std::chrono::seconds stall_timeout{
        30};              // streaming calls abort after this long without progress
    int max_retries = 3;  // idempotent requests, on network errors and 5xx, with backoff
    // How long every request (of every engine) rides out a server that is away
    // -- connection refused or reset, 502/503/504 -- sending again with backoff
    // (at most about 2 s apart) before it fails with ErrorKind::network. A
    // request the server may have carried out is sent again only when it is
    // safe (idempotent, or its effect is recognised on the retry). 0: outages
    // count against max_retries like other failures.
    std::chrono::milliseconds retry_budget{30'000};
    // When set (e.g. for -v): libcurl's connection notes and the request and
    // response header lines, one per call, Authorization redacted.
    std::function<void(std::string_view line)> debug;
    // Test seams (de/test_hooks.hpp); null outside tests.
    std::shared_ptr<const TestHooks> hooks;
    // A sync lease id (docs/api.md, "Sync lease"): when set, every request
    // carries X-De-Sync-Lease, and the server refuses a write (409) once the
    // lease is no longer the app's live one. Set by sync push.
    std::string sync_lease;
    // What error messages tell the user to do next, worded for the caller's
    // own settings (de-cli names its flags and environment variables here):
    // about a host whose name does not resolve or that is no de-server, and
    // about credentials the server refused. Empty: generic advice.
    std::string hint_wrong_host;
    std::string hint_bad_credentials;
};

struct AppUpdate {
    std::optional<bool> persistent_filesystem;
};

struct ByteRange {
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last;  // inclusive; nullopt: to the end
    // The last N bytes (HTTP's suffix range "bytes=-N"); first and last are
    // then unused. A file shorter than N is read whole.
    std::optional<std::uint64_t> suffix;
};

struct ListOptions {
    bool recursive = false;
    bool hashes = false;  // ask for sha256 of every file (the server may have to hash)
};

struct UploadOptions {
    bool overwrite = false;  // false: If-None-Match: * (conflict when the file exists)
    std::optional<std::string> if_match_sha256;  // only replace this exact content
    std::optional<std::int64_t> mtime_ns;        // set the remote mtime (default: the local file's)
    ProgressFn progress;
    // The local file's SHA-256 (hex) when the caller knows it (e.g. from a hash
    // cache): skips the hashing pass. A stale value fails with digest_mismatch.
    std::optional<std::string> sha256;

    // Files of at least this size go up as a resumable tus upload in parts over
    // `connections` connections (docs/api.md, "The parts extension"); smaller
    // ones in one PUT.
    std::uint64_t resumable_threshold = 64ULL << 20;
    int connections = 4;
    std::uint64_t part_size = 0;  // 0: chosen from the file size
    // Where the resume journal lives (one small JSON file per upload in
    // flight). Empty: $XDG_STATE_HOME/de-cli/uploads (~/.local/state/...).
    std::filesystem::path journal_dir;
    bool resume = true;  // false: ignore (and replace) a journal entry
    // Resuming: read the parts the server already holds again to compute the
    // whole file's CRC-64, instead of taking their CRCs from the journal
    // (which a local rewrite that kept size, mtime and inode would fool).
    bool verify = false;
    // Told once, before the transfer, what is being resumed (for the CLI to say so).
    std::function<void(std::string_view message)> notice;
};

// What the resume journal of one upload says, asked before anything else
// (Client::probe_resume).
struct ResumeProbe {
    enum class State {
        none,         // no journal (or one whose upload is gone, expired or not this file's)
        in_progress,  // the server holds part of it: Client::upload continues it
        completed,    // it completed as this path with this content (the answer was lost)
    };
    State state = State::none;
    std::optional<Entry> entry;  // completed: the committed entry
};

// What a transfer did besides its result, for the CLI's report.
struct TransferReport {
    bool resumed = false;
    std::uint64_t resumed_bytes = 0;  // already on the other side when this run began
    int retries = 0;                  // parts or ranges sent again after a failure
    int connections = 1;
    std::uint64_t read_bytes = 0;  // resumable upload: bytes of the local file read by this run
    std::uint64_t sent_bytes = 0;  // resumable upload: PATCH body bytes this run sent
};

struct DownloadOptions {
    bool overwrite = false;  // false: conflict when the local file exists
    ProgressFn progress;
    // Files of at least this size are fetched as parallel ranges into a
    // temporary file beside the target, renamed only after its CRC-64 matches.
    std::uint64_t parallel_threshold = 64ULL << 20;
    int connections = 4;
    std::function<void(std::string_view message)> notice;
};

// One file of a tree download (Client::download_tree; docs/api.md, "Tree archive").
struct TreeItem {
    std::string remote;  // its path in the mount
    std::string local;   // where it goes (the folder must exist)
};

struct TreeDownloadOptions {
    bool overwrite = false;  // false: a file that exists locally is a conflict (on_failure)
    // Each file committed (its index in the items), and each one that was not:
    // the server could not send it (gone, changed while read) or the local file
    // was in the way. Called on the caller's thread.
    std::function<void(std::size_t index, const Entry& entry)> on_file;
    std::function<void(std::size_t index, Error error)> on_failure;
    std::size_t max_paths = 50'000;  // per request; more are split into several
};

// One file of a batch upload (docs/api.md, "Batch upload").
struct BatchItem {
    // A string, not a std::filesystem::path: a path keeps its components in a
    // second allocation (about 350 bytes for a/b/c/d/e/f/file), and a batch
    // holds tens of thousands of items.
    std::string local;
    std::string remote;
    std::uint64_t size = 0;  // as stat()ed when planning; a change fails the item
    std::int64_t mtime_ns = 0;
    std::optional<std::string> sha256;  // known hash (else computed while sending)
};

struct BatchOptions {
    bool overwrite = false;
    std::vector<std::string> dirs;  // folders to create as well (may be empty ones)
    // Per request; larger sets are split into several requests.
    std::size_t max_files = 5000;
    std::uint64_t max_bytes = 256ULL << 20;
    ProgressFn progress;  // name = the batch, done/total in bytes over all items
    // When set, each committed file's entry goes here (from the sending
    // threads, one call at a time) as its request's answer is read, and
    // BatchResult::entries stays empty: memory stays flat however many files.
    std::function<void(Entry&&)> on_entry;
};

struct BatchResult {
    std::vector<Entry> entries;  // one per committed file, with sha256 (unless on_entry)
    std::size_t files = 0;       // committed files
    std::uint64_t bytes = 0;
    std::size_t requests = 0;
};

// A Client is used from one thread at a time (it keeps one connection for
// reuse); threads that transfer in parallel create one Client each, which is
// cheap: create() does no I/O and the connection is made on the first call.
class Client {
  public:
    // Checks the options (host URL form, credentials present); does no I/O.
    static Result<Client> create(ClientOptions options);
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    const ClientOptions& options() const;

    // Exchanges username + API key for a bearer token (POST /login).
    Result<LoginToken> login();
    // Revokes the bearer token in use.
    Status logout();
    Result<UserInfo> whoami();
    // The server's version from GET /api/v1/health. Needs no credentials
    // (options.credentials may be empty); uses options' timeouts and retries.
    static Result<std::string> server_version(ClientOptions options);

    Result<std::vector<App>> list_apps();
    Result<App> get_app(std::string_view app);
    Result<App> create_app(std::string_view app);
    // Turning the persistent filesystem off deletes its files: the caller has
    // confirmed; the client sends the confirmation the server requires.
    Result<App> update_app(std::string_view app, const AppUpdate& update);
    Status delete_app(std::string_view app);

    Result<MountStatus> mount_status(std::string_view app);
    Result<MountStatus> enable_mount(std::string_view app);
    Status disable_mount(std::string_view app);  // deletes every file; caller has confirmed

    // HEAD for files; directories are reported by listing their parent.
    Result<Entry> stat(std::string_view app, std::string_view path);
    Result<std::vector<Entry>> list(std::string_view app, std::string_view dir,
                                    const ListOptions& options);
    // Streams the recursive manifest of dir (NDJSON), one callback per entry,
    // without holding the whole listing. A failed callback stops the stream.
    Status manifest(std::string_view app, std::string_view dir, bool hashes,
                    const std::function<Status(const Entry&)>& on_entry);

    // Streams local to remote with a Content-Digest; the server stores it only whole.
    Result<Entry> upload(std::string_view app, const std::filesystem::path& local,
                         std::string_view remote, const UploadOptions& options,
                         TransferReport* report = nullptr);
    // The resume journal of the upload of local to remote, consulted before
    // the target is judged: a journaled upload that HEAD says completed as
    // this path with local_sha256's content is a success (journal removed);
    // one in progress is in_progress (upload() resumes it); one the server
    // forgot or that no longer matches the local file is none (the journal
    // stays for upload(), which says so and starts over; one that completed
    // with other content is removed). Without a journal: none, no request.
    Result<ResumeProbe> probe_resume(std::string_view app, const std::filesystem::path& local,
                                     std::string_view remote, const UploadOptions& options,
                                     const std::function<Result<std::string>()>& local_sha256);
    // Terminates the journaled upload of local to remote (DELETE: the server
    // frees its staged bytes and reservation) and removes the journal.
    void discard_resume(std::string_view app, const std::filesystem::path& local,
                        std::string_view remote, const UploadOptions& options);
    // Many small files in few requests (tar bodies to .../mount/batch); every
    // file is verified by SHA-256 and committed atomically by the server.
    Result<BatchResult> upload_batch(std::string_view app, const std::vector<BatchItem>& items,
                                     const BatchOptions& options);
    // Many small files in one streamed request per max_paths (a pax tar from
    // .../mount/archive): each is written to a temporary file beside its
    // target, checked against its CRC-64, and renamed into place. An error of
    // the whole stream (network, a CRC mismatch, a malformed answer) is
    // returned; files committed before it stay (each one whole and checked).
    Status download_tree(std::string_view app, const std::vector<TreeItem>& items,
                         const TreeDownloadOptions& options);
    // Streams remote to a temporary file beside local, checks its CRC-64
    // against the server's Repr-Digest, then renames it into place.
    Result<Entry> download(std::string_view app, std::string_view remote,
                           const std::filesystem::path& local, const DownloadOptions& options,
                           TransferReport* report = nullptr);
    // Streams a file (or a byte range of it) to sink; a failed sink stops it.
    Status read(std::string_view app, std::string_view remote, std::optional<ByteRange> range,
                const std::function<Status(std::string_view chunk)>& sink);

    Status remove(std::string_view app, std::string_view path, bool recursive);
    Result<Entry> move(std::string_view app, std::string_view from, std::string_view to,
                       bool overwrite);
    Result<Entry> mkdir(std::string_view app, std::string_view path, bool parents);

    // Sync lease (docs/api.md, "Sync lease"). acquire: conflict while another
    // live lease exists -- then *current (when given) receives it, for a
    // takeover with `replace` (its id). renew: conflict once `id` is no
    // longer live. release: sent even after Ctrl-C; not_found when not live.
    Result<SyncLease> acquire_sync_lease(std::string_view app, std::string_view holder, int ttl_s,
                                         const std::optional<std::string>& replace = std::nullopt,
                                         SyncLease* current = nullptr);
    Result<SyncLease> renew_sync_lease(std::string_view app, std::string_view id, int ttl_s);
    Status release_sync_lease(std::string_view app, std::string_view id);

  private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace de

#pragma once
// The transfer engines behind Client::upload/download for big files, private
// to libde: resumable tus uploads in parallel parts (resumable_upload.cpp) and
// parallel ranged downloads (parallel_download.cpp), and batch uploads
// (batch_client.cpp). They drive their own libcurl handles (one per
// connection) or Transports, but every handle is set up by
// http::configure_easy from the same settings as the Client's, failures are
// classified by http::transport_error / response_error, and retries are
// decided by http::Retry.

#include "http.hpp"

#include <de/client.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace de::detail {

struct TransferEnv {
    std::string base_url;   // "http://host:port" (what build_url takes)
    std::string app_route;  // "/apps/<percent-encoded app>" (below /api/v1)
    std::string app;        // the app's name, for messages
    std::string host;       // host label, for messages
    http::TransportSettings settings;
    int max_retries = 3;
    std::chrono::milliseconds retry_budget{30'000};  // ClientOptions::retry_budget
    // Test seams (de/test_hooks.hpp); null outside tests. The fault-injection
    // fields take effect only in a DE_TEST_HOOKS build.
    std::shared_ptr<const TestHooks> hooks;
};

// Uploads `local` (an open regular file of `size` bytes) to the normalised
// mount path `remote` as a tus upload with the "parts" extension, resuming from
// the journal when a previous run left one. `what` names the transfer in errors.
Result<Entry> resumable_upload(const TransferEnv& env, const std::filesystem::path& local, int fd,
                               std::uint64_t size, std::int64_t mtime_ns, const std::string& remote,
                               const UploadOptions& options, const std::string& what,
                               TransferReport* report);

// Client::probe_resume and Client::discard_resume (resumable_upload.cpp).
Result<ResumeProbe> resumable_probe(const TransferEnv& env, const std::filesystem::path& local,
                                    int fd, std::uint64_t size, const std::string& remote,
                                    const UploadOptions& options, const std::string& what,
                                    const std::function<Result<std::string>()>& local_sha256);
void resumable_discard(const TransferEnv& env, const std::filesystem::path& local,
                       const std::string& remote, const UploadOptions& options,
                       const std::string& what);

// Downloads the normalised mount path `remote` to `local` as parallel ranged
// GETs into a temporary file beside it, renamed into place only after its
// CRC-64 matches the server's Repr-Digest (parallel_download.cpp).
Result<Entry> parallel_download(const TransferEnv& env, const std::string& remote,
                                const std::filesystem::path& local, const DownloadOptions& options,
                                const std::string& what, TransferReport* report);

// The temporary file of every download (single, parallel and tree), defined in
// client.cpp: `.NAME.de-part-XXXXXX` (six random characters) beside `local`,
// created with O_EXCL and the mode a new file gets (0666 less the umask), so
// no fchmod is needed later. Its path goes to `temp`; -1 with errno on failure.
int create_download_temp(const std::filesystem::path& dir, const std::filesystem::path& local,
                         std::string& temp);

// The last steps of both downloads (the single-stream one in client.cpp and
// parallel_download), defined in client.cpp. seal_download: the temporary file
// `fd` (made by create_download_temp: its mode is final) gets the server's
// mtime (when > 0), then is fdatasync()ed. move_download_into_place: `temp` renamed to `local`,
// then the folder `dir` fsynced (best effort). `temp` and `what` name them in errors.
Status seal_download(int fd, const std::string& temp, std::int64_t mtime_ns, std::string_view what);
// Sets the modification time of `fd` to `mtime_ns` (ns since the epoch, > 0),
// leaving its access time; false with errno on failure. Defined in client.cpp.
bool set_file_mtime(int fd, std::int64_t mtime_ns);
Status move_download_into_place(const std::string& temp, const std::filesystem::path& local,
                                const std::filesystem::path& dir, std::string_view what);

// Client::download_tree: one tar answer of .../mount/archive per
// options.max_paths files (archive_download.cpp).
Status tree_download(const TransferEnv& env, const std::vector<TreeItem>& items,
                     const TreeDownloadOptions& options);

// Client::upload_batch: tar bodies to .../mount/batch (batch_client.cpp).
Result<BatchResult> batch_upload(const TransferEnv& env, const std::vector<BatchItem>& items,
                                 const BatchOptions& options);

}  // namespace de::detail

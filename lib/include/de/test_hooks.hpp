#pragma once
// Test seams of libde's transfer engines, handed in explicitly through
// ClientOptions::hooks — never read from the environment by the library.
//
// Two kinds of seam live here:
// - tuning: smaller thresholds and sizes, so a test reaches the multi-part,
//   multi-range and multi-request paths with small files;
// - fault injection: a corrupted part, throttled connections, a short outage
//   budget, A/B switches for measurements.
// Fault injection is compiled in only when the build is configured with
// -DDE_TEST_HOOKS=ON (scripts/test.sh does; a release build does not):
// without it the engines ignore those fields, and k_test_hooks_compiled is
// false. de-cli fills a TestHooks from DE_CLI_TEST_* variables only in such a
// build (cli/test_hooks.cpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace de {

#ifdef DE_TEST_HOOKS
inline constexpr bool k_test_hooks_compiled = true;
#else
inline constexpr bool k_test_hooks_compiled = false;
#endif

struct TestHooks {
    // Tuning: override UploadOptions / DownloadOptions / BatchOptions defaults.
    std::optional<std::uint64_t> resumable_threshold;
    std::optional<std::uint64_t> part_size;
    std::optional<std::uint64_t> parallel_threshold;
    std::optional<std::uint64_t> range_size;
    std::optional<std::size_t> batch_max_files;

    // Fault injection (DE_TEST_HOOKS builds only).
    // First attempt of part K: one byte flipped after hashing.
    std::optional<std::uint64_t> corrupt_part;
    std::uint64_t slow_upload_bps = 0;                  // cap every PATCH connection (0: no cap)
    std::uint64_t slow_download_bps = 0;                // cap every range connection (0: no cap)
    std::optional<bool> hash_thread;                    // force the whole-file hashing mode
    std::optional<std::chrono::seconds> outage_budget;  // give up sooner without an answer
    bool no_writeback = false;                          // parallel download: no early writeback
    bool fallocate = false;  // parallel download: fallocate the temp file
    // Resumable upload: the client kills itself (SIGKILL) right after the
    // server answered .../complete, before it removes its resume journal.
    bool abort_after_complete = false;
    // Resumable upload: the client kills itself (SIGKILL) halfway through
    // removing its resume journal after a completed upload.
    bool abort_in_journal_removal = false;
};

}  // namespace de

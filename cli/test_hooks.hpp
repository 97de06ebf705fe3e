#pragma once
// de-cli's bridge from the environment to libde's test seams. The library
// never reads DE_CLI_TEST_* (or any other test knob) itself: the test scripts
// set variables, and de-cli turns them into a de::TestHooks object handed in
// through ClientOptions::hooks (cli/context.cpp). In a build without
// DE_TEST_HOOKS this reads nothing and returns nullptr, so a release de-cli
// has no hidden switches that corrupt, throttle or retune transfers.
//
// Variables (sizes accept de::parse_size forms such as 1MiB):
//   DE_CLI_RESUMABLE_THRESHOLD=SIZE  resumable uploads from this size on
//   DE_CLI_PART_SIZE=SIZE            part size of resumable uploads
//   DE_CLI_PARALLEL_THRESHOLD=SIZE   parallel downloads from this size on
//   DE_CLI_TEST_RANGE_SIZE=SIZE      range size of parallel downloads
//   DE_BATCH_MAX_FILES=N             files (and folders) per batch request
//   DE_CLI_TEST_CORRUPT_PART=K       the first attempt of part K is corrupted
//   DE_CLI_TEST_SLOW_UPLOAD=BPS      bytes/s cap of every PATCH connection
//   DE_CLI_TEST_SLOW_DOWNLOAD=SIZE   bytes/s over all range connections
//   DE_CLI_TEST_HASH_THREAD=1|0      force the whole-file hashing mode
//   DE_CLI_TEST_OUTAGE_BUDGET=S      resumable upload: give up after S s without an answer
//   DE_CLI_RETRY_BUDGET_MS=MS        every request: ride out an outage for MS ms
//                                    (ClientOptions::retry_budget, 30 s by default)
//   DE_CLI_TEST_NO_WRITEBACK (set)   parallel download: no early writeback
//   DE_CLI_TEST_FALLOCATE (set)      parallel download: fallocate the file
//   DE_CLI_TEST_ABORT_AFTER_COMPLETE (set)  resumable upload: SIGKILL after .../complete answered
//   DE_CLI_TEST_ABORT_IN_JOURNAL_REMOVAL (set)  resumable upload: SIGKILL halfway through
//                                    removing the journal of a completed upload

#include <de/test_hooks.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace de::cli {

// The hooks the environment asks for; nullptr when none is set, or when the
// build has no test hooks.
std::shared_ptr<const de::TestHooks> test_hooks_from_environment();

// DE_CLI_RETRY_BUDGET_MS, for ClientOptions::retry_budget; nullopt when unset,
// malformed, or the build has no test hooks.
std::optional<std::chrono::milliseconds> retry_budget_from_environment();

}  // namespace de::cli

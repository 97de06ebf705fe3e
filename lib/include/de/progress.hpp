#pragma once
// Transfers report progress as events; only the CLI decides whether to draw a
// bar, print NDJSON or stay quiet. Cancellation is one process-wide flag that
// the CLI's SIGINT handler sets and every transfer loop checks.

#include <cstdint>
#include <functional>
#include <string_view>

namespace de {

struct ProgressEvent {
    enum class Phase { start, advance, finish };
    Phase phase = Phase::advance;
    std::string_view name;    // the path being transferred (valid only during the call)
    std::uint64_t done = 0;   // bytes transferred so far
    std::uint64_t total = 0;  // bytes expected, 0 when unknown
};

using ProgressFn = std::function<void(const ProgressEvent&)>;

// Async-signal-safe: sets a flag only.
void request_interrupt() noexcept;
bool interrupt_requested() noexcept;

}  // namespace de

// The process-wide interrupt flag. A lock-free std::atomic<bool> is
// async-signal-safe to store from a SIGINT handler, and transfer loops on any
// thread read it without a lock.
#include <de/progress.hpp>

#include <atomic>

namespace de {

namespace {
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);
}  // namespace

void request_interrupt() noexcept {
    g_interrupted.store(true, std::memory_order_relaxed);
}

bool interrupt_requested() noexcept {
    return g_interrupted.load(std::memory_order_relaxed);
}

}  // namespace de

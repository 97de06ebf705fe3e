// The process-wide interrupt flag, and the pure pieces of progress reporting.
// A lock-free std::atomic<bool> is async-signal-safe to store from a SIGINT
// handler, and transfer loops on any thread read it without a lock.
#include <de/progress.hpp>
#include <de/size.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>

namespace de {

namespace {
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

constexpr double k_min_measured_seconds = 0.25;
}  // namespace

void request_interrupt() noexcept {
    g_interrupted.store(true, std::memory_order_relaxed);
}

bool interrupt_requested() noexcept {
    return g_interrupted.load(std::memory_order_relaxed);
}

ProgressFn serialized(ProgressFn fn) {
    if (!fn) return fn;
    auto mutex = std::make_shared<std::mutex>();
    return [mutex, fn = std::move(fn)](const ProgressEvent& event) {
        std::lock_guard lock(*mutex);
        fn(event);
    };
}

ProgressMeter::ProgressMeter(std::chrono::milliseconds window) : m_window(window) {}

void ProgressMeter::start(Clock::time_point now) {
    m_started = true;
    m_start = now;
    m_samples.clear();
    m_samples.emplace_back(now, 0);
}

void ProgressMeter::update(std::uint64_t done, Clock::time_point now) {
    if (!m_started) start(now);
    if (!m_samples.empty() && done < m_samples.back().second) m_samples.clear();
    m_samples.emplace_back(now, done);
    // Keep one sample at or before the window's start, so the span stays the window.
    while (m_samples.size() > 2 && now - m_samples[1].first >= m_window)
        m_samples.pop_front();
}

double ProgressMeter::seconds(Clock::time_point now) const {
    return m_started ? std::chrono::duration<double>(now - m_start).count() : 0.0;
}

double ProgressMeter::rate() const {
    if (m_samples.size() < 2) return 0.0;
    const auto& [t0, d0] = m_samples.front();
    const auto& [t1, d1] = m_samples.back();
    double span = std::chrono::duration<double>(t1 - t0).count();
    if (span < k_min_measured_seconds) return 0.0;
    return static_cast<double>(d1 - d0) / span;
}

std::optional<double> ProgressMeter::eta_seconds(std::uint64_t done, std::uint64_t total) const {
    if (total == 0) return std::nullopt;
    if (done >= total) return 0.0;
    double r = rate();
    if (r <= 0.0) return std::nullopt;
    return static_cast<double>(total - done) / r;
}

std::string format_rate(double bytes_per_second) {
    if (!(bytes_per_second > 0.0)) return "";
    return format_size(static_cast<std::uint64_t>(bytes_per_second)) + "/s";
}

std::string format_eta(std::optional<double> seconds) {
    if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "--:--";
    auto s = static_cast<std::uint64_t>(std::ceil(*seconds));
    if (s > 99 * 3600) return ">99 h";
    if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    return fmt::format("{}:{:02}", s / 60, s % 60);
}

FileSetProgress::FileSetProgress(ProgressFn sink, std::uint64_t total_bytes, std::size_t files)
    : m_sink(std::move(sink)), m_total(total_bytes), m_files(files) {}

void FileSetProgress::emit(std::string_view label, std::uint64_t done) {
    auto phase = m_started ? ProgressEvent::Phase::advance : ProgressEvent::Phase::start;
    m_started = true;
    m_sink({phase, label, m_base + done, m_total});
}

ProgressFn FileSetProgress::for_current_file() {
    if (!m_sink) return {};
    if (m_files == 1) return m_sink;
    return [this](const ProgressEvent& e) {
        emit(fmt::format("[{}/{}] {}", m_index + 1, m_files, e.name), e.done);
    };
}

void FileSetProgress::group(std::string_view label, std::uint64_t done) {
    if (m_sink) emit(label, done);
}

void FileSetProgress::next(std::uint64_t size, std::size_t count) {
    m_index += count;
    m_base += size;
}

void FileSetProgress::finish(std::string_view label) {
    if (m_sink && m_files > 1 && m_started)
        m_sink({ProgressEvent::Phase::finish, label, m_base, m_total});
}

}  // namespace de

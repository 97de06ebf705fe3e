#pragma once
// Transfers report progress as events; only the CLI decides whether to draw a
// bar, print NDJSON or stay quiet. Cancellation is one process-wide flag that
// the CLI's SIGINT handler sets and every transfer loop checks.
//
// Threads: every engine in libde calls a ProgressFn from one thread at a time
// (the parallel download and the tus upload drive all their connections with
// one curl multi loop). A caller that fans transfers out over threads itself
// wraps its function with serialized(). ProgressMeter is the pure part of a
// progress display (rate over a sliding window, ETA), free of any output.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace de {

struct ProgressEvent {
    enum class Phase { start, advance, finish };
    Phase phase = Phase::advance;
    std::string_view name;    // the path being transferred (valid only during the call)
    std::uint64_t done = 0;   // bytes transferred so far
    std::uint64_t total = 0;  // bytes expected, 0 when unknown
};

using ProgressFn = std::function<void(const ProgressEvent&)>;

// fn behind a mutex, for events that may come from several threads at once.
ProgressFn serialized(ProgressFn fn);

// Rate and ETA of one transfer set. The rate is measured over the last few
// seconds (so a stall or a burst shows soon), falling back to the average
// since the start while the window is still short.
class ProgressMeter {
  public:
    using Clock = std::chrono::steady_clock;
    explicit ProgressMeter(std::chrono::milliseconds window = std::chrono::seconds(3));

    void start(Clock::time_point now);
    // done went down (a restart): the window starts again from it.
    void update(std::uint64_t done, Clock::time_point now);

    bool started() const { return m_started; }
    double seconds(Clock::time_point now) const;
    // Bytes per second; 0 while unknown (less than a quarter second measured).
    double rate() const;
    // Seconds left, when total is known and the rate is not 0.
    std::optional<double> eta_seconds(std::uint64_t done, std::uint64_t total) const;

  private:
    std::chrono::milliseconds m_window;
    bool m_started = false;
    Clock::time_point m_start{};
    std::deque<std::pair<Clock::time_point, std::uint64_t>> m_samples;
};

// Several files as one progress set: one bar over all their bytes, labelled
// "[i/n] NAME" with the current file, instead of one line per file (a single
// file's events pass through unchanged). Not thread-safe: one transfer at a time.
class FileSetProgress {
  public:
    FileSetProgress(ProgressFn sink, std::uint64_t total_bytes, std::size_t files);

    explicit operator bool() const { return static_cast<bool>(m_sink); }
    // The callback for the current file's transfer (empty without a sink).
    ProgressFn for_current_file();
    // An event for a group of files sent together (done: bytes of the group).
    void group(std::string_view label, std::uint64_t done);
    // The current file (or a group of count files of size bytes) is done.
    void next(std::uint64_t size, std::size_t count = 1);
    void finish(std::string_view label);

  private:
    void emit(std::string_view label, std::uint64_t done);
    ProgressFn m_sink;
    std::uint64_t m_total = 0;
    std::size_t m_files = 0;
    std::size_t m_index = 0;
    std::uint64_t m_base = 0;  // bytes of the files before the current one
    bool m_started = false;
};

// "812.3 MiB/s"; "" for 0.
std::string format_rate(double bytes_per_second);
// "0:42", "12:05", "1:02:03"; "--:--" when unknown; ">99 h" beyond that.
std::string format_eta(std::optional<double> seconds);

// Async-signal-safe: sets a flag only.
void request_interrupt() noexcept;
bool interrupt_requested() noexcept;

}  // namespace de

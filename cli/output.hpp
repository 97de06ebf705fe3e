#pragma once
// Formatting for people and for pipes, kept apart from the commands so that it
// can be unit-tested without a terminal: tables (aligned with a header on a
// TTY, tab-separated without one when piped, as gh does), times, percentages,
// and the progress bar that turns de::ProgressEvent into one redrawn line.

#include <de/progress.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace de::cli {

class Table {
  public:
    enum class Align { left, right };
    explicit Table(std::vector<std::string> headers);
    // Columns default to left; sizes and counts read better right-aligned.
    void align(std::size_t column, Align align);
    void add_row(std::vector<std::string> cells);
    bool empty() const { return m_rows.empty(); }
    std::size_t size() const { return m_rows.size(); }

    // aligned: a header and padded columns separated by two spaces (the
    // last column unpadded). Otherwise one tab-separated line per row, no header,
    // with tabs and newlines in cells replaced so every row stays one line.
    std::string render(bool aligned) const;

  private:
    std::vector<std::string> m_headers;
    std::vector<Align> m_align;
    std::vector<std::vector<std::string>> m_rows;
};

// "2026-11-22 04:50" in local time; "-" for 0.
std::string format_mtime(std::int64_t mtime_ns);
// "5.1%" (one decimal); "0.0%" when total is 0.
std::string format_percent(std::uint64_t part, std::uint64_t total);
// "used 1.2 GiB of 23.3 GiB (5.1%)".
std::string format_usage(std::uint64_t used, std::uint64_t quota);

// The pieces of a progress line, shared by ProgressBar and context.cpp's
// progress_bar_line. "12.5%  1.2 MiB / 9.6 MiB", or the size done alone when
// the total is unknown (0).
std::string format_progress_amount(std::uint64_t done, std::uint64_t total);
// "[####----]": `cells` cells, filled in proportion to done / total.
std::string format_progress_cells(std::uint64_t done, std::uint64_t total, int cells);
// The name, padded or cut from the left ("...") to the room that the bar and
// the stats leave in `width` columns (at least 8), then the bar and the stats.
std::string layout_progress_line(std::string_view name, const std::string& bar,
                                 const std::string& stats, int width);

// Draws one progress line on a terminal stream, redrawn at most ~10 times a
// second. Not thread-safe: transfers report from the calling thread.
class ProgressBar {
  public:
    explicit ProgressBar(std::FILE* stream, int width = 80);
    ~ProgressBar();
    void on_event(const ProgressEvent& event);
    // The line for the current state, exposed for tests.
    std::string line(std::string_view name, std::uint64_t done, std::uint64_t total,
                     double bytes_per_second) const;

  private:
    void clear();
    std::FILE* m_stream;
    int m_width;
    bool m_drawn = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last_draw;
};

}  // namespace de::cli

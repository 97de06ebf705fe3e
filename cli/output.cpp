// Tables, human formats and the progress bar. Pure functions of their inputs
// (except the bar's clock) so the unit tests can pin the exact text.
#include "output.hpp"

#include <de/size.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace de::cli {

Table::Table(std::vector<std::string> headers)
    : m_headers(std::move(headers)), m_align(m_headers.size(), Align::left) {}

void Table::align(std::size_t column, Align align) {
    if (column < m_align.size()) m_align[column] = align;
}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(m_headers.size());
    m_rows.push_back(std::move(cells));
}

namespace {
std::string one_line(std::string_view cell) {
    std::string out(cell);
    for (char& c : out)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return out;
}

// Display width: counts UTF-8 code points, which is right for the names and
// numbers we print (no wide East Asian glyph handling).
std::size_t width(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}
}  // namespace

std::string Table::render(bool aligned) const {
    std::string out;
    if (!aligned) {
        for (const auto& row : m_rows) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (i) out += '\t';
                out += one_line(row[i]);
            }
            out += '\n';
        }
        return out;
    }
    std::vector<std::size_t> widths(m_headers.size(), 0);
    for (std::size_t i = 0; i < m_headers.size(); ++i)
        widths[i] = width(m_headers[i]);
    for (const auto& row : m_rows)
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], width(one_line(row[i])));
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            std::string cell = one_line(row[i]);
            std::size_t pad = widths[i] - width(cell);
            bool last = i + 1 == row.size();
            if (i) line += "  ";
            if (m_align[i] == Align::right) line.append(pad, ' ');
            line += cell;
            if (m_align[i] == Align::left && !last) line.append(pad, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line;
        out += '\n';
    };
    emit(m_headers);
    for (const auto& row : m_rows)
        emit(row);
    return out;
}

std::string format_mtime(std::int64_t mtime_ns) {
    if (mtime_ns == 0) return "-";
    std::time_t t = static_cast<std::time_t>(mtime_ns / 1'000'000'000);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

std::string format_percent(std::uint64_t part, std::uint64_t total) {
    if (total == 0) return "0.0%";
    double pct = 100.0 * static_cast<double>(part) / static_cast<double>(total);
    return fmt::format("{:.1f}%", pct);
}

std::string format_usage(std::uint64_t used, std::uint64_t quota) {
    return fmt::format("used {} of {} ({})", format_size(used), format_size(quota),
                       format_percent(used, quota));
}

std::string format_progress_amount(std::uint64_t done, std::uint64_t total) {
    if (total == 0) return format_size(done);
    return fmt::format("{:>6}  {} / {}", format_percent(std::min(done, total), total),
                       format_size(done), format_size(total));
}

std::string format_progress_cells(std::uint64_t done, std::uint64_t total, int cells) {
    std::string bar = "[";
    int filled = total > 0 ? static_cast<int>(cells * std::min(done, total) / total) : 0;
    bar.append(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(cells - filled), '-');
    bar += "]";
    return bar;
}

std::string layout_progress_line(std::string_view name, const std::string& bar,
                                 const std::string& stats, int width) {
    int room = std::max(width - 1 - static_cast<int>(bar.size() + stats.size()) - 4, 8);
    std::string shown(name);
    if (static_cast<int>(shown.size()) > room)
        shown = "..." + shown.substr(shown.size() - static_cast<std::size_t>(room - 3));
    return fmt::format("{:<{}}  {}  {}", shown, room, bar, stats);
}

ProgressBar::ProgressBar(std::FILE* stream, int width)
    : m_stream(stream), m_width(std::max(width, 40)) {}

ProgressBar::~ProgressBar() {
    clear();
}

void ProgressBar::clear() {
    if (m_drawn) {
        std::fputs("\r\x1b[K", m_stream);
        std::fflush(m_stream);
        m_drawn = false;
    }
}

std::string ProgressBar::line(std::string_view name, std::uint64_t done, std::uint64_t total,
                              double bytes_per_second) const {
    std::string stats = format_progress_amount(done, total);
    if (bytes_per_second > 0)
        stats += fmt::format("  {}/s", format_size(static_cast<std::uint64_t>(bytes_per_second)));
    return layout_progress_line(name, format_progress_cells(done, total, 20), stats, m_width);
}

void ProgressBar::on_event(const ProgressEvent& event) {
    auto now = std::chrono::steady_clock::now();
    if (event.phase == ProgressEvent::Phase::start) {
        m_start = now;
        m_last_draw = {};
    }
    bool finish = event.phase == ProgressEvent::Phase::finish;
    if (!finish && event.phase != ProgressEvent::Phase::start &&
        now - m_last_draw < std::chrono::milliseconds(100))
        return;
    m_last_draw = now;
    double secs = std::chrono::duration<double>(now - m_start).count();
    double rate = secs > 0.2 ? static_cast<double>(event.done) / secs : 0.0;
    std::string text = line(event.name, event.done, event.total, rate);
    std::fputs("\r\x1b[K", m_stream);
    std::fputs(text.c_str(), m_stream);
    if (finish) {
        std::fputc('\n', m_stream);
        m_drawn = false;
    } else {
        m_drawn = true;
    }
    std::fflush(m_stream);
}

}  // namespace de::cli

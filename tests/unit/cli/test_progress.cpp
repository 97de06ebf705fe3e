// The progress display: rate and ETA arithmetic and their text, the bar line,
// the NDJSON objects, throttling, and the 1 MiB floor for NDJSON.
#include "context.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

// Captures what a ProgressView writes.
struct Capture {
    char* data = nullptr;
    std::size_t size = 0;
    std::FILE* file = open_memstream(&data, &size);
    ~Capture() {
        std::fclose(file);
        std::free(data);
    }
    std::string text() {
        std::fflush(file);
        return std::string(data, size);
    }
};

}  // namespace

TEST_CASE("ETA text") {
    CHECK(de::format_eta(std::nullopt) == "--:--");
    CHECK(de::format_eta(0.0) == "0:00");
    CHECK(de::format_eta(0.2) == "0:01");  // rounds up: never "0:00" while bytes are left
    CHECK(de::format_eta(42) == "0:42");
    CHECK(de::format_eta(725) == "12:05");
    CHECK(de::format_eta(3723) == "1:02:03");
    CHECK(de::format_eta(1e9) == ">99 h");
    CHECK(de::format_eta(-1) == "--:--");
}

TEST_CASE("rate text") {
    CHECK(de::format_rate(0) == "");
    CHECK(de::format_rate(2048) == "2.0 KiB/s");
    CHECK(de::format_rate(812.3 * 1024 * 1024) == "812.3 MiB/s");
}

TEST_CASE("meter: rate over the window, ETA from it") {
    de::ProgressMeter meter(2s);
    auto t0 = Clock::now();
    meter.start(t0);
    CHECK(meter.rate() == 0.0);
    meter.update(100, t0 + 100ms);
    CHECK(meter.rate() == 0.0);  // under a quarter second: not measured yet
    meter.update(1000, t0 + 1s);
    CHECK(meter.rate() == doctest::Approx(1000.0));
    CHECK(*meter.eta_seconds(1000, 3000) == doctest::Approx(2.0));
    CHECK(!meter.eta_seconds(1000, 0));  // total unknown
    CHECK(*meter.eta_seconds(3000, 3000) == 0.0);
    // Later, only the last ~2 s count: a slowdown shows.
    meter.update(5000, t0 + 2s);
    meter.update(5100, t0 + 4s);
    meter.update(5200, t0 + 5s);
    CHECK(meter.rate() < 200.0);
    CHECK(meter.rate() > 50.0);
    // done going down (a restarted download): measured afresh, never negative.
    meter.update(10, t0 + 5100ms);
    CHECK(meter.rate() == 0.0);
    meter.update(1010, t0 + 6100ms);
    CHECK(meter.rate() == doctest::Approx(1000.0));
}

TEST_CASE("bar line: bar, percentage, sizes, rate and ETA fit the width") {
    std::string line = de::cli::progress_bar_line("data/big.bin", 512, 1024, 2048, 0.25, 80);
    CHECK(line.find("data/big.bin") == 0);
    // The bar narrows (from 20 cells) to keep the name whole; still half full.
    auto open = line.find('['), close = line.find(']');
    REQUIRE(close != std::string::npos);
    std::string cells = line.substr(open + 1, close - open - 1);
    CHECK(cells.size() >= 10);
    CHECK(cells.size() < 20);
    CHECK(std::count(cells.begin(), cells.end(), '#') == static_cast<long>(cells.size() / 2));
    CHECK(line.find("50.0%") != std::string::npos);
    CHECK(line.find("512 B / 1.0 KiB") != std::string::npos);
    std::string wide = de::cli::progress_bar_line("data/big.bin", 512, 1024, 2048, 0.25, 120);
    CHECK(wide.find("[##########----------]") != std::string::npos);
    CHECK(wide.size() < 120);
    CHECK(line.find("2.0 KiB/s") != std::string::npos);
    CHECK(line.find("ETA 0:01") != std::string::npos);
    CHECK(line.size() < 80);

    std::string unknown = de::cli::progress_bar_line("x", 5, 10, 0, std::nullopt, 80);
    CHECK(unknown.find("ETA --:--") != std::string::npos);
    std::string done = de::cli::progress_bar_line("x", 10, 10, 100, 0.0, 80, true);
    CHECK(done.find("100.0%") != std::string::npos);
    CHECK(done.find("ETA") == std::string::npos);

    std::string cut = de::cli::progress_bar_line(std::string(200, 'x'), 1, 0, 0, {}, 80);
    CHECK(cut.size() < 80);
    CHECK(cut.find("...") == 0);
}

TEST_CASE("NDJSON object") {
    auto j =
        nlohmann::json::parse(de::cli::progress_json_line("progress", "a\"b\n", 10, 40, 5.6, 6.04));
    CHECK(j["event"] == "progress");
    CHECK(j["name"] == "a\"b\n");
    CHECK(j["done"] == 10);
    CHECK(j["total"] == 40);
    CHECK(j["rate"] == 5);
    CHECK(j["eta_seconds"].get<double>() == doctest::Approx(6.0));
    CHECK(!j.contains("seconds"));
    auto f = nlohmann::json::parse(de::cli::progress_json_line("finish", "n", 40, 40, 5, 0.0, 1.5));
    CHECK(f["seconds"].get<double>() == doctest::Approx(1.5));
    auto u = nlohmann::json::parse(de::cli::progress_json_line("start", "n", 0, 0, 0, {}));
    CHECK(u["eta_seconds"].is_null());
    // Invalid UTF-8 in a name still gives valid JSON.
    CHECK(nlohmann::json::parse(de::cli::progress_json_line("start", "\xff", 0, 0, 0, {}))
              .is_object());
}

TEST_CASE("NDJSON view: start, throttled progress, finish; one object a line") {
    using P = de::ProgressEvent::Phase;
    Capture out;
    const std::uint64_t total = 8 << 20;
    {
        de::cli::ProgressView view(de::cli::ProgressView::Mode::ndjson, out.file);
        auto t0 = Clock::now();
        view.on_event({P::start, "big.bin", 0, total}, t0);
        // 40 events in one second: at most 4 progress lines (250 ms apart).
        for (int i = 1; i <= 40; ++i)
            view.on_event({P::advance, "big.bin", total * i / 41, total}, t0 + i * 25ms);
        view.on_event({P::finish, "big.bin", total, total}, t0 + 1100ms);
    }
    auto lines = lines_of(out.text());
    REQUIRE(lines.size() >= 3);
    CHECK(lines.size() <= 2 + 5);
    std::vector<std::string> events;
    for (const auto& line : lines) {
        auto j = nlohmann::json::parse(line);
        events.push_back(j["event"]);
        CHECK(j["name"] == "big.bin");
        CHECK(j["total"] == total);
    }
    CHECK(events.front() == "start");
    CHECK(events.back() == "finish");
    auto last = nlohmann::json::parse(lines.back());
    CHECK(last["done"] == total);
    CHECK(last["rate"].get<double>() > 0);
}

TEST_CASE("NDJSON view: small sets print nothing") {
    using P = de::ProgressEvent::Phase;
    Capture out;
    {
        de::cli::ProgressView view(de::cli::ProgressView::Mode::ndjson, out.file);
        auto t0 = Clock::now();
        view.on_event({P::start, "small", 0, 1000}, t0);
        view.on_event({P::advance, "small", 500, 1000}, t0 + 1s);
        view.on_event({P::finish, "small", 1000, 1000}, t0 + 2s);
    }
    CHECK(out.text().empty());
}

TEST_CASE("bar view: redraws one line and ends it at finish") {
    using P = de::ProgressEvent::Phase;
    Capture out;
    {
        de::cli::ProgressView view(de::cli::ProgressView::Mode::bar, out.file, 100);
        auto t0 = Clock::now();
        view.on_event({P::start, "f", 0, 100}, t0);
        view.on_event({P::advance, "f", 10, 100}, t0 + 10ms);  // throttled away
        view.on_event({P::advance, "f", 50, 100}, t0 + 500ms);
        view.on_event({P::finish, "f", 100, 100}, t0 + 1s);
    }
    std::string text = out.text();
    CHECK(text.find("10.0%") == std::string::npos);
    CHECK(text.find("50.0%") != std::string::npos);
    CHECK(text.find("[####################]") != std::string::npos);
    CHECK(text.back() == '\n');
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

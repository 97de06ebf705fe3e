// Output formatting: tables for terminals and pipes, human sizes and
// percentages, and the progress line.
#include "output.hpp"

#include <doctest/doctest.h>

using de::cli::Table;

TEST_CASE("tables: aligned with a header on a TTY, tab-separated without one when piped") {
    Table t({"TYPE", "SIZE", "NAME"});
    t.align(1, Table::Align::right);
    t.add_row({"file", "6 B", "a.csv"});
    t.add_row({"dir", "-", "data/"});
    t.add_row({"file", "97.7 KiB", "big\tname"});

    CHECK(t.render(true) ==
          "TYPE      SIZE  NAME\n"
          "file       6 B  a.csv\n"
          "dir          -  data/\n"
          "file  97.7 KiB  big name\n");
    CHECK(t.render(false) ==
          "file\t6 B\ta.csv\n"
          "dir\t-\tdata/\n"
          "file\t97.7 KiB\tbig name\n");  // a tab inside a cell never splits the row
}

TEST_CASE("tables: short rows are padded, and an empty table prints only the header") {
    Table t({"A", "B"});
    CHECK(t.empty());
    CHECK(t.render(true) == "A  B\n");
    CHECK(t.render(false).empty());
    t.add_row({"x"});
    CHECK(t.render(false) == "x\t\n");
}

TEST_CASE("tables: UTF-8 names align by characters, not bytes") {
    Table t({"NAME", "N"});
    t.add_row({"ümlaut", "1"});
    t.add_row({"plain", "2"});
    CHECK(t.render(true) == "NAME    N\nümlaut  1\nplain   2\n");
}

TEST_CASE("percentages and usage") {
    CHECK(de::cli::format_percent(0, 0) == "0.0%");
    CHECK(de::cli::format_percent(1, 3) == "33.3%");
    CHECK(de::cli::format_percent(5, 5) == "100.0%");
    CHECK(de::cli::format_usage(1288490189, 25000000000) == "used 1.2 GiB of 23.3 GiB (5.2%)");
    CHECK(de::cli::format_usage(0, 10485760) == "used 0 B of 10.0 MiB (0.0%)");
}

TEST_CASE("mtime formatting") {
    CHECK(de::cli::format_mtime(0) == "-");
    CHECK(de::cli::format_mtime(1'700'000'000'000'000'000).size() == 16);  // YYYY-MM-DD HH:MM
}

TEST_CASE("progress line: name, bar, percentage, sizes and rate fit the width") {
    de::cli::ProgressBar bar(stderr, 80);
    std::string line = bar.line("data/big.bin", 512, 1024, 2048);
    CHECK(line.find("data/big.bin") == 0);
    CHECK(line.find("[##########----------]") != std::string::npos);
    CHECK(line.find("50.0%") != std::string::npos);
    CHECK(line.find("512 B / 1.0 KiB") != std::string::npos);
    CHECK(line.find("2.0 KiB/s") != std::string::npos);
    CHECK(line.size() < 80);

    std::string long_name(200, 'x');
    std::string cut = bar.line(long_name, 1, 0, 0);
    CHECK(cut.size() < 80);
    CHECK(cut.find("...") == 0);
}

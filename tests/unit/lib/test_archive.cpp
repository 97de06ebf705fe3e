// The tar writer's output is checked against the format (header fields,
// checksum, padding) and, when a tar binary exists, by listing it with tar.
#include <de/archive.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

std::string field(const std::string& archive, std::size_t offset, std::size_t len) {
    std::string s = archive.substr(offset, len);
    return s.substr(0, s.find('\0'));
}

unsigned checksum(std::string header) {
    for (int i = 148; i < 156; ++i)
        header[i] = ' ';
    unsigned sum = 0;
    for (unsigned char c : header.substr(0, 512))
        sum += c;
    return sum;
}

}  // namespace

TEST_CASE("ustar headers, data padding and the end blocks") {
    std::string out;
    de::TarWriter tar([&](std::string_view d) -> de::Status {
        out.append(d);
        return {};
    });
    REQUIRE(tar.add_directory("data", 1'700'000'000'000'000'000));
    REQUIRE(tar.begin_file("data/a.txt", 5, 1'700'000'000'000'000'000));
    REQUIRE(tar.write("hel"));
    REQUIRE(tar.write("lo"));
    REQUIRE(tar.end_file());
    REQUIRE(tar.finish());

    REQUIRE(out.size() == 512 * 5);  // dir header, file header, one data block, two zero blocks
    CHECK(out.size() == tar.bytes_written());
    CHECK(field(out, 0, 100) == "data/");
    CHECK(out[156] == '5');
    CHECK(field(out, 257, 6) == "ustar");
    CHECK(std::strtoul(field(out, 148, 8).c_str(), nullptr, 8) == checksum(out.substr(0, 512)));

    std::string file_header = out.substr(512, 512);
    CHECK(field(file_header, 0, 100) == "data/a.txt");
    CHECK(file_header[156] == '0');
    CHECK(std::strtoul(field(file_header, 124, 12).c_str(), nullptr, 8) == 5);
    CHECK(std::strtoul(field(file_header, 136, 12).c_str(), nullptr, 8) == 1'700'000'000);
    CHECK(std::strtoul(field(file_header, 148, 8).c_str(), nullptr, 8) == checksum(file_header));
    CHECK(out.substr(1024, 5) == "hello");
    CHECK(out.substr(1029, 512 - 5) == std::string(507, '\0'));
    CHECK(out.substr(1536) == std::string(1024, '\0'));
}

TEST_CASE("a file that grows or shrinks while archived is an error") {
    std::string out;
    de::TarWriter tar([&](std::string_view d) -> de::Status {
        out.append(d);
        return {};
    });
    REQUIRE(tar.begin_file("x", 2, 0));
    CHECK_FALSE(tar.write("abc"));
    REQUIRE(tar.write("a"));
    auto end = tar.end_file();
    REQUIRE_FALSE(end);
    CHECK(end.error().kind == de::ErrorKind::conflict);
}

TEST_CASE("a failing sink fails the call") {
    de::TarWriter tar([](std::string_view) -> de::Status {
        return de::fail(de::ErrorKind::generic, "disk full");
    });
    auto st = tar.begin_file("x", 1, 0);
    REQUIRE_FALSE(st);
    CHECK(st.error().message == "disk full");
}

TEST_CASE("long paths use ustar's prefix, then a pax header; tar reads them back") {
    std::string deep;
    for (int i = 0; i < 12; ++i)
        deep += "folder" + std::to_string(i) + "/";  // ~100 chars
    std::string prefix_path = deep + "file.bin";
    std::string very_long = std::string(300, 'a') + "/" + std::string(120, 'b');  // no ustar fit

    std::string path = "/tmp/de-archive-test-" + std::to_string(::getpid()) + ".tar";
    {
        std::ofstream f(path, std::ios::binary);
        de::TarWriter tar([&](std::string_view d) -> de::Status {
            f.write(d.data(), static_cast<std::streamsize>(d.size()));
            return {};
        });
        REQUIRE(tar.begin_file(prefix_path, 3, 0));
        REQUIRE(tar.write("abc"));
        REQUIRE(tar.end_file());
        REQUIRE(tar.begin_file(very_long, 0, 0));
        REQUIRE(tar.end_file());
        REQUIRE(tar.finish());
    }
    if (std::system("tar --version >/dev/null 2>&1") == 0) {
        std::string cmd = "tar -tf " + path + " > " + path + ".list";
        REQUIRE(std::system(cmd.c_str()) == 0);
        std::ifstream list(path + ".list");
        std::string first, second;
        std::getline(list, first);
        std::getline(list, second);
        CHECK(first == prefix_path);
        CHECK(second == very_long);
        std::remove((path + ".list").c_str());
    }
    std::remove(path.c_str());
}

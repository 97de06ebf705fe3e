// The batch route's streaming tar parser: what it accepts (ustar, pax paths,
// mtimes and DE.sha256, fed in pieces of any size) and that every malformed
// archive is a clean 400 (bad checksum, truncation, '..', absolute paths,
// links, sizes that overflow, junk after the end).
#include <de/tar_reader.hpp>

#include <de/archive.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

using de::TarHandler;
using de::TarMember;
using de::TarReader;
using de::api::WireError;

namespace {

struct Collect : TarHandler {
    struct Item {
        TarMember member;
        std::string content;
    };
    std::vector<Item> items;
    de::api::ApiResult<void> begin(const TarMember& m) override {
        items.push_back({m, {}});
        return {};
    }
    de::api::ApiResult<void> data(std::string_view b) override {
        items.back().content.append(b);
        return {};
    }
    de::api::ApiResult<void> end() override { return {}; }
};

// One ustar header block with a correct checksum (unless told otherwise).
std::string header(std::string_view name, char type, std::uint64_t size,
                   std::string_view magic = std::string_view("ustar\0"
                                                             "00",
                                                             8),
                   int checksum_delta = 0) {
    std::string h(512, '\0');
    std::memcpy(&h[0], name.data(), std::min<std::size_t>(name.size(), 100));
    auto octal = [&](std::size_t off, std::size_t width, std::uint64_t v) {
        std::string d = fmt::format("{:0{}o}", v, width - 1);
        std::memcpy(&h[off], d.data(), width - 1);
    };
    octal(100, 8, 0644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, size);
    octal(136, 12, 1700000000);
    h[156] = type;
    std::memcpy(&h[257], magic.data(), magic.size());
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (char c : h)
        sum += static_cast<unsigned char>(c);
    sum += static_cast<unsigned>(checksum_delta);
    std::string chk = fmt::format("{:06o}", sum);
    std::memcpy(&h[148], chk.data(), 6);
    h[154] = '\0';
    return h;
}

std::string padded(std::string data) {
    data.resize((data.size() + 511) / 512 * 512, '\0');
    return data;
}

std::string pax(std::string_view records) {
    return header("PaxHeaders/x", 'x', records.size()) + padded(std::string(records));
}

std::string record(std::string_view key, std::string_view value) {
    std::size_t body = key.size() + value.size() + 3;
    std::size_t len = body + 1;
    while (std::to_string(len).size() + body != len)
        len = std::to_string(len).size() + body;
    return fmt::format("{} {}={}\n", len, key, value);
}

std::string end_blocks() {
    return std::string(1024, '\0');
}

// Feeds the archive in pieces of `step` bytes, then finish().
de::api::ApiResult<void> parse(const std::string& tar, Collect& c, std::size_t step = 0) {
    TarReader r;
    if (step == 0) step = tar.size() ? tar.size() : 1;
    for (std::size_t off = 0; off < tar.size(); off += step)
        if (auto st = r.feed(std::string_view(tar).substr(off, step), c); !st) return st;
    return r.finish();
}

const std::string k_sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

}  // namespace

TEST_CASE("tar reader: plain ustar files and folders, in pieces of any size") {
    std::string tar = header("data/", '5', 0) + header("data/a.txt", '0', 3) + padded("abc") +
                      header("data/empty", '0', 0) + end_blocks();
    for (std::size_t step : {0, 1, 7, 511, 512, 513}) {
        Collect c;
        REQUIRE(parse(tar, c, step));
        REQUIRE(c.items.size() == 3);
        CHECK(c.items[0].member.type == TarMember::Type::dir);
        CHECK(c.items[0].member.path == "data");
        CHECK(c.items[1].member.path == "data/a.txt");
        CHECK(c.items[1].member.size == 3);
        CHECK(c.items[1].content == "abc");
        CHECK(c.items[1].member.mtime_ns == 1700000000LL * 1'000'000'000);
        CHECK(c.items[2].content.empty());
    }
}

TEST_CASE("tar reader: pax path, fractional mtime and DE.sha256") {
    std::string long_path = std::string(150, 'd') + "/" + std::string(120, 'f');
    std::string tar = pax(record("path", long_path) + record("mtime", "1700000000.123456789") +
                          record("DE.sha256", k_sha_abc) + record("uname", "someone")) +
                      header("truncated-name", '0', 3) + padded("abc") + end_blocks();
    Collect c;
    REQUIRE(parse(tar, c, 100));
    REQUIRE(c.items.size() == 1);
    CHECK(c.items[0].member.path == long_path);
    CHECK(c.items[0].member.mtime_ns == 1700000000123456789LL);
    REQUIRE(c.items[0].member.sha256);
    CHECK(*c.items[0].member.sha256 == k_sha_abc);
    CHECK(c.items[0].content == "abc");
}

TEST_CASE("tar reader: reads what de::TarWriter writes, extra pax records included") {
    std::string out;
    de::TarWriter w([&](std::string_view d) -> de::Status {
        out.append(d);
        return {};
    });
    std::string long_path = "a/" + std::string(200, 'x');
    REQUIRE(w.add_directory("a", 0));
    de::PaxRecords extra = {{"DE.sha256", k_sha_abc}};
    REQUIRE(w.begin_file(long_path, 3, 1700000000'000000001LL, extra));
    REQUIRE(w.write("abc"));
    REQUIRE(w.end_file());
    REQUIRE(w.finish());
    CHECK(out.size() == w.bytes_written());
    Collect c;
    REQUIRE(parse(out, c, 333));
    REQUIRE(c.items.size() == 2);
    CHECK(c.items[1].member.path == long_path);
    CHECK(c.items[1].member.sha256 == k_sha_abc);
    CHECK(c.items[1].member.mtime_ns == 1700000000'000000000LL);  // seconds: no mtime record
    CHECK(de::TarWriter::file_member_size(long_path, 3, extra) + 512 /* dir */ + 1024 ==
          out.size());
}

TEST_CASE("tar reader: malformed archives are 400, never a crash") {
    auto refused = [](const std::string& tar, std::string_view needle) {
        Collect c;
        auto r = parse(tar, c);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == WireError::bad_request);
        INFO(r.error().message);
        CHECK(r.error().message.find(needle) != std::string::npos);
    };
    SUBCASE("bad header checksum") {
        refused(header("a", '0', 0,
                       std::string_view("ustar\0"
                                        "00",
                                        8),
                       1) +
                    end_blocks(),
                "checksum");
    }
    SUBCASE("truncated inside a member") {
        refused(header("a", '0', 1000) + std::string(100, 'x'), "truncated");
    }
    SUBCASE("truncated inside a header") {
        refused(header("a", '0', 0).substr(0, 300), "truncated");
    }
    SUBCASE("'..' in a path") {
        refused(header("x/../../etc/passwd", '0', 0) + end_blocks(), "'..'");
    }
    SUBCASE("'..' in a pax path") {
        refused(pax(record("path", "../escape")) + header("ok", '0', 0) + end_blocks(), "'..'");
    }
    SUBCASE("absolute path") {
        refused(header("/etc/passwd", '0', 0) + end_blocks(), "absolute");
    }
    SUBCASE("symbolic link member") {
        refused(header("link", '2', 0) + end_blocks(), "symbolic link");
    }
    SUBCASE("hard link member") {
        refused(header("link", '1', 0) + end_blocks(), "hard link");
    }
    SUBCASE("GNU long name") {
        refused(header("././@LongLink", 'L', 10) + padded("0123456789") + end_blocks(), "GNU");
    }
    SUBCASE("pax size that overflows") {
        refused(pax(record("size", "99999999999999999999999")) + header("a", '0', 0) + end_blocks(),
                "overflows");
    }
    SUBCASE("pax size near the limit") {
        refused(pax(record("size", "18446744073709551615")) + header("a", '0', 0) + end_blocks(),
                "overflows");
    }
    SUBCASE("malformed pax record") {
        refused(pax("999 path=x\n") + header("a", '0', 0) + end_blocks(), "pax record");
    }
    SUBCASE("DE.sha256 not hex") {
        refused(pax(record("DE.sha256", "xyz")) + header("a", '0', 0) + end_blocks(), "DE.sha256");
    }
    SUBCASE("no ustar magic") {
        refused(header("a", '0', 0, std::string_view("nope\0\0\0\0", 8)) + end_blocks(), "magic");
    }
    SUBCASE("control character in a path") {
        refused(pax(record("path",
                           "a\x01"
                           "b")) +
                    header("a", '0', 0) + end_blocks(),
                "control");
    }
    SUBCASE("junk after the end marker") {
        refused(end_blocks() + "junk", "after the end");
    }
    SUBCASE("size field not octal") {
        std::string h = header("a", '0', 0);
        h[124] = '9';
        // keep the checksum right so the size field is what fails
        std::memset(&h[148], ' ', 8);
        unsigned sum = 0;
        for (char ch : h)
            sum += static_cast<unsigned char>(ch);
        std::string chk = fmt::format("{:06o}", sum);
        std::memcpy(&h[148], chk.data(), 6);
        h[154] = '\0';
        refused(h + end_blocks(), "size field");
    }
}

TEST_CASE("tar reader: a handler's error stops the parse and sticks") {
    struct Refuse : Collect {
        de::api::ApiResult<void> begin(const TarMember&) override {
            return de::api::api_fail(WireError::too_large, "too many");
        }
    } c;
    TarReader r;
    std::string tar = header("a", '0', 0) + end_blocks();
    auto st = r.feed(tar, c);
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == WireError::too_large);
    CHECK_FALSE(r.feed("x", c));
}

TEST_CASE("clean_tar_path") {
    using de::clean_tar_path;
    CHECK(clean_tar_path("./a//b/./c/").value() == "a/b/c");
    CHECK(clean_tar_path("./").value().empty());
    CHECK_FALSE(clean_tar_path(""));
    CHECK_FALSE(clean_tar_path("/a"));
    CHECK_FALSE(clean_tar_path("a/.."));
    CHECK_FALSE(clean_tar_path(std::string_view("a\0b", 3)));
}

TEST_CASE("tar reader: DE.* pax records reach the member as vendor records") {
    std::string tar = pax(record("DE.crc64", "995dc9bbdf1939fa") + record("DE.error", "x y") +
                          record("comment", "ignored")) +
                      header("a.txt", '0', 3) + padded("abc") + header("b.txt", '0', 0) +
                      end_blocks();
    Collect c;
    REQUIRE(parse(tar, c));
    REQUIRE(c.items.size() == 2);
    REQUIRE(c.items[0].member.vendor.size() == 2);
    CHECK(c.items[0].member.vendor[0].first == "DE.crc64");
    CHECK(c.items[0].member.vendor[0].second == "995dc9bbdf1939fa");
    CHECK(c.items[0].member.vendor[1].second == "x y");
    CHECK(c.items[1].member.vendor.empty());  // records belong to one member only
}

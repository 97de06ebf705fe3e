#include <de/crc32c.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>

using de::Crc32c;
using de::crc32c;

TEST_CASE("crc32c: published check values") {
    // The standard check value of CRC-32C, and RFC 3720 B.4's 32-byte vectors.
    CHECK(crc32c("123456789") == 0xE3069283u);
    CHECK(crc32c("") == 0u);
    CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);
    CHECK(crc32c(std::string(32, '\xff')) == 0x62A8AB43u);
    std::string inc, dec;
    for (int i = 0; i < 32; ++i) {
        inc.push_back(static_cast<char>(i));
        dec.push_back(static_cast<char>(31 - i));
    }
    CHECK(crc32c(inc) == 0x46DD794Eu);
    CHECK(crc32c(dec) == 0x113FDB5Cu);
    CHECK(de::detail::crc32c_portable("123456789") == 0xE3069283u);
    CHECK(de::detail::crc32c_portable(inc) == 0x46DD794Eu);
}

TEST_CASE("crc32c: incremental updates, any split, match one pass and the table path") {
    std::mt19937 rng(7);
    std::string data(10000, '\0');
    for (auto& c : data)
        c = static_cast<char>(rng());
    const std::uint32_t whole = crc32c(data);
    CHECK(whole == de::detail::crc32c_portable(data));
    for (std::size_t split : {0u, 1u, 7u, 8u, 9u, 4095u, 9999u, 10000u}) {
        Crc32c c;
        c.update(std::string_view(data).substr(0, split));
        c.update(std::string_view(data).substr(split));
        CHECK(c.value() == whole);
    }
    // Odd lengths and misaligned starts take both the 8-byte and the byte loop.
    for (std::size_t off = 0; off < 9; ++off)
        for (std::size_t len : {0u, 1u, 5u, 8u, 13u, 64u, 1001u}) {
            auto piece = std::string_view(data).substr(off, len);
            CHECK(crc32c(piece) == de::detail::crc32c_portable(piece));
        }
    Crc32c c;
    c.update(data);
    auto b = c.bytes();
    CHECK(((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           b[3]) == whole);
    c.reset();
    CHECK(c.value() == 0u);
    // One flipped bit changes the CRC.
    data[5000] = static_cast<char>(data[5000] ^ 0x10);
    CHECK(crc32c(data) != whole);
}

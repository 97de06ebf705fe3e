#include <de/crc64.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>

using de::crc64;

TEST_CASE("crc64: CRC-64/XZ published check values") {
    CHECK(crc64("123456789") == 0x995DC9BBDF1939FAull);
    CHECK(crc64("") == 0u);
    CHECK(de::detail::crc64_portable(0, "123456789") == 0x995DC9BBDF1939FAull);
    // A one-bit change changes the CRC.
    CHECK(crc64("123456788") != crc64("123456789"));
}

TEST_CASE("crc64: the ISA-L and the portable implementation agree on every length") {
    std::mt19937_64 rng(7);
    std::string data(5000, '\0');
    for (auto& c : data)
        c = static_cast<char>(rng());
    for (std::size_t n : {1u, 7u, 8u, 15u, 16u, 63u, 64u, 255u, 256u, 1023u, 4096u, 5000u}) {
        std::string_view v(data.data(), n);
        CHECK(crc64(v) == de::detail::crc64_portable(0, v));
    }
}

TEST_CASE("crc64: update continues, combine joins parts without the data") {
    std::mt19937_64 rng(11);
    std::string data(100000, '\0');
    for (auto& c : data)
        c = static_cast<char>(rng());
    const auto whole = crc64(data);
    de::Crc64 h;
    h.update(std::string_view(data).substr(0, 333));
    h.update(std::string_view(data).substr(333));
    CHECK(h.value() == whole);
    for (std::size_t cut : {0u, 1u, 8u, 4095u, 65536u, 99999u, 100000u}) {
        auto a = std::string_view(data).substr(0, cut);
        auto b = std::string_view(data).substr(cut);
        CHECK(de::crc64_combine(crc64(a), crc64(b), b.size()) == whole);
        CHECK(de::crc64_update(crc64(a), b.data(), b.size()) == whole);
    }
    // Three parts, folded left to right.
    auto p1 = std::string_view(data).substr(0, 10000);
    auto p2 = std::string_view(data).substr(10000, 50000);
    auto p3 = std::string_view(data).substr(60000);
    auto c = de::crc64_combine(crc64(p1), crc64(p2), p2.size());
    c = de::crc64_combine(c, crc64(p3), p3.size());
    CHECK(c == whole);
}

TEST_CASE("crc64: wire forms round-trip and reject malformed text") {
    const std::uint64_t v = 0x995DC9BBDF1939FAull;
    CHECK(de::crc64_hex(v) == "995dc9bbdf1939fa");
    CHECK(de::crc64_from_hex("995dc9bbdf1939fa") == v);
    CHECK_FALSE(de::crc64_from_hex("995DC9BBDF1939FA").has_value());
    CHECK_FALSE(de::crc64_from_hex("995dc9bbdf1939f").has_value());
    CHECK_FALSE(de::crc64_from_hex("995dc9bbdf1939fg").has_value());
    const auto b64 = de::crc64_base64(v);
    CHECK(b64.size() == 12);
    CHECK(de::crc64_from_base64(b64) == v);
    CHECK_FALSE(de::crc64_from_base64("AAAA").has_value());
    CHECK_FALSE(de::crc64_from_base64("!!!!!!!!!!!!").has_value());
}

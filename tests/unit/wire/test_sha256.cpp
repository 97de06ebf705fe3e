// SHA-256 known-answer vectors (FIPS 180-4 / NIST examples), incremental
// hashing, file hashing and base64 (RFC 4648 test vectors).
#include <de/sha256.hpp>

#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

using namespace de;

TEST_CASE("SHA-256 known vectors") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex("The quick brown fox jumps over the lazy dog") ==
          "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
    CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("incremental updates equal one update, and finish resets") {
    std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    Sha256 h;
    for (char c : text)
        h.update(std::string_view(&c, 1));
    CHECK(h.finish_hex() == sha256_hex(text));
    h.update("abc");
    CHECK(h.finish_hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(h.finish_hex() == sha256_hex(""));
    auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    h.update(bytes);
    CHECK(h.finish_hex() == sha256_hex(text));
    Sha256 moved = std::move(h);
    moved.update("abc");
    CHECK(moved.finish_hex() == sha256_hex("abc"));
}

TEST_CASE("sha256_file streams a file across buffer boundaries") {
    auto dir = std::filesystem::temp_directory_path();
    auto path = dir / ("de-test-sha-" + std::to_string(::getpid()));
    std::string data;
    data.reserve(3 << 20);
    for (std::size_t i = 0; data.size() < (3u << 20) + 7; ++i)
        data += static_cast<char>((i * 2654435761u) >> 13);
    {
        std::ofstream out(path, std::ios::binary);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    CHECK(sha256_file(path).value() == sha256_hex(data));
    std::filesystem::remove(path);
    auto missing = sha256_file(path);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find(path.string()) != std::string::npos);
}

TEST_CASE("to_hex") {
    std::array<std::uint8_t, 4> b{0x00, 0x0f, 0xa5, 0xff};
    CHECK(to_hex(b) == "000fa5ff");
    CHECK(to_hex(std::span<const std::uint8_t>{}) == "");
}

namespace {
std::string b64(std::string_view s) {
    return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}
}  // namespace

TEST_CASE("base64: RFC 4648 vectors both ways") {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (auto [plain, coded] : vectors) {
        CAPTURE(plain);
        CHECK(b64(plain) == coded);
        std::string out;
        CHECK(base64_decode(coded, out));
        CHECK(out == plain);
    }
    std::string all;
    for (int i = 0; i < 256; ++i)
        all += static_cast<char>(i);
    std::string back;
    CHECK(base64_decode(b64(all), back));
    CHECK(back == all);
}

TEST_CASE("base64_decode refuses malformed input") {
    std::string out;
    CHECK_FALSE(base64_decode("Zg=", out));       // not a multiple of 4
    CHECK_FALSE(base64_decode("Z===", out));      // too much padding
    CHECK_FALSE(base64_decode("Zg==Zg==", out));  // padding in the middle
    CHECK_FALSE(base64_decode("Zm9v!A==", out));
    CHECK_FALSE(base64_decode("Zm 9", out));
    CHECK_FALSE(base64_decode("=Zm9", out));
    CHECK_FALSE(base64_decode("Zm=v", out));
}

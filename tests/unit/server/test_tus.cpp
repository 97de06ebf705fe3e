// tus header grammar: Upload-Metadata, Upload-Checksum, Upload-Concat, ids and
// the part ranges of Upload-Parts-Done; the copyable digest.
#include "tus_proto.hpp"

#include <de/text.hpp>

#include <doctest/doctest.h>

using namespace de::server::tus;

TEST_CASE("parse_metadata: pairs, empty values, padding optional") {
    auto md = parse_metadata("path ZGF0YS9hLmJpbg==,sha256 YWJj,flag,x eA");
    REQUIRE(md);
    REQUIRE(md->pairs.size() == 4);
    CHECK(*md->find("path") == "data/a.bin");
    CHECK(*md->find("sha256") == "abc");
    CHECK(md->find("flag")->empty());
    CHECK(*md->find("x") == "x");  // "eA" without its "=="
    CHECK(md->find("missing") == nullptr);
    auto spaced = parse_metadata(" a YQ== , b Yg== ");
    REQUIRE(spaced);
    CHECK(*spaced->find("b") == "b");
    auto empty = parse_metadata("");
    REQUIRE(empty);
    CHECK(empty->pairs.empty());
}

TEST_CASE("parse_metadata: malformed") {
    CHECK_FALSE(parse_metadata("path !!!"));        // not base64
    CHECK_FALSE(parse_metadata("a YQ==,a Yg=="));   // duplicate key
    CHECK_FALSE(parse_metadata("a YQ==,,b Yg=="));  // empty item
    CHECK_FALSE(parse_metadata("a YQ== Yg=="));     // two values
    CHECK_FALSE(parse_metadata("a\x01 YQ=="));      // control character in a key
}

TEST_CASE("parse_checksum: sha256 and sha1, strict lengths") {
    std::string err;
    // sha256("") and sha1("") in base64.
    auto c = parse_checksum("sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", err);
    REQUIRE(c);
    CHECK(c->algo == ChecksumAlgo::sha256);
    CHECK(c->digest.size() == 32);
    c = parse_checksum("SHA1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=", err);
    REQUIRE(c);
    CHECK(c->algo == ChecksumAlgo::sha1);
    CHECK(hex(c->digest) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK_FALSE(parse_checksum("md5 1B2M2Y8AsgTpgAmY7PhCfg==", err));
    CHECK(err.find("not supported") != std::string::npos);
    CHECK_FALSE(parse_checksum("sha256 2jmj7l5rSw0yVb/vlWAYkK/YBwk=", err));  // 20 bytes
    CHECK_FALSE(parse_checksum("sha256", err));
    CHECK_FALSE(parse_checksum("sha1 ***", err));
    // crc32c("123456789") = e3069283, most significant byte first.
    c = parse_checksum("crc32c 4waSgw==", err);
    REQUIRE(c);
    CHECK(c->algo == ChecksumAlgo::crc32c);
    CHECK(hex(c->digest) == "e3069283");
    CHECK_FALSE(parse_checksum("crc32c 4waSg+MGkoM=", err));  // 8 bytes
}

TEST_CASE("Digest: crc32c, and copies fork its state") {
    Digest d(ChecksumAlgo::crc32c);
    d.update("1234", 4);
    Digest fork = d;
    d.update("56789", 5);
    CHECK(hex(d.finish()) == "e3069283");
    fork.update("56789", 5);
    CHECK(hex(fork.finish()) == "e3069283");
    Digest moved = std::move(fork);
    moved.reset();
    moved.update("123456789", 9);
    CHECK(hex(moved.finish()) == "e3069283");
    Digest sha(ChecksumAlgo::sha256);
    sha = d;  // a sha256 digest becomes a crc32c one
    sha.reset();
    sha.update("123456789", 9);
    CHECK(hex(sha.finish()) == "e3069283");
}

TEST_CASE("Digest: sha1/sha256 and copies fork the state") {
    Digest d;
    d.update("ab", 2);
    Digest fork = d;
    d.update("c", 1);
    CHECK(hex(d.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    fork.update("x", 1);
    Digest direct;
    direct.update("abx", 3);
    CHECK(fork.finish() == direct.finish());
    Digest s1(ChecksumAlgo::sha1);
    s1.update("abc", 3);
    CHECK(hex(s1.finish()) == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_CASE("format_ranges: runs collapse") {
    CHECK(format_ranges({}) == "");
    CHECK(format_ranges({0}) == "0");
    CHECK(format_ranges({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15}) == "0-12,15");
    CHECK(format_ranges({1, 3, 4, 7}) == "1,3-4,7");
    CHECK(format_ranges_if(6, [](std::uint64_t i) { return i != 2; }) == "0-1,3-5");
}

TEST_CASE("upload ids: 32 lower-case hex, random") {
    auto a = new_upload_id(), b = new_upload_id();
    CHECK(valid_upload_id(a));
    CHECK(a != b);
    CHECK_FALSE(valid_upload_id("0123456789ABCDEF0123456789abcdef"));
    CHECK_FALSE(valid_upload_id("0123456789abcdef0123456789abcde"));
    CHECK_FALSE(valid_upload_id("../../../../../../../etc/passwd.."));
    CHECK_FALSE(valid_upload_id(""));
}

TEST_CASE("Upload-Concat and the URLs of partial uploads") {
    auto p = parse_concat("partial");
    REQUIRE(p);
    CHECK(p->kind == Concat::Kind::partial);
    std::string id(32, 'a');
    auto f = parse_concat("final;/api/v1/apps/x/uploads/" + id +
                          "  http://h:1/api/v1/apps/x/uploads/" + id);
    REQUIRE(f);
    CHECK(f->kind == Concat::Kind::final);
    REQUIRE(f->urls.size() == 2);
    CHECK(upload_id_from_url(f->urls[0], "x") == id);
    CHECK(upload_id_from_url(f->urls[1], "x") == id);
    CHECK_FALSE(upload_id_from_url(f->urls[1], "y"));  // another app
    CHECK_FALSE(upload_id_from_url("/api/v1/apps/x/uploads/" + id + "/complete", "x"));
    CHECK_FALSE(parse_concat("final;"));
    CHECK_FALSE(parse_concat("whole"));
}

// Upload-Offset, Upload-Length and Upload-Parts are read with de_wire's parser.
TEST_CASE("tus numbers (parse_decimal_u64): strict") {
    CHECK(de::parse_decimal_u64("0") == 0u);
    CHECK(de::parse_decimal_u64("18446744073709551615") == 18446744073709551615ull);
    CHECK_FALSE(de::parse_decimal_u64("18446744073709551616"));
    CHECK_FALSE(de::parse_decimal_u64("-1"));
    CHECK_FALSE(de::parse_decimal_u64("+1"));
    CHECK_FALSE(de::parse_decimal_u64(" 1"));
    CHECK_FALSE(de::parse_decimal_u64(""));
}

TEST_CASE("crc64: Upload-Checksum, its Digest, and a SHA-256 Digest that runs one beside it") {
    std::string err;
    auto c = parse_checksum("crc64 mV3Ju98ZOfo=", err);  // CRC-64/XZ of "123456789"
    REQUIRE(c);
    CHECK(c->algo == ChecksumAlgo::crc64);
    CHECK(hex(c->digest) == "995dc9bbdf1939fa");
    CHECK_FALSE(parse_checksum("crc64 4waSgw==", err));  // 4 bytes
    CHECK(err.find("8 bytes") != std::string::npos);
    Digest d(ChecksumAlgo::crc64);
    d.update("1234", 4);
    Digest fork = d;
    d.update("56789", 5);
    CHECK(d.finish() == c->digest);
    fork.update("56789", 5);
    CHECK(fork.crc64() == 0x995DC9BBDF1939FAull);
    // The whole-file hash of a tus upload: SHA-256 and CRC-64 in one pass.
    Digest both(ChecksumAlgo::sha256, true);
    both.update("123456789", 9);
    Digest copy = both;
    CHECK(copy.crc64() == 0x995DC9BBDF1939FAull);
    CHECK(hex(copy.finish()) == "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
    both.reset();
    CHECK(both.crc64() == 0);
}

TEST_CASE("Digest: a SHA-256 state exported midway and resumed in another object") {
    // Bytes cut at points that leave 0, 1, 63 and 64+ bytes in the block buffer:
    // the resumed digest (and its CRC-64) equals the one-shot digest.
    std::string data;
    for (int i = 0; i < 5000; ++i)
        data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
    Digest one(ChecksumAlgo::sha256, true);
    one.update(data.data(), data.size());
    const std::uint64_t crc = one.crc64();
    const std::string want = one.finish();
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64},
                            std::size_t{65}, std::size_t{4096}, std::size_t{4999}, data.size()}) {
        CAPTURE(cut);
        Digest first(ChecksumAlgo::sha256, true);
        first.update(data.data(), cut);
        std::string text = first.export_state();
        auto resumed = Digest::import_state(text, true);
        REQUIRE(resumed);
        CHECK(resumed->export_state() == text);
        resumed->update(data.data() + cut, data.size() - cut);
        CHECK(resumed->crc64() == crc);
        CHECK(resumed->finish() == want);
    }
    // Damaged or foreign texts are refused, not resumed into a wrong digest.
    Digest d(ChecksumAlgo::sha256, true);
    d.update("abc", 3);
    std::string text = d.export_state();
    CHECK_FALSE(Digest::import_state("", true));
    CHECK_FALSE(Digest::import_state(text.substr(0, text.size() - 1), true));
    CHECK_FALSE(
        Digest::import_state("s256:" + std::string(64, '0') + ":5:6162:" + std::string(16, '0'),
                             true));  // a tail that is not count % 64 bytes
    CHECK(Digest(ChecksumAlgo::crc64).export_state().empty());
}

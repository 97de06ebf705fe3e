// The wire contract: error kinds <-> HTTP status <-> ErrorKind (and so the
// exit code), Content-Digest and ETag helpers.
#include <de/api.hpp>
#include <de/error.hpp>
#include <de/sha256.hpp>

#include <doctest/doctest.h>

#include <set>

using namespace de;
using api::WireError;

namespace {
constexpr WireError k_all[] = {
    WireError::bad_request,        WireError::digest_mismatch,   WireError::confirmation_required,
    WireError::unauthorized,       WireError::forbidden,         WireError::not_found,
    WireError::method_not_allowed, WireError::timeout,           WireError::conflict,
    WireError::mount_disabled,     WireError::length_required,   WireError::precondition_failed,
    WireError::too_large,          WireError::unsupported_media, WireError::range_not_satisfiable,
    WireError::unprocessable,      WireError::internal,          WireError::unavailable,
    WireError::quota_exceeded,     WireError::too_many_requests,
};
const std::string k_empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}  // namespace

TEST_CASE("every wire kind has a unique name that parses back, and docs/api.md's status") {
    std::set<std::string_view> names;
    for (auto e : k_all) {
        auto name = api::to_string(e);
        CAPTURE(name);
        CHECK(names.insert(name).second);
        CHECK(api::wire_error_from_string(name) == e);
    }
    CHECK(api::http_status(WireError::bad_request) == 400);
    CHECK(api::http_status(WireError::digest_mismatch) == 400);
    CHECK(api::http_status(WireError::confirmation_required) == 400);
    CHECK(api::http_status(WireError::unauthorized) == 401);
    CHECK(api::http_status(WireError::forbidden) == 403);
    CHECK(api::http_status(WireError::not_found) == 404);
    CHECK(api::http_status(WireError::method_not_allowed) == 405);
    CHECK(api::http_status(WireError::timeout) == 408);
    CHECK(api::http_status(WireError::conflict) == 409);
    CHECK(api::http_status(WireError::mount_disabled) == 409);
    CHECK(api::http_status(WireError::length_required) == 411);
    CHECK(api::http_status(WireError::precondition_failed) == 412);
    CHECK(api::http_status(WireError::too_large) == 413);
    CHECK(api::http_status(WireError::unsupported_media) == 415);
    CHECK(api::http_status(WireError::range_not_satisfiable) == 416);
    CHECK(api::http_status(WireError::unprocessable) == 422);
    CHECK(api::http_status(WireError::internal) == 500);
    CHECK(api::http_status(WireError::unavailable) == 503);
    CHECK(api::http_status(WireError::quota_exceeded) == 507);
    CHECK(api::http_status(WireError::too_many_requests) == 429);
    CHECK_FALSE(api::wire_error_from_string("Not_Found").has_value());
    CHECK_FALSE(api::wire_error_from_string("").has_value());
    CHECK_FALSE(api::wire_error_from_string("teapot").has_value());
}

TEST_CASE("wire kinds map to the error kinds the exit-code table documents") {
    auto kind = [](WireError e) { return api::error_kind_for(e, api::http_status(e)); };
    CHECK(kind(WireError::unauthorized) == ErrorKind::auth);
    CHECK(kind(WireError::forbidden) == ErrorKind::auth);
    CHECK(kind(WireError::not_found) == ErrorKind::not_found);
    CHECK(kind(WireError::conflict) == ErrorKind::conflict);
    CHECK(kind(WireError::mount_disabled) == ErrorKind::conflict);
    CHECK(kind(WireError::precondition_failed) == ErrorKind::conflict);
    CHECK(kind(WireError::quota_exceeded) == ErrorKind::quota);
    CHECK(kind(WireError::timeout) == ErrorKind::network);
    CHECK(kind(WireError::unavailable) == ErrorKind::network);
    CHECK(kind(WireError::too_many_requests) == ErrorKind::network);
    CHECK(api::error_kind_for(std::nullopt, 429) == ErrorKind::network);
    CHECK(kind(WireError::bad_request) == ErrorKind::usage);
    CHECK(kind(WireError::confirmation_required) == ErrorKind::usage);
    CHECK(kind(WireError::internal) == ErrorKind::generic);
    CHECK(kind(WireError::digest_mismatch) == ErrorKind::generic);
    for (auto e : k_all)
        CHECK(exit_code(kind(e)) != 0);
}

TEST_CASE("without a known wire kind the status decides") {
    CHECK(api::error_kind_for(std::nullopt, 401) == ErrorKind::auth);
    CHECK(api::error_kind_for(std::nullopt, 403) == ErrorKind::auth);
    CHECK(api::error_kind_for(std::nullopt, 404) == ErrorKind::not_found);
    CHECK(api::error_kind_for(std::nullopt, 409) == ErrorKind::conflict);
    CHECK(api::error_kind_for(std::nullopt, 412) == ErrorKind::conflict);
    CHECK(api::error_kind_for(std::nullopt, 507) == ErrorKind::quota);
    CHECK(api::error_kind_for(std::nullopt, 502) == ErrorKind::network);
    CHECK(api::error_kind_for(std::nullopt, 503) == ErrorKind::network);
    CHECK(api::error_kind_for(std::nullopt, 504) == ErrorKind::network);
    CHECK(api::error_kind_for(std::nullopt, 408) == ErrorKind::network);
    CHECK(api::error_kind_for(std::nullopt, 400) == ErrorKind::usage);
    CHECK(api::error_kind_for(std::nullopt, 418) == ErrorKind::usage);
    CHECK(api::error_kind_for(std::nullopt, 500) == ErrorKind::generic);
    CHECK(api::error_kind_for(std::nullopt, 302) == ErrorKind::generic);
}

TEST_CASE("exit-code table: documented codes, unique, every kind present") {
    CHECK(exit_code(ErrorKind::generic) == 1);
    CHECK(exit_code(ErrorKind::usage) == 2);
    CHECK(exit_code(ErrorKind::not_found) == 3);
    CHECK(exit_code(ErrorKind::auth) == 4);
    CHECK(exit_code(ErrorKind::conflict) == 5);
    CHECK(exit_code(ErrorKind::quota) == 6);
    CHECK(exit_code(ErrorKind::network) == 7);
    CHECK(exit_code(ErrorKind::interrupted) == 130);
    std::set<int> codes;
    for (const auto& row : exit_code_table()) {
        CHECK(row.code != 0);
        CHECK(codes.insert(row.code).second);
        CHECK(to_string(row.kind) == row.name);
    }
    CHECK(codes.size() == 8);
}

TEST_CASE("Content-Digest: RFC 9530 form of a SHA-256") {
    // SHA-256 of "" is 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= in base64.
    CHECK(api::content_digest(k_empty_sha) ==
          "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
    std::string upper = k_empty_sha;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(api::content_digest(upper) == api::content_digest(k_empty_sha));
}

TEST_CASE("parse_content_digest round-trips and tolerates dictionaries") {
    CHECK(api::parse_content_digest(api::content_digest(k_empty_sha)) == k_empty_sha);
    auto h = sha256_hex("hello");
    CHECK(api::parse_content_digest(api::content_digest(h)) == h);
    CHECK(api::parse_content_digest("sha-512=:AAAA:, sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZ"
                                    "G3hSuFU=:") == k_empty_sha);
    CHECK(api::parse_content_digest("SHA-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:") ==
          k_empty_sha);
    CHECK(api::parse_content_digest("  sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:  ") ==
          k_empty_sha);
}

TEST_CASE("parse_content_digest refuses malformed values") {
    CHECK_FALSE(api::parse_content_digest(""));
    CHECK_FALSE(api::parse_content_digest("sha-512=:AAAA:"));
    CHECK_FALSE(api::parse_content_digest("sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
    CHECK_FALSE(api::parse_content_digest("sha-256=:AAAA:"));  // too short
    CHECK_FALSE(api::parse_content_digest("sha-256=:!!!!:"));
    CHECK_FALSE(api::parse_content_digest("sha-256=::"));
    CHECK_FALSE(api::parse_content_digest("sha-256"));
}

TEST_CASE("etag_for quotes the hex digest") {
    CHECK(api::etag_for(k_empty_sha) == "\"" + k_empty_sha + "\"");
    CHECK(api::etag_for("") == "\"\"");
}

TEST_CASE("sha256_from_etag") {
    using api::sha256_from_etag;
    const std::string sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    CHECK(sha256_from_etag("\"" + sha + "\"") == sha);
    CHECK(sha256_from_etag(sha) == sha);
    CHECK(sha256_from_etag("W/\"" + sha + "\"") == sha);
    std::string upper = sha;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(sha256_from_etag("\"" + upper + "\"") == sha);
    CHECK_FALSE(sha256_from_etag("\"abc\""));
    CHECK_FALSE(sha256_from_etag(""));
    CHECK_FALSE(sha256_from_etag("\"" + sha.substr(1) + "g\""));
}

TEST_CASE("etag lists: If-Match / If-None-Match") {
    const std::string sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    CHECK(api::unquote_etag(" W/\"abc\" ") == "abc");
    CHECK(api::unquote_etag("*") == "*");
    CHECK(api::etag_list_matches("*", sha));
    CHECK(api::etag_list_matches("\"" + sha + "\"", sha));
    CHECK(api::etag_list_matches("\"x\", \"" + sha + "\"", sha));
    CHECK_FALSE(api::etag_list_matches("\"x\", \"y\"", sha));
    CHECK_FALSE(api::etag_list_matches("", sha));
}

TEST_CASE("Repr-Digest crc64: round trip, dictionaries, malformed members") {
    const std::uint64_t check = 0x995DC9BBDF1939FAull;  // CRC-64/XZ of "123456789"
    CHECK(api::repr_digest_crc64(check) == "crc64=:mV3Ju98ZOfo=:");
    bool malformed = true;
    CHECK(api::parse_digest_crc64(api::repr_digest_crc64(check), malformed) == check);
    CHECK_FALSE(malformed);
    CHECK(api::parse_digest_crc64("sha-256=:x:, CRC64=:mV3Ju98ZOfo=:", malformed) == check);
    CHECK_FALSE(malformed);
    CHECK_FALSE(api::parse_digest_crc64("sha-256=:abc:", malformed));
    CHECK_FALSE(malformed);  // no crc64 member: not an error
    CHECK_FALSE(api::parse_digest_crc64("crc64=:mV3J:", malformed));
    CHECK(malformed);
    CHECK_FALSE(api::parse_digest_crc64("crc64=mV3Ju98ZOfo=", malformed));
    CHECK(malformed);
}

TEST_CASE("parse_digest_crc64 without the malformed flag: Repr-Digest's crc64 member") {
    CHECK(api::parse_digest_crc64("crc64=:mV3Ju98ZOfo=:") == 0x995DC9BBDF1939FAull);
    CHECK(api::parse_digest_crc64("sha-256=:AAAA:, CRC64=:mV3Ju98ZOfo=:") == 0x995DC9BBDF1939FAull);
    CHECK(api::parse_digest_crc64(api::repr_digest_crc64(0)) == 0u);
    CHECK_FALSE(api::parse_digest_crc64(""));
    CHECK_FALSE(api::parse_digest_crc64("crc64=mV3Ju98ZOfo="));
    CHECK_FALSE(api::parse_digest_crc64("crc64=:AAAA:"));
    CHECK_FALSE(api::parse_digest_crc64("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"));
}

// The tus request headers de-server parses: Upload-Metadata, Upload-Checksum,
// Upload-Concat and the upload URLs a final concatenation names. Invariants:
// metadata keys are unique, non-empty printable ASCII without spaces, and the
// pairs encoded again (key SP base64) parse back to the same pairs; a checksum
// carries exactly its algorithm's digest length (sha256 32, sha1 20, crc32c 4,
// crc64 8) and names the algorithm its header names; a concat URL resolves only to
// a well-formed upload id, and format_ranges writes what it was given.
#include "fuzz_check.hpp"

#include "tus_proto.hpp"

#include <de/sha256.hpp>

#include <cctype>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>

using namespace de::server::tus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    if (auto md = parse_metadata(in)) {
        std::set<std::string> keys;
        std::string again;
        for (const auto& [k, v] : md->pairs) {
            FUZZ_CHECK(!k.empty() && keys.insert(k).second);
            for (char c : k)
                FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 &&
                           static_cast<unsigned char>(c) < 0x7f && c != ',');
            if (!again.empty()) again += ',';
            again += k;
            if (!v.empty())
                again += ' ' + de::base64_encode(std::span(
                                   reinterpret_cast<const std::uint8_t*>(v.data()), v.size()));
        }
        auto md2 = parse_metadata(again);
        FUZZ_CHECK(md2 && md2->pairs == md->pairs);
    }

    std::string error;
    if (auto c = parse_checksum(in, error)) {
        // Written out per algorithm, not taken from tus_proto: a switch
        // without a default, so a new algorithm fails to compile (-Wswitch,
        // -Werror) here instead of failing a fuzz run by chance.
        std::size_t want = 0;
        switch (c->algo) {
            case ChecksumAlgo::sha256:
                want = 32;
                break;
            case ChecksumAlgo::sha1:
                want = 20;
                break;
            case ChecksumAlgo::crc32c:
                want = 4;
                break;
            case ChecksumAlgo::crc64:
                want = 8;
                break;
        }
        FUZZ_CHECK(c->digest.size() == want);
        // The name parsed is the one algo_name gives back (case-insensitive).
        std::string name(algo_name(c->algo));
        std::string_view head = in.substr(in.find_first_not_of(" \t"));
        FUZZ_CHECK(head.size() > name.size());
        for (std::size_t i = 0; i < name.size(); ++i)
            FUZZ_CHECK(std::tolower(static_cast<unsigned char>(head[i])) == name[i]);
        Digest d(c->algo);
        d.update(c->digest.data(), c->digest.size());
        FUZZ_CHECK(d.finish().size() == want);
    } else {
        FUZZ_CHECK(!error.empty());
    }

    if (auto cc = parse_concat(in)) {
        FUZZ_CHECK(cc->kind != Concat::Kind::none);
        if (cc->kind == Concat::Kind::final) FUZZ_CHECK(!cc->urls.empty());
        for (const auto& url : cc->urls) {
            FUZZ_CHECK(!url.empty() && url.find(' ') == std::string::npos);
            if (auto id = upload_id_from_url(url, "app")) FUZZ_CHECK(valid_upload_id(*id));
        }
    }
    if (auto id = upload_id_from_url(in, "app")) FUZZ_CHECK(valid_upload_id(*id));

    // format_ranges over the indices the bits of the input name.
    std::vector<std::uint64_t> idx;
    for (std::size_t i = 0; i < size && i < 64; ++i)
        for (int b = 0; b < 8; ++b)
            if (data[i] & (1u << b)) idx.push_back(i * 8 + static_cast<std::uint64_t>(b));
    std::string ranges = format_ranges(idx);
    std::vector<std::uint64_t> back;
    std::string_view rest = ranges;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        auto dash = item.find('-');
        std::uint64_t lo = std::stoull(std::string(item.substr(0, dash)));
        std::uint64_t hi =
            dash == std::string_view::npos ? lo : std::stoull(std::string(item.substr(dash + 1)));
        FUZZ_CHECK(lo <= hi);
        for (std::uint64_t v = lo; v <= hi; ++v)
            back.push_back(v);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    FUZZ_CHECK(back == idx);
    return 0;
}

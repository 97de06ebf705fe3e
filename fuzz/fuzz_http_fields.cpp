// The request fields de-server parses itself: Range (against a file size taken
// from the first 8 input bytes), the request target's query string and its
// percent-decoding, Authorization (Basic and Bearer), the Content-Type media
// type and boolean query values. Invariants: a satisfiable range lies within
// the file; percent-encoding what percent_decode returned decodes back to it;
// a query value round-trips through encoding; Basic credentials re-encoded
// parse back to the same user and key, whose user holds no ':'.
#include "fuzz_check.hpp"

#include "http_parse.hpp"

#include <de/sha256.hpp>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

using namespace de::server;

namespace {
std::string percent_encode_all(std::string_view s) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(k_hex[c >> 4]);
            out.push_back(k_hex[c & 15]);
        }
    }
    return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint64_t file_size = 0;
    if (size >= 8) {
        std::memcpy(&file_size, data, 8);
        // Small sizes are the interesting ones; keep the huge ones too.
        if (data[0] & 1) file_size %= 1000;
    }
    std::string_view all(reinterpret_cast<const char*>(data), size);
    std::string_view in = size >= 8 ? all.substr(8) : all;

    auto r = parse_range(in, file_size);
    if (r.kind == RangeKind::satisfiable) {
        FUZZ_CHECK(file_size > 0);
        FUZZ_CHECK(r.range.first <= r.range.last);
        FUZZ_CHECK(r.range.last < file_size);
    }

    if (auto d = percent_decode(in)) {
        FUZZ_CHECK(d->size() <= in.size());
        auto back = percent_decode(percent_encode_all(*d));
        FUZZ_CHECK(back && *back == *d);
    }

    if (auto t = parse_target(in)) {
        FUZZ_CHECK(in.substr(0, t->path.size()) == t->path);
        FUZZ_CHECK(t->path.find('?') == std::string::npos);
        for (const auto& [k, v] : t->query) {
            // Each pair, encoded again, parses back to itself.
            auto one = parse_target("/?" + percent_encode_all(k) + "=" + percent_encode_all(v));
            FUZZ_CHECK(one && (k.empty() || one->query.size() == 1));
            if (!k.empty()) FUZZ_CHECK(one->query.at(k) == v);
        }
    }
    (void)parse_bool(in);
    std::string mt = media_type(in);
    FUZZ_CHECK(mt.size() <= in.size() && mt.find(';') == std::string::npos);

    auto c = parse_authorization(in);
    using Scheme = Credentials::Scheme;
    if (c.scheme == Scheme::basic) {
        FUZZ_CHECK(c.username.find(':') == std::string::npos);
        std::string pair = c.username + ":" + c.secret;
        std::string header =
            "Basic " + de::base64_encode(std::span(
                           reinterpret_cast<const std::uint8_t*>(pair.data()), pair.size()));
        auto again = parse_authorization(header);
        FUZZ_CHECK(again.scheme == Scheme::basic && again.username == c.username &&
                   again.secret == c.secret);
    } else if (c.scheme == Scheme::bearer) {
        FUZZ_CHECK(!c.secret.empty());
        auto again = parse_authorization("Bearer " + c.secret);
        FUZZ_CHECK(again.scheme == Scheme::bearer && again.secret == c.secret);
    } else {
        FUZZ_CHECK(c.username.empty() && c.secret.empty());
    }
    return 0;
}

// See tus_proto.hpp. Parsers are strict: a malformed header is the client's
// bug and is answered with 400 rather than guessed at.
#include "tus_proto.hpp"

#include <de/api.hpp>
#include <de/sha256.hpp>
#include <de/text.hpp>

// SHA256_CTX's state is exported (Digest::export_state); the low-level API
// is deprecated in OpenSSL 3 but kept, and the only way to reach it. The
// macro is too late when a precompiled header brought OpenSSL in first (the
// TLS stream), so the warning is also turned off for this file.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <stdexcept>

namespace de::server::tus {

namespace {
bool decode_b64(std::string_view text, std::string& out) {
    std::string padded(text);
    while (padded.size() % 4 != 0)
        padded.push_back('=');
    return base64_decode(padded, out);
}
}  // namespace

const std::string* Metadata::find(std::string_view key) const {
    for (const auto& [k, v] : pairs)
        if (k == key) return &v;
    return nullptr;
}

std::optional<Metadata> parse_metadata(std::string_view header) {
    Metadata md;
    header = trim_ows(header);
    if (header.empty()) return md;
    std::size_t i = 0;
    while (i <= header.size()) {
        auto j = header.find(',', i);
        if (j == std::string_view::npos) j = header.size();
        auto item = trim_ows(header.substr(i, j - i));
        if (item.empty()) return std::nullopt;
        auto sp = item.find(' ');
        std::string_view key = item.substr(0, sp);
        std::string_view val =
            sp == std::string_view::npos ? std::string_view{} : trim_ows(item.substr(sp + 1));
        if (key.empty() || val.find(' ') != std::string_view::npos) return std::nullopt;
        for (char c : key)
            if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                return std::nullopt;
        if (md.find(key)) return std::nullopt;
        std::string decoded;
        if (!val.empty() && !decode_b64(val, decoded)) return std::nullopt;
        md.pairs.emplace_back(std::string(key), std::move(decoded));
        i = j + 1;
    }
    return md;
}

std::optional<Checksum> parse_checksum(std::string_view header, std::string& error) {
    header = trim_ows(header);
    auto sp = header.find(' ');
    if (sp == std::string_view::npos) {
        error = "Upload-Checksum must be 'ALGORITHM BASE64'";
        return std::nullopt;
    }
    std::string algo = ascii_lower(header.substr(0, sp));
    Checksum c;
    std::size_t want = 0;
    if (algo == "sha256") {
        c.algo = ChecksumAlgo::sha256;
        want = 32;
    } else if (algo == "sha1") {
        c.algo = ChecksumAlgo::sha1;
        want = 20;
    } else if (algo == "crc32c") {
        c.algo = ChecksumAlgo::crc32c;
        want = 4;
    } else if (algo == "crc64") {
        c.algo = ChecksumAlgo::crc64;
        want = 8;
    } else {
        error = "Upload-Checksum algorithm '" + algo.substr(0, 40) +
                "' is not supported (use sha256, sha1, crc32c or crc64)";
        return std::nullopt;
    }
    if (!decode_b64(trim_ows(header.substr(sp + 1)), c.digest) || c.digest.size() != want) {
        error = "Upload-Checksum: the " + algo + " digest must be base64 of " +
                std::to_string(want) + " bytes";
        return std::nullopt;
    }
    return c;
}

bool valid_upload_id(std::string_view id) {
    if (id.size() != 32) return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string new_upload_id() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
    return hex(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
}

std::string format_ranges(const std::vector<std::uint64_t>& v) {
    std::string out;
    std::size_t i = 0;
    while (i < v.size()) {
        std::size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1)
            ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(v[i]);
        if (j > i) out += '-' + std::to_string(v[j]);
        i = j + 1;
    }
    return out;
}

std::optional<Concat> parse_concat(std::string_view header) {
    header = trim_ows(header);
    // Printable ASCII only: the header is kept (HEAD answers it, the state
    // file records it) and its URLs name upload ids.
    for (char c : header)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            return std::nullopt;
    Concat c;
    if (header == "partial") {
        c.kind = Concat::Kind::partial;
        return c;
    }
    if (header.substr(0, 6) != "final;") return std::nullopt;
    c.kind = Concat::Kind::final;
    std::string_view rest = header.substr(6);
    std::size_t i = 0;
    while (i < rest.size()) {
        while (i < rest.size() && rest[i] == ' ')
            ++i;
        auto j = rest.find(' ', i);
        if (j == std::string_view::npos) j = rest.size();
        if (j > i) c.urls.emplace_back(rest.substr(i, j - i));
        i = j;
    }
    if (c.urls.empty()) return std::nullopt;
    return c;
}

std::optional<std::string> upload_id_from_url(std::string_view url, std::string_view app) {
    if (auto s = url.find("://"); s != std::string_view::npos) {
        auto slash = url.find('/', s + 3);
        if (slash == std::string_view::npos) return std::nullopt;
        url = url.substr(slash);
    }
    if (auto q = url.find_first_of("?#"); q != std::string_view::npos) url = url.substr(0, q);
    std::string prefix = std::string(api::k_prefix) + "/apps/" + std::string(app) + "/uploads/";
    if (url.substr(0, prefix.size()) != prefix) return std::nullopt;
    std::string_view id = url.substr(prefix.size());
    if (!valid_upload_id(id)) return std::nullopt;
    return std::string(id);
}

// ---- Digest -------------------------------------------------------------------------------

Digest::Digest(ChecksumAlgo algo, bool with_crc64)
    : m_algo(algo),
      m_with_crc64(with_crc64),
      m_ctx(algo == ChecksumAlgo::sha1 ? EVP_MD_CTX_new() : nullptr),
      m_sha(algo == ChecksumAlgo::sha256 ? new SHA256_CTX : nullptr) {
    reset();
}
Digest::~Digest() {
    EVP_MD_CTX_free(m_ctx);
    delete m_sha;
}
Digest::Digest(const Digest& o) : Digest(o.m_algo, o.m_with_crc64) {
    *this = o;
}
Digest& Digest::operator=(const Digest& o) {
    if (this == &o) return *this;
    if (!o.m_ctx) {
        EVP_MD_CTX_free(std::exchange(m_ctx, nullptr));
    } else {
        if (!m_ctx) m_ctx = EVP_MD_CTX_new();
        EVP_MD_CTX_copy_ex(m_ctx, o.m_ctx);
    }
    if (!o.m_sha) {
        delete std::exchange(m_sha, nullptr);
    } else {
        if (!m_sha) m_sha = new SHA256_CTX;
        *m_sha = *o.m_sha;
    }
    m_algo = o.m_algo;
    m_with_crc64 = o.m_with_crc64;
    m_crc = o.m_crc;
    m_crc64 = o.m_crc64;
    return *this;
}
Digest::Digest(Digest&& o) noexcept
    : m_algo(o.m_algo),
      m_with_crc64(o.m_with_crc64),
      m_ctx(std::exchange(o.m_ctx, nullptr)),
      m_sha(std::exchange(o.m_sha, nullptr)),
      m_crc(o.m_crc),
      m_crc64(o.m_crc64) {}
Digest& Digest::operator=(Digest&& o) noexcept {
    if (this != &o) {
        EVP_MD_CTX_free(m_ctx);
        delete m_sha;
        m_algo = o.m_algo;
        m_with_crc64 = o.m_with_crc64;
        m_ctx = std::exchange(o.m_ctx, nullptr);
        m_sha = std::exchange(o.m_sha, nullptr);
        m_crc = o.m_crc;
        m_crc64 = o.m_crc64;
    }
    return *this;
}
void Digest::update(const void* data, std::size_t n) {
    if (m_algo == ChecksumAlgo::crc32c) {
        m_crc.update(data, n);
    } else if (m_algo == ChecksumAlgo::crc64) {
        m_crc64.update(data, n);
    } else {
        if (m_sha)
            SHA256_Update(m_sha, data, n);
        else
            EVP_DigestUpdate(m_ctx, data, n);
        if (m_with_crc64) m_crc64.update(data, n);
    }
}
std::string Digest::finish() {
    if (m_algo == ChecksumAlgo::crc32c) {
        auto b = m_crc.bytes();
        return std::string(b.begin(), b.end());
    }
    if (m_algo == ChecksumAlgo::crc64) {
        std::string out(8, '\0');
        const std::uint64_t v = m_crc64.value();
        for (int i = 0; i < 8; ++i)
            out[static_cast<std::size_t>(i)] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
        return out;
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (m_sha) {
        SHA256_Final(out, m_sha);
        len = SHA256_DIGEST_LENGTH;
    } else {
        EVP_DigestFinal_ex(m_ctx, out, &len);
    }
    return std::string(reinterpret_cast<const char*>(out), len);
}
void Digest::reset() {
    m_crc64.reset();
    if (m_algo == ChecksumAlgo::crc32c)
        m_crc.reset();
    else if (m_sha)
        SHA256_Init(m_sha);
    else if (m_ctx)
        EVP_DigestInit_ex(m_ctx, EVP_sha1(), nullptr);
}

// "s256:" 8 chaining words (hex) ":" bytes hashed (decimal) ":" the unhashed
// tail of the last block (hex, < 64 bytes) ":" CRC-64 (hex). The tail is
// SHA256_CTX's byte buffer, written and read as bytes, so the text does not
// depend on the machine's byte order.
std::string Digest::export_state() const {
    if (!m_sha) return {};
    const SHA256_CTX& c = *m_sha;
    std::string out = "s256:";
    for (auto w : c.h)
        out += fmt::format("{:08x}", static_cast<std::uint32_t>(w));
    const std::uint64_t bits = (std::uint64_t{c.Nh} << 32) | c.Nl;
    const auto* tail = reinterpret_cast<const unsigned char*>(c.data);
    out += fmt::format(":{}:", bits / 8);
    out += hex(std::string_view(reinterpret_cast<const char*>(tail), c.num));
    out += fmt::format(":{:016x}", m_crc64.value());
    return out;
}

std::optional<Digest> Digest::import_state(std::string_view text, bool with_crc64) {
    auto field = [&](std::string_view& rest) {
        auto colon = rest.find(':');
        auto f = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        return f;
    };
    auto unhex = [](std::string_view h, std::string& out) {
        out.clear();
        if (h.size() % 2) return false;
        for (std::size_t i = 0; i < h.size(); i += 2) {
            unsigned v = 0;
            auto [p, ec] = std::from_chars(h.data() + i, h.data() + i + 2, v, 16);
            if (ec != std::errc() || p != h.data() + i + 2) return false;
            out.push_back(static_cast<char>(v));
        }
        return true;
    };
    std::string_view rest = text;
    if (field(rest) != "s256") return std::nullopt;
    std::string h, tail, crc;
    auto words = field(rest);
    auto count = de::parse_decimal_u64(field(rest));
    auto tail_hex = field(rest);
    auto crc_hex = rest;
    if (!unhex(words, h) || h.size() != 32 || !count || *count > (UINT64_MAX >> 3) ||
        !unhex(tail_hex, tail) || tail.size() != *count % 64 || !unhex(crc_hex, crc) ||
        crc.size() != 8)
        return std::nullopt;
    Digest d(ChecksumAlgo::sha256, with_crc64);
    SHA256_CTX& c = *d.m_sha;
    for (std::size_t i = 0; i < 8; ++i) {
        const auto* b = reinterpret_cast<const unsigned char*>(h.data()) + 4 * i;
        c.h[i] = (static_cast<SHA_LONG>(b[0]) << 24) | (static_cast<SHA_LONG>(b[1]) << 16) |
                 (static_cast<SHA_LONG>(b[2]) << 8) | static_cast<SHA_LONG>(b[3]);
    }
    const std::uint64_t bits = *count * 8;
    c.Nl = static_cast<SHA_LONG>(bits & 0xffffffffu);
    c.Nh = static_cast<SHA_LONG>(bits >> 32);
    c.num = static_cast<unsigned int>(tail.size());
    std::memcpy(c.data, tail.data(), tail.size());
    std::uint64_t v = 0;
    for (unsigned char b : crc)
        v = (v << 8) | b;
    d.m_crc64.resume(v);
    return d;
}

std::string_view algo_name(ChecksumAlgo algo) {
    switch (algo) {
        case ChecksumAlgo::sha1:
            return "sha1";
        case ChecksumAlgo::sha256:
            return "sha256";
        case ChecksumAlgo::crc32c:
            return "crc32c";
        case ChecksumAlgo::crc64:
            return "crc64";
    }
    return "sha256";
}

std::string hex(std::string_view raw) {
    static const char* k = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out.push_back(k[c >> 4]);
        out.push_back(k[c & 15]);
    }
    return out;
}

}  // namespace de::server::tus

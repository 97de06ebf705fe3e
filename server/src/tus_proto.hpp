#pragma once
// The header grammar of tus 1.0 and of de's `parts` extension, as pure
// functions (no I/O) so unit tests cover them directly: Upload-Metadata,
// Upload-Checksum, Upload-Concat, upload ids, part ranges for
// Upload-Parts-Done, and a small incremental SHA-1/SHA-256 and CRC-32C whose
// state can be copied (a PATCH forks the whole-file hash and keeps the fork
// only if its checksum holds) and, for SHA-256, exported as text (the
// whole-file hash's midstate travels in the upload's state file to whichever
// replica continues the upload).

#include <de/crc32c.hpp>
#include <de/crc64.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct evp_md_ctx_st;
struct SHA256state_st;

namespace de::server::tus {

// Key/value pairs in the order they came; values decoded from base64.
struct Metadata {
    std::vector<std::pair<std::string, std::string>> pairs;
    const std::string* find(std::string_view key) const;
};
// "key base64,key2 base64,key3": keys non-empty, without spaces or commas,
// unique; values standard base64 (padding optional). nullopt when malformed.
std::optional<Metadata> parse_metadata(std::string_view header);

// crc32c: CRC-32C, its 4 bytes most significant first (de/crc32c.hpp).
// crc64: CRC-64/XZ, its 8 bytes most significant first (de/crc64.hpp) — the
// per-PATCH check de-cli uses; the whole file's CRC-64 is checked apart.
enum class ChecksumAlgo { sha1, sha256, crc32c, crc64 };
std::string_view algo_name(ChecksumAlgo algo);
// What OPTIONS advertises in Tus-Checksum-Algorithm.
inline constexpr std::string_view k_checksum_algorithms = "sha256,sha1,crc32c,crc64";
struct Checksum {
    ChecksumAlgo algo = ChecksumAlgo::sha256;
    std::string digest;  // raw bytes (20, 32, 4 or 8)
};
// "sha256 BASE64" / "sha1 BASE64" / "crc32c BASE64" / "crc64 BASE64". Error text in `error`
// when malformed or the algorithm is not supported.
std::optional<Checksum> parse_checksum(std::string_view header, std::string& error);

// 32 lower-case hex digits, nothing else.
bool valid_upload_id(std::string_view id);
// 128 random bits (OpenSSL RAND_bytes) as 32 lower-case hex digits.
std::string new_upload_id();

// Sorted part indices -> "0-12,15" (empty string for none).
std::string format_ranges(const std::vector<std::uint64_t>& sorted_indices);
// The same from a predicate over [0, count).
template <class Pred>
std::string format_ranges_if(std::uint64_t count, Pred done) {
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = 0; i < count; ++i)
        if (done(i)) v.push_back(i);
    return format_ranges(v);
}

// Upload-Concat: "partial" or "final;URL URL ...", printable ASCII only. URLs may be absolute
// (scheme://host/path) or paths; ids() gives each one's last segment when the
// path is exactly /api/v1/apps/{app}/uploads/{id}.
struct Concat {
    enum class Kind { none, partial, final } kind = Kind::none;
    std::vector<std::string> urls;
};
std::optional<Concat> parse_concat(std::string_view header);
// The upload id a concat URL names inside `app`; nullopt when it names
// something else.
std::optional<std::string> upload_id_from_url(std::string_view url, std::string_view app);

// Incremental SHA-1 / SHA-256 / CRC-32C / CRC-64 whose state can be copied.
// With `with_crc64` a SHA digest also runs a CRC-64 over the same bytes in
// the same pass (the whole-file hash of a tus upload: SHA-256 for the ETag,
// CRC-64 for the client's end-to-end check); crc64() gives it.
class Digest {
  public:
    explicit Digest(ChecksumAlgo algo = ChecksumAlgo::sha256, bool with_crc64 = false);
    ~Digest();
    Digest(const Digest& o);
    Digest& operator=(const Digest& o);
    Digest(Digest&& o) noexcept;
    Digest& operator=(Digest&& o) noexcept;
    void update(const void* data, std::size_t n);
    // The raw digest; the state is left unusable until reset().
    std::string finish();
    void reset();
    // The CRC-64 of the bytes so far (crc64 mode, or with_crc64).
    std::uint64_t crc64() const { return m_crc64.value(); }
    // A SHA-256 digest's state as text (its chaining value, byte count,
    // unhashed tail and the CRC-64 beside it), so that another process
    // continues it: import_state(d.export_state()) then update(rest) gives
    // the digest of everything. Empty for the other algorithms.
    std::string export_state() const;
    // nullopt when `text` is not an export_state() of a SHA-256 digest.
    static std::optional<Digest> import_state(std::string_view text, bool with_crc64);

  private:
    ChecksumAlgo m_algo;
    bool m_with_crc64 = false;
    // SHA-256 uses OpenSSL's low-level SHA256_CTX (the same SHA-NI block
    // function as EVP, but a plain struct whose midstate can be exported;
    // EVP in OpenSSL 3 has no way to export it); SHA-1 uses EVP.
    evp_md_ctx_st* m_ctx = nullptr;   // sha1 only
    SHA256state_st* m_sha = nullptr;  // sha256 only
    Crc32c m_crc;
    Crc64 m_crc64;
};

std::string hex(std::string_view raw);

}  // namespace de::server::tus

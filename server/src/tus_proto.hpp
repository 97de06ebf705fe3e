#pragma once
// The header grammar of tus 1.0 and of de's `parts` extension, as pure
// functions (no I/O) so unit tests cover them directly: Upload-Metadata,
// Upload-Checksum, Upload-Concat, upload ids, part ranges for
// Upload-Parts-Done, and a small incremental SHA-1/SHA-256 (OpenSSL EVP) and CRC-32C
// whose state can be copied (a PATCH forks the whole-file hash and keeps the
// fork only if its checksum holds).

#include <de/crc32c.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct evp_md_ctx_st;

namespace de::server::tus {

// Key/value pairs in the order they came; values decoded from base64.
struct Metadata {
    std::vector<std::pair<std::string, std::string>> pairs;
    const std::string* find(std::string_view key) const;
};
// "key base64,key2 base64,key3": keys non-empty, without spaces or commas,
// unique; values standard base64 (padding optional). nullopt when malformed.
std::optional<Metadata> parse_metadata(std::string_view header);

// crc32c: CRC-32C, its 4 bytes most significant first (de/crc32c.hpp) — the
// cheap per-PATCH check de-cli uses; the whole file's SHA-256 is checked apart.
enum class ChecksumAlgo { sha1, sha256, crc32c };
std::string_view algo_name(ChecksumAlgo algo);
// What OPTIONS advertises in Tus-Checksum-Algorithm.
inline constexpr std::string_view k_checksum_algorithms = "sha256,sha1,crc32c";
struct Checksum {
    ChecksumAlgo algo = ChecksumAlgo::sha256;
    std::string digest;  // raw bytes (20, 32 or 4)
};
// "sha256 BASE64" / "sha1 BASE64" / "crc32c BASE64". Error text in `error`
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

// Incremental SHA-1 / SHA-256 / CRC-32C whose state can be copied.
class Digest {
  public:
    explicit Digest(ChecksumAlgo algo = ChecksumAlgo::sha256);
    ~Digest();
    Digest(const Digest& o);
    Digest& operator=(const Digest& o);
    Digest(Digest&& o) noexcept;
    Digest& operator=(Digest&& o) noexcept;
    void update(const void* data, std::size_t n);
    // The raw digest; the state is left unusable until reset().
    std::string finish();
    void reset();

  private:
    ChecksumAlgo m_algo;
    evp_md_ctx_st* m_ctx = nullptr;  // null for crc32c
    Crc32c m_crc;
};

std::string hex(std::string_view raw);

}  // namespace de::server::tus

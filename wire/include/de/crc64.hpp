#pragma once
// CRC-64/XZ (ECMA-182 polynomial, reflected; init and final XOR all ones; the
// check value of "123456789" is 0x995DC9BBDF1939FA): the end-to-end integrity
// check of a transfer, per part and for the whole file. It is computed with
// ISA-L's folding (PCLMUL/AVX-512) implementation at several GB/s a core, so
// it costs nothing next to the transfer; SHA-256 stays the file's identity
// (ETag, manifest, sync --checksum), computed once, on the server.
//
// Why not CRC-64/NVME, S3's default: Debian 12's ISA-L (2.30) has no NVME
// ("rocksoft") polynomial; it arrived in 2.31. XZ has the same size, the same
// error-detection class and a hardware-speed implementation here. Like every
// CRC it catches damage, not a deliberate change.
//
// crc64_combine() gives the CRC of A‖B from crc(A), crc(B) and |B| in
// O(log |B|), so a whole file's CRC is made from its parts' CRCs without
// reading the file again (a resumed upload, a parallel download).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace de {

class Crc64 {
  public:
    void update(const void* data, std::size_t n);
    void update(std::string_view data) { update(data.data(), data.size()); }
    // The CRC of everything given so far (the hasher stays usable).
    std::uint64_t value() const { return m_crc; }
    void reset() { m_crc = 0; }
    // Continues from a CRC value() gave earlier (a hash resumed elsewhere).
    void resume(std::uint64_t crc) { m_crc = crc; }

  private:
    std::uint64_t m_crc = 0;  // ISA-L's convention: the finished CRC, 0 for no data
};

std::uint64_t crc64(std::string_view data);
// Continues a finished CRC over more data: crc64_update(crc64(A), B) == crc64(A‖B).
std::uint64_t crc64_update(std::uint64_t crc, const void* data, std::size_t n);
// crc64(A‖B) from crc64(A), crc64(B) and B's length.
std::uint64_t crc64_combine(std::uint64_t crc_a, std::uint64_t crc_b, std::uint64_t len_b);

// The wire form: 8 bytes, most significant first, as base64 (12 characters),
// as in `Repr-Digest: crc64=:BASE64:` and `Upload-Checksum: crc64 BASE64`.
std::string crc64_base64(std::uint64_t crc);
std::optional<std::uint64_t> crc64_from_base64(std::string_view b64);
// 16 lowercase hex digits (JSON fields, extended attributes, messages).
std::string crc64_hex(std::uint64_t crc);
std::optional<std::uint64_t> crc64_from_hex(std::string_view hex);

namespace detail {
// A bit-at-a-time table implementation whatever the CPU (tests compare the two).
std::uint64_t crc64_portable(std::uint64_t crc, std::string_view data);
}  // namespace detail

}  // namespace de

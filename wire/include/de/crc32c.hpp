#pragma once
// CRC-32C (Castagnoli polynomial, as in iSCSI, ext4 and SCTP; RFC 3720 B.4):
// the cheap per-part checksum of resumable uploads. It catches what a part
// checksum is for — bytes damaged or cut between the file and the server — at
// a fifth of a SHA-256 pass's cost or less (ISA-L's folding implementation); the whole file's
// SHA-256 stays the end-to-end check. Not a defence against a deliberate change.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace de {

class Crc32c {
  public:
    void update(const void* data, std::size_t n);
    void update(std::string_view data) { update(data.data(), data.size()); }
    // The CRC of everything given so far (the hasher stays usable).
    std::uint32_t value() const { return ~m_state; }
    // value() as 4 bytes, most significant first (the wire form, as base64).
    std::array<std::uint8_t, 4> bytes() const;
    void reset() { m_state = 0xFFFFFFFFu; }

  private:
    std::uint32_t m_state = 0xFFFFFFFFu;
};

std::uint32_t crc32c(std::string_view data);

namespace detail {
// The table implementation whatever the CPU (tests compare the two).
std::uint32_t crc32c_portable(std::string_view data);
}  // namespace detail

}  // namespace de

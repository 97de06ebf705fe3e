#pragma once
// A streaming (push) parser of POSIX tar archives: de-server reads the batch
// upload's body with it, libde the tree archive's answer (docs/api.md).
//
// The body arrives in network-sized pieces; feed() takes each piece as it
// comes and calls the handler for every member's start, for each run of its
// content bytes, and for its end, so nothing is buffered but a partial
// 512-byte header and a pax extended header (capped at k_max_pax_bytes).
// Memory stays flat whatever the archive holds.
//
// Accepted: ustar headers (magic "ustar\0" "00", or GNU's "ustar  \0") whose
// checksum matches; member types '0' / '\0' (regular file) and '5'
// (directory); pax 'x' headers for the next member (keywords path, mtime, size
// and the vendor keywords DE.sha256 and DE.crc64; other DE.* records are kept
// in TarMember::vendor, the rest ignored) and 'g' headers
// (ignored). Anything else -- links, devices, GNU long names, a bad checksum,
// a size that overflows, a truncated archive, an absolute path or a '..'
// component, control characters -- is a 400 with a message naming the member.
// Paths come out as they are in the archive minus leading "./" and a trailing
// '/'; the caller still normalises them under the mount's rules.

#include <de/api_error.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace de {

struct TarMember {
    enum class Type { file, dir };
    Type type = Type::file;
    std::string path;
    std::uint64_t size = 0;                // 0 for directories
    std::optional<std::int64_t> mtime_ns;  // pax mtime (fractional) or the header's seconds
    std::optional<std::string> sha256;     // pax DE.sha256, lower-case hex
    std::optional<std::uint64_t> crc64;    // pax DE.crc64 (16 hex digits)
    // Every DE.* pax record of the member, in order, the parsed ones included
    // (at most 16): what the tree archive's reader looks up, e.g. DE.error (docs/api.md).
    std::vector<std::pair<std::string, std::string>> vendor;
};

class TarHandler {
  public:
    virtual ~TarHandler() = default;
    virtual api::ApiResult<void> begin(const TarMember& member) = 0;
    virtual api::ApiResult<void> data(std::string_view bytes) = 0;
    virtual api::ApiResult<void> end() = 0;
};

class TarReader {
  public:
    static constexpr std::size_t k_block = 512;
    static constexpr std::size_t k_max_pax_bytes = 1 << 20;

    // Parses the next bytes of the archive. After an error the reader is
    // stuck in that error (every later call returns it again).
    api::ApiResult<void> feed(std::string_view bytes, TarHandler& handler);
    // The body ended: fails unless the archive ended at a member boundary.
    api::ApiResult<void> finish();
    // The end-of-archive marker (a zero block) was seen.
    bool ended() const { return m_state == State::trailer; }
    std::uint64_t members() const { return m_members; }

  private:
    enum class State { header, pax, data, padding, trailer, failed };

    api::ApiResult<void> on_header(TarHandler& handler);
    api::ApiResult<void> on_pax_done();
    api::ApiResult<void> fail(std::string message);

    State m_state = State::header;
    std::array<char, k_block> m_block{};
    std::size_t m_block_fill = 0;
    std::uint64_t m_left = 0;  // bytes left of the current data/pax/padding
    std::string m_pax;         // the pax header being collected
    bool m_pax_global = false;
    bool m_in_member = false;  // a regular file's data is flowing to the handler
    // Overrides from the pending 'x' header for the next member.
    std::optional<std::string> m_pax_path;
    std::optional<std::int64_t> m_pax_mtime;
    std::optional<std::uint64_t> m_pax_size;
    std::optional<std::string> m_pax_sha256;
    std::optional<std::uint64_t> m_pax_crc64;
    std::vector<std::pair<std::string, std::string>> m_pax_vendor;
    bool m_have_pax = false;
    std::string m_current;  // the current member's path, for messages
    std::uint64_t m_members = 0;
    std::uint64_t m_offset = 0;  // bytes consumed, for messages
    std::string m_error;
};

// Checks one archive path (also used by tests): no absolute path, no '..',
// no NUL or control characters. Returns it without "./" and trailing '/'.
api::ApiResult<std::string> clean_tar_path(std::string_view path);

}  // namespace de

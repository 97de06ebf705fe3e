// See tar_reader.hpp. A small state machine over 512-byte blocks: a header
// block decides what follows (pax records to collect, file data to pass on,
// padding to skip); an all-zero header block ends the archive, after which
// only zeros may follow (tar writers pad to their record size).
#include <de/tar_reader.hpp>

#include <de/crc64.hpp>
#include <de/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace de {

using api::api_fail;
using api::ApiError;
using api::ApiResult;

namespace {
using api::WireError;

std::string_view field(const char* p, std::size_t width) {
    const void* nul = std::memchr(p, '\0', width);
    return {p, nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - p) : width};
}

// An octal numeric field: optional leading spaces, digits, then NUL/space.
bool parse_octal(const char* p, std::size_t width, std::uint64_t& out) {
    std::size_t i = 0;
    while (i < width && p[i] == ' ')
        ++i;
    std::uint64_t v = 0;
    std::size_t digits = 0;
    for (; i < width && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) {
        if (v > (std::numeric_limits<std::uint64_t>::max() >> 3)) return false;
        v = (v << 3) | static_cast<std::uint64_t>(p[i] - '0');
    }
    for (; i < width; ++i)
        if (p[i] != '\0' && p[i] != ' ') return false;
    if (digits == 0) return false;
    out = v;
    return true;
}

bool parse_decimal(std::string_view s, std::uint64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

// pax mtime: "[-]SECONDS[.FRACTION]" -> nanoseconds.
bool parse_pax_time(std::string_view s, std::int64_t& out) {
    bool neg = !s.empty() && s.front() == '-';
    if (neg) s.remove_prefix(1);
    auto dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    std::uint64_t sec = 0;
    if (!parse_decimal(whole, sec) || sec > 9'000'000'000ull) return false;
    std::int64_t ns = 0;
    std::int64_t scale = 100'000'000;
    for (char c : frac) {
        if (c < '0' || c > '9') return false;
        ns += (c - '0') * scale;
        scale /= 10;
    }
    if (dot != std::string_view::npos && frac.empty()) return false;
    std::int64_t v = static_cast<std::int64_t>(sec) * 1'000'000'000 + ns;
    out = neg ? -v : v;
    return true;
}

bool is_zero_block(const char* p) {
    for (std::size_t i = 0; i < TarReader::k_block; ++i)
        if (p[i] != '\0') return false;
    return true;
}

std::string type_name(char t) {
    switch (t) {
        case '1':
            return "a hard link";
        case '2':
            return "a symbolic link";
        case '3':
            return "a character device";
        case '4':
            return "a block device";
        case '6':
            return "a FIFO";
        case '7':
            return "a contiguous file";
        case 'L':
        case 'K':
            return "a GNU long-name header (use the pax format)";
        case 'S':
            return "a GNU sparse file";
        default:
            break;
    }
    if (t >= 0x20 && t < 0x7f) return fmt::format("a member of type '{}'", t);
    return fmt::format("a member of type 0x{:02x}", static_cast<unsigned char>(t));
}

}  // namespace

ApiResult<std::string> clean_tar_path(std::string_view path) {
    if (path.empty()) return api_fail(WireError::bad_request, "a member has an empty path");
    if (path.front() == '/')
        return api_fail(WireError::bad_request,
                        fmt::format("member '{}' has an absolute path; paths are relative to "
                                    "the mount root",
                                    path));
    for (char c : path) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            return api_fail(WireError::bad_request,
                            "a member's path contains a NUL or control character");
    }
    std::string out;
    std::size_t i = 0;
    while (i <= path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view comp = path.substr(i, j - i);
        if (comp == "..")
            return api_fail(WireError::bad_request,
                            fmt::format("member '{}' has a '..' component", path));
        if (!comp.empty() && comp != ".") {
            if (!out.empty()) out += '/';
            out += comp;
        }
        i = j + 1;
    }
    return out;
}

ApiResult<void> TarReader::fail(std::string message) {
    m_state = State::failed;
    m_error = fmt::format("malformed tar body at byte {}: {}", m_offset, message);
    return api_fail(WireError::bad_request, m_error);
}

ApiResult<void> TarReader::feed(std::string_view bytes, TarHandler& handler) {
    while (!bytes.empty()) {
        switch (m_state) {
            case State::failed:
                return api_fail(WireError::bad_request, m_error);
            case State::header: {
                std::size_t n = std::min(bytes.size(), k_block - m_block_fill);
                std::memcpy(m_block.data() + m_block_fill, bytes.data(), n);
                m_block_fill += n;
                bytes.remove_prefix(n);
                if (m_block_fill < k_block) break;
                m_block_fill = 0;
                if (auto r = on_header(handler); !r) {
                    if (m_state != State::failed) m_state = State::failed;
                    if (m_error.empty()) m_error = r.error().message;
                    return r;
                }
                m_offset += k_block;
                break;
            }
            case State::pax: {
                std::size_t n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), m_left));
                m_pax.append(bytes.data(), n);
                bytes.remove_prefix(n);
                m_left -= n;
                m_offset += n;
                if (m_left == 0)
                    if (auto r = on_pax_done(); !r) return r;
                break;
            }
            case State::data: {
                std::size_t n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), m_left));
                if (auto r = handler.data(bytes.substr(0, n)); !r) {
                    m_state = State::failed;
                    m_error = r.error().message;
                    return r;
                }
                bytes.remove_prefix(n);
                m_left -= n;
                m_offset += n;
                if (m_left == 0) {
                    m_in_member = false;
                    if (auto r = handler.end(); !r) {
                        m_state = State::failed;
                        m_error = r.error().message;
                        return r;
                    }
                    m_left = (k_block - m_offset % k_block) % k_block;
                    m_state = m_left ? State::padding : State::header;
                }
                break;
            }
            case State::padding: {
                std::size_t n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), m_left));
                bytes.remove_prefix(n);
                m_left -= n;
                m_offset += n;
                if (m_left == 0) m_state = State::header;
                break;
            }
            case State::trailer: {
                for (char c : bytes)
                    if (c != '\0') return fail("data after the end-of-archive marker");
                m_offset += bytes.size();
                bytes = {};
                break;
            }
        }
    }
    return {};
}

ApiResult<void> TarReader::on_header(TarHandler& handler) {
    const char* b = m_block.data();
    if (is_zero_block(b)) {
        if (m_have_pax) return fail("a pax header is not followed by a member");
        m_state = State::trailer;
        return {};
    }
    // The checksum treats its own field as spaces; old writers summed signed chars.
    std::uint64_t stored = 0;
    if (!parse_octal(b + 148, 8, stored)) return fail("a header's checksum field is not octal");
    std::uint64_t usum = 0;
    std::int64_t ssum = 0;
    for (std::size_t i = 0; i < k_block; ++i) {
        char c = (i >= 148 && i < 156) ? ' ' : b[i];
        usum += static_cast<unsigned char>(c);
        ssum += static_cast<signed char>(c);
    }
    if (stored != usum && static_cast<std::int64_t>(stored) != ssum)
        return fail(
            fmt::format("header checksum mismatch (stored {:o}, computed {:o}); the "
                        "archive is corrupt",
                        stored, usum));
    bool ustar = std::memcmp(b + 257, "ustar\0", 6) == 0 && b[263] == '0' && b[264] == '0';
    bool gnu = std::memcmp(b + 257, "ustar  \0", 8) == 0;
    if (!ustar && !gnu) return fail("not a POSIX ustar header (no 'ustar' magic)");

    char type = b[156];
    std::uint64_t size = 0;
    if (static_cast<unsigned char>(b[124]) & 0x80) {
        if (!m_pax_size) return fail("a base-256 size field; send the size as a pax record");
    } else if (!parse_octal(b + 124, 12, size)) {
        return fail("a header's size field is not octal");
    }

    if (type == 'x' || type == 'g') {
        if (m_have_pax && type == 'x') return fail("two pax headers for one member");
        if (size > k_max_pax_bytes)
            return fail(
                fmt::format("a pax header of {} bytes (at most {})", size, k_max_pax_bytes));
        m_pax.clear();
        m_pax_global = type == 'g';
        m_left = size;
        m_state = State::pax;
        if (size == 0) {
            m_offset += k_block;  // on_pax_done computes the padding from the offset
            auto r = on_pax_done();
            m_offset -= k_block;
            return r;
        }
        return {};
    }

    std::string raw;
    if (m_pax_path) {
        raw = *m_pax_path;
    } else {
        std::string_view name = field(b, 100);
        std::string_view prefix = ustar ? field(b + 345, 155) : std::string_view{};
        if (!prefix.empty()) {
            raw.assign(prefix);
            raw += '/';
        }
        raw.append(name);
    }
    m_current = raw;
    bool is_file = type == '0' || type == '\0';
    bool is_dir = type == '5';
    if (!is_file && !is_dir)
        return fail(
            fmt::format("member '{}' is {}; only regular files and folders can be "
                        "uploaded",
                        raw, type_name(type)));
    auto path = clean_tar_path(raw);
    if (!path) return fail(path.error().message);

    TarMember m;
    m.type = is_dir ? TarMember::Type::dir : TarMember::Type::file;
    m.path = std::move(*path);
    m.size = m_pax_size.value_or(size);
    if (m_pax_mtime) {
        m.mtime_ns = m_pax_mtime;
    } else if (std::uint64_t secs = 0; !(static_cast<unsigned char>(b[136]) & 0x80) &&
                                       parse_octal(b + 136, 12, secs) && secs < 9'000'000'000ull) {
        m.mtime_ns = static_cast<std::int64_t>(secs) * 1'000'000'000;
    }
    m.sha256 = m_pax_sha256;
    m.crc64 = m_pax_crc64;
    m_pax_crc64.reset();
    m.vendor = std::move(m_pax_vendor);
    m_pax_vendor.clear();
    m_pax_path.reset();
    m_pax_mtime.reset();
    m_pax_size.reset();
    m_pax_sha256.reset();
    m_have_pax = false;
    ++m_members;

    if (is_dir) {
        std::uint64_t data = m.size;
        m.size = 0;
        if (auto r = handler.begin(m); !r) return r;
        if (auto r = handler.end(); !r) return r;
        // A folder's size is meaningless; skip whatever data it claims.
        std::uint64_t padded = data + (k_block - data % k_block) % k_block;
        if (padded < data) return fail("a size that overflows");
        m_left = padded;
        m_state = m_left ? State::padding : State::header;
        return {};
    }
    if (m.size > std::numeric_limits<std::uint64_t>::max() - k_block)
        return fail("a size that overflows");
    if (auto r = handler.begin(m); !r) return r;
    m_left = m.size;
    if (m_left == 0) {
        if (auto r = handler.end(); !r) return r;
        m_state = State::header;
    } else {
        m_in_member = true;
        m_state = State::data;
    }
    return {};
}

ApiResult<void> TarReader::on_pax_done() {
    std::string_view rest = m_pax;
    while (!rest.empty()) {
        auto sp = rest.find(' ');
        std::uint64_t len = 0;
        if (sp == std::string_view::npos || !parse_decimal(rest.substr(0, sp), len) ||
            len <= sp + 1 || len > rest.size())
            return fail("a malformed pax record (bad length)");
        std::string_view rec = rest.substr(sp + 1, len - sp - 1);
        if (rec.back() != '\n') return fail("a malformed pax record (no newline)");
        rec.remove_suffix(1);
        auto eq = rec.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return fail("a malformed pax record (no key=value)");
        std::string_view key = rec.substr(0, eq);
        std::string_view value = rec.substr(eq + 1);
        rest.remove_prefix(len);
        if (m_pax_global) continue;
        if (key.starts_with("DE.") && m_pax_vendor.size() < 16)
            m_pax_vendor.emplace_back(std::string(key), std::string(value));
        if (key == "path") {
            if (value.find('\0') != std::string_view::npos)
                return fail("a pax path with a NUL character");
            m_pax_path = std::string(value);
        } else if (key == "size") {
            std::uint64_t v = 0;
            if (!parse_decimal(value, v))
                return fail(
                    fmt::format("a pax size '{:.40}' that is not a number or overflows", value));
            m_pax_size = v;
        } else if (key == "mtime") {
            std::int64_t v = 0;
            if (!parse_pax_time(value, v))
                return fail(fmt::format("a pax mtime '{:.40}' that is not a time", value));
            m_pax_mtime = v;
        } else if (key == "DE.sha256") {
            std::string hex = ascii_lower(value);
            bool ok =
                hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
            if (!ok) return fail("a DE.sha256 record that is not 64 hex digits");
            m_pax_sha256 = std::move(hex);
        } else if (key == "DE.crc64") {
            auto crc = value.size() == 16 ? crc64_from_hex(value) : std::nullopt;
            if (!crc) return fail("a DE.crc64 record that is not 16 hex digits");
            m_pax_crc64 = crc;
        }
        // Other keywords (atime, uid, uname, ...) carry nothing we store.
    }
    if (!m_pax_global) m_have_pax = true;
    m_pax.clear();
    m_pax.shrink_to_fit();
    m_left = (k_block - m_offset % k_block) % k_block;
    m_state = m_left ? State::padding : State::header;
    return {};
}

ApiResult<void> TarReader::finish() {
    if (m_state == State::failed) return api_fail(WireError::bad_request, m_error);
    if (m_state == State::trailer) return {};
    if (m_state == State::header && m_block_fill == 0 && !m_have_pax) return {};
    if (m_in_member)
        return fail(fmt::format("the archive is truncated inside member '{}'", m_current));
    return fail("the archive is truncated");
}

}  // namespace de

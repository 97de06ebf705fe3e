// ustar headers by hand (IEEE Std 1003.1 "pax" format): a 512-byte header per
// member, data padded to 512 bytes, two zero blocks at the end. A pax 'x'
// header carries what ustar cannot hold (long paths, sizes >= 8 GiB).
#include <de/archive.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace de {

namespace {

constexpr std::size_t k_block = 512;
constexpr std::uint64_t k_ustar_max_size = 077777777777ull;  // 11 octal digits

void put_octal(char* field, std::size_t width, std::uint64_t value) {
    // width includes the terminating NUL.
    std::string digits = fmt::format("{:0{}o}", value, width - 1);
    std::memcpy(field, digits.data(), width - 1);
    field[width - 1] = '\0';
}

void put_string(char* field, std::size_t width, std::string_view value) {
    // An empty view may carry a null data(): memcpy from null is undefined even
    // for zero bytes (UBSan reports it).
    if (value.empty()) return;
    std::memcpy(field, value.data(), std::min(width, value.size()));
}

// Splits path into ustar's prefix (<=155) and name (<=100) at a '/'.
bool split_ustar(std::string_view path, std::string_view& prefix, std::string_view& name) {
    if (path.size() <= 100) {
        prefix = {};
        name = path;
        return true;
    }
    for (std::size_t i = path.size(); i-- > 0;) {
        if (path[i] != '/') continue;
        if (i > 155) continue;
        if (path.size() - i - 1 > 100 || path.size() - i - 1 == 0) return false;
        prefix = path.substr(0, i);
        name = path.substr(i + 1);
        return true;
    }
    return false;
}

// One pax record: "LEN key=value\n", where LEN counts the whole record.
std::string pax_record(std::string_view key, std::string_view value) {
    std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
    std::size_t len = body + 1;
    while (std::to_string(len).size() + body != len)
        len = std::to_string(len).size() + body;
    return fmt::format("{} {}={}\n", len, key, value);
}

}  // namespace

TarWriter::TarWriter(std::function<Status(std::string_view)> sink) : m_sink(std::move(sink)) {}

Status TarWriter::emit(std::string_view data) {
    if (data.empty()) return {};
    if (auto st = m_sink(data); !st) return st;
    m_bytes_written += data.size();
    return {};
}

Status TarWriter::header(std::string_view path, char type, std::uint64_t size,
                         std::int64_t mtime_ns, unsigned mode, const PaxRecords& extra) {
    std::string_view prefix, name;
    bool fits = split_ustar(path, prefix, name);
    std::string pax;
    if (!fits) pax += pax_record("path", path);
    if (size > k_ustar_max_size) pax += pax_record("size", std::to_string(size));
    for (const auto& [key, value] : extra)
        pax += pax_record(key, value);
    if (!pax.empty()) {
        std::string pax_name = "PaxHeaders/" + std::string(path.substr(0, 80));
        if (auto st = header(pax_name.substr(0, 100), 'x', pax.size(), mtime_ns, 0644); !st)
            return st;
        if (auto st = emit(pax); !st) return st;
        std::string pad((k_block - pax.size() % k_block) % k_block, '\0');
        if (auto st = emit(pad); !st) return st;
        if (!fits) {
            // The real path is in the pax header; keep a readable, truncated fallback.
            prefix = {};
            name = path.substr(path.size() > 100 ? path.size() - 100 : 0);
        }
    }

    std::array<char, k_block> h{};
    put_string(&h[0], 100, name);
    put_octal(&h[100], 8, mode);
    put_octal(&h[108], 8, 0);
    put_octal(&h[116], 8, 0);
    put_octal(&h[124], 12, std::min(size, k_ustar_max_size));
    put_octal(&h[136], 12, mtime_ns > 0 ? static_cast<std::uint64_t>(mtime_ns / 1'000'000'000) : 0);
    h[156] = type;
    std::memcpy(&h[257], "ustar", 6);  // magic with its NUL
    std::memcpy(&h[263], "00", 2);
    put_string(&h[345], 155, prefix);
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (char c : h)
        sum += static_cast<unsigned char>(c);
    std::string chk = fmt::format("{:06o}", sum);
    std::memcpy(&h[148], chk.data(), 6);
    h[154] = '\0';
    h[155] = ' ';
    return emit(std::string_view(h.data(), h.size()));
}

Status TarWriter::add_directory(std::string_view path, std::int64_t mtime_ns) {
    if (m_in_file) return fail(ErrorKind::generic, "tar: a file is still open");
    std::string p(path);
    if (p.empty() || p.back() != '/') p += '/';
    return header(p, '5', 0, mtime_ns, 0755);
}

Status TarWriter::begin_file(std::string_view path, std::uint64_t size, std::int64_t mtime_ns,
                             const PaxRecords& extra) {
    if (m_in_file) return fail(ErrorKind::generic, "tar: a file is still open");
    if (auto st = header(path, '0', size, mtime_ns, 0644, extra); !st) return st;
    m_path = path;
    m_expected = size;
    m_received = 0;
    m_in_file = true;
    return {};
}

Status TarWriter::write(std::string_view data) {
    if (!m_in_file) return fail(ErrorKind::generic, "tar: no file is open");
    if (m_received + data.size() > m_expected)
        return fail(ErrorKind::conflict,
                    fmt::format("'{}' grew while it was being archived (expected {} bytes); "
                                "stop the app's writers and retry",
                                m_path, m_expected));
    m_received += data.size();
    return emit(data);
}

Status TarWriter::end_file() {
    if (!m_in_file) return fail(ErrorKind::generic, "tar: no file is open");
    m_in_file = false;
    if (m_received != m_expected)
        return fail(ErrorKind::conflict,
                    fmt::format("'{}' shrank while it was being archived ({} of {} bytes); "
                                "stop the app's writers and retry",
                                m_path, m_received, m_expected));
    std::string pad((k_block - m_expected % k_block) % k_block, '\0');
    return emit(pad);
}

std::uint64_t TarWriter::file_member_size(std::string_view path, std::uint64_t size,
                                          const PaxRecords& extra) {
    // Only lengths matter, and they do not depend on the mtime's digits.
    TarWriter counter([](std::string_view) -> Status { return {}; });
    (void)counter.header(path, '0', size, 0, 0644, extra);
    return counter.m_bytes_written + size + (k_block - size % k_block) % k_block;
}

Status TarWriter::finish() {
    if (m_in_file) return fail(ErrorKind::generic, "tar: a file is still open");
    std::string zeros(2 * k_block, '\0');
    return emit(zeros);
}

}  // namespace de

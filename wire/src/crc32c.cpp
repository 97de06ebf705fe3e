#include <de/crc32c.hpp>

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define DE_CRC32C_X86 1
#endif

namespace de {

namespace {

constexpr std::uint32_t k_poly = 0x82F63B78u;  // 0x1EDC6F41, bit-reversed

// Slicing-by-8 tables: table[0] is the classic byte-at-a-time table, table[k]
// advances a byte that sits k bytes further from the end.
struct Tables {
    std::uint32_t t[8][256];
    constexpr Tables() : t{} {
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int b = 0; b < 8; ++b)
                c = (c & 1) ? (c >> 1) ^ k_poly : c >> 1;
            t[0][i] = c;
        }
        for (std::uint32_t i = 0; i < 256; ++i)
            for (int k = 1; k < 8; ++k)
                t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    }
};
constexpr Tables k_tables;

std::uint32_t update_table(std::uint32_t crc, const unsigned char* p, std::size_t n) {
    const auto& t = k_tables.t;
    while (n >= 8) {
        // Bytes in memory order, least significant first (the CRC is reflected).
        std::uint32_t lo = (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                            std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24) ^
                           crc;
        std::uint32_t hi = std::uint32_t{p[4]} | std::uint32_t{p[5]} << 8 |
                           std::uint32_t{p[6]} << 16 | std::uint32_t{p[7]} << 24;
        crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
              t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
    return crc;
}

#ifdef DE_CRC32C_X86
__attribute__((target("sse4.2"))) std::uint32_t update_sse42(std::uint32_t crc,
                                                             const unsigned char* p,
                                                             std::size_t n) {
    std::uint64_t c = crc;
    while (n >= 8) {
        std::uint64_t v = 0;
        std::memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<std::uint32_t>(c);
    while (n--)
        c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}

bool have_sse42() {
    static const bool yes = __builtin_cpu_supports("sse4.2");
    return yes;
}
#endif

}  // namespace

std::uint32_t detail::crc32c_portable(std::string_view data) {
    return ~update_table(0xFFFFFFFFu, reinterpret_cast<const unsigned char*>(data.data()),
                         data.size());
}

bool crc32c_hardware() {
#ifdef DE_CRC32C_X86
    return have_sse42();
#else
    return false;
#endif
}

void Crc32c::update(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
#ifdef DE_CRC32C_X86
    if (have_sse42()) {
        m_state = update_sse42(m_state, p, n);
        return;
    }
#endif
    m_state = update_table(m_state, p, n);
}

std::array<std::uint8_t, 4> Crc32c::bytes() const {
    std::uint32_t v = value();
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

std::uint32_t crc32c(std::string_view data) {
    Crc32c c;
    c.update(data);
    return c.value();
}

}  // namespace de

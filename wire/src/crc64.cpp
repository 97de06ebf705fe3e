#include <de/crc64.hpp>
#include <de/sha256.hpp>  // base64_encode / base64_decode

#include <isa-l/crc64.h>

#include <array>

namespace de {

namespace {

constexpr std::uint64_t k_poly_reflected = 0xC96C5795D7870F42ull;  // ECMA-182, bit-reversed

// Multiplies two polynomials modulo the CRC's polynomial, both reflected
// (bit 63 is x^0). Used only by combine: at most 64 iterations a call.
std::uint64_t gf2_multiply(std::uint64_t a, std::uint64_t b) {
    std::uint64_t product = 0;
    // a's bit for x^0 is bit 63; each step multiplies b by x.
    for (std::uint64_t m = 1ull << 63; m != 0; m >>= 1) {
        if (a & m) product ^= b;
        b = (b & 1) ? (b >> 1) ^ k_poly_reflected : b >> 1;
    }
    return product;
}

// x^(8·n) modulo the polynomial, reflected: squares of x^8, x^16, x^32, ...
std::uint64_t x_pow_8n(std::uint64_t n) {
    std::uint64_t result = 1ull << 63;        // x^0
    std::uint64_t square = 1ull << (63 - 8);  // x^8
    while (n != 0) {
        if (n & 1) result = gf2_multiply(result, square);
        square = gf2_multiply(square, square);
        n >>= 1;
    }
    return result;
}

}  // namespace

void Crc64::update(const void* data, std::size_t n) {
    m_crc = crc64_update(m_crc, data, n);
}

std::uint64_t crc64_update(std::uint64_t crc, const void* data, std::size_t n) {
    if (n == 0) return crc;
    return ::crc64_ecma_refl(crc, static_cast<const unsigned char*>(data), n);
}

std::uint64_t crc64(std::string_view data) {
    return crc64_update(0, data.data(), data.size());
}

std::uint64_t crc64_combine(std::uint64_t crc_a, std::uint64_t crc_b, std::uint64_t len_b) {
    if (len_b == 0) return crc_a;
    // With pre- and post-inversion, crc(A‖B) = crc(A)·x^(8|B|) ⊕ crc(B) ⊕ crc(0^|B|)
    // ⊕ ... which reduces to shifting crc(A) through |B| zero bytes of the bare
    // (uninverted) register: crc(A‖B) = shift(crc(A)) ⊕ crc(B), where shift
    // multiplies by x^(8|B|) modulo the polynomial.
    return gf2_multiply(x_pow_8n(len_b), crc_a) ^ crc_b;
}

std::string crc64_base64(std::uint64_t crc) {
    std::array<std::uint8_t, 8> b{};
    for (int i = 0; i < 8; ++i)
        b[i] = static_cast<std::uint8_t>(crc >> (56 - 8 * i));
    return base64_encode(b);
}

std::optional<std::uint64_t> crc64_from_base64(std::string_view b64) {
    std::string raw;
    if (b64.size() != 12 || !base64_decode(b64, raw) || raw.size() != 8) return std::nullopt;
    std::uint64_t v = 0;
    for (unsigned char c : raw)
        v = v << 8 | c;
    return v;
}

std::string crc64_hex(std::uint64_t crc) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, crc >>= 4)
        out[static_cast<std::size_t>(i)] = k_digits[crc & 0xF];
    return out;
}

std::optional<std::uint64_t> crc64_from_hex(std::string_view hex) {
    if (hex.size() != 16) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : hex) {
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return std::nullopt;
        v = v << 4 | static_cast<std::uint64_t>(d);
    }
    return v;
}

std::uint64_t detail::crc64_portable(std::uint64_t crc, std::string_view data) {
    std::uint64_t r = ~crc;
    for (unsigned char c : data) {
        r ^= c;
        for (int b = 0; b < 8; ++b)
            r = (r & 1) ? (r >> 1) ^ k_poly_reflected : r >> 1;
    }
    return ~r;
}

}  // namespace de

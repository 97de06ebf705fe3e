#include <de/text.hpp>

#include <charconv>

namespace de {

namespace {
std::string_view trim_of(std::string_view text, std::string_view set) {
    auto first = text.find_first_not_of(set);
    if (first == std::string_view::npos) return {};
    auto last = text.find_last_not_of(set);
    return text.substr(first, last - first + 1);
}
}  // namespace

std::string_view trim_ows(std::string_view text) {
    return trim_of(text, " \t");
}

std::string_view trim_space(std::string_view text) {
    return trim_of(text, " \t\r\n");
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

void percent_encode_to(std::string& out, std::string_view text) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    for (unsigned char c : text) {
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(k_hex[c >> 4]);
            out.push_back(k_hex[c & 15]);
        }
    }
}

std::optional<std::uint64_t> parse_decimal_u64(std::string_view text) {
    if (text.empty()) return std::nullopt;
    for (char c : text)
        if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace de

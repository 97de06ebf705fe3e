#include <de/size.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace de {

namespace {
struct Unit {
    std::string_view name;
    std::uint64_t factor;
};
constexpr std::uint64_t k_ki = 1024;
constexpr std::array k_units{
    Unit{"", 1},
    Unit{"b", 1},
    Unit{"k", k_ki},
    Unit{"kib", k_ki},
    Unit{"kb", 1000},
    Unit{"m", k_ki * k_ki},
    Unit{"mib", k_ki * k_ki},
    Unit{"mb", 1000 * 1000},
    Unit{"g", k_ki * k_ki * k_ki},
    Unit{"gib", k_ki * k_ki * k_ki},
    Unit{"gb", 1000ull * 1000 * 1000},
    Unit{"t", k_ki * k_ki * k_ki * k_ki},
    Unit{"tib", k_ki * k_ki * k_ki * k_ki},
    Unit{"tb", 1000ull * 1000 * 1000 * 1000},
};
}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
    auto bad = [&] {
        return fail(ErrorKind::usage,
                    fmt::format("invalid size '{}': use a number with an optional unit, "
                                "e.g. 4096, 500MiB, 25GB",
                                text));
    };
    std::string_view s = text;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    std::size_t num_end = 0;
    while (num_end < s.size() &&
           (std::isdigit(static_cast<unsigned char>(s[num_end])) || s[num_end] == '.'))
        ++num_end;
    if (num_end == 0) return bad();
    std::string_view number = s.substr(0, num_end);
    std::string_view unit_text = s.substr(num_end);
    while (!unit_text.empty() && unit_text.front() == ' ') unit_text.remove_prefix(1);
    std::string unit(unit_text);
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const Unit* found = nullptr;
    for (const auto& u : k_units)
        if (u.name == unit) found = &u;
    if (!found) return bad();

    if (number.find('.') == std::string_view::npos) {
        std::uint64_t value = 0;
        auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
        if (ec != std::errc{} || ptr != number.data() + number.size()) return bad();
        if (value > std::numeric_limits<std::uint64_t>::max() / found->factor) return bad();
        return value * found->factor;
    }
    double value = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc{} || ptr != number.data() + number.size() || value < 0) return bad();
    long double bytes = static_cast<long double>(value) * found->factor;
    if (bytes >= 18446744073709551615.0L) return bad();
    return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_size(std::uint64_t bytes) {
    static constexpr std::array<std::string_view, 6> k_names{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return fmt::format("{} B", bytes);
    double value = static_cast<double>(bytes);
    std::size_t i = 0;
    while (value >= 1024 && i + 1 < k_names.size()) {
        value /= 1024;
        ++i;
    }
    return fmt::format("{:.1f} {}", value, k_names[i]);
}

}  // namespace de

#pragma once
// Small text helpers that both ends parse with (HTTP header values, tus and
// config values): one definition, so the client and the server agree on what
// white space and a decimal number are. ASCII only, locale-free.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace de {

// Without leading and trailing spaces and tabs (HTTP's optional white space).
std::string_view trim_ows(std::string_view text);
// Without leading and trailing spaces, tabs, CRs and LFs.
std::string_view trim_space(std::string_view text);
// ASCII letters lower-cased; every other byte as it is.
std::string ascii_lower(std::string_view text);
// A non-negative decimal: digits only (no sign, no spaces), no overflow.
std::optional<std::uint64_t> parse_decimal_u64(std::string_view text);
// RFC 3986 percent-encoding, appended to `out`: every byte but the unreserved
// characters (ASCII letters, digits, - . _ ~) becomes %XX (upper-case hex).
void percent_encode_to(std::string& out, std::string_view text);

}  // namespace de

#pragma once
// Timestamps as text: RFC 3339 in UTC with nanoseconds
// ("2026-12-06T11:32:53.123456789Z"), the one form every --json document and
// plan file uses (docs/json.md). Lossless for nanosecond mtimes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace de {

// ns since the Unix epoch -> "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (9 fraction digits).
std::string format_rfc3339_ns(std::int64_t ns);
// Whole seconds -> "YYYY-MM-DDTHH:MM:SSZ".
std::string format_rfc3339_s(std::int64_t seconds);
// Parses what the two above write, plus any fraction length (0-9 digits) and a
// "+HH:MM"/"-HH:MM" offset; nullopt when malformed.
std::optional<std::int64_t> parse_rfc3339_ns(std::string_view text);

}  // namespace de

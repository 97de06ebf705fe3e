#pragma once
// File names in JSON, both ends (docs/api.md, "Names that are not UTF-8").
//
// A name on Linux is any bytes but '/' and NUL; JSON strings are UTF-8. A
// name field whose value is valid UTF-8 is sent as it is. One that is not is
// sent in its percent form, with a sibling field saying so:
//
//     {"path": "data/caf%E9.csv", "path_encoding": "percent"}
//
// The percent form writes '%' as "%25" and every byte that is not part of a
// well-formed UTF-8 sequence as "%XX" (upper-case hex); everything else stays
// as it is, so the form is valid UTF-8 and decodes back to the same bytes.
// A reader decodes "%XX" (either case) when `<key>_encoding` is "percent".
//
// Everything here is a pure function of its arguments (no I/O, no locale):
// the fuzz target of the name JSON calls these directly.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace de {

inline constexpr std::string_view k_name_encoding_suffix = "_encoding";
inline constexpr std::string_view k_name_encoding_percent = "percent";

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
// above U+10FFFF, no truncated sequence.
bool is_utf8(std::string_view text);

// The percent form described above (valid UTF-8 for any input).
std::string name_to_percent(std::string_view name);
// Its inverse: every "%XX" becomes that byte; nullopt when a '%' is not
// followed by two hex digits.
std::optional<std::string> name_from_percent(std::string_view text);

// j[key] = name, or its percent form and j[key + "_encoding"] = "percent"
// when name is not valid UTF-8. j must be an object (or null: it becomes one).
void put_name(nlohmann::json& j, std::string_view key, std::string_view name);
// A name field read back: nullopt when j is not an object, j[key] is missing
// or not a string, `<key>_encoding` is present but neither null nor
// "percent", or the percent form is malformed.
std::optional<std::string> get_name(const nlohmann::json& j, std::string_view key);
// A name as a JSON value on its own (an array element): the string when it
// is valid UTF-8, else {"name": percent form, "name_encoding": "percent"}.
nlohmann::json name_value(std::string_view name);
// The inverse of name_value; nullopt for anything else.
std::optional<std::string> name_from_value(const nlohmann::json& v);

// For people (terminal lines, messages): the name as it is when it is valid
// UTF-8 without control characters; otherwise each invalid byte and each
// control character (0x00-0x1f, 0x7f) is written "\xHH" and a backslash "\\",
// so the line stays one line, prints on any terminal and shows the bytes.
std::string display_name(std::string_view name);

// j.dump() that never throws: a string that is not UTF-8 (a name that
// escaped the encoding above, a message quoting one) gets U+FFFD for its bad
// bytes instead of a type_error that would drop the answer. indent as dump's;
// ensure_ascii writes \uXXXX for everything above 0x7f (HTTP header values).
std::string dump_json(const nlohmann::json& j, int indent = -1, bool ensure_ascii = false);

}  // namespace de

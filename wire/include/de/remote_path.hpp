#pragma once
// Remote paths name files inside an app's mount. Both ends check them with the
// same lexical rules; the server then resolves them beneath the mount with
// openat2(RESOLVE_BENEATH), which also catches symlinks that point outside.
//
// Normal form: components joined by '/', no leading or trailing '/', no '.'
// or empty components; the mount root is the empty string.

#include <de/error.hpp>

#include <string>
#include <string_view>

namespace de {

inline constexpr std::size_t k_max_path_bytes = 4096;
inline constexpr std::size_t k_max_name_bytes = 255;

// Refuses '..', NUL and control characters, over-long names and paths. A
// leading '/' means the mount root, not the host's.
Result<std::string> normalize_remote_path(std::string_view path);
// A remote path a user typed for app: normalized, or an ErrorKind::usage
// error whose message names the app.
Result<std::string> normalize_remote_arg(std::string_view path, std::string_view app);

// "a/b/c" -> "a/b"; "c" -> "".
std::string_view parent_path(std::string_view normalized);
// "a/b/c" -> "c".
std::string_view base_name(std::string_view normalized);
// Joins two normalized paths (either may be empty).
std::string join_path(std::string_view a, std::string_view b);

}  // namespace de

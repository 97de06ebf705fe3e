#pragma once
// How the upload and download planners (upload_plan.cpp, download_plan.cpp)
// name things in their messages, so both say it the same way.

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace de::detail {

// "app:/path": a remote file as messages name it.
inline std::string remote_display(std::string_view app, std::string_view path) {
    return fmt::format("{}:/{}", app, path);
}

// "a, b, c, d, e and 3 more": the first `max` names, then how many more.
inline std::string list_some(const std::vector<std::string>& names, std::size_t max = 5) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < max; ++i) {
        if (i) out += ", ";
        out += names[i];
    }
    if (names.size() > max) out += fmt::format(" and {} more", names.size() - max);
    return out;
}

}  // namespace de::detail

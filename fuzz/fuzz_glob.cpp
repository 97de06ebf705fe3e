// The include/exclude glob matcher: pattern and path are the input split at
// its first NUL. glob_match runs in time linear in the path (libFuzzer's
// timeout catches a blow-up). Invariants: "*" and "**" match every last
// component; a path whose every byte is escaped, anchored with '/', matches
// itself; a pattern matches a path only if the same pattern, anchored the same
// way, is tried on a component or the whole; PathFilter never accepts a file
// its excludes name.
#include "fuzz_check.hpp"

#include <de/glob.hpp>

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto nul = in.find('\0');
    std::string_view pattern = in.substr(0, nul);
    std::string_view path = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);

    bool m = de::glob_match(pattern, path);
    (void)m;
    FUZZ_CHECK(de::glob_match("*", path));
    FUZZ_CHECK(de::glob_match("**", path));
    if (!path.empty() && path.back() != '/') {
        std::string literal = "/";
        for (char c : path) {
            if (c != '/') literal += '\\';
            literal += c;
        }
        FUZZ_CHECK(de::glob_match(literal, path));
        FUZZ_CHECK(de::glob_match("/**", path));
    }

    de::PathFilter filter({}, {std::string(pattern)});
    if (de::glob_match(pattern, path)) FUZZ_CHECK(!filter.accepts_file(path));
    de::PathFilter only({std::string(pattern)}, {});
    FUZZ_CHECK(only.accepts_file(path) == de::glob_match(pattern, path));
    return 0;
}

// normalize_remote_path / normalize_remote_arg on any bytes. A normalised path
// never holds an empty, "." or ".." component, a control character or a NUL,
// has no leading or trailing '/', keeps within the length limits, and
// normalises to itself; parent_path/base_name/join_path take it apart and put
// it back together.
#include "fuzz_check.hpp"

#include <de/remote_path.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace {
void check_normal(const std::string& p) {
    FUZZ_CHECK(p.size() <= de::k_max_path_bytes);
    if (p.empty()) return;
    FUZZ_CHECK(p.front() != '/' && p.back() != '/');
    std::string_view rest = p;
    while (true) {
        auto slash = rest.find('/');
        std::string_view c = rest.substr(0, slash);
        FUZZ_CHECK(!c.empty() && c != "." && c != "..");
        FUZZ_CHECK(c.size() <= de::k_max_name_bytes);
        for (char ch : c)
            FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f);
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    auto again = de::normalize_remote_path(p);
    FUZZ_CHECK(again && *again == p);
    auto parent = de::parent_path(p);
    auto base = de::base_name(p);
    FUZZ_CHECK(!base.empty() && base.find('/') == std::string_view::npos);
    FUZZ_CHECK(de::join_path(parent, base) == p);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto p = de::normalize_remote_path(in)) check_normal(*p);
    if (auto p = de::normalize_remote_arg(in, "app")) check_normal(*p);
    return 0;
}

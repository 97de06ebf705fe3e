#include <de/remote_path.hpp>

#include <fmt/format.h>

namespace de {

Result<std::string> normalize_remote_path(std::string_view path) {
    auto bad = [&](std::string_view why) {
        return fail(ErrorKind::usage,
                    fmt::format("invalid remote path '{}': {}", fmt::format("{:.200}", path), why));
    };
    if (path.size() > k_max_path_bytes) return bad("longer than 4096 bytes");
    for (unsigned char c : path) {
        if (c == 0) return bad("contains a NUL byte");
        if (c < 0x20 || c == 0x7f) return bad("contains a control character");
    }
    std::string out;
    out.reserve(path.size());
    std::size_t i = 0;
    while (i <= path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view name = path.substr(i, j - i);
        i = j + 1;
        if (name.empty() || name == ".") continue;
        if (name == "..") return bad("'..' is not allowed; paths stay inside the mount");
        if (name.size() > k_max_name_bytes) return bad("a name is longer than 255 bytes");
        if (!out.empty()) out.push_back('/');
        out.append(name);
    }
    return out;
}

std::string_view parent_path(std::string_view p) {
    auto slash = p.rfind('/');
    return slash == std::string_view::npos ? std::string_view{} : p.substr(0, slash);
}

std::string_view base_name(std::string_view p) {
    auto slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string join_path(std::string_view a, std::string_view b) {
    if (a.empty()) return std::string(b);
    if (b.empty()) return std::string(a);
    std::string out(a);
    out.push_back('/');
    out.append(b);
    return out;
}

Result<std::string> normalize_remote_arg(std::string_view path, std::string_view app) {
    auto normalized = normalize_remote_path(path);
    if (!normalized) {
        Error e = std::move(normalized.error());
        e.kind = ErrorKind::usage;
        e.message = fmt::format("{} (app '{}')", e.message, app);
        return std::unexpected(std::move(e));
    }
    return normalized;
}

}  // namespace de

// See dav_props.hpp.
#include "dav_props.hpp"

#include <sys/xattr.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>

namespace de::server::dav {

namespace {
using api::WireError;
using nlohmann::json;

// The attribute's raw value ("" when absent or unreadable).
std::string read_attr(int fd) {
    std::string value;
    for (int attempt = 0; attempt < 3; ++attempt) {
        ssize_t n = ::fgetxattr(fd, k_dead_props_xattr, nullptr, 0);
        if (n <= 0) return {};
        value.resize(static_cast<std::size_t>(n));
        n = ::fgetxattr(fd, k_dead_props_xattr, value.data(), value.size());
        if (n >= 0) {
            value.resize(static_cast<std::size_t>(n));
            return value;
        }
        if (errno != ERANGE) return {};  // ERANGE: it grew in between; ask again
    }
    return {};
}
}  // namespace

std::vector<DeadProp> load_dead_props(int fd) {
    std::vector<DeadProp> out;
    std::string raw = read_attr(fd);
    if (raw.empty()) return out;
    json j = json::parse(raw, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& item : j) {
        // [ns, name, value] or [ns, name, value, xml:lang].
        if (!item.is_array() || item.size() < 3 || item.size() > 4) return {};
        for (const auto& field : item)
            if (!field.is_string()) return {};
        out.push_back(DeadProp{item[0].get<std::string>(), item[1].get<std::string>(),
                               item[2].get<std::string>(),
                               item.size() == 4 ? item[3].get<std::string>() : std::string()});
    }
    return out;
}

ApiResult<void> store_dead_props(int fd, const std::vector<DeadProp>& props) {
    if (props.empty()) {
        if (::fremovexattr(fd, k_dead_props_xattr) != 0 && errno != ENODATA && errno != ENOTSUP)
            return api_fail(WireError::internal,
                            std::string("cannot remove the properties: ") + std::strerror(errno));
        return {};
    }
    json j = json::array();
    for (const auto& p : props)
        j.push_back(p.xml_lang.empty() ? json::array({p.ns, p.name, p.value_xml})
                                       : json::array({p.ns, p.name, p.value_xml, p.xml_lang}));
    std::string raw = j.dump();
    if (raw.size() > k_dead_props_max)
        return api_fail(WireError::quota_exceeded,
                        "the properties of one file are limited to 64 KiB in all");
    if (::fsetxattr(fd, k_dead_props_xattr, raw.data(), raw.size(), 0) != 0) {
        int err = errno;
        if (err == ENOTSUP)
            return api_fail(WireError::forbidden,
                            "the server's file system keeps no extended attributes, so no "
                            "properties can be set");
        if (err == ENOSPC || err == E2BIG || err == EDQUOT)
            return api_fail(WireError::quota_exceeded,
                            "no room for these properties on the file (its attributes are full)");
        return api_fail(WireError::internal,
                        std::string("cannot store the properties: ") + std::strerror(err));
    }
    return {};
}

void copy_dead_props(int src_fd, int dst_fd) {
    std::string raw = read_attr(src_fd);
    if (!raw.empty()) (void)::fsetxattr(dst_fd, k_dead_props_xattr, raw.data(), raw.size(), 0);
}

}  // namespace de::server::dav

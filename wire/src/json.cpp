#include <de/json.hpp>
#include <de/name_json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace de {

using nlohmann::json;

namespace {
// A whole-number member that fits T. json's own get<T>() converts a float
// (1e30) with a cast that is undefined out of range, and wraps a negative
// number into an unsigned one; a bad answer is a json::type_error instead,
// which the client reports as a malformed answer.
template <class T>
void get_whole(const json& j, const char* key, T& out) {
    const json& v = j.at(key);
    bool fits = false;
    if (v.is_number_unsigned()) {
        fits = v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    } else if (v.is_number_integer()) {
        auto s = v.get<std::int64_t>();
        fits = std::is_signed_v<T> ? s >= static_cast<std::int64_t>(std::numeric_limits<T>::min())
                                   : s >= 0;
    }
    if (!fits)
        throw json::type_error::create(
            302, std::string("'") + key + "' must be a whole number in range", &v);
    out = v.get<T>();
}
}  // namespace

void to_json(json& j, const UserInfo& v) {
    j = json{{"username", v.username}};
}
void from_json(const json& j, UserInfo& v) {
    j.at("username").get_to(v.username);
}

void to_json(json& j, const LoginToken& v) {
    j = json{{"token", v.token}, {"username", v.username}, {"expires_at", v.expires_at}};
}
void from_json(const json& j, LoginToken& v) {
    j.at("token").get_to(v.token);
    j.at("username").get_to(v.username);
    get_whole(j, "expires_at", v.expires_at);
}

void to_json(json& j, const App& v) {
    j = json{{"name", v.name},
             {"owner", v.owner},
             {"created_at", v.created_at},
             {"persistent_filesystem", v.persistent_filesystem}};
}
void from_json(const json& j, App& v) {
    j.at("name").get_to(v.name);
    j.at("owner").get_to(v.owner);
    get_whole(j, "created_at", v.created_at);
    j.at("persistent_filesystem").get_to(v.persistent_filesystem);
}

void to_json(json& j, const MountStatus& v) {
    j = json{{"app", v.app},
             {"enabled", v.enabled},
             {"used_bytes", v.used_bytes},
             {"quota_bytes", v.quota_bytes},
             {"file_count", v.file_count},
             {"storage_class", v.storage_class},
             {"reserved_bytes", v.reserved_bytes},
             {"entries", v.entries},
             {"max_entries", v.max_entries}};
}
void from_json(const json& j, MountStatus& v) {
    j.at("app").get_to(v.app);
    j.at("enabled").get_to(v.enabled);
    get_whole(j, "used_bytes", v.used_bytes);
    get_whole(j, "quota_bytes", v.quota_bytes);
    get_whole(j, "file_count", v.file_count);
    j.at("storage_class").get_to(v.storage_class);
    v.reserved_bytes = 0;
    if (j.contains("reserved_bytes")) get_whole(j, "reserved_bytes", v.reserved_bytes);
    v.entries = 0;
    if (j.contains("entries")) get_whole(j, "entries", v.entries);
    v.max_entries = 0;
    if (j.contains("max_entries")) get_whole(j, "max_entries", v.max_entries);
}

void to_json(json& j, const Entry& v) {
    j = json::object();
    put_name(j, "path", v.path);  // percent form when not UTF-8 (de/name_json.hpp)
    j["type"] = v.type == EntryType::dir ? "dir" : "file";
    j["size"] = v.size;
    j["mtime_ns"] = v.mtime_ns;
    if (v.sha256) j["sha256"] = *v.sha256;
}
void from_json(const json& j, Entry& v) {
    auto path = get_name(j, "path");
    if (!path) {
        j.at("path").get<std::string>();  // throws when missing or not a string
        throw json::other_error::create(501, "malformed path_encoding or percent form", &j);
    }
    v.path = std::move(*path);
    v.type = j.at("type").get<std::string>() == "dir" ? EntryType::dir : EntryType::file;
    get_whole(j, "size", v.size);
    get_whole(j, "mtime_ns", v.mtime_ns);
    if (auto it = j.find("sha256"); it != j.end() && it->is_string())
        v.sha256 = it->get<std::string>();
    else
        v.sha256.reset();
}

void to_json(json& j, const SyncLease& v) {
    j = json{{"id", v.id}, {"holder", v.holder}, {"since", v.since}, {"expires", v.expires}};
}
void from_json(const json& j, SyncLease& v) {
    j.at("id").get_to(v.id);
    j.at("holder").get_to(v.holder);
    get_whole(j, "since", v.since);
    get_whole(j, "expires", v.expires);
}

}  // namespace de

#include <de/json.hpp>

namespace de {

using nlohmann::json;

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
    j.at("expires_at").get_to(v.expires_at);
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
    j.at("created_at").get_to(v.created_at);
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
    j.at("used_bytes").get_to(v.used_bytes);
    j.at("quota_bytes").get_to(v.quota_bytes);
    j.at("file_count").get_to(v.file_count);
    j.at("storage_class").get_to(v.storage_class);
    v.reserved_bytes = j.value("reserved_bytes", std::uint64_t{0});
    v.entries = j.value("entries", std::uint64_t{0});
    v.max_entries = j.value("max_entries", std::uint64_t{0});
}

void to_json(json& j, const Entry& v) {
    j = json{{"path", v.path},
             {"type", v.type == EntryType::dir ? "dir" : "file"},
             {"size", v.size},
             {"mtime_ns", v.mtime_ns}};
    if (v.sha256) j["sha256"] = *v.sha256;
}
void from_json(const json& j, Entry& v) {
    j.at("path").get_to(v.path);
    v.type = j.at("type").get<std::string>() == "dir" ? EntryType::dir : EntryType::file;
    j.at("size").get_to(v.size);
    j.at("mtime_ns").get_to(v.mtime_ns);
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
    j.at("since").get_to(v.since);
    j.at("expires").get_to(v.expires);
}

}  // namespace de

#pragma once
// JSON (de)serialisation of de/types.hpp, shared by the server and the client.

#include <de/types.hpp>

#include <nlohmann/json.hpp>

namespace de {

void to_json(nlohmann::json& j, const UserInfo& v);
void from_json(const nlohmann::json& j, UserInfo& v);
void to_json(nlohmann::json& j, const LoginToken& v);
void from_json(const nlohmann::json& j, LoginToken& v);
void to_json(nlohmann::json& j, const App& v);
void from_json(const nlohmann::json& j, App& v);
void to_json(nlohmann::json& j, const MountStatus& v);
void from_json(const nlohmann::json& j, MountStatus& v);
void to_json(nlohmann::json& j, const Entry& v);
void from_json(const nlohmann::json& j, Entry& v);
void to_json(nlohmann::json& j, const SyncLease& v);
void from_json(const nlohmann::json& j, SyncLease& v);

}  // namespace de

// See users.hpp. Comparisons of hashes use CRYPTO_memcmp so timing says nothing
// about how much of a key matched.
#include "users.hpp"

#include "file_lock.hpp"
#include "fs.hpp"

#include <de/sha256.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>

namespace de::server {

namespace {
using nlohmann::json;

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool same_hash(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Reads one of the JSON files and hands its list `key` to `add`, entry by
// entry. A missing file is an empty map; one that does not parse (or lacks a
// field `add` reads) is reported as damaged.
template <class Map, class Add>
Result<Map> load_json_map(const std::filesystem::path& path, const char* key, Add add) {
    Map out;
    auto text = read_small_file(path);
    if (!text) {
        if (text.error().kind == ErrorKind::not_found) return out;
        return std::unexpected(text.error());
    }
    try {
        auto j = json::parse(*text);
        for (const auto& item : j.at(key))
            add(out, item);
    } catch (const std::exception& e) {
        return fail(ErrorKind::generic,
                    fmt::format("'{}' is damaged: {}", path.string(), e.what()));
    }
    return out;
}

}  // namespace

bool valid_username(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(name.front())) return false;
    for (char c : name)
        if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

UserStore::UserStore(std::filesystem::path root) : m_root(std::move(root)) {}

Result<std::map<std::string, std::string>> UserStore::load_users_file() {
    return load_json_map<std::map<std::string, std::string>>(
        m_root / "users.json", "users", [](auto& out, const json& u) {
            out[u.at("name").get<std::string>()] = u.at("key_sha256").get<std::string>();
        });
}

Result<std::map<std::string, UserStore::TokenRecord>> UserStore::load_tokens_file() {
    return load_json_map<std::map<std::string, TokenRecord>>(
        m_root / "tokens.json", "tokens", [](auto& out, const json& t) {
            out[t.at("sha256").get<std::string>()] = TokenRecord{
                t.at("username").get<std::string>(), t.at("expires_at").get<std::int64_t>()};
        });
}

Status UserStore::save_users(const std::map<std::string, std::string>& users) {
    json arr = json::array();
    for (const auto& [name, hash] : users)
        arr.push_back({{"name", name}, {"key_sha256", hash}});
    return write_file_atomic(m_root / "users.json", json{{"users", arr}}.dump(2) + "\n", 0600);
}

Status UserStore::save_tokens(const std::map<std::string, TokenRecord>& tokens) {
    json arr = json::array();
    auto now = now_s();
    for (const auto& [hash, rec] : tokens) {
        if (rec.expires_at <= now) continue;  // expired tokens are dropped on every write
        arr.push_back(
            {{"sha256", hash}, {"username", rec.username}, {"expires_at", rec.expires_at}});
    }
    return write_file_atomic(m_root / "tokens.json", json{{"tokens", arr}}.dump(2) + "\n", 0600);
}

Status UserStore::refresh_locked() {
    auto stamp_of = [](const std::filesystem::path& p) {
        FileStamp s;
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) s = {st.st_dev, st.st_ino, st.st_size, mtime_ns_of(st)};
        return s;
    };
    auto us = stamp_of(m_root / "users.json");
    if (!(us == m_users_stamp)) {
        auto users = load_users_file();
        if (!users) return std::unexpected(users.error());
        m_users = std::move(*users);
        m_users_stamp = us;
    }
    auto ts = stamp_of(m_root / "tokens.json");
    if (!(ts == m_tokens_stamp)) {
        auto tokens = load_tokens_file();
        if (!tokens) return std::unexpected(tokens.error());
        m_tokens = std::move(*tokens);
        m_tokens_stamp = ts;
    }
    return {};
}

Result<std::string> UserStore::add_user(std::string_view name) {
    if (!valid_username(name))
        return fail(ErrorKind::usage,
                    fmt::format("invalid user name '{:.64}': use 1-64 letters, digits, '.', '_' "
                                "or '-', starting with a letter or digit",
                                name));
    std::lock_guard guard(m_mutex);
    auto lock = FileLock::take(m_root / ".users.lock");
    if (!lock) return std::unexpected(lock.error());
    auto users = load_users_file();
    if (!users) return std::unexpected(users.error());
    if (users->contains(std::string(name)))
        return fail(ErrorKind::conflict, fmt::format("user '{}' exists already", name));
    std::string key = random_hex(32);
    (*users)[std::string(name)] = sha256_hex(key);
    if (auto s = save_users(*users); !s) return std::unexpected(s.error());
    return key;
}

Result<std::vector<std::string>> UserStore::list_users() {
    std::lock_guard guard(m_mutex);
    auto users = load_users_file();
    if (!users) return std::unexpected(users.error());
    std::vector<std::string> out;
    for (const auto& [name, hash] : *users)
        out.push_back(name);
    return out;
}

Status UserStore::remove_user(std::string_view name) {
    std::lock_guard guard(m_mutex);
    auto lock = FileLock::take(m_root / ".users.lock");
    if (!lock) return std::unexpected(lock.error());
    auto users = load_users_file();
    if (!users) return std::unexpected(users.error());
    if (users->erase(std::string(name)) == 0)
        return fail(ErrorKind::not_found, fmt::format("no user '{:.64}'", name));
    if (auto s = save_users(*users); !s) return s;
    auto tokens = load_tokens_file();
    if (!tokens) return std::unexpected(tokens.error());
    std::erase_if(*tokens, [&](const auto& kv) { return kv.second.username == name; });
    return save_tokens(*tokens);
}

std::optional<std::string> UserStore::check_key(std::string_view username, std::string_view key) {
    std::lock_guard guard(m_mutex);
    if (!refresh_locked()) return std::nullopt;
    auto it = m_users.find(std::string(username));
    // Hash anyway so an unknown user costs the same as a wrong key.
    std::string hash = sha256_hex(key);
    if (it == m_users.end() || !same_hash(it->second, hash)) return std::nullopt;
    return it->first;
}

std::optional<std::string> UserStore::check_token(std::string_view token) {
    std::lock_guard guard(m_mutex);
    if (!refresh_locked()) return std::nullopt;
    auto it = m_tokens.find(sha256_hex(token));
    if (it == m_tokens.end() || it->second.expires_at <= now_s()) return std::nullopt;
    if (!m_users.contains(it->second.username)) return std::nullopt;
    return it->second.username;
}

Result<LoginToken> UserStore::issue_token(std::string_view username) {
    std::lock_guard guard(m_mutex);
    auto lock = FileLock::take(m_root / ".users.lock");
    if (!lock) return std::unexpected(lock.error());
    auto tokens = load_tokens_file();
    if (!tokens) return std::unexpected(tokens.error());
    LoginToken t;
    t.token = random_hex(32);
    t.username = std::string(username);
    t.expires_at = now_s() + k_token_lifetime_s;
    (*tokens)[sha256_hex(t.token)] = TokenRecord{t.username, t.expires_at};
    if (auto s = save_tokens(*tokens); !s) return std::unexpected(s.error());
    m_tokens_stamp = {};  // re-read on the next check
    return t;
}

Status UserStore::revoke_token(std::string_view token) {
    std::lock_guard guard(m_mutex);
    auto lock = FileLock::take(m_root / ".users.lock");
    if (!lock) return std::unexpected(lock.error());
    auto tokens = load_tokens_file();
    if (!tokens) return std::unexpected(tokens.error());
    tokens->erase(sha256_hex(token));
    if (auto s = save_tokens(*tokens); !s) return s;
    m_tokens_stamp = {};
    return {};
}

}  // namespace de::server

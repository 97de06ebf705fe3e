#pragma once
// Users, API keys and bearer tokens. Only SHA-256 hashes of keys and tokens are
// stored (<root>/users.json, <root>/tokens.json, both 0600, written whole).
// `de-server user add` and other replicas on the same root may change them
// while this server runs, so every check re-reads users.json and tokens.json
// whenever their inode, size or mtime changed (they are replaced by rename,
// so a revoked token is refused by every replica at its next request), and
// every read-modify-write holds the OFD lock of <root>/.users.lock
// (file_lock.hpp).

#include <de/error.hpp>
#include <de/types.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de::server {

// 1-64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit.
bool valid_username(std::string_view name);

class UserStore {
  public:
    explicit UserStore(std::filesystem::path root);

    // Creates the user and returns its API key (shown once, stored hashed).
    Result<std::string> add_user(std::string_view name);
    Result<std::vector<std::string>> list_users();
    // Removes the user and revokes its tokens. Its apps stay on disk.
    Status remove_user(std::string_view name);

    // The username when the key matches; nullopt for any kind of mismatch.
    std::optional<std::string> check_key(std::string_view username, std::string_view key);
    std::optional<std::string> check_token(std::string_view token);
    Result<LoginToken> issue_token(std::string_view username);
    Status revoke_token(std::string_view token);

    static constexpr std::int64_t k_token_lifetime_s = 30 * 24 * 3600;

  private:
    struct FileStamp {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = -1;
        std::int64_t mtime_ns = 0;
        bool operator==(const FileStamp&) const = default;
    };
    struct TokenRecord {
        std::string username;
        std::int64_t expires_at = 0;
    };

    Status refresh_locked();
    Result<std::map<std::string, std::string>> load_users_file();
    Result<std::map<std::string, TokenRecord>> load_tokens_file();
    Status save_users(const std::map<std::string, std::string>& users);
    Status save_tokens(const std::map<std::string, TokenRecord>& tokens);

    std::filesystem::path m_root;
    std::mutex m_mutex;
    FileStamp m_users_stamp;
    FileStamp m_tokens_stamp;
    std::map<std::string, std::string> m_users;   // name -> sha256(key)
    std::map<std::string, TokenRecord> m_tokens;  // sha256(token) -> record
};

}  // namespace de::server

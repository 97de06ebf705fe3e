#pragma once
// Layered configuration, ccache style: every effective value remembers where
// it came from (a flag, an environment variable, the keyfile, or the built-in
// default), so `de-cli config` can explain it. Precedence is
// flags > environment > keyfile > defaults, decided in resolve_settings() only.
//
// The keyfile ($XDG_CONFIG_HOME/de-cli/keyfile, JSON) holds one entry per host
// (username + bearer token from login) and the default host (the last one
// logged into). It is written 0600 in a 0700 folder, atomically, and like ssh
// we refuse to read one that group or others can read or write.

#include <de/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace de {

inline constexpr std::string_view k_default_host = "http://127.0.0.1:8050";
inline constexpr std::string_view k_env_host = "DASH_ENTERPRISE_HOST";
inline constexpr std::string_view k_env_username = "DASH_ENTERPRISE_USERNAME";
inline constexpr std::string_view k_env_password = "DASH_ENTERPRISE_PASSWORD";

enum class Origin { unset, default_value, keyfile, environment, flag };
std::string_view to_string(Origin origin);

struct Setting {
    std::string value;
    Origin origin = Origin::unset;
    std::string source;  // "--host", "DASH_ENTERPRISE_HOST", the keyfile's path, ...
    bool is_set() const { return origin != Origin::unset; }
};

struct Settings {
    Setting host;
    Setting username;
    Setting api_key;  // secret: HTTP Basic password (DASH_ENTERPRISE_PASSWORD)
    Setting token;    // secret: bearer token from the keyfile
    Setting ca_path;
    Setting keyfile;  // the keyfile's path (origin: environment when XDG_CONFIG_HOME set it)
};

struct KeyfileEntry {
    std::string username;
    std::string token;  // secret
    std::int64_t expires_at = 0;
    std::int64_t logged_in_at = 0;  // seconds since the epoch; 0 in keyfiles older than it
};

struct Keyfile {
    std::string default_host;
    std::map<std::string, KeyfileEntry> hosts;  // keyed by normalized host URL
};

// "$XDG_CONFIG_HOME/de-cli/keyfile", else "$HOME/.config/de-cli/keyfile".
Result<std::filesystem::path> default_keyfile_path(
    const std::function<std::optional<std::string>(std::string_view)>& getenv);

// An absent keyfile is an empty Keyfile. Refuses group/other permissions
// (ErrorKind::auth, with the chmod that fixes it) and malformed JSON.
Result<Keyfile> read_keyfile(const std::filesystem::path& path);
// Writes atomically (temporary file + rename), mode 0600, folder 0700.
Status write_keyfile(const std::filesystem::path& path, const Keyfile& keyfile);

// "HTTP://Host:8050/" -> "http://host:8050". A bare host ("de.example.com",
// "host:8050", as existing `de` setups set DASH_ENTERPRISE_HOST) means
// https://, except a loopback name (localhost, 127.x.y.z, [::1]), which means
// http:// (a local de-server speaks plain HTTP; TLS on loopback is rare).
// Refuses anything but an http(s) URL with a host (ErrorKind::usage).
Result<std::string> normalize_host(std::string_view url);
// The scheme a bare host gets ("http" for a loopback name, else "https");
// authority is "host", "host:port" or "[v6]:port".
std::string_view default_scheme(std::string_view authority);

// The host that stays the default after `logout` of `removed`: the remaining
// host logged into most recently; with none left, `removed` itself (so a
// later `login` goes back there, and commands say to log in rather than
// quietly trying the built-in default).
std::string default_host_after_logout(const Keyfile& keyfile, const std::string& removed);

struct ConfigInputs {
    std::optional<std::string> flag_host;
    std::optional<std::string> flag_ca_path;
    bool no_keyfile = false;
    std::function<std::optional<std::string>(std::string_view)> getenv;  // empty: ::getenv
    std::optional<std::filesystem::path> keyfile_path;                   // empty: default
};

// Resolves every setting with its origin. Credentials: DASH_ENTERPRISE_USERNAME
// + DASH_ENTERPRISE_PASSWORD (Basic) when both are set; else the keyfile's
// entry for the resolved host (unless no_keyfile).
Result<Settings> resolve_settings(const ConfigInputs& inputs);

}  // namespace de

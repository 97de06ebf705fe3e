// Layered settings with origins, and the keyfile. The keyfile is small JSON,
// rewritten whole through a temporary file and rename so a crash never leaves
// half a keyfile; its mode is checked before any secret in it is used.
#include <de/config.hpp>
#include <de/text.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace de {

namespace fs = std::filesystem;

std::string_view to_string(Origin origin) {
    switch (origin) {
        case Origin::unset:
            return "unset";
        case Origin::default_value:
            return "default";
        case Origin::keyfile:
            return "keyfile";
        case Origin::environment:
            return "environment";
        case Origin::flag:
            return "flag";
    }
    return "unset";
}

namespace {

std::optional<std::string> system_getenv(std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
}

auto env_fn(const ConfigInputs& inputs) {
    return inputs.getenv ? inputs.getenv : std::function(system_getenv);
}

}  // namespace

Result<fs::path> default_keyfile_path(
    const std::function<std::optional<std::string>(std::string_view)>& getenv) {
    auto get = getenv ? getenv : std::function(system_getenv);
    if (auto xdg = get("XDG_CONFIG_HOME"); xdg && fs::path(*xdg).is_absolute())
        return fs::path(*xdg) / "de-cli" / "keyfile";
    if (auto home = get("HOME")) return fs::path(*home) / ".config" / "de-cli" / "keyfile";
    return fail(ErrorKind::generic,
                "cannot find the keyfile: neither XDG_CONFIG_HOME nor HOME is set; set one, or "
                "use --no-keyfile with DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD");
}

Result<std::string> normalize_host(std::string_view url) {
    auto bad = [&](std::string_view why) {
        return fail(ErrorKind::usage, fmt::format("invalid host '{}': {}; use a URL such as "
                                                  "https://de.example.com or http://127.0.0.1:8050",
                                                  url, why));
    };
    std::string text(url);
    const bool has_scheme = text.find("://") != std::string::npos;
    while (!text.empty() && (text.back() == '/' || text.back() == ' '))
        text.pop_back();
    auto scheme_end = text.find("://");
    if (has_scheme && scheme_end == std::string::npos) return bad("it has no host name");
    if (scheme_end == std::string::npos) {
        // A bare host, as `de` and existing DASH_ENTERPRISE_HOST settings have it.
        if (text.empty()) return bad("it has no host name");
        text = std::string(default_scheme(text.substr(0, text.find('/')))) + "://" + text;
        scheme_end = text.find("://");
    }
    std::string scheme = ascii_lower(text.substr(0, scheme_end));
    if (scheme != "http" && scheme != "https") return bad("only http and https are supported");
    auto rest = text.substr(scheme_end + 3);
    auto slash = rest.find('/');
    std::string authority = ascii_lower(rest.substr(0, slash));
    std::string path = slash == std::string::npos ? "" : rest.substr(slash);
    if (authority.empty()) return bad("it has no host name");
    if (authority.find('@') != std::string::npos)
        return bad("credentials do not belong in the URL");
    for (char c : text)
        if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f')
            return bad("it contains spaces or control characters");
    return scheme + "://" + authority + path;
}

std::string_view default_scheme(std::string_view authority) {
    std::string host = ascii_lower(authority);
    if (host.starts_with('[')) {
        host = host.substr(0, host.find(']') + 1);
    } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
        host.resize(colon);
    }
    const bool loopback = host == "localhost" || host.ends_with(".localhost") ||
                          host.starts_with("127.") || host == "[::1]";
    return loopback ? "http" : "https";
}

std::string default_host_after_logout(const Keyfile& keyfile, const std::string& removed) {
    if (keyfile.default_host != removed) return keyfile.default_host;
    const std::pair<const std::string, KeyfileEntry>* best = nullptr;
    for (const auto& item : keyfile.hosts) {
        if (item.first == removed) continue;
        if (!best || item.second.logged_in_at > best->second.logged_in_at) best = &item;
    }
    return best ? best->first : removed;
}

Result<Keyfile> read_keyfile(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return Keyfile{};
        return fail(ErrorKind::generic,
                    fmt::format("cannot read keyfile {}: {}", path.string(), std::strerror(errno)));
    }
    if ((st.st_mode & 077) != 0)
        return fail(ErrorKind::auth,
                    fmt::format("keyfile {} is accessible by others (mode {:04o}); it holds "
                                "secrets, so de-cli refuses to use it. Fix it with: chmod 600 {}",
                                path.string(), st.st_mode & 07777, path.string()));
    if (st.st_uid != ::getuid())
        return fail(ErrorKind::auth, fmt::format("keyfile {} belongs to another user (uid {}); "
                                                 "remove it or log in again as its owner",
                                                 path.string(), st.st_uid));
    std::ifstream in(path);
    if (!in)
        return fail(ErrorKind::generic,
                    fmt::format("cannot read keyfile {}: {}", path.string(), std::strerror(errno)));
    std::stringstream buffer;
    buffer << in.rdbuf();
    Keyfile keyfile;
    try {
        auto j = nlohmann::json::parse(buffer.str());
        keyfile.default_host = j.value("default_host", "");
        if (j.contains("hosts"))
            for (const auto& [host, entry] : j.at("hosts").items())
                keyfile.hosts[host] =
                    KeyfileEntry{entry.value("username", ""), entry.value("token", ""),
                                 entry.value("expires_at", std::int64_t{0}),
                                 entry.value("logged_in_at", std::int64_t{0})};
    } catch (const nlohmann::json::exception&) {
        return fail(ErrorKind::generic,
                    fmt::format("keyfile {} is not valid JSON; remove it and run `de-cli login` "
                                "again",
                                path.string()));
    }
    return keyfile;
}

Status write_keyfile(const fs::path& path, const Keyfile& keyfile) {
    auto io_error = [&](std::string_view what) {
        return fail(ErrorKind::generic, fmt::format("cannot write keyfile {}: {}: {}",
                                                    path.string(), what, std::strerror(errno)));
    };
    fs::path dir = path.parent_path();
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            errno = ec.value();
            return io_error("creating its folder");
        }
        // Only the folder we own by name gets tightened; parents are the user's choice.
        ::chmod(dir.c_str(), 0700);
    }
    nlohmann::json j;
    j["default_host"] = keyfile.default_host;
    j["hosts"] = nlohmann::json::object();
    for (const auto& [host, entry] : keyfile.hosts)
        j["hosts"][host] = {{"username", entry.username},
                            {"token", entry.token},
                            {"expires_at", entry.expires_at},
                            {"logged_in_at", entry.logged_in_at}};
    std::string text = j.dump(2) + "\n";

    fs::path tmp = path;
    tmp += fmt::format(".tmp.{}", ::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return io_error("creating a temporary file");
    ::fchmod(fd, 0600);  // the umask may have narrowed it, never widened; make it exact
    std::string_view rest = text;
    while (!rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            ::unlink(tmp.c_str());
            return io_error("writing");
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return io_error("flushing");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return io_error("renaming into place");
    }
    return {};
}

Result<Settings> resolve_settings(const ConfigInputs& inputs) {
    auto getenv = env_fn(inputs);
    Settings s;

    if (inputs.keyfile_path) {
        s.keyfile = {inputs.keyfile_path->string(), Origin::flag, "argument"};
    } else {
        auto path = default_keyfile_path(getenv);
        if (path)
            s.keyfile = {path->string(),
                         getenv("XDG_CONFIG_HOME") ? Origin::environment : Origin::default_value,
                         getenv("XDG_CONFIG_HOME") ? "XDG_CONFIG_HOME" : "HOME"};
        else if (!inputs.no_keyfile)
            return std::unexpected(path.error());
    }

    Keyfile keyfile;
    if (!inputs.no_keyfile) {
        auto read = read_keyfile(s.keyfile.value);
        if (!read) return std::unexpected(read.error());
        keyfile = std::move(*read);
    }

    // Host: flag > environment > keyfile's default > built-in default.
    if (inputs.flag_host && !inputs.flag_host->empty())
        s.host = {*inputs.flag_host, Origin::flag, "--host"};
    else if (auto env = getenv(k_env_host))
        s.host = {*env, Origin::environment, std::string(k_env_host)};
    else if (!keyfile.default_host.empty())
        s.host = {keyfile.default_host, Origin::keyfile, s.keyfile.value};
    else
        s.host = {std::string(k_default_host), Origin::default_value, "built-in"};
    auto host = normalize_host(s.host.value);
    if (!host) {
        host.error().message += fmt::format(" (from {})", s.host.source);
        return std::unexpected(host.error());
    }
    s.host.value = *host;

    // Credentials: the environment's key wins over the keyfile's token.
    auto env_user = getenv(k_env_username);
    auto env_pass = getenv(k_env_password);
    if (env_user) s.username = {*env_user, Origin::environment, std::string(k_env_username)};
    if (env_pass) s.api_key = {*env_pass, Origin::environment, std::string(k_env_password)};
    if (!(env_user && env_pass)) {
        if (auto it = keyfile.hosts.find(s.host.value); it != keyfile.hosts.end()) {
            // A token belongs to the user who logged in; never pair it with another name.
            if (!env_user || *env_user == it->second.username) {
                if (!env_user) s.username = {it->second.username, Origin::keyfile, s.keyfile.value};
                if (!it->second.token.empty())
                    s.token = {it->second.token, Origin::keyfile, s.keyfile.value};
            }
        }
    }

    if (inputs.flag_ca_path && !inputs.flag_ca_path->empty())
        s.ca_path = {*inputs.flag_ca_path, Origin::flag, "--ca-path"};
    return s;
}

}  // namespace de

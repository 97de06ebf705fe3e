// Argument parsing shared by the file commands; see helpers.hpp.
#include "helpers.hpp"

#include <de/json.hpp>
#include <de/name_json.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>
#include <de/timestamp.hpp>

#include <fmt/format.h>

namespace de::cli {

Result<ByteRange> parse_range(std::string_view text) {
    auto bad = [&] {
        return fail(ErrorKind::usage,
                    fmt::format("invalid --range '{}': use FIRST-LAST (inclusive), FIRST- or "
                                "-SUFFIX (the last bytes), e.g. 0-1023, 1MiB-2MiB, 4096- or -10",
                                text));
    };
    auto dash = text.find('-');
    if (dash == std::string_view::npos) return bad();
    if (dash == 0) {
        // -N: the last N bytes, as HTTP's suffix range.
        auto n = parse_size(text.substr(1));
        if (!n || *n == 0) return bad();
        ByteRange range;
        range.suffix = *n;
        return range;
    }
    auto first = parse_size(text.substr(0, dash));
    if (!first) return bad();
    ByteRange range{*first, std::nullopt, std::nullopt};
    auto rest = text.substr(dash + 1);
    if (!rest.empty()) {
        auto last = parse_size(rest);
        if (!last || *last < *first) return bad();
        range.last = *last;
    }
    return range;
}

std::string remote_display(std::string_view app, std::string_view path) {
    return fmt::format("{}:/{}", app, display_name(path));
}

std::string remote_abs(std::string_view path) {
    if (path.starts_with('/')) return std::string(path);
    return "/" + std::string(path);
}

nlohmann::json entry_json(const Entry& entry) {
    nlohmann::json j = {{"type", entry.type == EntryType::dir ? "dir" : "file"},
                        {"size", entry.size},
                        {"mtime", format_rfc3339_ns(entry.mtime_ns)}};
    put_name(j, "path", remote_abs(entry.path));  // percent form when not UTF-8
    if (entry.sha256) j["sha256"] = *entry.sha256;
    return j;
}

nlohmann::json app_json(const App& app) {
    return {{"name", app.name},
            {"owner", app.owner},
            {"created_at", app.created_at ? nlohmann::json(format_rfc3339_s(app.created_at))
                                          : nlohmann::json(nullptr)},
            {"mount", {{"enabled", app.persistent_filesystem}}}};
}

nlohmann::json mount_json(const MountStatus& st) {
    std::uint64_t taken = st.used_bytes + st.reserved_bytes;
    return {{"app", st.app},
            {"mount",
             {{"enabled", st.enabled},
              {"used_bytes", st.used_bytes},
              {"quota_bytes", st.quota_bytes},
              {"reserved_bytes", st.reserved_bytes},
              {"free_bytes", st.quota_bytes > taken ? st.quota_bytes - taken : 0},
              {"file_count", st.file_count},
              {"entries", st.entries},
              {"max_entries", st.max_entries},
              {"storage_class", st.storage_class.empty() ? nlohmann::json(nullptr)
                                                         : nlohmann::json(st.storage_class)}}}};
}

nlohmann::json sync_counts_json(const SyncSummary& s, std::string_view remote_dir) {
    nlohmann::json failures = nlohmann::json::array();
    std::string base(remote_dir);
    while (base.starts_with('/'))
        base.erase(0, 1);
    for (const auto& f : s.failures) {
        nlohmann::json failure = {
            {"action", f.action}, {"kind", to_string(f.error.kind)}, {"message", f.error.message}};
        put_name(failure, "path", remote_abs(base.empty() ? f.path : join_path(base, f.path)));
        failures.push_back(std::move(failure));
    }
    return {{"direction", to_string(s.direction)},
            {"dry_run", s.dry_run},
            {"files_transferred", s.files_sent},
            {"bytes_transferred", s.bytes_sent},
            {"files_unchanged", s.files_skipped},
            {"bytes_unchanged", s.bytes_skipped},
            {"files_deleted", s.files_deleted},
            {"dirs_created", s.dirs_created},
            {"dirs_deleted", s.dirs_deleted},
            {"mtimes_set", s.mtimes_set},
            {"files_failed", s.files_failed},
            {"files_excluded", s.excluded},
            {"symlinks_skipped", s.symlinks_skipped},
            {"symlinks_followed", s.symlinks_followed},
            {"deletes_skipped", s.deletes_skipped},
            {"failures", std::move(failures)},
            {"warnings", s.warnings},
            {"seconds", s.seconds}};
}

nlohmann::json state_dry_run_json(std::string_view app, std::string_view action, bool changed,
                                  std::uint64_t files_deleted) {
    return {{"app", app},
            {"dry_run", true},
            {"action", action},
            {"changed", changed},
            {"files_deleted", files_deleted}};
}

std::string webdav_url(std::string_view host, std::string_view app) {
    while (host.ends_with('/'))
        host.remove_suffix(1);
    std::string url = fmt::format("{}/dav/", host);
    // RFC 3986 unreserved characters stay, every other byte is %XX (app names
    // are a-z, 0-9 and '-' today, so this is the name itself).
    for (unsigned char c : app) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || c == '-' || c == '.' || c == '_' || c == '~')
            url.push_back(static_cast<char>(c));
        else
            url += fmt::format("%{:02X}", static_cast<unsigned>(c));
    }
    url.push_back('/');
    return url;
}

std::string webdav_instructions(const WebdavGuide& g) {
    const std::string& u = g.url;
    const std::string& user = g.username;
    const std::string mnt = fmt::format("/mnt/{}", g.app);
    std::string text = fmt::format(
        "Log in as {}; the password is {}.\n"
        "KEY below is that key (`read -rs KEY` reads it without echo).\n",
        user, g.key_hint);
    text += fmt::format(
        "  davfs2   sudo mount -t davfs {} {} -o uid=$(id -u),gid=$(id -g)\n"
        "           it asks for the password, or add \"{} {} KEY\" to /etc/davfs2/secrets "
        "(mode 600)\n",
        u, mnt, mnt, user);
    text += fmt::format(
        "  rclone   rclone config create {} webdav url={} vendor=other user={} "
        "pass=\"$(rclone obscure \"$KEY\")\"\n"
        "           then `rclone ls {}:`, `rclone mount {}: {}`; no config: rclone ls :webdav: "
        "--webdav-url {} --webdav-vendor other --webdav-user {} "
        "--webdav-pass \"$(rclone obscure \"$KEY\")\"\n",
        g.app, u, user, g.app, g.app, mnt, u, user);
    text += fmt::format(
        "  macOS    Finder > Go > Connect to Server (Cmd-K): {}, user {}, password KEY\n", u, user);
    text += fmt::format(
        "  Windows  net use Z: {} /user:{} *   (or Explorer > This PC > Map network drive)\n", u,
        user);
    if (u.starts_with("http://"))
        text +=
            "           Windows sends no password over plain HTTP unless "
            "HKLM\\SYSTEM\\CurrentControlSet\\Services\\WebClient\\Parameters\\BasicAuthLevel is 2 "
            "(then restart WebClient): prefer HTTPS\n";
    return text;
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

void warn_sync_failures(const Context& ctx, const SyncSummary& summary) {
    std::size_t shown = 0;
    for (const auto& f : summary.failures) {
        if (++shown > 20) {
            warn(ctx, fmt::format("... and {} more failures", summary.failures.size() - 20));
            break;
        }
        warn(ctx,
             fmt::format("failed: {} {}: {}", f.action, display_name(f.path), f.error.message));
    }
}

}  // namespace de::cli

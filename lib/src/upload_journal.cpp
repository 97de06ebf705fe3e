// Resume journal of resumable uploads (see upload_journal.hpp).
#include "upload_journal.hpp"

#include <de/crc64.hpp>
#include <de/sha256.hpp>
#include <de/text.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <de/name_json.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace de::detail {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr int k_journal_version = 1;
}  // namespace

fs::path default_journal_dir() {
    const char* state = std::getenv("XDG_STATE_HOME");
    if (state && *state == '/') return fs::path(state) / "de-cli" / "uploads";
    const char* home = std::getenv("HOME");
    fs::path base = home && *home ? fs::path(home) : fs::temp_directory_path();
    return base / ".local" / "state" / "de-cli" / "uploads";
}

fs::path journal_path(const fs::path& dir, std::string_view host, std::string_view app,
                      std::string_view remote, std::string_view local_realpath) {
    // NUL separators: no field can contain one, so different tuples never collide.
    std::string key;
    for (std::string_view part : {host, app, remote, local_realpath}) {
        key.append(part);
        key.push_back('\0');
    }
    return dir / (sha256_hex(key).substr(0, 32) + ".json");
}

std::optional<UploadJournal> load_journal(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    try {
        json j = json::parse(text.str());
        if (j.at("version").get<int>() != k_journal_version) return std::nullopt;
        UploadJournal out;
        out.upload_url = j.at("upload_url").get<std::string>();
        out.host = j.at("host").get<std::string>();
        out.app = j.at("app").get<std::string>();
        auto remote = get_name(j, "remote");
        auto local = get_name(j, "local");
        if (!remote || !local) return std::nullopt;
        out.remote = std::move(*remote);
        out.local = std::move(*local);
        const json& id = j.at("identity");
        out.identity.size = id.at("size").get<std::uint64_t>();
        out.identity.mtime_ns = id.at("mtime_ns").get<std::int64_t>();
        out.identity.dev = id.at("dev").get<std::uint64_t>();
        out.identity.ino = id.at("ino").get<std::uint64_t>();
        out.part_size = j.at("part_size").get<std::uint64_t>();
        out.created_unix = j.value("created_unix", std::int64_t{0});
        out.creation_key = j.value("creation_key", "");
        if ((out.upload_url.empty() && out.creation_key.empty()) || out.part_size == 0)
            return std::nullopt;
        return out;
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

namespace {
// Temporary files of `file` that a killed run left between write and rename
// (".NAME.XXXXXXXX.tmp" beside it): nothing else writes them, and they would
// stay forever otherwise.
void remove_stale_temps(const fs::path& file) {
    const std::string prefix = "." + file.filename().string() + ".";
    std::error_code ec;
    for (fs::directory_iterator it(file.parent_path(), ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.starts_with(prefix) && name.ends_with(".tmp")) {
            std::error_code rm;
            fs::remove(it->path(), rm);
        }
    }
}
}  // namespace

Status save_journal(const fs::path& file, const UploadJournal& journal) {
    std::error_code ec;
    const fs::path dir = file.parent_path();
    fs::create_directories(dir, ec);
    if (ec)
        return fail(ErrorKind::generic, fmt::format("cannot create the resume journal folder "
                                                    "'{}': {}",
                                                    dir.string(), ec.message()));
    ::chmod(dir.c_str(), 0700);
    remove_stale_temps(file);
    json j = {{"version", k_journal_version},
              {"upload_url", journal.upload_url},
              {"host", journal.host},
              {"app", journal.app},
              {"identity",
               {{"size", journal.identity.size},
                {"mtime_ns", journal.identity.mtime_ns},
                {"dev", journal.identity.dev},
                {"ino", journal.identity.ino}}},
              {"part_size", journal.part_size},
              {"created_unix", journal.created_unix},
              {"creation_key", journal.creation_key}};
    put_name(j, "remote", journal.remote);  // names: percent form when not UTF-8
    put_name(j, "local", journal.local);
    const std::string text = dump_json(j) + "\n";
    std::random_device random;
    const fs::path tmp =
        file.parent_path() / fmt::format(".{}.{:08x}.tmp", file.filename().string(), random());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(ErrorKind::generic, fmt::format("cannot write the resume journal '{}': {}",
                                                    tmp.string(), std::strerror(errno)));
    std::size_t written = 0;
    int err = 0;
    while (written < text.size()) {
        ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err = errno;
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    // fsync: after a machine crash the journal is either the old or the new one.
    if (!err && ::fsync(fd) != 0) err = errno;
    ::close(fd);
    if (!err && ::rename(tmp.c_str(), file.c_str()) != 0) err = errno;
    if (err) {
        ::unlink(tmp.c_str());
        return fail(ErrorKind::generic, fmt::format("cannot write the resume journal '{}': {}",
                                                    file.string(), std::strerror(err)));
    }
    return {};
}

void remove_journal(const fs::path& file, void (*between)()) {
    // The journal itself goes last: a run killed in between leaves it, and the
    // re-run that reads it removes the rest. Removed first, it would leave
    // part CRCs that no run ever looks at again.
    remove_part_crcs(file);
    if (between) between();
    remove_stale_temps(file);
    std::error_code ec;
    fs::remove(file, ec);
}

fs::path part_crcs_path(const fs::path& journal_file) {
    fs::path p = journal_file;
    p.replace_extension(".crc");
    return p;
}

void append_part_crc(const fs::path& journal_file, std::uint64_t part, std::uint64_t crc) {
    const std::string line = fmt::format("{} {}\n", part, crc64_hex(crc));
    int fd = ::open(part_crcs_path(journal_file).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                    0600);
    if (fd < 0) return;  // best effort: the part is read again at the end instead
    // One write of a short line with O_APPEND: whole or (after a crash) torn at the end.
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
}

std::vector<std::optional<std::uint64_t>> load_part_crcs(const fs::path& journal_file,
                                                         std::size_t parts) {
    std::vector<std::optional<std::uint64_t>> out(parts);
    std::ifstream in(part_crcs_path(journal_file));
    std::string line;
    while (std::getline(in, line)) {
        auto sp = line.find(' ');
        if (sp == std::string::npos) continue;
        std::uint64_t k = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + sp, k);
        if (ec != std::errc{} || end != line.data() + sp || k >= parts) continue;
        std::string_view hex(line.data() + sp + 1, line.size() - sp - 1);
        if (hex.size() != 16) continue;
        if (auto crc = crc64_from_hex(hex)) out[static_cast<std::size_t>(k)] = *crc;
    }
    return out;
}

void remove_part_crcs(const fs::path& journal_file) {
    std::error_code ec;
    fs::remove(part_crcs_path(journal_file), ec);
}

std::optional<std::vector<bool>> parse_parts_done(std::string_view ranges, std::size_t parts) {
    std::vector<bool> done(parts, false);
    ranges = trim_ows(ranges);
    if (ranges.empty()) return done;
    while (true) {
        auto comma = ranges.find(',');
        std::string_view item = trim_ows(ranges.substr(0, comma));
        auto dash = item.find('-');
        auto first = parse_decimal_u64(trim_ows(item.substr(0, dash)));
        auto last = dash == std::string_view::npos
                        ? first
                        : parse_decimal_u64(trim_ows(item.substr(dash + 1)));
        if (!first || !last || *first > *last || *last >= parts) return std::nullopt;
        for (std::uint64_t k = *first; k <= *last; ++k)
            done[k] = true;
        if (comma == std::string_view::npos) break;
        ranges.remove_prefix(comma + 1);
    }
    return done;
}

}  // namespace de::detail

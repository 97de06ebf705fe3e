// backup_mount: the manifest, then each file read into a TarWriter whose sink
// is FILE.partial; fsync, close and rename only after the last byte (see
// de/backup.hpp). The descriptor is owned by one small RAII type so that every
// early return closes it and removes the partial file.

#include <de/archive.hpp>
#include <de/backup.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace de {

namespace fs = std::filesystem;

namespace {

// FILE.partial while it is being written: removed unless committed.
class PartialFile {
  public:
    explicit PartialFile(fs::path path) : m_path(std::move(path)) {}
    ~PartialFile() {
        if (m_fd >= 0) ::close(m_fd);
        if (m_created && !m_committed) ::unlink(m_path.c_str());
    }
    PartialFile(const PartialFile&) = delete;
    PartialFile& operator=(const PartialFile&) = delete;

    Status create() {
        m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (m_fd < 0)
            return fail(ErrorKind::generic, fmt::format("cannot create backup {}: {}",
                                                        m_path.string(), std::strerror(errno)));
        m_created = true;
        return {};
    }

    Status write(std::string_view data) {
        while (!data.empty()) {
            ssize_t n = ::write(m_fd, data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                return fail(ErrorKind::generic, fmt::format("writing backup {}: {}",
                                                            m_path.string(), std::strerror(errno)));
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    // fsync, close, rename to target.
    Status commit(const fs::path& target) {
        if (::fsync(m_fd) != 0)
            return fail(ErrorKind::generic, fmt::format("flushing backup {}: {}", m_path.string(),
                                                        std::strerror(errno)));
        int fd = m_fd;
        m_fd = -1;
        if (::close(fd) != 0)
            return fail(ErrorKind::generic, fmt::format("closing backup {}", m_path.string()));
        if (::rename(m_path.c_str(), target.c_str()) != 0)
            return fail(ErrorKind::generic, fmt::format("renaming {} to {}: {}", m_path.string(),
                                                        target.string(), std::strerror(errno)));
        m_committed = true;
        return {};
    }

  private:
    fs::path m_path;
    int m_fd = -1;
    bool m_created = false;
    bool m_committed = false;
};

}  // namespace

Result<BackupResult> backup_mount(Client& client, std::string_view app, const fs::path& path,
                                  const BackupOptions& options) {
    std::error_code ec;
    if (fs::exists(path, ec))
        return fail(
            ErrorKind::conflict,
            fmt::format("backup file {} exists; choose another name or remove it", path.string()));
    std::vector<Entry> entries;
    BackupResult result;
    auto listed = client.manifest(app, "", false, [&](const Entry& e) -> Status {
        entries.push_back(e);
        if (e.type == EntryType::file) {
            result.bytes += e.size;
            ++result.files;
        }
        return {};
    });
    if (!listed) return std::unexpected(std::move(listed.error()));

    fs::path partial_path = path;
    partial_path += ".partial";
    PartialFile partial(partial_path);
    if (auto st = partial.create(); !st) return std::unexpected(std::move(st.error()));
    TarWriter tar([&partial](std::string_view data) { return partial.write(data); });

    const ProgressFn& progress = options.progress;
    const std::string label = fmt::format("backup of {}", app);
    std::uint64_t done = 0;
    if (progress) progress({ProgressEvent::Phase::start, label, 0, result.bytes});
    auto body = [&]() -> Status {
        for (const auto& e : entries) {
            if (interrupt_requested()) return fail(ErrorKind::interrupted, "backup interrupted");
            if (e.type == EntryType::dir) {
                if (auto st = tar.add_directory(e.path, e.mtime_ns); !st) return st;
                continue;
            }
            if (auto st = tar.begin_file(e.path, e.size, e.mtime_ns); !st) return st;
            auto st = client.read(app, e.path, std::nullopt, [&](std::string_view chunk) {
                done += chunk.size();
                if (progress) progress({ProgressEvent::Phase::advance, label, done, result.bytes});
                return tar.write(chunk);
            });
            if (!st) return st;
            if (auto end = tar.end_file(); !end) return end;
        }
        if (auto st = tar.finish(); !st) return st;
        return partial.commit(path);
    }();
    if (progress) progress({ProgressEvent::Phase::finish, label, done, result.bytes});
    if (!body) return std::unexpected(std::move(body.error()));
    result.archive_bytes = tar.bytes_written();
    return result;
}

}  // namespace de

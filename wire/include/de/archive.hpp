#pragma once
// A streaming tar writer (POSIX ustar, with pax extended headers for paths
// over ustar's limits and files of 8 GiB or more), used by
// `mount disable --backup FILE`. Members are written as their bytes arrive, so
// memory stays flat whatever the mount holds; GNU tar, bsdtar and Python's
// tarfile all read the result. The batch upload (docs/api.md, "Batch upload")
// adds its own pax records (mtime with nanoseconds, DE.sha256) through
// PaxRecords, and sizes its Content-Length ahead with file_member_size().

#include <de/error.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace de {

// Extra pax keywords for one member, in order ("mtime", "DE.sha256", ...).
using PaxRecords = std::vector<std::pair<std::string, std::string>>;

class TarWriter {
  public:
    // sink receives the archive's bytes in order; a failed sink fails the call.
    explicit TarWriter(std::function<Status(std::string_view)> sink);

    Status add_directory(std::string_view path, std::int64_t mtime_ns);
    // Starts a regular file of exactly size bytes: follow with write() calls
    // totalling size, then end_file().
    Status begin_file(std::string_view path, std::uint64_t size, std::int64_t mtime_ns,
                      const PaxRecords& extra = {});
    Status write(std::string_view data);
    // Fails (ErrorKind::conflict) when fewer or more bytes came than announced.
    Status end_file();
    // The two zero blocks that end an archive.
    Status finish();

    std::uint64_t bytes_written() const { return m_bytes_written; }

    // The bytes begin_file(path, size, 0, extra) + data + padding will emit
    // (the extra records' values must have their final lengths).
    static std::uint64_t file_member_size(std::string_view path, std::uint64_t size,
                                          const PaxRecords& extra = {});

  private:
    Status emit(std::string_view data);
    Status header(std::string_view path, char type, std::uint64_t size, std::int64_t mtime_ns,
                  unsigned mode, const PaxRecords& extra = {});
    std::function<Status(std::string_view)> m_sink;
    std::string m_path;
    std::uint64_t m_expected = 0;
    std::uint64_t m_received = 0;
    bool m_in_file = false;
    std::uint64_t m_bytes_written = 0;
};

}  // namespace de

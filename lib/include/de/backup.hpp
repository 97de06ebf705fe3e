#pragma once
// The mount backup behind `mount disable --backup FILE`: every file and folder
// of an app's mount streamed into one tar archive (de/archive.hpp's TarWriter).
//
// Design: the manifest is listed first (one streamed request), so the total is
// known for progress and an error there writes nothing; then each file is read
// straight into the archive, whose bytes go to FILE.partial. Only a complete,
// fsync()ed archive is renamed to FILE; any failure removes the partial file.
// A caller that deletes the mount afterwards does so only on success, so a
// failed backup never costs data. Memory stays flat whatever the mount holds.

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/progress.hpp>

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace de {

struct BackupOptions {
    ProgressFn progress;  // name = "backup of APP", done/total in file bytes
};

struct BackupResult {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;          // file contents
    std::uint64_t archive_bytes = 0;  // the tar file's size
};

// Writes the whole mount of app into a new tar file at path. Fails with
// ErrorKind::conflict when path exists (nothing is overwritten), and with the
// listing's, the read's or the local disk's error otherwise, leaving no file.
Result<BackupResult> backup_mount(Client& client, std::string_view app,
                                  const std::filesystem::path& path,
                                  const BackupOptions& options = {});

}  // namespace de

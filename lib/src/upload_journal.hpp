#pragma once
// The resume journal of resumable uploads, private to libde: one small JSON
// file per upload in flight, so that re-running the same `de-cli upload` after
// an interruption (Ctrl-C, kill -9, a server restart) continues the same tus
// upload instead of starting from zero. The journal only says *which* upload
// and *which* local file; what the server already holds is asked of the server
// (HEAD → Upload-Parts-Done), so the journal never needs updating mid-transfer
// and cannot disagree with the server about progress.
//
// Files live in $XDG_STATE_HOME/de-cli/uploads (default
// ~/.local/state/de-cli/uploads), are named by a hash of (host, app, remote
// path, local realpath), are mode 0600 (an upload URL is not a secret, but the
// folder is private anyway) and are replaced atomically (temp file + rename).

#include <de/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de::detail {

// What makes "the same local file": a changed one starts over.
struct LocalIdentity {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    bool operator==(const LocalIdentity&) const = default;
};

struct UploadJournal {
    std::string upload_url;  // absolute URL of the tus upload
    std::string host;        // base URL the upload was made on
    std::string app;
    std::string remote;  // normalised mount path
    std::string local;   // realpath of the local file
    LocalIdentity identity;
    std::uint64_t part_size = 0;
    std::int64_t created_unix = 0;
    // The Idempotency-Key of the creation. Written before the creation is
    // sent, with upload_url still empty: a run that dies before the answer
    // arrives leaves this, and the next run repeats the creation with the same
    // key, which answers the upload the first one made (no orphan).
    std::string creation_key;
};

// $XDG_STATE_HOME/de-cli/uploads, else $HOME/.local/state/de-cli/uploads.
std::filesystem::path default_journal_dir();

// The journal file of one (host, app, remote, local) in dir.
std::filesystem::path journal_path(const std::filesystem::path& dir, std::string_view host,
                                   std::string_view app, std::string_view remote,
                                   std::string_view local_realpath);

// nullopt when there is no journal; a journal that cannot be parsed (torn by
// a crash of an older version, edited by hand) is also nullopt: the upload
// then starts over, which is always safe.
std::optional<UploadJournal> load_journal(const std::filesystem::path& file);

// Writes the journal atomically with mode 0600 (creating dir with 0700).
Status save_journal(const std::filesystem::path& file, const UploadJournal& journal);

// Removes the journal with its part CRCs and stale temporary files (missing
// is fine), the journal itself last. `between` (a test hook) runs after the
// first removal.
void remove_journal(const std::filesystem::path& file, void (*between)() = nullptr);

// The CRC-64 of each part the server acknowledged whole, kept beside the
// journal in `<journal>.crc` (lines "PART CRCHEX", appended as parts finish,
// without fsync: a line lost in a crash only costs a read of that part). A
// re-run combines them into the whole file's CRC without reading those parts
// again (crc64_combine). Lines that cannot be parsed (a torn last line) are
// ignored; a part named twice keeps its last CRC.
std::filesystem::path part_crcs_path(const std::filesystem::path& journal_file);
void append_part_crc(const std::filesystem::path& journal_file, std::uint64_t part,
                     std::uint64_t crc);
// One entry per part: the CRC when recorded.
std::vector<std::optional<std::uint64_t>> load_part_crcs(const std::filesystem::path& journal_file,
                                                         std::size_t parts);
void remove_part_crcs(const std::filesystem::path& journal_file);

// Upload-Parts-Done ("0-12,15", "" for none) as a flag per part; nullopt when
// malformed or naming a part >= parts.
std::optional<std::vector<bool>> parse_parts_done(std::string_view ranges, std::size_t parts);

}  // namespace de::detail

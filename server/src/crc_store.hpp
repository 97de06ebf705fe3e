#pragma once
// The stored CRC-64 of a committed file (issue #15): kept beside the file in
// the extended attribute `user.de.crc64`, so a GET or HEAD sends it without
// reading the file, and a download verifies it per range and whole.
//
// The attribute holds "v1 <crc hex> <size> <mtime_ns> <ino>" — the CRC and
// the identity of the bytes it was computed over. A file that an app process
// rewrote (size, mtime or inode changed) has a stale attribute: it is never
// trusted, the CRC is computed again and stored again.
//
// Why not ctime as well: writing the attribute itself sets the file's ctime,
// and so does the rename that commits it, so no stored value can carry the
// ctime it will be read with. A rewrite that keeps the size and then restores
// the old mtime (utimensat) is therefore not seen by this cache; a download
// then fails its CRC check loudly: wrong bytes are never accepted.
//
// File systems without user xattrs (ENOTSUP): nothing is stored, the CRC is
// computed on each request that needs it (correct, slower).

#include <sys/stat.h>
#include <cstdint>
#include <optional>
#include <string>

namespace de::server {

inline constexpr const char* k_crc_xattr = "user.de.crc64";

// The stored CRC if it still describes the file `st` is the fstat of, else nullopt.
std::optional<std::uint64_t> stored_crc64(int fd, const struct stat& st);

// Records `crc` as the CRC of the file's current bytes (fstat'ed here). Best
// effort: false when the file system refuses user xattrs or the call fails.
bool store_crc64(int fd, std::uint64_t crc);
// The same with the file's fstat already at hand (taken after its last write
// and mtime change; the attribute's own ctime change does not matter).
bool store_crc64(int fd, std::uint64_t crc, const struct stat& st);

// The stored CRC, or computes it by reading the whole file (pread, the offset
// is untouched) and stores it. nullopt with errno set when reading failed or the
// file changed while it was read (size or mtime differ before and after).
std::optional<std::uint64_t> file_crc64(int fd, const struct stat& st);

// The attribute's text for a CRC over the file described by `st` (tests).
std::string crc_xattr_value(std::uint64_t crc, const struct stat& st);

}  // namespace de::server

#pragma once
// WebDAV dead properties (RFC 4918 4.2): what PROPPATCH sets on a file or a
// folder, kept in the extended attribute `user.de.dav` of that file or folder.
// Kept there, they move with it (MOVE is a rename), go with it (DELETE), and
// are copied with it (MountStore::copy copies the attribute); no table beside
// the mount can drift from it. The attribute holds a JSON array of
// [namespace, name, value-as-XML] triples.
//
// Limits: the attribute is one value of at most k_dead_props_max bytes (ext4
// keeps all of a file's attributes in one 4 KiB block unless ea_inode is on;
// a set that does not fit is refused with 507, nothing half-written).

#include "api_error.hpp"
#include "fs.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace de::server::dav {

inline constexpr const char* k_dead_props_xattr = "user.de.dav";
inline constexpr std::size_t k_dead_props_max = 64 * 1024;

struct DeadProp {
    std::string ns;
    std::string name;
    std::string value_xml;  // the property element's content, self-contained XML
};

// The dead properties of the open file or folder `fd` (none: empty). An
// attribute that cannot be parsed (written by hand) reads as none.
std::vector<DeadProp> load_dead_props(int fd);

// Replaces them (an empty list removes the attribute). 507 when the file
// system cannot hold them (too big, no room for attributes), 403 when it
// takes no user attributes at all.
ApiResult<void> store_dead_props(int fd, const std::vector<DeadProp>& props);

// Copies the attribute from one open file or folder to another (COPY);
// nothing when the source has none. Best effort, like the copy's mtime.
void copy_dead_props(int src_fd, int dst_fd);

// Files and folders known to have no dead properties, so that a PROPFIND of
// a folder does not open each entry to read its attribute (one fstatat per
// entry, from the walk, instead of openat + fgetxattr + close). Keyed by
// (device, inode) and valid while the ctime is still the one seen: setting or
// removing an attribute, like every change of an inode, sets its ctime,
// whoever does it (this server, another replica, the app). An entry is kept
// only when its ctime was at least k_settle old when the attribute was read:
// a change stamped within the same coarse clock tick, or by a network file
// system's server whose clock runs a little behind, could otherwise leave the
// ctime as it was. At most k_max entries (then it starts over).
class BareCache {
  public:
    static constexpr std::chrono::seconds k_settle{1};
    static constexpr std::size_t k_max = 200'000;

    bool known_bare(const struct stat& st) const;
    // `st` was taken before the attribute was read and found absent;
    // `read_ns` (CLOCK_REALTIME) is a time before it was read.
    void remember_bare(const struct stat& st, std::int64_t read_ns);

  private:
    mutable std::mutex m_mutex;
    std::unordered_map<InodeKey, std::int64_t, InodeKeyHash> m_ctime_ns;  // → ctime seen
};

}  // namespace de::server::dav

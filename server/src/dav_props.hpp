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

#include <cstddef>
#include <string>
#include <vector>

namespace de::server::dav {

inline constexpr const char* k_dead_props_xattr = "user.de.dav";
inline constexpr std::size_t k_dead_props_max = 64 * 1024;

struct DeadProp {
    std::string ns;
    std::string name;
    std::string value_xml;  // the property element's content, self-contained XML
    std::string xml_lang;   // the xml:lang in scope when it was set ("" when none)
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

}  // namespace de::server::dav

#pragma once
// What de-server remembers about a file or folder, by (device, inode), each
// fact valid only while the inode's stat still shows what it showed when the
// fact was learnt, whoever changed the file since (this server, another
// replica, the app):
//   - its SHA-256 (the ETag), while its size and mtime are those hashed;
//   - that it has no WebDAV dead properties (dav_props.hpp: no `user.de.dav`
//     attribute), while its ctime is the one seen. Setting or removing an
//     attribute, like every change of an inode, sets its ctime. Remembered
//     only when that ctime was at least k_settle old when the attribute was
//     read: a change stamped within the same coarse clock tick, or by a
//     network file system's server whose clock runs a little behind, could
//     otherwise leave the ctime as it was.
// Both facts sit in one slot of one flat table, so a PROPFIND entry costs one
// lookup: open addressing with linear probing over slots held inline (no node
// per entry, no string per hash), where a node-based map cost several cache
// misses per entry, the inodes of a folder arriving in no order. At most
// k_max inodes (then it starts over; the table is then 2^18 slots of 72
// bytes, 18 MiB); nothing is ever removed one by one.

#include <sys/stat.h>
#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de::server {

class InodeCache {
  public:
    static constexpr std::size_t k_max_slots = std::size_t{1} << 18;
    static constexpr std::size_t k_max = k_max_slots / 4 * 3;  // 196,608 inodes
    static constexpr std::chrono::seconds k_settle{1};

    struct Known {
        std::optional<std::string> sha256;  // hex, lowercase
        bool bare = false;                  // no dead properties
    };

    // Both facts about `st`, in one lookup.
    Known lookup(const struct stat& st) const;
    std::optional<std::string> sha256(const struct stat& st) const;
    bool known_bare(const struct stat& st) const;

    // `st`: the file as hashed. A digest that is not 64 lowercase hex digits
    // is not kept (the file is hashed again when asked).
    void remember_sha256(const struct stat& st, std::string_view hex);
    // `st` was taken before the attribute was read and found absent;
    // `read_ns` (CLOCK_REALTIME) is a time before it was read.
    void remember_bare(const struct stat& st, std::int64_t read_ns);

    std::size_t size() const;

  private:
    static constexpr std::int64_t k_none = INT64_MIN;
    struct Slot {
        dev_t dev = 0;
        ino_t ino = 0;
        // The SHA-256 holds while size and mtime are these (size < 0: none).
        std::int64_t size = -1;
        std::int64_t mtime_ns = 0;
        std::int64_t bare_ctime_ns = k_none;  // no dead properties at this ctime
        std::array<std::uint8_t, 32> sha256{};
        bool used() const { return size >= 0 || bare_ctime_ns != k_none; }
    };
    // With m_mutex held: the slot of (dev, ino), or nullptr.
    const Slot* find_locked(dev_t dev, ino_t ino) const;
    // With m_mutex held: the slot of (dev, ino), claimed if new (it may
    // start over or grow the table first).
    Slot& claim_locked(dev_t dev, ino_t ino);
    std::size_t home(dev_t dev, ino_t ino) const;

    mutable std::mutex m_mutex;
    std::vector<Slot> m_slots;  // a power of two in size, at most 3/4 used
    std::size_t m_used = 0;
};

}  // namespace de::server

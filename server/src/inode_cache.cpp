// See inode_cache.hpp.
#include "inode_cache.hpp"

namespace de::server {

namespace {
constexpr std::size_t k_min_slots = 1024;

std::int64_t ns_of(const struct timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

std::size_t InodeCache::home(dev_t dev, ino_t ino) const {
    // splitmix64's finaliser: inode numbers handed out in sequence land far apart.
    std::uint64_t h = static_cast<std::uint64_t>(ino) ^ (static_cast<std::uint64_t>(dev) << 32 |
                                                         static_cast<std::uint64_t>(dev) >> 32);
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return static_cast<std::size_t>(h) & (m_slots.size() - 1);
}

const InodeCache::Slot* InodeCache::find_locked(dev_t dev, ino_t ino) const {
    if (m_slots.empty()) return nullptr;
    const std::size_t mask = m_slots.size() - 1;
    // Never full (at most 3/4 used), so the probe ends at an unused slot.
    for (std::size_t i = home(dev, ino);; i = (i + 1) & mask) {
        const Slot& s = m_slots[i];
        if (!s.used()) return nullptr;
        if (s.ino == ino && s.dev == dev) return &s;
    }
}

InodeCache::Slot& InodeCache::claim_locked(dev_t dev, ino_t ino) {
    if (const Slot* s = find_locked(dev, ino)) return const_cast<Slot&>(*s);
    if (m_used >= k_max) {
        m_slots.assign(m_slots.size(), Slot{});  // start over
        m_used = 0;
    } else if (m_slots.empty() || (m_used + 1) * 4 > m_slots.size() * 3) {
        std::vector<Slot> old(m_slots.empty() ? k_min_slots : m_slots.size() * 2);
        old.swap(m_slots);
        const std::size_t mask = m_slots.size() - 1;
        for (const Slot& s : old) {
            if (!s.used()) continue;
            std::size_t i = home(s.dev, s.ino);
            while (m_slots[i].used())
                i = (i + 1) & mask;
            m_slots[i] = s;
        }
    }
    const std::size_t mask = m_slots.size() - 1;
    std::size_t i = home(dev, ino);
    while (m_slots[i].used())
        i = (i + 1) & mask;
    ++m_used;
    Slot& s = m_slots[i];
    s = Slot{};
    s.dev = dev;
    s.ino = ino;
    return s;
}

InodeCache::Known InodeCache::lookup(const struct stat& st) const {
    static constexpr char k_hex[] = "0123456789abcdef";
    Known k;
    std::lock_guard guard(m_mutex);
    const Slot* s = find_locked(st.st_dev, st.st_ino);
    if (!s) return k;
    if (s->size >= 0 && s->size == st.st_size && s->mtime_ns == ns_of(st.st_mtim)) {
        std::string hex(64, '\0');
        for (std::size_t i = 0; i < s->sha256.size(); ++i) {
            hex[2 * i] = k_hex[s->sha256[i] >> 4];
            hex[2 * i + 1] = k_hex[s->sha256[i] & 15];
        }
        k.sha256 = std::move(hex);
    }
    k.bare = s->bare_ctime_ns != k_none && s->bare_ctime_ns == ns_of(st.st_ctim);
    return k;
}

std::optional<std::string> InodeCache::sha256(const struct stat& st) const {
    return lookup(st).sha256;
}

bool InodeCache::known_bare(const struct stat& st) const {
    return lookup(st).bare;
}

void InodeCache::remember_sha256(const struct stat& st, std::string_view hex) {
    std::array<std::uint8_t, 32> raw{};
    if (hex.size() != 2 * raw.size()) return;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return;
        raw[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    std::lock_guard guard(m_mutex);
    Slot& s = claim_locked(st.st_dev, st.st_ino);
    s.size = st.st_size;
    s.mtime_ns = ns_of(st.st_mtim);
    s.sha256 = raw;
}

void InodeCache::remember_bare(const struct stat& st, std::int64_t read_ns) {
    const std::int64_t ctime = ns_of(st.st_ctim);
    if (ctime > read_ns - std::chrono::nanoseconds(k_settle).count()) return;
    std::lock_guard guard(m_mutex);
    claim_locked(st.st_dev, st.st_ino).bare_ctime_ns = ctime;
}

std::size_t InodeCache::size() const {
    std::lock_guard guard(m_mutex);
    return m_used;
}

}  // namespace de::server

// The local SHA-256 cache (de/hash_cache.hpp).
//
// File format (text, one record a line, fields separated by one space):
//   de-cli-hashes 1
//   DEV INO SIZE MTIME_NS CTIME_NS SHA256 USED_UNIX
// A line that does not parse is skipped; a file whose first line is not the
// header is ignored whole.

#include <de/hash_cache.hpp>

#include "local_walk.hpp"

#include <de/progress.hpp>
#include <de/sha256.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace de {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_header = "de-cli-hashes 1";
constexpr std::size_t k_read_block = 1 << 20;

struct IdentityHash {
    std::size_t operator()(const FileIdentity& k) const noexcept {
        std::uint64_t h = k.ino * 0x9E3779B97F4A7C15ULL;
        h ^= k.dev + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
        h ^= k.size + (h << 6) + (h >> 2);
        h ^= static_cast<std::uint64_t>(k.mtime_ns) + (h << 6) + (h >> 2);
        h ^= static_cast<std::uint64_t>(k.ctime_ns) + (h << 6) + (h >> 2);
        return static_cast<std::size_t>(h);
    }
};

struct Record {
    std::string sha256;
    std::int64_t used = 0;  // unix seconds
};

using Records = std::unordered_map<FileIdentity, Record, IdentityHash>;

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

template <typename T>
bool parse_field(std::string_view& line, T& out) {
    auto space = line.find(' ');
    std::string_view field = line.substr(0, space);
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
    if (ec != std::errc{} || end != field.data() + field.size()) return false;
    line = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    return true;
}

// Adds the records of file to records (those already there win when keep_existing).
void load_into(const fs::path& file, Records& records, bool keep_existing) {
    std::ifstream in(file);
    if (!in) return;
    std::string line;
    if (!std::getline(in, line) || line != k_header) return;  // foreign or torn: ignored
    while (std::getline(in, line)) {
        std::string_view rest = line;
        FileIdentity id;
        Record r;
        if (!parse_field(rest, id.dev) || !parse_field(rest, id.ino) ||
            !parse_field(rest, id.size) || !parse_field(rest, id.mtime_ns) ||
            !parse_field(rest, id.ctime_ns))
            continue;
        auto space = rest.find(' ');
        if (space == std::string_view::npos) continue;
        std::string_view sha = rest.substr(0, space);
        rest = rest.substr(space + 1);
        if (!is_hex64(sha) || !parse_field(rest, r.used) || !rest.empty()) continue;
        r.sha256 = std::string(sha);
        if (keep_existing)
            records.try_emplace(id, std::move(r));
        else
            records.insert_or_assign(id, std::move(r));
    }
}

std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

FileIdentity detail::identity_of(const struct stat& st) {
    return FileIdentity{
        static_cast<std::uint64_t>(st.st_dev),
        static_cast<std::uint64_t>(st.st_ino),
        static_cast<std::uint64_t>(st.st_size),
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
        static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec,
    };
}

std::optional<FileIdentity> file_identity(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return detail::identity_of(st);
}

fs::path default_hash_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "de-cli";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "de-cli";
    return fs::temp_directory_path() / fmt::format("de-cli-cache-{}", ::getuid());
}

struct HashCache::Impl {
    fs::path dir;
    fs::path file;
    std::size_t max_entries = k_default_max_entries;
    mutable std::mutex mutex;
    Records records;
    // Records this process used or learned: what save() merges into the file.
    mutable std::unordered_set<FileIdentity, IdentityHash> touched;
    mutable bool dirty = false;
    mutable Stats stats;
};

HashCache::HashCache() = default;
HashCache::~HashCache() = default;
HashCache::HashCache(HashCache&&) noexcept = default;
HashCache& HashCache::operator=(HashCache&&) noexcept = default;

HashCache HashCache::open(const fs::path& dir, std::size_t max_entries) {
    HashCache cache;
    cache.m_impl = std::make_unique<Impl>();
    cache.m_impl->dir = dir.empty() ? default_hash_cache_dir() : dir;
    cache.m_impl->file = cache.m_impl->dir / "hashes";
    cache.m_impl->max_entries = std::max<std::size_t>(1, max_entries);
    load_into(cache.m_impl->file, cache.m_impl->records, false);
    return cache;
}

bool HashCache::enabled() const {
    return m_impl != nullptr;
}

fs::path HashCache::file() const {
    return m_impl ? m_impl->file : fs::path{};
}

HashCache::Stats HashCache::stats() const {
    if (!m_impl) return {};
    std::lock_guard lock(m_impl->mutex);
    return m_impl->stats;
}

std::optional<std::string> HashCache::lookup(const FileIdentity& id) const {
    if (!m_impl) return std::nullopt;
    std::lock_guard lock(m_impl->mutex);
    auto it = m_impl->records.find(id);
    if (it == m_impl->records.end()) return std::nullopt;
    // A hit refreshes the record's age (eviction drops the least recently
    // used); worth a write only when the age it had on disk is a day old.
    const std::int64_t now = now_unix();
    if (now - it->second.used > 86'400) m_impl->dirty = true;
    it->second.used = now;
    m_impl->touched.insert(id);
    return it->second.sha256;
}

void HashCache::store(const FileIdentity& id, const std::string& sha256) {
    if (!m_impl || !is_hex64(sha256)) return;
    std::lock_guard lock(m_impl->mutex);
    auto& r = m_impl->records[id];
    if (r.sha256 == sha256) {
        r.used = now_unix();
        m_impl->touched.insert(id);
        return;
    }
    r.sha256 = sha256;
    r.used = now_unix();
    m_impl->touched.insert(id);
    m_impl->dirty = true;
}

Result<std::string> HashCache::sha256_of(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(ErrorKind::generic,
                    fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno)));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat before {};
    if (::fstat(fd, &before) != 0)
        return fail(ErrorKind::generic,
                    fmt::format("cannot stat '{}': {}", path.string(), std::strerror(errno)));
    const FileIdentity id = detail::identity_of(before);
    if (auto hit = lookup(id)) {
        std::lock_guard lock(m_impl->mutex);
        ++m_impl->stats.hits;
        return *hit;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    Sha256 hasher;
    std::vector<char> buffer(k_read_block);
    std::uint64_t total = 0;
    for (;;) {
        if (interrupt_requested()) return fail(ErrorKind::interrupted, "interrupted");
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return fail(ErrorKind::generic,
                        fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno)));
        if (n == 0) break;
        hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        total += static_cast<std::uint64_t>(n);
    }
    std::string sha = hasher.finish_hex();
    struct stat after {};
    if (m_impl) {
        {
            std::lock_guard lock(m_impl->mutex);
            ++m_impl->stats.misses;
            m_impl->stats.bytes_read += total;
        }
        // Remembered only when the file did not change while it was read.
        if (::fstat(fd, &after) == 0 && detail::identity_of(after) == id && total == id.size)
            store(id, sha);
    }
    return sha;
}

Status HashCache::save() {
    if (!m_impl) return {};
    Impl& impl = *m_impl;
    std::lock_guard guard(impl.mutex);
    if (!impl.dirty) return {};
    std::error_code ec;
    fs::create_directories(impl.dir, ec);
    ::chmod(impl.dir.c_str(), 0700);
    auto failure = [&](std::string_view what) {
        return fail(ErrorKind::generic,
                    fmt::format("cannot write the hash cache {}: {} ({})", impl.file.string(), what,
                                std::strerror(errno)));
    };
    // Concurrent savers take turns; each merges the others' records.
    const fs::path lock_path = impl.dir / "hashes.lock";
    int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return failure("cannot open its lock file");
    struct LockCloser {
        int fd;
        ~LockCloser() { ::close(fd); }  // also releases the flock
    } lock_closer{lock_fd};
    while (::flock(lock_fd, LOCK_EX) != 0)
        if (errno != EINTR) return failure("cannot lock it");

    Records merged;
    load_into(impl.file, merged, false);
    for (const auto& id : impl.touched)
        if (auto it = impl.records.find(id); it != impl.records.end())
            merged.insert_or_assign(id, it->second);
    std::vector<std::pair<const FileIdentity*, const Record*>> order;
    order.reserve(merged.size());
    for (const auto& [id, r] : merged)
        order.emplace_back(&id, &r);
    if (order.size() > impl.max_entries) {
        // The most recently used stay.
        std::nth_element(
            order.begin(), order.begin() + static_cast<long>(impl.max_entries), order.end(),
            [](const auto& a, const auto& b) { return a.second->used > b.second->used; });
        order.resize(impl.max_entries);
    }

    std::mt19937_64 rng(std::random_device{}());
    fs::path tmp = impl.file;
    tmp += fmt::format(".{}.{:x}.tmp", ::getpid(), rng());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return failure("cannot create a temporary file");
    std::string out;
    out.reserve(order.size() * 120 + 32);
    out.append(k_header).push_back('\n');
    for (const auto& [id, r] : order)
        fmt::format_to(std::back_inserter(out), "{} {} {} {} {} {} {}\n", id->dev, id->ino,
                       id->size, id->mtime_ns, id->ctime_ns, r->sha256, r->used);
    std::size_t written = 0;
    while (written < out.size()) {
        ssize_t n = ::write(fd, out.data() + written, out.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            auto e = failure("cannot write it");
            ::close(fd);
            ::unlink(tmp.c_str());
            return e;
        }
        written += static_cast<std::size_t>(n);
    }
    ::fchmod(fd, 0600);
    ::close(fd);
    if (::rename(tmp.c_str(), impl.file.c_str()) != 0) {
        auto e = failure("cannot replace it");
        ::unlink(tmp.c_str());
        return e;
    }
    impl.records.clear();
    for (const auto& [id, r] : order)
        impl.records.emplace(*id, *r);
    impl.touched.clear();
    impl.dirty = false;
    return {};
}

}  // namespace de

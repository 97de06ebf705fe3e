// See tus_hash.hpp.
#include "tus_hash.hpp"

#include "tus_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace de::server::tus {

using asio::awaitable;
using asio::use_awaitable;

namespace {
// Puts the hash back to the nearest mark at or before `point` (byte 0 when
// there is none) and forgets the marks past it.
void restore_hash_locked(TusUpload& u, std::uint64_t point) {
    auto it = u.hash_marks.upper_bound(point);
    if (it == u.hash_marks.begin()) {
        u.file_hash.reset();
        u.hashed = 0;
    } else {
        auto mark = std::prev(it);
        u.file_hash = mark->second;
        u.hashed = mark->first;
    }
    u.hash_marks.erase(u.hash_marks.upper_bound(u.hashed), u.hash_marks.end());
    note_hash_locked(u);
}
}  // namespace

void release_hasher_locked(TusUpload& u, std::uint64_t gen, std::uint64_t upto) {
    if (gen == u.hash_gen) {
        u.hashed = upto;
    } else if (u.rollback_floor != UINT64_MAX) {
        restore_hash_locked(u, u.rollback_floor);
    } else {
        u.file_hash.reset();
        u.hashed = 0;
        u.hash_marks.clear();
    }
    u.rollback_floor = UINT64_MAX;
    u.hash_busy = false;
    note_hash_locked(u);
}

void hash_feed(TusUpload& u, std::uint64_t pos, const char* data, std::size_t n) {
    while (n > 0) {
        std::size_t step = n;
        if (u.parts_mode && u.part_size > 0) {
            const std::uint64_t into = pos % u.part_size;
            if (into == 0 && pos > 0) {
                std::lock_guard g(u.mu);
                u.hash_marks.insert_or_assign(pos, u.file_hash);
                while (u.hash_marks.size() > k_max_hash_marks)
                    u.hash_marks.erase(u.hash_marks.begin());
            }
            step = static_cast<std::size_t>(std::min<std::uint64_t>(n, u.part_size - into));
        }
        u.file_hash.update(data, step);
        pos += step;
        data += step;
        n -= step;
    }
}

namespace {
void catch_up(UploadPtr u, asio::thread_pool& pool, std::uint64_t gen);
}  // namespace

// Starts a catch-up job when written bytes wait beyond the hash.
void maybe_catch_up_locked(const UploadPtr& u, asio::thread_pool& pool) {
    if (u->hash_busy || u->dropped || u->committing) return;
    if (u->filled_prefix() <= u->hashed) return;
    u->hash_busy = true;
    asio::post(pool, [u, &pool, gen = u->hash_gen] { catch_up(u, pool, gen); });
}

bool write_at(const TusUpload& u, const char* data, std::size_t n, std::uint64_t pos, int& err) {
    return de::server::write_at(u.direct.get(), u.data.get(), data, n, pos, err);
}

// Hashes [from, to) of the data file into u.file_hash (the caller holds the
// hasher). With O_DIRECT from the disk into an aligned buffer (the bytes were
// written past the page cache; reading them through it would fill fresh
// pages for nothing); otherwise from the page cache.
bool hash_range(TusUpload& u, std::uint64_t from, std::uint64_t to) {
    static thread_local AlignedBuffer buf = aligned_buffer(k_hash_read);
    bool direct = static_cast<bool>(u.direct);
    while (from < to) {
        auto r = read_at(direct ? u.direct.get() : u.data.get(), buf.get(), k_hash_read, from,
                         to - from, direct);
        if (r.n < 0 && errno == EINVAL && direct) {
            direct = false;
            continue;
        }
        if (r.n <= 0) return false;
        hash_feed(u, from, buf.get() + r.skip, static_cast<std::size_t>(r.n));
        from += static_cast<std::uint64_t>(r.n);
    }
    return true;
}

// One slice of catch-up hashing, then it re-posts itself so that other pool
// work interleaves.
namespace {
void catch_up(UploadPtr u, asio::thread_pool& pool, std::uint64_t gen) {
    std::uint64_t from = 0, to = 0;
    std::vector<TusUpload::Ahead> chunks;  // a run of kept chunks from `from` on
    {
        std::lock_guard g(u->mu);
        if (gen != u->hash_gen || u->dropped) {
            release_hasher_locked(*u, gen, 0);
            maybe_catch_up_locked(u, pool);
            return;
        }
        from = u->hashed;
        u->drop_ahead_locked(0, from);  // overtaken (the hash read them from the file)
        to = from;
        for (auto it = u->ahead.find(to);
             it != u->ahead.end() && it->first == to && to - from < k_hash_slice;
             it = u->ahead.erase(it)) {
            to += it->second.n;
            chunks.push_back(std::move(it->second));
        }
        if (chunks.empty()) {
            to = std::min(u->filled_prefix(), from + k_hash_slice);
            // Read only up to the next kept chunk; the hash takes that one from memory.
            auto next = u->ahead.upper_bound(from);
            if (next != u->ahead.end()) to = std::min(to, next->first);
        }
        if (to <= from) {
            u->hash_busy = false;
            return;
        }
    }
    bool ok = true;
    std::uint64_t at = from;
    for (auto& c : chunks) {
        hash_feed(*u, at, c.buf.get(), c.n);
        at += c.n;
        u->hashed_ahead += c.n;
        g_ahead_total -= k_chunk;
        u->buffers->put(std::move(c.buf));
    }
    if (chunks.empty()) {
        ok = hash_range(*u, from, to);
        if (ok) u->hashed_file += to - from;
    }
    std::lock_guard g(u->mu);
    release_hasher_locked(*u, gen, ok ? to : from);
    if (!ok) {
        // The bytes cannot be read now; completion will try again and report it.
        u->file_hash.reset();
        u->hashed = 0;
        u->hash_marks.clear();
        ++u->hash_gen;
        note_hash_locked(*u);
        return;
    }
    maybe_catch_up_locked(u, pool);
}
}  // namespace

// Part k goes back to `keep` bytes; a hash that ran past that point restarts.
void rollback_locked(TusUpload& u, std::size_t k, std::uint64_t keep, bool ours) {
    u.parts[k].filled = u.parts[k].confirmed = keep;
    if (ours) {
        ++u.parts[k].epoch;
        u.rollback_cut = std::min(u.rollback_cut, u.pbegin(k) + keep);
    }
    u.drop_ahead_locked(u.pbegin(k) + keep, u.pend(k));
    u.fill_cursor = std::min(u.fill_cursor, k);
    const std::uint64_t point = u.pbegin(k) + keep;
    if (u.hash_busy || u.hashed > point) {
        // Back to the nearest mark at or before the point, not to byte 0: a
        // PATCH cut off by a killed client costs a re-read of at most a part.
        ++u.hash_gen;
        u.hash_marks.erase(u.hash_marks.upper_bound(point), u.hash_marks.end());
        if (!u.hash_busy)
            restore_hash_locked(u, point);
        else
            u.rollback_floor = std::min(u.rollback_floor, point);
    }
}

}  // namespace de::server::tus

#pragma once
// The hashing pipeline of tus uploads (see tus.cpp's opening comment for the
// whole design): how a PATCH's bytes reach the disk and the whole-file
// SHA-256 without a second pass at completion.
//
// - Body buffers come from a BufferPool (1 MiB, 4 KiB aligned, reused: no
//   zero-fill and no fresh pages per request).
// - write_at() writes aligned runs through a second, O_DIRECT descriptor and
//   the rest through the page cache; hash_range() reads back with O_DIRECT.
// - The whole-file hash is held by one worker at a time (TusUpload::hash_busy):
//   a PATCH that starts where the hash stands feeds it from its buffer; bytes
//   ahead of it are kept in pooled copies within a window, and catch_up()
//   jobs on the pool hash them (or read them back) as the prefix grows.
// - A JobGroup (pool_jobs.hpp) runs a PATCH's write, checksum and hash jobs on the pool while
//   the session's coroutine reads the next buffer.

#include "fs.hpp"

#include <boost/asio.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace de::server::tus {

namespace asio = boost::asio;

inline constexpr std::size_t k_chunk = 1 << 20;
// A catch-up job hashes at most this much before it re-posts itself.
inline constexpr std::uint64_t k_hash_slice = 16ull << 20;
// Cached bytes are written back in windows of this size as a PATCH goes.
inline constexpr std::uint64_t k_writeback_window = 8ull << 20;
// Catch-up hashing reads this much at a time (from the disk, with O_DIRECT).
inline constexpr std::size_t k_hash_read = 4 << 20;
// Bytes that arrive ahead of the whole-file hash (other parts) are also kept
// in memory when they start less than k_ahead_window past it (those are
// hashed next; farther ones would only hold the budget), up to
// k_ahead_total_max across all uploads, so that the hash takes them from there
// instead of reading them back from the disk (docs/server.md).
inline constexpr std::uint64_t k_ahead_window = 16 << 20;
inline constexpr std::size_t k_ahead_total_max = 32 << 20;
// Bytes held by ahead copies across all uploads (counted in whole buffers).
inline std::atomic<std::size_t> g_ahead_total{0};

// Body buffers, reused across PATCHes and by the ahead window: no zero-fill
// and no fresh pages per request, and at most k_keep idle buffers kept.
class BufferPool {
  public:
    class Lease {
      public:
        // The pool is shared so that a lease outliving the service (a session
        // frame destroyed at exit) stays safe.
        Lease(std::shared_ptr<BufferPool> pool, AlignedBuffer buf)
            : m_pool(std::move(pool)), m_buf(std::move(buf)) {}
        ~Lease() { m_pool->put(std::move(m_buf)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        char* data() const { return m_buf.get(); }

      private:
        std::shared_ptr<BufferPool> m_pool;
        AlignedBuffer m_buf;
    };
    AlignedBuffer get() {
        {
            std::lock_guard g(m_mu);
            if (!m_free.empty()) {
                auto b = std::move(m_free.back());
                m_free.pop_back();
                return b;
            }
        }
        return aligned_buffer(k_chunk);
    }
    void put(AlignedBuffer b) {
        if (!b) return;
        std::lock_guard g(m_mu);
        if (m_free.size() < k_keep) m_free.push_back(std::move(b));
    }

    // Frees every idle buffer (freed outside the lock).
    void clear() {
        std::vector<AlignedBuffer> drop;
        std::lock_guard g(m_mu);
        drop.swap(m_free);
    }

  private:
    // Two buffers for each of a few PATCHes and one upload's ahead window.
    static constexpr std::size_t k_keep = 8 + k_ahead_window / k_chunk;
    std::mutex m_mu;
    std::vector<AlignedBuffer> m_free;
};

struct TusUpload;
using UploadPtr = std::shared_ptr<TusUpload>;

// Writes `n` bytes at `pos` through the upload's O_DIRECT descriptor when
// everything is aligned (fs.hpp's write_at). True when it went direct; errno in `err`.
bool write_at(const TusUpload& u, const char* data, std::size_t n, std::uint64_t pos, int& err);
// Feeds [pos, pos+n) to u.file_hash (the caller holds the hasher), keeping a
// mark (a copy of the hash state) at each part start it crosses, so that a
// rollback behind the hash restarts it from there (rollback_locked).
void hash_feed(TusUpload& u, std::uint64_t pos, const char* data, std::size_t n);
// At most this many marks per upload (the oldest go first).
inline constexpr std::size_t k_max_hash_marks = 64;
// Hashes [from, to) of the data file into u.file_hash (the caller holds the hasher).
bool hash_range(TusUpload& u, std::uint64_t from, std::uint64_t to);
// Gives the hasher back: the hash now covers [0, upto), unless a rollback
// behind it bumped hash_gen meanwhile (then it starts over).
void release_hasher_locked(TusUpload& u, std::uint64_t gen, std::uint64_t upto);
// Starts a catch-up job when written bytes wait beyond the hash.
void maybe_catch_up_locked(const UploadPtr& u, asio::thread_pool& pool);
// Part k goes back to `keep` bytes; a hash that ran past that point restarts.
// `ours`: this process rolled it back (a PATCH here), so the part's epoch is
// bumped for the other replicas; false: merging another replica's rollback.
void rollback_locked(TusUpload& u, std::size_t k, std::uint64_t keep, bool ours = true);

}  // namespace de::server::tus

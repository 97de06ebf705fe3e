#pragma once
// What the replicas serving one root hold against an app's quota, shared on
// the root so that uploads through different replicas cannot together pass
// it. Each replica keeps one small file per app, <root>/apps/<app>/quota/<id>
// (its replica id, replica.hpp), saying what it has reserved now (bytes,
// entries, the part of the bytes still to be written) and what it committed
// in the last few minutes, per second. Every change and every check happens
// under the OFD lock of <root>/apps/<app>/quota/.lock (file_lock.hpp), so a
// check and the reservation it admits are one step for all replicas.
//
// A resumable (tus) upload outlives the replica that created it: any replica
// continues it. Its reservation is therefore the upload's, not a replica's:
// the file u.<upload id> beside the replicas' files, counted by every replica
// (the creator included) until the upload completes, is terminated or
// expires, whoever does that. One whose upload's state file is gone (and that
// is older than a minute, so not one being created) is removed when seen.
//
// A replica's own reservations and usage stay in MountStore; the ledger only
// adds the others': their reservations while they live (a dead replica's
// uploads died with it), and their commits since this replica last counted
// the mount (less a margin for clocks that differ between machines), which
// its count may not have seen. Both err on the high side: a commit counted
// twice for up to a count's age, never one missed.

#include "api_error.hpp"
#include "replica.hpp"

#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>

namespace de::server {

class QuotaLedger {
  public:
    struct Held {
        std::uint64_t bytes = 0;
        std::uint64_t entries = 0;
        std::uint64_t streamed = 0;  // of `bytes`, still to be written to the disk
    };
    // Commits of one second (wall clock, seconds since the epoch).
    struct Committed {
        std::int64_t second = 0;
        std::uint64_t bytes = 0;
        std::uint64_t entries = 0;
    };
    struct Others {
        Held reserved;                   // by the other live replicas, and by uploads
        std::uint64_t recent_bytes = 0;  // committed by any other replica since then
        std::uint64_t recent_entries = 0;
    };
    // How long a replica lists its commits; a count older than this (less
    // the margin) is counted again before it is trusted (MountStore).
    static constexpr std::int64_t k_keep_s = 300;
    static constexpr std::int64_t k_skew_margin_ms = 2000;
    // An upload reservation without its upload's state file is stale after this.
    static constexpr std::int64_t k_orphan_after_s = 60;

    QuotaLedger(std::filesystem::path apps_dir, Replicas& replicas)
        : m_apps_dir(std::move(apps_dir)), m_replicas(replicas) {}

    // One app's ledger, locked for as long as the object lives.
    class Session {
      public:
        // nullopt-like: an app whose folder is gone has no ledger (valid() false).
        bool valid() const { return m_lock.held(); }
        // The other replicas' part, their commits counted from `since_ms`.
        Others others(std::int64_t since_ms);
        // Records what this replica holds and committed lately in the app.
        void publish(const Held& mine, const std::deque<Committed>& recent);
        // An upload's own reservation (see above): written, read, removed.
        void put_upload(std::string_view id, const Held& held);
        std::optional<Held> upload(std::string_view id);
        void remove_upload(std::string_view id);
        // Every upload reservation of the app goes (its mount was turned off).
        void remove_uploads();

      private:
        friend class QuotaLedger;
        Session(QuotaLedger& ledger, UniqueFd dir, FileLock lock)
            : m_ledger(&ledger), m_dir(std::move(dir)), m_lock(std::move(lock)) {}
        QuotaLedger* m_ledger;
        UniqueFd m_dir;
        FileLock m_lock;
    };
    // Locks the app's ledger (creating its folder). An app whose folder is
    // gone gets an invalid session; other failures are errors.
    ApiResult<Session> open(const std::string& app);

    // The text of a ledger file, and back (exposed for the unit test).
    static std::string format(const Held& held, const std::deque<Committed>& recent);
    static bool parse(std::string_view text, Held& held, std::deque<Committed>& recent);

  private:
    std::filesystem::path m_apps_dir;
    Replicas& m_replicas;
};

}  // namespace de::server

#pragma once
// Sync leases (docs/api.md, "Sync lease"): at most one `sync push` writes into
// an app at a time. A lease is a small JSON file beside the app's mount,
// <root>/apps/<app>/sync.lease ({"id","holder","since_ms","expires_ms"}),
// replaced whole (temp file, fsync, rename, fsync of the folder) and changed
// only while holding an fcntl write lock on <root>/apps/<app>/sync.lease.lock
// (an open file description lock where the kernel has them, so that threads
// of one process exclude each other as well as processes do). Nothing lives
// in memory: several de-server processes sharing one root see the same
// lease. A lease is live until `expires`; an expired one counts as absent.
//
// The store knows nothing of owners: the router checks that the caller owns
// the app before it asks.

#include "api_error.hpp"

#include <de/types.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace de::server {

class LeaseStore {
  public:
    // `root` is the server's root; leases live in <root>/apps/<app>/.
    explicit LeaseStore(std::filesystem::path root);

    // The TTL a request asks for, clamped to the contract's bounds (default
    // when absent).
    static int clamp_ttl(std::optional<std::int64_t> ttl_s);

    // A new lease for `holder`, or conflict naming the live lease's holder and
    // since when (the error's extra carries it as "lease"). With `replace`,
    // a live lease whose id equals it is taken over.
    ApiResult<SyncLease> acquire(std::string_view app, const std::string& holder, int ttl_s,
                                 const std::optional<std::string>& replace);
    // Extends the live lease `id` to now + ttl; conflict when `id` is not live.
    ApiResult<SyncLease> renew(std::string_view app, std::string_view id, int ttl_s);
    // Ends the live lease `id`; not_found when `id` is not live.
    ApiResult<void> release(std::string_view app, std::string_view id);
    // Fencing: conflict unless `id` is the app's live lease.
    ApiResult<void> check(std::string_view app, std::string_view id);
    // The app's live lease, if any.
    ApiResult<std::optional<SyncLease>> live(std::string_view app);

    // Tests: milliseconds since the epoch (default: the system clock).
    void set_clock(std::function<std::int64_t()> now_ms) { m_now_ms = std::move(now_ms); }

  private:
    std::filesystem::path app_dir(std::string_view app) const;
    ApiResult<std::optional<SyncLease>> read_live(std::string_view app, std::int64_t now_ms);

    std::filesystem::path m_root;
    std::function<std::int64_t()> m_now_ms;
    // Also serialises the threads of this process where only classic (per
    // process) fcntl locks exist.
    std::mutex m_mutex;
};

// "2026-12-06T08:14:56Z"
std::string iso_time_utc(std::int64_t unix_s);

}  // namespace de::server

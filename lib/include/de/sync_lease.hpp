#pragma once
// The sync lease a `sync push` holds on its app (docs/api.md, "Sync lease"):
// taken before the remote side is scanned, renewed in the background every
// TTL/3, sent with every write (ClientOptions::sync_lease, so the server
// refuses this sync's writes once another took over), released at the end --
// also on an error or Ctrl-C. A second sync of the same app meanwhile fails
// with conflict (exit 5) naming the holder and since when.
//
// A lease left behind by a process that died (kill -9) on this host is taken
// over at once: the holder string says "HOSTNAME pid=N start=T" (T: the
// process's start time in clock ticks since boot, /proc/PID/stat), and a
// holder on this host whose pid is gone, or now belongs to a process that
// started at another time, is dead. A dead holder elsewhere is waited out by
// its lease's TTL.

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/types.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace de {

class SyncLeaseHold {
  public:
    // Takes the lease of `app` (ttl_s: 0 for the server's default of 60 s).
    static Result<std::shared_ptr<SyncLeaseHold>> take(const ClientOptions& options,
                                                       std::string_view app, int ttl_s = 0);
    ~SyncLeaseHold();
    SyncLeaseHold(const SyncLeaseHold&) = delete;
    SyncLeaseHold& operator=(const SyncLeaseHold&) = delete;

    const SyncLease& lease() const { return m_lease; }
    // The options with sync_lease set: Clients made from them write under the lease.
    const ClientOptions& client_options() const { return m_leased; }
    // True once a renewal found the lease gone (taken over, or expired).
    bool lost() const { return m_lost.load(); }
    // The conflict a sync that lost its lease ends with.
    Error lost_error() const;
    // Renews once, now: at the end of a sync, whose writes count only if the
    // lease was still its own when they were made (a write already in flight
    // when another sync took over is not refused). Sets lost() if it is gone.
    void confirm();
    // Stops renewing and releases the lease (best effort, also after
    // Ctrl-C); at most once.
    void release();
    bool released() const { return m_released.load(); }

  private:
    SyncLeaseHold(ClientOptions options, std::string app, SyncLease lease, int ttl_s);
    void renew_loop();

    ClientOptions m_options;  // without the lease (the lease routes are not fenced)
    ClientOptions m_leased;
    std::string m_app;
    SyncLease m_lease;
    int m_ttl_s;
    std::atomic<bool> m_lost{false};
    std::string m_lost_reason;  // set before m_lost
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::atomic<bool> m_released{false};
    std::thread m_renewer;
};

// "HOSTNAME pid=N start=T" for this process.
std::string sync_lease_holder();
// Whether `holder` names a process on this host that is no longer running
// (the pid is gone or belongs to a process with another start time).
bool sync_lease_holder_dead(std::string_view holder);

}  // namespace de

// See de/sync_lease.hpp.
#include <de/api.hpp>
#include <de/sync_lease.hpp>

#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <fstream>
#include <sstream>
#include <vector>

namespace de {

namespace {

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

// Field 22 of /proc/PID/stat (start time in clock ticks since boot); nullopt
// when unreadable. The command name (field 2) may hold spaces and ')', so the
// fields are counted from the last ')'.
std::optional<std::string> process_start(long pid) {
    std::ifstream in(pid == 0 ? std::string("/proc/self/stat") : fmt::format("/proc/{}/stat", pid));
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 1));
    std::string f;
    for (int i = 3; i <= 22; ++i) {
        if (!(fields >> f)) return std::nullopt;
    }
    return f;
}

struct Holder {
    std::string host;
    long pid = 0;
    std::string start;
};

std::optional<Holder> parse_holder(std::string_view text) {
    auto words = std::vector<std::string>{};
    std::istringstream in{std::string(text)};
    for (std::string w; in >> w;)
        words.push_back(w);
    if (words.size() != 3 || !words[1].starts_with("pid=") || !words[2].starts_with("start="))
        return std::nullopt;
    Holder h;
    h.host = words[0];
    try {
        std::size_t used = 0;
        h.pid = std::stol(words[1].substr(4), &used);
        if (used != words[1].size() - 4 || h.pid <= 0) return std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
    h.start = words[2].substr(6);
    return h;
}

}  // namespace

std::string sync_lease_holder() {
    return fmt::format("{} pid={} start={}", host_name(), static_cast<long>(::getpid()),
                       process_start(0).value_or("0"));
}

bool sync_lease_holder_dead(std::string_view text) {
    auto h = parse_holder(text);
    if (!h || h->host != host_name()) return false;
    if (::kill(static_cast<pid_t>(h->pid), 0) != 0 && errno == ESRCH) return true;
    // The pid runs: the same process only if it started at the same time.
    auto start = process_start(h->pid);
    return start && *start != h->start;
}

Result<std::shared_ptr<SyncLeaseHold>> SyncLeaseHold::take(const ClientOptions& options,
                                                           std::string_view app, int ttl_s) {
    ClientOptions plain = options;
    plain.sync_lease.clear();
    auto client = Client::create(plain);
    if (!client) return std::unexpected(std::move(client.error()));
    const std::string holder = sync_lease_holder();
    const int ttl = ttl_s > 0 ? ttl_s : api::k_sync_lease_default_ttl_s;
    SyncLease current;
    auto got = client->acquire_sync_lease(app, holder, ttl, std::nullopt, &current);
    // A lease of this very process (a POST retried after its answer was
    // lost) or of a process on this host that died: take it over at once.
    if (!got && got.error().kind == ErrorKind::conflict && !current.id.empty() &&
        (current.holder == holder || sync_lease_holder_dead(current.holder))) {
        std::optional<std::string> replace = current.id;
        got = client->acquire_sync_lease(app, holder, ttl, replace, &current);
    }
    if (!got) {
        Error e = std::move(got.error());
        if (e.kind == ErrorKind::conflict)
            e.message += "; run this sync again once that one has finished";
        return std::unexpected(std::move(e));
    }
    int granted = static_cast<int>(std::clamp<std::int64_t>(
        got->expires - got->since, api::k_sync_lease_min_ttl_s, api::k_sync_lease_max_ttl_s));
    return std::shared_ptr<SyncLeaseHold>(
        new SyncLeaseHold(std::move(plain), std::string(app), std::move(*got), granted));
}

SyncLeaseHold::SyncLeaseHold(ClientOptions options, std::string app, SyncLease lease, int ttl_s)
    : m_options(std::move(options)),
      m_leased(m_options),
      m_app(std::move(app)),
      m_lease(std::move(lease)),
      m_ttl_s(ttl_s) {
    m_leased.sync_lease = m_lease.id;
    m_renewer = std::thread([this] { renew_loop(); });
}

SyncLeaseHold::~SyncLeaseHold() {
    release();
}

Error SyncLeaseHold::lost_error() const {
    return Error{ErrorKind::conflict,
                 fmt::format("the sync of app '{}' stopped: {}; the mount may hold part of this "
                             "sync's changes; run the sync again",
                             m_app, m_lost_reason),
                 409, "conflict"};
}

void SyncLeaseHold::renew_loop() {
    auto client = Client::create(m_options);
    // Every TTL/3, so that two renewals may fail (a server restart) before
    // the lease runs out; after a failure, again after a second.
    const auto interval = std::chrono::milliseconds(m_ttl_s * 1000 / 3);
    auto wait = interval;
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        if (m_wake.wait_for(lock, wait, [&] { return m_stop; })) break;
        lock.unlock();
        Result<SyncLease> r = client ? client->renew_sync_lease(m_app, m_lease.id, m_ttl_s)
                                     : Result<SyncLease>(std::unexpected(client.error()));
        lock.lock();
        if (r) {
            wait = interval;
        } else if (r.error().kind == ErrorKind::conflict ||
                   r.error().kind == ErrorKind::not_found) {
            m_lost_reason = r.error().message;
            m_lost = true;
            return;
        } else {
            wait = std::min<std::chrono::milliseconds>(interval, std::chrono::seconds(1));
        }
    }
}

void SyncLeaseHold::confirm() {
    if (m_lost || m_released) return;
    auto client = Client::create(m_options);
    if (!client) return;
    auto r = client->renew_sync_lease(m_app, m_lease.id, m_ttl_s);
    if (!r && (r.error().kind == ErrorKind::conflict || r.error().kind == ErrorKind::not_found)) {
        std::lock_guard lock(m_mutex);
        if (m_lost) return;
        m_lost_reason = r.error().message;
        m_lost = true;
    }
}

void SyncLeaseHold::release() {
    {
        std::lock_guard lock(m_mutex);
        if (m_released.exchange(true)) return;
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_renewer.joinable()) m_renewer.join();
    if (m_lost) return;
    if (auto client = Client::create(m_options))
        (void)client->release_sync_lease(m_app, m_lease.id);
}

}  // namespace de

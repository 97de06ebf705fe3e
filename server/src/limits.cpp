// See limits.hpp.
#include "limits.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace de::server {

// ---- UserLimits -----------------------------------------------------------------------------

UserLimits::Slot& UserLimits::Slot::operator=(Slot&& o) noexcept {
    if (this != &o) {
        release();
        m_owner = o.m_owner;
        m_user = std::move(o.m_user);
        m_kind = o.m_kind;
        o.m_owner = nullptr;
    }
    return *this;
}

void UserLimits::Slot::release() {
    if (m_owner) m_owner->give_back(m_user, m_kind);
    m_owner = nullptr;
}

int UserLimits::limit(Hold kind) const {
    switch (kind) {
        case Hold::connection:
            return m_opts.connections_per_user;
        case Hold::stream:
            return m_opts.streams_per_user;
        case Hold::upload:
            return m_opts.uploads_per_user;
    }
    return 0;
}

std::optional<UserLimits::Slot> UserLimits::take(const std::string& user, Hold kind) {
    std::lock_guard guard(m_mutex);
    int& n = m_counts[user].n[static_cast<int>(kind)];
    if (n >= limit(kind)) return std::nullopt;
    ++n;
    Slot s;
    s.m_owner = this;
    s.m_user = user;
    s.m_kind = kind;
    return s;
}

int UserLimits::held(const std::string& user, Hold kind) {
    std::lock_guard guard(m_mutex);
    auto it = m_counts.find(user);
    return it == m_counts.end() ? 0 : it->second.n[static_cast<int>(kind)];
}

void UserLimits::give_back(const std::string& user, Hold kind) {
    std::lock_guard guard(m_mutex);
    auto it = m_counts.find(user);
    if (it == m_counts.end()) return;
    int& n = it->second.n[static_cast<int>(kind)];
    if (n > 0) --n;
    const auto& c = it->second.n;
    if (c[0] == 0 && c[1] == 0 && c[2] == 0) m_counts.erase(it);
}

// ---- descriptors ----------------------------------------------------------------------------

DescriptorLimits raise_descriptor_limit() {
    DescriptorLimits out;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return out;
    out.before = out.after = rl.rlim_cur;
    rlim_t want = rl.rlim_max;
    // RLIM_INFINITY cannot be set: the kernel's ceiling is fs.nr_open.
    if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "re")) {
        unsigned long long nr = 0;
        if (std::fscanf(f, "%llu", &nr) == 1 && nr > 0) want = std::min<rlim_t>(want, nr);
        std::fclose(f);
    }
    if (want > rl.rlim_cur) {
        rl.rlim_cur = want;
        if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) out.after = want;
    }
    return out;
}

std::optional<Descriptors> count_descriptors() {
    Descriptors d;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::nullopt;
    d.limit = rl.rlim_cur;
    // Linux 6.2 and later report the number of open descriptors as the size
    // of /proc/self/fd, without a descriptor to read it.
    struct stat st {};
    if (::stat("/proc/self/fd", &st) == 0 && st.st_size > 0) {
        d.open = static_cast<std::uint64_t>(st.st_size);
        return d;
    }
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return std::nullopt;  // EMFILE: nothing is free
    std::uint64_t n = 0;
    while (dirent* e = ::readdir(dir))
        if (e->d_name[0] != '.') ++n;
    ::closedir(dir);
    d.open = n > 0 ? n - 1 : 0;  // the directory's own descriptor
    return d;
}

bool descriptors_spare(int reserve) {
    auto d = count_descriptors();
    if (!d) return false;
    return d->open + static_cast<std::uint64_t>(std::max(reserve, 0)) < d->limit;
}

// ---- AuthThrottle ---------------------------------------------------------------------------

std::string AuthThrottle::client_key(std::string_view address) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(address), ec);
    if (ec) return std::string(address);
    if (a.is_v6()) {
        auto v6 = a.to_v6();
        if (v6.is_v4_mapped())
            return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
        auto bytes = v6.to_bytes();
        std::fill(bytes.begin() + 8, bytes.end(), 0);
        return boost::asio::ip::address_v6(bytes).to_string() + "/64";
    }
    return a.to_string();
}

int AuthThrottle::over(Record& r, Clock::time_point now) {
    if (r.count > 0 && now - r.last >= k_window) r.count = 0;  // a quiet minute forgives
    ++r.count;
    r.last = now;
    return r.count - m_limit;
}

void AuthThrottle::prune(Clock::time_point now) {
    for (auto it = m_records.begin(); it != m_records.end();)
        it = now - it->second.last >= k_window ? m_records.erase(it) : std::next(it);
    // Still full: a flood of fresh keys; start over rather than grow.
    if (m_records.size() >= k_max_records) m_records.clear();
}

AuthThrottle::Verdict AuthThrottle::failed(std::string_view client, std::string_view username,
                                           Clock::time_point now) {
    std::lock_guard guard(m_mutex);
    if (m_records.size() >= k_max_records) prune(now);
    int n = over(m_records["a:" + std::string(client)], now);
    if (!username.empty()) n = std::max(n, over(m_records["u:" + std::string(username)], now));
    Verdict v;
    if (m_limit <= 0 || n <= 0) return v;
    v.slowed = true;
    int shift = std::min(n - 1, 16);
    v.delay =
        std::min<std::chrono::milliseconds>(std::chrono::milliseconds(125LL << shift), k_max_delay);
    v.retry_after_s = std::min(1 << std::min(shift, 6), k_max_retry_after_s);
    return v;
}

bool AuthThrottle::park(const std::string& client) {
    std::lock_guard guard(m_mutex);
    int& n = m_parked[client];
    if (n >= k_max_parked) return false;
    ++n;
    return true;
}

void AuthThrottle::unpark(const std::string& client) {
    std::lock_guard guard(m_mutex);
    auto it = m_parked.find(client);
    if (it == m_parked.end()) return;
    if (--it->second <= 0) m_parked.erase(it);
}

}  // namespace de::server

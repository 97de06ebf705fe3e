#pragma once
// What one user may hold open at once, the process's open-files reserve, and
// the slowing of failed authentication (docs/server.md, "Limits").
//
// UserLimits counts, per user, the connections that carried one of its
// requests, the streaming answers in flight (file downloads, manifests,
// listings) and the uploads in flight (PUT, batch, tus). A request beyond its
// user's limit is answered 429 before any work is done, so one user's load
// cannot take what another user's answer needs. The counts are slots: a Slot
// gives its unit back when it goes.
//
// The descriptor reserve: de-server raises its soft RLIMIT_NOFILE to the hard
// limit at start-up, and refuses new streams and uploads (503, Retry-After)
// once fewer than `reserve` descriptors are free, so health, authentication
// and small JSON answers keep working however many streams are open.
//
// AuthThrottle: past `failures` failed authentications in a minute from one
// client address (an IPv6 /64) or for one username, each further failure is
// answered 429 with a Retry-After that doubles (up to a minute) after a delay
// that doubles (up to 2 s). Valid credentials are never slowed: the check runs
// first, and only a failure consults the throttle.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace de::server {

struct LimitOptions {
    int connections_per_user = 128;
    int streams_per_user = 64;
    int uploads_per_user = 64;
    int descriptor_reserve = 64;
    int auth_failures = 10;  // per client address or username in a minute before slowing
};

enum class Hold { connection = 0, stream = 1, upload = 2 };

class UserLimits {
  public:
    explicit UserLimits(const LimitOptions& o) : m_opts(o) {}
    UserLimits(const UserLimits&) = delete;
    UserLimits& operator=(const UserLimits&) = delete;

    // One unit of a user's limit, given back on destruction.
    class Slot {
      public:
        Slot() = default;
        Slot(Slot&& o) noexcept { *this = std::move(o); }
        Slot& operator=(Slot&& o) noexcept;
        ~Slot() { release(); }
        void release();
        bool held() const { return m_owner != nullptr; }
        const std::string& user() const { return m_user; }

      private:
        friend class UserLimits;
        UserLimits* m_owner = nullptr;
        std::string m_user;
        Hold m_kind = Hold::connection;
    };

    // A slot of `kind` for `user`, or nullopt when the user holds its limit already.
    std::optional<Slot> take(const std::string& user, Hold kind);
    int held(const std::string& user, Hold kind);
    int limit(Hold kind) const;

  private:
    void give_back(const std::string& user, Hold kind);

    LimitOptions m_opts;
    std::mutex m_mutex;
    struct Counts {
        int n[3] = {0, 0, 0};
    };
    std::unordered_map<std::string, Counts> m_counts;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (bounded by fs.nr_open).
// Returns the soft limit before and after.
struct DescriptorLimits {
    std::uint64_t before = 0;
    std::uint64_t after = 0;
};
DescriptorLimits raise_descriptor_limit();

// Descriptors this process has open, and its soft limit; nullopt when they
// cannot be counted (which itself means there is no room left).
struct Descriptors {
    std::uint64_t open = 0;
    std::uint64_t limit = 0;
};
std::optional<Descriptors> count_descriptors();

// Whether at least `reserve` descriptors are free.
bool descriptors_spare(int reserve);

class AuthThrottle {
  public:
    using Clock = std::chrono::steady_clock;
    explicit AuthThrottle(int failures_per_minute) : m_limit(failures_per_minute) {}

    struct Verdict {
        bool slowed = false;                 // answer 429 instead of 401
        std::chrono::milliseconds delay{0};  // wait this long before answering
        int retry_after_s = 0;               // the Retry-After header
    };
    // Records a failed authentication from `client` (an address) naming
    // `username` (empty for a token), and says how to answer it.
    Verdict failed(std::string_view client, std::string_view username, Clock::time_point now);

    // The key of an address: IPv4 whole, IPv6 by its /64.
    static std::string client_key(std::string_view address);

    // Parking: how many slowed answers wait for one client at most; beyond,
    // they are answered at once (the wait holds a descriptor).
    bool park(const std::string& client);
    void unpark(const std::string& client);

    static constexpr auto k_window = std::chrono::seconds(60);
    static constexpr auto k_max_delay = std::chrono::milliseconds(2'000);
    static constexpr int k_max_retry_after_s = 60;
    static constexpr int k_max_parked = 8;
    static constexpr std::size_t k_max_records = 65'536;

  private:
    struct Record {
        int count = 0;
        Clock::time_point last{};
    };
    int over(Record& r, Clock::time_point now);
    void prune(Clock::time_point now);

    int m_limit;
    std::mutex m_mutex;
    std::unordered_map<std::string, Record> m_records;
    std::unordered_map<std::string, int> m_parked;
};

}  // namespace de::server

// The holder string of a sync lease and the "is its process gone" test that
// decides a takeover (de/sync_lease.hpp).
#include <de/sync_lease.hpp>

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <regex>
#include <string>

namespace {
std::string host() {
    char buf[HOST_NAME_MAX + 1] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}
}  // namespace

TEST_CASE("the holder names this host, this pid and its start time") {
    std::string h = de::sync_lease_holder();
    std::smatch m;
    REQUIRE(std::regex_match(h, m, std::regex("(\\S+) pid=(\\d+) start=(\\d+)")));
    CHECK(m[1] == host());
    CHECK(std::stol(m[2]) == static_cast<long>(::getpid()));
    CHECK(m[3] != "0");
    CHECK_FALSE(de::sync_lease_holder_dead(h));  // this very process
}

TEST_CASE("a holder on this host whose process is gone or was replaced is dead") {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(de::sync_lease_holder_dead(host() + " pid=" + std::to_string(child) + " start=1"));
    // Our pid, but another start time: the pid was reused.
    CHECK(de::sync_lease_holder_dead(host() + " pid=" + std::to_string(::getpid()) + " start=1"));
}

TEST_CASE("holders elsewhere or unparsable are never taken for dead") {
    CHECK_FALSE(de::sync_lease_holder_dead("elsewhere.example pid=1 start=1"));
    CHECK_FALSE(de::sync_lease_holder_dead("just text"));
    CHECK_FALSE(de::sync_lease_holder_dead(host() + " pid=x start=1"));
    CHECK_FALSE(de::sync_lease_holder_dead(""));
}

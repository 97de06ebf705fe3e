// Why one integration test runs with UBSan's vptr check suppressed
// (tests/ubsan_emfile.supp, used by it_test_server_quota_walk only).
//
// UBSan's vptr check reads an object's vtable prefix only after asking the
// runtime whether that memory is readable, and the LLVM 16 runtime answers
// by writing it through a pipe(2). With no descriptor free, pipe() fails and a
// valid object is reported as "object has invalid vptr" / "<memory cannot be
// printed>". quota_walk holds de-server a few descriptors below its limit on
// purpose (issue 18, F1/F5), so the check cannot work there.
//
// This program is that situation reduced to one call on a live object:
//   vptr_emfile exhaust   takes every descriptor, then calls   -> UBSan reports
//   vptr_emfile keep      keeps descriptors free, same call    -> clean
// tests/sanitizer/CMakeLists.txt asserts both, and that the suppression file
// silences the first. If a later runtime stops needing a descriptor, the
// "exhaust" test fails and the suppression can go.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {
struct Base {
    virtual ~Base() = default;
    virtual int f() { return 1; }
};
struct Derived : Base {
    int f() override { return 2; }
};
__attribute__((noinline)) int call(Base* b) {
    return b->f();
}
}  // namespace

int main(int argc, char** argv) {
    const bool exhaust = argc > 1 && std::strcmp(argv[1], "exhaust") == 0;
    Base* obj = new Derived;  // live and valid; its type is not yet in UBSan's cache
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 64;
    setrlimit(RLIMIT_NOFILE, &rl);
    std::vector<int> fds;
    if (exhaust)
        for (;;) {
            const int fd = ::open("/dev/null", O_RDONLY);
            if (fd < 0) break;
            fds.push_back(fd);
        }
    const int r = call(obj);
    for (int fd : fds)
        ::close(fd);
    std::printf("descriptors held %zu, call returned %d\n", fds.size(), r);
    delete obj;
    return r == 2 ? 0 : 1;
}

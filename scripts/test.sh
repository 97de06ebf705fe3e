#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs the dependencies,
# builds, and runs every unit and integration test with CTest — twice: in the
# normal build (${BUILD_DIR:-build}, g++, RelWithDebInfo) and in the sanitizer
# build (${SAN_BUILD_DIR:-build-asan}: clang++-16, ASan + UBSan + LSan, -O0 -g1;
# any sanitizer report fails the run, see tests/CMakeLists.txt).
# Tests run TEST_JOBS at a time (default: twice the cores): they spend about a
# third of their time waiting on servers and child processes (2 cores, normal
# build: 61 % busy and 320 s at -j2, 83 % and 257 s at -j4).
#   SANITIZE=0 scripts/test.sh   skips the sanitizer build and its run.
#   SAN_CXX=g++                  builds the sanitizer build with g++ instead
#                                (server/src/tus.cpp, cold: clang 67 s CPU, g++ 87 s;
#                                g++ at -O2 -g: 191 s, the normal build 49 s).
# Then a short run of every libFuzzer target from its committed corpus
# (scripts/fuzz.sh: clang++-16, ${FUZZ_BUILD_DIR:-build-fuzz}; a crash fails the run):
#   FUZZ=0 scripts/test.sh       skips it.
#   FUZZ_SECONDS=N               seconds per target (default 5; targets run nproc at a time;
#                                longer runs: scripts/fuzz.sh 600 TARGET).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
./scripts/deps.sh
echo "test.sh: deps $((SECONDS - t0)) s" >&2

t=$SECONDS
# -g1 (line tables, enough for backtraces): full -g made g++ spend a quarter
# more time per heavy file. With the precompiled headers (DE_PCH) a clean build
# went from 616 s to 430 s (-j2, quiet machine).
./scripts/build.sh -DDE_TEST_HOOKS=ON -DDE_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
echo "test.sh: build $((SECONDS - t)) s" >&2
if [[ "${SANITIZE:-1}" != 0 ]]; then
    t=$SECONDS
    # -O0: clang's optimiser is most of an instrumented file's compile time
    # (dav.cpp 104 s at -O1, 32 s at -O0, without the precompiled header); the
    # whole build went from 574 s to 310 s, its tests from 298 s to 401 s
    # (2 cores, -j4). The sanitizers find the same faults unoptimised.
    CXX=${SAN_CXX:-clang++-16} BUILD_DIR=${SAN_BUILD_DIR:-build-asan} ./scripts/build.sh \
        -DDE_SANITIZE=ON -DDE_TEST_HOOKS=ON -DDE_WERROR=ON \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1 -DNDEBUG"
    echo "test.sh: sanitizer build $((SECONDS - t)) s" >&2
fi

jobs=${TEST_JOBS:-$(($(nproc) * 2))}
rc=0
t=$SECONDS
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$jobs" --timeout 600) || rc=1
echo "test.sh: tests $((SECONDS - t)) s" >&2
if [[ "${SANITIZE:-1}" != 0 ]]; then
    t=$SECONDS
    (cd "${SAN_BUILD_DIR:-build-asan}" && ctest --output-on-failure -j "$jobs" --timeout 900) || rc=1
    echo "test.sh: sanitizer tests $((SECONDS - t)) s" >&2
fi
if [[ "${FUZZ:-1}" != 0 ]]; then
    t=$SECONDS
    FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)} ./scripts/fuzz.sh "${FUZZ_SECONDS:-5}" || rc=1
    echo "test.sh: fuzz $((SECONDS - t)) s" >&2
fi
echo "test.sh: total $((SECONDS - t0)) s" >&2
exit "$rc"

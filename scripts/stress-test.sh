#!/usr/bin/env bash
# Runs CTest tests N times while stress-ng keeps the CPUs busy, and prints how many
# runs passed: a load test for races that only show on a slow, loaded machine.
#   scripts/stress-test.sh TESTREGEX [N=20] [BUILD_DIR=${BUILD_DIR:-build}]
# Load: `stress-ng --cpu ${STRESS_CPU:-2}` (Debian's stress-ng, see scripts/deps.sh).
# The output of failed runs is kept in BUILD_DIR/stress-logs/. Exit status 0 only
# when every run passed.
set -euo pipefail
cd "$(dirname "$0")/.."
regex=${1:?usage: scripts/stress-test.sh TESTREGEX [N] [BUILD_DIR]}
runs=${2:-20}
build=${3:-${BUILD_DIR:-build}}
command -v stress-ng >/dev/null || { echo "stress-test: stress-ng is missing (scripts/deps.sh installs it)" >&2; exit 2; }
[[ -f "$build/CTestTestfile.cmake" ]] || { echo "stress-test: no CTest build in $build" >&2; exit 2; }
logs="$build/stress-logs"
mkdir -p "$logs"

stress-ng --cpu "${STRESS_CPU:-2}" --quiet &
stress_pid=$!
trap 'kill "$stress_pid" 2>/dev/null || true; wait "$stress_pid" 2>/dev/null || true' EXIT
sleep 1  # let the load start

pass=0
started=$SECONDS
for ((i = 1; i <= runs; i++)); do
    log="$logs/run-$i.log"
    t0=$SECONDS
    if (cd "$build" && ctest -R "$regex" --output-on-failure --timeout 600) >"$log" 2>&1 &&
        grep -q "100% tests passed" "$log"; then
        pass=$((pass + 1))
        rm -f "$log"
        echo "run $i/$runs: passed ($((SECONDS - t0)) s)"
    else
        echo "run $i/$runs: FAILED ($((SECONDS - t0)) s), log: $log"
    fi
done
echo "$regex: $pass of $runs runs passed under stress-ng --cpu ${STRESS_CPU:-2} ($((SECONDS - started)) s; load average $(cut -d' ' -f1-3 /proc/loadavg))"
((pass == runs))

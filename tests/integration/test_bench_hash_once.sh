#!/usr/bin/env bash
# bench/hash_once_bench.sh still prints its whole table: a smoke run with tiny sizes (an 8 MiB
# file, 200 files) against this build's de-cli and de-server and a local nginx. It checks that
# every row of issue 15's targets is there, that every ratio is a number and that every result
# matched its source (the bench's exit status). No time is judged: the figures mean nothing at
# these sizes, and the bench is for people (bench/hash_once.md).
# Needs nginx with libnginx-mod-http-dav-ext (fails without them) and a DE_TEST_HOOKS build:
# the hooks make an 8 MiB upload resumable (DE_CLI_RESUMABLE_THRESHOLD) and slow enough to be
# killed at 40 % (DE_CLI_TEST_SLOW_UPLOAD, on the interrupted run only).
set -euo pipefail
: "${DE_CLI:?}" "${DE_SERVER:?}" "${DE_SOURCE_DIR:?}"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] ||
    fail "nginx is not installed (apt-get install nginx libnginx-mod-http-dav-ext)"
[[ -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ]] ||
    fail "nginx's WebDAV module is not installed (apt-get install libnginx-mod-http-dav-ext)"
[[ -x /usr/bin/time ]] || fail "GNU time is not installed (apt-get install time)"
export PATH="$PATH:/usr/sbin"
if ! grep -q '^DE_TEST_HOOKS:BOOL=ON' "${DE_BUILD_DIR:-.}/CMakeCache.txt" 2>/dev/null; then
    echo "SKIP: needs a -DDE_TEST_HOOKS=ON build (a tiny resumable upload, slowed)" >&2
    exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/de-it-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
rc=0
DE_CLI_RESUMABLE_THRESHOLD=1MiB DE_CLI_PART_SIZE=1MiB \
    BENCH_SIZE=8M BENCH_FILES=200 BENCH_KILL_ENV="DE_CLI_TEST_SLOW_UPLOAD=2000000" TMPDIR="$T" \
    "$DE_SOURCE_DIR/bench/hash_once_bench.sh" >"$T/out" 2>"$T/err" || rc=$?
cat "$T/out"
if ((rc != 0)); then
    tail -30 "$T/err" >&2
    fail "hash_once_bench.sh exited $rc"
fi

python3 - "$T/out" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
head = [l for l in lines if l.startswith("| what |")]
assert len(head) == 1, f"no table header in the output"
cols = [c.strip() for c in head[0].strip("|").split("|")]
want_cols = ["what", "A", "A s", "B", "B s", "ratio", "target", "pass", "A CPU s", "B CPU s",
             "A peak RSS MiB", "B peak RSS MiB"]
assert cols == want_cols, f"columns {cols}"
rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines
        if l.startswith("| ") and not l.startswith("| what |") and not l.startswith("| ---")]
want = ["upload 8 MiB", "upload 8 MiB, durable reference", "download 8 MiB",
        "re-run after kill -9 at 40 %", "upload -r 200 files", "sync pull 200 files",
        "peak RSS client / server at 8 MiB"]
assert len(rows) == len(want), f"{len(rows)} rows, want {len(want)}: {[r[0] for r in rows]}"
for r, w in zip(rows, want):
    assert r[0].startswith(w), f"row {r[0]!r}, want {w!r}"
    assert len(r) == len(want_cols), f"row {r[0]!r} has {len(r)} columns"
    assert re.fullmatch(r"\d+\.\d\d", r[5]), f"row {r[0]!r}: ratio {r[5]!r} is not a number"
    assert r[7] in ("pass", "MISS"), f"row {r[0]!r}: pass column {r[7]!r}"
    if not r[0].startswith("peak RSS"):
        for i in (2, 4):
            assert re.fullmatch(r"\d+\.\d\d", r[i]), f"row {r[0]!r}: time {r[i]!r}"
        for i in (8, 9, 10, 11):
            assert re.fullmatch(r"\d+\.\d+ / (\d+\.\d+|–)", r[i]), f"row {r[0]!r}: {cols[i]} {r[i]!r}"
    else:
        assert re.fullmatch(r"\d+\.\d / \d+\.\d", r[10]), f"RSS row: {r[10]!r}"
kill = rows[3][0]
m = re.search(r"killed at (\d+) % staged", kill)
assert m and 40 <= int(m.group(1)) < 100, f"the interrupted run was not caught at 40 %: {kill!r}"
assert not any(l.startswith("WRONG OR FAILED") for l in lines), "a result differed"
print("PASS: the table has all 7 rows, every ratio is a number")
PY

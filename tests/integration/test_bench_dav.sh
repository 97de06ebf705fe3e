#!/usr/bin/env bash
# bench/dav_bench.sh still prints its whole table: a smoke run with tiny sizes (a 4 MiB file,
# 300 entries, 200 files) against this build's de-server and a local nginx. It checks that every
# row of issue 16's targets is there with a number, and that every result matched its source
# (the bench's exit status). No time is judged: the figures mean nothing at these sizes.
# Needs nginx with libnginx-mod-http-dav-ext, rclone and GNU time (fails without them).
set -euo pipefail
: "${DE_CLI:?}" "${DE_SERVER:?}" "${DE_SOURCE_DIR:?}"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
export PATH="$PATH:/usr/sbin"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/deps.sh)"
[[ -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ]] || fail "libnginx-mod-http-dav-ext is not installed"
command -v rclone >/dev/null || fail "rclone is not installed (scripts/deps.sh)"
[[ -x /usr/bin/time ]] || fail "GNU time is not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/de-it-davbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
rc=0
BENCH_SIZE=4M BENCH_ENTRIES=300 BENCH_REPEAT=2 BENCH_FILES=200 TMPDIR="$T" \
    "$DE_SOURCE_DIR/bench/dav_bench.sh" >"$T/out" 2>"$T/err" || rc=$?
cat "$T/out"
if ((rc != 0)); then
    tail -30 "$T/err" >&2
    fail "dav_bench.sh exited $rc"
fi
python3 - "$T/out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rows = [l for l in text.splitlines() if l.startswith("| ") and not l.startswith("| what")
        and not l.startswith("| ---")]
want = ["PUT 4 MiB (curl -T)", "PUT 4 MiB, durable", "PROPFIND Depth 1 of 300 new entries",
        "PROPFIND Depth 1 of 300 entries", "rclone sync no-op, 200 files",
        "de-server peak RSS"]
for w in want:
    hit = [r for r in rows if r.startswith("| " + w)]
    if not hit:
        sys.exit(f"FAIL: no row '{w}'")
    cells = [c.strip() for c in hit[0].strip("|").split("|")]
    if not re.fullmatch(r"\d+\.\d\d", cells[3]):
        sys.exit(f"FAIL: row '{w}' has no ratio: {cells}")
print(f"test_bench_dav: {len(want)} rows present")
PY

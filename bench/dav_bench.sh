#!/usr/bin/env bash
# The performance targets of issue 16 (WebDAV on de-server) in ONE run and ONE table (not in CI;
# a CTest smoke test runs it with tiny sizes, tests/integration/test_bench_dav.sh). On loopback,
# one disk, de-server's /dav/bench/ against nginx with its WebDAV module (dav-ext), same data:
#   PUT BENCH_SIZE (2 GiB)                 curl -T -> de-server WebDAV  vs  curl -T -> nginx
#                                          (and, as a reference row, vs nginx + sync FILE:
#                                          de-server fsyncs before it answers, nginx never)
#   PROPFIND Depth 1, BENCH_ENTRIES (10k)  curl PROPFIND (allprop) of a folder of that many
#                                          files, BENCH_REPEAT (5) times in a row, warm (and,
#                                          as a reference row, the first listing alone)
#   rclone sync no-op, BENCH_FILES (20k)   rclone sync of a tree the server holds already
#   server peak RSS                        de-server's VmHWM over all of the above, against 64 MiB
# Every row but the first listing is measured BENCH_ROUNDS (3) times, the two servers alternating
# within each round; the table shows each side's median (of the times and of the CPU seconds,
# and the highest peak RSS), so one slow moment of a shared machine does not decide a ratio.
# Each row: both times, the ratio, the target, each side's CPU seconds (client from GNU time;
# server -- de-server, or nginx's workers -- from /proc/PID/stat) and peak RSS (client: GNU time
# %M; server: VmHWM, reset before every timed step). Results are checked after being timed.
#
# It builds nothing: the binaries come from a build dir (Release for figures that mean anything):
#   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target de-cli de-server
#   bench/dav_bench.sh [BUILD_DIR]                    # default: build-rel beside bench/
#   BENCH_SIZE=256M BENCH_FILES=2000 bench/dav_bench.sh      # quick
# env: BENCH_SIZE (2G), BENCH_ENTRIES (10000), BENCH_REPEAT (5), BENCH_FILES (20000),
#      BENCH_ROUNDS (3), BENCH_SEED, BENCH_KEEP=1, DE_CLI / DE_SERVER, TMPDIR (where the data goes).
# Needs nginx, libnginx-mod-http-dav-ext, curl, rclone, GNU time, openssl, python3 (installed
# with apt-get when missing).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

case ${1:-} in
-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
BUILD_DIR=${1:-${BUILD_DIR:-$SRC/build-rel}}
DE_CLI=${DE_CLI:-$BUILD_DIR/cli/de-cli}
DE_SERVER=${DE_SERVER:-$BUILD_DIR/server/de-server}
for b in "$DE_CLI" "$DE_SERVER"; do
    [[ -x "$b" ]] || { echo "dav_bench: $b is missing; build it first (see --help)" >&2; exit 2; }
done
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$(dirname "$DE_SERVER")")/CMakeCache.txt" 2>/dev/null || true)
SIZE=$(bench_bytes "${BENCH_SIZE:-2G}")
ENTRIES=${BENCH_ENTRIES:-10000}
REPEAT=${BENCH_REPEAT:-5}
FILES=${BENCH_FILES:-20000}
ROUNDS=${BENCH_ROUNDS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "dav_bench: BENCH_ROUNDS must be a count, not '$ROUNDS'" >&2; exit 2; }
SEED=${BENCH_SEED:-20261206}

bench_need nginx dav-ext curl rclone time openssl python3

W=$(mktemp -d "${TMPDIR:-/tmp}/de-dav-bench.XXXXXX")
SERVER_PID="" NGINX_PID=""
cleanup() {
    bench_stop_servers
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
export HOME="$W/home" XDG_CACHE_HOME="$W/home/.cache" XDG_CONFIG_HOME="$W/home/.config" \
    XDG_STATE_HOME="$W/home/.local/state" RCLONE_CONFIG="$W/rclone.conf"
mkdir -p "$HOME"
: >"$RCLONE_CONFIG"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date -u '+%Y-%m-%d %H:%M')

ROOT="$W/de-root"
bench_start_de_server "$ROOT" --quota 200GiB
"$DE_CLI" --no-keyfile -q apps create -n bench >/dev/null
"$DE_CLI" --no-keyfile -q mount enable -n bench >/dev/null
MOUNT="$ROOT/apps/bench/mount"
KEY=$DASH_ENTERPRISE_PASSWORD
DEDAV="$SERVER_URL/dav/bench"
bench_start_nginx "$W/ngx"
NGX="$DAV"
read -r -a NGINX_PIDS <<<"$NGINX_WORKERS"
OBSCURED=$(rclone obscure "$KEY")

DE_SERVER_PIDS=$SERVER_PID
bench_results_init

# --- PUT of one big file ----------------------------------------------------------------------
BF="$W/big.bin"
bench_log "generating $SIZE bytes"
bench_gen_file "$BF" "$SIZE" "$SEED"
cat "$BF" >/dev/null
put_de() { T curl -sS -f -o /dev/null -u "bench:$KEY" -T "$BF" "$DEDAV/big.bin"; }
put_ngx() { T curl -sS -f -o /dev/null -T "$BF" "$NGX/big.bin"; }
# The durable reference: de-server answers a PUT only once the file is fsynced (and its
# folder); nginx does not, so the same PUT is also timed with `sync FILE` (fsync) after it.
put_ngx_sync() {
    T sh -c 'curl -sS -f -o /dev/null -T "$1" "$2" && sync "$3"' sh "$BF" "$NGX/big2.bin" \
        "$W/ngx/big2.bin"
}
for _ in $(seq 1 "$ROUNDS"); do
    measure put_ngx nginx put_ngx
    measure put_de de put_de
    measure put_ngx_sync nginx put_ngx_sync
    cmp -s "$BF" "$MOUNT/big.bin" || echo "de-server's big.bin differs" >>"$BAD"
    cmp -s "$BF" "$W/ngx/big.bin" || echo "nginx's big.bin differs" >>"$BAD"
    cmp -s "$BF" "$W/ngx/big2.bin" || echo "nginx's big2.bin differs" >>"$BAD"
    rm -f "$MOUNT/big.bin" "$W/ngx/big.bin" "$W/ngx/big2.bin"
done

# --- PROPFIND Depth 1 of a folder -------------------------------------------------------------
bench_log "making two folders of $ENTRIES files"
bench_py - "$MOUNT/many" "$W/ngx/many" "$ENTRIES" <<'PY'
import os, sys
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for d in (a, b):
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        with open(os.path.join(d, f"file-{i:06d}.parquet"), "wb") as f:
            f.write(i.to_bytes(8, "little") * 16)
PY
ALLPROP='<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
propfind_de() {
    local i
    for i in $(seq 1 "$REPEAT"); do
        T curl -sS -f -o "$W/pf-de.xml" -u "bench:$KEY" -X PROPFIND -H 'Depth: 1' \
            -H 'Content-Type: application/xml' --data "$ALLPROP" "$DEDAV/many/"
    done
}
propfind_ngx() {
    local i
    for i in $(seq 1 "$REPEAT"); do
        T curl -sS -f -o "$W/pf-ngx.xml" -X PROPFIND -H 'Depth: 1' \
            -H 'Content-Type: application/xml' --data "$ALLPROP" "$NGX/many/"
    done
}
# The first listing after the files were written, alone (a reference row): de-server computes
# each new file's SHA-256 (its ETag) once and keeps it, and reads each file's attribute for dead
# properties. Then the warm ones, the target: a file seen without dead properties whose ctime
# was at least 1 s old is not opened again (dav::BareCache; a younger one could still change
# within the same clock tick), so the folder is let settle that second first, on both sides.
propfind_first_de() {
    T curl -sS -f -o /dev/null -u "bench:$KEY" -X PROPFIND -H 'Depth: 1' \
        -H 'Content-Type: application/xml' --data "$ALLPROP" "$DEDAV/many/"
}
propfind_first_ngx() {
    T curl -sS -f -o /dev/null -X PROPFIND -H 'Depth: 1' \
        -H 'Content-Type: application/xml' --data "$ALLPROP" "$NGX/many/"
}
measure propfind_first_ngx nginx propfind_first_ngx
sleep 1
measure propfind_first_de de propfind_first_de
for _ in $(seq 1 "$ROUNDS"); do
    measure propfind_ngx nginx propfind_ngx
    measure propfind_de de propfind_de
done
for f in pf-de pf-ngx; do
    n=$(grep -o '<[A-Za-z]*:\{0,1\}response>' "$W/$f.xml" | wc -l)
    [[ $n == $((ENTRIES + 1)) ]] || echo "$f: $n responses, not $((ENTRIES + 1))" >>"$BAD"
done

# --- rclone sync no-op ------------------------------------------------------------------------
# rclone's WebDAV backend paces its calls: at least 10 ms from one to the next (lib/pacer's
# minSleep; rclone 1.60, Debian 12's, has no option for it). The tree's 221 folders are one
# PROPFIND each, so both servers sit on a floor of about 2.2 s: the ratio shows what each adds
# above it, diluted (a server answering a 100-member listing in 1 ms or in 3 ms looks alike).
bench_log "generating $FILES files"
bench_gen_tree "$W/tree" "$FILES" "$SEED"
# rclone_args URL USER PASS: rclone's arguments for a sync of the tree to that server
# (rclone is run by GNU time directly, so no shell function in between).
rclone_args() {
    R_ARGS=(sync "$W/tree" ":webdav,url='$1',vendor=other,user='$2',pass='$3':tree"
        --transfers 8 --checkers 8 --stats 0 -q)
}
rclone_de() { rclone_args "$DEDAV" bench "$OBSCURED" && T rclone "${R_ARGS[@]}"; }
rclone_ngx() { rclone_args "$NGX" "" "" && T rclone "${R_ARGS[@]}"; }
# Both servers get the tree by cp -r (what is measured is the no-op; rclone with vendor=other
# compares sizes only), then one no-op sync each as a warm-up (de-server computes each file's
# SHA-256, its getetag, once).
cp -r "$W/tree" "$MOUNT/tree"
cp -r "$W/tree" "$W/ngx/tree"
rclone_de
rclone_ngx
for _ in $(seq 1 "$ROUNDS"); do
    measure rclone_ngx nginx rclone_ngx
    measure rclone_de de rclone_de
done
diff -r -q "$W/tree" "$MOUNT/tree" >/dev/null || echo "de-server's tree differs" >>"$BAD"
diff -r -q "$W/tree" "$W/ngx/tree" >/dev/null || echo "nginx's tree differs" >>"$BAD"

# --- the table --------------------------------------------------------------------------------
bench_py - "$RESULTS" "$BAD" "$SIZE" "$ENTRIES" "$REPEAT" "$FILES" \
    "$(bench_commit "$SRC")" "${BUILD_TYPE:-unknown}" "$LOAD_START" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$T_START" "$(nproc)" \
    "$(nginx -v 2>&1 | sed 's/.*nginx\///')" "$(rclone version | head -n1 | awk '{print $2}')" \
    "$ROUNDS" <<'PY'
import sys
(path, bad, size, entries, repeat, files, commit, btype, load0, load1, started, cores,
 ngv, rcv, rounds) = sys.argv[1:]
size, entries, repeat, files = int(size), int(entries), int(repeat), int(files)
bad = [l.strip() for l in open(bad) if l.strip()]
runs = {}
for line in open(path):
    i, secs, ccpu, crss, scpu, srss = line.rstrip("\n").split("\t")
    runs.setdefault(i, []).append(None if secs == "fail" else dict(
        secs=float(secs), ccpu=float(ccpu), crss=int(crss), scpu=float(scpu), srss=int(srss)))
def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
# Each row's rounds: the medians of the times and CPU seconds, the highest peak RSS; a failed
# round fails the row.
res = {}
for i, rs in runs.items():
    res[i] = None if None in rs else dict(
        secs=median([r["secs"] for r in rs]), ccpu=median([r["ccpu"] for r in rs]),
        scpu=median([r["scpu"] for r in rs]), crss=max(r["crss"] for r in rs),
        srss=max(r["srss"] for r in rs), n=len(rs))
def human(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << (shift - 4)) == 0:
            return f"{n / (1 << shift):g} {unit}"
    return f"{n} B"
# de-server's peak over every row it served (VmHWM, reset before each).
peak = max((r["srss"] for i, r in res.items() if r and i.endswith("_de")), default=0)
rows = []
# limit None: a reference row, no target (its pass column says so).
def row(what, a_id, b_id, limit, target):
    a, b = res.get(a_id), res.get(b_id)
    if a is None or b is None:
        rows.append([what, "FAILED" if a is None else f"{a['secs']:.2f}",
                     "FAILED" if b is None else f"{b['secs']:.2f}", "FAILED", target, "MISS",
                     "", "", "", ""])
        return
    ratio = a["secs"] / b["secs"]
    verdict = "—" if limit is None else "pass" if ratio <= limit else "MISS"
    rows.append([what, f"{a['secs']:.2f}", f"{b['secs']:.2f}", f"{ratio:.2f}", target, verdict,
                 f"{a['ccpu']:.2f} / {a['scpu']:.2f}", f"{b['ccpu']:.2f} / {b['scpu']:.2f}",
                 f"{a['crss'] / 1024:.1f} / {a['srss'] / 1024:.1f}",
                 f"{b['crss'] / 1024:.1f} / {b['srss'] / 1024:.1f}"])
row(f"PUT {human(size)} (curl -T)", "put_de", "put_ngx", 1.2, "≤ 1.2×")
row(f"PUT {human(size)}, durable: B = nginx, then sync FILE", "put_de", "put_ngx_sync", None,
    "reference")
row(f"PROPFIND Depth 1 of {entries:,} new entries, first listing", "propfind_first_de",
    "propfind_first_ngx", None, "reference")
row(f"PROPFIND Depth 1 of {entries:,} entries, ×{repeat}", "propfind_de", "propfind_ngx", 1.0,
    "≤ 1.0×")
row(f"rclone sync no-op, {files:,} files", "rclone_de", "rclone_ngx", 1.0, "≤ 1.0×")
rows.append([f"de-server peak RSS over all rows", f"{peak / 1024:.1f} MiB", "64 MiB",
             f"{peak / 1024 / 64:.2f}", "≤ 1.00", "pass" if peak <= 64 * 1024 else "MISS",
             "", "", "", ""])
print(f"WebDAV bench: {started} UTC, source {commit}, {btype} build, {cores} cores, "
      f"load {load0} before, {load1} after; nginx {ngv} (dav-ext), rclone {rcv}")
print("A = de-server /dav, B = nginx WebDAV, same client; CPU s = user + system, client / "
      "server; peak RSS MiB client / server; each row the median of its rounds "
      f"({rounds}, the servers alternating; the first listing: 1)")
print()
head = ["what", "A s", "B s", "ratio", "target", "pass", "A CPU s", "B CPU s",
        "A peak RSS MiB", "B peak RSS MiB"]
print("| " + " | ".join(head) + " |")
print("| --- | ---: | ---: | ---: | --- | :---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print("| " + " | ".join(r) + " |")
if bad:
    print()
    for b in bad:
        print(f"CHECK FAILED: {b}")
    sys.exit(1)
PY

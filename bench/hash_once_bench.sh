#!/usr/bin/env bash
# The targets of issue 15 ("hash once") in ONE run and ONE table (not in CI; a CTest smoke test
# runs it with tiny sizes, tests/integration/test_bench_hash_once.sh). On loopback, one disk:
#   upload BENCH_SIZE (2 GiB)     de-cli upload -> de-server   vs  curl -T -> nginx WebDAV,
#                                                                  and curl -T -> nginx, then sync
#   download BENCH_SIZE           de-cli download <- de-server vs  curl GET <- nginx
#   re-run after kill -9 at 40 %  de-cli upload killed when the server has staged 40 % of the
#                                 file, then the same command again (timed)  vs  the whole upload
#   upload -r BENCH_FILES (20k)   de-cli upload -r             vs  cp -r + sync
#   sync pull BENCH_FILES         de-cli sync pull (empty dir) vs  cp -r + sync
#   peak RSS at BENCH_SIZE        de-cli / de-server over the big-file rows, against 32 / 64 MiB
#   peak RSS at BENCH_BIG_SIZE    (8 GiB, only with BENCH_BIG=1) de-cli upload + download
# Each row: both times, the ratio, the issue's target, and each side's CPU seconds (user + system;
# client from GNU time, server -- de-server or nginx's workers -- from /proc/PID/stat before and
# after) and peak RSS (client: GNU time %M; server: VmHWM, reset through /proc/PID/clear_refs
# before every timed step). Every result is checked against its source after being timed.
#
# It builds nothing: the binaries come from a build dir (Release for figures that mean anything):
#   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-rel --target de-cli de-server
#   bench/hash_once_bench.sh [BUILD_DIR]               # default: build-rel beside bench/
#   BENCH_SIZE=256M BENCH_FILES=2000 bench/hash_once_bench.sh     # quick: about a minute
#   BENCH_BIG=1 bench/hash_once_bench.sh               # adds the 8 GiB RSS row (~10 min more)
# env: BENCH_SIZE (2G), BENCH_FILES (20000), BENCH_BIG (0), BENCH_BIG_SIZE (8G),
#      BENCH_KILL_AT (40, percent), BENCH_SEED, BENCH_KEEP=1 (keep the work dir),
#      BENCH_KILL_ENV ("VAR=value ..." for the interrupted run only, e.g. a test build's
#      DE_CLI_TEST_SLOW_UPLOAD so a tiny file can be caught at 40 %),
#      DE_CLI / DE_SERVER (binaries other than BUILD_DIR's), TMPDIR (where the data goes).
# Needs nginx, libnginx-mod-http-dav-ext, curl, GNU time, openssl, python3 (installed with
# apt-get when missing). Caches are warm and alike for every tool: the source is in the page
# cache, every destination is new, `sync` runs before each timed step.
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
    [[ -x "$b" ]] || {
        echo "hash_once_bench: $b is missing; build it first:" >&2
        echo "  cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target de-cli de-server" >&2
        exit 2
    }
done
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$(dirname "$DE_CLI")")/CMakeCache.txt" 2>/dev/null || true)
SIZE=$(bench_bytes "${BENCH_SIZE:-2G}")
BIG_SIZE=$(bench_bytes "${BENCH_BIG_SIZE:-8G}")
FILES=${BENCH_FILES:-20000}
KILL_AT=${BENCH_KILL_AT:-40}
SEED=${BENCH_SEED:-20261206}
BIG=${BENCH_BIG:-0}
read -r -a KILL_ENV <<<"${BENCH_KILL_ENV:-}"

bench_need nginx dav-ext curl time openssl python3

W=$(mktemp -d "${TMPDIR:-/tmp}/de-hash-once-bench.XXXXXX")
SERVER_PID="" NGINX_PID=""
cleanup() {
    bench_log "stopping the servers, removing $W"
    bench_stop_servers
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
export HOME="$W/home" XDG_CACHE_HOME="$W/home/.cache" XDG_CONFIG_HOME="$W/home/.config" \
    XDG_STATE_HOME="$W/home/.local/state"
mkdir -p "$HOME" "$W/dl" "$W/aside"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date -u '+%Y-%m-%d %H:%M')
bench_log "work dir $W ($(df -h --output=avail "$W" | tail -1 | tr -d ' ') free); load $LOAD_START"

ROOT="$W/de-root"
bench_start_de_server "$ROOT" --quota 200GiB
cli() { "$DE_CLI" --no-keyfile -q "$@"; }
cli apps create -n bench >/dev/null
cli mount enable -n bench >/dev/null
MOUNT="$ROOT/apps/bench/mount"
UPLOADS="$ROOT/apps/bench/uploads"
bench_start_nginx "$W/dav"
DE_SERVER_PIDS=$SERVER_PID
read -r -a NGINX_PIDS <<<"$NGINX_WORKERS"

bench_results_init
check_same() { # FILE SOURCE WHAT
    cmp -s "$1" "$2" || { bench_log "CHECK FAILED: $3 ($1 differs from $2)"; echo "$3" >>"$BAD"; }
}
check_tree() { # DIR WHAT
    local got
    got=$(bench_tree_sum "$1")
    [[ "$got" == "$TREE_SUM" ]] || { bench_log "CHECK FAILED: $2 ($1: $got, want $TREE_SUM)"; echo "$2" >>"$BAD"; }
}
# Trees are moved aside between timed runs, not deleted: on ext4 without a journal, creating
# 20,000 files right after deleting 20,000 costs the next tool the previous one's deletes
# (bench/transfers.md, "No tool pays for the previous one's deletes"). All go at exit.
ASIDE=0
aside() { [[ -e "$1" ]] && mv "$1" "$W/aside/$((++ASIDE))"; return 0; }

# interrupt FRACTION CMD...: runs CMD and kills it (SIGKILL) as soon as de-server has staged
# FRACTION of the one upload in flight -- its state file <root>/apps/bench/uploads/<id>.json:
# complete parts plus the confirmed bytes of partial ones, what a re-run can keep -- then prints
# the fraction staged at that moment. Exit 3 when CMD ended first, 4 after 600 s.
interrupt() {
    bench_py - "$UPLOADS" "$@" <<'PY'
import glob, json, os, signal, subprocess, sys, time
uploads, want, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]

def staged(path):
    with open(path) as f:
        j = json.load(f)
    n, p = j["length"], j["part_size"] or j["length"]
    if j.get("completed"):
        return n, n
    got = 0
    for r in filter(None, j.get("done", "").split(",")):
        a, _, b = r.partition("-")
        for k in range(int(a), int(b or a) + 1):
            got += min(n, (k + 1) * p) - k * p
    got += sum(int(v) for v in j.get("partial", {}).values())
    return got, n

before = set(glob.glob(os.path.join(uploads, "*.json")))
with open(os.path.join(os.environ["W"], "killed.log"), "wb") as log:
    child = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    for path in set(glob.glob(os.path.join(uploads, "*.json"))) - before:
        try:
            got, n = staged(path)
        except (OSError, ValueError, KeyError):
            continue
        if n and got / n >= want:
            child.send_signal(signal.SIGKILL)
            child.wait()
            print(f"{got / n:.3f}")
            sys.exit(0 if got < n else 3)
    if child.poll() is not None:
        sys.exit(3)
    time.sleep(0.002)
child.send_signal(signal.SIGKILL)
child.wait()
sys.exit(4)
PY
}

# --- big file: upload, download, resume --------------------------------------------------------
BF="$W/src.bin"
bench_log "generating $SIZE bytes"
bench_gen_file "$BF" "$SIZE" "$SEED"
cat "$BF" >/dev/null  # in the page cache for every tool alike

up_de() { T "$DE_CLI" --no-keyfile -q upload "$BF" /big.bin -n bench; }
down_de() { T "$DE_CLI" --no-keyfile -q download /big.bin "$W/dl/big.bin" -n bench; }
up_curl() { T curl -sS -f -T "$BF" "$DAV/big.bin" -o /dev/null; }
# shellcheck disable=SC2016 # (expanded by the inner sh)
up_curl_sync() { T sh -c 'curl -sS -f -T "$1" "$2" -o /dev/null && sync "$3"' sh "$BF" "$DAV/big2.bin" "$W/dav/big2.bin"; }
down_curl() { T curl -sS -f "$DAV/big.bin" -o "$W/dl/big-curl.bin"; }
# The re-run: the same command as up_de, but not quiet, so its notice says what was kept.
up_de_again() { T "$DE_CLI" --no-keyfile upload "$BF" /big-resumed.bin -n bench; }

measure up_de de up_de && check_same "$MOUNT/big.bin" "$BF" "de-cli upload"
measure up_curl nginx up_curl && check_same "$W/dav/big.bin" "$BF" "curl -T"
measure up_curl_sync nginx up_curl_sync && check_same "$W/dav/big2.bin" "$BF" "curl -T, sync"
rm -f "$W/dav/big2.bin"
measure down_de de down_de && check_same "$W/dl/big.bin" "$BF" "de-cli download"
rm -f "$W/dl/big.bin"
measure down_curl nginx down_curl && check_same "$W/dl/big-curl.bin" "$BF" "curl GET"
rm -f "$W/dl/big-curl.bin" "$W/dav/big.bin"

# kill -9 at KILL_AT % staged, then the timed re-run.
KILLED_AT=""
bench_log "uploading again, kill -9 at ${KILL_AT} % staged"
rc=0
KILLED_AT=$(W=$W interrupt "$(awk -v k="$KILL_AT" 'BEGIN {print k / 100}')" \
    env ${KILL_ENV[@]+"${KILL_ENV[@]}"} "$DE_CLI" --no-keyfile -q upload "$BF" /big-resumed.bin -n bench) ||
    rc=$?
if ((rc == 0)); then
    bench_log "killed at $KILLED_AT staged"
    measure resume de up_de_again && check_same "$MOUNT/big-resumed.bin" "$BF" "de-cli re-run"
    grep -m1 'resuming' "$W/last.log" >"$W/resume-notice" || true
else
    bench_log "FAILED: the upload was not caught at ${KILL_AT} % (${KILLED_AT:-it ended first}; exit $rc)"
    tail -3 "$W/killed.log" >&2 || true
    printf 'resume\tfail\t-\t-\t-\t-\n' >>"$RESULTS"
    echo "re-run after kill -9: not caught at ${KILL_AT} %" >>"$BAD"
fi
cli rm /big.bin -n bench >/dev/null 2>&1 || rm -f "$MOUNT/big.bin"
cli rm /big-resumed.bin -n bench >/dev/null 2>&1 || rm -f "$MOUNT/big-resumed.bin"
rm -f "$BF"

if [[ "$BIG" == 1 ]]; then
    bench_log "generating $BIG_SIZE bytes (BENCH_BIG)"
    bench_gen_file "$BF" "$BIG_SIZE" "$SEED"
    measure up_big de up_de && check_same "$MOUNT/big.bin" "$BF" "de-cli upload (big)"
    measure down_big de down_de && check_same "$W/dl/big.bin" "$BF" "de-cli download (big)"
    rm -f "$W/dl/big.bin" "$BF"
    cli rm /big.bin -n bench >/dev/null 2>&1 || rm -f "$MOUNT/big.bin"
fi

# --- the tree --------------------------------------------------------------------------------
TREE="$W/tree"
bench_log "generating the tree: $FILES files of 1-16 KiB"
bench_gen_tree "$TREE" "$FILES" "$SEED"
TREE_SUM=$(bench_tree_sum "$TREE")
TREE_BYTES=$(du -sb "$TREE" | cut -f1)

up_tree() { T "$DE_CLI" --no-keyfile -q upload -r "$TREE/" /tree -n bench; }
# shellcheck disable=SC2016
cp_tree() { T sh -c 'cp -r "$1" "$2" && sync' sh "$TREE" "$W/dl/tree"; }
pull_tree() { T "$DE_CLI" --no-keyfile -q sync pull "$W/dl/pulled" --remote-dir tree -n bench; }

measure up_tree de up_tree && check_tree "$MOUNT/tree" "de-cli upload -r"
measure cp_tree_1 none cp_tree && check_tree "$W/dl/tree" "cp -r"
aside "$W/dl/tree"
measure pull_tree de pull_tree && check_tree "$W/dl/pulled" "de-cli sync pull"
aside "$W/dl/pulled"
measure cp_tree_2 none cp_tree && check_tree "$W/dl/tree" "cp -r"
aside "$W/dl/tree"

# --- the table -------------------------------------------------------------------------------
bench_log "done; the table follows"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
bench_py - "$RESULTS" "$BAD" "$SIZE" "$FILES" "$TREE_BYTES" "$BIG" "$BIG_SIZE" "$KILL_AT" \
    "${KILLED_AT:-}" "$(cat "$W/resume-notice" 2>/dev/null || true)" "$(bench_commit "$SRC")" \
    "${BUILD_TYPE:-unknown}" "$LOAD_START" "$LOAD_END" "$T_START" "$(nproc)" \
    "$(nginx -v 2>&1 | sed 's/.*nginx\///')" "$(curl --version | head -n1 | awk '{print $2}')" \
    "$DE_CLI" "$DE_SERVER" "$(date -u -r "$DE_SERVER" '+%Y-%m-%d %H:%M')" <<'PY'
import sys
(path, bad, size, files, tree_bytes, big, big_size, kill_at, killed_at, notice, commit, btype,
 load0, load1, started, cores, ngv, cuv, cli_bin, server_bin, built) = sys.argv[1:]
size, files, big_size = int(size), int(files), int(big_size)
bad = [l.strip() for l in open(bad) if l.strip()]
res = {}
for line in open(path):
    i, secs, ccpu, crss, scpu, srss = line.rstrip("\n").split("\t")
    res[i] = None if secs == "fail" else dict(
        secs=float(secs), ccpu=float(ccpu), crss=int(crss),
        scpu=None if scpu == "-" else float(scpu), srss=None if srss == "-" else int(srss))

def human(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << (shift - 4)) == 0:
            v = n / (1 << shift)
            return f"{v:g} {unit}"
    return f"{n} B"

def mib(kib):
    return "–" if kib is None else f"{kib / 1024:.1f}"

def cpu(r):
    return f"{r['ccpu']:.2f} / " + ("–" if r["scpu"] is None else f"{r['scpu']:.2f}")

def rss(r):
    return f"{mib(r['crss'])} / {mib(r['srss'])}"

rows = []
def row(what, a_id, b_id, b_name, limit, target, a_name="de-cli"):
    a, b = res.get(a_id), res.get(b_id)
    if a is None or b is None:
        rows.append([what, a_name, "FAILED" if a is None else f"{a['secs']:.2f}", b_name,
                     "FAILED" if b is None else f"{b['secs']:.2f}", "FAILED", target, "MISS",
                     "", "", "", ""])
        return
    ratio = a["secs"] / b["secs"]
    rows.append([what, a_name, f"{a['secs']:.2f}", b_name, f"{b['secs']:.2f}", f"{ratio:.2f}", target,
                 "pass" if ratio <= limit else "MISS", cpu(a), cpu(b), rss(a), rss(b)])

def rss_row(what, ids):
    got = [res.get(i) for i in ids]
    if any(r is None for r in got):
        rows.append([what, "de-cli", "–", "limit", "–", "FAILED", "≤ 1.00 (32 / 64 MiB)", "MISS",
                     "", "", "", ""])
        return
    c = max(r["crss"] for r in got)
    s = max(r["srss"] for r in got)
    ratio = max(c / (32 * 1024), s / (64 * 1024))
    rows.append([what, "de-cli", "–", "limit", "–", f"{ratio:.2f}", "≤ 1.00 (32 / 64 MiB)",
                 "pass" if ratio <= 1.0 else "MISS", "", "", f"{mib(c)} / {mib(s)}", "32.0 / 64.0"])

S = human(size)
row(f"upload {S}", "up_de", "up_curl", "curl -T → nginx", 1.3, "≤ 1.3×")
row(f"upload {S}, durable reference", "up_de", "up_curl_sync", "curl -T → nginx, then sync", 1.0,
    "≤ 1.0×")
row(f"download {S}", "down_de", "down_curl", "curl GET ← nginx", 1.0, "≤ 1.0×")
kill_what = f"re-run after kill -9 at {kill_at} %"
if killed_at:
    kill_what += f" (killed at {float(killed_at) * 100:.0f} % staged)"
row(kill_what, "resume", "up_de", "the whole upload (row 1)", 0.65, "≤ 0.65×",
    a_name="de-cli upload, again")
row(f"upload -r {files:,} files", "up_tree", "cp_tree_1", "cp -r + sync", 1.3, "≤ 1.3×",
    a_name="de-cli upload -r")
row(f"sync pull {files:,} files", "pull_tree", "cp_tree_2", "cp -r + sync", 1.3, "≤ 1.3×",
    a_name="de-cli sync pull")
rss_row(f"peak RSS client / server at {S}", ["up_de", "down_de", "resume"])
if big == "1":
    rss_row(f"peak RSS client / server at {human(big_size)}", ["up_big", "down_big"])

print(f"hash-once bench: {started} UTC, source {commit}, {cores} cores, "
      f"load {load0} before, {load1} after")
print(f"binaries: {cli_bin}, {server_bin} ({btype} build, de-server built {built} UTC)")
print(f"big file {S} ({size} bytes), tree {files:,} files of 1–16 KiB ({int(tree_bytes):,} bytes); "
      f"nginx {ngv}, curl {cuv}; warm page cache, one run")
print("ratio = A's time / B's time; CPU s = user + system, client / server (server: de-server, "
      "or nginx's workers); peak RSS MiB client / server")
print()
head = ["what", "A", "A s", "B", "B s", "ratio", "target", "pass", "A CPU s", "B CPU s",
        "A peak RSS MiB", "B peak RSS MiB"]
print("| " + " | ".join(head) + " |")
print("| --- | --- | ---: | --- | ---: | ---: | --- | :---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print("| " + " | ".join(r) + " |")
if notice:
    print()
    print(f"re-run said: {notice.strip()}")
if bad:
    print()
    print("WRONG OR FAILED: " + "; ".join(bad))
PY
[[ ! -s "$BAD" ]]

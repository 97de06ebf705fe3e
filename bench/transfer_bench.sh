#!/usr/bin/env bash
# Transfer benchmark for issue 4 (not in CI). In ONE run, on loopback, on the same disk:
#   big files (2 GiB, and 8 GiB unless --quick), seeded random bytes:
#     de-cli upload / download  <->  Release de-server (temp root, port 0, big --quota)
#     curl -T (PUT) / curl -o (GET)  <->  nginx WebDAV (dav_methods PUT DELETE MKCOL COPY MOVE)
#     curl -T then sync of nginx's file (the durable comparison: de-server fsyncs, nginx does not)
#     rclone copyto  <->  the same nginx (webdav backend from flags, no config file)
#     cp + sync (local copy on the same disk)
#   a tree of 20,000 files of 1-16 KiB (seeded), into an empty folder each time:
#     de-cli upload -r, de-cli sync push  ->  de-server
#     curl, 16 parallel PUT streams (xargs -P16, 64 files per keep-alive curl)  ->  nginx
#     rclone copy --transfers 16  ->  nginx
#     cp -r + sync
#   peak RSS: de-cli (GNU time %M) and de-server (VmHWM, reset through /proc/PID/clear_refs before
#   each measured transfer) for every de-cli transfer, at 2 GiB and at 8 GiB; and the CPU seconds
#   (user + system) each client process and de-server spent, to show what limits a transfer.
# Every result is checked (SHA-256 of every big file, a hash of the whole tree) after being timed.
# Then it prints one table: seconds (median of --runs), GB/s (10^9 bytes/s) or files/s, the ratio to the
# issue's reference (curl -T -> nginx for uploads, curl GET from nginx for downloads, curl
# 16-parallel for the tree) and the issue's targets with pass/miss.
#
# Caches: warm by default — the source was just written (or read) and sits in the page cache,
# every destination is new; `sync` runs before each timed step so no earlier dirty page is flushed
# inside the next timing. --cold drops the page cache (needs root) before every timed step instead,
# for every tool alike.
#
# Usage: bench/transfer_bench.sh [--quick] [--runs N] [--cold] [--seed S] [--files N]
#                                [--rclone-tree-files N] [--sizes "2GiB 8GiB"] [--keep]
#   --quick               skip the 8 GiB file
#   --runs N              repeat every timed step N times, report the median (default 1)
#   --files N, --sizes L  smaller data for a smoke run (targets need 2GiB/8GiB and 20000 files)
#   --rclone-tree-files N rclone copies only the first N files of the tree (rclone 1.60's WebDAV
#                         pacer costs ~35 ms a file; the row then says so, and its time is scaled)
#   env: DE_CLI / DE_SERVER (skip the build), TMPDIR (where data goes; same disk as the repo here)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
SIZES="2GiB 8GiB" QUICK=0 RUNS=1 COLD=0 SEED=20261122 FILES=20000 RCLONE_TREE_FILES="" KEEP=0
while (($#)); do
    case $1 in
    --quick) QUICK=1 ;;
    --runs) RUNS=$2; shift ;;
    --cold) COLD=1 ;;
    --seed) SEED=$2; shift ;;
    --files) FILES=$2; shift ;;
    --sizes) SIZES=$2; shift ;;
    --rclone-tree-files) RCLONE_TREE_FILES=$2; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "transfer_bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
# shellcheck source=lib.sh
source "$HERE/lib.sh"
log() { bench_log "$@"; }

# --- tools -------------------------------------------------------------------------------------
bench_need nginx dav-ext rclone time curl python3 openssl
if ((COLD)) && [[ $(id -u) != 0 ]]; then echo "transfer_bench: --cold needs root" >&2; exit 2; fi

# --- Release build -----------------------------------------------------------------------------
if [[ -z "${DE_CLI:-}" || -z "${DE_SERVER:-}" ]]; then
    B="$SRC/build-bench"
    log "building Release de-cli and de-server in $B"
    cmake -S "$SRC" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$B" --target de-cli de-server -j2 >/dev/null
    DE_CLI="$B/cli/de-cli"
    DE_SERVER="$B/server/de-server"
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/de-transfer-bench.XXXXXX")
SERVER_PID="" NGINX_PID=""
cleanup() {
    bench_stop_servers
    if ((KEEP)); then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
export HOME="$W/home" XDG_CACHE_HOME="$W/home/.cache" XDG_CONFIG_HOME="$W/home/.config" \
    XDG_STATE_HOME="$W/home/.local/state"
mkdir -p "$HOME" "$W/dl"
RESULTS="$W/results.tsv"
: >"$RESULTS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "work dir $W ($(df -h --output=avail "$W" | tail -1 | tr -d ' ') free); load $LOAD_START"

# --- servers -----------------------------------------------------------------------------------
bench_start_de_server "$W/de-root" --quota 200GiB
cli() { "$DE_CLI" --no-keyfile -q "$@"; }
# T CMD...: runs CMD under GNU time; its peak RSS (KiB, the largest of CMD and its waited-for
# children) and its CPU seconds (user, system) go to $W/rss for measure().
T() { /usr/bin/time -f '%M %U %S' -o "$W/rss" "$@"; }
tcli() { T "$DE_CLI" --no-keyfile -q "$@"; }
cli apps create -n bench >/dev/null
cli mount enable -n bench >/dev/null
MOUNT="$W/de-root/apps/bench/mount"

# bench/nginx/sync-webdav.conf fits as it is: PUT/DELETE/MKCOL/COPY/MOVE plus PROPFIND (rclone).
bench_start_nginx "$W/dav"
RCLONE=(rclone --config /dev/null -q --webdav-url "$DAV/" --webdav-vendor other)

# --- measuring ---------------------------------------------------------------------------------
hwm_reset() { bench_hwm_reset "$SERVER_PID"; }
hwm() { bench_hwm "$SERVER_PID"; }
# CPU seconds (user + system) de-server has used so far: what a transfer cost it is the difference.
server_cpu() { bench_cpu "$SERVER_PID"; }
settle() {
    sync
    if ((COLD)); then echo 3 >/proc/sys/vm/drop_caches; fi
}
# measure WHAT TOOL BYTES SERVER(0|1) RUN: settle, then time RUN once (RUN runs its tool through
# T). Appends one row: what, tool, seconds (or "fail"), bytes, client RSS KiB, server RSS KiB (or
# -). The report takes the median over the rows of a (what, tool). A failing RUN is logged and the
# bench goes on; measure then returns 1, so callers write `measure ... && check ...`. The rounds
# below run every tool once per round, RUNS rounds, so a burst of load from the shared machine
# spreads over the tools instead of landing on one tool's runs.
measure() {
    local what=$1 tool=$2 bytes=$3 server=$4 runfn=$5 t0 t1 secs srss=- scpu=- scpu0=0
    settle
    ((server)) && hwm_reset
    ((server)) && scpu0=$(server_cpu)
    echo "0 0 0" >"$W/rss"
    t0=$EPOCHREALTIME
    if ! $runfn >"$W/last.log" 2>&1; then
        log "FAILED: $what / $tool:"
        tail -5 "$W/last.log" | sed 's/^/    /' >&2
        printf '%s\t%s\tfail\t%s\t0\t-\t-\t-\n' "$what" "$tool" "$bytes" >>"$RESULTS"
        return 1
    fi
    t1=$EPOCHREALTIME
    secs=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
    ((server)) && srss=$(hwm) && scpu=$(python3 -c "print(f'{$(server_cpu) - $scpu0:.2f}')")
    local crss cu cs
    read -r crss cu cs < <(tail -n1 "$W/rss")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$what" "$tool" "$secs" "$bytes" "$crss" "$srss" \
        "$(python3 -c "print(f'{$cu + $cs:.2f}')")" "$scpu" >>"$RESULTS"
    log "$what / $tool: ${secs}s"
}
noop() { :; }
sha_of() { bench_sha "$1"; }
# A result with other bytes than its source is reported (and makes the exit status 1); the bench
# goes on.
BAD="$W/bad-results"
: >"$BAD"
check_sha() { # FILE WANT WHAT
    local got
    got=$(sha_of "$1" 2>/dev/null || echo missing)
    [[ "$got" == "$2" ]] || { log "CHECK FAILED: $3: $1 has sha256 $got, want $2"; echo "$3" >>"$BAD"; }
}
# Tree digest: every file's relative path, size and SHA-256, sorted; hashed.
tree_sum() { bench_tree_sum "$1"; }

# The disk's speed at the time (the machine is shared): 1 GiB written and fdatasync'ed.
disk_probe() {
    dd if=/dev/zero of="$W/disk-probe" bs=1M count=1024 conv=fdatasync 2>&1 | tail -n1 |
        sed 's/.*, //'
    rm -f "$W/disk-probe"
}
DISK_START=$(disk_probe)
log "disk: 1 GiB write + fdatasync at $DISK_START"

# --- big files ---------------------------------------------------------------------------------
gen_file() { bench_gen_file "$1" "$2" "$SEED"; } # PATH BYTES: seeded, incompressible

big_file_round() { # LABEL BYTES
    local label=$1 bytes=$2 f="$W/src-$1.bin"
    log "generating $label ($bytes bytes)"
    gen_file "$f" "$bytes"
    local want
    want=$(sha_of "$f")
    BF=$f BNAME="big-$label.bin"

    up_de() { tcli upload "$BF" "/$BNAME" -n bench; }
    rm_de() { cli rm "$BNAME" -n bench 2>/dev/null || true; }
    down_de() { tcli download "/$BNAME" "$W/dl/$BNAME" -n bench; }
    rm_dl() { rm -f "$W/dl/$BNAME"; }
    up_curl() { T curl -sS -f -T "$BF" "$DAV/$BNAME" -o /dev/null; }
    up_curl_sync() { up_curl && sync "$W/dav/$BNAME"; }
    rm_dav() { rm -f "$W/dav/$BNAME"; }
    down_curl() { T curl -sS -f "$DAV/$BNAME" -o "$W/dl/$BNAME"; }
    up_rclone() { T "${RCLONE[@]}" copyto "$BF" ":webdav:$BNAME"; }
    down_rclone() { T "${RCLONE[@]}" copyto ":webdav:$BNAME" "$W/dl/$BNAME"; }
    cp_sync() { T cp "$BF" "$W/dl/$BNAME" && sync "$W/dl/$BNAME"; }
    # Results are checked in the first round (hashing 8 GiB several times per round costs more
    # than the transfers). At most one copy besides the source exists at a time, plus the one
    # being downloaded: source + 2 copies of disk.
    local round chk
    for ((round = 1; round <= RUNS; round++)); do
        chk=$((round == 1))
        # de-cli <-> de-server
        measure "upload $label" de-cli "$bytes" 1 up_de &&
            ((chk)) && check_sha "$MOUNT/$BNAME" "$want" "de-cli upload $label"
        measure "download $label" de-cli "$bytes" 1 down_de &&
            ((chk)) && check_sha "$W/dl/$BNAME" "$want" "de-cli download $label"
        rm_dl
        rm_de
        # curl <-> nginx
        measure "upload $label" "curl -T -> nginx" "$bytes" 0 up_curl &&
            ((chk)) && check_sha "$W/dav/$BNAME" "$want" "curl -T $label"
        rm_dav
        measure "upload $label" "curl -T -> nginx, then sync" "$bytes" 0 up_curl_sync || true
        measure "download $label" "curl GET <- nginx" "$bytes" 0 down_curl &&
            ((chk)) && check_sha "$W/dl/$BNAME" "$want" "curl GET $label"
        rm_dl
        rm_dav
        # rclone <-> nginx
        measure "upload $label" "rclone -> nginx" "$bytes" 0 up_rclone &&
            ((chk)) && check_sha "$W/dav/$BNAME" "$want" "rclone upload $label"
        measure "download $label" "rclone <- nginx" "$bytes" 0 down_rclone &&
            ((chk)) && check_sha "$W/dl/$BNAME" "$want" "rclone download $label"
        rm_dl
        rm_dav
        # cp + sync (local, same disk): a reference for both directions
        measure "copy $label" "cp + sync" "$bytes" 0 cp_sync || true
        rm_dl
    done
    rm -f "$f"
}

for size in $SIZES; do
    ((QUICK)) && [[ $size == 8GiB ]] && continue
    n=${size%[MG]iB}
    case $size in
    *GiB) big_file_round "$size" $((n * 1024 * 1024 * 1024)) ;;
    *MiB) big_file_round "$size" $((n * 1024 * 1024)) ;;
    *) echo "transfer_bench: --sizes takes NMiB or NGiB" >&2; exit 2 ;;
    esac
done

# --- the tree ----------------------------------------------------------------------------------
TREE="$W/tree"
log "generating the tree: $FILES files of 1-16 KiB"
bench_gen_tree "$TREE" "$FILES" "$SEED"
TREE_BYTES=$(find "$TREE" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
TREE_SUM=$(tree_sum "$TREE")
(cd "$TREE" && find . -type f -printf '%P\n' | sort >"$W/tree.list")

check_tree() { # DIR WHAT
    local got
    got=$(tree_sum "$1")
    [[ "$got" == "$TREE_SUM" ]] || { log "CHECK FAILED: $2: tree $1 is '$got', want '$TREE_SUM'"; echo "$2" >>"$BAD"; }
}
up_tree_de() { tcli upload -r "$TREE/" /tree -n bench; }
push_tree_de() { tcli sync push "$TREE" --remote-dir tree -n bench; }
# Trees are moved aside (out of the mount, the DAV root, dl/), not deleted, between timed runs:
# this disk's ext4 has no journal, and then the kernel's inode allocator steps over every inode
# freed in the last minutes of the same block group (ialloc.c, recently_deleted()) -- creating
# 20,000 files right after deleting 20,000 cost de-server 8 CPU-s instead of 0.9 (perf: ~60 % in
# recently_deleted via ext4_create). A delete would bill the next tool for the previous one's.
# They are removed at exit with $W.
ASIDE=0
aside() { mkdir -p "$W/aside" && mv "$1" "$W/aside/$((++ASIDE))"; }
rm_tree_de() { [[ -d "$MOUNT/tree" ]] && aside "$MOUNT/tree"; return 0; }
# curl: 16 parallel streams, each a curl process PUTting 64 files over one keep-alive connection.
curl_tree() {
    DAV="$DAV" TREE="$TREE" T xargs -a "$W/tree.list" -d '\n' -P 16 -n 64 bash -c '
        args=()
        for f; do args+=(-T "$TREE/$f" "$DAV/tree/$f"); done
        exec curl -sS -f "${args[@]}" -o /dev/null >/dev/null' _
}
rm_tree_dav() { [[ -d "$W/dav/tree" ]] && aside "$W/dav/tree"; return 0; }
RTREE=$TREE RLABEL="rclone copy --transfers 16 -> nginx"
if [[ -n "$RCLONE_TREE_FILES" && "$RCLONE_TREE_FILES" -lt "$FILES" ]]; then
    RTREE="$W/rtree"
    mkdir -p "$RTREE"
    head -n "$RCLONE_TREE_FILES" "$W/tree.list" >"$W/rtree.list"
    tar -C "$TREE" -cf - -T "$W/rtree.list" | tar -C "$RTREE" -xf -
    RLABEL="rclone copy --transfers 16 -> nginx (${RCLONE_TREE_FILES} files, scaled)"
fi
rclone_tree() { T "${RCLONE[@]}" copy "$RTREE" :webdav:tree --transfers 16 --checkers 16; }
cp_tree() { T cp -r "$TREE" "$W/dl/tree" && sync; }
rm_tree_dl() { [[ -d "$W/dl/tree" ]] && aside "$W/dl/tree"; return 0; }
TREE_WHAT="tree ${FILES} files"
for ((round = 1; round <= RUNS; round++)); do
    chk=$((round == 1))
    measure "$TREE_WHAT" "de-cli upload -r" "$TREE_BYTES" 1 up_tree_de &&
        ((chk)) && check_tree "$MOUNT/tree" "de-cli upload -r"
    rm_tree_de
    measure "$TREE_WHAT" "de-cli sync push" "$TREE_BYTES" 1 push_tree_de &&
        ((chk)) && check_tree "$MOUNT/tree" "de-cli sync push"
    rm_tree_de
    measure "$TREE_WHAT" "curl 16 parallel -> nginx" "$TREE_BYTES" 0 curl_tree &&
        ((chk)) && check_tree "$W/dav/tree" "curl 16 parallel"
    rm_tree_dav
    measure "$TREE_WHAT" "$RLABEL" "$TREE_BYTES" 0 rclone_tree &&
        ((chk)) && [[ "$RTREE" == "$TREE" ]] && check_tree "$W/dav/tree" "rclone copy"
    rm_tree_dav
    measure "$TREE_WHAT" "cp -r + sync" "$TREE_BYTES" 0 cp_tree || true
    rm_tree_dl
done

# --- report ------------------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
DISK_END=$(disk_probe)
# A `git archive` export has no .git; a COMMIT file put beside it can name the commit.
COMMIT=$(bench_commit "$SRC")
python3 - "$RESULTS" "$RUNS" "$COLD" "$LOAD_START" "$LOAD_END" "$COMMIT" "$FILES" \
    "${RCLONE_TREE_FILES:-$FILES}" "$(nginx -v 2>&1 | sed 's/.*nginx\///')" \
    "$(rclone version 2>/dev/null | head -n1 | awk '{print $2}')" \
    "$(curl --version | head -n1 | awk '{print $2}')" "$BAD" "$DISK_START" "$DISK_END" <<'PY'
import sys
path, runs, cold, load0, load1, commit, files, rfiles, ngv, rcv, cuv, bad, disk0, disk1 = sys.argv[1:]
bad = [l.strip() for l in open(bad) if l.strip()]
files, rfiles = int(files), int(rfiles)
import statistics
groups = {}  # (what, tool) -> rows of every round, in first-seen order
for line in open(path):
    what, tool, secs, nbytes, crss, srss, ccpu, scpu = line.rstrip("\n").split("\t")
    groups.setdefault((what, tool), []).append((secs, int(nbytes), int(crss), srss, ccpu, scpu))
rows = []
for (what, tool), runs_ in groups.items():
    ok = [r for r in runs_ if r[0] != "fail"]
    if len(ok) < len(runs_):
        rows.append(dict(what=what, tool=tool, secs=None, all=[], bytes=runs_[0][1], crss=0, srss=None))
        continue
    times = [float(r[0]) for r in ok]
    if tool.startswith("rclone copy") and rfiles < files:
        times = [t * files / rfiles for t in times]  # scaled to the whole tree
    srs = [int(r[3]) for r in ok if r[3] != "-"]
    scpu = [float(r[5]) for r in ok if r[5] != "-"]
    rows.append(dict(what=what, tool=tool, secs=statistics.median(times), all=times,
                     bytes=ok[0][1], crss=max(r[2] for r in ok), srss=max(srs) if srs else None,
                     ccpu=statistics.median(float(r[4]) for r in ok),
                     scpu=statistics.median(scpu) if scpu else None))

def find(what, tool):
    for r in rows:
        if r["what"] == what and r["tool"].startswith(tool):
            return r
    return None

def ref_for(r):
    w = r["what"]
    if w.startswith("upload"):
        return find(w, "curl -T -> nginx")
    if w.startswith("download"):
        return find(w, "curl GET")
    if w.startswith("tree"):
        return find(w, "curl 16")
    if w.startswith("copy"):
        return find(w.replace("copy", "upload"), "curl -T -> nginx")
    return None

print(f"transfer bench: commit {commit}, {'cold' if cold == '1' else 'warm'} page cache, "
      f"median of {runs} run(s); load average {load0} before, {load1} after")
print(f"disk (dd 1 GiB + fdatasync): {disk0} before, {disk1} after; {__import__('os').cpu_count()} cores")
print(f"nginx {ngv}, rclone {rcv}, curl {cuv}; GB/s = 10^9 bytes/s; ratio = time / reference time")
print()
print("| what | tool | seconds | throughput | ratio | client RSS MiB | server RSS MiB | client CPU s | server CPU s | every run (s) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for r in rows:
    ref = ref_for(r)
    if r["secs"] is None:
        print(f"| {r['what']} | {r['tool']} | FAILED | | | | | | | |")
        continue
    if ref is not None and ref["secs"] is None:
        ref = None
    ratio = f"{r['secs'] / ref['secs']:.2f}" if ref and ref is not r else ("1 (ref)" if ref is r else "")
    if r["what"].startswith("tree"):
        gbs = f"{files / r['secs']:,.0f} files/s"
    else:
        gbs = f"{r['bytes'] / r['secs'] / 1e9:.2f} GB/s"
    crss = f"{r['crss'] / 1024:.1f}" if r["crss"] > 0 else ""
    srss = f"{r['srss'] / 1024:.1f}" if r["srss"] is not None else ""
    every = " ".join(f"{t:.2f}" for t in r["all"])
    ccpu = f"{r['ccpu']:.2f}" if r["crss"] > 0 else ""
    scpu = f"{r['scpu']:.2f}" if r["scpu"] is not None else ""
    print(f"| {r['what']} | {r['tool']} | {r['secs']:.2f} | {gbs} | {ratio} | {crss} | {srss} | {ccpu} | {scpu} | {every} |")

print()
print("| target (issue 4) | measured | pass |")
print("| --- | ---: | :---: |")
def target(name, value, limit, fmt):
    if value is None:
        print(f"| {name} | n/a | n/a |")
        return
    if value == float("inf"):
        print(f"| {name} | failed | MISS |")
        return
    print(f"| {name} | {fmt.format(value)} | {'pass' if value <= limit else 'MISS'} |")

def ratio(what, tool, reftool):
    a, b = find(what, tool), find(what, reftool)
    if a and a["secs"] is None:
        return float("inf")  # the tool failed: a miss
    return a["secs"] / b["secs"] if a and b and b["secs"] else None

target("2 GiB upload <= 1.0x curl -T -> nginx", ratio("upload 2GiB", "de-cli", "curl -T -> nginx"), 1.0, "{:.2f}x")
target("2 GiB download <= 1.0x curl GET <- nginx", ratio("download 2GiB", "de-cli", "curl GET"), 1.0, "{:.2f}x")
tree = f"tree {files} files"
target(f"{files} files <= 0.1x curl 16-parallel (upload -r)", ratio(tree, "de-cli upload -r", "curl 16"), 0.1, "{:.3f}x")
target(f"{files} files <= 0.1x curl 16-parallel (sync push)", ratio(tree, "de-cli sync push", "curl 16"), 0.1, "{:.3f}x")
for size in ("2GiB", "8GiB"):
    ups = [find(f"{d} {size}", "de-cli") for d in ("upload", "download")]
    ups = [u for u in ups if u and u["secs"] is not None]
    if not ups:
        continue
    target(f"client peak RSS <= 32 MiB at {size}", max(u["crss"] for u in ups) / 1024, 32, "{:.1f} MiB")
    target(f"server peak RSS <= 64 MiB at {size}", max(u["srss"] for u in ups) / 1024, 64, "{:.1f} MiB")
if bad:
    print()
    print("WRONG RESULTS (bytes differ from the source): " + "; ".join(bad))
PY
[[ ! -s "$BAD" ]]

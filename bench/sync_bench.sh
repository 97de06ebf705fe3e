#!/usr/bin/env bash
# sync benchmark (not in CI). In one run, on one 20,000-file tree of 1-16 KiB
# files, times:
#   de-cli sync push   first sync, no-op, --checksum no-op (warm caches)  -> de-server
#   de-cli sync pull   first sync into an empty folder, no-op
#   rclone sync        first sync and no-op                               -> nginx WebDAV
#   rsync -a           first sync and no-op, local to local (a reference)
# and prints a table with ratios. No-op figures are medians of RUNS runs.
# Everything stays on loopback; servers use temporary roots and free ports.
#
# Usage: bench/sync_bench.sh            (builds a Release tree in build-bench)
#   env: FILES=20000 RUNS=3 JOBS=8 DE_CLI=... DE_SERVER=... KEEP=1 (keep the temp dir)
# Needs: nginx with libnginx-mod-http-dav-ext, rclone, rsync, strace (optional),
#        python3.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
FILES=${FILES:-20000}
RUNS=${RUNS:-3}
JOBS=${JOBS:-8}

if [[ -z "${DE_CLI:-}" || -z "${DE_SERVER:-}" ]]; then
    B="$SRC/build-bench"
    cmake -S "$SRC" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$B" --target de-cli de-server -j2 >/dev/null
    DE_CLI="$B/cli/de-cli"
    DE_SERVER="$B/server/de-server"
fi
for tool in nginx rclone rsync python3; do
    command -v "$tool" >/dev/null || { echo "sync_bench: $tool is not installed" >&2; exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/de-sync-bench.XXXXXX")
SERVER_PID=""
NGINX_PID=""
cleanup() {
    bench_stop_servers
    if [[ -z "${KEEP:-}" ]]; then rm -rf "$W"; else echo "kept $W" >&2; fi
}
trap cleanup EXIT
export HOME="$W/home" XDG_CACHE_HOME="$W/home/.cache" XDG_CONFIG_HOME="$W/home/.config"
mkdir -p "$HOME"

now() { date +%s.%N; }
# timeit VAR CMD...: runs CMD (output to $W/last.log), stores seconds in VAR.
timeit() {
    local var=$1 t0 t1
    shift
    t0=$(now)
    "$@" >"$W/last.log" 2>&1 || { echo "FAILED: $*" >&2; tail -20 "$W/last.log" >&2; exit 1; }
    t1=$(now)
    printf -v "$var" '%.3f' "$(echo "$t1 - $t0" | bc -l)"
}
# median_of VAR CMD...: median seconds of RUNS runs.
median_of() {
    local var=$1 i t
    shift
    local times=()
    for ((i = 0; i < RUNS; i++)); do
        timeit t "$@"
        times+=("$t")
    done
    printf -v "$var" '%s' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")"
}

# --- the tree: FILES files of 1-16 KiB, 100 per folder, fixed seed ---
TREE="$W/tree"
bench_gen_tree "$TREE" "$FILES" 20261122
TREE_BYTES=$(du -sb "$TREE" | cut -f1)
echo "tree: $FILES files, $(find "$TREE" -type d | wc -l) folders, $TREE_BYTES bytes" >&2

# --- de-server (Release) ---
bench_start_de_server "$W/de-root"
cli() { "$DE_CLI" --no-keyfile -q "$@"; }
cli apps create -n bench >/dev/null
cli apps update -n bench --persistent-filesystem >/dev/null

# --- nginx WebDAV ---
bench_start_nginx "$W/dav"
export RCLONE_CONFIG_BENCHDAV_TYPE=webdav RCLONE_CONFIG_BENCHDAV_URL="http://127.0.0.1:$NPORT/" \
       RCLONE_CONFIG_BENCHDAV_VENDOR=other
RCLONE=(rclone --config /dev/null -q)

sync
# --- measurements ---
timeit de_first cli sync push "$TREE" -n bench -j "$JOBS"
median_of de_noop cli sync push "$TREE" -n bench -j "$JOBS"
timeit de_ck_cold cli sync push "$TREE" -n bench --checksum -j "$JOBS"  # fills both hash caches
median_of de_ck_noop cli sync push "$TREE" -n bench --checksum -j "$JOBS"
timeit de_pull_first cli sync pull "$W/pulled" -n bench -j "$JOBS"
median_of de_pull_noop cli sync pull "$W/pulled" -n bench -j "$JOBS"

# Files of the tree that a warm --checksum no-op opens (should be 0).
ck_opens="n/a"
if command -v strace >/dev/null; then
    strace -f -qq -e trace=openat -o "$W/strace.log" "$DE_CLI" --no-keyfile -q sync push "$TREE" \
        -n bench --checksum -j "$JOBS" >/dev/null 2>&1 || true
    ck_opens=$(grep -F "\"$TREE/" "$W/strace.log" | grep -vc O_DIRECTORY || true)
fi

timeit rc_first "${RCLONE[@]}" sync "$TREE" benchdav:tree --transfers "$JOBS" --checkers 16
median_of rc_noop "${RCLONE[@]}" sync "$TREE" benchdav:tree --transfers "$JOBS" --checkers 16

timeit rs_first rsync -a "$TREE/" "$W/rsync-copy/"
median_of rs_noop rsync -a "$TREE/" "$W/rsync-copy/"

# Sanity: every side holds the whole tree.
remote_files=$(find "$W/de-root/apps/bench/mount" -type f | wc -l)
pulled_files=$(find "$W/pulled" -type f | wc -l)
dav_files=$(find "$W/dav/tree" -type f | wc -l)
[[ "$remote_files" == "$FILES" && "$pulled_files" == "$FILES" && "$dav_files" == "$FILES" ]] ||
    { echo "file counts differ: de=$remote_files pulled=$pulled_files dav=$dav_files" >&2; exit 1; }

ratio() { echo "scale=3; $1 / $2" | bc -l | sed 's/^\./0./'; }
rate() { echo "scale=0; $FILES / $1" | bc -l; }
cat <<EOF

sync bench: $FILES files ($TREE_BYTES bytes), $(nproc) cores, jobs=$JOBS, no-op figures = median of $RUNS
| what                                   | seconds | files/s | vs rclone |
| -------------------------------------- | ------: | ------: | --------: |
| de-cli sync push, first                | $de_first | $(rate "$de_first") | $(ratio "$de_first" "$rc_first") |
| de-cli sync push, no-op                | $de_noop | | $(ratio "$de_noop" "$rc_noop") |
| de-cli sync push --checksum, first run | $de_ck_cold | | |
| de-cli sync push --checksum, no-op     | $de_ck_noop | | $(ratio "$de_ck_noop" "$rc_noop") |
| de-cli sync pull, first                | $de_pull_first | $(rate "$de_pull_first") | $(ratio "$de_pull_first" "$rc_first") |
| de-cli sync pull, no-op                | $de_pull_noop | | $(ratio "$de_pull_noop" "$rc_noop") |
| rclone sync -> nginx WebDAV, first     | $rc_first | $(rate "$rc_first") | 1 |
| rclone sync -> nginx WebDAV, no-op     | $rc_noop | | 1 |
| rsync -a local -> local, first         | $rs_first | $(rate "$rs_first") | $(ratio "$rs_first" "$rc_first") |
| rsync -a local -> local, no-op         | $rs_noop | | $(ratio "$rs_noop" "$rc_noop") |

target: de-cli no-op push <= 0.2 x rclone no-op: $(ratio "$de_noop" "$rc_noop")
tree files opened by a warm --checksum no-op push (strace): $ck_opens
EOF

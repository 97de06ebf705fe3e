# shellcheck shell=bash disable=SC2034
# Shell functions shared by the bench/ scripts (sourced, not run). They expect
# `set -euo pipefail`, $HERE (bench/) and a work dir $W made by the caller; the
# servers they start write their PIDs to SERVER_PID / NGINX_PID, which the
# caller's EXIT trap stops with bench_stop_servers.

# The system's python3 when there is one: a pyenv shim first in PATH costs a second a start.
BENCH_PY=$(command -v /usr/bin/python3 || command -v python3)
bench_py() { "$BENCH_PY" "$@"; }

bench_log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# bench_need TOOL...: installs the Debian packages of the missing tools with apt-get
# (tools: nginx, dav-ext (the nginx module PROPFIND needs), time, curl, python3,
# openssl, rclone, rsync, bc).
bench_need() {
    local need=() t
    for t in "$@"; do
        case $t in
        dav-ext) [[ -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ]] ||
            need+=(libnginx-mod-http-dav-ext) ;;
        time) [[ -x /usr/bin/time ]] || need+=(time) ;;
        *) command -v "$t" >/dev/null || need+=("$t") ;;
        esac
    done
    ((${#need[@]})) || return 0
    bench_log "installing ${need[*]}"
    local sudo=""
    [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
}

bench_free_port() {
    bench_py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_start_de_server ROOT [ARGS...]: de-server ($DE_SERVER) on port 0 with a temporary root
# ROOT; a user "bench" whose key goes to DASH_ENTERPRISE_PASSWORD (exported with the host and
# user name, so de-cli --no-keyfile finds them). Sets SERVER_PID and SERVER_URL.
bench_start_de_server() {
    local root=$1
    shift
    mkdir -p "$root"
    : >"$W/server.out"
    "$DE_SERVER" --root "$root" --listen 127.0.0.1:0 "$@" >"$W/server.out" 2>"$W/server.err" &
    SERVER_PID=$!
    local _
    for _ in $(seq 1 200); do
        grep -q '^listening on ' "$W/server.out" && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    SERVER_URL=$(sed -n 's/^listening on //p' "$W/server.out" | head -n1)
    [[ -n "$SERVER_URL" ]] || { cat "$W/server.err" >&2; echo "de-server did not start" >&2; return 1; }
    local key
    key=$("$DE_SERVER" --root "$root" user add bench)
    export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bench \
        DASH_ENTERPRISE_PASSWORD="$key"
}

# bench_start_nginx DATA: nginx WebDAV from bench/nginx/sync-webdav.conf (PUT DELETE MKCOL COPY
# MOVE, PROPFIND) serving DATA on a free loopback port, prefix $W/nginx. Sets NGINX_PID, NPORT,
# DAV (the base URL) and NGINX_WORKERS (the PIDs of its workers, whose CPU and peak RSS are read
# like de-server's).
bench_start_nginx() {
    local data=$1
    NPORT=$(bench_free_port)
    mkdir -p "$W/nginx" "$data"
    sed -e "s#@USER@#$(id -un) $(id -gn)#g" -e "s#@ROOT@#$W/nginx#g" -e "s#@PORT@#$NPORT#g" \
        -e "s#@DATA@#$data#g" \
        "$HERE/nginx/sync-webdav.conf" >"$W/nginx/nginx.conf"
    nginx -c "$W/nginx/nginx.conf" -p "$W/nginx" 2>"$W/nginx/stderr" &
    NGINX_PID=$!
    local _
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$NPORT/" && break; sleep 0.05; done
    curl -s -o /dev/null "http://127.0.0.1:$NPORT/" ||
        { cat "$W/nginx/stderr" "$W/nginx/error.log" >&2 2>/dev/null; echo "nginx did not start" >&2; return 1; }
    DAV="http://127.0.0.1:$NPORT"
    NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ' || true)
}

# bench_stop_servers: stops de-server and nginx if they run (for the caller's EXIT trap).
bench_stop_servers() {
    if [[ -n "${SERVER_PID:-}" ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -n "${NGINX_PID:-}" ]]; then kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null || true; fi
    SERVER_PID="" NGINX_PID=""
}

# --- what a process costs ------------------------------------------------------------------
BENCH_CLK_TCK=$(getconf CLK_TCK)
# bench_cpu PID...: CPU seconds (user + system) the processes have used so far, summed.
bench_cpu() {
    local p
    for p; do cat "/proc/$p/stat"; done |
        awk -v t="$BENCH_CLK_TCK" '{s += $14 + $15} END {printf "%.2f", s / t}'
}
# bench_hwm PID...: the largest peak RSS (VmHWM, KiB) among the processes; bench_hwm_reset
# PID... sets each one's peak to its current RSS (clear_refs 5).
bench_hwm() {
    local p
    for p; do cat "/proc/$p/status"; done | awk '/VmHWM/ {if ($2 > m) m = $2} END {print m + 0}'
}
bench_hwm_reset() {
    local p
    for p; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
}

# --- measuring (bench_results_init, then measure ID SERVER CMD...) -------------------------------------------------------------------------------
# Every timed step appends one line to results.tsv:
#   id  seconds  client-CPU-s  client-peak-KiB  server-CPU-s  server-peak-KiB
# (server: "-" when there is none); "fail" as seconds when the step failed.
# The caller sets DE_SERVER_PIDS (de-server) and NGINX_PIDS (an array: nginx's workers).
bench_results_init() {
    RESULTS="$W/results.tsv"
    BAD="$W/bad"
    : >"$RESULTS"
    : >"$BAD"
}
# T CMD...: CMD under GNU time (peak RSS of CMD and its waited-for children, user and system
# seconds) into $W/rusage.
T() { /usr/bin/time -f '%M %U %S' -o "$W/rusage" "$@"; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }

# measure ID SERVER CMD...: sync, reset the server's peak, time CMD (which runs its client
# through T). SERVER: "de" (de-server), "nginx" or "none".
measure() {
    local id=$1 server=$2 pids=() t0 t1 c0=0 scpu=- shwm=-
    shift 2
    case $server in
    de) pids=("$DE_SERVER_PIDS") ;;
    nginx) pids=("${NGINX_PIDS[@]}") ;;
    esac
    sync
    if ((${#pids[@]})); then
        bench_hwm_reset "${pids[@]}"
        c0=$(bench_cpu "${pids[@]}")
    fi
    echo "0 0 0" >"$W/rusage"
    t0=$EPOCHREALTIME
    if ! "$@" >"$W/last.log" 2>&1; then
        bench_log "FAILED: $id:"
        tail -5 "$W/last.log" | sed 's/^/    /' >&2
        printf '%s\tfail\t-\t-\t-\t-\n' "$id" >>"$RESULTS"
        echo "$id failed" >>"$BAD"
        return 1
    fi
    t1=$EPOCHREALTIME
    if ((${#pids[@]})); then
        scpu=$(fsub "$(bench_cpu "${pids[@]}")" "$c0")
        shwm=$(bench_hwm "${pids[@]}")
    fi
    local rss u s
    read -r rss u s <"$W/rusage"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$(fsub "$t1" "$t0")" \
        "$(awk -v a="$u" -v b="$s" 'BEGIN {printf "%.2f", a + b}')" "$rss" "$scpu" "$shwm" >>"$RESULTS"
    bench_log "$id: $(fsub "$t1" "$t0") s"
}

# --- data ----------------------------------------------------------------------------------
# bench_gen_file PATH BYTES SEED: seeded, incompressible bytes (AES-256-CTR keystream).
bench_gen_file() {
    # openssl dies of SIGPIPE when head has enough: judge by the size, not the pipeline status.
    openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass "pass:de-bench-$3-$2" </dev/zero 2>/dev/null |
        head -c "$2" >"$1" || true
    [[ $(stat -c %s "$1") == "$2" ]] || { echo "bench: could not generate $1" >&2; return 1; }
}

# bench_gen_tree DIR N SEED: N files of 1-16 KiB (seeded, each distinct), 100 a folder, in
# DIR/dNN/sN/fNNNNN.bin (221 folders for 20,000 files).
bench_gen_tree() {
    bench_py - "$1" "$2" "$3" <<'PY'
import os, random, sys
root, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
block = rng.randbytes(1 << 20)
for i in range(n):
    d = os.path.join(root, f"d{i // 1000:02d}", f"s{(i // 100) % 10}")
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    size = rng.randint(1024, 16384)
    off = rng.randint(0, len(block) - size)
    data = bytearray(block[off:off + size])
    data[:8] = i.to_bytes(8, "little")  # every file distinct
    with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
        f.write(data)
PY
}

# bench_sha FILE: its SHA-256 (hex).
bench_sha() { sha256sum "$1" | cut -d' ' -f1; }

# bench_tree_sum DIR: "<files> <digest>" -- every file's relative path, size and SHA-256,
# sorted, hashed: two trees with the same line hold the same files.
bench_tree_sum() {
    bench_py - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
rows = []
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        with open(p, "rb") as fh:
            data = fh.read()
        rows.append(f"{os.path.relpath(p, root)}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}")
rows.sort()
print(len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
PY
}

# bench_bytes SIZE: bytes of "2G", "2GiB", "256M", "256MiB", "64K" or a plain number (binary units).
bench_bytes() {
    local s=${1%iB} n
    s=${s%B}
    n=${s%[KkMmGgTt]}
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "bench: not a size: $1" >&2; return 1; }
    case $s in
    *[Kk]) echo $((n << 10)) ;;
    *[Mm]) echo $((n << 20)) ;;
    *[Gg]) echo $((n << 30)) ;;
    *[Tt]) echo $((n << 40)) ;;
    *) echo "$n" ;;
    esac
}

# bench_commit SRC: the commit measured (a `git archive` export has no .git; a COMMIT file
# beside it names the commit).
bench_commit() {
    git -C "$1" describe --always --dirty 2>/dev/null || cat "$1/COMMIT" 2>/dev/null || echo unknown
}

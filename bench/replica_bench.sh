#!/usr/bin/env bash
# Issue 17: what sharing state on the root costs. Requests per second (wrk, Debian's) through a
# round-robin nginx in front of 1 de-server replica, then in front of 3 replicas on the same
# root, same run, same machine, loopback:
#   GET /api/v1/whoami            a small JSON answer (authentication: users.json stat per request)
#   GET /api/v1/apps/bench        a small JSON answer that reads app.json
#   GET a 4 KiB file              the hash cache, a pread
#   PUT a 4 KiB file              the quota ledger (lock, read the others, rewrite ours) twice,
#                                 staging, fsync, rename
# The 3-replica rows are divided by the 1-replica rows: below 1.0 is what the sharing costs (this
# machine has 2 cores, so 3 replicas cannot be faster; on separate machines they would be).
#   bench/replica_bench.sh [BUILD_DIR] [SECONDS per row, default 5] [CONNECTIONS, default 16]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build}
SECS=${2:-5}
CONNS=${3:-16}
DE_SERVER=${DE_SERVER:-$BUILD/server/de-server}
source "$HERE/lib.sh"
bench_need nginx wrk curl python3
W=$(mktemp -d "${TMPDIR:-/tmp}/de-replica-bench.XXXXXX")
PIDS=()
NGINX_PID=""
stop_all() {
    [[ -n "$NGINX_PID" ]] && { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null || true; }
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
    PIDS=() NGINX_PID=""
}
trap 'stop_all; rm -rf "$W"' EXIT

ROOT="$W/root"
mkdir -p "$ROOT"
KEY=$("$DE_SERVER" --root "$ROOT" user add bench)
AUTH="Authorization: Basic $(printf 'bench:%s' "$KEY" | base64 -w0)"

start_set() { # N: N replicas and nginx in front; sets URL
    local n=$1 i servers="" port
    for i in $(seq 1 "$n"); do
        : >"$W/r$i.out"
        "$DE_SERVER" --root "$ROOT" --listen 127.0.0.1:0 >"$W/r$i.out" 2>/dev/null &
        PIDS+=($!)
        for _ in $(seq 1 200); do grep -q '^listening on ' "$W/r$i.out" && break; sleep 0.05; done
        servers+="server $(sed -n 's#^listening on http://##p' "$W/r$i.out");"
    done
    port=$(bench_free_port)
    mkdir -p "$W/ngx"
    cat >"$W/ngx/nginx.conf" <<CONF
worker_processes 1; daemon off; user $(id -un) $(id -gn); pid $W/ngx/nginx.pid;
error_log $W/ngx/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $W/ngx/body; proxy_temp_path $W/ngx/proxy;
  upstream r { $servers keepalive 64; }
  server { listen 127.0.0.1:$port; client_max_body_size 0;
    location / { proxy_pass http://r; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header Host \$http_host; } } }
CONF
    nginx -c "$W/ngx/nginx.conf" -p "$W/ngx" 2>"$W/ngx/stderr" &
    NGINX_PID=$!
    URL="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do curl -s -o /dev/null "$URL/api/v1/health" && return 0; sleep 0.05; done
    echo "nginx did not start" >&2
    return 1
}

# wrk's Lua: every request a PUT of 4 KiB to a path of its own.
cat >"$W/put.lua" <<'LUA'
local n = 0
local body = string.rep("x", 4096)
request = function()
  n = n + 1
  return wrk.format("PUT", string.format("/api/v1/apps/bench/mount/files/put/%d-%d.bin", math.random(1, 1e9), n), nil, body)
end
LUA

rps() { # NAME [wrk args...]: prints requests/s
    local name=$1
    shift
    wrk -t2 -c"$CONNS" -d"${SECS}s" -H "$AUTH" "$@" >"$W/$name.wrk" 2>&1
    if grep -q 'Non-2xx' "$W/$name.wrk"; then
        echo "bench: $name had error answers:" >&2
        cat "$W/$name.wrk" >&2
    fi
    sed -n 's/^Requests\/sec: *//p' "$W/$name.wrk"
}

declare -A R
for n in 1 3; do
    start_set "$n"
    if [[ $n == 1 ]]; then
        curl -sf -o /dev/null -H "$AUTH" -H 'Content-Type: application/json' -d '{"name":"bench"}' \
            "$URL/api/v1/apps"
        curl -sf -o /dev/null -H "$AUTH" -X PUT "$URL/api/v1/apps/bench/mount"
        head -c 4096 /dev/urandom >"$W/4k"
        curl -sf -o /dev/null -H "$AUTH" -T "$W/4k" "$URL/api/v1/apps/bench/mount/files/4k.bin"
    fi
    bench_log "$n replica(s): whoami"
    R[whoami.$n]=$(rps whoami.$n "$URL/api/v1/whoami")
    bench_log "$n replica(s): app"
    R[app.$n]=$(rps app.$n "$URL/api/v1/apps/bench")
    bench_log "$n replica(s): GET 4 KiB"
    R[get.$n]=$(rps get.$n "$URL/api/v1/apps/bench/mount/files/4k.bin")
    bench_log "$n replica(s): PUT 4 KiB"
    R[put.$n]=$(rps put.$n -s "$W/put.lua" "$URL")
    stop_all
done

printf '%-32s %12s %12s %8s\n' "requests/s (wrk -c$CONNS, ${SECS} s)" "1 replica" "3 replicas" "3 / 1"
for k in whoami app get put; do
    case $k in
    whoami) label="GET /api/v1/whoami" ;;
    app) label="GET /api/v1/apps/APP" ;;
    get) label="GET a 4 KiB file" ;;
    put) label="PUT a 4 KiB file" ;;
    esac
    printf '%-32s %12.0f %12.0f %8.2f\n' "$label" "${R[$k.1]}" "${R[$k.3]}" \
        "$(python3 -c "print(${R[$k.3]} / ${R[$k.1]})")"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') round robin, keepalive 64"

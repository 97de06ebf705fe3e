# Sourced after harness.sh by the replica tests (issue 17): several de-server
# replicas on one root ($SERVER_ROOT), each on its own ephemeral loopback port,
# and Debian's nginx in front of them as a round-robin balancer without
# stickiness, on a free port picked at run time. Everything stops on exit.
#   start_replicas N [de-server args...]  REPLICA_PID[i], REPLICA_URL[i] (i = 1..N)
#   start_balancer [I...]                BALANCER_URL (nginx, round robin over replicas I...,
#                                        default all; $T/nginx/access.log: METHOD UPSTREAM STATUS)
#   kill_replica I [SIGNAL]              default SIGKILL
REPLICA_PID=()
REPLICA_URL=()
BALANCER_PID=""

# start_replica I [args...]: (re)starts replica I on a fresh port.
start_replica() {
    local i=$1
    shift
    mkdir -p "$SERVER_ROOT"
    local out="$T/replica-$i.out"
    : >"$out"
    "$DE_SERVER" --root "$SERVER_ROOT" --listen 127.0.0.1:0 "$@" >"$out" 2>>"$T/replica-$i.err" &
    REPLICA_PID[$i]=$!
    REPLICA_URL[$i]=$(wait_listening "$out" "${REPLICA_PID[$i]}" "$T/replica-$i.err") || return 1
}

start_replicas() {
    local n=$1
    shift
    local i
    for i in $(seq 1 "$n"); do start_replica "$i" "$@"; done
}

kill_replica() {
    local i=$1 sig=${2:-KILL}
    kill "-$sig" "${REPLICA_PID[$i]}" 2>/dev/null || true
    wait "${REPLICA_PID[$i]}" 2>/dev/null || true
    REPLICA_PID[$i]=""
}

# A free loopback port (bound and released: nginx takes it right after).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_balancer() {
    command -v nginx >/dev/null || { echo "nginx is missing (scripts/deps.sh installs it)" >&2; return 1; }
    local ngx="$T/nginx" port servers="" i
    mkdir -p "$ngx"
    local which=("$@")
    ((${#which[@]})) || which=("${!REPLICA_URL[@]}")
    for i in "${which[@]}"; do
        servers+="        server ${REPLICA_URL[$i]#http://};"$'\n'
    done
    port=$(free_port)
    cat >"$ngx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user $(id -un) $(id -gn);
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 512; }
http {
    log_format upstream '\$request_method \$upstream_addr \$status';
    access_log $ngx/access.log upstream;
    client_body_temp_path $ngx/body;
    proxy_temp_path $ngx/proxy;
    fastcgi_temp_path $ngx/fastcgi;
    uwsgi_temp_path $ngx/uwsgi;
    scgi_temp_path $ngx/scgi;
    upstream replicas {
$servers        keepalive 16;
    }
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        location / {
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            # Only a connection that failed is tried on another replica (nginx never
            # replays a non-idempotent request: LOCK, POST, PATCH).
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_send_timeout 60s;
        }
    }
}
CONF
    nginx -c "$ngx/nginx.conf" -p "$ngx" 2>"$ngx/stderr" &
    BALANCER_PID=$!
    BALANCER_URL="http://127.0.0.1:$port"
    local _
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "$BALANCER_URL/api/v1/health" && return 0
        sleep 0.05
    done
    cat "$ngx/stderr" "$ngx/error.log" >&2 2>/dev/null || true
    echo "nginx did not start" >&2
    return 1
}

stop_replicas() {
    local i st
    if [[ -n "$BALANCER_PID" ]]; then
        kill "$BALANCER_PID" 2>/dev/null || true
        wait "$BALANCER_PID" 2>/dev/null || true
        BALANCER_PID=""
    fi
    for i in "${!REPLICA_PID[@]}"; do
        [[ -n "${REPLICA_PID[$i]}" ]] || continue
        kill -TERM "${REPLICA_PID[$i]}" 2>/dev/null || true
        st=0
        wait "${REPLICA_PID[$i]}" 2>/dev/null || st=$?
        REPLICA_PID[$i]=""
        if ((st == 86)); then  # a sanitizer build's report (tests/CMakeLists.txt)
            echo "FAIL: replica $i exited 86, a sanitizer report:" >&2
            tail -c 4000 "$T/replica-$i.err" >&2 || true
            FAILURES=$((FAILURES + 1))
        fi
    done
}

# harness.sh's EXIT trap stops its own server; the replicas and nginx go first.
replica_cleanup() {
    local rc=$?
    stop_replicas
    (exit "$rc")
    cleanup
}
trap replica_cleanup EXIT

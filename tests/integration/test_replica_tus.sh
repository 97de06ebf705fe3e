#!/usr/bin/env bash
# Replicas (issue 17): three de-server processes serve one root; a tus upload
# is continued by whichever of them a request reaches.
# - by hand (curl), each request to another replica: a parts upload created on
#   one, its parts written, looked at and completed on the others; a core
#   upload whose whole-file hash state travels in its state file;
# - parallel PATCHes of different parts on different replicas all count, a
#   second PATCH of a part being written elsewhere gets 409;
# - two creations with one Idempotency-Key racing on two replicas get one upload;
# - a termination on one replica is 410 on the others;
# - a replica starting up leaves an upload another one is writing alone;
# - failover: de-cli uploads 200 MiB through a round-robin nginx in front of
#   the three; the replica writing it is killed (-9) midway; the upload
#   finishes through the others (SHA-256 equal, nothing visible before) and
#   the time from the death to the next byte another replica accepted is
#   printed.
# Time: 65 s measured on the 2-core box while other builds kept its load at 15
# (python3 alone took 8 s to start then, so the test uses none); the floor is
# the failover upload, slowed to ~40 MB/s so that it can be killed midway (5 s
# for 200 MiB). Normal build only (tests/integration/CMakeLists.txt).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"

MiB=$((1 << 20))
PIDS=()
URLS=()
NGINX_PID=""

stop_all() {
    local rc=$? p st
    set +e
    if [[ -n "$NGINX_PID" ]]; then
        kill "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    fi
    for p in "${PIDS[@]:1}"; do
        [[ -n "$p" ]] || continue
        kill -TERM "$p" 2>/dev/null || continue
        st=0
        wait "$p" 2>/dev/null || st=$?
        if ((st == 86)); then
            echo "FAIL: replica $p exited 86, a sanitizer report" >&2
            rc=1
        fi
    done
    if [[ -n "${KEEP_LOGS:-}" ]]; then mkdir -p "$KEEP_LOGS" && cp "$T"/*.err "$T"/*.out "$KEEP_LOGS"/ 2>/dev/null; fi
    (exit "$rc")
    cleanup
}
trap stop_all EXIT

# start_replica: one more de-server on the same root (its own ephemeral port).
start_replica() {
    local i=${#URLS[@]} out
    out="$T/r$i.out"
    "$DE_SERVER" --root "$SERVER_ROOT" --listen 127.0.0.1:0 >"$out" 2>"$T/r$i.err" &
    PIDS[i]=$!
    URLS[i]=$(wait_listening "$out" "${PIDS[i]}" "$T/r$i.err") || { fail "replica $i did not start"; exit 1; }
}

start_server # replica 0 (the harness's)
PIDS[0]=$SERVER_PID
URLS[0]=$SERVER_URL
setup_app
start_replica
start_replica
UP="/api/v1/apps/sales/uploads"
TUSH=(-H 'Tus-Resumable: 1.0.0' -u "alice:$KEY")
b64() { printf '%s' "$1" | base64 -w0; }
sha_of() { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; } # SHA-NI: 8x sha256sum

# create R LENGTH PATH [curl args...]: prints the upload's path (Location).
create() {
    local r=$1 len=$2 path=$3
    shift 3
    local h="$T/h.$BASHPID"
    curl -s -o /dev/null -D "$h" -X POST "${TUSH[@]}" -H "Upload-Length: $len" \
        -H "Upload-Metadata: path $(b64 "$path")" "$@" "${URLS[r]}$UP" || true
    tr -d '\r' <"$h" | sed -n 's/^[Ll]ocation: //p'
}
# patch R LOC OFFSET FILE FROM LEN [curl args...]: prints "status offset".
patch() {
    local r=$1 loc=$2 off=$3 file=$4 from=$5 len=$6
    shift 6
    dd if="$file" of="$T/body.$r.$off" bs=1M iflag=skip_bytes,count_bytes skip="$from" \
        count="$len" status=none
    curl -s -o /dev/null -D "$T/ph.$r.$off" -X PATCH "${TUSH[@]}" -H "Upload-Offset: $off" \
        -H 'Content-Type: application/offset+octet-stream' --data-binary @"$T/body.$r.$off" \
        "$@" "${URLS[r]}$loc" || true
    printf '%s %s\n' "$(tr -d '\r' <"$T/ph.$r.$off" | sed -n 's/^HTTP[^ ]* \([0-9]*\).*/\1/p' | tail -n1)" \
        "$(tr -d '\r' <"$T/ph.$r.$off" | sed -n 's/^[Uu]pload-[Oo]ffset: //p')"
}
# header R LOC NAME: one header of a HEAD answer ("status" for the status).
header() {
    curl -s -o /dev/null -I -D "$T/hh" "${TUSH[@]}" "${URLS[$1]}$2" || true
    if [[ "$3" == status ]]; then
        tr -d '\r' <"$T/hh" | sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p'
    else
        tr -d '\r' <"$T/hh" | sed -n "s/^$3: //Ip"
    fi
}
# io_of PID...: the bytes each process has written (its pwrite of the data counts).
io_of() {
    local p out=()
    for p in "$@"; do out+=("/proc/$p/io"); done
    awk '/^wchar:/ {printf "%s ", $2}' "${out[@]}" 2>/dev/null
}
hash_at() { # LOC: where the whole-file hash saved in the upload's state file stands
    grep -o '"hash":{"at":[0-9]*' "$SERVER_ROOT/apps/sales/uploads/${1##*/}.json" | grep -o '[0-9]*$'
}

# 1. A parts upload (3 parts of 2 MiB) across the replicas, request by request.
head -c $((6 * MiB)) /dev/urandom >"$T/six.bin"
LOC=$(create 0 $((6 * MiB)) rep/six.bin -H "Upload-Parts: $((2 * MiB))")
assert_contains "$LOC" "$UP/" "creation on replica 0"
assert_eq "$(patch 1 "$LOC" 0 "$T/six.bin" 0 $((2 * MiB)))" "204 $((2 * MiB))" "part 0 on replica 1"
assert_eq "$(patch 2 "$LOC" $((2 * MiB)) "$T/six.bin" $((2 * MiB)) "$MiB")" "204 $((3 * MiB))" \
    "half of part 1 on replica 2"
assert_eq "$(header 0 "$LOC" Upload-Offset)" "$((3 * MiB))" "HEAD on replica 0 sees both"
assert_eq "$(header 0 "$LOC" Upload-Parts-Done)" "0" "parts done, on replica 0"
assert_eq "$(patch 1 "$LOC" $((2 * MiB + 4096)) "$T/six.bin" $((2 * MiB + 4096)) 4096)" "409 " \
    "replica 1 knows where part 1 stands (409 for another offset)"
assert_eq "$(patch 1 "$LOC" $((3 * MiB)) "$T/six.bin" $((3 * MiB)) "$MiB")" "204 $((4 * MiB))" \
    "the rest of part 1 on replica 1, from where replica 2 left it"
assert_eq "$(patch 2 "$LOC" $((4 * MiB)) "$T/six.bin" $((4 * MiB)) $((2 * MiB)))" "204 $((6 * MiB))" \
    "part 2 on replica 2"
assert_eq "$(header 0 "$LOC" Upload-Parts-Done)" "0-2" "every part done, on replica 0"
[[ ! -e "$SERVER_ROOT/apps/sales/mount/rep/six.bin" ]] || fail "visible before completion"
SIX=$(sha_of "$T/six.bin")
CODE=$(curl -s -o "$T/complete.out" -w '%{http_code}' -X POST "${TUSH[@]}" \
    -H 'Content-Type: application/json' -d "{\"sha256\":\"$SIX\"}" "${URLS[1]}$LOC/complete")
assert_eq "$CODE" "201" "completion on replica 1"
curl -s -o "$T/six.got" -u "alice:$KEY" "${URLS[2]}/api/v1/apps/sales/mount/files/rep/six.bin"
assert_eq "$(sha_of "$T/six.got")" "$SIX" "the file (GET from replica 2)"
assert_contains "$(header 2 "$LOC" X-De-Entry)" "$SIX" "replica 2's HEAD names the committed file"

# 2. A core upload: half on replica 2, HEAD on 0, the rest (and completion) on 1.
head -c $((5 * MiB + 123)) /dev/urandom >"$T/core.bin"
LOC=$(create 2 $((5 * MiB + 123)) rep/core.bin)
assert_eq "$(patch 2 "$LOC" 0 "$T/core.bin" 0 $((3 * MiB + 7)))" "204 $((3 * MiB + 7))" "core: first PATCH"
assert_eq "$(hash_at "$LOC")" "$((3 * MiB + 7))" \
    "core: the hash state is in the state file, at the confirmed offset"
assert_eq "$(header 0 "$LOC" Upload-Offset)" "$((3 * MiB + 7))" "core: HEAD on replica 0"
assert_eq "$(patch 1 "$LOC" $((3 * MiB + 7)) "$T/core.bin" $((3 * MiB + 7)) $((2 * MiB + 116)))" \
    "204 $((5 * MiB + 123))" "core: the rest on replica 1 completes it"
assert_contains "$(tr -d '\r' <"$T/ph.1.$((3 * MiB + 7))")" "ETag: \"$(sha_of "$T/core.bin")\"" \
    "core: the ETag is the file's SHA-256"
assert_eq "$(sha_of "$SERVER_ROOT/apps/sales/mount/rep/core.bin")" "$(sha_of "$T/core.bin")" "core: content"

# 3. Parallel PATCHes of three parts on three replicas: part 0 slowly on
# replica 0, meanwhile a second PATCH of part 0 on replica 1 (409: replica 0
# holds its lock), parts 1 and 2 on replicas 1 and 2, which finish first: the
# state replica 0 saves last must keep their progress.
head -c $((12 * MiB)) /dev/urandom >"$T/par.bin"
LOC=$(create 0 $((12 * MiB)) rep/par.bin -H "Upload-Parts: $((4 * MiB))")
read -r W0 _ <<<"$(io_of "${PIDS[0]}")"
patch 0 "$LOC" 0 "$T/par.bin" 0 $((4 * MiB)) --limit-rate 2M >"$T/par.0" &
PP0=$!
for _ in $(seq 1 500); do # until replica 0 writes part 0
    read -r W _ <<<"$(io_of "${PIDS[0]}")"
    ((W - W0 > 512 * 1024)) && break
    sleep 0.02
done
assert_eq "$(patch 1 "$LOC" 0 "$T/par.bin" 0 $((4 * MiB)))" "409 " \
    "part 0, being written on replica 0, is 409 on replica 1"
for r in 1 2; do
    assert_eq "$(patch "$r" "$LOC" $((r * 4 * MiB)) "$T/par.bin" $((r * 4 * MiB)) $((4 * MiB)))" \
        "204 $(((r + 1) * 4 * MiB))" "parallel part $r on replica $r"
done
wait "$PP0"
assert_eq "$(cat "$T/par.0")" "204 $((4 * MiB))" "parallel part 0 on replica 0"
assert_eq "$(header 1 "$LOC" Upload-Parts-Done)" "0-2" "no part's progress lost"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${TUSH[@]}" -H 'Content-Type: application/json' \
    -d "{\"sha256\":\"$(sha_of "$T/par.bin")\"}" "${URLS[2]}$LOC/complete")
assert_eq "$CODE" "201" "parallel: completion on replica 2"
assert_eq "$(sha_of "$SERVER_ROOT/apps/sales/mount/rep/par.bin")" "$(sha_of "$T/par.bin")" "parallel: content"

# 4. One Idempotency-Key, two creations racing on two replicas: one upload.
for round in 1 2 3; do
    create 0 $MiB "rep/key$round.bin" -H "Idempotency-Key: race-$round" >"$T/k0" &
    K0=$!
    create 1 $MiB "rep/key$round.bin" -H "Idempotency-Key: race-$round" >"$T/k1"
    wait "$K0"
    assert_eq "$(cat "$T/k1")" "$(cat "$T/k0")" "round $round: both creations got the same upload"
done
assert_eq "$(grep -l '"creation_key":"race-' "$SERVER_ROOT"/apps/sales/uploads/*.json | wc -l)" "3" \
    "three keyed uploads on the disk, not six"

# 5. Terminated on replica 0: 410 on the others, a retried DELETE still 204.
LOC=$(create 1 $MiB rep/gone.bin)
assert_eq "$(header 2 "$LOC" status)" "200" "known on replica 2"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${TUSH[@]}" "${URLS[0]}$LOC")" "204" \
    "terminated on replica 0"
assert_eq "$(header 1 "$LOC" status)" "410" "410 on replica 1 (which created it)"
assert_eq "$(header 2 "$LOC" status)" "410" "410 on replica 2 (which had looked at it)"
assert_eq "$(patch 2 "$LOC" 0 "$T/six.bin" 0 1000)" "410 " "a PATCH on replica 2: 410"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${TUSH[@]}" "${URLS[1]}$LOC")" "204" \
    "a retried DELETE on replica 1"

# 6. A replica starting up while another one writes an upload leaves it alone.
LOC=$(create 0 $((4 * MiB)) rep/busy.bin)
patch 0 "$LOC" 0 "$T/par.bin" 0 $((4 * MiB)) --limit-rate 4M >"$T/busy" &
BUSY=$!
sleep 0.2
start_replica
wait "$BUSY"
assert_eq "$(cat "$T/busy")" "204 $((4 * MiB))" "the upload written during a start-up completed"
assert_eq "$(sha_of "$SERVER_ROOT/apps/sales/mount/rep/busy.bin")" "$(head -c $((4 * MiB)) "$T/par.bin" | openssl dgst -sha256 -r | cut -d' ' -f1)" \
    "and its content is whole"
kill -TERM "${PIDS[3]}" && wait "${PIDS[3]}" 2>/dev/null || true
PIDS[3]=""
unset 'URLS[3]'

# 7. Failover through a round-robin balancer: kill -9 of the replica writing.
NPORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0)->sockport')
mkdir -p "$T/nginx"
{
    echo "user $(id -un) $(id -gn); worker_processes 1; daemon off; pid $T/nginx/nginx.pid;"
    echo "error_log $T/nginx/error.log warn; events { worker_connections 256; }"
    echo "http { access_log off; client_body_temp_path $T/nginx/body; proxy_temp_path $T/nginx/proxy;"
    echo "  fastcgi_temp_path $T/nginx/f; uwsgi_temp_path $T/nginx/u; scgi_temp_path $T/nginx/s;"
    echo "  upstream replicas {"
    for u in "${URLS[@]}"; do echo "    server ${u#http://} max_fails=1 fail_timeout=30s;"; done
    echo "  }"
    echo "  server { listen 127.0.0.1:$NPORT; client_max_body_size 0;"
    echo "    location / { proxy_pass http://replicas; proxy_http_version 1.1;"
    echo "      proxy_request_buffering off; proxy_buffering off; proxy_set_header Host \$host:\$server_port;"
    echo "      proxy_next_upstream error timeout; proxy_read_timeout 60s; } } }"
} >"$T/nginx/nginx.conf"
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>"$T/nginx/stderr" &
NGINX_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$NPORT/api/v1/health" && break; sleep 0.05; done
openssl rand -out "$T/big.bin" $((200 * MiB))
read -r -a BASE <<<"$(io_of "${PIDS[0]}" "${PIDS[1]}" "${PIDS[2]}")"
# One connection (-j 1) at ~40 MB/s: one PATCH (a 4 MiB chunk, ~0.1 s) at a
# time, each on the next replica (round robin).
DE_CLI_PART_SIZE=64MiB DE_CLI_TEST_SLOW_UPLOAD=40000000 DASH_ENTERPRISE_HOST="http://127.0.0.1:$NPORT" \
    DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY" \
    "$DE_CLI" --no-keyfile upload "$T/big.bin" /rep/big.bin -n sales -j 1 --json >"$T/big.out" 2>"$T/big.err" &
CLI=$!
# Once 60 MiB are in: the replica whose writes grew in the last 10 ms (alone) is
# the one receiving a PATCH now: it is the victim.
VICTIM=""
PREV=("${BASE[@]}")
for _ in $(seq 1 1500); do
    sleep 0.01
    read -r -a CUR <<<"$(io_of "${PIDS[0]}" "${PIDS[1]}" "${PIDS[2]}")"
    ((${#CUR[@]} == 3)) || break
    GREW=() TOTAL=0
    for i in 0 1 2; do
        ((CUR[i] - PREV[i] > 128 * 1024)) && GREW+=("$i")
        TOTAL=$((TOTAL + CUR[i] - BASE[i]))
    done
    if ((TOTAL > 60 * MiB && ${#GREW[@]} == 1)); then
        VICTIM=${GREW[0]}
        break
    fi
    PREV=("${CUR[@]}")
done
if [[ -z "$VICTIM" ]]; then
    fail "no replica was seen receiving the upload"
else
    kill -9 "${PIDS[VICTIM]}"
    T0=$(date +%s%N)
    SURV=()
    for i in 0 1 2; do [[ "$i" == "$VICTIM" ]] || SURV+=("${PIDS[i]}"); done
    read -r -a B2 <<<"$(io_of "${SURV[@]}")"
    wait "${PIDS[VICTIM]}" 2>/dev/null || true
    PIDS[VICTIM]=""
    kill -0 "$CLI" 2>/dev/null || fail "the upload ended before the replica was killed"
    [[ ! -e "$SERVER_ROOT/apps/sales/mount/rep/big.bin" ]] || fail "big.bin visible before completion"
    T1=""
    for _ in $(seq 1 3000); do
        read -r -a C2 <<<"$(io_of "${SURV[@]}")"
        if ((C2[0] - B2[0] > 128 * 1024 || C2[1] - B2[1] > 128 * 1024)); then
            T1=$(date +%s%N)
            break
        fi
        sleep 0.005
    done
    if [[ -n "$T1" ]]; then
        MS=$(((T1 - T0) / 1000000))
        BROKE=$(grep -c -E 'upstream|Connection reset|Broken pipe' "$T/nginx/error.log" 2>/dev/null || true)
        echo "failover: replica $VICTIM killed -9 mid-PATCH -> the next 128 KiB accepted by another replica after $MS ms (nginx logged $BROKE upstream error(s))"
        ((MS < 10000)) || fail "failover took $MS ms"
    else
        fail "no other replica accepted the upload's bytes within 15 s"
    fi
fi
set +e
wait "$CLI"
RC=$?
set -e
OUT=$(cat "$T/big.out") ERR=$(cat "$T/big.err")
assert_eq "$RC" "0" "the de-cli upload finished through the other replicas"
assert_eq "$(sha_of "$SERVER_ROOT/apps/sales/mount/rep/big.bin")" "$(sha_of "$T/big.bin")" \
    "failover: the file's SHA-256"
# The whole-file hash travelled from replica to replica in the state file: the
# one that completed read back from the disk at most what was lost with the
# victim, never the whole file (its log line says where the hash got its bytes).
LINE=$(cat "$T/server.err" "$T"/r*.err | grep "tus upload of $((200 * MiB)) bytes completed" || true)
READ_BACK=$(sed -n 's/.*read back \([0-9]*\).*/\1/p' <<<"$LINE")
echo "completion: $LINE"
[[ -n "$READ_BACK" ]] && ((READ_BACK <= 64 * MiB)) ||
    fail "the completing replica read back ${READ_BACK:-?} bytes (the hash did not travel)"
finish

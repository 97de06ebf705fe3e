#!/usr/bin/env bash
# WebDAV locks shared by replicas (issue 17): three de-server processes on one --root, each on
# its own ephemeral port. A LOCK through one is seen at once by the others (423 for a PUT
# without the token, lockdiscovery, PUT with the If token, UNLOCK through another); three
# replicas racing for one lock leave exactly one winner; the lock outlives `kill -9` of the
# replica that granted it. Then litmus's `locks` suite runs through nginx, round-robin over
# three replicas with no stickiness, so that consecutive requests of one client land on
# different processes (nginx's access log proves the spread). Sequential curls: 11-16 s on
# the shared 2-core machine at load 12-17 (test_dav_litmus.sh took 4.8 s there at the same time).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/dav_helpers.sh"
source "$(dirname "$0")/replica_harness.sh"
command -v litmus >/dev/null || { echo "FAIL: litmus is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "FAIL: nginx is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

# via N METHOD PATH [curl args...]: a request as alice to replica N; sets CODE, BODY, and the
# response headers in $T/dav.headers.
via() {
    local n=$1 method=$2 path=$3
    shift 3
    CODE=$(curl -sS -o "$T/dav.body" -D "$T/dav.headers" -w '%{http_code}' -u "alice:$KEY" \
        -X "$method" "$@" "${REPLICA_URL[n]}/dav/sales$path") || CODE=000
    BODY=$(cat "$T/dav.body" 2>/dev/null || true)
}

LOCKINFO='<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>it</D:owner></D:lockinfo>'
PROPFIND_LOCKS='<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>'

started=$(date +%s.%N)
dav_setup
REPLICA_URL[1]=$SERVER_URL  # the harness's server is replica 1
start_replica 2
start_replica 3
CHECKS=$((CHECKS + 1))
[[ "${REPLICA_URL[1]}" != "${REPLICA_URL[2]}" && "${REPLICA_URL[2]}" != "${REPLICA_URL[3]}" ]] || fail "replicas share a port"

# --- LOCK through 1; 2 and 3 see it ---------------------------------------------------------
via 1 PUT /f.txt --data-binary v1
assert_code_in "201 204" "PUT via 1"
via 1 LOCK /f.txt -H 'Timeout: Second-600' -H 'Content-Type: application/xml' --data-binary "$LOCKINFO"
assert_eq "$CODE" "200" "LOCK via 1"
TOKEN=$(dav_header Lock-Token | tr -d '<>')
assert_contains "$TOKEN" "urn:x-de:" "Lock-Token of the LOCK via 1"

via 2 PUT /f.txt --data-binary v2
assert_eq "$CODE" "423" "PUT without the token via 2"
assert_eq "$(cat "$MOUNT/f.txt")" "v1" "the locked file after the refused PUT"
via 2 LOCK /f.txt -H 'Content-Type: application/xml' --data-binary "$LOCKINFO"
assert_eq "$CODE" "423" "a second exclusive LOCK via 2"

via 2 PROPFIND /f.txt -H 'Depth: 0' -H 'Content-Type: application/xml' --data-binary "$PROPFIND_LOCKS"
assert_eq "$CODE" "207" "PROPFIND via 2"
assert_contains "$BODY" "$TOKEN" "lockdiscovery via 2"
via 2 PROPFIND / -H 'Depth: 1' -H 'Content-Type: application/xml' --data-binary "$PROPFIND_LOCKS"
assert_contains "$BODY" "$TOKEN" "lockdiscovery of the folder's members via 2"

via 3 PUT /f.txt -H "If: (<$TOKEN>)" --data-binary v3
assert_code_in "200 201 204" "PUT with the If token via 3"
assert_eq "$(cat "$MOUNT/f.txt")" "v3" "the file after the PUT with the token"

# Refresh through 2 (the If header names the lock).
via 2 LOCK /f.txt -H "If: (<$TOKEN>)" -H 'Timeout: Second-900'
assert_eq "$CODE" "200" "refresh via 2"
CHECKS=$((CHECKS + 1))
re='<D:timeout>Second-(89[0-9]|900)<'
[[ "$BODY" =~ $re ]] || fail "the refreshed timeout (900 s) in: $BODY"

via 3 UNLOCK /f.txt -H "Lock-Token: <$TOKEN>"
assert_eq "$CODE" "204" "UNLOCK via 3"
via 1 PUT /f.txt --data-binary v4
assert_code_in "200 201 204" "PUT without a token via 1 after the UNLOCK"
via 2 UNLOCK /f.txt -H "Lock-Token: <$TOKEN>"
assert_eq "$CODE" "409" "UNLOCK of the released lock via 2"

# --- three replicas race for one exclusive lock: exactly one wins ---------------------------
for round in 1 2 3; do
    racers=()
    for n in 1 2 3; do
        curl -sS -o /dev/null -w '%{http_code}\n' -u "alice:$KEY" -X LOCK \
            -H 'Content-Type: application/xml' --data-binary "$LOCKINFO" \
            "${REPLICA_URL[n]}/dav/sales/race$round.txt" >"$T/race$round.$n" &
        racers+=($!)
    done
    wait "${racers[@]}" || true
    codes=$(cat "$T/race$round".* | sort | tr '\n' ' ')
    assert_eq "$codes" "201 423 423 " "round $round: LOCK of one new file via 1, 2 and 3 at once"
done

# --- the lock outlives kill -9 of the replica that granted it -------------------------------
via 1 LOCK /g.txt -H 'Content-Type: application/xml' --data-binary "$LOCKINFO"
assert_eq "$CODE" "201" "LOCK of a new file via 1"
GTOKEN=$(dav_header Lock-Token | tr -d '<>')
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
via 2 PUT /g.txt --data-binary x
assert_eq "$CODE" "423" "PUT without the token via 2 after kill -9 of 1"
via 3 DELETE /g.txt
assert_eq "$CODE" "423" "DELETE without the token via 3 after kill -9 of 1"
via 3 PUT /g.txt -H "If: (<$GTOKEN>)" --data-binary y
assert_code_in "200 201 204" "PUT with the token via 3 after kill -9 of 1"
via 2 UNLOCK /g.txt -H "Lock-Token: <$GTOKEN>"
assert_eq "$CODE" "204" "UNLOCK via 2 of the dead replica's lock"
via 3 PUT /g.txt --data-binary z
assert_code_in "200 201 204" "PUT without a token after the UNLOCK"
core_s=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")

# --- litmus locks through round-robin nginx over three replicas -----------------------------
start_replica 4
start_balancer 2 3 4 || { fail "nginx did not start"; finish; }
: >"$T/nginx/access.log"
LB="$BALANCER_URL/dav/sales"
CODE=$(curl -sS -o /dev/null -w '%{http_code}' -u "alice:$KEY" -X MKCOL "$LB/litmus/") || CODE=000
assert_eq "$CODE" "201" "MKCOL /litmus/ through nginx"
set +e
(cd "$T" && TESTS=locks litmus "$LB/litmus/" alice "$KEY") >"$T/litmus.locks" 2>&1
rc=$?
set -e
summary=$(grep -a "summary for \`locks'" "$T/litmus.locks" || true)
echo "litmus locks through nginx over 3 replicas: ${summary#*: }"
CHECKS=$((CHECKS + 1))
if [[ $rc != 0 || "$summary" != *" 0 failed."* ]]; then
    fail "litmus locks through nginx: exit $rc"
    grep -a -E "FAIL|ERROR|\.\.\. " "$T/litmus.locks" | grep -v "pass$" | head -40 >&2 || true
fi
# Every replica served LOCKs and UNLOCKs, and consecutive requests changed replica.
for n in 2 3 4; do
    k=$(grep -c -E "^(LOCK|UNLOCK) ${REPLICA_URL[n]#http://} " "$T/nginx/access.log" || true)
    CHECKS=$((CHECKS + 1))
    ((k >= 3)) || fail "replica $n served $k LOCK/UNLOCK requests through nginx"
done
switches=$(awk '{ if (NR > 1 && $2 != prev) s++; prev = $2 } END { print s + 0 }' "$T/nginx/access.log")
total=$(wc -l <"$T/nginx/access.log")
echo "nginx: $total requests, the replica changed $switches times; replicas alone took ${core_s} s"
CHECKS=$((CHECKS + 1))
((switches * 10 >= total * 9)) || fail "requests were not spread round-robin ($switches switches in $total)"
finish

#!/usr/bin/env bash
# A resumable upload survives a crash of the server mid-upload: the client keeps
# retrying with backoff, a new server on the same root and port reloads the
# staged upload, and the same client run finishes it with the right SHA-256;
# nothing was visible in the mount in between.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
setup_app
PORT=${SERVER_URL##*:}
head -c $((32 << 20)) /dev/urandom >"$T/big.bin"
SRC=$(sha "$T/big.bin")

# 400 kB/s a connection: 32 parts take about 20 s, so the kill lands mid-upload
# even when a loaded machine makes every poll below slow (at 1 MB/s the whole
# upload was over before a loaded poller saw its 6th part).
DE_CLI_TEST_SLOW_UPLOAD=400000 "$DE_CLI" upload "$T/big.bin" / -n sales --json \
    >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
wait_parts 6 || true
BEFORE=$(parts_done "$(journal_url)")

# Crash the server (no graceful shutdown), stay down for a while, restart it.
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
[[ ! -e "$MOUNT/big.bin" ]] || fail "big.bin visible after the server crashed"
sleep 3
kill -0 "$BG" 2>/dev/null || fail "the client gave up while the server was down"
: >"$T/server2.out"
"$DE_SERVER" --root "$SERVER_ROOT" --listen "127.0.0.1:$PORT" >"$T/server2.out" 2>"$T/server2.err" &
SERVER_PID=$!
for i in $(seq 1 200); do
    grep -q '^listening on ' "$T/server2.out" && break
    sleep 0.05
done
grep -q '^listening on ' "$T/server2.out" || fail "the second server did not start: $(cat "$T/server2.err")"
AFTER_RESTART=$(parts_done "$(journal_url)")
((AFTER_RESTART >= BEFORE)) || fail "the restarted server lost parts: $BEFORE before, $AFTER_RESTART after"

set +e
wait "$BG"
RC=$?
set -e
OUT=$(cat "$T/bg.out")
ERR=$(cat "$T/bg.err")
assert_eq "$RC" "0" "the upload finishes after the server restart"
assert_eq "$(sha "$MOUNT/big.bin")" "$SRC" "content after the restart"
assert_eq "$(jget 'd["files"][0]["sha256"]')" "$SRC" "json sha256"
R=$(jget 'd.get("retries", 0)')
((R >= 1)) || fail "no retries counted across a server restart"
assert_eq "$(journal_count)" "0" "journal removed after success"
finish

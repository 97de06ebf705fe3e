#!/usr/bin/env bash
# When the server stays away longer than the client's outage budget, the upload
# fails with exit 7 (network), says that a re-run continues, keeps its journal;
# the re-run against the restarted server resumes and completes.
# DE_CLI_TEST_OUTAGE_BUDGET=S (test-only) shortens the budget from 45 s.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
setup_app
PORT=${SERVER_URL##*:}
head -c $((24 << 20)) /dev/urandom >"$T/big.bin"
SRC=$(sha "$T/big.bin")

DE_CLI_TEST_OUTAGE_BUDGET=2 DE_CLI_TEST_SLOW_UPLOAD=1000000 \
    "$DE_CLI" upload "$T/big.bin" / -n sales --json >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
wait_parts 4 || true
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
set +e
wait "$BG"
RC=$?
set -e
OUT=$(cat "$T/bg.out")
assert_eq "$RC" "7" "exit 7 after the outage budget"
assert_eq "$(jget 'd["error"]["kind"]')" "network" "json error kind"
assert_contains "$(jget 'd["error"]["message"]')" "run the same command again"
assert_eq "$(journal_count)" "1" "the journal stays for the re-run"
[[ ! -e "$MOUNT/big.bin" ]] || fail "big.bin visible after a failed upload"

"$DE_SERVER" --root "$SERVER_ROOT" --listen "127.0.0.1:$PORT" >"$T/server2.out" 2>"$T/server2.err" &
SERVER_PID=$!
for i in $(seq 1 200); do
    grep -q '^listening on ' "$T/server2.out" && break
    sleep 0.05
done
expect_rc 0 "$DE_CLI" upload "$T/big.bin" / -n sales
assert_contains "$ERR" "resuming upload"
assert_eq "$(sha "$MOUNT/big.bin")" "$SRC" "content after the re-run"
assert_eq "$(journal_count)" "0" "journal removed"
finish

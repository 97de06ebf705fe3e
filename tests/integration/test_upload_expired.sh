#!/usr/bin/env bash
# An interrupted upload that expired on the server (--upload-expiry 1) starts
# over cleanly on the re-run, says so, and succeeds.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"

start_server --upload-expiry 1
setup_app
head -c $((16 << 20)) /dev/urandom >"$T/big.bin"
SRC=$(sha "$T/big.bin")

DE_CLI_TEST_SLOW_UPLOAD=500000 "$DE_CLI" upload "$T/big.bin" / -n sales -q \
    >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
wait_parts 1 || true
URL=$(journal_url)
kill -INT "$BG"
set +e
wait "$BG"
RC=$?
set -e
assert_eq "$RC" "130" "Ctrl-C exits 130"
assert_eq "$(journal_count)" "1" "the journal stays after Ctrl-C"

# Untouched for over a second: expired (the reaper runs every second).
for i in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -I -u "alice:$KEY" -H 'Tus-Resumable: 1.0.0' "$URL")
    [[ "$code" == 410 ]] && break
    sleep 0.1
done
[[ "$code" == 410 ]] || fail "an expired upload answers HEAD with 410 (got $code)"

expect_rc 0 "$DE_CLI" upload "$T/big.bin" / -n sales
assert_contains "$ERR" "expired on the server; starting over"
assert_not_contains "$ERR" "resuming upload"
assert_eq "$(sha "$MOUNT/big.bin")" "$SRC" "content after starting over"
assert_eq "$(journal_count)" "0" "journal removed"
finish

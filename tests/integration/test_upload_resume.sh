#!/usr/bin/env bash
# Resumable uploads: kill -9 of the client mid-upload, then the same command
# continues from what the server holds (and says so); nothing is visible in the
# mount before completion; the result's SHA-256 equals the source; the journal
# goes after success; --no-resume and a changed local file start over.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
setup_app
head -c $((40 << 20)) /dev/urandom >"$T/big.bin"
SRC=$(sha "$T/big.bin")

# start_slow NAME: uploads big.bin as NAME at ~1 MB/s per connection, in the background.
start_slow() {
    DE_CLI_TEST_SLOW_UPLOAD=1000000 "$DE_CLI" upload "$T/big.bin" "/$1" -n sales -q \
        >"$T/bg.out" 2>"$T/bg.err" &
    BG=$!
}

# 1. kill -9 mid-upload, then resume (human output: the notice).
start_slow big.bin
wait_parts 6 || true
kill -0 "$BG" 2>/dev/null || fail "the slowed upload finished too early"
# Stalled mid-upload: nothing in the mount, nothing listed.
[[ ! -e "$MOUNT/big.bin" ]] || fail "big.bin visible in the mount before completion"
expect_rc 0 "$DE_CLI" ls / -n sales
assert_not_contains "$OUT" "big.bin" "not listed before completion"
kill -9 "$BG"
wait "$BG" 2>/dev/null || true
assert_eq "$(journal_count)" "1" "the journal survives kill -9"
[[ ! -e "$MOUNT/big.bin" ]] || fail "big.bin visible after the client was killed"
HELD=$(parts_done "$(journal_url)")
expect_rc 0 "$DE_CLI" upload "$T/big.bin" / -n sales
assert_contains "$ERR" "resuming upload of '$T/big.bin'"
assert_contains "$ERR" "of 40.0 MiB already on the server"
assert_eq "$(sha "$MOUNT/big.bin")" "$SRC" "the resumed upload's content"
assert_eq "$(journal_count)" "0" "the journal is removed after success"
((HELD >= 6)) || fail "the server held only $HELD parts before the re-run"

# 2. The same with --json: resumed, resumed_bytes in the result; the entry's sha256.
start_slow b2.bin
wait_parts 4 || true
kill -9 "$BG"
wait "$BG" 2>/dev/null || true
expect_rc 0 "$DE_CLI" upload "$T/big.bin" /b2.bin -n sales --json
assert_not_contains "$ERR" "resuming upload" "--json: no notice on stderr (only NDJSON progress)"
python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' <<<"$ERR" ||
    fail "--json: stderr lines are not all JSON"
assert_eq "$(jget 'd["resumed"]')" "True" "json resumed"
RB=$(jget 'd["resumed_bytes"]')
((RB >= 4 * 1048576 && RB < 40 * 1048576)) || fail "resumed_bytes $RB out of range"
assert_eq "$(jget 'd["files"][0]["sha256"]')" "$SRC" "json sha256"
assert_eq "$(sha "$MOUNT/b2.bin")" "$SRC" "b2.bin content"

# 3. --no-resume starts over (no notice) and still succeeds.
start_slow b3.bin
wait_parts 2 || true
kill -9 "$BG"
wait "$BG" 2>/dev/null || true
expect_rc 0 "$DE_CLI" upload "$T/big.bin" /b3.bin -n sales --no-resume --json
assert_eq "$(jget 'd["resumed"]')" "False" "--no-resume does not resume"
assert_eq "$(sha "$MOUNT/b3.bin")" "$SRC" "b3.bin content"
assert_eq "$(journal_count)" "0" "no journal left after --no-resume"

# 4. A local file changed after the interruption: start over, say so, upload the new content.
start_slow b4.bin
wait_parts 2 || true
kill -9 "$BG"
wait "$BG" 2>/dev/null || true
printf 'changed' | dd of="$T/big.bin" bs=1 seek=100 conv=notrunc status=none
NEW=$(sha "$T/big.bin")
expect_rc 0 "$DE_CLI" upload "$T/big.bin" /b4.bin -n sales
assert_contains "$ERR" "changed since its upload was interrupted; starting over"
assert_not_contains "$ERR" "resuming upload"
assert_eq "$(sha "$MOUNT/b4.bin")" "$NEW" "b4.bin has the changed content"

# 5. Ctrl-C (SIGINT) stops promptly with 130 and keeps the journal for a re-run.
start_slow b5.bin
wait_parts 1 || true
kill -INT "$BG"
set +e
wait "$BG"
rc=$?
set -e
assert_eq "$rc" "130" "SIGINT exits 130"
assert_eq "$(journal_count)" "1" "the journal survives Ctrl-C"
[[ ! -e "$MOUNT/b5.bin" ]] || fail "b5.bin visible after Ctrl-C"
expect_rc 0 "$DE_CLI" upload "$T/big.bin" /b5.bin -n sales
assert_contains "$ERR" "resuming upload"
assert_eq "$(sha "$MOUNT/b5.bin")" "$NEW" "b5.bin content"

# 6. Without --update an existing target with other content is refused (exit
# 5) before anything is sent; one with the same content is unchanged (exit 0).
expect_rc 0 "$DE_CLI" upload "$T/big.bin" /b5.bin -n sales
assert_contains "$ERR" "already has the same content"
head -c $((2 << 20)) /dev/urandom >"$T/other.bin"
expect_rc 5 "$DE_CLI" upload "$T/other.bin" /b5.bin -n sales
assert_eq "$(journal_count)" "0" "a refused upload leaves no journal"
finish

#!/usr/bin/env bash
# Parallel ranged downloads (issue 4): a big file arrives byte-identical over
# several connections; a small one still takes one GET; a server restart in
# the middle is survived within the same run (with a retry reported); a file
# replaced on the server mid-download starts over and never leaves a torn
# local file; Ctrl-C leaves no temporary file; --json keeps one document on
# stdout with NDJSON progress on stderr.
#
# Hidden knobs used here: DE_CLI_PARALLEL_THRESHOLD (files of at least this
# size go parallel), DE_CLI_TEST_RANGE_SIZE (range size), and
# DE_CLI_TEST_SLOW_DOWNLOAD (bytes a second over all connections) to keep a
# download running long enough to break it on purpose.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"
L="$T/local"
mkdir -p "$L"
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$@"; }
# Files written straight into the mount, as an app process would.
head -c 150M /dev/urandom >"$MOUNT/big.bin"
head -c 100K /dev/urandom >"$MOUNT/small.bin"
head -c 24M /dev/urandom >"$MOUNT/mid.bin"
ranged_gets() { grep -c ' 206 ' "$T/server.err" || true; }
no_temp() {
    CHECKS=$((CHECKS + 1))
    local left
    left=$(find "$L" -name '.*.de-part-*' | head -n 3)
    [[ -z "$left" ]] || fail "${1:-}: temporary files left: $left"
}

# 1. A 150 MiB file (above the default 64 MiB threshold): parallel ranges, identical.
before=$(ranged_gets)
expect_rc 0 "$DE_CLI" download big.bin "$L/big.bin" -n sales --connections 4 --json
cmp -s "$MOUNT/big.bin" "$L/big.bin" || fail "parallel download differs from the source"
assert_eq "$(sha256sum <"$L/big.bin" | cut -d' ' -f1)" "$(sha256sum <"$MOUNT/big.bin" | cut -d' ' -f1)" \
    "sha256 of the download"
after=$(ranged_gets)
CHECKS=$((CHECKS + 1))
(( after - before >= 10 )) || fail "expected >= 10 ranged GETs for 150 MiB, saw $((after - before))"
no_temp "parallel download"
# The mtime comes from the server (X-De-Mtime-Ns).
assert_eq "$(stat -c %Y "$L/big.bin")" "$(stat -c %Y "$MOUNT/big.bin")" "mtime kept"
# --json: exactly one document on stdout; stderr is NDJSON progress that parses.
printf '%s' "$OUT" >"$T/out.json"
assert_eq "$(jq_ 'd["bytes_transferred"]' "$T/out.json")" "$((150 << 20))" "JSON result bytes"
printf '%s\n' "$ERR" >"$T/err.ndjson"
CHECKS=$((CHECKS + 1))
python3 - "$T/err.ndjson" "$((150 << 20))" <<'PY' || fail "stderr is not NDJSON progress"
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
size = int(sys.argv[2])
events = [json.loads(l) for l in lines]
assert events, "no progress events"
assert events[0]["event"] == "start", events[0]
assert events[-1]["event"] == "finish", events[-1]
assert events[-1]["done"] == size and events[-1]["total"] == size, events[-1]
for e in events:
    assert e["event"] in ("start", "progress", "finish"), e
    assert e["name"] == "big.bin", e
    assert isinstance(e["done"], int) and isinstance(e["rate"], int), e
    assert e["eta_seconds"] is None or e["eta_seconds"] >= 0, e
dones = [e["done"] for e in events]
assert dones == sorted(dones), dones
PY

# 2. A small file stays one plain GET (no ranges).
before=$(ranged_gets)
expect_rc 0 "$DE_CLI" download small.bin "$L/small.bin" -n sales
cmp -s "$MOUNT/small.bin" "$L/small.bin" || fail "small download differs"
assert_eq "$(ranged_gets)" "$before" "a small file used ranges"

# 3. The threshold knob, tiny ranges, one connection: still identical.
expect_rc 0 env DE_CLI_PARALLEL_THRESHOLD=1MiB DE_CLI_TEST_RANGE_SIZE=1MiB \
    "$DE_CLI" download mid.bin "$L/mid1.bin" -n sales --connections 1
cmp -s "$MOUNT/mid.bin" "$L/mid1.bin" || fail "1-connection ranged download differs"
# An existing local file with other content is refused without --update, and kept.
printf 'other content' >"$L/mid1.bin"
expect_rc 5 env DE_CLI_PARALLEL_THRESHOLD=1MiB "$DE_CLI" download mid.bin "$L/mid1.bin" -n sales
[[ $(cat "$L/mid1.bin") == "other content" ]] || fail "refused download changed the local file"
no_temp "refused download"

# Background download helper: slow enough to break on purpose.
slow_download() {  # slow_download NAME DEST RATE -> DL_PID
    # Empty the output files here, in this shell: the redirections below happen
    # in the child, so wait_for_bytes could otherwise read the previous
    # download's progress and signal a client that has not started yet (a
    # background job of a non-interactive shell starts with SIGINT ignored
    # until de-cli installs its handler).
    : >"$T/bg.out"
    : >"$T/bg.err"
    env DE_CLI_PARALLEL_THRESHOLD=1MiB DE_CLI_TEST_RANGE_SIZE=2MiB DE_CLI_TEST_SLOW_DOWNLOAD="$3" \
        "$DE_CLI" download "$1" "$2" -n sales --connections 4 --json >"$T/bg.out" 2>"$T/bg.err" &
    DL_PID=$!
}
wait_for_bytes() {  # wait_for_bytes MIN: until the NDJSON progress says done >= MIN
    local i
    for i in $(seq 1 300); do
        local d
        d=$(grep -o '"done":[0-9]*' "$T/bg.err" 2>/dev/null | tail -n1 | cut -d: -f2)
        [[ -n "$d" && "$d" -ge "$1" ]] && return 0
        kill -0 "$DL_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# 4. A server restart in the middle: kill -9, a new de-server on the same root
# and port; the download completes identical and reports its retries.
PORT=${SERVER_URL##*:}
slow_download mid.bin "$L/restart.bin" 6MiB
wait_for_bytes $((4 << 20)) || fail "the slow download did not get going"
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
# Ranges already in the socket buffers (at most 4 x 2 MiB, under 1.5 s at
# 6 MiB/s) still arrive after the kill: stay down longer than that, so the
# client must fail to fetch further ranges and retry.
sleep 3
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    "$DE_SERVER" --root "$SERVER_ROOT" --listen "127.0.0.1:$PORT" >"$T/server2.out" 2>>"$T/server.err" &
    SERVER_PID=$!
    for i in $(seq 1 100); do
        grep -q '^listening on ' "$T/server2.out" && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    grep -q '^listening on ' "$T/server2.out" && break
    SERVER_PID=""
    sleep 0.5
done
[[ -n "$SERVER_PID" ]] || fail "could not restart de-server on port $PORT"
set +e; wait "$DL_PID"; rc=$?; set -e
OUT=$(cat "$T/bg.out"); ERR=$(cat "$T/bg.err")
assert_eq "$rc" 0 "download across a server restart"
cmp -s "$MOUNT/mid.bin" "$L/restart.bin" || fail "download across a restart differs"
CHECKS=$((CHECKS + 1))
[[ "$(jq_ 'd.get("retries", 0)' "$T/bg.out")" -ge 1 ]] || fail "no retry reported: $OUT"
no_temp "restart"

# 5. The file is replaced on the server mid-download: the download starts over
# and ends with the new content whole (never a mix of old and new).
head -c 20M /dev/urandom >"$T/new.bin"
cp "$T/new.bin" "$MOUNT/.new.tmp"
slow_download mid.bin "$L/changed.bin" 6MiB
wait_for_bytes $((4 << 20)) || fail "the slow download did not get going"
mv "$MOUNT/.new.tmp" "$MOUNT/mid.bin"
set +e; wait "$DL_PID"; rc=$?; set -e
OUT=$(cat "$T/bg.out"); ERR=$(cat "$T/bg.err")
assert_eq "$rc" 0 "download of a file replaced mid-way"
cmp -s "$T/new.bin" "$L/changed.bin" || fail "a replaced file did not arrive as the new content"
no_temp "changed file"

# 6. Ctrl-C: exit 130, no temporary file, no target.
slow_download mid.bin "$L/int.bin" 4MiB
wait_for_bytes $((1 << 20)) || fail "the slow download did not get going"
wait_sigint_handler "$DL_PID" || fail "de-cli did not install its SIGINT handler"
kill -INT "$DL_PID"
set +e; wait "$DL_PID"; rc=$?; set -e
assert_eq "$rc" 130 "SIGINT exits 130"
[[ ! -e "$L/int.bin" ]] || fail "an interrupted download left the target"
no_temp "interrupt"

finish

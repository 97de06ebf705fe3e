#!/usr/bin/env bash
# Progress output rules (issue 4): one bar per transfer set on a TTY (bytes,
# rate, ETA); with --json, stdout keeps its one document and stderr carries
# NDJSON progress events (start, progress, finish) for sets of 1 MiB or more;
# -q and --no-progress turn both off; a piped stderr without --json gets no bar.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"
L="$T/local"
mkdir -p "$L/set"
head -c 6M /dev/urandom >"$L/set/a.bin"
head -c 3M /dev/urandom >"$L/set/b.bin"
head -c 2M /dev/urandom >"$L/one.bin"

# check_ndjson FILE NAME_PART TOTAL: every line parses; one start first, one
# finish last with done == total; done never goes down.
check_ndjson() {
    CHECKS=$((CHECKS + 1))
    python3 - "$@" <<'PY' || fail "bad NDJSON progress in $1: $(head -c 600 "$1")"
import json, sys
path, part, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
events = [json.loads(l) for l in open(path).read().splitlines() if l.strip()]
kinds = [e["event"] for e in events]
assert kinds[0] == "start" and kinds[-1] == "finish", kinds
assert kinds.count("start") == 1 and kinds.count("finish") == 1, kinds
assert set(kinds) <= {"start", "progress", "finish"}, kinds
for e in events:
    assert set(e) >= {"event", "name", "done", "total", "rate", "eta_seconds"}, e
    assert e["total"] == total, e
assert events[-1]["done"] == total, events[-1]
assert "seconds" in events[-1], events[-1]
dones = [e["done"] for e in events]
assert dones == sorted(dones), dones
assert any(part in e["name"] for e in events), [e["name"] for e in events]
PY
}

# --json upload of a set: one JSON document on stdout, NDJSON on stderr, one set.
expect_rc 0 "$DE_CLI" --json upload -r "$L/set/" up -n sales --connections 2
python3 -c 'import json,sys; json.loads(sys.argv[1])' "$OUT" || fail "stdout is not one JSON document"
printf '%s\n' "$ERR" >"$T/up.ndjson"
check_ndjson "$T/up.ndjson" ".bin" $((9 << 20))

# --json download of one file.
expect_rc 0 "$DE_CLI" --json download up/a.bin "$L/a.bin" -n sales
cmp -s "$L/set/a.bin" "$L/a.bin" || fail "download differs"
printf '%s\n' "$ERR" >"$T/down.ndjson"
check_ndjson "$T/down.ndjson" "a.bin" $((6 << 20))

# A set below 1 MiB under --json keeps stderr empty.
echo tiny >"$L/tiny.txt"
expect_rc 0 "$DE_CLI" --json upload "$L/tiny.txt" / -n sales
assert_eq "$ERR" "" "--json with a tiny file: stderr empty"

# -q and --no-progress turn NDJSON off too.
expect_rc 0 "$DE_CLI" --json -q download up/b.bin "$L/b1.bin" -n sales
assert_eq "$ERR" "" "--json -q: no progress events"
expect_rc 0 "$DE_CLI" --json --no-progress download up/b.bin "$L/b2.bin" -n sales
assert_eq "$ERR" "" "--json --no-progress: no progress events"
python3 -c 'import json,sys; json.loads(sys.argv[1])' "$OUT" || fail "stdout is not one JSON document"

# Piped stderr without --json: no bar, no redraws, no JSON.
expect_rc 0 "$DE_CLI" download up/b.bin "$L/b3.bin" -n sales
assert_not_contains "$ERR" $'\r' "no redraws when piped"
assert_not_contains "$ERR" '"event"' "no NDJSON without --json"

# Under a terminal: one bar line per set, with rate and ETA while it runs.
if script -qc true /dev/null >/dev/null 2>&1; then
    tty_run() { script -qec "$1" /dev/null; }
    out=$(DE_CLI_PARALLEL_THRESHOLD=1MiB DE_CLI_TEST_RANGE_SIZE=1MiB DE_CLI_TEST_SLOW_DOWNLOAD=4MiB \
        tty_run "'$DE_CLI' download up/a.bin '$L/a2.bin' -n sales" </dev/null)
    cmp -s "$L/set/a.bin" "$L/a2.bin" || fail "download under a TTY differs"
    assert_contains "$out" "ETA " "ETA on the bar"
    assert_contains "$out" "/s" "rate on the bar"
    assert_contains "$out" "100.0%" "bar reaches 100%"
    CHECKS=$((CHECKS + 1))
    n=$(tr '\r' '\n' <<<"$out" | grep -c '100.0%.*6.0 MiB / 6.0 MiB' || true)
    (( n >= 1 )) || fail "no final bar line: $out"
    # Several files: one bar over all their bytes (labels [i/n]), one finish.
    rm -rf "$L/setdown"
    out=$(tty_run "'$DE_CLI' download -r up '$L/setdown' -n sales" </dev/null)
    assert_contains "$out" "9.0 MiB / 9.0 MiB" "the bar counts the whole set"
    CHECKS=$((CHECKS + 1))
    finished=$(tr '\r' '\n' <<<"$out" | grep -c '100.0%' || true)
    (( finished >= 1 )) || fail "multi-file bar did not finish: $out"
    out=$(tty_run "'$DE_CLI' --no-progress download up/b.bin '$L/b4.bin' -n sales" </dev/null)
    assert_not_contains "$out" "[#" "--no-progress on a TTY"
    out=$(tty_run "'$DE_CLI' -q download up/b.bin '$L/b5.bin' -n sales" </dev/null)
    assert_not_contains "$out" "[#" "-q on a TTY"
fi

finish

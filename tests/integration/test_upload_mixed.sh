#!/usr/bin/env bash
# upload -r of a folder with many small files and a big one: the small files go
# up together in one batch request (no PUT each), the big one as a resumable
# upload in parts; every file arrives byte for byte. --connections is checked;
# -vv traces the parts' requests without credentials.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
setup_app
mkdir -p "$T/tree/sub"
for i in $(seq 1 30); do head -c $((i * 100)) /dev/urandom >"$T/tree/sub/f$i.txt"; done
head -c $((6 << 20)) /dev/urandom >"$T/tree/big.bin"

expect_rc 0 "$DE_CLI" upload -r "$T/tree/" /data -n sales --connections 3 --json
assert_eq "$(jget 'len(d["files"])')" "31" "31 files reported"
assert_eq "$(jget 'd["resumed"]')" "False" "nothing resumed"
diff -r "$T/tree" "$MOUNT/data" >/dev/null || fail "the uploaded tree differs"
CHECKS=$((CHECKS + 1))
batches=$(grep -c 'POST /api/v1/apps/sales/mount/batch' "$T/server.err" || true)
[[ "$batches" -ge 1 && "$batches" -le 2 ]] || fail "want one or two batch requests, got $batches"
CHECKS=$((CHECKS + 1))
puts=$(grep -c 'PUT /api/v1/apps/sales/mount/files/data/sub' "$T/server.err" || true)
[[ "$puts" == 0 ]] || fail "small files went up one PUT each ($puts)"
CHECKS=$((CHECKS + 1))
grep -q 'POST /api/v1/apps/sales/uploads ' "$T/server.err" || fail "the big file was not a tus upload"

# -vv traces the PATCH requests too, never with the credentials.
expect_rc 0 "$DE_CLI" -vv upload "$T/tree/big.bin" /traced.bin -n sales
assert_contains "$ERR" "> PATCH /api/v1/apps/sales/uploads/"
assert_contains "$ERR" "Authorization: [redacted]"
assert_not_contains "$ERR" "$KEY" "the API key in the trace"

expect_rc 2 "$DE_CLI" upload "$T/tree/big.bin" /x.bin -n sales --connections 0
assert_contains "$ERR" "-j/--jobs"
expect_rc 2 "$DE_CLI" download /data/big.bin "$T/x.bin" -n sales --connections 99
finish

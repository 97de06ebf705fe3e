#!/usr/bin/env bash
# In-flight resumable uploads reserve quota: of two concurrent uploads that
# together exceed it, one fails with exit 6 (quota) and the mount holds no
# partial file; a direct tus creation that does not fit beside a reservation
# gets 507 too.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"

start_server --quota 60MiB
setup_app
head -c $((36 << 20)) /dev/urandom >"$T/a.bin"
head -c $((36 << 20)) /dev/urandom >"$T/b.bin"

DE_CLI_TEST_SLOW_UPLOAD=2000000 "$DE_CLI" upload "$T/a.bin" / -n sales -q >"$T/a.out" 2>"$T/a.err" &
A=$!
DE_CLI_TEST_SLOW_UPLOAD=2000000 "$DE_CLI" upload "$T/b.bin" / -n sales -q >"$T/b.out" 2>"$T/b.err" &
B=$!

# While one is in flight, its reservation leaves no room for another 36 MiB.
wait_parts 1 || true
code=$(curl -s -o "$T/post.out" -w '%{http_code}' -X POST -u "alice:$KEY" \
    -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $((36 << 20))" \
    -H "Upload-Metadata: path $(printf 'c.bin' | base64)" "$SERVER_URL/api/v1/apps/sales/uploads")
assert_eq "$code" "507" "a creation beyond the reserved quota"

set +e
wait "$A"
RA=$?
wait "$B"
RB=$?
set -e
CHECKS=$((CHECKS + 1))
if [[ "$RA:$RB" != "0:6" && "$RA:$RB" != "6:0" ]]; then
    fail "want one success and one quota failure, got $RA and $RB: $(cat "$T/a.err" "$T/b.err")"
fi
if [[ "$RA" == 6 ]]; then LOSER=a; WINNER=b; else LOSER=b; WINNER=a; fi
assert_contains "$(cat "$T/$LOSER.err")" "quota" "the failure names the quota"
cmp -s "$T/$WINNER.bin" "$MOUNT/$WINNER.bin" || fail "the winner's file differs"
[[ ! -e "$MOUNT/$LOSER.bin" ]] || fail "the quota failure left $LOSER.bin in the mount"
assert_eq "$(find "$MOUNT" -type f | wc -l | tr -d ' ')" "1" "exactly one file in the mount"
finish

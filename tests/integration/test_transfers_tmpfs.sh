#!/usr/bin/env bash
# Big transfers with the server's root on tmpfs, which refuses O_DIRECT: tus
# uploads and a big PUT (WebDAV's, which is the API's) fall back to the page
# cache and every byte still arrives. Sizes are
# not multiples of 4096, so the unaligned tails take the buffered path on any
# file system. (On the usual ext4 root the other tests cover the O_DIRECT path.)
SHM=/dev/shm
if [[ "$(stat -f -c %T "$SHM" 2>/dev/null)" != "tmpfs" || ! -w "$SHM" ]]; then
    echo "no writable tmpfs at $SHM: this machine cannot run the test"
    exit 77
fi
export TMPDIR="$SHM"
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
[[ "$(stat -f -c %T "$T")" == "tmpfs" ]] || fail "the test folder is not on tmpfs"
export DE_CLI_PART_SIZE=3MiB DE_CLI_PARALLEL_THRESHOLD=1MiB

start_server
setup_app
head -c $((20 * 1048576 + 12345)) /dev/urandom >"$T/src.bin"
sha=$(sha256sum "$T/src.bin" | cut -d' ' -f1)

expect_rc 0 "$DE_CLI" upload "$T/src.bin" /big.bin -n sales --connections 3
grep -q 'POST /api/v1/apps/sales/uploads ' "$T/server.err" || fail "not a tus upload"
CHECKS=$((CHECKS + 1))
assert_eq "$(sha256sum "$MOUNT/big.bin" | cut -d' ' -f1)" "$sha" "tus upload on tmpfs: same bytes"

# A PUT of a big body (its buffers would go O_DIRECT on ext4), body bytes sent with the header.
code=$(curl -sS -o /dev/null -D "$T/put.h" -w '%{http_code}' -u "alice:$KEY" -H 'Expect:' \
    -T "$T/src.bin" "$SERVER_URL/dav/sales/put.bin")
assert_eq "$code" "201" "big PUT on tmpfs"
assert_eq "$(sha256sum "$MOUNT/put.bin" | cut -d' ' -f1)" "$sha" "big PUT on tmpfs: same bytes"
assert_contains "$(cat "$T/put.h")" "ETag: \"$sha\"" "big PUT on tmpfs: ETag is the SHA-256"

expect_rc 0 "$DE_CLI" download /big.bin "$T/back.bin" -n sales --connections 3
assert_eq "$(sha256sum "$T/back.bin" | cut -d' ' -f1)" "$sha" "ranged download from tmpfs: same bytes"
grep -q 'GET /api/v1/apps/sales/mount/files/big.bin 206' "$T/server.err" ||
    fail "the download was not ranged"
CHECKS=$((CHECKS + 1))
finish

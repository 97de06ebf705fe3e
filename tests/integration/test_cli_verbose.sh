#!/usr/bin/env bash
# de-cli -v traces every request of every engine of libde -- plain calls, the
# resumable upload's PATCHes, the parallel download's ranges, the batch
# upload's POSTs -- and never the credentials: not the API key, not its Basic
# encoding, not the bearer token. Both credential modes are checked (the
# keyfile's token, and username + API key from the environment). -vv adds the
# header lines, with Authorization redacted.
# Test seams used: DE_CLI_RESUMABLE_THRESHOLD / DE_CLI_PART_SIZE (resumable
# upload in parts), DE_CLI_PARALLEL_THRESHOLD / DE_CLI_TEST_RANGE_SIZE
# (parallel download in ranges); read only by a DE_TEST_HOOKS build.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
KEYFILE="$XDG_CONFIG_HOME/de-cli/keyfile"
TOKEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][sys.argv[2]]["token"])' \
    "$KEYFILE" "$SERVER_URL")
BASIC=$(printf 'alice:%s' "$KEY" | base64 -w0)
[[ -n "$TOKEN" && -n "$KEY" ]] || fail "no token or key to look for"
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"

head -c $((3 << 20)) /dev/urandom >"$T/big.bin"
mkdir -p "$T/tree"
for i in 1 2 3 4 5; do head -c $((i * 1000)) /dev/urandom >"$T/tree/f$i.txt"; done
export DE_CLI_RESUMABLE_THRESHOLD=1MiB DE_CLI_PART_SIZE=1MiB
export DE_CLI_PARALLEL_THRESHOLD=1MiB DE_CLI_TEST_RANGE_SIZE=1MiB

no_secrets() {  # no_secrets WHAT: neither credential in any output of the last run
    assert_not_contains "$OUT$ERR" "$KEY" "$1: the API key in the output"
    assert_not_contains "$OUT$ERR" "$BASIC" "$1: the Basic credentials in the output"
    assert_not_contains "$OUT$ERR" "$TOKEN" "$1: the bearer token in the output"
}

count() { grep -c -- "$1" <<<"$ERR" || true; }

check_mode() {  # check_mode LABEL CMD-PREFIX...: the three engines under -v
    local label=$1
    shift
    # Resumable upload: the create POST and one PATCH a part.
    expect_rc 0 "$@" "$DE_CLI" -v upload "$T/big.bin" "/$label-big.bin" -n sales
    assert_contains "$ERR" "de-cli: > POST /api/v1/apps/sales/uploads HTTP/1.1" "$label: tus create"
    local patches
    patches=$(count "de-cli: > PATCH /api/v1/apps/sales/uploads/.* HTTP/1.1")
    ((patches >= 3)) || fail "$label: want a PATCH line per part (3), got $patches"
    CHECKS=$((CHECKS + 1))
    assert_contains "$ERR" "de-cli: < HTTP/1.1 204" "$label: PATCH answers"
    no_secrets "$label resumable upload"
    cmp -s "$T/big.bin" "$MOUNT/$label-big.bin" || fail "$label: upload differs"

    # Batch upload: small files in a POST to .../mount/batch.
    expect_rc 0 "$@" "$DE_CLI" -v upload -r "$T/tree/" "/$label-tree" -n sales
    assert_contains "$ERR" "de-cli: > POST /api/v1/apps/sales/mount/batch" "$label: batch POST"
    no_secrets "$label batch upload"

    # Parallel download: the first GET, then a GET for each of the 3 ranges.
    expect_rc 0 "$@" "$DE_CLI" -v download "/$label-big.bin" "$T/$label-down.bin" -n sales
    local gets
    gets=$(count "de-cli: > GET /api/v1/apps/sales/mount/files/$label-big.bin HTTP/1.1")
    ((gets >= 4)) || fail "$label: want the GET and 3 range GETs traced, got $gets"
    CHECKS=$((CHECKS + 1))
    assert_contains "$ERR" "de-cli: < HTTP/1.1 206" "$label: range answers"
    no_secrets "$label parallel download"
    cmp -s "$T/big.bin" "$T/$label-down.bin" || fail "$label: download differs"

    # -vv: the ranges' header lines too, Authorization redacted.
    expect_rc 0 "$@" "$DE_CLI" -vv download "/$label-big.bin" "$T/$label-down2.bin" -n sales
    assert_contains "$ERR" "de-cli: > Range: bytes=2097152-" "$label: -vv range header"
    assert_contains "$ERR" "de-cli: > Authorization: [redacted]" "$label: redacted header"
    no_secrets "$label -vv download"
}

# The keyfile's bearer token.
check_mode token env
# Username + API key (HTTP Basic) from the environment.
check_mode key env DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
assert_contains "$ERR" "with the API key" "the key mode really used the API key"

# Without -v, no trace.
expect_rc 0 "$DE_CLI" download /token-big.bin "$T/quiet.bin" -n sales
assert_not_contains "$ERR" "> GET" "a trace without -v"
finish

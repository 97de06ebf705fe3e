#!/usr/bin/env bash
# A PATCH whose body does not match its Upload-Checksum is refused by the
# server (460) and sent again by the client; the upload still ends with the
# source's SHA-256. DE_CLI_TEST_CORRUPT_PART=K (test-only) flips one byte of
# part K's first attempt after it was hashed.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
setup_app
head -c $((12 << 20)) /dev/urandom >"$T/big.bin"
SRC=$(sha "$T/big.bin")

DE_CLI_TEST_CORRUPT_PART=3 expect_rc 0 "$DE_CLI" upload "$T/big.bin" / -n sales --json
assert_eq "$(jget 'd["files"][0]["sha256"]')" "$SRC" "sha256 after a resent part"
R=$(jget 'd.get("retries", 0)')
((R >= 1)) || fail "the corrupted part was not counted as sent again (retries $R)"
assert_eq "$(sha "$MOUNT/big.bin")" "$SRC" "stored content"
grep -q 'PATCH .* 460' "$T/server.err" || fail "the server log shows no 460 for the damaged PATCH"
assert_eq "$(journal_count)" "0" "journal removed"

# Without the fault, no retry is needed.
expect_rc 0 "$DE_CLI" upload "$T/big.bin" /clean.bin -n sales --json
assert_eq "$(jget 'd.get("retries", 0)')" "0" "a clean upload needs no retries"
assert_eq "$(sha "$MOUNT/clean.bin")" "$SRC" "clean content"
finish

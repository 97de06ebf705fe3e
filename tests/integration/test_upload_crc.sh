#!/usr/bin/env bash
# de-cli uploads checked end to end with a CRC-64 (issue 15), against a real de-server:
# - a byte flipped on the wire after the CRC was computed (TestHooks::corrupt_part 0 on a
#   single PUT) is refused with a clear error and nothing is stored;
# - each uploaded file (single PUT and resumable) carries its CRC-64 in user.de.crc64;
# - a re-run after kill -9 at ~40 % reads and sends only about what the server does not
#   hold (--json read_bytes / sent_bytes), and the server does not hash what it holds
#   again (its completion line: "read back N"); --verify reads the held parts again.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }
# crc_of FILE: CRC-64/XZ through ISA-L (ctypes), 16 hex digits.
crc_of() {
    python3 - "$1" <<'PY'
import ctypes, sys
isal = ctypes.CDLL("libisal.so.2")
isal.crc64_ecma_refl.restype = ctypes.c_uint64
isal.crc64_ecma_refl.argtypes = [ctypes.c_uint64, ctypes.c_char_p, ctypes.c_uint64]
data = open(sys.argv[1], "rb").read()
print(f"{isal.crc64_ecma_refl(0, data, len(data)):016x}")
PY
}
# xattr_crc FILE: the CRC user.de.crc64 names.
xattr_crc() { python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.de.crc64").decode().split()[1])' "$1"; }
MiB=1048576

start_server
setup_app

# 1. One byte flipped on its way (after the CRC): refused, clear, nothing stored.
head -c 300000 /dev/urandom >"$T/small.bin"
DE_CLI_TEST_CORRUPT_PART=0 run "$DE_CLI" upload "$T/small.bin" /small.bin -n sales
((RC != 0)) || fail "a damaged single PUT succeeded"
assert_contains "$ERR" "CRC-64" "the error says the CRC-64 did not match"
assert_contains "$ERR" "damaged" "the error says the bytes were damaged"
[[ ! -e "$MOUNT/small.bin" ]] || fail "a damaged PUT stored a file"
# Without the fault: stored, with its CRC beside it.
expect_rc 0 "$DE_CLI" upload "$T/small.bin" /small.bin -n sales
assert_eq "$(sha "$MOUNT/small.bin")" "$(sha "$T/small.bin")" "single PUT content"
assert_eq "$(xattr_crc "$MOUNT/small.bin")" "$(crc_of "$T/small.bin")" "single PUT: stored CRC-64"

# 2. Resumable: a part flipped after its CRC is resent (460); the xattr is the file's CRC.
head -c $((5 * MiB + 3)) /dev/urandom >"$T/mid.bin"
DE_CLI_TEST_CORRUPT_PART=2 run "$DE_CLI" upload "$T/mid.bin" /mid.bin -n sales
assert_eq "$RC" "0" "a part damaged once is sent again"
assert_eq "$(sha "$MOUNT/mid.bin")" "$(sha "$T/mid.bin")" "resumable content"
assert_eq "$(xattr_crc "$MOUNT/mid.bin")" "$(crc_of "$T/mid.bin")" "resumable: stored CRC-64"

# 3. kill -9 at ~40 %, then the re-run: only the rest is read and sent.
SIZE=$((66 * MiB)) # the server logs where its hash got the bytes from 64 MiB on
head -c $SIZE /dev/urandom >"$T/big.bin"
SRC=$(sha "$T/big.bin")
resume_case() { # NAME FLAGS...: kill -9 at ~40 %, then re-run with FLAGS and --json
    local name=$1
    shift
    DE_CLI_TEST_SLOW_UPLOAD=1000000 "$DE_CLI" upload "$T/big.bin" "/$name" -n sales -q \
        >"$T/bg.out" 2>"$T/bg.err" &
    BG=$!
    wait_parts 26 60 || true
    kill -9 "$BG"
    wait "$BG" 2>/dev/null || true
    cp "$T/server.err" "$T/server.err.before"
    expect_rc 0 "$DE_CLI" upload "$T/big.bin" "/$name" -n sales --json "$@"
    assert_eq "$(jget 'd["resumed"]')" "True" "$name: resumed"
    assert_eq "$(sha "$MOUNT/$name")" "$SRC" "$name: content"
    assert_eq "$(xattr_crc "$MOUNT/$name")" "$(crc_of "$T/big.bin")" "$name: stored CRC-64"
    HELD=$(jget 'd["resumed_bytes"]')
    READ=$(jget 'd["read_bytes"]')
    SENT=$(jget 'd["sent_bytes"]')
    LEFT=$((SIZE - HELD))
    echo "$name: held $HELD, left $LEFT, re-run read $READ, sent $SENT" >&2
    ((HELD >= 20 * MiB && HELD < SIZE)) || fail "$name: held $HELD bytes before the re-run"
    # The server's completion line for this upload: what it read back to hash.
    READBACK=$( (diff "$T/server.err.before" "$T/server.err" || true) |
        sed -n 's/.*read back \([0-9]*\).*/\1/p' | tail -n1)
    echo "$name: the server read back $READBACK bytes to hash" >&2
}

resume_case r1.bin
((SENT >= LEFT && SENT <= LEFT + 4 * MiB)) || fail "r1: sent $SENT bytes for $LEFT left"
((READ >= LEFT && READ <= LEFT + 4 * MiB)) || fail "r1: read $READ local bytes for $LEFT left"
[[ -n "$READBACK" ]] || fail "r1: no completion line from the server"
((READBACK <= 8 * MiB)) || fail "r1: the server read back $READBACK bytes of what it held"

resume_case r2.bin --verify
((SENT >= LEFT && SENT <= LEFT + 4 * MiB)) || fail "r2: sent $SENT bytes for $LEFT left"
((READ >= SIZE)) || fail "r2: --verify read only $READ of $SIZE local bytes"
assert_eq "$(journal_count)" "0" "no journal left"
finish

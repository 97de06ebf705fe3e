#!/usr/bin/env bash
# Issue #15, download side: GET/HEAD send the whole file's CRC-64 as
# Repr-Digest (stored in user.de.crc64, recomputed when an app rewrote the
# file); downloads check it (single GET, parallel ranges, tree archive) and a
# mismatch is a clear error with nothing committed; download -r and sync pull
# of a tree of small files take one archive request and give identical trees,
# also for names that are not UTF-8.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"
L="$T/local"
mkdir -p "$L"
AUTH="alice:$KEY"
URL="$SERVER_URL/api/v1/apps/sales/mount/files"

# CRC-64/XZ of a file, base64 of 8 bytes big-endian (what Repr-Digest carries).
crc_b64() {
    python3 - "$1" <<'PY'
import base64, sys
poly = 0xC96C5795D7870F42
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ poly if c & 1 else c >> 1
    table.append(c)
crc = 0xFFFFFFFFFFFFFFFF
for b in open(sys.argv[1], "rb").read():
    crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
crc ^= 0xFFFFFFFFFFFFFFFF
print(base64.b64encode(crc.to_bytes(8, "big")).decode())
PY
}
repr_digest() { curl -s -u "$AUTH" "$@" -D - -o /dev/null | tr -d '\r' | sed -n 's/^[Rr]epr-[Dd]igest: //p'; }
xattr_of() { python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.de.crc64").decode())' "$1" 2>/dev/null || echo none; }
no_temp() {
    CHECKS=$((CHECKS + 1))
    local left
    left=$(find "$L" -name '.*.de-part-*' | head -n 3)
    [[ -z "$left" ]] || fail "${1:-}: temporary files left: $left"
}

# 1. Repr-Digest on HEAD, GET 200 and GET 206, equal to the CRC-64 of the bytes;
#    stored in the xattr by the first request (the app wrote the file directly).
head -c 300K /dev/urandom >"$MOUNT/a.bin"
want="crc64=:$(crc_b64 "$MOUNT/a.bin"):"
assert_eq "$(repr_digest -I "$URL/a.bin")" "$want" "Repr-Digest on HEAD"
assert_eq "$(repr_digest "$URL/a.bin")" "$want" "Repr-Digest on GET"
assert_eq "$(repr_digest -r 10-99 "$URL/a.bin")" "$want" "Repr-Digest (whole file) on a 206"
assert_contains "$(xattr_of "$MOUNT/a.bin")" "v1 " "the CRC is stored beside the file"

# 2. An app process rewrites the file: the stored CRC is stale, recomputed, stored again.
old_xattr=$(xattr_of "$MOUNT/a.bin")
head -c 300K /dev/urandom >"$MOUNT/a.bin.new" && mv "$MOUNT/a.bin.new" "$MOUNT/a.bin"
want2="crc64=:$(crc_b64 "$MOUNT/a.bin"):"
assert_eq "$(repr_digest -I "$URL/a.bin")" "$want2" "a rewritten file's CRC is recomputed"
CHECKS=$((CHECKS + 1))
[[ "$(xattr_of "$MOUNT/a.bin")" != "$old_xattr" ]] || fail "the xattr was not updated"
expect_rc 0 "$DE_CLI" download a.bin "$L/a.bin" -n sales
cmp -s "$MOUNT/a.bin" "$L/a.bin" || fail "single download differs"

# 3. One byte flipped on disk, size and mtime restored (the stored CRC looks
#    current but is not): the download fails clearly, the old local file stays.
flip() {  # flip FILE OFFSET: one byte changed in place, mtime kept
    local m
    m=$(stat -c %y "$1")
    python3 - "$1" "$2" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x01]))
PY
    touch -d "$m" "$1"
}
echo old >"$L/a.bin"
flip "$MOUNT/a.bin" 1000
expect_rc 1 "$DE_CLI" download a.bin "$L/a.bin" -n sales --update --force
assert_contains "$ERR" "CRC-64" "single GET: the error names the CRC-64 check"
assert_eq "$(cat "$L/a.bin")" "old" "single GET: the local file keeps its old content"
no_temp "single GET mismatch"

# Parallel ranges: the same stale CRC is caught after combining the ranges.
head -c 3M /dev/urandom >"$MOUNT/p.bin"
expect_rc 0 env DE_CLI_PARALLEL_THRESHOLD=1M DE_CLI_TEST_RANGE_SIZE=256K \
    "$DE_CLI" download p.bin "$L/p.bin" -n sales
cmp -s "$MOUNT/p.bin" "$L/p.bin" || fail "parallel download differs"
flip "$MOUNT/p.bin" 2000000
echo old >"$L/p.bin"
expect_rc 1 env DE_CLI_PARALLEL_THRESHOLD=1M DE_CLI_TEST_RANGE_SIZE=256K \
    "$DE_CLI" download p.bin "$L/p.bin" -n sales --update --force
assert_contains "$ERR" "CRC-64" "parallel: the error names the CRC-64 check"
assert_eq "$(cat "$L/p.bin")" "old" "parallel: the local file keeps its old content"
no_temp "parallel mismatch"

# 4. A tree of small files: download -r and sync pull in one archive request
#    each, identical trees (names needing percent-encoding included).
mkdir -p "$MOUNT/tree/sub/deep" "$MOUNT/tree/x y"
for i in $(seq 1 40); do head -c $((RANDOM % 16384 + 1)) /dev/urandom >"$MOUNT/tree/sub/f$i.txt"; done
for i in $(seq 1 5); do head -c 2000 /dev/urandom >"$MOUNT/tree/sub/deep/d$i"; done
echo percent >"$MOUNT/tree/x y/100%.txt"
printf 'latin1' >"$MOUNT/tree/caf$(printf '\xe9').csv"
echo FLIPME-marker >"$MOUNT/tree/marker.txt"
: >"$MOUNT/tree/empty"
archives() { grep -c 'POST /api/v1/apps/sales/mount/archive' "$T/server.err" || true; }
gets() { grep -cE 'GET /api/v1/apps/sales/mount/files/.* 20[06] ' "$T/server.err" || true; }
tree_sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
a0=$(archives); g0=$(gets)
expect_rc 0 "$DE_CLI" download -r tree "$L/tree" -n sales
assert_eq "$(( $(archives) - a0 ))" 1 "download -r: one archive request"
assert_eq "$(( $(gets) - g0 ))" 0 "download -r: no GET per file"
assert_eq "$(tree_sums "$L/tree")" "$(tree_sums "$MOUNT/tree")" "download -r: identical tree"
assert_eq "$(stat -c %Y "$L/tree/sub/f1.txt")" "$(stat -c %Y "$MOUNT/tree/sub/f1.txt")" "mtime kept"
no_temp "download -r"
a0=$(archives); g0=$(gets)
expect_rc 0 "$DE_CLI" sync pull "$L/pulled" --remote-dir tree -n sales
assert_eq "$(( $(archives) - a0 ))" 1 "sync pull: one archive request"
assert_eq "$(( $(gets) - g0 ))" 0 "sync pull: no GET per file"
assert_eq "$(tree_sums "$L/pulled")" "$(tree_sums "$MOUNT/tree")" "sync pull: identical tree"
# the archive stored the CRC of what it sent
assert_contains "$(xattr_of "$MOUNT/tree/sub/f2.txt")" "v1 " "the archive stores the CRCs it computed"

# 5. One byte flipped on the wire inside the archive (a proxy between de-cli
#    and de-server): a clear error naming the file, which is not committed.
PORT_FILE="$T/proxy.port"
python3 - "$SERVER_URL" "$PORT_FILE" <<'PY' &
import socket, sys, threading, os
host, port = sys.argv[1].split("//")[1].split(":")
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(16)
open(sys.argv[2] + ".tmp", "w").write(str(ls.getsockname()[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
def pump(a, b, flip):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            if flip: d = d.replace(b"FLIPME", b"FLIPMF")
            b.sendall(d)
    except OSError: pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
while True:
    c, _ = ls.accept()
    s = socket.create_connection((host, int(port)))
    threading.Thread(target=pump, args=(c, s, False), daemon=True).start()
    threading.Thread(target=pump, args=(s, c, True), daemon=True).start()
PY
PROXY_PID=$!
for _ in $(seq 50); do [[ -s "$PORT_FILE" ]] && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(cat "$PORT_FILE")"
mkdir -p "$L/bad"
echo old >"$L/bad/marker.txt"
export DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
expect_rc 1 "$DE_CLI" --host "$PROXY" sync pull "$L/bad" --remote-dir tree -n sales
assert_contains "$ERR" "CRC-64" "archive: the error names the CRC-64 check"
assert_contains "$ERR" "marker.txt" "archive: the error names the file"
assert_eq "$(cat "$L/bad/marker.txt")" "old" "archive: the damaged file is not committed"
no_temp "archive mismatch"
# The same proxy on a single GET.
echo old >"$L/m.txt"
expect_rc 1 "$DE_CLI" --host "$PROXY" download tree/marker.txt "$L/m.txt" -n sales --update --force
assert_contains "$ERR" "CRC-64" "wire flip, single GET: the error names the CRC-64 check"
assert_eq "$(cat "$L/m.txt")" "old" "wire flip, single GET: nothing committed"
# And on parallel ranges.
{ head -c 1500000 /dev/urandom; echo FLIPME; head -c 1500000 /dev/urandom; } >"$MOUNT/pm.bin"
echo old >"$L/pm.bin"
expect_rc 1 env DE_CLI_PARALLEL_THRESHOLD=1M DE_CLI_TEST_RANGE_SIZE=256K \
    "$DE_CLI" --host "$PROXY" download pm.bin "$L/pm.bin" -n sales --update --force
assert_contains "$ERR" "CRC-64" "wire flip, parallel: the error names the CRC-64 check"
assert_eq "$(cat "$L/pm.bin")" "old" "wire flip, parallel: nothing committed"
no_temp "wire flip"
kill "$PROXY_PID" 2>/dev/null || true
wait "$PROXY_PID" 2>/dev/null || true

# 6. The mode of what arrives is that of any new file (0666 less the umask),
#    set when each temporary file is created: single, parallel and tree, under
#    a umask that is not the usual 022.
head -c 50K /dev/urandom >"$MOUNT/m1.bin"
head -c 3M /dev/urandom >"$MOUNT/m2.bin"
mkdir -p "$MOUNT/mtree"
echo x >"$MOUNT/mtree/x.txt"
echo y >"$MOUNT/mtree/y.txt"
(
    umask 027
    "$DE_CLI" download m1.bin "$L/modes/m1.bin" -n sales -q &&
        env DE_CLI_PARALLEL_THRESHOLD=1M DE_CLI_TEST_RANGE_SIZE=256K \
            "$DE_CLI" download m2.bin "$L/modes/m2.bin" -n sales -q &&
        "$DE_CLI" download -r mtree "$L/modes/mtree" -n sales -q
) || fail "downloads under umask 027"
for f in m1.bin m2.bin mtree/x.txt mtree/y.txt; do
    assert_eq "$(stat -c %a "$L/modes/$f" 2>/dev/null)" "640" "mode of $f under umask 027"
done
cmp -s "$MOUNT/m2.bin" "$L/modes/m2.bin" || fail "parallel download under umask 027 differs"
no_temp "downloads under umask 027"

finish

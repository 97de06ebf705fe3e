#!/usr/bin/env bash
# A request carried out by the server whose answer was lost is sent again, and
# the retry is recognised as the first attempt's success (contract C6): mv
# (source gone, target holds the source's ETag), mkdir (the folder exists),
# apps create (exists and is ours), rm (404 on the retry), a PUT with
# If-None-Match: * (412, but the remote ETag is the SHA-256 sent), and a batch
# (409, but every member there holds the content sent). Each exits 0 with the
# right result. The answers are dropped by de-server's test hook
# DE_SERVER_TEST_DROP_ANSWER="METHOD PATH-REGEX:N" (DE_TEST_HOOKS builds).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

# The 1st POST /apps is setup_app's own; the 2nd (apps create other) is dropped.
DE_SERVER_TEST_DROP_ANSWER="POST /apps/sales/mount/move\$:1;POST /apps/sales/mount/mkdir\$:1"
DE_SERVER_TEST_DROP_ANSWER+=";POST /api/v1/apps\$:2;DELETE /mount/files/rmme\\.bin\$:1"
DE_SERVER_TEST_DROP_ANSWER+=";PUT /mount/files/put/one\\.bin\$:1;POST /apps/sales/mount/batch\$:1"
DE_SERVER_TEST_DROP_ANSWER+=";POST /apps/sales/mount/move\$:3;POST /apps/sales/uploads\$:1"
DE_SERVER_TEST_DROP_ANSWER+=";PUT /mount/files/syncd/rep\\.bin\$:2"
export DE_SERVER_TEST_DROP_ANSWER
start_server
setup_app
unset DE_SERVER_TEST_DROP_ANSWER
L="$T/local"
mkdir -p "$L/tree/sub"
for i in 1 2 3 4; do head -c $((3000 * i)) /dev/urandom >"$L/tree/f$i.bin"; done
head -c 700 /dev/urandom >"$L/tree/sub/g.bin"
head -c 9000 /dev/urandom >"$L/one.bin"
head -c 6000 /dev/urandom >"$MOUNT/from.bin"
FROM_SHA=$(sha "$MOUNT/from.bin")
mkdir -p "$MOUNT/dirfrom/inner"
echo hi >"$MOUNT/dirfrom/inner/h.txt"
head -c 5000 /dev/urandom >"$MOUNT/rmme.bin"
mkdir -p "$L/syncd" "$L/old"
head -c 4000 /dev/urandom >"$L/old/rep.bin"
head -c 7000 /dev/urandom >"$L/syncd/rep.bin"

# dropped PATTERN: the server's log says the answer to PATTERN was dropped.
dropped() {
    CHECKS=$((CHECKS + 1))
    grep -q "test hook: the answer to $1" "$T/server.err" ||
        fail "the hook did not drop the answer to $1: $(grep 'test hook' "$T/server.err")"
}

# mv of a file: the move happened, its answer was lost.
expect_rc 0 "$DE_CLI" mv -n sales from.bin to.bin --json
dropped "POST /api/v1/apps/sales/mount/move"
CHECKS=$((CHECKS + 1))
[[ ! -e "$MOUNT/from.bin" ]] || fail "mv: the source is still there"
assert_eq "$(sha "$MOUNT/to.bin")" "$FROM_SHA" "mv: the target holds the source's content"
assert_eq "$(jget 'd["path"]')" "/to.bin" "mv: json path"
assert_eq "$(jget 'd.get("sha256")')" "$FROM_SHA" "mv: json sha256"
# A plain second mv (answer kept) still fails as before: the source is gone.
expect_rc 3 "$DE_CLI" mv -n sales from.bin again.bin

# mv of a folder (the 3rd move request: the 2nd was the mv just above).
expect_rc 0 "$DE_CLI" mv -n sales dirfrom dirto
assert_eq "$(grep -c 'test hook: the answer to POST /api/v1/apps/sales/mount/move' "$T/server.err")" \
    "2" "the folder move's answer was dropped too"
CHECKS=$((CHECKS + 1))
[[ ! -e "$MOUNT/dirfrom" && -f "$MOUNT/dirto/inner/h.txt" ]] || fail "mv of a folder"

# mkdir (made by the first attempt).
expect_rc 0 "$DE_CLI" mkdir -n sales newdir
dropped "POST /api/v1/apps/sales/mount/mkdir"
CHECKS=$((CHECKS + 1))
[[ -d "$MOUNT/newdir" ]] || fail "mkdir: no folder"

# apps create: exists (made by the first attempt) and is ours.
expect_rc 0 "$DE_CLI" apps create -n other --json
dropped "POST /api/v1/apps"
assert_eq "$(jget 'd["name"]')" "other" "apps create: json name"
CHECKS=$((CHECKS + 1))
[[ -d "$SERVER_ROOT/apps/other" ]] || fail "apps create: no app"
# Someone else's app of that name stays a conflict (exit 5), answer kept.
BOB=$(add_user bob)
expect_rc 5 env DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD="$BOB" \
    "$DE_CLI" --no-keyfile --host "$SERVER_URL" apps create -n other

# rm: the DELETE happened, the retry finds nothing (404).
expect_rc 0 "$DE_CLI" rm -n sales rmme.bin
dropped "DELETE /api/v1/apps/sales/mount/files/rmme.bin"
CHECKS=$((CHECKS + 1))
[[ ! -e "$MOUNT/rmme.bin" ]] || fail "rm: the file is still there"

# PUT with If-None-Match: * (stored by the first attempt; the retry gets 412).
expect_rc 0 "$DE_CLI" upload "$L/one.bin" /put/one.bin -n sales --json
dropped "PUT /api/v1/apps/sales/mount/files/put/one.bin"
assert_eq "$(sha "$MOUNT/put/one.bin")" "$(sha "$L/one.bin")" "PUT: content"

# A batch (committed by the first attempt; the retry gets 409).
expect_rc 0 "$DE_CLI" upload -r "$L/tree" /batch -n sales --json
dropped "POST /api/v1/apps/sales/mount/batch"
for f in f1 f2 f3 f4 sub/g; do
    assert_eq "$(sha "$MOUNT/batch/tree/$f.bin")" "$(sha "$L/tree/$f.bin")" "batch: $f"
done
assert_eq "$(jget 'len(d["files"])')" "5" "batch: five files reported"

# sync push replacing a file: its PUT carries If-Match with the old ETag; the
# first attempt replaced it, so the retry gets 412 although the file now holds
# exactly what was sent (seen by the fault suite across a server restart).
expect_rc 0 "$DE_CLI" upload "$L/old/rep.bin" /syncd/rep.bin -n sales
expect_rc 0 "$DE_CLI" --json sync push "$L/syncd" --remote-dir syncd -n sales
dropped "PUT /api/v1/apps/sales/mount/files/syncd/rep.bin"
assert_eq "$(sha "$MOUNT/syncd/rep.bin")" "$(sha "$L/syncd/rep.bin")" "sync push: replaced"
assert_eq "$(jget 'd["files_transferred"]')" "1" "sync push: one file sent"
assert_eq "$(jget 'len(d.get("failures", []))')" "0" "sync push: no failure"

# Without the hook, a real conflict is still one: other content at the target.
head -c 100 /dev/urandom >"$T/different.bin"
expect_rc 5 "$DE_CLI" upload "$T/different.bin" /put/one.bin -n sales
assert_eq "$(sha "$MOUNT/put/one.bin")" "$(sha "$L/one.bin")" "a refused PUT changed nothing"

# A tus creation whose answer was lost: sent again with its Idempotency-Key, it
# gets the upload the first one made, so no second upload (and no orphan
# holding a reservation) is left on the server.
head -c $((3 << 20)) /dev/urandom >"$L/big.bin"
DE_CLI_RESUMABLE_THRESHOLD=1048576 DE_CLI_PART_SIZE=1048576 \
    expect_rc 0 "$DE_CLI" upload "$L/big.bin" /tus/big.bin -n sales
dropped "POST /api/v1/apps/sales/uploads"
assert_eq "$(sha "$MOUNT/tus/big.bin")" "$(sha "$L/big.bin")" "tus: content"
assert_eq "$(find "$SERVER_ROOT/apps/sales/uploads" -name '*.data' | wc -l)" "0" \
    "tus: no staged upload left behind"
expect_rc 0 "$DE_CLI" --json mount status -n sales
assert_eq "$(jget 'd["mount"]["reserved_bytes"]')" "0" "tus: nothing stays reserved"
finish

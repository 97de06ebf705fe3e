#!/usr/bin/env bash
# Interop: tus-js-client (npm, pinned in tests/interop/package-lock.json) uploads to de-server's
# tus endpoint through tests/interop/tus_upload.mjs — a plain upload, creation-with-upload with
# per-PATCH sha256 checksums, a corrupted PATCH (460, then sent again), an interrupted upload
# resumed by a new tus.Upload from the URL storage, a client killed mid-PATCH and resumed by a new
# process, parallelUploads (concatenation), termination, and an expired upload started over.
# Every finished upload is read back with GET and compared by SHA-256 with its source.
# node_modules comes from scripts/deps.sh (`npm ci`); without it this test fails rather than skip.
source "$(dirname "$0")/harness.sh"

INTEROP="${DE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/interop"
if ! command -v node >/dev/null; then
    echo "FAIL: node is not installed; run scripts/deps.sh (it installs nodejs and npm)" >&2
    exit 1
fi
if [[ ! -f "$INTEROP/node_modules/tus-js-client/package.json" ]]; then
    echo "FAIL: tus-js-client is not installed in $INTEROP/node_modules;" \
        "run scripts/deps.sh (npm ci --prefix tests/interop) with the npm registry reachable" >&2
    exit 1
fi
PINNED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["tus-js-client"])' \
    "$INTEROP/package.json")
INSTALLED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$INTEROP/node_modules/tus-js-client/package.json")
assert_eq "$INSTALLED" "$PINNED" "installed tus-js-client is the pinned one (run npm ci)"

# j EXPR: evaluates EXPR on the JSON object `d` printed by the last node run.
j() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Uploads untouched for 15 s expire (hidden test option), for case 8; the other cases touch their
# uploads every few milliseconds.
start_server --quota 1GiB --upload-expiry 15
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"
ENDPOINT="$SERVER_URL/api/v1/apps/sales/uploads"
DE_TUS_AUTH="Basic $(printf 'alice:%s' "$KEY" | base64 -w0)"
export DE_TUS_AUTH
# curl reads the credential from a file, so it shows in no process list.
umask 077
printf 'Authorization: %s\n' "$DE_TUS_AUTH" >"$T/auth.hdr"

# (called through expect_rc, which captures its output and exit status)
tus() { node "$INTEROP/tus_upload.mjs" --endpoint "$ENDPOINT" "$@"; }
# show CASE: one line on what tus-js-client did (requests as METHOD@offset=status, run 2 marked).
show() {
    local line
    line=$(j '" ".join(("~" if r["run"] == 2 else "") + r["method"] + ("" if r["offset"] is None else "@" + str(r["offset"])) + "=" + str(r["status"]) for r in d.get("requests", []))' 2>/dev/null) || line="(no JSON: $(head -c 300 <<<"$OUT"))"
    echo "$1: $line"
}
# check_remote REMOTE LOCAL WHAT: GET the file back and compare SHA-256 with the source.
check_remote() {
    local got
    got=$(curl -sS -f -H @"$T/auth.hdr" "$SERVER_URL/api/v1/apps/sales/mount/files/$1" | sha256sum |
        cut -d' ' -f1)
    assert_eq "$got" "$(sha "$2")" "$3: GET returns the uploaded bytes"
}

head -c $((5 * 1024 * 1024 + 123)) /dev/urandom >"$T/plain.bin"
head -c $((8 * 1024 * 1024 + 5)) /dev/urandom >"$T/interrupt.bin"
head -c $((24 * 1024 * 1024 + 77)) /dev/urandom >"$T/killed.bin"
head -c $((10 * 1024 * 1024 + 7)) /dev/urandom >"$T/parallel.bin"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$T/term.bin"
head -c $((16 * 1024 * 1024 + 3)) /dev/urandom >"$T/expired.bin"

# Discovery: what OPTIONS advertises (no credential needed).
run curl -sS -i -X OPTIONS "$ENDPOINT"
assert_contains "$OUT" "Tus-Version: 1.0.0" "OPTIONS advertises tus 1.0.0"
for ext in creation creation-with-upload checksum termination concatenation; do
    assert_contains "$(grep -i '^Tus-Extension:' <<<"$OUT")" "$ext" "OPTIONS advertises $ext"
done

# 1. Plain upload (one PATCH), with the whole file's sha256 in the metadata.
expect_rc 0 tus --mode plain --file "$T/plain.bin" --path interop/plain.bin --sha256
show "plain"
[[ "$RC" == 0 ]] && assert_eq "$(j 'bool(__import__("re").fullmatch(r".*/api/v1/apps/sales/uploads/[0-9a-f]{32}", d["url"]))')" \
    True "the upload URL is the endpoint plus a 32-hex id"
check_remote interop/plain.bin "$T/plain.bin" "plain"
cmp -s "$MOUNT/interop/plain.bin" "$T/plain.bin" || fail "plain: the mount holds other bytes"

# 2. creation-with-upload, 1 MiB chunks, each PATCH with Upload-Checksum: sha256.
expect_rc 0 tus --mode plain --file "$T/plain.bin" --path interop/checksum.bin --with-upload \
    --checksum --chunk-size 1048576
show "creation-with-upload+checksum"
[[ "$RC" == 0 ]] && assert_eq "$(j '[r["method"] for r in d["requests"]][:2]')" "['POST', 'PATCH']" \
    "creation-with-upload: the POST carries the first chunk, PATCHes follow"
[[ "$RC" == 0 ]] && assert_eq "$(j 'all(r["checksum"] for r in d["requests"] if r["method"] == "PATCH")')" \
    True "every PATCH carried Upload-Checksum"
check_remote interop/checksum.bin "$T/plain.bin" "checksum"

# 3. A PATCH whose body does not match its checksum: 460, the offset stays, the client sends the
#    chunk again and the file is intact.
expect_rc 0 tus --mode plain --file "$T/plain.bin" --path interop/corrupt.bin --checksum \
    --corrupt-first --chunk-size 1048576
show "corrupted PATCH"
[[ "$RC" == 0 ]] && assert_eq "$(j '[r["status"] for r in d["requests"] if r.get("corrupted")]')" "[460]" \
    "the corrupted PATCH got 460 checksum_mismatch"
[[ "$RC" == 0 ]] && assert_eq "$(j 'sum(1 for r in d["requests"] if r["method"] == "PATCH" and r["offset"] == 0)')" \
    2 "the rejected chunk was sent again from offset 0"
check_remote interop/corrupt.bin "$T/plain.bin" "corrupt+retry"

# 4. Interrupted (abort() after 2 MiB acknowledged), then resumed by a NEW tus.Upload found in the
#    file URL storage: HEAD, then PATCH from where the server is — no new POST.
expect_rc 0 tus --mode interrupt --file "$T/interrupt.bin" --path interop/interrupt.bin \
    --store "$T/urls-interrupt.json" --chunk-size 1048576 --after 2097152
show "interrupt+resume"
if [[ "$RC" == 0 ]]; then
    assert_eq "$(j 'd["resumed"]')" True "interrupt: resumed, not restarted"
    assert_eq "$(j 'd["run2_posts"]')" 0 "interrupt: the second run created no new upload"
    assert_eq "$(j 'd["run2_first_patch_offset"] >= 2097152')" True \
        "interrupt: the second run's first PATCH starts at or past what was acknowledged"
    assert_eq "$(j 'd["run2_first_patch_offset"] == d["head_offset_between"]')" True \
        "interrupt: it starts exactly at the server's offset"
fi
check_remote interop/interrupt.bin "$T/interrupt.bin" "interrupt"

# 5. The client process is killed (SIGKILL) in the middle of one long PATCH; nothing shows in the
#    mount; a new process resumes from the URL storage at the server's offset.
expect_rc 137 tus --mode kill --file "$T/killed.bin" --path interop/killed.bin \
    --store "$T/urls-kill.json" --after $((6 * 1024 * 1024))
[[ -e "$MOUNT/interop/killed.bin" ]] && fail "kill: a partial file is visible in the mount"
expect_rc 0 tus --mode resume --file "$T/killed.bin" --path interop/killed.bin \
    --store "$T/urls-kill.json"
show "kill+resume"
if [[ "$RC" == 0 ]]; then
    assert_eq "$(j 'd["previous_uploads"]')" 1 "kill: the URL storage knew the upload"
    assert_eq "$(j 'd["resumed"]')" True "kill: resumed, not restarted"
    assert_eq "$(j 'd["run2_first_patch_offset"] > 0 and d["run2_first_patch_offset"] == d["head_offset_between"]')" \
        True "kill: the new process continued at the server's offset (>0)"
fi
check_remote interop/killed.bin "$T/killed.bin" "kill+resume"

# 6. parallelUploads: 3 partial uploads at once, then a final upload concatenating them.
expect_rc 0 tus --mode plain --file "$T/parallel.bin" --path interop/parallel.bin --parallel 3
show "parallelUploads 3"
if [[ "$RC" == 0 ]]; then
    assert_eq "$(j 'sum(1 for r in d["requests"] if r["method"] == "POST")')" 4 \
        "parallel: three partial uploads and one final"
fi
check_remote interop/parallel.bin "$T/parallel.bin" "parallel"

# 7. Termination: abort(true) sends DELETE; the upload is then gone (404/410), nothing is in the
#    mount.
expect_rc 0 tus --mode terminate --file "$T/term.bin" --path interop/term.bin --chunk-size 1048576 \
    --after 1048576
show "terminate"
[[ "$RC" == 0 ]] && assert_contains " 404 410 " " $(j 'd["head_after_terminate"]') " \
    "terminate: HEAD after DELETE is 404 or 410"
[[ "$RC" == 0 ]] && assert_contains "$(j '[r["method"] for r in d["requests"]]')" "'DELETE'" \
    "terminate: tus-js-client sent DELETE"
[[ -e "$MOUNT/interop/term.bin" ]] && fail "terminate: the file is in the mount"

# 8. An upload left alone past its expiry: the server answers 410 (or 404 once reaped) and drops
#    the staged bytes; tus-js-client then forgets the stored URL and starts a new upload, which
#    completes intact.
expect_rc 137 tus --mode kill --file "$T/expired.bin" --path interop/expired.bin \
    --store "$T/urls-expired.json" --after $((4 * 1024 * 1024))
OLD_URL=$(python3 -c 'import json,sys; print(next(iter(json.load(open(sys.argv[1])).values()))["uploadUrl"])' \
    "$T/urls-expired.json" 2>/dev/null || true)
OLD_ID=${OLD_URL##*/}
if [[ -z "$OLD_ID" ]]; then
    fail "expiry: the URL storage holds no upload URL"
else
    compgen -G "$SERVER_ROOT/apps/sales/uploads/$OLD_ID*" >/dev/null ||
        fail "expiry: no staged files of the upload in $SERVER_ROOT/apps/sales/uploads"
    status=""
    for _ in $(seq 1 120); do
        status=$(curl -s -o /dev/null -w '%{http_code}' -I -H 'Tus-Resumable: 1.0.0' -H @"$T/auth.hdr" "$OLD_URL")
        [[ $status == 410 || $status == 404 ]] && break
        sleep 0.5
    done
    assert_contains " 404 410 " " $status " "expiry: HEAD of an expired upload is 410 (or 404)"
    for _ in $(seq 1 40); do
        compgen -G "$SERVER_ROOT/apps/sales/uploads/$OLD_ID*" >/dev/null || break
        sleep 0.25
    done
    compgen -G "$SERVER_ROOT/apps/sales/uploads/$OLD_ID*" >/dev/null &&
        fail "expiry: the expired upload's files are still in $SERVER_ROOT/apps/sales/uploads"
fi
[[ -e "$MOUNT/interop/expired.bin" ]] && fail "expiry: a partial file is visible in the mount"
expect_rc 0 tus --mode resume --file "$T/expired.bin" --path interop/expired.bin \
    --store "$T/urls-expired.json"
show "expired+restart"
if [[ "$RC" == 0 ]]; then
    assert_eq "$(j 'd["resumed"]')" False "expiry: not resumed (the upload was gone)"
    assert_eq "$(j '[r["method"] for r in d["requests"] if r["run"] == 2][:2]')" "['HEAD', 'POST']" \
        "expiry: HEAD found it gone, then a new upload was created"
    assert_eq "$(j 'min(r["offset"] for r in d["requests"] if r["run"] == 2 and r["method"] == "PATCH")')" 0 \
        "expiry: the new upload starts at 0"
fi
check_remote interop/expired.bin "$T/expired.bin" "expired+restart"

# 9. A wrong credential: 401, and tus-js-client reports the failure.
DE_TUS_AUTH="Basic $(printf 'alice:wrong' | base64 -w0)" expect_rc 1 tus --mode plain \
    --file "$T/term.bin" --path interop/denied.bin
assert_contains "$ERR" "401" "a wrong key is refused with 401"

finish

#!/usr/bin/env bash
# de-cli mount enable|status|disable: human and --json status, what a disabled
# mount answers, and disable's guards (-n, confirmation, --backup first).
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server --quota 10MiB
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q

expect_rc 0 "$DE_CLI" mount status -n sales
assert_contains "$OUT" "persistent filesystem	off"
assert_contains "$ERR" "mount enable -n sales"
# A disabled mount: file commands fail with conflict (5) and say how to enable it.
expect_rc 5 "$DE_CLI" ls -n sales
assert_contains "$ERR" "mount enable"
echo hi >"$T/a.txt"
expect_rc 5 "$DE_CLI" upload "$T/a.txt" / -n sales
assert_contains "$ERR" "mount enable -n sales"
# Already off: nothing to do, exit 0 with a note (as enable twice).
expect_rc 0 "$DE_CLI" mount disable -n sales -y
assert_contains "$ERR" "already off; nothing changed"
expect_rc 3 "$DE_CLI" mount status -n nosuch
expect_rc 3 "$DE_CLI" mount enable -n nosuch

expect_rc 0 "$DE_CLI" mount enable -n sales --json
assert_eq "$(jget 'd["mount"]["enabled"]')" "True"
assert_eq "$(jget 'd["mount"]["quota_bytes"]')" "10485760"
[[ -d "$SERVER_ROOT/apps/sales/mount" ]] || fail "mount folder not created"

mkdir -p "$T/data/sub"
head -c 1048576 /dev/urandom >"$T/data/big.bin"
echo hello >"$T/data/sub/a.csv"
"$DE_CLI" upload -r "$T/data/" / -n sales -q
expect_rc 0 "$DE_CLI" mount status -n sales
assert_contains "$OUT" "used	1.0 MiB of 10.0 MiB (10.0%)"
assert_contains "$OUT" "files	2"
assert_contains "$OUT" "storage class	local"
expect_rc 0 "$DE_CLI" mount status -n sales --json
assert_eq "$(jget 'd["mount"]["used_bytes"]')" "1048582"
assert_eq "$(jget 'd["mount"]["file_count"]')" "2"
assert_eq "$(jget 'd["mount"]["storage_class"]')" "local"

# disable: -n is required, and without a terminal -y is too.
mkdir -p "$T/work/sales"
(cd "$T/work/sales" && run "$DE_CLI" mount disable -y && echo "$RC" >"$T/cwd.out")
assert_eq "$(cat "$T/cwd.out")" "2" "mount disable needs -n"
expect_rc 2 "$DE_CLI" mount disable -n sales </dev/null
assert_contains "$ERR" "pass -y"
expect_rc 2 "$DE_CLI" mount disable -n sales --json </dev/null
assert_eq "$(jget 'd["error"]["kind"]')" "usage"
expect_rc 0 "$DE_CLI" mount status -n sales --json
assert_eq "$(jget 'd["mount"]["file_count"]')" "2" "a refused disable deletes nothing"

# A backup that cannot be written deletes nothing.
touch "$T/exists.tar"
expect_rc 5 "$DE_CLI" mount disable -n sales -y --backup "$T/exists.tar"
expect_rc 1 "$DE_CLI" mount disable -n sales -y --backup "$T/no/such/dir/b.tar"
assert_contains "$ERR" "nothing was deleted"
expect_rc 0 "$DE_CLI" mount status -n sales --json
assert_eq "$(jget 'd["mount"]["enabled"]')" "True"
assert_eq "$(jget 'd["mount"]["file_count"]')" "2"

# disable --backup: the archive holds every file, byte for byte, then the mount is off.
expect_rc 0 "$DE_CLI" mount disable -n sales -y --backup "$T/backup.tar" --json
assert_eq "$(jget 'd["backup"]["files"]')" "2"
assert_eq "$(jget 'd["mount"]["enabled"]')" "False"
mkdir "$T/restore"
tar -xf "$T/backup.tar" -C "$T/restore"
cmp "$T/restore/big.bin" "$T/data/big.bin" || fail "backup big.bin differs"
cmp "$T/restore/sub/a.csv" "$T/data/sub/a.csv" || fail "backup sub/a.csv differs"
[[ ! -e "$T/backup.tar.partial" ]] || fail "partial backup left behind"
expect_rc 0 "$DE_CLI" mount status -n sales --json
assert_eq "$(jget 'd["mount"]["enabled"]')" "False"
assert_eq "$(find "$SERVER_ROOT/apps/sales" -type f 2>/dev/null | grep -c mount/ || true)" "0" \
    "files deleted"

# Enable again: empty.
expect_rc 0 "$DE_CLI" mount enable -n sales -q
assert_eq "$OUT" "" "-q prints nothing but results"
expect_rc 0 "$DE_CLI" ls -n sales
assert_eq "$OUT" ""

finish

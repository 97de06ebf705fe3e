#!/usr/bin/env bash
# Issue 14 items 1, 5, 6, 11 against a real de-server: an option never swallows
# the folder after it, versions, usage errors, rm of several paths, dry runs,
# download's default destination, suffix ranges.
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n my-project -q
"$DE_CLI" mount enable -n my-project -q
MOUNT="$SERVER_ROOT/apps/my-project/mount"

# Item 1: the issue's command plans syncsrc, not ../mount.
mkdir -p "$T/work/app" "$T/work/mount" "$T/syncsrc"
echo other >"$T/work/mount/from-mount.txt"
echo keep >"$T/syncsrc/wanted.txt"
echo tmp >"$T/syncsrc/junk.tmp"
cd "$T/work/app"
expect_rc 0 "$DE_CLI" sync push --exclude '*.tmp' "$T/syncsrc" -n my-project --delete --dry-run
assert_contains "$OUT$ERR" "wanted.txt"
assert_not_contains "$OUT$ERR" "from-mount.txt" "../mount was planned"
assert_not_contains "$OUT$ERR" "junk.tmp" "the exclude was lost"
cd "$T"

# Item 5: versions, with the server's.
expect_rc 0 "$DE_CLI" --version
assert_contains "$OUT" "de-cli 0.1.0"
assert_contains "$OUT" "libcurl"
assert_contains "$OUT" "de-server 0.1.0"
expect_rc 0 "$DE_CLI" version --json
assert_eq "$(jget 'd["server"]["version"]')" "0.1.0"
expect_rc 0 "$DE_CLI" --host http://127.0.0.1:1 version --json
assert_eq "$(jget 'd["server"]["version"]')" "None"
expect_rc 0 "$DE_SERVER" --version
assert_eq "$OUT" "de-server 0.1.0"

# Item 6: usage errors.
expect_rc 2 "$DE_CLI" mount stauts -n my-project
assert_contains "$ERR" "de-cli: error: unknown command 'de-cli mount stauts'; did you mean 'status'?"
expect_rc 2 "$DE_CLI" rm --recursve x -n my-project
assert_contains "$ERR" "de-cli: error: unknown option '--recursve'"
assert_contains "$ERR" "did you mean '--recursive'?"
expect_rc 2 "$DE_CLI" cat
assert_contains "$ERR" "de-cli: error: "
expect_rc 0 "$DE_CLI" help mount status
assert_contains "$OUT" "Usage: de-cli mount status"
expect_rc 0 "$DE_CLI" login --help
assert_contains "$OUT" "--host HOST"

# Item 11: rm of several paths, dry runs, download defaults, suffix ranges.
printf '0123456789' >"$MOUNT/digits.txt"
echo b >"$MOUNT/b.txt"
expect_rc 0 "$DE_CLI" cat digits.txt --range -3 -n my-project
assert_eq "$OUT" "789"
expect_rc 0 "$DE_CLI" rm b.txt --dry-run -n my-project
[[ -f "$MOUNT/b.txt" ]] || fail "rm --dry-run removed"
expect_rc 0 "$DE_CLI" mv b.txt c.txt --dry-run -n my-project --json
assert_eq "$(jget 'd["dry_run"]')" "True"
[[ -f "$MOUNT/b.txt" ]] || fail "mv --dry-run moved"
expect_rc 0 "$DE_CLI" mkdir newdir --dry-run -n my-project
[[ ! -e "$MOUNT/newdir" ]] || fail "mkdir --dry-run created"
expect_rc 3 "$DE_CLI" rm missing1 b.txt missing2 -n my-project
[[ ! -e "$MOUNT/b.txt" ]] || fail "rm stopped at the first missing path"
assert_contains "$ERR" "missing1"
assert_contains "$ERR" "missing2"
mkdir -p "$T/dl" && cd "$T/dl"
expect_rc 0 "$DE_CLI" download digits.txt -n my-project -q
[[ -f "$T/dl/digits.txt" ]] || fail "download REMOTE did not default to ."
cd "$T"
mkdir -p "$MOUNT/tree/sub"
echo a >"$MOUNT/tree/a.csv"
echo x >"$MOUNT/tree/sub/x.tmp"
expect_rc 0 "$DE_CLI" download -r tree "$T/dl2/" --exclude '*.tmp' -n my-project -q
[[ -f "$T/dl2/tree/a.csv" && ! -e "$T/dl2/tree/sub/x.tmp" ]] || fail "download --exclude"
expect_rc 0 "$DE_CLI" download -r tree "$T/dl3/" --dry-run -n my-project
[[ ! -e "$T/dl3/tree" ]] || fail "download --dry-run wrote"
finish

#!/usr/bin/env bash
# de-cli ls/cat/rm/mv/mkdir: listings for pipes and --json, byte ranges, the
# guard on rm -r, moves, and hostile or missing paths.
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"
mkdir -p "$T/l/data/sub"
printf '0123456789' >"$T/l/data/digits.txt"
echo "c" >"$T/l/data/sub/c.csv"
"$DE_CLI" upload -r "$T/l/data" / -n sales -q

# mkdir makes parents; mkdir of an existing folder is fine.
expect_rc 0 "$DE_CLI" mkdir reports/2026/11 -n sales
[[ -d "$MOUNT/reports/2026/11" ]] || fail "mkdir parents"
expect_rc 0 "$DE_CLI" mkdir reports/2026 -n sales --json
assert_eq "$(jget 'd["type"]')" "dir"
expect_rc 5 "$DE_CLI" mkdir data/digits.txt/x -n sales

# ls: names (folders with '/'), -R, -l piped as tab-separated bytes and UTC times, --json.
expect_rc 0 "$DE_CLI" ls -n sales
assert_eq "$OUT" $'data/\nreports/'
expect_rc 0 "$DE_CLI" ls data -n sales
assert_eq "$OUT" $'digits.txt\nsub/'
expect_rc 0 "$DE_CLI" ls -R data -n sales
assert_eq "$OUT" $'digits.txt\nsub/\nsub/c.csv'
expect_rc 0 "$DE_CLI" ls -l data -n sales
assert_contains "$OUT" $'file\t10\t'
assert_contains "$OUT" $'Z\tdigits.txt'
assert_not_contains "$OUT" "TYPE" "no header when piped"
expect_rc 0 "$DE_CLI" ls -lR --json -n sales
assert_eq "$(jget 'sorted(e["path"] for e in d if e["type"]=="file")')" \
    "['/data/digits.txt', '/data/sub/c.csv']"
expect_rc 0 "$DE_CLI" ls data/digits.txt -l -n sales
assert_contains "$OUT" "digits.txt"
expect_rc 3 "$DE_CLI" ls nothere -n sales
expect_rc 3 "$DE_CLI" ls nothere -n sales --json
assert_eq "$(jget 'd["error"]["kind"]')" "not_found"
expect_rc 2 "$DE_CLI" ls ../.. -n sales

# cat: whole file, byte ranges, --json with base64, folders and missing files refused.
expect_rc 0 "$DE_CLI" cat data/digits.txt -n sales
assert_eq "$OUT" "0123456789"
expect_rc 0 "$DE_CLI" cat data/digits.txt --range 2-4 -n sales
assert_eq "$OUT" "234"
expect_rc 0 "$DE_CLI" cat data/digits.txt --range 7- -n sales
assert_eq "$OUT" "789"
expect_rc 2 "$DE_CLI" cat data/digits.txt --range 5-2 -n sales
expect_rc 2 "$DE_CLI" cat data/digits.txt --range 50-60 -n sales
expect_rc 0 "$DE_CLI" cat data/digits.txt --json -n sales
assert_eq "$(jget '__import__("base64").b64decode(d["content_base64"]).decode()')" "0123456789"
expect_rc 5 "$DE_CLI" cat data -n sales
expect_rc 3 "$DE_CLI" cat data/none.txt -n sales
expect_rc 2 "$DE_CLI" cat ../../../etc/passwd -n sales
expect_rc 2 "$DE_CLI" cat $'data/\x01' -n sales

# mv: rename, into a folder, refused overwrite.
expect_rc 0 "$DE_CLI" mv data/sub/c.csv data/c2.csv -n sales
[[ -f "$MOUNT/data/c2.csv" && ! -e "$MOUNT/data/sub/c.csv" ]] || fail "mv rename"
expect_rc 0 "$DE_CLI" mv data/c2.csv reports/ -n sales --json
assert_eq "$(jget 'd["path"]')" "/reports/c2.csv"
expect_rc 0 "$DE_CLI" mv reports/c2.csv reports/2026 -n sales
[[ -f "$MOUNT/reports/2026/c2.csv" ]] || fail "mv into an existing folder"
cp "$MOUNT/data/digits.txt" "$MOUNT/data/other.txt"
expect_rc 5 "$DE_CLI" mv data/other.txt data/digits.txt -n sales
assert_contains "$ERR" "--update"
expect_rc 0 "$DE_CLI" mv data/other.txt data/digits.txt -n sales --update
expect_rc 3 "$DE_CLI" mv data/none data/x -n sales
expect_rc 2 "$DE_CLI" mv data/digits.txt ../x -n sales

# rm: files; folders need -r, and -r needs -n and -y without a terminal.
expect_rc 0 "$DE_CLI" rm data/digits.txt -n sales --json
assert_eq "$(jget 'd["removed"]')" "['/data/digits.txt']"
[[ ! -e "$MOUNT/data/digits.txt" ]] || fail "rm file"
expect_rc 3 "$DE_CLI" rm data/digits.txt -n sales
expect_rc 5 "$DE_CLI" rm reports -n sales
assert_contains "$ERR" "-r"
expect_rc 2 "$DE_CLI" rm -r reports -n sales </dev/null
assert_contains "$ERR" "-y"
[[ -d "$MOUNT/reports/2026" ]] || fail "refused rm -r deleted something"
mkdir -p "$T/work/sales"
(cd "$T/work/sales" && run "$DE_CLI" rm -r reports -y && echo "$RC" >"$T/cwd.out")
assert_eq "$(cat "$T/cwd.out")" "2" "rm -r needs -n"
(cd "$T/work/sales" && run "$DE_CLI" ls && echo "$RC $OUT" >"$T/cwd.out")
assert_eq "$(cat "$T/cwd.out")" $'0 data/\nreports/' "without -n the folder's name is the app"
expect_rc 2 "$DE_CLI" rm / -n sales -r -y
expect_rc 2 "$DE_CLI" rm ../.. -n sales -r -y
expect_rc 0 "$DE_CLI" rm -r reports -n sales -y
[[ ! -e "$MOUNT/reports" ]] || fail "rm -r"
[[ -d "$MOUNT" ]] || fail "rm -r removed the mount"

finish

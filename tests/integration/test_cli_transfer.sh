#!/usr/bin/env bash
# de-cli upload/download: single files, renames, several files, -r folders,
# globs, --dry-run, refused overwrites, the quota check before the first byte,
# missing local files, hostile remote paths, and byte-exact round trips.
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server --quota 4MiB
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"
L="$T/local"
mkdir -p "$L/data/sub" "$L/data/tmp"
head -c 1000000 /dev/urandom >"$L/data/big.bin"
echo "a,b" >"$L/data/a.csv"
echo "c,d" >"$L/data/sub/c.csv"
echo "junk" >"$L/data/tmp/x.csv"
echo "scratch" >"$L/data/sub/y.tmp"
: >"$L/data/empty.txt"
mkdir -p "$L/data/nothing/inside"
cd "$L"

# One file into the root, then into a folder, then under a new name.
expect_rc 0 "$DE_CLI" upload data/a.csv / -n sales
assert_contains "$ERR" "Uploaded 1 file"
cmp "$MOUNT/a.csv" data/a.csv || fail "a.csv differs"
expect_rc 0 "$DE_CLI" mkdir inbox -n sales -q
expect_rc 0 "$DE_CLI" upload data/a.csv inbox -n sales --json
assert_eq "$(jget 'd["files"][0]["path"]')" "/inbox/a.csv" "a folder as REMOTE receives the file"
expect_rc 0 "$DE_CLI" upload data/a.csv renamed.csv -n sales
[[ -f "$MOUNT/renamed.csv" ]] || fail "rename upload"

# The same content again is unchanged (0, nothing sent); other content is a
# refused overwrite (5) — with --json too — and --update replaces.
expect_rc 0 "$DE_CLI" upload data/a.csv / -n sales --json
assert_eq "$(jget 'd["files_unchanged"], d["files_transferred"], [f["action"] for f in d["files"]]')" "(1, 0, ['unchanged'])" "an identical file is not sent"
echo "new" >"$T/a.csv"
expect_rc 5 "$DE_CLI" upload "$T/a.csv" / -n sales
assert_contains "$ERR" "--update"
expect_rc 5 "$DE_CLI" upload "$T/a.csv" / -n sales --json
assert_eq "$(jget 'd["error"]["kind"]')" "conflict"
expect_rc 0 "$DE_CLI" upload "$T/a.csv" / -n sales --update
assert_eq "$(cat "$MOUNT/a.csv")" "new"

# Several files into a folder (created as needed).
expect_rc 0 "$DE_CLI" upload data/a.csv data/sub/c.csv many/ -n sales
[[ -f "$MOUNT/many/a.csv" && -f "$MOUNT/many/c.csv" ]] || fail "several files"

# A folder needs -r; with it, globs filter; 'dir/' means its contents.
expect_rc 2 "$DE_CLI" upload data / -n sales
expect_rc 0 "$DE_CLI" upload -r data / -n sales --dry-run --exclude tmp --exclude '*.tmp'
assert_contains "$OUT" "data/big.bin"
assert_not_contains "$OUT" "tmp" "excluded from the plan"
[[ ! -e "$MOUNT/data" ]] || fail "--dry-run sent something"
expect_rc 0 "$DE_CLI" upload -r data / -n sales --dry-run --json --include '*.csv'
assert_eq "$(jget 'sorted(f["path"] for f in d["files"])')" \
    "['/data/a.csv', '/data/sub/c.csv', '/data/tmp/x.csv']"
assert_eq "$(jget 'd["dry_run"]')" "True"
expect_rc 0 "$DE_CLI" upload -r data / -n sales --exclude tmp --exclude '*.tmp'
for f in big.bin a.csv sub/c.csv empty.txt; do
    cmp "$MOUNT/data/$f" "data/$f" || fail "data/$f differs after upload -r"
done
[[ ! -e "$MOUNT/data/tmp" && ! -e "$MOUNT/data/sub/y.tmp" ]] || fail "excluded files uploaded"
[[ -d "$MOUNT/data/nothing/inside" ]] || fail "empty folders are uploaded too"
expect_rc 0 "$DE_CLI" upload -r data/sub/ flat -n sales --include '*.csv'
[[ -f "$MOUNT/flat/c.csv" && ! -e "$MOUNT/flat/sub" ]] || fail "'dir/' uploads the contents"

# Uploading the folder again: identical files are unchanged, an existing file
# with other content is a conflict, and nothing is sent.
echo "changed" >data/sub/c.csv
expect_rc 5 "$DE_CLI" upload -r data / -n sales --exclude tmp --exclude '*.tmp'
assert_contains "$ERR" "exists already with other content: sales:/data/sub/c.csv;"
assert_eq "$(cat "$MOUNT/data/sub/c.csv")" "c,d" "a refused upload changes nothing"

# The quota (4 MiB) is checked before the first byte, and says how much is missing.
head -c 3500000 /dev/zero >"$T/huge.bin"
before=$("$DE_CLI" mount status -n sales --json)
expect_rc 6 "$DE_CLI" upload "$T/huge.bin" / -n sales
assert_contains "$ERR" "missing"
assert_contains "$ERR" "nothing was uploaded"
expect_rc 6 "$DE_CLI" upload "$T/huge.bin" / -n sales --json
assert_eq "$(jget 'd["error"]["kind"]')" "quota"
[[ ! -e "$MOUNT/huge.bin" ]] || fail "quota: file appeared"
assert_eq "$("$DE_CLI" mount status -n sales --json)" "$before" "quota refusal left the mount as it was"
assert_eq "$(find "$SERVER_ROOT/apps/sales/staging" -type f 2>/dev/null | wc -l)" "0" "no staging left"
# Several files: the sum counts, even when each would fit alone.
head -c 1700000 /dev/zero >"$T/p1.bin"
head -c 1700000 /dev/zero >"$T/p2.bin"
expect_rc 6 "$DE_CLI" upload "$T/p1.bin" "$T/p2.bin" / -n sales
[[ ! -e "$MOUNT/p1.bin" ]] || fail "quota: first of several files uploaded"

# Missing local file (3), hostile remote paths (2), unknown app (3), another user's app (3).
expect_rc 3 "$DE_CLI" upload nothere.csv / -n sales
assert_contains "$ERR" "nothere.csv"
expect_rc 3 "$DE_CLI" upload data/a.csv nothere.csv / -n sales
[[ ! -e "$MOUNT/nothere.csv" ]] || fail "partial multi-file upload"
for bad in ../escape.csv a/../../b /x/../../y $'bad\nname' $'tab\tname'; do
    expect_rc 2 "$DE_CLI" upload data/a.csv "$bad" -n sales
done
[[ ! -e "$SERVER_ROOT/apps/sales/escape.csv" && ! -e "$SERVER_ROOT/escape.csv" ]] || fail "escaped"
expect_rc 3 "$DE_CLI" upload data/a.csv / -n nosuch
BOB_KEY=$(add_user bob)
expect_rc 3 env DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob \
    DASH_ENTERPRISE_PASSWORD="$BOB_KEY" "$DE_CLI" --no-keyfile upload data/a.csv / -n sales
expect_rc 3 env DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob \
    DASH_ENTERPRISE_PASSWORD="$BOB_KEY" "$DE_CLI" --no-keyfile download a.csv "$T/x" -n sales
expect_rc 2 "$DE_CLI" upload data/a.csv -n sales

# Downloads: one file, a file into a folder, -r folders; never overwriting without --update.
mkdir -p "$T/dl"
expect_rc 0 "$DE_CLI" download data/big.bin "$T/dl/big.bin" -n sales
cmp "$T/dl/big.bin" data/big.bin || fail "download differs"
# An identical local file is unchanged (not fetched); a different one is refused.
expect_rc 0 "$DE_CLI" download data/big.bin "$T/dl/big.bin" -n sales
echo changed >"$T/dl/big.bin"
expect_rc 5 "$DE_CLI" download data/big.bin "$T/dl/big.bin" -n sales
expect_rc 0 "$DE_CLI" download data/big.bin "$T/dl/big.bin" -n sales --update
expect_rc 0 "$DE_CLI" download data/a.csv renamed.csv "$T/dl" -n sales --json
assert_eq "$(jget 'len(d["files"])')" "2"
[[ -f "$T/dl/a.csv" && -f "$T/dl/renamed.csv" ]] || fail "download into a folder"
expect_rc 2 "$DE_CLI" download data "$T/dl2" -n sales
assert_contains "$ERR" "-r"
expect_rc 0 "$DE_CLI" download -r data "$T/dl2" -n sales
for f in big.bin a.csv sub/c.csv empty.txt; do
    cmp "$T/dl2/$f" "$MOUNT/data/$f" || fail "download -r: $f differs"
done
expect_rc 0 "$DE_CLI" download -r data "$T/dl2" -n sales --update
[[ -f "$T/dl2/data/big.bin" ]] || fail "download -r into an existing folder nests"
echo changed >"$T/dl2/data/a.csv"
expect_rc 5 "$DE_CLI" download -r data "$T/dl2" -n sales
expect_rc 3 "$DE_CLI" download nothere.bin "$T/dl" -n sales
expect_rc 2 "$DE_CLI" download ../../etc/passwd "$T/dl" -n sales

# One symlink policy with sync push: a symlink inside an uploaded folder is
# skipped with a warning (it could lead out of the folder) unless
# --follow-symlinks; a symlink named on the command line is uploaded.
mkdir -p "$T/links/real"
echo secret >"$T/outside.txt"
echo inside >"$T/links/real/t.txt"
ln -s "$T/outside.txt" "$T/links/out.txt"
expect_rc 0 "$DE_CLI" upload -r "$T/links/" /links -n sales
assert_contains "$ERR" "skipped symlink 'out.txt'"
[[ ! -e "$MOUNT/links/out.txt" ]] || fail "a symlink inside the folder was followed"
[[ -f "$MOUNT/links/real/t.txt" ]] || fail "the folder's regular file is missing"
expect_rc 0 "$DE_CLI" upload -r "$T/links/" /links2 -n sales --follow-symlinks
assert_eq "$(cat "$MOUNT/links2/out.txt")" "secret" "--follow-symlinks uploads the target"
expect_rc 0 "$DE_CLI" upload "$T/links/out.txt" /named.txt -n sales
assert_eq "$(cat "$MOUNT/named.txt")" "secret" "a named symlink is uploaded"

finish

#!/usr/bin/env bash
# Names that are not UTF-8 (issue 18 F3) through de-cli: a Latin-1 name that an
# app process wrote into the mount is listed (escaped for people, percent form
# with "path_encoding" in --json), downloaded, pulled, moved and removed; local
# files with Latin-1 names upload (PUT, tus and batch) and push to the same
# bytes remotely.
source "$(dirname "$0")/harness.sh"

# names FIELD: the decoded names of the --json document in $OUT (a list, or an
# object's list under FIELD), as Python bytes reprs, sorted.
names() {
    python3 - "$1" "$OUT" <<'EOF'
import json, sys, urllib.parse
d = json.loads(sys.argv[2])
if sys.argv[1]:
    d = d[sys.argv[1]]
def dec(o, k="path"):
    if o.get(k + "_encoding") == "percent":
        return urllib.parse.unquote_to_bytes(o[k])
    assert k + "_encoding" not in o, o
    return o[k].encode()
print(sorted(dec(e).lstrip(b"/") for e in d))
EOF
}
# sent: files transferred by a sync (--json in $OUT; either vocabulary).
sent() {
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get("files_transferred", d.get("files_sent")))' "$OUT"
}
# utf8_clean: whether $T/run.out (de-cli's raw stdout) is valid UTF-8 without control bytes.
utf8_clean() {
    python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
b.decode("utf-8")
assert not any(c < 0x20 and c not in (9, 10) for c in b), b
' "$T/run.out"
}

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n names -q
"$DE_CLI" mount enable -n names -q
MOUNT="$SERVER_ROOT/apps/names/mount"

# An app process writes Latin-1 names into the mount (é = 0xE9, è = 0xE8).
mkdir -p "$MOUNT/dir"$'\xe9'
printf 'latin' >"$MOUNT/caf"$'\xe9'".txt"
printf 'inner' >"$MOUNT/dir"$'\xe9'"/in"$'\xe8'".txt"
printf 'plain' >"$MOUNT/plain.txt"

# ls: escaped for people, never raw bytes on the terminal.
expect_rc 0 "$DE_CLI" ls -n names
assert_eq "$OUT" $'caf\\xE9.txt\ndir\\xE9/\nplain.txt' "ls shows Latin-1 names escaped"
utf8_clean || fail "ls output is valid UTF-8"
expect_rc 0 "$DE_CLI" ls -lR -n names
assert_contains "$OUT" 'dir\xE9/in\xE8.txt' "ls -lR shows the nested name escaped"
utf8_clean || fail "ls -l output is valid UTF-8"
# --json: the percent form with its flag, decoding to the bytes.
expect_rc 0 "$DE_CLI" ls -R --json -n names
assert_eq "$(names '')" "[b'caf\\xe9.txt', b'dir\\xe9', b'dir\\xe9/in\\xe8.txt', b'plain.txt']" \
    "ls --json carries the names losslessly"
assert_contains "$OUT" '"path_encoding":"percent"'

# download by name, into a folder: the same bytes, the same name.
mkdir -p "$T/dl"
expect_rc 0 "$DE_CLI" download "caf"$'\xe9'".txt" "$T/dl/" -n names
assert_eq "$(cat "$T/dl/caf"$'\xe9'".txt" 2>/dev/null)" "latin" "download of a Latin-1 name"
utf8_clean || fail "download's output is valid UTF-8"
expect_rc 0 "$DE_CLI" download -r "dir"$'\xe9' "$T/dl/" -n names --json
assert_eq "$(cat "$T/dl/dir"$'\xe9'"/in"$'\xe8'".txt" 2>/dev/null)" "inner" \
    "download -r of a Latin-1 folder"
assert_contains "$OUT" '"path_encoding":"percent"'

# sync pull: an identical tree, names included.
expect_rc 0 "$DE_CLI" sync pull "$T/pull" -n names
assert_eq "$(cd "$T/pull" && find . -type f | LC_ALL=C sort | od -c | head -20)" \
    "$(cd "$MOUNT" && find . -type f | LC_ALL=C sort | od -c | head -20)" "sync pull names"
assert_eq "$(cat "$T/pull/caf"$'\xe9'".txt" 2>/dev/null)" "latin" "sync pull content"
expect_rc 0 "$DE_CLI" --json sync pull "$T/pull" -n names
assert_eq "$(sent)" "0" "a second pull receives nothing"

# mv and rm by name.
expect_rc 0 "$DE_CLI" mv "caf"$'\xe9'".txt" "moved"$'\xff' -n names
[[ -f "$MOUNT/moved"$'\xff' ]] || fail "mv to a Latin-1 name"
assert_contains "$ERR" 'moved\xFF' "mv's message shows the name escaped"
expect_rc 0 "$DE_CLI" rm "moved"$'\xff' -n names --json
[[ ! -e "$MOUNT/moved"$'\xff' ]] || fail "rm of a Latin-1 name"
expect_rc 0 "$DE_CLI" rm -r "dir"$'\xe9' -n names -y
[[ ! -e "$MOUNT/dir"$'\xe9' ]] || fail "rm -r of a Latin-1 folder"

# Local files with Latin-1 names upload to the same bytes: a small one (PUT),
# a 3 MiB one (tus), and a tree (batch) via upload -r and sync push.
mkdir -p "$T/up/tree"$'\xe9'
printf 'small' >"$T/up/s"$'\xe9'".txt"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$T/up/big"$'\xe9'".bin"
for i in 1 2 3; do printf "t$i" >"$T/up/tree"$'\xe9'"/f$i"$'\xe8'; done
expect_rc 0 "$DE_CLI" upload "$T/up/s"$'\xe9'".txt" / -n names
assert_eq "$(cat "$MOUNT/s"$'\xe9'".txt" 2>/dev/null)" "small" "upload of a Latin-1 file"
expect_rc 0 "$DE_CLI" upload "$T/up/big"$'\xe9'".bin" / -n names --json
cmp -s "$T/up/big"$'\xe9'".bin" "$MOUNT/big"$'\xe9'".bin" || fail "tus upload of a Latin-1 file"
assert_eq "$(names files)" "[b'big\\xe9.bin']" "upload --json names the file losslessly"
expect_rc 0 "$DE_CLI" upload -r "$T/up/tree"$'\xe9' / -n names
assert_eq "$(cat "$MOUNT/tree"$'\xe9'"/f2"$'\xe8' 2>/dev/null)" "t2" "upload -r of a Latin-1 tree"

mkdir -p "$T/push/sub"$'\xe9'
printf 'p1' >"$T/push/sub"$'\xe9'"/p"$'\xe8'
printf 'p2' >"$T/push/top"$'\xff'
expect_rc 0 "$DE_CLI" sync push "$T/push" --remote-dir pushed -n names
assert_eq "$(cat "$MOUNT/pushed/sub"$'\xe9'"/p"$'\xe8' 2>/dev/null)" "p1" "sync push of Latin-1 names"
assert_eq "$(cat "$MOUNT/pushed/top"$'\xff' 2>/dev/null)" "p2" "sync push of a Latin-1 file"
expect_rc 0 "$DE_CLI" --json sync push "$T/push" --remote-dir pushed -n names
assert_eq "$(sent)" "0" "a second push sends nothing"
# A dry run's plan names them losslessly too.
expect_rc 0 "$DE_CLI" --json sync push "$T/push" --remote-dir pushed2 -n names --dry-run
utf8_clean || fail "the dry run's plan is valid UTF-8"
python3 -c 'import json,sys; json.loads(sys.argv[1])' "$OUT" || fail "the dry run's plan is JSON"

finish

#!/usr/bin/env bash
# rclone's webdav backend (Debian's rclone, vendor=other) against de-server's
# WebDAV (issue 16): copy of a tree, lsjson -R, check, sync with deletes,
# moveto (a file and a folder, server-side MOVE), delete, and a second sync
# that transfers nothing. Every step is checked on the mount's disk content.
#
# vendor=other has no hash (rclone reads checksums only from owncloud/nextcloud
# props) and no settable modification time, so rclone compares by size only:
# `check` runs with --size-only (and once with --download, which compares the
# bytes), and every local modification below changes the file's size.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/dav_helpers.sh"
command -v rclone >/dev/null || { echo "FAIL: rclone is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

dav_setup

# A private configuration: an empty config file of its own and the remote
# `dav:` from the environment (never the user's rclone.conf). No retries: a
# server error must fail the step, not be papered over by a second attempt.
dav_rclone_remote
rc() { run rclone --retries 1 --low-level-retries 1 --use-json-log -v "$@"; }
# stat_of FIELD: FIELD of the final stats of the last rc call (--use-json-log).
stat_of() {
    python3 -c 'import json, sys
last = None
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if isinstance(rec, dict) and "stats" in rec:
        last = rec["stats"]
print(last[sys.argv[2]] if last else "none")' "$T/run.err" "$1"
}
# same_tree WHAT: the mount's tree/ holds exactly the source, byte for byte.
same_tree() {
    CHECKS=$((CHECKS + 1))
    diff -r "$T/src" "$MOUNT/tree" >"$T/diff" 2>&1 || fail "$1: the mount differs from the source: $(head -c 1500 "$T/diff")"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- the source tree: 300 small files in nested folders, a 3 MiB file, an
# empty file, names with spaces, UTF-8 and URL-special characters ---------------
mkdir -p "$T/src"
for a in 1 2 3 4 5; do
    for b in 1 2 3 4 5 6; do
        mkdir -p "$T/src/d$a/s$b"
        for c in $(seq 1 10); do printf 'file %s/%s/%s\n%*s\n' "$a" "$b" "$c" "$((a * b * c))" x >"$T/src/d$a/s$b/f$c.txt"; done
    done
done
head -c 3145728 /dev/urandom >"$T/src/big.bin"
: >"$T/src/empty"
mkdir -p "$T/src/dir with space/ünïcødé 名前"
printf 'spaces and UTF-8\n' >"$T/src/dir with space/ünïcødé 名前/café crème €.txt"
printf 'specials\n' >"$T/src/dir with space/a#b%%c&d+e;f=g [x] (y) 'q'.txt"
nsrc=$(find "$T/src" -type f | wc -l)

# ---- copy --------------------------------------------------------------------------
start=$(date +%s.%N)
rc copy "$T/src" dav:tree
CHECKS=$((CHECKS + 1))
[[ $RC == 0 ]] || fail "rclone copy: exit $RC"
echo "rclone copy of $nsrc files: $(python3 -c "import sys; print(round($(date +%s.%N) - $start, 1))") s"
assert_eq "$(stat_of transfers)" "$nsrc" "copy transferred every file"
assert_eq "$(stat_of errors)" "0" "copy without errors"
same_tree "after copy"
assert_eq "$(sha "$MOUNT/tree/big.bin")" "$(sha "$T/src/big.bin")" "the 3 MiB file's SHA-256 on the mount"

# ---- lsjson -R: the same names and sizes as the source ---------------------------
listing() {  # listing SOURCE: "D|F path size" lines, sorted
    run rclone lsjson -R "$1"
    [[ $RC == 0 ]] || { fail "rclone lsjson -R $1: exit $RC"; return; }
    python3 -c 'import json, sys
for e in json.load(sys.stdin):
    print("D" if e["IsDir"] else "F", e["Path"], -1 if e["IsDir"] else e["Size"])' <<<"$OUT" | LC_ALL=C sort
}
listing "$T/src" >"$T/ls.local"
listing dav:tree >"$T/ls.dav"
CHECKS=$((CHECKS + 1))
diff "$T/ls.local" "$T/ls.dav" >"$T/ls.diff" || fail "lsjson -R differs from the source: $(head -c 1500 "$T/ls.diff")"
assert_eq "$(grep -c '^F ' "$T/ls.dav")" "$nsrc" "lsjson -R lists every file"
assert_contains "$(cat "$T/ls.dav")" "F dir with space/ünïcødé 名前/café crème €.txt 17" "a UTF-8 name and its size"

# ---- check: sizes, then bytes; and a difference is noticed -------------------------
rc check "$T/src" dav:tree --size-only
assert_eq "$RC" "0" "rclone check --size-only"
rc check "$T/src" dav:tree --download
assert_eq "$RC" "0" "rclone check --download (byte for byte)"
printf 'changed through WebDAV, longer than before\n' >"$T/changed"
dav PUT /tree/d1/s1/f1.txt -T "$T/changed"
assert_contains "200 201 204" "$CODE" "a PUT behind rclone's back"
rc check "$T/src" dav:tree --size-only
assert_eq "$RC" "1" "rclone check notices a different size"
assert_contains "$ERR" "d1/s1/f1.txt" "and names the file"

# ---- sync with deletes ---------------------------------------------------------------
rm -r "$T/src/d5"                                   # a whole folder tree
rm "$T/src/d4/s2/f3.txt" "$T/src/empty"              # single files
printf 'modified, so longer\n' >>"$T/src/d2/s3/f4.txt" # size changes (vendor other: size only)
head -c 1000000 /dev/urandom >"$T/src/big.bin"       # smaller
mkdir -p "$T/src/new folder"
printf 'new\n' >"$T/src/new folder/n.txt"
rc sync "$T/src" dav:tree
assert_eq "$RC" "0" "rclone sync"
assert_eq "$(stat_of errors)" "0" "sync without errors"
CHECKS=$((CHECKS + 1))
(($(stat_of deletes) >= 62)) || fail "sync deleted $(stat_of deletes) files, want at least 62"
same_tree "after sync"
[[ ! -e "$MOUNT/tree/d5" ]] || fail "sync left the deleted folder d5 on the mount"
assert_eq "$(sha "$MOUNT/tree/d1/s1/f1.txt")" "$(sha "$T/src/d1/s1/f1.txt")" "sync put back the file changed behind its back"

# ---- moveto: a file, then a folder (server-side MOVE) ------------------------------
want=$(sha "$MOUNT/tree/d1/s2/f5.txt")
rc moveto dav:tree/d1/s2/f5.txt "dav:tree/moved here/f5 renamed.txt"
assert_eq "$RC" "0" "rclone moveto (a file)"
assert_eq "$(stat_of renames)" "1" "moved on the server, not copied"
[[ ! -e "$MOUNT/tree/d1/s2/f5.txt" ]] || fail "moveto left its source"
assert_eq "$(sha "$MOUNT/tree/moved here/f5 renamed.txt" 2>/dev/null)" "$want" "the moved file's bytes"
want=$(sha "$MOUNT/tree/d1/s2/f6.txt")
rc moveto dav:tree/d1/s2/f6.txt dav:tree/d1/s2/f7.txt
assert_eq "$RC" "0" "rclone moveto onto an existing file"
assert_eq "$(sha "$MOUNT/tree/d1/s2/f7.txt")" "$want" "the file moved onto holds the moved bytes"
[[ ! -e "$MOUNT/tree/d1/s2/f6.txt" ]] || fail "moveto onto a file left its source"
rc moveto dav:tree/d2 dav:tree/d2-renamed
assert_eq "$RC" "0" "rclone moveto (a folder)"
[[ ! -e "$MOUNT/tree/d2" ]] || fail "moveto of a folder left its source"
CHECKS=$((CHECKS + 1))
diff -r "$T/src/d2" "$MOUNT/tree/d2-renamed" >/dev/null 2>&1 || fail "the moved folder's content"

# ---- delete: the files below a path, folders stay --------------------------------
rc delete dav:tree/d3
assert_eq "$RC" "0" "rclone delete"
assert_eq "$(find "$MOUNT/tree/d3" -type f | wc -l)" "0" "delete removed every file below d3"
assert_eq "$(find "$MOUNT/tree/d3" -mindepth 1 -type d | wc -l)" "6" "and left its folders"
assert_eq "$(find "$MOUNT/tree/d4" -type f | wc -l)" "59" "and nothing beside it"

# ---- sync back, then a sync with nothing to do ---------------------------------------
rc sync "$T/src" dav:tree
assert_eq "$RC" "0" "rclone sync (restore)"
same_tree "after the restoring sync"
find "$MOUNT/tree" -type f -printf '%i %s %P\n' | LC_ALL=C sort >"$T/inodes.before"
rc sync "$T/src" dav:tree
assert_eq "$RC" "0" "rclone sync (nothing to do)"
assert_eq "$(stat_of transfers)" "0" "the second sync transferred nothing"
assert_eq "$(stat_of deletes)" "0" "and deleted nothing"
assert_eq "$(stat_of checks)" "$(find "$T/src" -type f | wc -l)" "it checked every file"
assert_contains "$ERR" "There was nothing to transfer" "rclone says so"
find "$MOUNT/tree" -type f -printf '%i %s %P\n' | LC_ALL=C sort >"$T/inodes.after"
CHECKS=$((CHECKS + 1))
cmp -s "$T/inodes.before" "$T/inodes.after" || fail "the no-op sync rewrote files on the mount"
same_tree "after the no-op sync"
finish

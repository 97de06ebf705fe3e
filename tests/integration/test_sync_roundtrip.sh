#!/usr/bin/env bash
# sync push then pull into an empty folder gives an identical tree (paths,
# sizes, SHA-256, mtimes); a second run transfers nothing; --checksum;
# include/exclude; the symlink policy; files written into the server's mount
# by an outside process are seen by the next pull.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@"; }
APP=sales
expect_rc 0 cli apps create -n "$APP"
expect_rc 0 cli apps update -n "$APP" --persistent-filesystem
MOUNT="$SERVER_ROOT/apps/$APP/mount"

# tree DIR: one line per file: path size sha256 mtime(ns); folders as "path/".
tree() {
    (cd "$1" && find . -mindepth 1 \( -type d -printf '%P/\n' \) -o \( -type f -printf '%P\n' \) |
        LC_ALL=C sort | while IFS= read -r p; do
            if [[ "$p" == */ ]]; then
                echo "$p"
            else
                echo "$p $(stat -c %s "$p") $(sha256sum <"$p" | cut -c1-64) $(stat -c %.9Y "$p")"
            fi
        done)
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# The local-development layout: the app folder with ../mount beside it.
WORK="$T/work"
mkdir -p "$WORK/$APP" "$WORK/mount/data/2026" "$WORK/mount/empty" "$WORK/mount/deep/a/b/c"
head -c 100000 /dev/urandom >"$WORK/mount/data/big.bin"
echo "x" >"$WORK/mount/data/2026/jan.csv"
echo "y,z" >"$WORK/mount/data/2026/feb.csv"
: >"$WORK/mount/zero-bytes"
echo "deep" >"$WORK/mount/deep/a/b/c/leaf.txt"
echo "space" >"$WORK/mount/name with spaces.txt"
echo "utf8" >"$WORK/mount/données-é.txt"
for i in $(seq 1 40); do head -c $((i * 37)) /dev/urandom >"$WORK/mount/data/part-$i.dat"; done
touch -d '2020-01-02 03:04:05.123456789' "$WORK/mount/data/2026/jan.csv"

# --- push from the app folder: LOCAL_DIR defaults to ../mount ---
cd "$WORK/$APP"
expect_rc 0 cli sync push -n "$APP"
assert_contains "$ERR" "47 files" "push summary counts the files"
assert_eq "$(tree "$MOUNT")" "$(tree "$WORK/mount")" "the server's mount equals the local tree"

# --- a second push transfers nothing ---
expect_rc 0 cli --json sync push -n "$APP"
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "0" "no-op push sends nothing"
assert_eq "$(json_field "['files_unchanged']" <<<"$OUT")" "47" "no-op push skips every file"

# --- pull into an empty folder gives an identical tree ---
expect_rc 0 cli sync pull "$T/copy" -n "$APP"
assert_eq "$(tree "$T/copy")" "$(tree "$WORK/mount")" "pulled tree equals the pushed tree"
expect_rc 0 cli --json sync pull "$T/copy" -n "$APP"
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "0" "no-op pull receives nothing"
expect_rc 0 cli --json sync push "$T/copy" -n "$APP"
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "0" "pushing the pulled copy sends nothing"

# --- --checksum: a no-op, then a same-size same-mtime edit only it notices ---
expect_rc 0 cli --json sync push -n "$APP" --checksum
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "0" "checksum no-op push sends nothing"
old_mtime=$(stat -c %.9Y "$WORK/mount/data/2026/feb.csv")
echo "q,r" >"$WORK/mount/data/2026/feb.csv"
touch -d "@$old_mtime" "$WORK/mount/data/2026/feb.csv"
expect_rc 0 cli --json sync push -n "$APP"
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "0" "size+mtime does not see the edit"
expect_rc 0 cli --json sync push -n "$APP" --checksum
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "1" "--checksum sends the edited file"
assert_eq "$(cat "$MOUNT/data/2026/feb.csv")" "q,r" "edited content reached the server"
expect_rc 0 cli --json sync pull "$T/copy" -n "$APP" --checksum
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "1" "--checksum pull fetches the edit"
assert_eq "$(cat "$T/copy/data/2026/feb.csv")" "q,r" "edited content reached the copy"
expect_rc 0 cli --json sync pull "$T/copy" -n "$APP" --checksum
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "0" "second --checksum pull is a no-op"

# --- files written into the server's mount by an outside process ---
echo "from the app" >"$MOUNT/written-by-app.txt"
mkdir -p "$MOUNT/worker/out"
echo "result" >"$MOUNT/worker/out/r.json"
echo "changed by the app, longer now" >"$MOUNT/data/2026/jan.csv"
expect_rc 0 cli --json sync pull "$T/copy" -n "$APP"
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "3" "pull sees the outside writes"
assert_eq "$(cat "$T/copy/written-by-app.txt")" "from the app" "new outside file pulled"
assert_eq "$(tree "$T/copy")" "$(tree "$MOUNT")" "copy equals the mount after outside writes"

# --- include / exclude ---
mkdir -p "$T/filt/cache"
echo a >"$T/filt/keep.csv"
echo b >"$T/filt/skip.tmp"
echo c >"$T/filt/cache/huge.bin"
expect_rc 0 cli sync push "$T/filt" -n "$APP" --remote-dir filt --exclude '*.tmp' --exclude cache
[[ -f "$MOUNT/filt/keep.csv" ]] || fail "included file not pushed"
[[ ! -e "$MOUNT/filt/skip.tmp" && ! -e "$MOUNT/filt/cache" ]] || fail "excluded paths pushed"
CHECKS=$((CHECKS + 2))
expect_rc 0 cli sync pull "$T/filt2" -n "$APP" --remote-dir filt --include '*.csv'
assert_eq "$(cd "$T/filt2" && find . -type f | sort)" "./keep.csv" "include picks only csv"

# --- symlinks: skipped with a warning by default, followed on request ---
mkdir -p "$T/links/real"
echo target >"$T/links/real/t.txt"
ln -s real/t.txt "$T/links/link.txt"
expect_rc 0 cli --json sync push "$T/links" -n "$APP" --remote-dir links
assert_eq "$(json_field "['symlinks_skipped']" <<<"$OUT")" "1" "symlink skipped and reported"
[[ ! -e "$MOUNT/links/link.txt" ]] || fail "a skipped symlink reached the server"
CHECKS=$((CHECKS + 1))
expect_rc 0 cli sync push "$T/links" -n "$APP" --remote-dir links
assert_contains "$ERR" "symlink" "human summary mentions the skipped symlink"
expect_rc 0 cli --json sync push "$T/links" -n "$APP" --remote-dir links --follow-symlinks
assert_eq "$(json_field "['symlinks_followed']" <<<"$OUT")" "1" "symlink followed"
assert_eq "$(cat "$MOUNT/links/link.txt")" "target" "followed symlink uploaded as a file"

# --- pulling a missing remote folder is an error naming it ---
expect_rc 3 cli sync pull "$T/none" -n "$APP" --remote-dir no/such/dir
assert_contains "$ERR" "no/such/dir" "error names the missing folder"

finish

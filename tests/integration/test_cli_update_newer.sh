#!/usr/bin/env bash
# --update: replaces files that changed, but never a file newer than the one
# replacing it (rsync's and cp -u's rule) unless --force; identical files are
# never sent (upload) or fetched (download).
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
KEY=$(add_user alice)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@" </dev/null; }
expect_rc 0 cli apps create -n sales
expect_rc 0 cli mount enable -n sales
MOUNT="$SERVER_ROOT/apps/sales/mount"

# --- upload ---
mkdir -p "$T/l"
echo "new remote" >"$T/l/a.txt"
echo "b1" >"$T/l/b.txt"
expect_rc 0 cli upload "$T/l/a.txt" "$T/l/b.txt" / -n sales
# Older local content: a.txt is older than the remote; b.txt newer.
echo "old local" >"$T/l/a.txt"
touch -d '2 days ago' "$T/l/a.txt"
echo "b2 changed" >"$T/l/b.txt"
touch -d '+1 hour' "$T/l/b.txt"
expect_rc 5 cli upload "$T/l/a.txt" "$T/l/b.txt" / -n sales
assert_contains "$ERR" "pass --update"
expect_rc 0 cli upload "$T/l/a.txt" "$T/l/b.txt" / -n sales --update --dry-run --json
assert_eq "$(jget '[f["action"] for f in d["files"]]')" "['skipped', 'would replace']" "dry run actions"
expect_rc 0 cli upload "$T/l/a.txt" "$T/l/b.txt" / -n sales --update
assert_contains "$ERR" "kept 1 remote file newer than the local one (sales:/a.txt)"
assert_contains "$ERR" "pass --force"
assert_eq "$(cat "$MOUNT/a.txt")" "new remote" "--update replaced a newer remote file"
assert_eq "$(cat "$MOUNT/b.txt")" "b2 changed" "--update did not replace an older remote file"
# Identical: nothing sent, with or without --update.
expect_rc 0 cli upload "$T/l/b.txt" / -n sales --update --json
assert_eq "$(jget 'd["files_unchanged"]')" "1" "an identical file is unchanged"
expect_rc 0 cli upload "$T/l/a.txt" / -n sales --update --force
assert_eq "$(cat "$MOUNT/a.txt")" "old local" "--update --force replaces a newer remote file"

# --- download, the other way round ---
mkdir -p "$T/d"
echo "remote v1" >"$MOUNT/r.txt"
touch -d '1 day ago' "$MOUNT/r.txt"
echo "remote s" >"$MOUNT/s.txt"
touch -d '1 day ago' "$MOUNT/s.txt"
echo "newer local" >"$T/d/r.txt"          # newer than the remote r.txt: kept
echo "old local s" >"$T/d/s.txt"
touch -d '3 days ago' "$T/d/s.txt"        # older than the remote s.txt: replaced
expect_rc 5 cli download r.txt s.txt "$T/d" -n sales
expect_rc 0 cli download r.txt s.txt "$T/d" -n sales --update
assert_contains "$ERR" "kept 1 local file newer than the remote one ($T/d/r.txt)"
assert_eq "$(cat "$T/d/r.txt")" "newer local" "download --update replaced a newer local file"
assert_eq "$(cat "$T/d/s.txt")" "remote s" "download --update did not replace an older local file"
# Identical local files are not fetched, even without --update.
expect_rc 0 cli download s.txt "$T/d" -n sales --json
assert_eq "$(jget 'len(d["files"])')" "0" "an identical local file was fetched"
expect_rc 0 cli download r.txt "$T/d" -n sales --update --force
assert_eq "$(cat "$T/d/r.txt")" "remote v1" "--update --force replaces a newer local file"

# The help says what --update means beside rsync's.
expect_rc 0 "$DE_CLI" upload --help
assert_contains "$OUT" "rsync --update"
expect_rc 0 "$DE_CLI" download --help
assert_contains "$OUT" "rsync --update"

finish

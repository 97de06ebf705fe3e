#!/usr/bin/env bash
# Destructive actions without a terminal (stdin is /dev/null): each is refused
# with exit 2 and a hint to pass -y (or --dry-run), and deletes nothing; with
# -y it happens. Also the idempotent state changes (disable twice, enable
# twice, apps update to the current setting), which exit 0 with a note.
# The prompt on a terminal is test_cli_confirm_tty.sh.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@" </dev/null; }
expect_rc 0 cli apps create -n sales
expect_rc 0 cli mount enable -n sales
MOUNT="$SERVER_ROOT/apps/sales/mount"

# --- sync push --delete ---
mkdir -p "$T/src" "$MOUNT/old/deep"
echo keep >"$T/src/keep.txt"
for i in 1 2 3; do echo "x$i" >"$MOUNT/old/deep/x$i.txt"; done
echo y >"$MOUNT/stale.txt"
expect_rc 2 cli sync push "$T/src" -n sales --delete
assert_contains "$ERR" "refusing to delete 4 files and 1 folder" "the refusal has the counts"
assert_contains "$ERR" "pass -y to confirm, or --dry-run to see the list"
[[ -f "$MOUNT/stale.txt" && -f "$MOUNT/old/deep/x1.txt" ]] || fail "a refused --delete deleted"
[[ ! -e "$MOUNT/keep.txt" ]] || fail "a refused sync transferred anyway"
# --dry-run never asks and lists what would go.
expect_rc 0 cli sync push "$T/src" -n sales --delete --dry-run
assert_contains "$OUT" "stale.txt"
expect_rc 0 cli sync push "$T/src" -n sales --delete -y
[[ ! -e "$MOUNT/stale.txt" && ! -e "$MOUNT/old" && -f "$MOUNT/keep.txt" ]] ||
    fail "sync push --delete -y did not make the mount match"
# Nothing to delete: nothing to confirm.
expect_rc 0 cli sync push "$T/src" -n sales --delete

# --- sync pull --delete deletes local files ---
mkdir -p "$T/dst"
echo mine >"$T/dst/local-only.txt"
expect_rc 2 cli sync pull "$T/dst" -n sales --delete
assert_contains "$ERR" "refusing to delete 1 local file"
assert_contains "$ERR" "$T/dst"
[[ -f "$T/dst/local-only.txt" ]] || fail "a refused pull --delete deleted a local file"
expect_rc 0 cli sync pull "$T/dst" -n sales --delete -y
[[ ! -e "$T/dst/local-only.txt" && -f "$T/dst/keep.txt" ]] || fail "pull --delete -y"

# --- rm -r ---
mkdir -p "$MOUNT/cache/a"
for i in 1 2 3; do echo "$i" >"$MOUNT/cache/a/$i.bin"; done
expect_rc 2 cli rm -r cache -n sales
assert_contains "$ERR" "refusing to delete 3 files and 2 folders"
assert_contains "$ERR" "pass -y"
[[ -f "$MOUNT/cache/a/1.bin" ]] || fail "a refused rm -r deleted"
expect_rc 0 cli rm -r cache -n sales -y
[[ ! -e "$MOUNT/cache" ]] || fail "rm -r -y kept the folder"

# --- mount disable: refused, then done, then a no-op ---
expect_rc 2 cli mount disable -n sales
assert_contains "$ERR" "refusing to turn off the persistent filesystem of 'sales', deleting its 1 file"
assert_contains "$ERR" "pass -y"
[[ -f "$MOUNT/keep.txt" ]] || fail "a refused disable deleted"
expect_rc 0 cli mount disable -n sales -y
expect_rc 0 cli mount disable -n sales -y
assert_contains "$ERR" "already off; nothing changed"
expect_rc 0 cli --json mount disable -n sales
assert_contains "$OUT" '"changed":false'
# enable twice, and apps update to the setting the app has: exit 0 with a note.
expect_rc 0 cli mount enable -n sales
expect_rc 0 cli mount enable -n sales
assert_contains "$ERR" "already on; nothing changed"
expect_rc 0 cli apps update -n sales --persistent-filesystem
assert_contains "$ERR" "already on; nothing changed"
expect_rc 0 cli apps update -n sales --no-persistent-filesystem -y
expect_rc 0 cli apps update -n sales --no-persistent-filesystem
assert_contains "$ERR" "already off; nothing changed"

# --- apps delete: refused without -y; a missing app stays an error ---
expect_rc 2 cli apps delete -n sales
assert_contains "$ERR" "refusing to delete app 'sales'"
expect_rc 0 cli apps exists -n sales
expect_rc 3 cli apps delete -n no-such-app -y
expect_rc 0 cli apps delete -n sales -y
expect_rc 3 cli apps exists -n sales

finish

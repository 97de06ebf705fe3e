#!/usr/bin/env bash
# de-cli predeploy --push against a real de-server: the script's files end up
# in the app's mount (same bytes); pushing never deletes unless --delete; a
# failing or timed-out script pushes nothing; credentials, the app and its
# mount are checked before the script runs; --json and --dry-run.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice \
    DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@"; }
APP=sales
expect_rc 0 cli apps create -n "$APP"
expect_rc 0 cli apps update -n "$APP" --persistent-filesystem
REMOTE="$SERVER_ROOT/apps/$APP/mount"

W="$T/work"
mkdir -p "$W/$APP"
cd "$W"
printf '[project]\nname = "sales"\n\n[scripts]\npredeploy = "fetch.sh"\n' >"$APP/project.toml"
printf 'web: gunicorn app:server\n' >"$APP/Procfile"
# json EXPR: evaluates a Python expression over the JSON document on stdin (as d).
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
write_script() { printf '%s\n' "$1" >"$APP/fetch.sh"; }
write_script 'set -euo pipefail
mkdir -p ../mount/data/daily
seq 1 50000 > ../mount/data/numbers.csv
head -c 3000000 /dev/urandom > ../mount/data/blob.bin
for d in 1 2 3; do echo "day $d" > ../mount/data/daily/$d.csv; done
echo "fetch: done"'

# tree DIR: path size sha256 for every file, sorted.
tree() { (cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r p; do
    echo "$p $(stat -c %s "$p") $(sha256sum <"$p" | cut -c1-64)"; done); }

# --- --dry-run --push: says what would happen, changes nothing anywhere ---
expect_rc 0 cli predeploy "$APP" --push -n "$APP" --dry-run
assert_contains "$OUT" "would run bash fetch.sh"
assert_contains "$OUT" "to the mount of '$APP' on $SERVER_URL (sync push; nothing is deleted)"
[[ ! -e "$W/mount" ]] || fail "--dry-run created the mount folder"
assert_eq "$(tree "$REMOTE")" "" "--dry-run pushed nothing"

# --- run and push: the script's files are in the app's mount ---
expect_rc 0 cli predeploy "$APP" --push -n "$APP"
assert_contains "$OUT$ERR" "fetch: done"
assert_contains "$ERR" "predeploy: pushed 5 files"
assert_eq "$(tree "$REMOTE")" "$(tree "$W/mount")" "the app's mount equals the local mount folder"
assert_eq "$(tree "$REMOTE" | wc -l)" "5" "five files pushed"

# --- pushing never deletes without --delete ---
echo "written on the platform" >"$REMOTE/keep.txt"
rm "$W/mount/data/daily/3.csv"
write_script 'echo "again" > ../mount/data/again.txt'
expect_rc 0 cli predeploy "$APP" --push -n "$APP"
assert_eq "$(cat "$REMOTE/keep.txt")" "written on the platform" "a remote-only file survives --push"
assert_eq "$(cat "$REMOTE/data/daily/3.csv")" "day 3" "a file removed locally survives --push"
assert_eq "$(cat "$REMOTE/data/again.txt")" "again" "the new file is pushed"

# --delete needs the app named with -n, then makes the mount match.
expect_rc 2 cli predeploy "$APP" --push --delete
assert_contains "$ERR" "pass -n APP"
expect_rc 0 cli predeploy "$APP" --push -n "$APP" --delete
assert_eq "$(tree "$REMOTE")" "$(tree "$W/mount")" "--delete makes the mount match"
CHECKS=$((CHECKS + 1))
[[ -e "$REMOTE/keep.txt" ]] && fail "--delete kept a file the mount folder lacks"

# --- a failing script pushes nothing ---
before=$(tree "$REMOTE")
write_script 'echo "half" > ../mount/data/half-done.txt; echo "failing" >&2; exit 3'
expect_rc 3 cli predeploy "$APP" --push -n "$APP"
assert_contains "$ERR" "fetch.sh failed with exit status 3; nothing was pushed"
assert_eq "$(tree "$REMOTE")" "$before" "nothing pushed after a failure"
CHECKS=$((CHECKS + 1))
[[ -e "$REMOTE/data/half-done.txt" ]] && fail "a failed script's file was pushed"

# ...and neither does a timed-out one.
write_script 'echo x > ../mount/data/slow.txt; sleep 300'
expect_rc 124 cli predeploy "$APP" --push -n "$APP" --timeout 1s
assert_contains "$ERR" "nothing was pushed"
assert_eq "$(tree "$REMOTE")" "$before" "nothing pushed after a timeout"

# --- checked before the script runs: credentials, the app, its mount ---
write_script 'echo ran > ../mount/ran.txt'
rm -f "$W/mount/ran.txt"
DASH_ENTERPRISE_PASSWORD=wrong expect_rc 4 cli predeploy "$APP" --push -n "$APP"
expect_rc 4 env -u DASH_ENTERPRISE_PASSWORD "$DE_CLI" --no-keyfile predeploy "$APP" --push -n "$APP"
assert_contains "$ERR" "no credentials"
expect_rc 3 cli predeploy "$APP" --push -n no-such-app
expect_rc 0 cli apps create -n cold
expect_rc 5 cli predeploy "$APP" --push -n cold
assert_contains "$ERR" "de-cli mount enable -n cold"
CHECKS=$((CHECKS + 1))
[[ -e "$W/mount/ran.txt" ]] && fail "the script ran although the push could not happen"

# Another user's app is not reachable.
BOB_KEY=$(add_user bob)
DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD="$BOB_KEY" \
    expect_rc 3 cli predeploy "$APP" --push -n "$APP"

# --- the app defaults to the project folder's name ($W holds the app folder
# with project.toml and mount/ beside it: the platform's layout), said so ---
expect_rc 3 cli predeploy "$APP" --push
assert_contains "$ERR" "'work' (from the project folder $W; pass -n to choose)"

# --- --json: one document with the run and the push ---
write_script 'echo "noise on stdout"; echo v2 > ../mount/data/json.txt'
expect_rc 0 cli --json predeploy "$APP" --push -n "$APP"
assert_eq "$(json 'd["exit_status"], d["push"]["app"], d["push"]["files_transferred"] >= 1,
    d["push"]["files_failed"]' <<<"$OUT")" \
    "0 $APP True 0" "--json run + push document"
assert_not_contains "$OUT" "noise on stdout"
assert_eq "$(cat "$REMOTE/data/json.txt")" "v2" "pushed with --json"

# --- the keyfile was never written (--no-keyfile) ---
# (The local hash cache, in $XDG_CACHE_HOME, holds file hashes only.)
assert_eq "$(find "$HOME" -type f -not -path "$XDG_CACHE_HOME/*" | wc -l)" "0" \
    "no keyfile with --no-keyfile"

finish

#!/usr/bin/env bash
# sync's safety: each --delete guard, --dry-run changes nothing on either side,
# plan/apply (and apply refused after a change on either side), and a failed
# transfer mid-sync leaves both sides intact and deletes nothing.
source "$(dirname "$0")/harness.sh"

# A small quota so that one upload can be made to fail on purpose.
start_server --quota 300000
KEY=$(add_user bob)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@"; }
APP=lab
expect_rc 0 cli apps create -n "$APP"
expect_rc 0 cli apps update -n "$APP" --persistent-filesystem
MOUNT="$SERVER_ROOT/apps/$APP/mount"

state() {
    (cd "$1" && find . -mindepth 1 -printf '%P %y %s %T@\n' | LC_ALL=C sort)
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

L="$T/local"
mkdir -p "$L/sub"
for i in 1 2 3; do echo "file $i" >"$L/f$i.txt"; done
echo "inner" >"$L/sub/inner.txt"
expect_rc 0 cli sync push "$L" -n "$APP"

# Extra files on the server that --delete would remove.
for i in 1 2 3; do echo "extra $i" >"$MOUNT/extra$i.txt"; done

# --- --delete needs -n (a destructive command never guesses the app) ---
mkdir -p "$T/$APP"
cd "$T/$APP"
expect_rc 2 cli sync push "$L" --delete
assert_contains "$ERR" "-n APP" "the refusal says to pass -n"
cd "$T"

# --- max-delete ---
before=$(state "$MOUNT")
expect_rc 5 cli sync push "$L" -n "$APP" --delete -y --max-delete 2
assert_contains "$ERR" "--max-delete 3" "the refusal says how to allow it"
assert_eq "$(state "$MOUNT")" "$before" "refused --delete changed nothing"
expect_rc 0 cli --json sync push "$L" -n "$APP" --delete -y --max-delete 3
assert_eq "$(json_field "['files_deleted']" <<<"$OUT")" "3" "allowed delete removed the extras"
[[ ! -e "$MOUNT/extra1.txt" ]] || fail "extra file survived --delete"
CHECKS=$((CHECKS + 1))

# --- the default limit ---
mkdir -p "$MOUNT/many"
for i in $(seq 1 1001); do : >"$MOUNT/many/$i"; done
before=$(state "$MOUNT")
expect_rc 5 cli sync push "$L" -n "$APP" --delete -y
assert_contains "$ERR" "limit of 1000" "default max-delete is 1000"
assert_eq "$(state "$MOUNT")" "$before" "default limit refused and changed nothing"
rm -rf "$MOUNT/many"

# --- an empty source refuses --delete unless --force ---
mkdir -p "$T/empty"
before=$(state "$MOUNT")
expect_rc 5 cli sync push "$T/empty" -n "$APP" --delete -y
assert_contains "$ERR" "--force" "empty-source refusal mentions --force"
assert_eq "$(state "$MOUNT")" "$before" "empty source deleted nothing"

# --- a missing source refuses --delete; a mistyped path never wipes the mount ---
expect_rc 5 cli sync push "$T/no-such-dir" -n "$APP" --delete -y
assert_contains "$ERR" "does not exist" "missing-source refusal says so"
assert_eq "$(state "$MOUNT")" "$before" "missing source deleted nothing"
expect_rc 3 cli sync push "$T/no-such-dir" -n "$APP"

# --- pull with --delete from an empty remote folder is refused as well ---
expect_rc 0 cli mkdir -n "$APP" emptydir
mkdir -p "$T/pulled"
echo keep >"$T/pulled/precious.txt"
expect_rc 5 cli sync pull "$T/pulled" -n "$APP" --remote-dir emptydir --delete -y
assert_eq "$(cat "$T/pulled/precious.txt")" "keep" "empty remote source deleted nothing locally"

# --- --force really does make the destination identical (empty) ---
expect_rc 0 cli mkdir -n "$APP" scratch
expect_rc 0 cli sync push "$T/pulled" -n "$APP" --remote-dir scratch
expect_rc 0 cli --json sync push "$T/empty" -n "$APP" --remote-dir scratch --delete -y --force
assert_eq "$(json_field "['files_deleted']" <<<"$OUT")" "1" "--force deletes with an empty source"

# --- --dry-run changes nothing on either side ---
echo "new local" >"$L/new.txt"
echo "changed" >"$L/f1.txt"
echo "remote only" >"$MOUNT/remote-only.txt"
lb=$(state "$L")
rb=$(state "$MOUNT")
expect_rc 0 cli sync push "$L" -n "$APP" --delete --dry-run
assert_contains "$OUT" "new.txt" "dry run lists the upload"
assert_contains "$OUT" "remote-only.txt" "dry run lists the delete"
assert_eq "$(state "$L")" "$lb" "dry-run push left the local side alone"
assert_eq "$(state "$MOUNT")" "$rb" "dry-run push left the server alone"
expect_rc 0 cli sync pull "$L" -n "$APP" --delete --dry-run
assert_eq "$(state "$L")" "$lb" "dry-run pull left the local side alone"
assert_eq "$(state "$MOUNT")" "$rb" "dry-run pull left the server alone"

# --- plan / apply ---
expect_rc 0 cli --json sync push "$L" -n "$APP" --delete --dry-run
echo "$OUT" >"$T/plan.json"
assert_eq "$(json_field "['format']" <"$T/plan.json")" "de-sync-plan/1" "plan file format"
assert_eq "$(state "$MOUNT")" "$rb" "writing a plan changed nothing"
expect_rc 0 cli --json sync --apply "$T/plan.json"
assert_eq "$(json_field "['files_transferred']" <<<"$OUT")" "2" "apply sent new.txt and f1.txt"
assert_eq "$(json_field "['files_deleted']" <<<"$OUT")" "1" "apply deleted remote-only.txt"
assert_eq "$(cat "$MOUNT/new.txt")" "new local" "applied upload landed"
[[ ! -e "$MOUNT/remote-only.txt" ]] || fail "applied delete did not happen"
CHECKS=$((CHECKS + 1))

# apply refused after a local change
echo "remote only" >"$MOUNT/remote-only.txt"
expect_rc 0 cli --json sync push "$L" -n "$APP" --delete --dry-run
echo "$OUT" >"$T/plan2.json"
echo "edited after planning" >"$L/f2.txt"
rb=$(state "$MOUNT")
expect_rc 5 cli sync --apply "$T/plan2.json"
assert_contains "$ERR" "changed since" "apply refusal explains why"
assert_eq "$(state "$MOUNT")" "$rb" "refused apply changed nothing"

# apply refused after a remote change (an app process writes the mount)
expect_rc 0 cli --json sync push "$L" -n "$APP" --delete --dry-run
echo "$OUT" >"$T/plan3.json"
echo "the app wrote this" >"$MOUNT/app-output.txt"
rb=$(state "$MOUNT")
expect_rc 5 cli sync --apply "$T/plan3.json"
assert_eq "$(state "$MOUNT")" "$rb" "refused apply (remote change) changed nothing"
[[ -e "$MOUNT/remote-only.txt" ]] || fail "refused apply deleted a file"
CHECKS=$((CHECKS + 1))

# a tampered plan that escapes the folder is refused
python3 - "$T/plan3.json" "$T/evil.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
plan["ops"][0]["path"] = "../../../etc/passwd"
json.dump(plan, open(sys.argv[2], "w"))
PY
expect_rc 2 cli sync --apply "$T/evil.json"

# --- a failed transfer mid-sync: nothing deleted, both sides intact ---
expect_rc 0 cli sync push "$L" -n "$APP"  # bring the server up to date first
echo "stray" >"$MOUNT/stray.txt"
head -c 400000 /dev/urandom >"$L/too-big.bin"  # over the 300000-byte quota
echo "small new" >"$L/small-new.txt"
lb=$(state "$L")
expect_rc 6 cli --json sync push "$L" -n "$APP" --delete -y
assert_contains "$OUT" "quota" "the failure is reported as quota"
[[ -e "$MOUNT/stray.txt" ]] || fail "a file was deleted although a transfer failed"
[[ ! -e "$MOUNT/too-big.bin" ]] || fail "a failed upload left a file behind"
CHECKS=$((CHECKS + 2))
assert_eq "$(state "$L")" "$lb" "a failed push left the local side intact"
assert_eq "$(cat "$MOUNT/f3.txt")" "file 3" "existing remote files intact after the failure"
expect_rc 6 cli sync push "$L" -n "$APP" --delete -y
assert_contains "$ERR" "nothing was deleted" "the summary says nothing was deleted"
assert_contains "$ERR" "too-big.bin" "the summary names the failed file"

finish

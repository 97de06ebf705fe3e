#!/usr/bin/env bash
# de-cli predeploy on this machine, no server needed: the example app's script
# fills ../mount; --dry-run changes nothing; the script's exit status (and a
# death by signal) is de-cli's; --timeout stops the script's whole process
# group; Ctrl-C is passed on; the environment is passed through; --mount-dir
# elsewhere is linked as ../mount for the run; --json keeps stdout to the one
# document; a missing script or malformed project.toml names file:line:col.
source "$(dirname "$0")/harness.sh"

W="$T/work"
mkdir -p "$W"
cp -r "$DE_SOURCE_DIR/examples/my-project/app" "$W/app"
cd "$W"

# write_app SCRIPT_BODY: the app's predeploy script (project.toml names it).
write_app() {
    printf '[scripts]\npredeploy = "step.sh"\n' >"$W/app/project.toml"
    printf '%s\n' "$1" >"$W/app/step.sh"
}
alive() { kill -0 "$1" 2>/dev/null; }
# json EXPR: evaluates a Python expression over the JSON document on stdin (as d).
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- the example app: --dry-run first, then for real ---
expect_rc 0 "$DE_CLI" predeploy app --dry-run
assert_contains "$OUT" "would create the mount folder $W/mount"
assert_contains "$OUT" "would run bash fetchdata.sh in $W/app"
[[ ! -e "$W/mount" ]] || fail "--dry-run created the mount folder"

expect_rc 0 "$DE_CLI" predeploy app
assert_contains "$OUT$ERR" "fetchdata: wrote 9 files" "the script's output is streamed through"
assert_eq "$(find "$W/mount" -type f | wc -l)" "9" "files written into ../mount"
assert_eq "$(wc -l <"$W/mount/data/sales.csv")" "20001" "sales.csv has its rows"
assert_eq "$(stat -c %s "$W/mount/data/cache.bin")" "8388608" "cache.bin is 8 MiB"

# Run from inside the app folder: APP_DIR defaults to '.'.
rm -rf "$W/mount"
(cd "$W/app" && "$DE_CLI" predeploy >/dev/null 2>&1) || fail "predeploy in the app folder"
assert_eq "$(find "$W/mount" -type f | wc -l)" "9" "APP_DIR defaults to the current folder"

# --- the script's exit status is de-cli's ---
write_app 'echo partial > ../mount/partial.txt; exit 7'
expect_rc 7 "$DE_CLI" predeploy app
assert_contains "$ERR" "step.sh failed with exit status 7"
write_app 'kill -KILL $$'
expect_rc 137 "$DE_CLI" predeploy app
assert_contains "$ERR" "killed by signal 9"

# --- the environment is passed through, plus DE_APP_DIR and DE_MOUNT_DIR; stdin is closed ---
write_app 'echo "$PREDEPLOY_TOKEN|$DE_APP_DIR|$DE_MOUNT_DIR|$(pwd -P)" > ../mount/env.txt
read -r x || echo "stdin closed" >> ../mount/env.txt'
PREDEPLOY_TOKEN=s3cr3t expect_rc 0 "$DE_CLI" predeploy app
assert_eq "$(cat "$W/mount/env.txt")" "s3cr3t|$W/app|$W/mount|$W/app
stdin closed" "environment and working directory"

# --- --timeout stops the script and its children (the process group) ---
write_app 'sleep 300 & echo $! > ../mount/child.pid
(sleep 300; echo late > ../mount/late.txt) &
echo started; sleep 300'
start=$(date +%s%N)
expect_rc 124 "$DE_CLI" predeploy app --timeout 1s
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_contains "$ERR" "timed out after 1s"
CHECKS=$((CHECKS + 1))
((elapsed_ms < 8000)) || fail "--timeout 1s took ${elapsed_ms} ms"
CHECKS=$((CHECKS + 1))
alive "$(cat "$W/mount/child.pid")" && fail "the script's background child survived the timeout"
expect_rc 2 "$DE_CLI" predeploy app --timeout soon
assert_contains "$ERR" "invalid duration"

# A script that ignores SIGTERM is killed after --kill-grace.
write_app 'trap "" TERM; while :; do sleep 0.1; done'
start=$(date +%s%N)
expect_rc 124 "$DE_CLI" predeploy app --timeout 0.5s --kill-grace 0.5s
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_contains "$ERR" "then SIGKILL"
CHECKS=$((CHECKS + 1))
((elapsed_ms < 8000)) || fail "SIGKILL after the grace period took ${elapsed_ms} ms"

# --- Ctrl-C (SIGINT to de-cli) reaches the script's group: exit 130 ---
write_app 'sleep 300 & echo $! > ../mount/child.pid; echo ready > ../mount/ready; wait'
rm -f "$W/mount/ready"
"$DE_CLI" predeploy app >"$T/int.out" 2>"$T/int.err" &
pid=$!
for _ in $(seq 1 100); do [[ -e "$W/mount/ready" ]] && break; sleep 0.05; done
kill -INT "$pid"
set +e
wait "$pid"
RC=$?
set -e
assert_eq "$RC" "130" "Ctrl-C exit status"
CHECKS=$((CHECKS + 1))
alive "$(cat "$W/mount/child.pid")" && fail "the script's child survived Ctrl-C"

# --- --mount-dir elsewhere: linked as ../mount for the run, removed after ---
rm -rf "$W/mount"
write_app 'mkdir -p ../mount/out && echo hi > ../mount/out/x.txt
test "$DE_MOUNT_DIR" = "$(cd ../mount && pwd -P)"'
expect_rc 0 "$DE_CLI" predeploy app --mount-dir "$T/elsewhere/m"
assert_eq "$(cat "$T/elsewhere/m/out/x.txt" 2>/dev/null)" "hi" "output lands in --mount-dir"
CHECKS=$((CHECKS + 1))
[[ -e "$W/mount" || -L "$W/mount" ]] && fail "the ../mount link was left behind"
mkdir -p "$W/mount"
expect_rc 5 "$DE_CLI" predeploy app --mount-dir "$T/elsewhere/m"
assert_contains "$ERR" "already exists and is not --mount-dir"

# --- --json: one document on stdout; the script's stdout goes to stderr ---
write_app 'echo "script says hello"; echo "to stderr" >&2'
expect_rc 0 "$DE_CLI" --json predeploy app
assert_eq "$(json 'd["exit_status"], d["script"]' <<<"$OUT")" "0 step.sh" "--json document"
assert_contains "$ERR" "script says hello"
assert_not_contains "$OUT" "script says hello"
write_app 'exit 4'
expect_rc 4 "$DE_CLI" --json predeploy app
assert_eq "$(json 'd["exit_status"], d["error"]["kind"]' <<<"$OUT")" "4 error" "--json failure"

# --- a missing script or a bad project.toml is a clear error before anything runs ---
printf '# my app\n[scripts]\npredeploy = "missing.sh"\n' >"$W/app/project.toml"
expect_rc 3 "$DE_CLI" predeploy app
assert_contains "$ERR" "app/project.toml:3:13: predeploy script 'missing.sh' not found"
printf '[scripts]\npredeploy = ["a.sh"]\n' >"$W/app/project.toml"
expect_rc 2 "$DE_CLI" predeploy app
assert_contains "$ERR" "app/project.toml:2:13: [scripts] predeploy must be a string"
printf '[scripts]\npredeploy = "step.sh\n' >"$W/app/project.toml"
expect_rc 2 "$DE_CLI" predeploy app
assert_contains "$ERR" "app/project.toml:2:"
assert_contains "$ERR" "malformed TOML"
rm "$W/app/project.toml"
expect_rc 3 "$DE_CLI" predeploy app
assert_contains "$ERR" "app/project.toml: no such file"
expect_rc 3 "$DE_CLI" predeploy "$W/no-such-app"

# --- BOM and CRLF project.toml run the script ---
printf '\xef\xbb\xbf[scripts]\r\npredeploy = "step.sh"\r\n' >"$W/app/project.toml"
printf 'echo crlf-ok > ../mount/crlf.txt\n' >"$W/app/step.sh"
expect_rc 0 "$DE_CLI" predeploy app
assert_eq "$(cat "$W/mount/crlf.txt")" "crlf-ok" "BOM + CRLF project.toml"

# --- flags that only make sense with --push ---
expect_rc 2 "$DE_CLI" predeploy app --delete
assert_contains "$ERR" "add --push"

finish

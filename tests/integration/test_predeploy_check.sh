#!/usr/bin/env bash
# de-cli predeploy --check: the example app passes, and each of the platform's
# rules is caught, reported as FILE:LINE:COLUMN where there is one, with a
# non-zero exit for errors (warnings alone exit 0); --json lists the findings.
source "$(dirname "$0")/harness.sh"

W="$T/work"
mkdir -p "$W"
cd "$W"

fresh_app() {
    rm -rf "$W/app" "$W/mount" "$W/.git" "$W/.gitignore"
    cp -r "$DE_SOURCE_DIR/examples/my-project/app" "$W/app"
}
# findings_json: "ERRORS WARNINGS RULE..." from a --json report on stdin.
findings_json() {
    python3 -c 'import json,sys; d=json.load(sys.stdin)
print(d["errors"], d["warnings"], " ".join(sorted(f["rule"] for f in d["findings"])))'
}

# --- a well-formed app folder passes ---
fresh_app
expect_rc 0 "$DE_CLI" predeploy --check app
assert_eq "$OUT" "" "no findings for the example app"
assert_contains "$ERR" "passes (0 errors, 0 warnings)"
expect_rc 0 "$DE_CLI" --json predeploy --check app
assert_eq "$(findings_json <<<"$OUT")" "0 0 " "--json: no findings"

# --- project.toml: malformed, wrong type, missing script ---
fresh_app
printf '[scripts]\npredeploy = "fetchdata.sh"\n[scripts]\n' >app/project.toml
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/project.toml:3:1: error: malformed TOML"
printf '[scripts]\n  predeploy = 42\n' >app/project.toml
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/project.toml:2:15: error: [scripts] predeploy must be a string"
printf '[scripts]\npredeploy = "fetch.sh"\n' >app/project.toml
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/project.toml:2:13: error: predeploy script 'fetch.sh' not found"
printf '[scripts]\npredeploy = "../outside.sh"\n' >app/project.toml
touch outside.sh
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "outside the app folder"

# --- the script: runnable by bash ---
fresh_app
printf '#!/bin/bash\nset -e\nif true; then\n  echo x\n' >app/fetchdata.sh
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/fetchdata.sh:"
assert_contains "$OUT" "error: bash cannot parse the script"
printf '#!/bin/bash\r\necho hi\r\n' >app/fetchdata.sh
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/fetchdata.sh:1: error: the script has Windows (CRLF) line ends"
printf '#!/usr/bin/env python3\nimport sys\n' >app/fetchdata.sh
expect_rc 0 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/fetchdata.sh:1:1: warning: the shebang names 'python3'"
if [[ $(id -u) != 0 ]]; then
    printf 'echo ok\n' >app/fetchdata.sh
    chmod 000 app/fetchdata.sh
    expect_rc 1 "$DE_CLI" predeploy --check app
    assert_contains "$OUT" "cannot be read"
fi

# --- Procfile ---
fresh_app
printf 'web: gunicorn app:server\nworker python worker.py\n9bad name: x\nweb: again\nclock:\n' \
    >app/Procfile
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/Procfile:2:1: error: expected 'name: command'"
assert_contains "$OUT" "app/Procfile:3:1: error: invalid process name '9bad name'"
assert_contains "$OUT" "app/Procfile:4:1: error: process 'web' is defined twice (first on line 1)"
assert_contains "$OUT" "app/Procfile:5:7: error: process 'clock' has no command"
expect_rc 1 "$DE_CLI" --json predeploy --check app
assert_eq "$(findings_json <<<"$OUT")" \
    "4 0 procfile-duplicate procfile-name procfile-syntax procfile-syntax" \
    "--json lists every Procfile finding"
printf 'worker: python worker.py\n' >app/Procfile
expect_rc 0 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "warning: no 'web' process"
printf '\xef\xbb\xbf# CRLF + BOM\r\nweb: gunicorn app:server\r\n' >app/Procfile
expect_rc 0 "$DE_CLI" predeploy --check app
assert_eq "$OUT" "" "a BOM + CRLF Procfile is fine"
rm app/Procfile
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "app/Procfile: error: no Procfile"

# --- the mount folder: the sibling ../mount, a folder, not in the app's git repository ---
fresh_app
mkdir -p "$T/elsewhere"
expect_rc 1 "$DE_CLI" predeploy --check app --mount-dir "$T/elsewhere"
assert_contains "$OUT" "error: the mount folder must be the app folder's sibling"
echo "not a folder" >mount
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "mount: error: the mount folder exists but is not a folder"
rm mount

# The app's repository holds the mount folder too: its data would be committed.
git init -q "$W"
expect_rc 1 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "error: the mount folder $W/mount is inside the app's git repository $W"
# ...unless git ignores what is in it (a demo layout): a warning.
printf '/mount/*\n' >"$W/.gitignore"
expect_rc 0 "$DE_CLI" predeploy --check app
assert_contains "$OUT" "warning: the mount folder $W/mount is inside the git repository"
# The usual layout: the app folder is the repository, the mount beside it.
rm -rf "$W/.git" "$W/.gitignore"
git init -q "$W/app"
expect_rc 0 "$DE_CLI" predeploy --check app
assert_eq "$OUT" "" "an app repository with ../mount beside it is fine"

# --- several problems at once: all reported ---
fresh_app
printf '[scripts]\npredeploy = 1\n' >app/project.toml
printf 'web gunicorn\n' >app/Procfile
expect_rc 1 "$DE_CLI" --json predeploy --check app
assert_eq "$(findings_json <<<"$OUT")" "2 1 procfile-syntax procfile-web project-toml" \
    "every finding"

# --- --check does not run anything and refuses run-only flags ---
fresh_app
expect_rc 2 "$DE_CLI" predeploy --check app --push
[[ ! -e "$W/mount" ]] || fail "--check created or filled the mount folder"
CHECKS=$((CHECKS + 1))
expect_rc 1 "$DE_CLI" predeploy --check "$W/nope"
assert_contains "$OUT" "error: the app folder does not exist"

finish

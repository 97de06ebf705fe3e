#!/usr/bin/env bash
# Error messages (issue 14 item 9): one sentence each -- what failed, where
# (app:path), what to do next in this mode -- with CLI flags only, never the
# REST parameters (overwrite=true, recursive=true, parents=true), and no
# message repeated inside another.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
BOB_KEY=$(add_user bob)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@"; }

# No wire parameter names and at most one "failed" clause.
assert_clean() {
    local text=$1 what=$2 word
    for word in overwrite= recursive= parents= confirm= "If-None-Match" "metadata"; do
        assert_not_contains "$text" "$word" "$what: wire term '$word'"
    done
    CHECKS=$((CHECKS + 1))
    local n
    n=$(grep -o 'failed' <<<"$text" | wc -l || true)
    ((n <= 1)) || fail "$what: a message inside a message: $text"
}

expect_rc 0 cli apps create -n sales
expect_rc 0 cli mount enable -n sales
echo one >"$T/a.txt"
echo two >"$T/b.txt"
expect_rc 0 cli upload -n sales "$T/a.txt" /data/a.txt
expect_rc 0 cli upload -n sales "$T/b.txt" /b.txt

# rm on a folder that is not empty: -r, not recursive=true.
expect_rc 5 cli rm -n sales /data
assert_contains "$ERR" "cannot remove sales:/data: the folder is not empty; pass -r to remove it"
assert_clean "$ERR" "rm on a folder"
# Without -n, the app must be named for -r: the advice says so.
mkdir -p "$T/sales" && cd "$T/sales"
run cli rm /data
cd "$T"
if [[ $ERR == *"not empty"* ]]; then
    assert_contains "$ERR" "pass -r -n sales" "rm -r needs -n: the advice includes it"
fi

# mv onto an existing file: --update, once.
expect_rc 5 cli mv -n sales /b.txt /data/a.txt
assert_contains "$ERR" "cannot move sales:/b.txt to sales:/data/a.txt: the target exists already; pass --update to replace it"
assert_clean "$ERR" "mv onto a file"
assert_eq "$(grep -o -- '--update' <<<"$ERR" | wc -l | tr -d ' ')" 1 "--update said once"

# ls / cat of what is not there, or of a folder.
expect_rc 3 cli ls -n sales /nope
assert_contains "$ERR" "sales:/nope does not exist"
assert_clean "$ERR" "ls of a missing path"
expect_rc 5 cli cat -n sales /data
assert_contains "$ERR" "cannot print sales:/data: it is a folder; list it with \`de-cli ls -n sales /data\`"
assert_clean "$ERR" "cat of a folder"

# Creating one's own app again: it is yours, not "taken".
expect_rc 5 cli apps create -n sales
assert_contains "$ERR" "app 'sales' exists already and is yours"
assert_not_contains "$ERR" "taken"
assert_clean "$ERR" "apps create of an own app"
# Another user's name is taken.
expect_rc 5 env DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD="$BOB_KEY" \
    "$DE_CLI" --no-keyfile apps create -n sales
assert_contains "$ERR" "belongs to another user's app; choose another name"
assert_clean "$ERR" "apps create of a taken name"

# A wrong key under --no-keyfile: check the environment, never "log in".
expect_rc 4 env DASH_ENTERPRISE_PASSWORD=wrong "$DE_CLI" --no-keyfile ls -n sales /
assert_contains "$ERR" "check DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD"
assert_not_contains "$ERR" "log in"
assert_not_contains "$ERR" "login"
assert_clean "$ERR" "a wrong key"
# A token that no longer works (keyfile mode): log in again, naming the host.
unset DASH_ENTERPRISE_USERNAME DASH_ENTERPRISE_PASSWORD
run "$DE_CLI" login -u alice --password-stdin <<<"$KEY"
assert_eq "$RC" 0 "login"
python3 - "$XDG_CONFIG_HOME/de-cli/keyfile" <<'EOF'
import json, sys
p = sys.argv[1]
k = json.load(open(p))
for h in k["hosts"].values():
    h["token"] = "revoked-token"
json.dump(k, open(p, "w"))
EOF
expect_rc 4 "$DE_CLI" ls -n sales /
assert_contains "$ERR" "log in again with \`de-cli login --host $SERVER_URL\`"
assert_not_contains "$ERR" "DASH_ENTERPRISE_PASSWORD"
assert_clean "$ERR" "a revoked token"
# A wrong key at login: no doubled clause.
run "$DE_CLI" login -u alice --password-stdin <<<wrong
assert_eq "$RC" 4 "login with a wrong key"
assert_contains "$ERR" "check the username (alice) and the API key"
assert_clean "$ERR" "login with a wrong key"

finish

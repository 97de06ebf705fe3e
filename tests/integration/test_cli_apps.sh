#!/usr/bin/env bash
# de-cli apps list|exists|create|info|delete|update: success paths with text
# and --json, unknown apps, another user's app, and the guards on delete and
# turning the persistent filesystem off.
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
KEY=$(add_user alice)
BOB_KEY=$(add_user bob)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
bob() { env DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob \
    DASH_ENTERPRISE_PASSWORD="$BOB_KEY" "$DE_CLI" --no-keyfile "$@"; }

expect_rc 0 "$DE_CLI" apps list
assert_eq "$OUT" "" "no apps yet"
expect_rc 0 "$DE_CLI" apps create -n sales
assert_contains "$ERR" "Created app 'sales'"
expect_rc 5 "$DE_CLI" apps create -n sales
expect_rc 5 bob apps create -n sales   # names are global
expect_rc 2 "$DE_CLI" apps create -n Bad_Name
expect_rc 0 "$DE_CLI" apps create -n zeta --json
assert_eq "$(jget 'd["name"]')" "zeta"
assert_eq "$(jget 'd["owner"]')" "alice"

# Piped list: tab-separated, no header, sorted by name.
expect_rc 0 "$DE_CLI" apps list
assert_eq "$(cut -f1,2 <<<"$OUT" | tr '\t\n' ' |')" "sales off|zeta off|"
assert_not_contains "$OUT" "NAME"
expect_rc 0 "$DE_CLI" apps list --json
assert_eq "$(jget 'len(d)')" "2"
assert_eq "$(jget 'd[0]["mount"]["enabled"]')" "False"

expect_rc 0 "$DE_CLI" apps exists -n sales
expect_rc 0 "$DE_CLI" apps exists -n sales --json
assert_eq "$(jget 'd["exists"]')" "True"
expect_rc 3 "$DE_CLI" apps exists -n nosuch
expect_rc 3 "$DE_CLI" apps exists -n nosuch --json
assert_eq "$(jget 'd["error"]["kind"]')" "not_found"

expect_rc 0 "$DE_CLI" apps info -n sales
assert_contains "$OUT" "owner	alice"
assert_contains "$OUT" "persistent filesystem	off"
expect_rc 3 "$DE_CLI" apps info -n nosuch
assert_contains "$ERR" "nosuch"

# Without -n the current folder's name is the app.
mkdir -p "$T/work/sales" "$T/work/Not_An_App"
(cd "$T/work/sales" && run "$DE_CLI" apps info --json && echo "$RC $OUT" >"$T/cwd.out")
assert_contains "$(cat "$T/cwd.out")" '0 {"created_at":"'
(cd "$T/work/Not_An_App" && run "$DE_CLI" apps info && echo "$RC" >"$T/cwd.out")
assert_eq "$(cat "$T/cwd.out")" "2" "an invalid folder name is a usage error"

# Another user's app looks exactly like a missing one.
expect_rc 3 bob apps info -n sales
expect_rc 3 bob apps exists -n sales
expect_rc 3 bob apps delete -n sales -y
expect_rc 3 bob apps update -n sales --persistent-filesystem
expect_rc 0 bob apps list --json
assert_eq "$OUT" "[]"

# update: on, then off (guarded).
expect_rc 0 "$DE_CLI" apps update -n sales --persistent-filesystem --json
assert_eq "$(jget 'd["mount"]["enabled"]')" "True"
expect_rc 2 "$DE_CLI" apps update -n sales
expect_rc 2 "$DE_CLI" apps update -n sales --persistent-filesystem --no-persistent-filesystem
expect_rc 2 "$DE_CLI" apps update -n sales --no-persistent-filesystem </dev/null
assert_contains "$ERR" "-y"
expect_rc 0 "$DE_CLI" apps info -n sales --json
assert_eq "$(jget 'd["mount"]["enabled"]')" "True" "refused update changed nothing"
expect_rc 0 "$DE_CLI" apps update -n sales --no-persistent-filesystem -y
expect_rc 0 "$DE_CLI" apps info -n sales --json
assert_eq "$(jget 'd["mount"]["enabled"]')" "False"

# delete: needs -n, and -y without a terminal.
(cd "$T/work/sales" && run "$DE_CLI" apps delete -y && echo "$RC" >"$T/cwd.out")
assert_eq "$(cat "$T/cwd.out")" "2" "apps delete needs -n even in the app's folder"
expect_rc 2 "$DE_CLI" apps delete -n zeta </dev/null
expect_rc 0 "$DE_CLI" apps exists -n zeta
expect_rc 0 "$DE_CLI" apps delete -n zeta -y --json
assert_eq "$(jget 'd["deleted"]')" "True"
expect_rc 3 "$DE_CLI" apps exists -n zeta
expect_rc 3 "$DE_CLI" apps delete -n zeta -y

finish

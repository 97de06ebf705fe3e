#!/usr/bin/env bash
# de-cli mount url: the app's WebDAV address on stdout (<host>/dav/<app>/),
# how to connect on stderr, --json {app, url, username} matching
# docs/schema/mount-url.json; the app is checked with the server (unknown or
# another user's: exit 3); the API key and the login token are never printed.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
BOB_KEY=$(add_user bob)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
"$DE_CLI" apps create -n dormant -q
DASH_ENTERPRISE_HOST=$SERVER_URL DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD=$BOB_KEY \
    "$DE_CLI" --no-keyfile apps create -n bobs -q
TOKEN=$(sed -n 's/^ *"token": "\(.*\)",*$/\1/p' "$XDG_CONFIG_HOME/de-cli/keyfile")
[[ ${#TOKEN} -ge 32 ]] || fail "no token in the keyfile: '$TOKEN'"
# Everything de-cli printed, to check at the end that no secret was among it.
ALL="$T/all.out"
: >"$ALL"
seen() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"; }
URL="$SERVER_URL/dav/sales/"

# Logged in (a token in the keyfile): the address alone on stdout, the guide on stderr.
expect_rc 0 "$DE_CLI" mount url -n sales
seen
assert_eq "$OUT" "$URL" "stdout is the address alone"
for text in "Log in as alice; the password is your API key" "de-cli login" "mount -t davfs $URL /mnt/sales" "/etc/davfs2/secrets" \
    "rclone config create sales webdav url=$URL vendor=other user=alice" \
    'pass="$(rclone obscure "$KEY")"' "--webdav-url $URL" "Connect to Server" \
    "net use Z: $URL /user:alice *" "BasicAuthLevel"; do
    assert_contains "$ERR" "$text"
done
# The address printed is the app's WebDAV root: a PROPFIND with alice's key lists it.
CODE=$(curl -s -o "$T/pf.xml" -w '%{http_code}' -u "alice:$KEY" -X PROPFIND -H 'Depth: 0' "$OUT")
assert_eq "$CODE" "207" "PROPFIND of the printed address"
assert_contains "$(cat "$T/pf.xml")" "<D:href>/dav/sales/</D:href>" "it is the app's root"
# -q: the address alone, nothing else.
expect_rc 0 "$DE_CLI" -q mount url -n sales
seen
assert_eq "$OUT" "$URL"
assert_eq "$ERR" "" "-q prints no guide"
# The address is the app as one path segment; a trailing '/' on the host is not doubled.
expect_rc 0 "$DE_CLI" --host "$SERVER_URL/" mount url -n sales
seen
assert_eq "$OUT" "$URL" "--host with a trailing slash"
# Without -n: the folder's name, as every command.
mkdir -p "$T/work/sales"
(cd "$T/work/sales" && run "$DE_CLI" mount url && printf '%s %s' "$RC" "$OUT" >"$T/cwd.out")
assert_eq "$(cat "$T/cwd.out")" "0 $URL" "the app from the current folder"

# --json: exactly {app, url, username}, valid against docs/schema/mount-url.json.
expect_rc 0 "$DE_CLI" mount url -n sales --json
seen
assert_eq "$ERR" "" "--json: nothing on stderr"
# One python3 for all of it (each start is slow on a loaded machine).
run python3 - "$DE_SOURCE_DIR/docs/schema" "$OUT" "$URL" <<'PY'
import json, os, sys
import jsonschema  # python3-jsonschema, as test_cli_json_schema.py

def load(name):
    with open(os.path.join(sys.argv[1], name)) as f:
        return json.loads(f.read().replace('"defs.json#', '"#'))

doc = json.loads(sys.argv[2])
want = {"app": "sales", "url": sys.argv[3], "username": "alice"}
if doc != want:
    sys.exit(f"got {doc}, want {want}")
schema = load("mount-url.json")
schema["$defs"] = load("defs.json")["$defs"]
jsonschema.validate(json.loads(sys.argv[2]), schema)
# The schema is not vacuous: an extra key or a URL that is not /dav/APP/ fails.
for bad in ({"app": "sales", "url": "http://h/dav/sales/", "username": "a", "api_key": "k"},
            {"app": "sales", "url": "http://h/api/v1/apps/sales", "username": "a"}):
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        continue
    sys.exit(f"schema accepted {bad}")
PY
assert_eq "$RC" 0 "--json is {app, url, username} and matches docs/schema/mount-url.json: $ERR"

# The server is asked: an unknown app and another user's app are "not found" (3).
expect_rc 3 "$DE_CLI" mount url -n nosuch
seen
assert_contains "$ERR" "not found"
assert_eq "$OUT" "" "no address for an unknown app"
expect_rc 3 "$DE_CLI" mount url -n bobs
seen
assert_eq "$OUT" ""
expect_rc 3 "$DE_CLI" mount url -n nosuch --json
seen
assert_contains "$OUT" '"kind":"not_found"'
expect_rc 2 "$DE_CLI" mount url -n 'Bad Name'
# Refused credentials: exit 4, no address.
expect_rc 4 env DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD=wrong-key \
    "$DE_CLI" --no-keyfile --host "$SERVER_URL" mount url -n sales
seen
assert_eq "$OUT" ""

# A mount that is off: the address, and a warning saying how to turn it on.
expect_rc 0 "$DE_CLI" mount url -n dormant
seen
assert_eq "$OUT" "$SERVER_URL/dav/dormant/"
assert_contains "$ERR" "mount enable -n dormant"

# Credentials from the environment: the guide says where the key is, and bob gets his own app.
expect_rc 0 env DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob \
    DASH_ENTERPRISE_PASSWORD="$BOB_KEY" "$DE_CLI" --no-keyfile mount url -n bobs
seen
assert_eq "$OUT" "$SERVER_URL/dav/bobs/"
assert_contains "$ERR" 'the API key in $DASH_ENTERPRISE_PASSWORD'
assert_contains "$ERR" "user=bob"
# -vv prints every request and header line: still no key.
expect_rc 0 env DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob \
    DASH_ENTERPRISE_PASSWORD="$BOB_KEY" "$DE_CLI" --no-keyfile -vv mount url -n bobs
seen
assert_contains "$ERR" "GET " "-vv shows the request"

# No secret in anything de-cli printed above.
for secret in "$KEY" "$BOB_KEY" "$TOKEN"; do
    CHECKS=$((CHECKS + 1))
    if grep -qF -- "$secret" "$ALL"; then fail "a key or token was printed"; fi
done
CHECKS=$((CHECKS + 1))
[[ $(wc -l <"$ALL") -gt 40 ]] || fail "the secret check saw too little output"

finish

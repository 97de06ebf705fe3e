#!/usr/bin/env bash
# de-cli login/logout/whoami/config against a real de-server: keyfile mode,
# precedence, the CI path (--no-keyfile + environment), wrong and missing
# credentials, and that no secret is ever printed.
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
KEY=$(add_user alice)
BOB_KEY=$(add_user bob)
KEYFILE="$XDG_CONFIG_HOME/de-cli/keyfile"

# No credentials at all: auth (4), and the message says how to log in.
expect_rc 4 "$DE_CLI" --host "$SERVER_URL" whoami
assert_contains "$ERR" "de-cli login" "no-credentials hint"
expect_rc 4 "$DE_CLI" --host "$SERVER_URL" whoami --json
assert_eq "$(jget 'd["error"]["kind"]')" "auth" "json error kind"

# Without a terminal and without --password-stdin login refuses (usage).
expect_rc 2 "$DE_CLI" --host "$SERVER_URL" login -u alice </dev/null
assert_contains "$ERR" "--password-stdin"

# Wrong key: auth, nothing stored.
expect_rc 4 bash -c "printf 'nope' | '$DE_CLI' --host '$SERVER_URL' login -u alice --password-stdin"
[[ ! -e "$KEYFILE" ]] || fail "a failed login wrote the keyfile"

# Good login: keyfile 0600 in a 0700 folder, the token stored, never the key.
expect_rc 0 bash -c "printf '%s\n' '$KEY' | '$DE_CLI' --host '$SERVER_URL' login -u alice --password-stdin --json"
assert_eq "$(jget 'd["username"]')" "alice"
assert_eq "$(stat -c %a "$KEYFILE")" "600" "keyfile mode"
assert_eq "$(stat -c %a "$(dirname "$KEYFILE")")" "700" "keyfile folder mode"
assert_not_contains "$(cat "$KEYFILE")" "$KEY" "the API key must not be stored"
assert_not_contains "$OUT$ERR" "$KEY" "the API key must not be printed"
TOKEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][sys.argv[2]]["token"])' "$KEYFILE" "$SERVER_URL")
assert_not_contains "$OUT$ERR" "$TOKEN" "the token must not be printed"
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["default_host"])' "$KEYFILE")" "$SERVER_URL"

# The host logged into is now the default: no --host needed.
expect_rc 0 "$DE_CLI" whoami
assert_eq "$OUT" "alice" "whoami prints the user on stdout"
expect_rc 0 "$DE_CLI" whoami --json
assert_eq "$(jget 'd["username"]')" "alice"
assert_eq "$(jget 'd["host"]')" "$SERVER_URL"

# config shows origins and hides secrets.
expect_rc 0 "$DE_CLI" config
assert_contains "$OUT" "host	$SERVER_URL	keyfile"
assert_not_contains "$OUT" "$TOKEN" "config must hide the token"
expect_rc 0 "$DE_CLI" config --json
assert_eq "$(jget 'd["token"]["value"], d["token"]["set"]')" "(None, True)" "token shown only as set"
assert_eq "$(jget 'd["host"]["origin"]')" "keyfile"
expect_rc 0 env DASH_ENTERPRISE_HOST=http://env.example:1 "$DE_CLI" config --json
assert_eq "$(jget 'd["host"]["origin"]')" "environment" "environment beats keyfile"
expect_rc 0 env DASH_ENTERPRISE_HOST=http://env.example:1 "$DE_CLI" --host http://flag.example:2 config --json
assert_eq "$(jget 'd["host"]["value"]')" "http://flag.example:2" "flag beats environment"
assert_eq "$(jget 'd["host"]["origin"]')" "flag"

# The CI path: --no-keyfile with the three environment variables.
expect_rc 0 env DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob \
    DASH_ENTERPRISE_PASSWORD="$BOB_KEY" "$DE_CLI" --no-keyfile whoami
assert_eq "$OUT" "bob"
assert_not_contains "$OUT$ERR" "$BOB_KEY"
# Environment credentials beat the keyfile's token.
expect_rc 0 env DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD="$BOB_KEY" "$DE_CLI" whoami
assert_eq "$OUT" "bob"
# A wrong environment key: auth (4).
expect_rc 4 env DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob \
    DASH_ENTERPRISE_PASSWORD=wrong "$DE_CLI" --no-keyfile whoami
expect_rc 4 env DASH_ENTERPRISE_HOST="$SERVER_URL" "$DE_CLI" --no-keyfile whoami
assert_contains "$ERR" "DASH_ENTERPRISE_USERNAME"
expect_rc 2 "$DE_CLI" --no-keyfile login -u alice --password-stdin </dev/null

# A keyfile others can read is refused, with the fix in the message.
chmod 644 "$KEYFILE"
expect_rc 4 "$DE_CLI" whoami
assert_contains "$ERR" "chmod 600"
chmod 600 "$KEYFILE"

# Unreachable host: network (7), after the retry budget (30 s; shortened where
# the build has test hooks).
expect_rc 7 env DE_CLI_RETRY_BUDGET_MS=500 DASH_ENTERPRISE_USERNAME=a DASH_ENTERPRISE_PASSWORD=b \
    "$DE_CLI" --no-keyfile --host http://127.0.0.1:1 whoami
assert_contains "$ERR" "de-server at http://127.0.0.1:1 did not answer for"
expect_rc 2 "$DE_CLI" --host ftp://not-http whoami  # a bare name is a host now (https://); a non-HTTP scheme is refused

# logout revokes the token on the server and removes it locally.
expect_rc 0 "$DE_CLI" logout --json
assert_eq "$(jget 'd["token_revoked"]')" "True"
assert_not_contains "$(cat "$KEYFILE")" "$TOKEN"
expect_rc 4 "$DE_CLI" --host "$SERVER_URL" whoami
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$SERVER_URL/api/v1/whoami")
assert_eq "$code" "401" "the revoked token no longer works"
expect_rc 0 "$DE_CLI" --host "$SERVER_URL" logout

# Interactive login on a terminal: username, then the key (read without echo).
if script -qc true /dev/null >/dev/null 2>&1; then
    out=$(printf 'alice\n%s\n' "$KEY" | script -qec "'$DE_CLI' --host '$SERVER_URL' login" /dev/null)
    assert_contains "$out" "API key for alice@" "key prompt"
    assert_contains "$out" "Logged in to $SERVER_URL as alice"
    expect_rc 0 "$DE_CLI" whoami
    assert_eq "$OUT" "alice"
fi

finish

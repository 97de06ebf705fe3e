#!/usr/bin/env bash
# Hosts (issue 14 item 7): a bare host name is accepted (https://, or http://
# for a loopback name); a host that answers HTTP but is no de-server is named
# as such, by every command and by login; an unknown host name fails fast;
# logout leaves the last other host as the default.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
PORT=${SERVER_URL##*:}
KEYFILE="$XDG_CONFIG_HOME/de-cli/keyfile"
keyfile_default() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["default_host"])' "$KEYFILE"; }

# --- bare hosts ----------------------------------------------------------------
# A bare loopback host:port (as DASH_ENTERPRISE_HOST often has it) means http://.
expect_rc 0 env DASH_ENTERPRISE_HOST="127.0.0.1:$PORT" DASH_ENTERPRISE_USERNAME=alice \
    DASH_ENTERPRISE_PASSWORD="$KEY" "$DE_CLI" --no-keyfile whoami
assert_eq "$OUT" "alice" "a bare loopback host reaches the server"
expect_rc 0 env DASH_ENTERPRISE_HOST="localhost:$PORT" "$DE_CLI" --no-keyfile config --json
assert_contains "$OUT" "\"http://localhost:$PORT\"" "localhost defaults to http://"
# Any other bare name means https://, in --host as in the environment.
expect_rc 0 "$DE_CLI" --no-keyfile --host De.Example.com:8443 config --json
assert_contains "$OUT" '"https://de.example.com:8443"' "a bare host defaults to https://"
expect_rc 0 env DASH_ENTERPRISE_HOST=de.example.com "$DE_CLI" --no-keyfile config --json
assert_contains "$OUT" '"https://de.example.com"'
# login with a bare host keeps the normalized URL in the keyfile.
run "$DE_CLI" --host "127.0.0.1:$PORT" login -u alice --password-stdin <<<"$KEY"
assert_eq "$RC" 0 "login with a bare host"
assert_eq "$(keyfile_default)" "http://127.0.0.1:$PORT" "the keyfile keeps the normalized URL"
expect_rc 0 "$DE_CLI" logout

# --- a host that is not a de-server ---------------------------------------------
mkdir -p "$T/www"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$T/www" >"$T/www.out" 2>&1 &
WWW_PID=$!
trap 'rc=$?; kill $WWW_PID 2>/dev/null; (exit $rc); cleanup' EXIT
for _ in $(seq 1 100); do
    WWW_PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$T/www.out" | head -n1)
    [[ -n $WWW_PORT ]] && break
    sleep 0.05
done
[[ -n $WWW_PORT ]] || { echo "python3 -m http.server did not start" >&2; exit 1; }
WWW="http://127.0.0.1:$WWW_PORT"
export DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"

expect_rc 7 "$DE_CLI" --no-keyfile --host "$WWW" ls -n sales /data
assert_contains "$ERR" "does not look like a de-server" "ls against a plain web server"
assert_contains "$ERR" "check --host"
assert_not_contains "$ERR" "does not exist" "no missing-data story"
expect_rc 7 env DASH_ENTERPRISE_HOST="$WWW" "$DE_CLI" --no-keyfile apps list
assert_contains "$ERR" "does not look like a de-server"
assert_contains "$ERR" "check DASH_ENTERPRISE_HOST" "the advice names where the host came from"
expect_rc 7 "$DE_CLI" --no-keyfile --host "$WWW" download -n sales /a.csv "$T/a.csv"
assert_contains "$ERR" "does not look like a de-server" "download (HEAD) against a plain web server"
expect_rc 7 "$DE_CLI" --no-keyfile --host "$WWW" --json mount status -n sales
assert_contains "$OUT" '"kind":"network"'
assert_contains "$OUT" "does not look like a de-server"
# login (POST /login, which http.server answers 501) says the same, not "HTTP 501".
unset DASH_ENTERPRISE_USERNAME DASH_ENTERPRISE_PASSWORD
run "$DE_CLI" --host "$WWW" login -u alice --password-stdin <<<"$KEY"
assert_eq "$RC" 7 "login against a plain web server"
assert_contains "$ERR" "does not look like a de-server"
assert_contains "$ERR" "check --host"
assert_not_contains "$ERR" "failed: HTTP 501" "no bare status"
assert_eq "$(keyfile_default)" "http://127.0.0.1:$PORT" "a failed login changes no default"
# The de-server itself is recognized (its answers carry X-De-Server).
expect_rc 3 env DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY" \
    "$DE_CLI" --no-keyfile --host "$SERVER_URL" ls -n nosuchapp /
assert_not_contains "$ERR" "de-server" "a real de-server's 404 is a 404"
CHECKS=$((CHECKS + 1))
[[ -n $(python3 -c 'import sys, urllib.request as u
print(u.urlopen(sys.argv[1] + "/api/v1/health").headers.get("X-De-Server") or "")' "$SERVER_URL") ]] ||
    fail "de-server answers without X-De-Server"

# --- an unknown host name fails fast ---------------------------------------------
export DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
start=$(date +%s%N)
expect_rc 7 "$DE_CLI" --no-keyfile --host http://no-such-host.invalid:8050 ls -n sales /
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_contains "$ERR" "no-such-host.invalid" "the message names the host"
assert_contains "$ERR" "unknown"
assert_not_contains "$ERR" "did not answer for" "no outage retries for a name that does not resolve"
CHECKS=$((CHECKS + 1))
((elapsed_ms < 5000)) || fail "an unknown host took ${elapsed_ms} ms (want < 5 s)"
unset DASH_ENTERPRISE_USERNAME DASH_ENTERPRISE_PASSWORD

# --- logout keeps the last other host as the default -------------------------------
H1="http://127.0.0.1:$PORT"
H2="http://localhost:$PORT"
run "$DE_CLI" --host "$H2" login -u alice --password-stdin <<<"$KEY"
assert_eq "$RC" 0 "login to $H2"
# An old entry that sorts first: the new default must not be picked alphabetically.
python3 - "$KEYFILE" <<'EOF'
import json, sys
p = sys.argv[1]
k = json.load(open(p))
k["hosts"]["http://aaa.example"] = {"username": "alice", "token": "x", "expires_at": 0, "logged_in_at": 1}
json.dump(k, open(p, "w"))
EOF
run "$DE_CLI" --host "$H1" login -u alice --password-stdin <<<"$KEY"
assert_eq "$RC" 0 "login to $H1"
assert_eq "$(keyfile_default)" "$H1"
expect_rc 0 "$DE_CLI" logout
assert_contains "$ERR" "the default host is now $H2"
assert_eq "$(keyfile_default)" "$H2" "logout: the host logged into before becomes the default"
expect_rc 0 "$DE_CLI" whoami
assert_eq "$OUT" "alice" "commands go to that host"
expect_rc 0 "$DE_CLI" --host http://aaa.example logout
assert_eq "$(keyfile_default)" "$H2" "logging out of another host keeps the default"
# The last host: it stays the default, so commands ask to log in there again
# instead of trying http://127.0.0.1:8050.
expect_rc 0 "$DE_CLI" logout --json
assert_contains "$OUT" "\"default_host\":\"$H2\""
assert_eq "$(keyfile_default)" "$H2" "the last host logged out stays the default"
expect_rc 4 "$DE_CLI" whoami
assert_contains "$ERR" "no credentials for $H2"
assert_not_contains "$ERR" "8050"

finish

#!/usr/bin/env bash
# de-cli's output rules: the exit-code table in --help, --json as exactly one
# document (parse errors too), -q, stdout/stderr separation, and — under a
# pseudo-terminal from script(1) — aligned tables, progress bars and the
# confirmation prompt.
source "$(dirname "$0")/harness.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }
one_json() { python3 -c 'import json,sys; s=sys.argv[1].strip(); json.loads(s); assert "\n" not in s' "$1"; }

start_server
KEY=$(add_user alice)
printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
"$DE_CLI" apps create -n sales -q
"$DE_CLI" mount enable -n sales -q
MOUNT="$SERVER_ROOT/apps/sales/mount"

# --help: exit 0, every exit code of the table, examples.
expect_rc 0 "$DE_CLI" --help
for code in "0    ok" "2    usage" "3    not found" "4    auth" "5    conflict" "6    quota" \
    "7    network" "130  interrupted"; do
    assert_contains "$OUT" "$code"
done
assert_contains "$OUT" '$ de-cli'
for cmd in login logout whoami "apps list" "apps create" "mount status" "mount disable" upload \
    download ls cat rm mv mkdir; do
    expect_rc 0 "$DE_CLI" $cmd --help
    assert_contains "$OUT" '$ de-cli' "examples in '$cmd --help'"
done

# Parse errors: 2, text on stderr, or one JSON error document on stdout with --json.
expect_rc 2 "$DE_CLI" ls --bogus
assert_eq "$OUT" ""
expect_rc 2 "$DE_CLI" --json ls --bogus
assert_eq "$(jget 'd["error"]["kind"]')" "usage"
expect_rc 2 "$DE_CLI" apps
expect_rc 2 "$DE_CLI" nosuchcommand

# --json: one document on stdout, nothing on stderr, for successes and failures alike.
echo data >"$T/f.txt"
for args in "whoami" "apps list" "apps info -n sales" "mount status -n sales" \
    "upload $T/f.txt / -n sales" "ls -n sales" "ls -lR -n sales" "cat f.txt -n sales" \
    "mkdir d -n sales" "mv f.txt d/ -n sales" "download d/f.txt $T/g.txt -n sales" \
    "rm d/f.txt -n sales" "apps info -n nosuch" "upload $T/none / -n sales" "cat ../x -n sales"; do
    run "$DE_CLI" --json $args
    CHECKS=$((CHECKS + 1))
    one_json "$OUT" || fail "--json $args: not one JSON document: $OUT"
    assert_eq "$ERR" "" "--json $args: stderr must be empty"
    if [[ $RC != 0 ]]; then assert_contains "$OUT" '"error"'; fi
done

# -q: no chatter; results still on stdout; errors still on stderr.
echo x >"$T/q.txt"
expect_rc 0 "$DE_CLI" -q upload "$T/q.txt" / -n sales
assert_eq "$OUT$ERR" "" "-q upload is silent"
expect_rc 0 "$DE_CLI" -q ls -n sales
assert_contains "$OUT" "q.txt"
echo y >"$T/q.txt"  # other content: a conflict
expect_rc 5 "$DE_CLI" -q upload "$T/q.txt" / -n sales
assert_contains "$ERR" "de-cli: error:"
# Piped: no progress bar, no escape sequences.
head -c 3000000 /dev/urandom >"$T/big.bin"
expect_rc 0 "$DE_CLI" upload "$T/big.bin" / -n sales
assert_not_contains "$ERR" $'\r' "no progress redraws when piped"
assert_not_contains "$ERR" "[#" "no bar when piped"

# Ctrl-C during a transfer: exit 130, and no torn file in the mount.
truncate -s 4G "$T/sparse.bin"
"$DE_CLI" upload "$T/sparse.bin" / -n sales 2>"$T/int.err" &
pid=$!
wait_sigint_handler "$pid" || fail "de-cli did not install its SIGINT handler"
sleep 0.3
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
assert_eq "$rc" "130" "SIGINT exits 130"
assert_contains "$(cat "$T/int.err")" "interrupted"
[[ ! -e "$MOUNT/sparse.bin" ]] || fail "an interrupted upload left a file"

# Under a terminal: aligned table with a header, a progress bar, and the prompt.
if script -qc true /dev/null >/dev/null 2>&1; then
    tty_run() { script -qec "$1" /dev/null; }
    out=$(tty_run "'$DE_CLI' ls -l -n sales" </dev/null | tr -d '\r')
    CHECKS=$((CHECKS + 1))
    grep -Eq '^TYPE +SIZE +MODIFIED +NAME' <<<"$out" || fail "no aligned header on a TTY: $out"
    assert_contains "$out" "2.9 MiB" "human sizes on a TTY"
    out=$(tty_run "'$DE_CLI' download big.bin '$T/big2.bin' -n sales" </dev/null)
    assert_contains "$out" "100.0%" "progress bar on a TTY"
    assert_contains "$out" "[####################]"
    cmp "$T/big.bin" "$T/big2.bin" || fail "download under a TTY differs"
    out=$(tty_run "'$DE_CLI' --no-progress download big.bin '$T/big3.bin' -n sales" </dev/null)
    assert_not_contains "$out" "[#" "--no-progress"

    "$DE_CLI" mkdir keep/me -n sales -q
    out=$(printf 'n\n' | tty_run "'$DE_CLI' rm -r keep -n sales; echo rc=\$?")
    assert_contains "$out" "[y/N]" "prompt shown"
    assert_contains "$out" "rc=2" "answering no refuses"
    [[ -d "$MOUNT/keep/me" ]] || fail "answering no deleted"
    out=$(printf 'y\n' | tty_run "'$DE_CLI' rm -r keep -n sales; echo rc=\$?")
    assert_contains "$out" "rc=0" "answering yes proceeds"
    [[ ! -e "$MOUNT/keep" ]] || fail "answering yes did not delete"
fi

finish

#!/usr/bin/env bash
# The sync lease (docs/api.md, "Sync lease"): two `sync push` of different
# trees into one app at the same time never both succeed and never leave a
# mixed tree; the lease routes and fencing through curl; expiry after the TTL;
# takeover of a lease whose holder died on this host (kill -9, then an
# immediate re-run); a lease given back on Ctrl-C; a sync that loses its lease
# stops with exit 5.
#
# Test seams: DE_CLI_RESUMABLE_THRESHOLD / DE_CLI_PART_SIZE and
# DE_CLI_TEST_SLOW_UPLOAD make each sync last a couple of seconds (one
# throttled resumable upload), so that two syncs started together overlap.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user bob)
EVE_KEY=$(add_user eve)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@"; }
# Background syncs run the binary itself (not through cli()), so that $! is
# de-cli's pid: the one its lease names and the one kill -9 must hit.
APP=lab
expect_rc 0 cli apps create -n "$APP"
expect_rc 0 cli apps update -n "$APP" --persistent-filesystem
MOUNT="$SERVER_ROOT/apps/$APP/mount"
LEASE_FILE="$SERVER_ROOT/apps/$APP/sync.lease"
API="$SERVER_URL/api/v1/apps/$APP/mount"

# curl as bob: prints the body, then the status on a line of its own.
req() {
    local method=$1 url=$2
    shift 2
    curl -sS -u "bob:$KEY" -X "$method" -w '\n%{http_code}' "$@" "$url"
}
status_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
take_lease() { # take_lease HOLDER TTL [REPLACE]  (no python: the expiry check is timed)
    local body
    body=$(printf '{"holder":"%s","ttl_s":%d' "$1" "$2")
    [[ $# -lt 3 ]] || body+=$(printf ',"replace":"%s"' "$3")
    req POST "$API/sync-lease" -H 'Content-Type: application/json' -d "$body}"
}
tree_sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
mount_lease_id() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$LEASE_FILE"; }
wait_for_file() {
    local i
    for i in $(seq 1 200); do
        [[ -e "$1" ]] && return 0
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------- routes and fencing
echo "hello" >"$T/hello.txt"
r=$(take_lease "ci-runner pid=1 start=1" 60)
assert_eq "$(status_of "$r")" "201" "POST sync-lease grants a free lease"
ID=$(body_of "$r" | field "['id']")
assert_eq "$(body_of "$r" | field "['holder']")" "ci-runner pid=1 start=1" "the lease names its holder"
[[ -f "$LEASE_FILE" ]] || fail "no lease file at $LEASE_FILE"
CHECKS=$((CHECKS + 1))

r=$(take_lease "other pid=2 start=2" 60)
assert_eq "$(status_of "$r")" "409" "a second lease is refused"
assert_contains "$(body_of "$r")" "another sync of $APP is running since" "409 says since when"
assert_contains "$(body_of "$r")" "(ci-runner pid=1 start=1)" "409 names the holder"
r=$(take_lease "other pid=2 start=2" 60 "not-the-id")
assert_eq "$(status_of "$r")" "409" "replace of another id takes nothing over"

# A sync push while another holds the lease: exit 5, holder named, nothing changed.
mkdir -p "$T/small"
echo one >"$T/small/one.txt"
before=$(tree_sums "$MOUNT")
expect_rc 5 cli sync push "$T/small" -n "$APP"
assert_contains "$ERR" "another sync of $APP is running since" "the loser says another sync runs"
assert_contains "$ERR" "ci-runner pid=1 start=1" "the loser names the holder"
assert_eq "$(tree_sums "$MOUNT")" "$before" "a refused sync changed nothing"
# --dry-run and pull take no lease.
expect_rc 0 cli sync push "$T/small" -n "$APP" --dry-run
expect_rc 0 cli sync pull "$T/pulled" -n "$APP"

# Fencing: a write that names a lease other than the live one is refused.
r=$(req PUT "$API/files/fenced.txt" -H "X-De-Sync-Lease: 0000stale" --data-binary @"$T/hello.txt")
assert_eq "$(status_of "$r")" "409" "a write with a stale lease id is refused"
assert_contains "$(body_of "$r")" "the sync lease of $APP was lost (another sync took over)" \
    "the refusal says the lease was lost"
[[ ! -e "$MOUNT/fenced.txt" ]] || fail "a fenced PUT wrote its file"
CHECKS=$((CHECKS + 1))
r=$(req POST "$API/mkdir" -H "X-De-Sync-Lease: 0000stale" -H 'Content-Type: application/json' \
    -d '{"path":"fenced-dir"}')
assert_eq "$(status_of "$r")" "409" "a fenced mkdir is refused"
r=$(req DELETE "$API/files/nothing.txt" -H "X-De-Sync-Lease: 0000stale")
assert_eq "$(status_of "$r")" "409" "a fenced DELETE is refused (before its 404)"
r=$(req GET "$API/list" -H "X-De-Sync-Lease: 0000stale")
assert_eq "$(status_of "$r")" "200" "reads need no live lease"
r=$(req PUT "$API/files/leased.txt" -H "X-De-Sync-Lease: $ID" --data-binary @"$T/hello.txt")
assert_eq "$(status_of "$r")" "201" "a write under the live lease goes through"
r=$(req PUT "$API/files/plain.txt" --data-binary @"$T/hello.txt")
assert_eq "$(status_of "$r")" "201" "a write without the header is not fenced"

# Another user's app: 404 as everywhere, lease or not.
r=$(curl -sS -u "eve:$EVE_KEY" -X POST -w '\n%{http_code}' -H 'Content-Type: application/json' \
    -d '{"holder":"eve pid=1 start=1"}' "$API/sync-lease")
assert_eq "$(status_of "$r")" "404" "another user's app has no lease for eve"
r=$(curl -sS -u "eve:$EVE_KEY" -X PUT -w '\n%{http_code}' -H "X-De-Sync-Lease: $ID" \
    --data-binary @"$T/hello.txt" "$API/files/eve.txt")
assert_eq "$(status_of "$r")" "404" "eve's fenced write on bob's app is a 404"

r=$(req PUT "$API/sync-lease/$ID" -H 'Content-Type: application/json' -d '{"ttl_s":60}')
assert_eq "$(status_of "$r")" "200" "the holder renews"
r=$(req PUT "$API/sync-lease/0000stale")
assert_eq "$(status_of "$r")" "409" "renewing a lease that is not live is a conflict"
r=$(req DELETE "$API/sync-lease/$ID")
assert_eq "$(status_of "$r")" "204" "the holder releases"
r=$(req DELETE "$API/sync-lease/$ID")
assert_eq "$(status_of "$r")" "404" "a released lease is not live"
r=$(req PUT "$API/files/late.txt" -H "X-De-Sync-Lease: $ID" --data-binary @"$T/hello.txt")
assert_eq "$(status_of "$r")" "409" "a write under a released lease is refused"

# ---------------------------------------------------------------- expiry after the TTL
r=$(take_lease "short pid=3 start=3" 1)  # clamped to 5 s
r2=$(take_lease "waiting pid=4 start=4" 60)
assert_eq "$(status_of "$r")" "201" "a short lease"
assert_eq "$(status_of "$r2")" "409" "the short lease is live at first"
SHORT=$(body_of "$r" | field "['id']")
assert_eq "$(body_of "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["expires"]-d["since"])')" \
    "5" "ttl_s is clamped to at least 5 s"
sleep 5.2
r=$(req PUT "$API/files/expired.txt" -H "X-De-Sync-Lease: $SHORT" --data-binary @"$T/hello.txt")
assert_eq "$(status_of "$r")" "409" "an expired lease fences its writes"
r=$(take_lease "waiting pid=4 start=4" 60)
assert_eq "$(status_of "$r")" "201" "after the TTL another sync takes the lease without replace"
r=$(req DELETE "$API/sync-lease/$(body_of "$r" | field "['id']")")
assert_eq "$(status_of "$r")" "204" "released"

rm -f "$LEASE_FILE"  # whatever happened above, the next part starts unleased

# ---------------------------------------------------------------- a dead holder on this host
sleep 0 &
DEAD_PID=$!
wait "$DEAD_PID"
r=$(take_lease "$(hostname) pid=$DEAD_PID start=1" 600)
assert_eq "$(status_of "$r")" "201" "a lease whose holder is gone"
expect_rc 0 cli sync push "$T/small" -n "$APP"
assert_eq "$(cat "$MOUNT/one.txt" 2>/dev/null)" "one" "the sync took the dead holder's lease over"
[[ ! -e "$LEASE_FILE" ]] || fail "the sync did not release its lease"
CHECKS=$((CHECKS + 1))
# A live holder on this host (this shell) is not taken over.
r=$(take_lease "$(hostname) pid=$$ start=$(awk '{print $22}' /proc/$$/stat)" 600)
assert_eq "$(status_of "$r")" "201" "a lease of a live process"
expect_rc 5 cli sync push "$T/small" -n "$APP"
assert_contains "$ERR" "pid=$$" "a live holder on this host is not taken over"
r=$(req DELETE "$API/sync-lease/$(body_of "$r" | field "['id']")")

rm -f "$LEASE_FILE"

# ---------------------------------------------------------------- two syncs at once
# Tree A: 300 small files and one throttled big one, pushed without --delete;
# tree B: 300 other files (some paths shared, other content) and its big one,
# pushed with --delete. From an empty mount, whoever wins, the mount must end
# up exactly the winner's tree.
export DE_CLI_RESUMABLE_THRESHOLD=1MiB DE_CLI_PART_SIZE=1MiB
make_tree() { # make_tree DIR TAG
    mkdir -p "$1/common" "$1/only-$2"
    local i
    for i in $(seq 1 150); do
        echo "$2 common $i" >"$1/common/f$i.txt"
        echo "$2 own $i" >"$1/only-$2/g$i.txt"
    done
    head -c 3145728 /dev/urandom >"$1/big-$2.bin"
}
make_tree "$T/A" a
make_tree "$T/B" b
SUMS_A=$(tree_sums "$T/A")
SUMS_B=$(tree_sums "$T/B")
both_zero=0
mixed=0
for round in 1 2 3 4 5; do
    find "$MOUNT" -mindepth 1 -delete
    DE_CLI_TEST_SLOW_UPLOAD=1500000 "$DE_CLI" --no-keyfile sync push "$T/A" -n "$APP" >"$T/a.out" 2>"$T/a.err" &
    pa=$!
    DE_CLI_TEST_SLOW_UPLOAD=1500000 "$DE_CLI" --no-keyfile sync push "$T/B" -n "$APP" --delete -y >"$T/b.out" 2>"$T/b.err" &
    pb=$!
    set +e
    wait "$pa"
    ra=$?
    wait "$pb"
    rb=$?
    set -e
    got=$(tree_sums "$MOUNT")
    CHECKS=$((CHECKS + 1))
    if [[ $ra == 0 && $rb == 0 ]]; then
        both_zero=$((both_zero + 1))
        fail "round $round: both syncs exited 0"
    elif [[ $ra == 0 ]]; then
        [[ $rb == 5 ]] || fail "round $round: the loser (B) exited $rb, not 5: $(cat "$T/b.err")"
        grep -q "another sync of $APP is running since .*pid=$pa " "$T/b.err" ||
            fail "round $round: B's message does not name A: $(cat "$T/b.err")"
        [[ "$got" == "$SUMS_A" ]] || { mixed=$((mixed + 1)); fail "round $round: the mount is not A's tree"; }
    elif [[ $rb == 0 ]]; then
        [[ $ra == 5 ]] || fail "round $round: the loser (A) exited $ra, not 5: $(cat "$T/a.err")"
        grep -q "another sync of $APP is running since .*pid=$pb " "$T/a.err" ||
            fail "round $round: A's message does not name B: $(cat "$T/a.err")"
        [[ "$got" == "$SUMS_B" ]] || { mixed=$((mixed + 1)); fail "round $round: the mount is not B's tree"; }
    else
        fail "round $round: neither sync succeeded (A $ra: $(cat "$T/a.err"); B $rb: $(cat "$T/b.err"))"
    fi
    [[ ! -e "$LEASE_FILE" ]] || fail "round $round: the winner did not release its lease"
done
echo "two syncs at once, 5 rounds: both exited 0 in $both_zero, mixed tree in $mixed"

# ---------------------------------------------------------------- kill -9, then re-run at once
find "$MOUNT" -mindepth 1 -delete
DE_CLI_TEST_SLOW_UPLOAD=300000 "$DE_CLI" --no-keyfile sync push "$T/A" -n "$APP" >"$T/k.out" 2>"$T/k.err" &
pk=$!
wait_for_file "$LEASE_FILE" || fail "the sync took no lease"
sleep 0.5
kill -KILL "$pk"
wait "$pk" 2>/dev/null || true
[[ -e "$LEASE_FILE" ]] || fail "the killed sync's lease should still be there"
CHECKS=$((CHECKS + 1))
t0=$(date +%s)
expect_rc 0 cli sync push "$T/A" -n "$APP"
assert_eq "$(tree_sums "$MOUNT")" "$SUMS_A" "the re-run after kill -9 finished the tree"
(($(date +%s) - t0 < 30)) || fail "the re-run waited for the dead sync's lease"
CHECKS=$((CHECKS + 1))

# ---------------------------------------------------------------- Ctrl-C gives the lease back
DE_CLI_TEST_SLOW_UPLOAD=300000 "$DE_CLI" --no-keyfile sync push "$T/B" -n "$APP" --delete -y >"$T/c.out" 2>"$T/c.err" &
pc=$!
wait_sigint_handler "$pc" || fail "no SIGINT handler"
wait_for_file "$LEASE_FILE" || fail "the sync took no lease"
sleep 0.5
kill -INT "$pc"
set +e
wait "$pc"
rc=$?
set -e
assert_eq "$rc" "130" "Ctrl-C ends the sync with 130"
[[ ! -e "$LEASE_FILE" ]] || fail "the interrupted sync kept its lease"
CHECKS=$((CHECKS + 1))

# ---------------------------------------------------------------- a lost lease ends the sync
find "$MOUNT" -mindepth 1 -delete
DE_CLI_TEST_SLOW_UPLOAD=300000 "$DE_CLI" --no-keyfile sync push "$T/B" -n "$APP" >"$T/l.out" 2>"$T/l.err" &
pl=$!
wait_for_file "$LEASE_FILE" || fail "the sync took no lease"
sleep 0.5
r=$(take_lease "usurper pid=9 start=9" 60 "$(mount_lease_id)")
assert_eq "$(status_of "$r")" "201" "replace with the live id takes the lease over"
set +e
wait "$pl"
rc=$?
set -e
assert_eq "$rc" "5" "the sync that lost its lease exits 5"
assert_contains "$(cat "$T/l.err")" "was lost" "it says the lease was lost"
r=$(req DELETE "$API/sync-lease/$(body_of "$r" | field "['id']")")
assert_eq "$(status_of "$r")" "204" "the usurper still holds the lease"

finish

#!/usr/bin/env bash
# Issue 17: what replicas leave on the shared root. A recursive delete whose
# reaping replica dies midway (kill -9) is finished by another replica; a
# replica starting while another one stages an upload leaves that upload be;
# what a killed replica staged is removed by the next one to start. Needs the
# test hook DE_SERVER_TEST_REAP_PAUSE_MS (a DE_TEST_HOOKS build). ~8 s.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/replica_harness.sh"

export DE_SERVER_TEST_REAP_PAUSE_MS=100
start_replicas 2
KEY=$(add_user alice)
R1=${REPLICA_URL[1]} R2=${REPLICA_URL[2]}
api() { curl -s -o "$T/body" -w '%{http_code}' -u "alice:$KEY" "$@"; }
assert_eq "$(api -H 'Content-Type: application/json' -d '{"name":"sales"}' "$R1/api/v1/apps")" 201
assert_eq "$(api -X PUT "$R2/api/v1/apps/sales/mount")" 201
MOUNT="$SERVER_ROOT/apps/sales/mount"

# --- the reaper dies midway: another replica finishes -----------------------------------------
reaper=""
for i in 1 2; do grep -q 'reaps the trash' "$T/replica-$i.err" && reaper=$i; done
assert_eq "$([[ -n $reaper ]] && grep -l 'reaps the trash' "$T"/replica-*.err | wc -l)" 1 \
    "exactly one replica reaps"
other=$((3 - reaper))
for d in $(seq 1 40); do
    mkdir -p "$MOUNT/tree/d$d"
    for f in 1 2 3 4 5; do echo "$d $f" >"$MOUNT/tree/d$d/f$f"; done
done
assert_eq "$(api -X DELETE "${REPLICA_URL[$other]}/api/v1/apps/sales/mount/files/tree?recursive=true")" 204 \
    "the recursive delete through the replica that does not reap"
[[ ! -e "$MOUNT/tree" ]] || fail "the tree is still in the mount"
trash_members() { find "$SERVER_ROOT/trash" -mindepth 2 -maxdepth 2 | wc -l; }
# The reaper removes one member every 100 ms (the hook): kill it once it removed some.
left=40
for _ in $(seq 1 100); do
    left=$(trash_members)
    ((left > 0 && left <= 35)) && break
    sleep 0.05
done
kill_replica "$reaper" KILL
CHECKS=$((CHECKS + 1))
((left > 0 && left < 40)) || fail "the reaper was not midway when killed ($left of 40 members left)"
for _ in $(seq 1 100); do
    [[ -z "$(ls -A "$SERVER_ROOT/trash")" ]] && break
    sleep 0.1
done
assert_eq "$(ls -A "$SERVER_ROOT/trash" | wc -l)" 0 "the trash is empty again"
assert_contains "$(cat "$T/replica-$other.err")" "reaps the trash" "the other replica took over"

# --- a replica that starts leaves another one's staged upload be --------------------------------
head -c 3000000 /dev/urandom >"$T/slow"
curl -s -o /dev/null -w '%{http_code}' -u "alice:$KEY" -T "$T/slow" --limit-rate 1M \
    "${REPLICA_URL[$other]}/api/v1/apps/sales/mount/files/slow.bin" >"$T/slow.code" &
CURL=$!
for _ in $(seq 1 100); do
    [[ -n "$(ls -A "$SERVER_ROOT/apps/sales/staging")" ]] && break
    sleep 0.02
done
assert_eq "$(ls -A "$SERVER_ROOT/apps/sales/staging" | wc -l)" 1 "the upload is staged"
start_replica "$reaper"  # starts while the upload is staged on the other replica
wait "$CURL"
assert_eq "$(cat "$T/slow.code")" 201 "the staged upload went on"
CHECKS=$((CHECKS + 1))
cmp -s "$T/slow" "$MOUNT/slow.bin" || fail "the staged upload's bytes"

# --- what a killed replica staged goes when the next one starts --------------------------------
curl -s -o /dev/null -u "alice:$KEY" -T "$T/slow" --limit-rate 500K \
    "${REPLICA_URL[$other]}/api/v1/apps/sales/mount/files/never.bin" &
CURL=$!
for _ in $(seq 1 100); do
    [[ -n "$(ls -A "$SERVER_ROOT/apps/sales/staging")" ]] && break
    sleep 0.02
done
kill_replica "$other" KILL
wait "$CURL" || true
assert_eq "$(ls -A "$SERVER_ROOT/apps/sales/staging" | wc -l)" 1 "the killed replica's staged file"
start_replica "$other"
assert_eq "$(ls -A "$SERVER_ROOT/apps/sales/staging" | wc -l)" 0 "removed by the next start"
[[ ! -e "$MOUNT/never.bin" ]] || fail "a killed upload reached the mount"

stop_replicas
finish

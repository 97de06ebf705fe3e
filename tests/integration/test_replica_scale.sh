#!/usr/bin/env bash
# Issue 17: three de-server replicas on one root behind a round-robin nginx (no
# stickiness), all on loopback. de-cli's end-to-end scenario through the
# balancer; a race to create one app through different replicas (exactly one
# wins); a token revoked through one replica refused by the others at once;
# two uploads through different replicas that together pass the quota (one is
# refused), also when the first one has committed just before; a resumable upload's
# reservation counted on every replica until one completes it. ~20 s (three 3.5 s waits).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/replica_harness.sh"

start_replicas 3 --quota 10MiB
start_balancer
KEY=$(add_user alice)
B=$BALANCER_URL
R1=${REPLICA_URL[1]} R2=${REPLICA_URL[2]} R3=${REPLICA_URL[3]}
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }

# --- de-cli's scenario, every request through the balancer ---------------------------------
printf '%s' "$KEY" | "$DE_CLI" --host "$B" login -u alice --password-stdin -q
expect_rc 0 "$DE_CLI" apps create -n sales -q
expect_rc 0 "$DE_CLI" mount enable -n sales -q
mkdir -p "$T/src/data/sub"
head -c 3000000 /dev/urandom >"$T/src/data/big.bin"
for i in $(seq 1 40); do echo "row $i" >"$T/src/data/sub/f$i.csv"; done
expect_rc 0 "$DE_CLI" upload -r "$T/src/data" / -n sales -q
expect_rc 0 "$DE_CLI" ls -R data -n sales
assert_eq "$(grep -c '^sub/f' <<<"$OUT")" 40 "the listing through the balancer"
expect_rc 0 "$DE_CLI" download -r data "$T/back" -n sales -q
CHECKS=$((CHECKS + 1))
diff -r "$T/src/data" "$T/back/data" >/dev/null 2>&1 || diff -r "$T/src/data" "$T/back" >/dev/null ||
    fail "the downloaded tree differs from the source"
expect_rc 0 "$DE_CLI" mv data/big.bin data/moved.bin -n sales
expect_rc 0 "$DE_CLI" rm -r data/sub -n sales --yes
expect_rc 0 "$DE_CLI" ls -R data -n sales
assert_eq "$OUT" "moved.bin" "after mv and rm -r through the balancer"
expect_rc 0 "$DE_CLI" mount status -n sales --json
assert_contains "$OUT" '"used_bytes":3000000'
# Every replica saw a part of it (round robin), and each one answers the same.
for u in "$R1" "$R2" "$R3"; do
    assert_eq "$(code -u "alice:$KEY" "$u/api/v1/apps/sales/mount/files/data/moved.bin")" 200 \
        "the file through $u"
    CHECKS=$((CHECKS + 1))
    cmp -s "$T/body" "$T/src/data/big.bin" || fail "bytes through $u"
done

# --- a race to create one app through three replicas: exactly one wins ---------------------
for round in 1 2 3; do
    pids=()
    for i in 1 2 3; do
        curl -s -o /dev/null -w '%{http_code}\n' -u "alice:$KEY" -H 'Content-Type: application/json' \
            -d "{\"name\":\"race$round\"}" "${REPLICA_URL[$i]}/api/v1/apps" >"$T/race.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"  # not a bare wait: the replicas and nginx are children too
    got=$(cat "$T"/race.* | sort | tr '\n' ' ')
    assert_eq "$got" "201 409 409 " "round $round of the create race"
done

# --- a token revoked through one replica is refused by the others at once --------------------
TOKEN=$(curl -s -u "alice:$KEY" -X POST "$R1/api/v1/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
for u in "$R2" "$R3"; do
    assert_eq "$(code -H "Authorization: Bearer $TOKEN" "$u/api/v1/whoami")" 200 "token on $u"
done
assert_eq "$(code -X POST -H "Authorization: Bearer $TOKEN" "$R1/api/v1/logout")" 204 "logout"
for u in "$R2" "$R3" "$B"; do
    assert_eq "$(code -H "Authorization: Bearer $TOKEN" "$u/api/v1/whoami")" 401 \
        "the revoked token on $u"
done

# --- the quota (10 MiB) across replicas ------------------------------------------------------
expect_rc 0 "$DE_CLI" rm data/moved.bin -n sales
head -c 6000000 /dev/urandom >"$T/six"
put() { # REPLICA NAME [curl args]: prints the status
    local u=$1 name=$2
    shift 2
    curl -s -o /dev/null -w '%{http_code}' -u "alice:$KEY" -T "$T/six" "$@" \
        "$u/api/v1/apps/sales/mount/files/$name"
}
# Two at once, slowed so that each holds its reservation while the other asks.
put "$R1" a.bin --limit-rate 3M >"$T/q1" &
p1=$!
put "$R2" b.bin --limit-rate 3M >"$T/q2" &
wait "$p1" $!
assert_eq "$(printf '%s\n%s\n' "$(cat "$T/q1")" "$(cat "$T/q2")" | sort | tr '\n' ' ')" "201 507 " \
    "two 6 MB uploads through two replicas under a 10 MiB quota"
assert_eq "$(find "$SERVER_ROOT/apps/sales/mount" -name '*.bin' | wc -l)" 1 "one of them stored"
# One after the other, the first committed before the second asks: replicas 1 and 2 counted
# the mount just before (a count stands for 2 s), so only the ledger's list of the other
# replicas' recent commits tells them about the first file.
rm -f "$SERVER_ROOT/apps/sales/mount/"*.bin
sleep 3.5  # older than the 2 s a count stands, and than the 2 s margin for clocks (floored to seconds)
echo x >"$T/one"
for u in "$R1" "$R2"; do
    assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$KEY" -T "$T/one"         "$u/api/v1/apps/sales/mount/files/one-$RANDOM")" 201 "a small upload through $u"
done
assert_eq "$(put "$R3" c.bin)" 201 "the first upload"
assert_eq "$(put "$R1" d.bin)" 507 "the second, at once, through another replica"
assert_eq "$(put "$R2" e.bin)" 507 "and through the third"

# A resumable upload's reservation is the upload's, on the root: made through one replica, it
# counts on every other, also once that replica is dead, and ends when another completes it.
rm -f "$SERVER_ROOT/apps/sales/mount/"*.bin "$SERVER_ROOT/apps/sales/mount/"one-*
sleep 3.5  # as above: the commits of the checks above are older than any count now
tus_create() { # REPLICA PATH: prints the Location
    curl -s -D - -o /dev/null -u "alice:$KEY" -X POST -H 'Tus-Resumable: 1.0.0' \
        -H 'Upload-Length: 6000000' -H "Upload-Metadata: path $(printf '%s' "$2" | base64 -w0)" \
        "$1/api/v1/apps/sales/uploads" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p'
}
LOC=$(tus_create "$R1" tus.bin)
CHECKS=$((CHECKS + 1))
[[ $LOC == /api/v1/apps/sales/uploads/* ]] || fail "the tus creation through replica 1: '$LOC'"
assert_eq "$(put "$R2" f.bin)" 507 "a PUT through replica 2 while replica 1's upload holds 6 MB"
kill_replica 1 KILL
assert_eq "$(put "$R3" f.bin)" 507 "still refused once replica 1 is dead"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$KEY" -X PATCH -H 'Tus-Resumable: 1.0.0' \
    -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' --data-binary @"$T/six" \
    "$R2$LOC")" 204 "the upload finished through replica 2"
assert_eq "$(put "$R3" g.bin)" 507 "its 6 MB are now usage"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$KEY" -X DELETE \
    "$R3/api/v1/apps/sales/mount/files/tus.bin")" 204 "its file deleted"
sleep 3.5  # a commit through another replica counts for ~3 s even when deleted (errs high)
assert_eq "$(put "$R3" h.bin)" 201 "and the room is back: no reservation left behind"

stop_replicas
finish

#!/usr/bin/env bash
# "Run the same command again" for uploads (issue 13):
# 1. an interrupted `upload -r` re-run without --update sends only what is
#    missing (identical files are "unchanged") and exits 0; a target with other
#    content still needs --update;
# 2. the local hash cache: a no-op re-run reads no file, a touched file is
#    read again, a corrupt cache is ignored, the cache file is private;
# 3. the commit window: a client killed right after the server completed its
#    upload, or halfway through removing its journal, re-runs to success and
#    removes every file of its journal;
# 4. the loser of a race terminates its tus upload: no staged file, no
#    reservation, usage equals the winner's file;
# 5. sync push: files of equal size whose mtime differs are compared by
#    SHA-256 and, when identical, are unchanged (not sent).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "$OUT"; }

start_server
setup_app
CACHE="$XDG_CACHE_HOME/de-cli/hashes"

# ---- 1. interrupted upload -r -------------------------------------------
# 300 small files (batches of 20) and one big resumable file sent slowly last:
# the client is killed while the big one goes up, after the batches committed.
mkdir -p "$T/tree/a" "$T/tree/b"
for i in $(seq 1 150); do
    echo "a file $i" >"$T/tree/a/f$i.txt"
    echo "b file $i" >"$T/tree/b/g$i.txt"
done
head -c $((3 << 20)) /dev/urandom >"$T/tree/big.bin"
DE_BATCH_MAX_FILES=20 DE_CLI_TEST_SLOW_UPLOAD=300000 \
    "$DE_CLI" upload -r "$T/tree/" /t -n sales -q >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
for _ in $(seq 1 200); do
    [[ -n "$(journal_url)" ]] && break
    sleep 0.05
done
kill -9 "$BG" 2>/dev/null || true
wait "$BG" 2>/dev/null || true
[[ -n "$(journal_url)" ]] || fail "the client was not killed during the big file"
COMMITTED=$(find "$MOUNT/t" -type f | wc -l)
[[ ! -e "$MOUNT/t/big.bin" ]] || fail "big.bin committed before the kill"
# Also a part of the tree that never went up (as if killed between batches).
"$DE_CLI" rm "t/b/g1.txt" "t/b/g2.txt" "t/b/g3.txt" -n sales -q

expect_rc 0 "$DE_CLI" upload -r "$T/tree/" /t -n sales --json
assert_eq "$(jget 'd["files_unchanged"]')" "$((COMMITTED - 3))" "the committed files are unchanged"
assert_eq "$(jget 'd["files_transferred"], sum(f["action"] == "uploaded" for f in d["files"])')" "(4, 4)" "only the missing files are sent"
assert_eq "$(jget 'd["resumed"]')" "True" "the big file resumes"
diff -r "$T/tree" "$MOUNT/t" >/dev/null || fail "the mount differs from the tree after the re-run"
# Human summary of a no-op re-run.
expect_rc 0 "$DE_CLI" upload -r "$T/tree/" /t -n sales
assert_contains "$ERR" "Nothing to upload: 301 files in"
assert_eq "$(journal_count)" "0" "no journal left"

# A target with other content still needs --update (exit 5 names only it).
echo "A FILE 7" >"$T/tree/a/f7.txt"  # same size, other content
expect_rc 5 "$DE_CLI" upload -r "$T/tree/" /t -n sales
assert_contains "$ERR" "1 of 301 files exists already with other content"
assert_contains "$ERR" "t/a/f7.txt"
expect_rc 0 "$DE_CLI" upload -r "$T/tree/" /t -n sales --update --json
assert_eq "$(jget 'd["files_transferred"], sum(f["action"] == "uploaded" for f in d["files"])')" "(1, 1)" "--update sends only the changed file"
assert_eq "$(jget 'd["files_unchanged"]')" "300" "--update skips identical files too"
assert_eq "$(cat "$MOUNT/t/a/f7.txt")" "A FILE 7"
# A single file: HEAD's ETag decides.
expect_rc 0 "$DE_CLI" upload "$T/tree/a/f8.txt" /t/a/ -n sales
assert_contains "$ERR" "Nothing to upload"

# ---- 2. the local hash cache --------------------------------------------
assert_eq "$(stat -c %a "$CACHE")" "600" "the cache file is private"
expect_rc 0 "$DE_CLI" -v upload -r "$T/tree/" /t -n sales
assert_contains "$ERR" "hash cache: 301 hits, 0 files read (0 B)"
sleep 0.01
touch "$T/tree/a/f9.txt" "$T/tree/big.bin"  # mtime and ctime change, content does not
expect_rc 0 "$DE_CLI" -v upload -r "$T/tree/" /t -n sales --json
assert_contains "$ERR" "hash cache: 299 hits, 2 files read"
assert_eq "$(jget 'd["files_unchanged"]')" "301" "touched files are still identical"
# chmod changes only the ctime: read again as well.
chmod 600 "$T/tree/b/g9.txt"
expect_rc 0 "$DE_CLI" -v upload -r "$T/tree/" /t -n sales
assert_contains "$ERR" "hash cache: 300 hits, 1 file read"
# A corrupt cache is ignored (and rebuilt).
head -c 5000 /dev/urandom >"$CACHE"
expect_rc 0 "$DE_CLI" -v upload -r "$T/tree/" /t -n sales
assert_contains "$ERR" "hash cache: 0 hits, 301 files read"
expect_rc 0 "$DE_CLI" -v upload -r "$T/tree/" /t -n sales
assert_contains "$ERR" "hash cache: 301 hits, 0 files read"
# A fresh upload learns the hashes of what it sent: its re-run reads nothing.
mkdir -p "$T/fresh"
for i in $(seq 1 40); do head -c 20000 /dev/urandom >"$T/fresh/r$i.bin"; done
expect_rc 0 "$DE_CLI" upload -r "$T/fresh" / -n sales
expect_rc 0 "$DE_CLI" -v upload -r "$T/fresh" / -n sales
assert_contains "$ERR" "hash cache: 40 hits, 0 files read"

# ---- 3. the commit window: killed after the last byte --------------------
head -c $((2 << 20)) /dev/urandom >"$T/cw.bin"
run env DE_CLI_TEST_ABORT_AFTER_COMPLETE=1 "$DE_CLI" upload "$T/cw.bin" /cw.bin -n sales -q
assert_eq "$RC" "137" "the client died after .../complete"
cmp -s "$T/cw.bin" "$MOUNT/cw.bin" || fail "the server committed cw.bin"
assert_eq "$(journal_count)" "1" "the journal survived"
expect_rc 0 "$DE_CLI" upload "$T/cw.bin" /cw.bin -n sales --json
assert_eq "$(jget 'd["files_unchanged"]')" "1" "the completed upload counts as done"
assert_eq "$(jget '[f["action"] for f in d["files"]], d["files_transferred"]')" "(['completed'], 0)" "nothing sent again"
assert_eq "$(journal_count)" "0" "the journal is removed"
# The same inside a tree (upload -r with a big file whose journal completed).
mkdir -p "$T/cwt"
head -c $((2 << 20)) /dev/urandom >"$T/cwt/big.bin"
echo small >"$T/cwt/s.txt"
run env DE_CLI_TEST_ABORT_AFTER_COMPLETE=1 "$DE_CLI" upload -r "$T/cwt" / -n sales -q
assert_eq "$RC" "137" "the tree's client died after .../complete"
expect_rc 0 "$DE_CLI" upload -r "$T/cwt" / -n sales
assert_eq "$(journal_count)" "0" "the tree's journal is removed"
diff -r "$T/cwt" "$MOUNT/cwt" >/dev/null || fail "cwt differs"
# Killed halfway through removing the journal of a completed upload (fault
# trial kill_client:upload_big, "client journal left: uploads/….crc"): the
# re-run succeeds and leaves no file of the journal, part CRCs included.
head -c $((2 << 20)) /dev/urandom >"$T/cj.bin"
run env DE_CLI_TEST_ABORT_IN_JOURNAL_REMOVAL=1 "$DE_CLI" upload "$T/cj.bin" /cj.bin -n sales -q
assert_eq "$RC" "137" "the client died while removing its journal"
cmp -s "$T/cj.bin" "$MOUNT/cj.bin" || fail "the server committed cj.bin"
expect_rc 0 "$DE_CLI" upload "$T/cj.bin" /cj.bin -n sales
assert_eq "$(find "$JOURNALS" -type f | wc -l)" "0" "no journal file left (json, crc or temp)"

# ---- 4. the loser of a race terminates its upload ------------------------
head -c $((3 << 20)) /dev/urandom >"$T/r1.bin"
head -c $((3 << 20)) /dev/urandom >"$T/r2.bin"
DE_CLI_TEST_SLOW_UPLOAD=2000000 "$DE_CLI" upload "$T/r1.bin" /race.bin -n sales -q \
    >"$T/r1.out" 2>"$T/r1.err" &
P1=$!
DE_CLI_TEST_SLOW_UPLOAD=2000000 "$DE_CLI" upload "$T/r2.bin" /race.bin -n sales -q \
    >"$T/r2.out" 2>"$T/r2.err" &
P2=$!
set +e
wait "$P1"
RC1=$?
wait "$P2"
RC2=$?
set -e
assert_eq "$(printf '%s\n' "$RC1" "$RC2" | sort | tr '\n' ' ')" "0 5 " "one wins, one conflicts"
if [[ "$RC1" == 0 ]]; then WIN="$T/r1.bin"; else WIN="$T/r2.bin"; fi
cmp -s "$WIN" "$MOUNT/race.bin" || fail "race.bin is the winner's file"
assert_eq "$(journal_count)" "0" "the loser removed its journal"
LEFT=$(find "$SERVER_ROOT/apps/sales/uploads" -name '*.data' 2>/dev/null | wc -l)
assert_eq "$LEFT" "0" "no staged upload left behind"
expect_rc 0 "$DE_CLI" mount status -n sales --json
USED=$(jget 'd["mount"]["used_bytes"]')
WANT=$(find "$MOUNT" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
assert_eq "$USED" "$WANT" "usage equals the mount's content"
# The 3 MiB the loser had reserved are free again: a file of the remaining room fits.
expect_rc 0 "$DE_CLI" upload "$T/r2.bin" /after-race.bin -n sales

# ---- 5. sync push: identical content, other mtime ------------------------
mkdir -p "$T/sy/d"
for i in $(seq 1 40); do echo "sync file $i" >"$T/sy/d/s$i.txt"; done
echo "one more" >"$T/sy/top.txt"
expect_rc 0 "$DE_CLI" --json sync push "$T/sy" --remote-dir sy -n sales
assert_eq "$(jget 'd["files_transferred"]')" "41" "the first push sends everything"
touch -d '2021-05-06 07:08:09' "$T"/sy/d/*.txt "$T/sy/top.txt"  # content unchanged
echo "SYNC FILE 3" >"$T/sy/d/s3.txt"                           # same size, other content
touch -d '2021-05-06 07:08:09' "$T/sy/d/s3.txt"
expect_rc 0 "$DE_CLI" --json sync push "$T/sy" --remote-dir sy -n sales
assert_eq "$(jget 'd["files_transferred"]')" "1" "only the changed file is sent"
assert_eq "$(jget 'd["files_unchanged"]')" "40" "identical files count as unchanged"
assert_eq "$(cat "$MOUNT/sy/d/s3.txt")" "SYNC FILE 3"
# A re-run: the identical files stay unchanged (their remote mtime is the old one).
touch -d '2022-01-01' "$T/sy/top.txt"
expect_rc 0 "$DE_CLI" --json sync push "$T/sy" --remote-dir sy -n sales
assert_eq "$(jget 'd["files_transferred"]')" "0" "a touched file is not sent again"

# A changed file ahead of an identical one in the plan's order (the kept
# operation before a dropped one once came out with an empty path and failed).
mkdir -p "$T/sz"
echo "alpha 1" >"$T/sz/a.txt"
echo "bravo 1" >"$T/sz/b.txt"
expect_rc 0 "$DE_CLI" --json sync push "$T/sz" --remote-dir sz -n sales
echo "alpha 2" >"$T/sz/a.txt"                               # same size, other content
touch -d '2021-05-06 07:08:09' "$T/sz/a.txt" "$T/sz/b.txt"  # b: content unchanged
expect_rc 0 "$DE_CLI" --json sync push "$T/sz" --remote-dir sz -n sales
assert_eq "$(jget 'd["files_transferred"]')" "1" "the changed file ahead of an identical one is sent"
assert_eq "$(jget 'd["files_unchanged"]')" "1" "the identical file after it is unchanged"
assert_eq "$(cat "$MOUNT/sz/a.txt")" "alpha 2"

finish

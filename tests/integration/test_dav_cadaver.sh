#!/usr/bin/env bash
# cadaver (Debian's, on neon), scripted, against de-server's WebDAV (issue 16):
# put, get (the same bytes), mkcol, move, copy, propset/propget (a dead
# property's round trip, also seen by another client), ls, delete, and
# lock/unlock: while cadaver holds the lock, another client without its token
# cannot write (423), cadaver itself can (it sends its token in the If header).
# cadaver exits 0 whatever happens: its output and the mount are what is checked.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/dav_helpers.sh"
command -v cadaver >/dev/null || { echo "FAIL: cadaver is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

dav_setup

# Credentials in a private ~/.netrc (HOME is the test's own), never on a command line.
host=${SERVER_URL#http://}
host=${host%%:*}
umask 077
printf 'machine %s\nlogin alice\npassword %s\n' "$host" "$KEY" >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
: >"$HOME/.cadaverrc"
umask 022
mkdir -p "$T/work"
cd "$T/work" || exit 1

# cad SCRIPT: runs cadaver on the app's root with the commands of SCRIPT (a
# string, one command a line); OUT is what it printed.
cad() {
    printf '%s\nquit\n' "$1" >"$T/cad.script"
    run timeout 60 cadaver "$DAV/" <"$T/cad.script"
    CHECKS=$((CHECKS + 1))
    [[ $RC == 0 ]] || fail "cadaver exited $RC"
}
# said TEXT WHAT: cadaver's output has TEXT.
said() { assert_contains "$OUT" "$1" "$2"; }
# ok TEXT WHAT: a line of cadaver's output has TEXT and ends in "succeeded."
# (between them, an upload or download draws its progress).
ok() {
    CHECKS=$((CHECKS + 1))
    grep -F -- "$1" <<<"$OUT" | grep -q 'succeeded\.$' || fail "$2: no '$1 ... succeeded.' in: $(head -c 1500 <<<"$OUT")"
}

printf 'hello from cadaver\n' >hello.txt
head -c 1048576 /dev/urandom >big.bin
cad "put hello.txt
put big.bin
ls
get hello.txt got.txt
get big.bin got.bin
mkcol folder
move hello.txt folder/moved.txt
copy big.bin folder/copy.bin
propset folder/moved.txt colour blue
propget folder/moved.txt colour
propnames folder/moved.txt
ls folder"
ok "Uploading hello.txt to \`/dav/sales/hello.txt':" "put"
ok "Uploading big.bin to \`/dav/sales/big.bin':" "put of 1 MiB"
ok "Downloading \`/dav/sales/big.bin' to got.bin:" "get of 1 MiB"
ok "Downloading \`/dav/sales/hello.txt' to got.txt:" "get"
ok "Creating \`folder':" "mkcol"
ok "Moving \`/dav/sales/hello.txt' to \`/dav/sales/folder/moved.txt': " "move"
ok "Copying \`/dav/sales/big.bin' to \`/dav/sales/folder/copy.bin': " "copy"
ok "Setting property on \`folder/moved.txt':" "propset"
said "Value of colour is: blue" "propget"
assert_not_contains "$OUT" "failed" "no command failed"
# ls: the root (before mkcol), then the folder with both files and their sizes.
CHECKS=$((CHECKS + 1))
grep -Eq '^ +big\.bin +1048576 ' <<<"$OUT" || fail "ls lists big.bin with its size"
CHECKS=$((CHECKS + 1))
grep -Eq '^ +moved\.txt +19 ' <<<"$OUT" || fail "ls folder lists moved.txt with its size"
CHECKS=$((CHECKS + 1))
cmp -s hello.txt got.txt || fail "get returned other bytes than put"
CHECKS=$((CHECKS + 1))
cmp -s big.bin got.bin || fail "get of 1 MiB returned other bytes"
CHECKS=$((CHECKS + 1))
cmp -s hello.txt "$MOUNT/folder/moved.txt" || fail "the mount holds the moved file"
CHECKS=$((CHECKS + 1))
cmp -s big.bin "$MOUNT/folder/copy.bin" || fail "the mount holds the copy"
CHECKS=$((CHECKS + 1))
[[ ! -e "$MOUNT/hello.txt" ]] || fail "move left its source on the mount"

# The dead property, as another client sees it (cadaver's namespace).
dav PROPFIND /folder/moved.txt -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><C:colour xmlns:C="http://webdav.org/cadaver/custom-properties/"/></D:prop></D:propfind>'
assert_eq "$CODE" "207" "PROPFIND of cadaver's property"
assert_contains "$BODY" ">blue</" "the value cadaver set"
# ... and it follows the file: a property set by curl read by cadaver, after a move.
dav PROPPATCH /folder/moved.txt --data '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><C:size xmlns:C="http://webdav.org/cadaver/custom-properties/">large</C:size></D:prop></D:set></D:propertyupdate>'
assert_eq "$CODE" "207" "PROPPATCH by curl"
cad "move folder/moved.txt folder/again.txt
propget folder/again.txt size
propget folder/again.txt colour
propset folder/again.txt colour red
propget folder/again.txt colour
delete big.bin
ls"
said "Value of size is: large" "propget of a property set by another client, after a move"
said "Value of colour is: blue" "the property moved with its file"
said "Value of colour is: red" "propset replaces a value"
ok "Deleting \`big.bin':" "delete"
assert_not_contains "$OUT" "failed" "no command failed"
CHECKS=$((CHECKS + 1))
grep -Eq '^Coll: +folder ' <<<"$OUT" || fail "ls lists the folder"
CHECKS=$((CHECKS + 1))
grep -Eq '^ +big\.bin ' <<<"$(sed -n '/^Deleting/,$p' <<<"$OUT")" && fail "ls after delete still lists big.bin"
CHECKS=$((CHECKS + 1))
[[ ! -e "$MOUNT/big.bin" && -f "$MOUNT/folder/again.txt" ]] || fail "delete and move on the mount"

# ---- lock / unlock: cadaver holds the lock while curl tries -------------------------
mkfifo "$T/cad.in"
cadaver "$DAV/" <"$T/cad.in" >"$T/cad.lock.out" 2>&1 &
CAD_PID=$!
exec 7>"$T/cad.in"
printf 'lock folder/again.txt\ndiscover folder/again.txt\n' >&7
locked=""
for _ in $(seq 1 100); do
    dav PROPFIND /folder/again.txt -H 'Depth: 0' --data '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>'
    if [[ "$BODY" == *"activelock>"* ]]; then locked=1; break; fi
    sleep 0.1
done
assert_eq "$locked" "1" "cadaver's lock shows in lockdiscovery"
printf 'not yours\n' >"$T/intruder"
dav PUT /folder/again.txt -T "$T/intruder"
assert_eq "$CODE" "423" "PUT by a client without the token"
dav DELETE /folder/again.txt
assert_eq "$CODE" "423" "DELETE by a client without the token"
dav MOVE /folder/again.txt -H "Destination: $DAV/stolen.txt"
assert_eq "$CODE" "423" "MOVE by a client without the token"
CHECKS=$((CHECKS + 1))
cmp -s hello.txt "$MOUNT/folder/again.txt" || fail "the locked file changed"
printf 'written under the lock\n' >locked.txt
printf 'put locked.txt folder/again.txt\nunlock folder/again.txt\nquit\n' >&7
exec 7>&-
waited=0
for _ in $(seq 1 300); do
    kill -0 "$CAD_PID" 2>/dev/null || { waited=1; break; }
    sleep 0.1
done
if ((!waited)); then kill "$CAD_PID" 2>/dev/null || true; fi
wait "$CAD_PID" 2>/dev/null || true
OUT=$(cat "$T/cad.lock.out")
ok "Locking \`folder/again.txt':" "lock"
said "Lock token <" "discover shows the lock token"
said "Scope: exclusive" "discover shows an exclusive lock"
ok "Uploading locked.txt to \`/dav/sales/folder/again.txt':" "put by the lock's holder"
ok "Unlocking \`folder/again.txt':" "unlock"
assert_not_contains "$OUT" "failed" "no command failed"
CHECKS=$((CHECKS + 1))
cmp -s locked.txt "$MOUNT/folder/again.txt" || fail "the holder's PUT reached the mount"
dav PROPFIND /folder/again.txt -H 'Depth: 0' --data '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>'
assert_not_contains "$BODY" "activelock>" "no lock left after unlock"
dav PUT /folder/again.txt -T "$T/intruder"
assert_code_in "200 204" "anyone may write once unlocked"
finish

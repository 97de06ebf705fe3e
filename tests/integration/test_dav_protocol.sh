#!/usr/bin/env bash
# WebDAV on de-server, driven with curl (issue 16): the methods' answers, the
# API's guarantees kept (authentication, isolation between users, confinement
# to the mount, ETag = SHA-256, properties that follow their file), and hostile
# input (traversal in the URL and in Destination, another app or host as
# Destination, another user's lock token, oversized, deep and billion-laughs
# XML). Ends with a PROPFIND of a 30,000-entry folder: complete, and the
# server's peak RSS does not grow with it.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/dav_helpers.sh"
dav_setup
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }

# ---- 1. discovery and authentication -----------------------------------------
dav OPTIONS /
assert_eq "$CODE" "200" "OPTIONS"
assert_eq "$(dav_header DAV)" "1, 2" "DAV header"
assert_contains "$(dav_header Allow)" "PROPFIND" "Allow lists PROPFIND"
CODE=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' -X PROPFIND -H 'Depth: 0' "$DAV/")
assert_eq "$CODE" "401" "no credentials"
assert_contains "$(cat "$T/h")" "WWW-Authenticate: Basic" "a Basic challenge"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -u "alice:wrong" -X PROPFIND -H 'Depth: 0' "$DAV/")
assert_eq "$CODE" "401" "a wrong key"

# ---- 2. files: PUT, GET, ETag, PROPFIND ---------------------------------------
printf 'hello dav\n' >"$T/h.txt"
dav PUT /h.txt -T "$T/h.txt"
assert_eq "$CODE" "201" "PUT creates"
cmp -s "$T/h.txt" "$MOUNT/h.txt" || fail "the mount holds what was PUT"
dav PUT /h.txt -T "$T/h.txt"
assert_code_in "200 204" "PUT replaces"
dav GET /h.txt
assert_eq "$BODY" "hello dav" "GET"
want_etag="\"$(sha256sum "$T/h.txt" | cut -d' ' -f1)\""
assert_eq "$(dav_header ETag)" "$want_etag" "ETag is the SHA-256"
dav PUT /no/such/dir/f -T "$T/h.txt"
assert_eq "$CODE" "409" "PUT without its folder"
dav MKCOL /d/
assert_eq "$CODE" "201" "MKCOL"
dav MKCOL /d/
assert_eq "$CODE" "405" "MKCOL again"
dav PROPFIND /h.txt -H 'Depth: 0'
assert_eq "$CODE" "207" "PROPFIND file"
assert_contains "$BODY" "<D:getcontentlength>10</D:getcontentlength>" "length"
assert_contains "$BODY" "<D:getetag>$want_etag</D:getetag>" "getetag (its quotes unescaped: text needs no &quot;)"
# No displayname made from the URL (RFC 4918 15.2 deprecates it): a client's own is a dead property.
assert_not_contains "$BODY" "displayname" "no displayname derived from the URL"
dav PROPPATCH /h.txt --data '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Hello</D:displayname></D:prop></D:set></D:propertyupdate>'
assert_eq "$CODE" "207" "PROPPATCH displayname"
assert_contains "$BODY" "200 OK" "displayname is the client's to set"
dav PROPFIND /h.txt -H 'Depth: 0'
assert_contains "$BODY" "<D:displayname>Hello</D:displayname>" "the displayname set shows"
dav PROPFIND / -H 'Depth: 1' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/><D:resourcetype/></D:prop></D:propfind>'
assert_eq "$CODE" "207" "PROPFIND quota"
assert_contains "$BODY" "<D:quota-used-bytes>10</D:quota-used-bytes>" "quota-used-bytes"
assert_contains "$BODY" "<D:href>/dav/sales/d/</D:href>" "the folder's href ends in /"
dav PROPFIND / -H 'Depth: infinity'
assert_eq "$CODE" "403" "Depth: infinity refused"
assert_contains "$BODY" "propfind-finite-depth" "with its precondition"
# A GET's Content-Type is the getcontenttype a listing shows, for each kind of name; every GET
# says nosniff and carries a sandbox CSP, so an HTML file opened in a browser runs no script
# on de-server's origin.
printf '<script>alert(1)</script>\n' >"$T/page.html"
dav MKCOL /types/
dav MKCOL /types/v1.d/
for name in h.txt page.html v1.d/README .log data.PNG; do
    dav PUT "/types/$name" -T "$T/page.html"
    assert_code_in "200 201 204" "PUT $name"
    dav PROPFIND "/types/$name" -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontenttype/></D:prop></D:propfind>'
    listed=$(sed -n 's|.*<D:getcontenttype>\([^<]*\)</D:getcontenttype>.*|\1|p' <<<"$BODY")
    for method in GET HEAD; do
        if [[ $method == HEAD ]]; then dav HEAD "/types/$name" -I; else dav GET "/types/$name"; fi
        assert_eq "$(dav_header Content-Type)" "$listed" "$method $name: Content-Type = getcontenttype"
        assert_eq "$(dav_header X-Content-Type-Options)" "nosniff" "$method $name: nosniff"
        assert_eq "$(dav_header Content-Security-Policy)" "sandbox" "$method $name: sandbox CSP"
    done
    got=$(curl -sS -o /dev/null -w '%{content_type}' -u "alice:$KEY" \
        "$SERVER_URL/api/v1/apps/sales/mount/files/types/$name")
    assert_eq "$got" "$listed" "the API's GET of $name: the same type"
    case $name in
    h.txt) assert_eq "$listed" "text/plain" "a .txt is text/plain" ;;
    page.html) assert_eq "$listed" "text/html" "a .html is text/html" ;;
    data.PNG) assert_eq "$listed" "image/png" "the extension's case does not matter" ;;
    *) assert_eq "$listed" "application/octet-stream" "'$name' has no extension" ;;
    esac
done
dav DELETE /types/
assert_code_in "200 204" "DELETE /types/"

# ---- 3. properties follow their file --------------------------------------------
dav PROPPATCH /h.txt --data '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:colour>blue <Z:b>deep</Z:b></Z:colour></D:prop></D:set></D:propertyupdate>'
assert_eq "$CODE" "207" "PROPPATCH"
assert_contains "$BODY" "200 OK" "set"
dav MOVE /h.txt -H "Destination: $DAV/d/moved.txt"
assert_eq "$CODE" "201" "MOVE"
dav COPY /d/moved.txt -H "Destination: $DAV/copy.txt"
assert_eq "$CODE" "201" "COPY"
for p in /d/moved.txt /copy.txt; do
    dav PROPFIND "$p" -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:colour xmlns:Z="urn:z"/></D:prop></D:propfind>'
    assert_contains "$BODY" "blue" "the property of $p"
    assert_contains "$BODY" "deep" "its nested element on $p"
done
# xml:lang in scope when a property is set is kept and echoed on it (RFC 4918 4.3), and
# travels with the file.
dav PROPPATCH /d/moved.txt --data '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z" xml:lang="en-GB"><D:set><D:prop><Z:title>Colour</Z:title><Z:note xml:lang="fr">bonjour</Z:note></D:prop></D:set></D:propertyupdate>'
assert_contains "$BODY" "200 OK" "PROPPATCH with xml:lang"
dav COPY /d/moved.txt -H "Destination: $DAV/d/lang.txt"
for p in /d/moved.txt /d/lang.txt; do
    dav PROPFIND "$p" -H 'Depth: 0' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:title xmlns:Z="urn:z"/><Z:note xmlns:Z="urn:z"/><Z:colour xmlns:Z="urn:z"/></D:prop></D:propfind>'
    assert_contains "$BODY" 'xml:lang="en-GB">Colour<' "the xml:lang in scope, on $p"
    assert_contains "$BODY" 'xml:lang="fr">bonjour<' "the property's own xml:lang, on $p"
    assert_contains "$BODY" '<X:colour xmlns:X="urn:z">blue' "none where none was set, on $p"
done
dav DELETE /d/lang.txt
dav PROPPATCH /h.txt --data '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>'
assert_eq "$CODE" "404" "PROPPATCH of a moved-away file"
dav PROPPATCH /copy.txt --data '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>'
assert_contains "$BODY" "403" "a live property is protected"

# A listing remembers files it saw without dead properties (while their ctime holds, once it
# is 1 s old): a property set afterwards, by PROPPATCH or by the app itself (setfattr), shows.
dav MKCOL /listed/
printf 'a' >"$MOUNT/listed/a.txt"
printf 'b' >"$MOUNT/listed/b.txt"
sleep 1.1
ALLPROP='<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
dav PROPFIND /listed/ -H 'Depth: 1' --data "$ALLPROP"
assert_eq "$CODE" "207" "PROPFIND of a settled folder"
assert_not_contains "$BODY" "urn:z" "no dead property yet"
dav PROPPATCH /listed/a.txt --data '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Z:tag xmlns:Z="urn:z">after-listing</Z:tag></D:prop></D:set></D:propertyupdate>'
assert_eq "$CODE" "207" "PROPPATCH after a listing"
python3 - "$MOUNT/listed/b.txt" <<'PY'
import os, sys
os.setxattr(sys.argv[1], "user.de.dav", b'[["urn:z","tag","set-by-the-app"]]')
PY
dav PROPFIND /listed/ -H 'Depth: 1' --data "$ALLPROP"
assert_contains "$BODY" "after-listing" "a property set by PROPPATCH after a listing shows in the next"
assert_contains "$BODY" "set-by-the-app" "a property the app set on its file shows in the next listing"

# ---- 4. hostile paths -------------------------------------------------------------
echo "secret" >"$T/outside"
for p in "/../../../../../../$T/outside" "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd" "/..%2f..%2f..%2fetc%2fpasswd" "/d/%2e%2e/%2e%2e/x"; do
    CODE=$(curl -s --path-as-is -o "$T/out" -w '%{http_code}' -u "alice:$KEY" "$DAV$p")
    CHECKS=$((CHECKS + 1))
    [[ "$CODE" == 400 || "$CODE" == 404 ]] || fail "GET $p answered $CODE"
    assert_not_contains "$(cat "$T/out")" "root:" "no /etc/passwd through $p"
done
dav MOVE /copy.txt -H "Destination: $DAV/../../escaped.txt"
CHECKS=$((CHECKS + 1))
[[ "$CODE" == 400 || "$CODE" == 403 || "$CODE" == 502 ]] || fail "Destination with .. answered $CODE"
[[ ! -e "$SERVER_ROOT/apps/escaped.txt" && ! -e "$SERVER_ROOT/escaped.txt" ]] || fail "a file escaped the mount"
BOBKEY=$(add_user bob)
curl -s -o /dev/null -u "bob:$BOBKEY" -X POST -H 'Content-Type: application/json' \
    --data '{"name":"bobapp"}' "$SERVER_URL/api/v1/apps"
curl -s -o /dev/null -u "bob:$BOBKEY" -X PUT "$SERVER_URL/api/v1/apps/bobapp/mount"
dav PROPFIND / -H 'Depth: 0'
CODE=$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$KEY" -X PROPFIND -H 'Depth: 0' "$SERVER_URL/dav/bobapp/")
assert_eq "$CODE" "404" "another user's app is not there"
dav COPY /copy.txt -H "Destination: $SERVER_URL/dav/bobapp/stolen.txt"
assert_eq "$CODE" "502" "Destination in another app"
[[ ! -e "$SERVER_ROOT/apps/bobapp/mount/stolen.txt" ]] || fail "a file reached another user's app"
dav COPY /copy.txt -H "Destination: http://elsewhere.example/dav/sales/x.txt"
assert_eq "$CODE" "502" "Destination on another host"

# ---- 5. locks: another user's token is no use -------------------------------------
dav LOCK /copy.txt -H 'Timeout: Second-60' --data '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>alice</D:owner></D:lockinfo>'
assert_eq "$CODE" "200" "LOCK"
TOKEN=$(dav_header Lock-Token | tr -d '<>')
assert_contains "$TOKEN" "urn:x-de:" "a lock token"
dav PUT /copy.txt -T "$T/h.txt"
assert_eq "$CODE" "423" "PUT without the token"
# A second If line is not ignored: with the token in the first and a condition that fails in
# the second, reading only the first would write. Two Destinations are refused too.
printf 'second line\n' >"$T/second"
dav PUT /copy.txt -T "$T/second" -H "If: (<$TOKEN>)" -H 'If: (["no-such-etag"])'
assert_eq "$CODE" "400" "PUT with two If lines"
assert_contains "$BODY" "If header came more than once" "says which header"
cmp -s "$MOUNT/copy.txt" "$T/second" && fail "two If lines: the PUT wrote"
dav COPY /d/moved.txt -H "Destination: $DAV/dest-one" -H "Destination: $DAV/dest-two"
assert_eq "$CODE" "400" "COPY with two Destinations"
[[ -e "$MOUNT/dest-one" || -e "$MOUNT/dest-two" ]] && fail "two Destinations: something was copied"
dav PROPFIND /d/ -H 'Depth: 0' -H 'Depth: 1'
assert_eq "$CODE" "400" "PROPFIND with two Depths"
dav PUT /copy.txt -T "$T/h.txt" -H "If: (<$TOKEN>)"
assert_code_in "200 204" "PUT with the token"
printf 'b' >"$T/b"
curl -s -o /dev/null -u "bob:$BOBKEY" -T "$T/b" "$SERVER_URL/dav/bobapp/g"
BOBTOKEN=$(curl -s -D - -o /dev/null -u "bob:$BOBKEY" -X LOCK "$SERVER_URL/dav/bobapp/g" \
    --data '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>' |
    tr -d '\r' | sed -n 's/^Lock-Token: <\(.*\)>$/\1/Ip')
assert_contains "$BOBTOKEN" "urn:x-de:" "bob's lock"
dav PUT /copy.txt -T "$T/b" -H "If: (<$BOBTOKEN>)"
CHECKS=$((CHECKS + 1))
[[ "$CODE" == 412 || "$CODE" == 423 ]] || fail "PUT with another user's token answered $CODE"
dav UNLOCK /copy.txt -H "Lock-Token: <$BOBTOKEN>"
CHECKS=$((CHECKS + 1))
[[ "$CODE" == 409 || "$CODE" == 403 ]] || fail "UNLOCK with another user's token answered $CODE"
dav DELETE /copy.txt
assert_eq "$CODE" "423" "still locked"
dav UNLOCK /copy.txt -H "Lock-Token: <$TOKEN>"
assert_eq "$CODE" "204" "UNLOCK"
dav DELETE /copy.txt
assert_eq "$CODE" "204" "DELETE once unlocked"

# A folder's listing shows each member's locks: its own, and an infinite-depth lock from above;
# not a sibling's, nor the folder's own depth-0 lock.
LOCKINFO='<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>'
dav MKCOL /locked/
printf 'x' >"$MOUNT/locked/one.txt"
printf 'y' >"$MOUNT/locked/two.txt"
dav LOCK /locked/one.txt -H 'Depth: 0' --data "$LOCKINFO"
ONE=$(dav_header Lock-Token | tr -d '<>')
dav LOCK /locked/ -H 'Depth: 0' --data "$LOCKINFO"
DIR0=$(dav_header Lock-Token | tr -d '<>')
# lock_tokens WANT WHAT: a Depth 1 listing of /locked/ gives each href exactly the lock tokens
# of WANT (JSON: href -> tokens).
lock_tokens() {
    dav PROPFIND /locked/ -H 'Depth: 1' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>'
    CHECKS=$((CHECKS + 1))
    python3 - "$T/dav.body" "$1" <<'PY' || fail "$2"
import json, sys, xml.etree.ElementTree as ET
want = {href: sorted(tokens) for href, tokens in json.loads(sys.argv[2]).items()}
got = {}
for r in ET.parse(sys.argv[1]).getroot().findall("{DAV:}response"):
    hrefs = [h.text for h in r.iter("{DAV:}href")]
    got[hrefs[0]] = sorted(h for h in hrefs if h.startswith("urn:"))
if got != want:
    sys.exit(f"lock tokens per href: {got}, want {want}")
PY
}
lock_tokens "{\"/dav/sales/locked/\": [\"$DIR0\"], \"/dav/sales/locked/one.txt\": [\"$ONE\"],
    \"/dav/sales/locked/two.txt\": []}" "lockdiscovery in a Depth 1 listing"
dav UNLOCK /locked/ -H "Lock-Token: <$DIR0>"
dav LOCK /locked/ -H 'Depth: infinity' --data "$LOCKINFO"
DIRINF=$(dav_header Lock-Token | tr -d '<>')
lock_tokens "{\"/dav/sales/locked/\": [\"$DIRINF\"],
    \"/dav/sales/locked/one.txt\": [\"$DIRINF\", \"$ONE\"],
    \"/dav/sales/locked/two.txt\": [\"$DIRINF\"]}" "an infinite lock in a Depth 1 listing"

# ---- 6. hostile XML -------------------------------------------------------------
before=$(hwm)
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)) + \
    ']><D:propfind xmlns:D="DAV:"><D:prop><D:x>&lol9;</D:x></D:prop></D:propfind>'
open(f"{t}/laughs.xml", "w").write(lol)
open(f"{t}/deep.xml", "w").write('<D:propfind xmlns:D="DAV:">' + "<a>" * 200000 + "</a>" * 200000 + "</D:propfind>")
open(f"{t}/big.xml", "w").write('<D:propfind xmlns:D="DAV:"><D:prop>' + "<D:x/>" * 400000 + "</D:prop></D:propfind>")
PY
dav PROPFIND / -H 'Depth: 0' --data-binary "@$T/laughs.xml"
assert_eq "$CODE" "400" "billion laughs"
dav PROPFIND / -H 'Depth: 0' --data-binary "@$T/deep.xml"
CHECKS=$((CHECKS + 1))
[[ "$CODE" == 400 || "$CODE" == 413 ]] || fail "deep XML answered $CODE"
dav PROPFIND / -H 'Depth: 0' --data-binary "@$T/big.xml"
assert_eq "$CODE" "413" "a 2.4 MB body"
dav PROPPATCH /d/moved.txt --data-binary "@$T/laughs.xml"
assert_eq "$CODE" "400" "billion laughs in PROPPATCH"
dav LOCK /d/moved.txt --data-binary "@$T/laughs.xml"
assert_eq "$CODE" "400" "billion laughs in LOCK"
after=$(hwm)
if [[ -z "${ASAN_OPTIONS:-}" ]]; then
    CHECKS=$((CHECKS + 1))
    ((after - before < 16384)) || fail "hostile XML grew the server's peak RSS by $((after - before)) KiB"
fi

# ---- 7. a big PUT ---------------------------------------------------------------------
# A big body goes to the disk with O_DIRECT in whole aligned buffers: one that is not a
# multiple of the block size, whose first bytes come with the header (no Expect: 100-continue).
head -c $((9 * 1048576 + 4097)) /dev/urandom >"$T/big.bin"
dav PUT /big.bin -T "$T/big.bin" -H 'Expect:'
assert_eq "$CODE" "201" "big PUT"
cmp -s "$T/big.bin" "$MOUNT/big.bin" || fail "the mount holds the big PUT's bytes"
assert_eq "$(dav_header ETag)" "\"$(sha256sum "$T/big.bin" | cut -d' ' -f1)\"" "big PUT: ETag"
rm -f "$MOUNT/big.bin"

# ---- 7b. a listing of several pages --------------------------------------------
# de-server reads a Depth 1 listing's names a page (512) at a time and stats each page on
# two threads while the one before is sent: every member once, in whichever page, with the
# dead properties of its own file (set on members of the first, middle and last pages),
# nothing that is not listed (a symlink, the two names of one inode, a fifo), the members
# asked by name (prop) and the folder's own response once.
mkdir -p "$MOUNT/paged/sub"
python3 - "$MOUNT/paged" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(1300):
    with open(os.path.join(d, "m%04d.bin" % i), "w") as f:
        f.write("x" * (i % 7))
for i in (5, 640, 1299):
    os.setxattr(os.path.join(d, "m%04d.bin" % i), "user.de.dav",
                ('[["urn:z","tag","dead-%d"]]' % i).encode())
os.symlink("/etc/passwd", os.path.join(d, "link"))
open(os.path.join(d, "shared"), "w").write("one inode, two names: neither is listed")
os.link(os.path.join(d, "shared"), os.path.join(d, "shared-too"))
os.mkfifo(os.path.join(d, "fifo"))
PY
sleep 1.1
for round in first warm; do
    dav PROPFIND /paged/ -H 'Depth: 1' --data "$ALLPROP"
    assert_eq "$CODE" "207" "PROPFIND of 1,300 members ($round)"
    printf '%s' "$BODY" >"$T/paged.xml"
    python3 - "$T/paged.xml" "$round" <<'PY' || fail "the paged listing ($round) is not exact"
import re, sys
text = open(sys.argv[1]).read()
responses = re.findall(r"<D:response>(.*?)</D:response>", text, re.S)
hrefs = [re.search(r"<D:href>(.*?)</D:href>", r).group(1) for r in responses]
want = {"/dav/sales/paged/", "/dav/sales/paged/sub/"} | {"/dav/sales/paged/m%04d.bin" % i for i in range(1300)}
assert len(hrefs) == len(set(hrefs)), "an href twice"
assert set(hrefs) == want, f"missing {sorted(want - set(hrefs))[:5]}, extra {sorted(set(hrefs) - want)[:5]}"
for h, r in zip(hrefs, responses):
    m = re.search(r"m(\d{4})\.bin$", h)
    tags = re.findall(r"dead-(\d+)", r)
    if m and int(m.group(1)) in (5, 640, 1299):
        assert tags == [str(int(m.group(1)))], f"{h}: {tags}"
    else:
        assert not tags, f"{h} shows {tags}"
    if m:
        n = int(m.group(1)) % 7
        assert f"<D:getcontentlength>{n}</D:getcontentlength>" in r, h
print(sys.argv[2], len(hrefs), "responses, exact")
PY
    CHECKS=$((CHECKS + 1))
done
dav PROPFIND /paged/ -H 'Depth: 1' --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><Z:tag xmlns:Z="urn:z"/></D:prop></D:propfind>'
assert_eq "$(grep -o '<D:response>' <<<"$BODY" | wc -l)" "1302" "prop: every member answered"
assert_eq "$(grep -o 'dead-[0-9]*' <<<"$BODY" | sort | tr '\n' ' ')" "dead-1299 dead-5 dead-640 " "prop: the dead properties asked for"
rm -rf "$MOUNT/paged"

# ---- 8. a 30,000-entry folder streams ------------------------------------------------
mkdir -p "$MOUNT/many"
python3 -c 'import os,sys
d=sys.argv[1]
for i in range(30000): open(os.path.join(d, "f%05d.dat" % i), "w").close()' "$MOUNT/many"
curl -s -u "alice:$KEY" -X PROPFIND -H 'Depth: 1' "$DAV/many/" >"$T/many.xml"  # warms the hash cache
before=$(hwm)
curl -s -u "alice:$KEY" -X PROPFIND -H 'Depth: 1' "$DAV/many/" >"$T/many.xml"
after=$(hwm)
assert_eq "$(grep -o '<D:response>' "$T/many.xml" | wc -l)" "30001" "every entry listed"
assert_contains "$(tail -c 100 "$T/many.xml")" "</D:multistatus>" "the answer is complete"
# Not in the sanitizer build: ASan keeps freed memory in quarantine, so its
# peak says nothing about what de-server holds.
if [[ -z "${ASAN_OPTIONS:-}" ]]; then
    CHECKS=$((CHECKS + 1))
    ((after - before < 8192)) || fail "PROPFIND of 30,000 entries grew the peak RSS by $((after - before)) KiB"
fi
echo "PROPFIND Depth 1 of 30,000 entries: peak RSS $before -> $after KiB"
finish

"""Hostile names and headers (issue 18 F2, F3, F6), over raw HTTP:

- F2: a tus creation whose `path` metadata is not UTF-8 is an ordinary upload
  (201, state file beside its data, its reservation held, committed under
  those bytes, reloaded after a restart); every malformed or out-of-range
  header or metadata value is 400 and leaves nothing in uploads/ and no
  reservation.
- F6: Upload-Parts 2^64-1 is 400 (it used to wrap to zero parts); a part
  size above the length is one part, and `complete` refuses (409, missing
  parts) until every byte was received: no file of zeros nobody sent.
- F3: a name that is not UTF-8 (a Latin-1 name written by an app process, or
  PUT as bad%FF) is carried through JSON as its percent form with
  "path_encoding": "percent": list (with cursors), manifest (to its end line),
  PUT, mkdir, move, GET, DELETE and error answers all answer properly.
"""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import (  # noqa: E402
    MiB, OCTETS, Server, Client, b64, basic, check, data_of, eq, finish, sha256_hex)

TUS = {"Tus-Resumable": "1.0.0"}
LATIN1 = b"caf\xe9"  # "café" in Latin-1: not UTF-8


def q(name_bytes):
    return urllib.parse.quote(name_bytes, safe="/")


def md(**kv):
    return ",".join(f"{k} {b64(v)}" for k, v in kv.items())


def name_of(obj, key="path"):
    """Decodes a name field the way de-cli does (de/name_json.hpp)."""
    v = obj[key]
    if obj.get(key + "_encoding") == "percent":
        return urllib.parse.unquote_to_bytes(v)
    check(key + "_encoding" not in obj, f"{key}_encoding only as 'percent'", repr(obj))
    return v.encode()


def uploads_dir(srv, app):
    return os.path.join(srv.root, "apps", app, "uploads")


def uploads_left(srv, app):
    d = uploads_dir(srv, app)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def reserved(c, app):
    return c.get(f"/api/v1/apps/{app}/mount").json()["reserved_bytes"]


def test_f2_tus_headers(srv, c):
    app = "f2"
    c.create_app(app)
    url = f"/api/v1/apps/{app}/uploads"

    # The finding: path metadata that is not UTF-8 used to drop the connection
    # and leave a preallocated <id>.data with no state and no reservation.
    data = data_of(3 * MiB, "f2")
    name = b"in/" + LATIN1 + b"\xff.bin"
    r = c.request("POST", url, headers={**TUS, "Upload-Length": str(len(data)),
                                        "Upload-Metadata": md(path=name)})
    eq(r.status, 201, "F2: tus creation with a Latin-1 path -> 201")
    loc = r.header("Location")
    uid = loc.rsplit("/", 1)[1]
    eq(uploads_left(srv, app), [uid + ".data", uid + ".json"],
       "F2: the upload has its state file beside its data")
    with open(os.path.join(uploads_dir(srv, app), uid + ".json"), "rb") as f:
        state = json.loads(f.read())
    eq(name_of(state), name, "F2: the state file keeps the name's bytes (percent form)")
    eq(reserved(c, app), len(data), "F2: the upload holds its reservation")

    # It survives a restart (the state file is read back), then completes.
    srv.stop()
    srv.start()
    c.c = srv.conn()
    eq(reserved(c, app), len(data), "F2: reloaded after a restart with its reservation")
    h = c.request("HEAD", loc, headers=TUS)
    eq((h.status, h.header("Upload-Offset")), (200, "0"), "F2: HEAD of the reloaded upload")
    r = c.request("PATCH", loc, body=data,
                  headers={**TUS, "Upload-Offset": "0", "Content-Type": OCTETS})
    eq(r.status, 204, "F2: PATCH completes the upload")
    entry = json.loads(r.header("X-De-Entry") or "{}")
    eq(name_of(entry), name, "F2: X-De-Entry names the file in its percent form")
    check(all(ord(ch) < 128 for ch in r.header("X-De-Entry")), "F2: X-De-Entry is ASCII")
    with open(os.path.join(srv.mount_dir(app).encode(), name), "rb") as f:
        eq(sha256_hex(f.read()), sha256_hex(data), "F2: the file is stored under its own bytes")
    eq(reserved(c, app), 0, "F2: no reservation after completion")

    # Malformed or out-of-range values: 400 before anything is allocated.
    before = uploads_left(srv, app)
    bad = [
        ({"Upload-Length": "18446744073709551616"}, "Upload-Length above 2^64-1"),
        ({"Upload-Length": "-1"}, "negative Upload-Length"),
        ({"Upload-Length": "1e6"}, "Upload-Length not decimal"),
        ({"Upload-Length": "1048576", "Upload-Parts": "18446744073709551615"},
         "Upload-Parts 2^64-1"),
        ({"Upload-Length": "1048576", "Upload-Parts": "18446744073709551616"},
         "Upload-Parts above 2^64-1"),
        ({"Upload-Length": "1048576", "Upload-Parts": str((1 << 40) + 1)},
         "Upload-Parts above 1 TiB"),
        ({"Upload-Length": "1048576", "Upload-Parts": "1048575"}, "Upload-Parts below 1 MiB"),
        ({"Upload-Length": "10", "Upload-Metadata": md(path=b"x", mtime_ns=b"99999999999999999999")},
         "mtime_ns overflowing int64"),
        ({"Upload-Length": "10", "Upload-Metadata": md(path=b"x", mtime_ns=b"12\xff")},
         "mtime_ns with a non-UTF-8 byte"),
        ({"Upload-Length": "10", "Upload-Metadata": md(path=b"x", sha256=b"\xff" * 64)},
         "sha256 metadata not hex"),
        ({"Upload-Length": "10", "Upload-Metadata": md(path=b"x", overwrite=b"tru\xe9")},
         "overwrite metadata not a boolean"),
        ({"Upload-Length": "10", "Upload-Metadata": md(path=b"a/../b")}, "path with '..'"),
        ({"Upload-Length": "10", "Upload-Metadata": md(path=b"a\x01b")}, "path with a control"),
        ({"Upload-Length": "10", "Upload-Metadata": "path " + b64(b"x") + ",k \xff"},
         "a metadata value that is not base64"),
        ({"Upload-Length": "10", "Upload-Metadata": md(path=b"x"),
          "Idempotency-Key": "k\xe9y"}, "Idempotency-Key with a non-ASCII byte"),
        ({"Upload-Metadata": md(path=b"x"),
          "Upload-Concat": f"final;/api/v1/apps/{app}/uploads/{'0' * 32}?\xff"},
         "Upload-Concat with a non-ASCII byte"),
    ]
    for headers, what in bad:
        hdrs = {**TUS, **headers}
        # http.client sends str headers as Latin-1: "\xff" goes out as the byte 0xFF.
        r = c.request("POST", url, headers=hdrs)
        eq(r.status, 400, f"F2: {what} -> 400")
        check(r.json() is not None and r.kind() == "bad_request", f"F2: {what}: a JSON error",
              repr(r))
    eq(uploads_left(srv, app), before, "F2: refused creations leave nothing in uploads/")
    eq(reserved(c, app), 0, "F2: refused creations hold no reservation")

    # A PATCH whose Upload-Offset + Content-Length would wrap is refused before its body.
    r = c.request("POST", url, headers={**TUS, "Upload-Length": str(2 * MiB),
                                        "Upload-Parts": str(MiB),
                                        "Upload-Metadata": md(path=b"wrap.bin")})
    eq(r.status, 201, "F2: a parts upload for the wrap check")
    wrap = r.header("Location")
    raw = (f"PATCH {wrap} HTTP/1.1\r\nHost: x\r\nAuthorization: {c.auth}\r\n"
           f"Tus-Resumable: 1.0.0\r\nContent-Type: {OCTETS}\r\nUpload-Offset: {MiB}\r\n"
           f"Content-Length: {(1 << 64) - MiB}\r\n\r\n").encode()
    out = srv.raw(raw, timeout=5)
    check(out.startswith(b"HTTP/1.1 400") or out.startswith(b"HTTP/1.1 413"),
          "F2: Upload-Offset + Content-Length wrapping past 2^64 is refused", repr(out[:200]))
    c.request("DELETE", wrap, headers=TUS)


def test_f6_parts(srv, c):
    app = "f6"
    c.create_app(app)
    url = f"/api/v1/apps/{app}/uploads"
    zeros = bytes(3 * MiB)
    # The finding: Upload-Parts 2^64-1 wrapped the part count to 0, and
    # complete stored 3 MiB of zeros nobody sent.
    r = c.request("POST", url, headers={**TUS, "Upload-Length": str(len(zeros)),
                                        "Upload-Parts": "18446744073709551615",
                                        "Upload-Metadata": md(path=b"zeros.bin")})
    eq(r.status, 400, "F6: Upload-Parts 18446744073709551615 -> 400")

    # A part size above the length is one part: complete needs its bytes.
    r = c.request("POST", url, headers={**TUS, "Upload-Length": str(len(zeros)),
                                        "Upload-Parts": str(8 * MiB),
                                        "Upload-Metadata": md(path=b"zeros.bin")})
    eq(r.status, 201, "F6: a part size above the length -> 201")
    loc = r.header("Location")
    h = c.request("HEAD", loc, headers=TUS)
    eq(h.header("Upload-Parts-Done"), "", "F6: no part done yet")
    r = c.request("POST", loc + "/complete", json_body={"sha256": sha256_hex(zeros)},
                  headers=TUS)
    eq(r.status, 409, "F6: complete before any byte arrived -> 409")
    eq((r.json() or {}).get("error", {}).get("missing_parts"), "0", "F6: missing_parts says 0")
    check(not os.path.exists(os.path.join(srv.mount_dir(app), "zeros.bin")),
          "F6: no file of zeros was stored")
    # Half the bytes: still refused.
    r = c.request("PATCH", loc, body=zeros[:MiB],
                  headers={**TUS, "Upload-Offset": "0", "Content-Type": OCTETS})
    eq(r.status, 204, "F6: a first MiB")
    r = c.request("POST", loc + "/complete", json_body={"sha256": sha256_hex(zeros)},
                  headers=TUS)
    eq(r.status, 409, "F6: complete with 1 of 3 MiB -> 409")
    r = c.request("PATCH", loc, body=zeros[MiB:],
                  headers={**TUS, "Upload-Offset": str(MiB), "Content-Type": OCTETS})
    eq(r.status, 204, "F6: the rest")
    r = c.request("POST", loc + "/complete", json_body={"sha256": sha256_hex(zeros)},
                  headers=TUS)
    eq(r.status, 201, "F6: complete once every byte arrived -> 201")
    eq(os.path.getsize(os.path.join(srv.mount_dir(app), "zeros.bin")), len(zeros),
       "F6: the file is the bytes sent")


def test_f3_names(srv, c):
    app = "f3"
    c.create_app(app)
    mount = srv.mount_dir(app).encode()
    base = f"/api/v1/apps/{app}/mount"
    # An app process writes Latin-1 names straight into the mount.
    os.makedirs(os.path.join(mount, b"dir\xe9"))
    for n in [b"a-" + LATIN1, b"b-ok", b"c-\xff", b"dir\xe9/inner\xe8.txt"]:
        with open(os.path.join(mount, n), "wb") as f:
            f.write(n)

    # list (it used to drop the connection)
    r = c.get(f"{base}/list?path=/")
    eq(r.status, 200, "F3: list with Latin-1 names -> 200")
    got = [(name_of(e), e["type"]) for e in r.json()["entries"]]
    eq(got, [(b"a-" + LATIN1, "file"), (b"b-ok", "file"), (b"c-\xff", "file"),
             (b"dir\xe9", "dir")], "F3: list names every entry with its bytes")
    raw_entry = r.json()["entries"][0]
    eq((raw_entry["path"], raw_entry.get("path_encoding")), ("a-caf%E9", "percent"),
       "F3: the wire form is percent + path_encoding")
    eq("path_encoding" in r.json()["entries"][1], False, "F3: a UTF-8 name has no flag")

    # a folder named in Latin-1, echoed in its percent form
    r = c.get(f"{base}/list?path=" + q(b"dir\xe9"))
    eq(r.status, 200, "F3: list of a Latin-1 folder -> 200")
    eq(name_of(r.json()), b"dir\xe9", "F3: the listing's path is encoded too")
    eq([name_of(e) for e in r.json()["entries"]], [b"dir\xe9/inner\xe8.txt"],
       "F3: its entry")

    # cursors over such names page through everything
    seen, cursor = [], None
    for _ in range(20):
        u = f"{base}/list?path=/&recursive=true&limit=1"
        if cursor is not None:
            u += "&cursor=" + q(cursor)
        r = c.get(u)
        if not eq(r.status, 200, "F3: a page of a recursive listing"):
            break
        page = r.json()
        seen += [name_of(e) for e in page["entries"]]
        if page["next_cursor"] is None:
            break
        cursor = name_of(page, "next_cursor")
    eq(seen, [b"a-" + LATIN1, b"b-ok", b"c-\xff", b"dir\xe9", b"dir\xe9/inner\xe8.txt"],
       "F3: paging with limit=1 sees every entry once")

    # manifest (it used to be cut without its end line)
    r = c.get(f"{base}/manifest?path=/")
    eq(r.status, 200, "F3: manifest -> 200")
    lines = [json.loads(x) for x in r.body.decode().splitlines()]
    eq(lines[-1], {"end": True, "count": 5}, "F3: the manifest ends with its end line")
    eq([name_of(x) for x in lines[:-1]],
       [b"a-" + LATIN1, b"b-ok", b"c-\xff", b"dir\xe9", b"dir\xe9/inner\xe8.txt"],
       "F3: the manifest names every entry with its bytes")

    # PUT of bad%ff: stored and answered (it used to be an empty reply)
    r = c.put(f"{base}/files/bad%ff", b"hello")
    eq(r.status, 201, "F3: PUT of bad%ff -> 201")
    eq(name_of(r.json() or {"path": ""}), b"bad\xff", "F3: its entry names bad\\xff")
    r = c.get(f"{base}/files/bad%ff")
    eq((r.status, r.body), (200, b"hello"), "F3: GET of bad%ff")
    # an error that quotes the name is still a JSON answer
    r = c.put(f"{base}/files/bad%ff", b"x", headers={"If-None-Match": "*"})
    eq((r.status, r.kind()), (412, "precondition_failed"), "F3: 412 naming bad\\xff is JSON")
    r = c.get(f"{base}/files/nope%ff%fe")
    eq((r.status, r.kind()), (404, "not_found"), "F3: 404 naming a Latin-1 path is JSON")
    r = c.put(f"{base}/files/c-%ff/x", b"x")
    eq((r.status, r.kind()), (409, "conflict"), "F3: 409 under a Latin-1 file is JSON")

    # mkdir and move take names in the same form
    r = c.post(f"{base}/mkdir", {"path": "new%E9", "path_encoding": "percent"})
    eq(r.status, 201, "F3: mkdir of a percent-encoded name")
    check(os.path.isdir(os.path.join(mount, b"new\xe9")), "F3: the folder has the name's bytes")
    eq(name_of(r.json()), b"new\xe9", "F3: mkdir's entry")
    r = c.post(f"{base}/move", {"from": "c-%FF", "from_encoding": "percent",
                                "to": "new%E9/moved%25%FF", "to_encoding": "percent"})
    eq(r.status, 200, "F3: move between percent-encoded names")
    check(os.path.exists(os.path.join(mount, b"new\xe9/moved%\xff")),
          "F3: moved to the decoded bytes ('%25' is '%')")
    r = c.post(f"{base}/mkdir", {"path": "x%G0", "path_encoding": "percent"})
    eq(r.status, 422, "F3: a malformed percent form -> 422")
    r = c.post(f"{base}/mkdir", {"path": "x", "path_encoding": "rot13"})
    eq(r.status, 422, "F3: an unknown encoding -> 422")

    # DELETE
    r = c.delete(f"{base}/files/bad%ff")
    eq(r.status, 204, "F3: DELETE of bad%ff")
    check(not os.path.exists(os.path.join(mount, b"bad\xff")), "F3: it is gone")


def main():
    srv = Server("--quota", "64MiB")
    try:
        key = srv.add_user("alice")
        c = Client(srv, basic("alice", key))
        test_f2_tus_headers(srv, c)
        test_f6_parts(srv, c)
        test_f3_names(srv, c)
        check(srv.proc.poll() is None, "de-server is still running")
    finally:
        srv.close()
    finish()


if __name__ == "__main__":
    main()

"""Every route of REST API v1 against the real de-server: success and error cases."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import (Client, Server, basic, check, content_digest, eq, finish,
                            sha256_hex)

srv = Server()
try:
    # ---- invocation contract: user add/list/remove -----------------------------------------
    key = srv.add_user("alice")
    eq(len(key), 64, "user add prints a 64-hex-char API key")
    bob_key = srv.add_user("bob")
    r = srv.cli("user", "add", "alice")
    check(r.returncode != 0 and r.stdout == b"", "adding an existing user fails, prints no key")
    r = srv.cli("user", "add", "bad name")
    check(r.returncode != 0, "an invalid user name is refused")
    r = srv.cli("user", "list")
    eq(r.stdout.decode().split(), ["alice", "bob"], "user list")
    users_json = open(os.path.join(srv.root, "users.json")).read()
    check(key not in users_json, "users.json does not hold the key in clear")
    eq(oct(os.stat(os.path.join(srv.root, "users.json")).st_mode & 0o777), "0o600",
       "users.json is 0600")
    srv.add_user("carol")
    eq(srv.cli("user", "remove", "carol").returncode, 0, "user remove")
    check(srv.cli("user", "remove", "carol").returncode != 0, "removing a missing user fails")

    alice = Client(srv, basic("alice", key))
    bob = Client(srv, basic("bob", bob_key))
    anon = Client(srv, None)

    # ---- health, auth ----------------------------------------------------------------------
    r = anon.get("/api/v1/health")
    eq(r.status, 200, "health needs no auth")
    eq(r.json()["status"], "ok", "health body")
    r = anon.get("/api/v1/whoami")
    eq(r.status, 401, "whoami without credentials")
    eq(r.kind(), "unauthorized", "401 kind")
    check((r.header("WWW-Authenticate") or "").startswith("Basic"), "401 has WWW-Authenticate")
    eq(Client(srv, basic("alice", "0" * 64)).get("/api/v1/whoami").status, 401, "wrong key")
    eq(Client(srv, basic("nobody", key)).get("/api/v1/whoami").status, 401, "unknown user")
    eq(Client(srv, "Basic !!!notbase64").get("/api/v1/whoami").status, 401, "malformed Basic")
    eq(Client(srv, "Bearer nope").get("/api/v1/whoami").status, 401, "unknown bearer")
    eq(Client(srv, "Digest x").get("/api/v1/whoami").status, 401, "unknown scheme")
    r = alice.get("/api/v1/whoami")
    eq((r.status, r.json()), (200, {"username": "alice"}), "whoami with Basic")

    r = alice.post("/api/v1/login")
    eq(r.status, 200, "login")
    tok = r.json()
    check(len(tok["token"]) >= 32 and tok["username"] == "alice" and tok["expires_at"] > 0,
          "login body", repr(tok))
    check(tok["token"] not in open(os.path.join(srv.root, "tokens.json")).read(),
          "tokens.json holds only hashes")
    bearer = Client(srv, "Bearer " + tok["token"])
    eq(bearer.get("/api/v1/whoami").json(), {"username": "alice"}, "whoami with Bearer")
    eq(bearer.post("/api/v1/login").status, 401, "login needs Basic, not Bearer")
    eq(bearer.post("/api/v1/logout").status, 204, "logout")
    eq(bearer.get("/api/v1/whoami").status, 401, "a revoked token is refused")
    eq(alice.get("/api/v1/login").status, 405, "GET login is 405")
    check("POST" in (alice.get("/api/v1/login").header("Allow") or ""), "405 has Allow")
    eq(alice.get("/api/v1/nope").status, 404, "unknown route")
    eq(alice.get("/other").kind(), "not_found", "outside /api/v1")

    # ---- apps ------------------------------------------------------------------------------
    eq(alice.get("/api/v1/apps").json(), {"apps": []}, "no apps yet")
    r = alice.post("/api/v1/apps", {"name": "sales"})
    eq(r.status, 201, "create app")
    app = r.json()
    eq((app["name"], app["owner"], app["persistent_filesystem"]), ("sales", "alice", False),
       "app body")
    eq(alice.post("/api/v1/apps", {"name": "sales"}).status, 409, "app name taken (same owner)")
    eq(bob.post("/api/v1/apps", {"name": "sales"}).status, 409, "app name taken (other owner)")
    for bad in ["Sales", "-x", "", "a" * 64, "a/b", "a_b", "..", "é"]:
        eq(alice.post("/api/v1/apps", {"name": bad}).status, 400, f"bad app name {bad!r}")
    eq(alice.post("/api/v1/apps", {"name": 5}).status, 422, "name not a string")
    eq(alice.post("/api/v1/apps", {}).status, 422, "name missing")
    eq(alice.request("POST", "/api/v1/apps", body=b"{not json",
                     headers={"Content-Type": "application/json"}).status, 400, "bad JSON")
    eq(alice.request("POST", "/api/v1/apps", body=b'{"name":"x"}',
                     headers={"Content-Type": "text/plain"}).status, 415, "wrong content type")
    eq(alice.request("POST", "/api/v1/apps", body=b"[1]",
                     headers={"Content-Type": "application/json"}).status, 422, "not an object")
    eq(alice.post("/api/v1/apps").status, 400, "no body")
    alice.post("/api/v1/apps", {"name": "aaa"})
    eq([a["name"] for a in alice.get("/api/v1/apps").json()["apps"]], ["aaa", "sales"],
       "apps listed by name")
    eq(bob.get("/api/v1/apps").json(), {"apps": []}, "bob sees none of alice's apps")
    eq(alice.get("/api/v1/apps/sales").json()["name"], "sales", "app info")
    r = bob.get("/api/v1/apps/sales")
    eq(r.status, 404, "another user's app is 404")
    r2 = bob.get("/api/v1/apps/zzz-missing")
    eq(r.json()["error"]["kind"], r2.json()["error"]["kind"], "same kind as a missing app")
    eq(alice.get("/api/v1/apps/missing").status, 404, "missing app")
    eq(alice.request("PUT", "/api/v1/apps/sales").status, 405, "PUT app is 405")

    # PATCH: on, off needs confirm
    r = alice.patch("/api/v1/apps/sales", {"persistent_filesystem": True})
    eq((r.status, r.json()["persistent_filesystem"]), (200, True), "PATCH turns the mount on")
    check(os.path.isdir(srv.mount_dir("sales")), "mount folder exists")
    eq(alice.patch("/api/v1/apps/sales", {"persistent_filesystem": False}).kind(),
       "confirmation_required", "PATCH off without confirm")
    eq(alice.patch("/api/v1/apps/sales", {"persistent_filesystem": False, "confirm": "x"}).status,
       400, "PATCH off with wrong confirm")
    eq(alice.patch("/api/v1/apps/sales", {"persistent_filesystem": "yes"}).status, 422,
       "PATCH non-bool")
    eq(bob.patch("/api/v1/apps/sales", {"persistent_filesystem": True}).status, 404,
       "PATCH another user's app")
    alice.upload("sales", "x.txt", b"x")
    r = alice.patch("/api/v1/apps/sales", {"persistent_filesystem": False, "confirm": "sales"})
    eq((r.status, r.json()["persistent_filesystem"]), (200, False), "PATCH off with confirm")
    check(not os.path.exists(srv.mount_dir("sales")), "PATCH off deletes the mount")

    # ---- mount -----------------------------------------------------------------------------
    r = alice.get("/api/v1/apps/sales/mount")
    eq((r.status, r.json()["enabled"]), (200, False), "mount status off")
    eq(alice.get("/api/v1/apps/sales/mount/list").kind(), "mount_disabled",
       "routes below need the mount on")
    eq(alice.upload("sales", "a", b"x").kind(), "mount_disabled", "PUT needs the mount on")
    r = alice.put_mount("sales")
    eq(r.status, 201, "enable mount")
    st = r.json()
    eq((st["app"], st["enabled"], st["used_bytes"], st["file_count"], st["storage_class"]),
       ("sales", True, 0, 0, "local"), "mount status body")
    check(st["quota_bytes"] == 25 * 10**9, "default quota is 25 GB", repr(st))
    eq(alice.put_mount("sales").status, 200, "enable again is 200")
    eq(bob.put_mount("sales").status, 404, "bob cannot enable alice's mount")
    eq(bob.get("/api/v1/apps/sales/mount").status, 404, "bob cannot see alice's mount")

    # ---- files -----------------------------------------------------------------------------
    data = os.urandom(100_000)
    r = alice.upload("sales", "data/a.bin", data)
    eq(r.status, 201, "PUT creates")
    e = r.json()
    eq((e["path"], e["type"], e["size"], e["sha256"]), ("data/a.bin", "file", len(data),
                                                       sha256_hex(data)), "PUT entry")
    eq(r.header("ETag"), f'"{sha256_hex(data)}"', "PUT ETag")
    with open(os.path.join(srv.mount_dir("sales"), "data/a.bin"), "rb") as f:
        eq(f.read(), data, "the file is a plain file in the mount")
    r = alice.upload("sales", "data/a.bin", data[:10])
    eq(r.status, 200, "PUT replaces")
    r = alice.upload("sales", "data/a.bin", data, headers={"Content-Digest": content_digest(data)})
    eq(r.status, 200, "PUT with a matching digest")
    r = alice.upload("sales", "data/b.bin", data,
                     headers={"Content-Digest": content_digest(b"other")})
    eq((r.status, r.kind()), (400, "digest_mismatch"), "digest mismatch")
    eq(alice.get(alice.file_url("sales", "data/b.bin")).status, 404, "nothing stored")
    eq(alice.upload("sales", "data/b.bin", data, headers={"Content-Digest": "sha-256=:bad:"})
       .status, 400, "malformed digest")
    eq(alice.upload("sales", "data/a.bin", b"new", headers={"If-None-Match": "*"}).status, 412,
       "If-None-Match: * refuses overwrite")
    eq(alice.upload("sales", "data/c.bin", b"c", headers={"If-None-Match": "*"}).status, 201,
       "If-None-Match: * creates")
    etag = f'"{sha256_hex(data)}"'
    eq(alice.upload("sales", "data/a.bin", b"zz", headers={"If-Match": '"' + "0" * 64 + '"'})
       .status, 412, "If-Match wrong etag")
    eq(alice.upload("sales", "data/nope", b"zz", headers={"If-Match": etag}).status, 412,
       "If-Match on a missing file")
    eq(alice.upload("sales", "data/a.bin", data, headers={"If-Match": etag}).status, 200,
       "If-Match right etag")
    mt = 1_600_000_000_123_456_789
    r = alice.upload("sales", "data/m.bin", b"m", headers={"X-De-Mtime-Ns": str(mt)})
    eq(r.json()["mtime_ns"], mt, "X-De-Mtime-Ns sets mtime")
    eq(os.stat(os.path.join(srv.mount_dir("sales"), "data/m.bin")).st_mtime_ns, mt,
       "mtime on disk")
    eq(alice.upload("sales", "data/m2", b"m", headers={"X-De-Mtime-Ns": "12abc"}).status, 400,
       "malformed X-De-Mtime-Ns")
    eq(alice.upload("sales", "data", b"x").status, 409, "PUT onto a folder")
    eq(alice.upload("sales", "data/a.bin/child", b"x").status, 409, "PUT below a file")
    eq(alice.upload("sales", "", b"x").status, 409, "PUT onto the root")
    eq(alice.upload("sales", "empty", b"").status, 201, "PUT an empty file")
    eq(alice.get(alice.file_url("sales", "empty")).body, b"", "GET an empty file")
    # no Content-Length
    c = srv.conn()
    c.putrequest("PUT", alice.file_url("sales", "nolen"))
    c.putheader("Authorization", basic("alice", key))
    c.endheaders()
    r = c.getresponse()
    eq((r.status, json.loads(r.read())["error"]["kind"]), (411, "length_required"),
       "PUT without Content-Length")
    c.close()
    # chunked PUT
    c = srv.conn()
    c.request("PUT", alice.file_url("sales", "chunked.bin"), body=iter([b"ab", b"cd" * 1000]),
              headers={"Authorization": basic("alice", key)}, encode_chunked=True)
    r = c.getresponse()
    body = json.loads(r.read())
    eq((r.status, body["size"], body["sha256"]), (201, 2002, sha256_hex(b"ab" + b"cd" * 1000)),
       "chunked PUT")
    c.close()
    # Expect: 100-continue
    c = srv.conn()
    c.putrequest("PUT", alice.file_url("sales", "expect.bin"))
    c.putheader("Authorization", basic("alice", key))
    c.putheader("Content-Length", "5")
    c.putheader("Expect", "100-continue")
    c.endheaders()
    c.sock.settimeout(5)
    head = c.sock.recv(100)
    check(head.startswith(b"HTTP/1.1 100"), "100 Continue before the body", repr(head))
    c.sock.sendall(b"hello")
    rest = c.sock.recv(4096)
    check(b" 201 " in rest.split(b"\r\n")[0] or b"201 Created" in rest, "then 201", repr(rest))
    c.close()

    # GET/HEAD
    r = alice.get(alice.file_url("sales", "data/a.bin"))
    eq((r.status, r.body), (200, data), "GET")
    eq(r.header("ETag"), etag, "GET ETag is the SHA-256")
    eq(r.header("Accept-Ranges"), "bytes", "Accept-Ranges")
    eq(r.header("Content-Length"), str(len(data)), "Content-Length")
    check(r.header("Last-Modified", ) is not None and r.header("X-De-Mtime-Ns").isdigit(),
          "Last-Modified and X-De-Mtime-Ns")
    r = alice.request("HEAD", alice.file_url("sales", "data/a.bin"))
    eq((r.status, r.body, r.header("ETag"), r.header("Content-Length")),
       (200, b"", etag, str(len(data))), "HEAD")
    eq(alice.get(alice.file_url("sales", "data/a.bin"), headers={"If-None-Match": etag}).status,
       304, "If-None-Match etag -> 304")
    eq(alice.get(alice.file_url("sales", "data/a.bin"),
                 headers={"If-None-Match": '"' + "1" * 64 + '"'}).status, 200,
       "If-None-Match other -> 200")
    r = alice.get(alice.file_url("sales", "data/a.bin"),
                  headers={"If-Match": '"' + "1" * 64 + '"', "Range": "bytes=0-9"})
    eq((r.status, r.kind(), r.header("ETag")), (412, "precondition_failed", etag),
       "If-Match other -> 412 with the current ETag")
    r = alice.get(alice.file_url("sales", "data/a.bin"),
                  headers={"If-Match": etag, "Range": "bytes=0-9"})
    eq((r.status, r.body), (206, data[:10]), "If-Match the file's etag -> its bytes")
    eq(alice.get(alice.file_url("sales", "data/a.bin"), headers={"If-Match": "*"}).status, 200,
       "If-Match * -> 200")
    # Ranges of a file bigger than the server's 1 MiB read buffer: unaligned
    # ranges and an unaligned size must come back exact.
    big = bytes((i * 7 + i // 4096) % 251 for i in range(9 * 1024 * 1024 + 123))
    eq(alice.upload("sales", "data/big.bin", big).status, 201, "a 9 MiB file")
    bigrng = lambda h: alice.get(alice.file_url("sales", "data/big.bin"), headers={"Range": h})
    check(alice.get(alice.file_url("sales", "data/big.bin")).body == big, "9 MiB GET exact")
    for a, b in ((4097, 8 * 1024 * 1024 + 5000), (12345, len(big) - 1), (0, 4095),
                 (1024 * 1024 - 1, 3 * 1024 * 1024 + 1)):
        r = bigrng(f"bytes={a}-{b}")
        check(r.status == 206 and r.body == big[a:b + 1], f"9 MiB file, range {a}-{b} exact")
    r = bigrng("bytes=-5000")
    check(r.body == big[-5000:], "9 MiB file, last 5000 bytes exact")
    rng = lambda h: alice.get(alice.file_url("sales", "data/a.bin"), headers={"Range": h})
    r = rng("bytes=10-19")
    eq((r.status, r.body, r.header("Content-Range")), (206, data[10:20],
                                                       f"bytes 10-19/{len(data)}"), "Range A-B")
    r = rng("bytes=99990-")
    eq((r.status, r.body), (206, data[99990:]), "Range A-")
    r = rng("bytes=-5")
    eq((r.status, r.body), (206, data[-5:]), "Range -N")
    r = rng("bytes=99990-200000")
    eq((r.status, r.body), (206, data[99990:]), "Range past the end is clipped")
    r = rng(f"bytes={len(data)}-")
    eq((r.status, r.kind(), r.header("Content-Range")),
       (416, "range_not_satisfiable", f"bytes */{len(data)}"), "Range beyond the end")
    eq(rng("bytes=0-1,5-6").status, 416, "several ranges")
    r = rng("bytes=abc")
    eq((r.status, len(r.body)), (200, len(data)), "malformed Range is ignored")
    eq(alice.get(alice.file_url("sales", "data")).status, 409, "GET a folder")
    eq(alice.get(alice.file_url("sales", "missing")).status, 404, "GET missing")
    eq(alice.request("HEAD", alice.file_url("sales", "missing")).status, 404, "HEAD missing")
    eq(bob.get(alice.file_url("sales", "data/a.bin")).status, 404, "bob cannot GET alice's file")
    eq(bob.upload("sales", "evil", b"x").status, 404, "bob cannot PUT into alice's mount")
    eq(alice.request("POST", alice.file_url("sales", "x")).status, 405, "POST a file is 405")
    # percent-encoding: names with spaces, unicode, '%'
    r = alice.upload("sales", "sp%20ace/%C3%A9t%C3%A9%25.txt", b"u")
    eq((r.status, r.json()["path"]), (201, "sp ace/été%.txt"), "percent-decoded once")
    check(os.path.exists(os.path.join(srv.mount_dir("sales"), "sp ace", "été%.txt")),
          "decoded name on disk")

    # ---- mkdir, move, copy, delete -------------------------------------------------------
    mk = lambda body: alice.post("/api/v1/apps/sales/mount/mkdir", body)
    r = mk({"path": "d1"})
    eq((r.status, r.json()["type"]), (201, "dir"), "mkdir")
    eq(mk({"path": "d1"}).status, 409, "mkdir exists without parents")
    eq(mk({"path": "d1", "parents": True}).status, 200, "mkdir exists with parents")
    eq(mk({"path": "x1/y/z"}).status, 404, "mkdir without parents, parent missing")
    eq(mk({"path": "x1/y/z", "parents": True}).status, 201, "mkdir -p")
    eq(mk({"path": "data/a.bin", "parents": True}).status, 409, "mkdir onto a file")
    eq(mk({"path": "data/a.bin/sub", "parents": True}).status, 409, "mkdir below a file")
    eq(mk({"path": 3}).status, 422, "mkdir path not a string")
    eq(mk({"path": "../x"}).status, 400, "mkdir ..")

    mv = lambda body: alice.post("/api/v1/apps/sales/mount/move", body)
    r = mv({"from": "data/c.bin", "to": "moved/c.bin"})
    eq((r.status, r.json()["path"]), (200, "moved/c.bin"), "move")
    eq(mv({"from": "data/c.bin", "to": "x"}).status, 404, "move missing source")
    alice.upload("sales", "m1", b"1")
    alice.upload("sales", "m2", b"2")
    eq(mv({"from": "m1", "to": "m2"}).status, 409, "move onto existing")
    eq(mv({"from": "m1", "to": "m2", "overwrite": True}).status, 200, "move with overwrite")
    eq(alice.get(alice.file_url("sales", "m2")).body, b"1", "overwritten")
    eq(mv({"from": "x1", "to": "x1/y/inside"}).status, 400, "move into itself")
    eq(mv({"from": "", "to": "q"}).status, 400, "move the root")
    eq(mv({"from": "m2"}).status, 422, "move without 'to'")

    cp = lambda body: alice.post("/api/v1/apps/sales/mount/copy", body)
    r = cp({"from": "data/a.bin", "to": "copies/a.bin"})
    eq((r.status, r.json()["size"]), (201, len(data)), "copy a file")
    eq(alice.get(alice.file_url("sales", "copies/a.bin")).body, data, "copy content")
    r = cp({"from": "data", "to": "copies/data"})
    eq(r.status, 201, "copy a folder")
    eq(alice.get(alice.file_url("sales", "copies/data/a.bin")).body, data, "copied folder file")
    eq(cp({"from": "data/a.bin", "to": "copies/a.bin"}).status, 409, "copy onto existing")
    eq(cp({"from": "data/a.bin", "to": "copies/a.bin", "overwrite": True}).status, 201,
       "copy with overwrite")
    eq(cp({"from": "data", "to": "data/sub"}).status, 400, "copy into itself")
    eq(cp({"from": "nope", "to": "x"}).status, 404, "copy missing")

    dl = lambda p, q="": alice.delete(alice.file_url("sales", p) + q)
    eq(dl("m2").status, 204, "delete a file")
    eq(dl("m2").status, 404, "delete missing")
    eq(dl("x1").status, 409, "delete a non-empty folder without recursive")
    eq(dl("d1").status, 204, "delete an empty folder")
    eq(dl("x1", "?recursive=true").status, 204, "delete a folder recursively")
    check(not os.path.exists(os.path.join(srv.mount_dir("sales"), "x1")), "folder gone")
    eq(dl("", "?recursive=true").status, 400, "the root cannot be deleted")
    eq(dl("copies", "?recursive=maybe").status, 400, "bad boolean")
    eq(bob.delete(alice.file_url("sales", "copies") + "?recursive=true").status, 404,
       "bob cannot delete alice's files")

    # ---- list --------------------------------------------------------------------------------
    lst = lambda q="": alice.get("/api/v1/apps/sales/mount/list" + q)
    r = lst()
    names = [e["path"] for e in r.json()["entries"]]
    eq(names, sorted(names), "list is sorted")
    check("data" in names and "data/a.bin" not in names, "list is one level", repr(names))
    eq(r.json()["next_cursor"], None, "no cursor at the end")
    r = lst("?path=data&recursive=false&hashes=true")
    ent = {e["path"]: e for e in r.json()["entries"]}
    eq(ent["data/a.bin"]["sha256"], sha256_hex(data), "list with hashes")
    eq(ent["data/a.bin"]["size"], len(data), "list size")
    r = lst("?recursive=true")
    allp = [e["path"] for e in r.json()["entries"]]
    check("copies/data/a.bin" in allp and allp == sorted(allp), "recursive list", repr(allp))
    # pagination
    pages, cursor = [], None
    while True:
        q = "?recursive=true&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = lst(q).json()
        pages.extend(e["path"] for e in page["entries"])
        cursor = page["next_cursor"]
        if not cursor:
            break
        import urllib.parse
        cursor = urllib.parse.quote(cursor, safe="")
    eq(pages, allp, "paginated listing equals the full listing")
    eq(lst("?limit=0").status, 400, "limit 0")
    eq(lst("?limit=10001").status, 400, "limit over 10000")
    eq(lst("?path=data/a.bin").status, 409, "list a file")
    eq(lst("?path=missing").status, 404, "list missing")
    eq(lst("?path=../etc").status, 400, "list ..")

    # ---- manifest ------------------------------------------------------------------------------
    r = alice.get("/api/v1/apps/sales/mount/manifest?hashes=true")
    eq(r.status, 200, "manifest")
    eq(r.header("Content-Type"), "application/x-ndjson", "manifest content type")
    lines = [json.loads(l) for l in r.body.decode().splitlines()]
    eq(lines[-1], {"end": True, "count": len(lines) - 1}, "manifest end line")
    mpaths = [l["path"] for l in lines[:-1]]
    eq(sorted(mpaths), allp, "manifest has every entry")
    files = [l for l in lines[:-1] if l["type"] == "file"]
    check(all("sha256" in f for f in files), "manifest hashes")
    r = alice.get("/api/v1/apps/sales/mount/manifest?path=data")
    sub = [json.loads(l) for l in r.body.decode().splitlines()]
    check(all(l.get("path", "data/").startswith("data/") for l in sub[:-1]) and sub[-1]["end"],
          "manifest of a sub-folder")
    eq(alice.get("/api/v1/apps/sales/mount/manifest?path=missing").status, 404, "manifest missing")
    eq(bob.get("/api/v1/apps/sales/mount/manifest").status, 404, "bob's manifest of alice's app")

    # ---- mount status counts, disable ---------------------------------------------------------
    st = alice.get("/api/v1/apps/sales/mount").json()
    du = 0
    cnt = 0
    for d, _, fs in os.walk(srv.mount_dir("sales")):
        for f in fs:
            du += os.path.getsize(os.path.join(d, f))
            cnt += 1
    eq((st["used_bytes"], st["file_count"]), (du, cnt), "status counts the directory")
    eq(alice.delete("/api/v1/apps/sales/mount").kind(), "confirmation_required",
       "disable without confirm")
    eq(alice.delete("/api/v1/apps/sales/mount?confirm=other").status, 400,
       "disable with the wrong confirm")
    eq(bob.delete("/api/v1/apps/sales/mount?confirm=sales").status, 404, "bob cannot disable")
    eq(alice.delete("/api/v1/apps/sales/mount?confirm=sales").status, 204, "disable")
    check(not os.path.exists(srv.mount_dir("sales")), "disable deletes the files")
    eq(alice.delete("/api/v1/apps/sales/mount?confirm=sales").kind(), "mount_disabled",
       "disable twice")

    # ---- delete app ---------------------------------------------------------------------------
    eq(alice.delete("/api/v1/apps/sales").kind(), "confirmation_required", "delete needs confirm")
    eq(bob.delete("/api/v1/apps/sales?confirm=sales").status, 404, "bob cannot delete")
    eq(alice.delete("/api/v1/apps/sales?confirm=sales").status, 204, "delete app")
    eq(alice.get("/api/v1/apps/sales").status, 404, "deleted app is gone")
    check(not os.path.exists(os.path.join(srv.root, "apps", "sales")), "app folder gone")
    eq(bob.post("/api/v1/apps", {"name": "sales"}).status, 201, "the name is free again")

    # ---- nothing secret in the log -------------------------------------------------------------
    log = srv.stderr()
    check(key not in log and bob_key not in log and tok["token"] not in log,
          "no key or token in the server's log")
    check("Authorization" not in log and "Basic " not in log, "no Authorization in the log")
finally:
    rc = srv.stop()
    eq(rc, 0, "SIGTERM stops the server cleanly")
    srv.close()
finish()

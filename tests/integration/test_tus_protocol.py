"""tus 1.0 and the `parts` extension against a real de-server (docs/api.md,
"Resumable uploads (tus 1.0)"): creation, PATCH, HEAD, checksums, termination,
expiry, quota reservations, a server killed mid-upload, concatenation, parallel
parts, and isolation between users."""
import contextlib
import hashlib
import http.client
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import (  # noqa: E402
    MiB, OCTETS, SANITIZED, Server, Client, b64, basic, check, data_of, eq, finish, meta,
    sha256_hex)



class Tus:
    def __init__(self, client, app):
        self.c = client
        self.app = app
        self.base = f"/api/v1/apps/{app}/uploads"

    def h(self, extra=None):
        h = {"Tus-Resumable": "1.0.0"}
        if extra:
            h.update(extra)
        return h

    def create(self, length, extra=None, body=None, **md):
        h = self.h({} if length is None else {"Upload-Length": str(length)})
        if md:
            h["Upload-Metadata"] = meta(**md)
        if extra:
            h.update(extra)
        return self.c.request("POST", self.base, body=body, headers=h)

    def head(self, url):
        return self.c.request("HEAD", url, headers=self.h())

    def patch(self, url, offset, data, checksum=None, extra=None):
        h = self.h({"Upload-Offset": str(offset), "Content-Type": OCTETS})
        if checksum:
            h["Upload-Checksum"] = checksum
        if extra:
            h.update(extra)
        return self.c.request("PATCH", url, body=data, headers=h)

    def delete(self, url):
        return self.c.request("DELETE", url, headers=self.h())

    def complete(self, url, sha=None):
        body = None
        h = self.h()
        if sha is not None:
            body = ('{"sha256": "%s"}' % sha).encode()
            h["Content-Type"] = "application/json"
        return self.c.request("POST", url + "/complete", body=body, headers=h)


def crc32c(data):
    """CRC-32C (Castagnoli), bit by bit: an independent check of the server's."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def ck(algo, data):
    if algo == "crc32c":
        return "crc32c " + b64(crc32c(data).to_bytes(4, "big"))
    return f"{algo} " + b64(hashlib.new(algo, data).digest())


def visible(server, app, path):
    return os.path.exists(os.path.join(server.mount_dir(app), path))


def uploads_dir(server, app):
    return os.path.join(server.root, "apps", app, "uploads")


def main_server():
    s = Server()
    try:
        alice = Client(s, basic("alice", s.add_user("alice")))
        bob = Client(s, basic("bob", s.add_user("bob")))
        eq(alice.create_app("tus").status, 201, "create app")
        bob.create_app("bobs")
        t = Tus(alice, "tus")

        # OPTIONS: capabilities, without authentication.
        anon = Client(s, None)
        r = anon.request("OPTIONS", "/api/v1/apps/tus/uploads")
        eq(r.status, 204, "OPTIONS status")
        eq(r.header("Tus-Version"), "1.0.0", "Tus-Version")
        eq(r.header("Tus-Resumable"), "1.0.0", "OPTIONS Tus-Resumable")
        ext = (r.header("Tus-Extension") or "").split(",")
        for e in ["creation", "creation-with-upload", "checksum", "termination", "expiration",
                  "concatenation", "parts"]:
            check(e in ext, f"Tus-Extension lists {e}", ext)
        eq(r.header("Tus-Checksum-Algorithm"), "sha256,sha1,crc32c,crc64", "checksum algorithms")
        check((r.header("Tus-Max-Size") or "").isdigit(), "Tus-Max-Size is a number")

        # Tus-Resumable is required.
        r = alice.request("POST", t.base, headers={"Upload-Length": "10",
                                                   "Upload-Metadata": meta(path="x")})
        eq(r.status, 412, "no Tus-Resumable -> 412")
        eq(r.header("Tus-Version"), "1.0.0", "412 carries Tus-Version")

        # Core: create, HEAD, PATCH in two chunks, completion.
        data = data_of(3 * MiB + 123, "core")
        sha = sha256_hex(data)
        r = t.create(len(data), path="dir/core.bin", sha256=sha, mtime_ns=1700000000123456789)
        eq(r.status, 201, "create")
        url = r.header("Location")
        check(url and url.startswith("/api/v1/apps/tus/uploads/") and len(url.split("/")[-1]) == 32,
              "Location names a 32-hex id", url)
        check(r.header("Upload-Expires") is not None, "creation carries Upload-Expires")
        r = t.head(url)
        eq(r.status, 200, "HEAD")
        eq(r.header("Upload-Offset"), "0", "HEAD offset 0")
        eq(r.header("Upload-Length"), str(len(data)), "HEAD length")
        eq(r.header("Cache-Control"), "no-store", "HEAD no-store")
        check("path " + b64("dir/core.bin") in (r.header("Upload-Metadata") or ""), "HEAD metadata")
        r = t.patch(url, 0, data[:10], extra={"Content-Type": "application/octet-stream"})
        eq(r.status, 415, "PATCH with the wrong Content-Type -> 415")
        r = t.patch(url, 0, data[:2 * MiB])
        eq(r.status, 204, "first PATCH")
        eq(r.header("Upload-Offset"), str(2 * MiB), "first PATCH offset")
        check(not visible(s, "tus", "dir/core.bin"), "nothing visible before completion")
        r = t.patch(url, 5, data[5:10])
        eq(r.status, 409, "wrong offset -> 409")
        eq(t.head(url).header("Upload-Offset"), str(2 * MiB), "HEAD after the first chunk")
        # A bad checksum: 460, offset unchanged; then the right chunk.
        rest = data[2 * MiB:]
        r = t.patch(url, 2 * MiB, rest, checksum=ck("sha256", rest[:-1] + b"x"))
        eq(r.status, 460, "bad Upload-Checksum -> 460")
        eq(r.kind(), "checksum_mismatch", "460 kind")
        eq(t.head(url).header("Upload-Offset"), str(2 * MiB), "offset unchanged after 460")
        r = t.patch(url, 2 * MiB, rest[:10], checksum="md5 " + b64(b"0" * 16))
        eq(r.status, 400, "unsupported checksum algorithm -> 400")
        r = t.patch(url, 2 * MiB, rest, checksum=ck("sha256", rest))
        eq(r.status, 204, "the right chunk -> 204")
        eq(r.header("Upload-Offset"), str(len(data)), "final offset")
        eq(r.header("ETag"), f'"{sha}"', "completion ETag")
        check(sha in (r.header("X-De-Entry") or ""), "completion X-De-Entry")
        g = alice.get(alice.file_url("tus", "dir/core.bin"))
        eq(g.status, 200, "GET the completed file")
        check(g.body == data, "identical bytes")
        eq(g.header("ETag"), f'"{sha}"', "GET ETag")
        eq(g.header("X-De-Mtime-Ns"), "1700000000123456789", "mtime from metadata")
        alice.upload("tus", "put.bin", b"via PUT")
        mode = lambda p: os.stat(os.path.join(s.mount_dir("tus"), p)).st_mode & 0o777
        eq(mode("dir/core.bin"), mode("put.bin"), "a tus file gets the mode a PUT file gets")
        r = t.head(url)
        eq(r.status, 200, "HEAD of a completed upload")
        eq(r.header("Upload-Offset"), str(len(data)), "completed HEAD offset")
        check(sha in (r.header("X-De-Entry") or ""), "completed HEAD X-De-Entry")
        eq(t.patch(url, len(data), b"x").status, 409, "PATCH to a completed upload -> 409")

        # The path exists now: a second upload to it is 409 unless overwrite.
        eq(t.create(10, path="dir/core.bin").status, 409, "existing path -> 409")
        r = t.create(4, path="dir/core.bin", overwrite="true")
        eq(r.status, 201, "overwrite=true may replace")
        r = t.patch(r.header("Location"), 0, b"abcd", checksum=ck("sha1", b"abcd"))
        eq(r.status, 204, "sha1 checksum accepted (and the replacement completes)")
        eq(alice.get(alice.file_url("tus", "dir/core.bin")).body, b"abcd", "replaced content")
        # crc32c, the cheap per-PATCH check de-cli sends: right, wrong, malformed.
        eq(crc32c(b"123456789"), 0xE3069283, "the test's own crc32c (check value)")
        d5 = data_of(3000, "crc")
        r = t.create(len(d5), path="crc.bin")
        u5 = r.header("Location")
        eq(t.patch(u5, 0, d5[:1000], checksum=ck("crc32c", d5[:1000])).status, 204,
           "crc32c checksum accepted")
        r = t.patch(u5, 1000, d5[1000:], checksum=ck("crc32c", d5[1000:-1] + b"x"))
        eq(r.status, 460, "wrong crc32c -> 460")
        check("crc32c" in r.json()["error"]["message"], "the 460 names crc32c")
        eq(t.head(u5).header("Upload-Offset"), "1000", "offset unchanged after a crc32c 460")
        r = t.patch(u5, 1000, d5[1000:], checksum="crc32c " + b64(b"12345678"))
        eq(r.status, 400, "crc32c of 8 bytes -> 400")
        eq(t.patch(u5, 1000, d5[1000:], checksum=ck("crc32c", d5[1000:])).status, 204,
           "the right crc32c completes")
        eq(alice.get(alice.file_url("tus", "crc.bin")).body, d5, "crc32c upload content")
        eq(t.create(10).status, 400, "no path -> 400")
        eq(t.create(10, extra={"Upload-Metadata": "path !!!"}).status, 400, "bad base64 -> 400")

        # creation-with-upload, whole file in the POST.
        small = b"hello tus"
        r = t.create(len(small), body=small, extra={"Content-Type": OCTETS}, path="cwu.txt")
        eq(r.status, 201, "creation-with-upload")
        eq(r.header("Upload-Offset"), str(len(small)), "creation-with-upload offset")
        check(alice.get(alice.file_url("tus", "cwu.txt")).body == small, "creation-with-upload content")

        # Metadata sha256 mismatch at completion: 460, nothing visible.
        d2 = data_of(100_000, "mismatch")
        r = t.create(len(d2), path="bad.bin", sha256="0" * 64)
        u2 = r.header("Location")
        r = t.patch(u2, 0, d2)
        eq(r.status, 460, "metadata sha256 mismatch -> 460")
        check(not visible(s, "tus", "bad.bin"), "nothing visible after a mismatch")
        check(t.head(u2).status in (404, 410), "the mismatched upload is gone")

        # Refusals before the body is read close the connection (small bodies here,
        # so the client is done sending when the answer comes).
        # Termination.
        r = t.create(1000, path="term.bin")
        u3 = r.header("Location")
        eq(t.patch(u3, 0, b"x" * 500).status, 204, "PATCH before termination")
        eq(t.delete(u3).status, 204, "termination -> 204")
        check(t.head(u3).status in (404, 410), "HEAD after termination -> 404/410")
        check(t.patch(u3, 500, b"y").status in (404, 410), "PATCH after termination -> 404/410")
        eq(t.head(t.base + "/" + "z" * 32).status, 404, "malformed id -> 404")
        eq(t.head(t.base + "/..%2f..%2fapp.json").status, 404, "path tricks in the id -> 404")

        # Another user cannot reach alice's upload.
        r = t.create(100, path="private.bin")
        u4 = r.header("Location")
        tb = Tus(bob, "tus")
        eq(tb.head(u4).status, 404, "bob HEAD alice's upload -> 404")
        eq(tb.patch(u4, 0, b"x" * 10).status, 404, "bob PATCH alice's upload -> 404")
        eq(tb.delete(u4).status, 404, "bob DELETE alice's upload -> 404")
        bob_url = u4.replace("/apps/tus/", "/apps/bobs/")
        eq(tb.head(bob_url).status, 404, "alice's id under bob's app -> 404")
        eq(t.head(u4).header("Upload-Offset"), "0", "alice's upload untouched")

        # Concatenation: two partials, then a final.
        pa, pb = data_of(700_000, "pa"), data_of(300_001, "pb")
        ra = t.create(len(pa), extra={"Upload-Concat": "partial"})
        rb = t.create(len(pb), extra={"Upload-Concat": "partial"})
        eq((ra.status, rb.status), (201, 201), "partials created")
        ua, ub = ra.header("Location"), rb.header("Location")
        eq(t.head(ua).header("Upload-Concat"), "partial", "HEAD of a partial")
        eq(t.patch(ub, 0, pb).status, 204, "partial b")
        r = t.create(None, extra={"Upload-Concat": f"final;{ua} {ub}"}, path="cat.bin")
        eq(r.status, 400, "final over an incomplete partial -> 400")
        eq(t.patch(ua, 0, pa).status, 204, "partial a")
        check(not visible(s, "tus", "cat.bin"), "partials are not visible")
        whole = pa + pb
        absolute = f"http://{s.host}:{s.port}{ua}"
        r = t.create(len(whole) + 1, extra={"Upload-Concat": f"final;{absolute} {ub}"},
                     path="cat.bin")
        eq(r.status, 400, "final with a wrong Upload-Length -> 400")
        r = t.create(None, extra={"Upload-Concat": f"final;{absolute} {ub}"}, path="cat.bin",
                     sha256=sha256_hex(whole))
        eq(r.status, 201, "final upload")
        eq(r.header("Upload-Offset"), str(len(whole)), "final upload is complete")
        check(alice.get(alice.file_url("tus", "cat.bin")).body == whole, "concatenated content")
        check(t.head(ua).status in (404, 410), "partials are gone after the final")
        r = t.head(r.header("Location"))
        eq(r.status, 200, "HEAD of the final")
        check((r.header("Upload-Concat") or "").startswith("final;"), "final's Upload-Concat")
        eq(t.create(None, extra={"Upload-Concat": f"final;{t.base}/{'a' * 32}"}, path="c2").status,
           404, "final over a missing partial -> 404")

        parts_tests(s, alice, t)

        # Deleting the app drops its uploads (files and the reservation).
        alice.create_app("gone")
        tg = Tus(alice, "gone")
        r = tg.create(5 * MiB, path="x.bin")
        ug = r.header("Location")
        eq(tg.patch(ug, 0, b"z" * 1000).status, 204, "upload in an app to delete")
        eq(alice.delete("/api/v1/apps/gone?confirm=gone").status, 204, "delete the app")
        alice.create_app("gone")
        eq(tg.head(ug).status, 404, "the upload went with the app")
        eq(os.listdir(uploads_dir(s, "gone")) if os.path.isdir(uploads_dir(s, "gone")) else [],
           [], "no upload files left")
        # Turning the mount off drops them too.
        r = tg.create(1000, path="y.bin")
        uy = r.header("Location")
        eq(alice.delete("/api/v1/apps/gone/mount?confirm=gone").status, 204, "disable the mount")
        eq(os.listdir(uploads_dir(s, "gone")), [], "disabling the mount removed the upload files")
        alice.put_mount("gone")
        eq(tg.head(uy).status, 404, "the upload went with the mount")
    finally:
        s.close()


def parts_tests(s, alice, t):
    P = MiB
    data = data_of(3 * P + 4321, "parts")
    sha = sha256_hex(data)
    r = t.create(len(data), extra={"Upload-Parts": str(P)}, path="parts/big.bin")
    eq(r.status, 201, "parts creation")
    url = r.header("Location")
    eq(t.create(10 * P, extra={"Upload-Parts": "1000"}, path="p2").status, 400,
       "Upload-Parts below 1 MiB -> 400")

    # Part 2 on connection A, half sent; meanwhile part 0 whole on connection B
    # and part 2 again on C (409: a PATCH is running there).
    a = s.conn()
    a.putrequest("PATCH", url)
    for k, v in [("Authorization", alice.auth), ("Tus-Resumable", "1.0.0"),
                 ("Upload-Offset", str(2 * P)), ("Content-Type", OCTETS),
                 ("Content-Length", str(P))]:
        a.putheader(k, v)
    a.endheaders()
    a.send(data[2 * P:2 * P + P // 2])
    b = Client(s, alice.auth)
    tb = Tus(b, "tus")
    eq(tb.patch(url, 0, data[:P]).status, 204, "part 0 while part 2 is in flight")
    deadline = time.time() + 30
    while True:  # part 2's first half must have reached the server before C asks
        r = Tus(Client(s, alice.auth), "tus").patch(url, 2 * P, b"")  # harmless if it lands
        if r.status == 409 or time.time() > deadline:
            break
        time.sleep(0.05)
    eq(r.status, 409, "a second PATCH to a part in flight -> 409")
    a.send(data[2 * P + P // 2:3 * P])
    ra = a.getresponse()
    ra.read()
    eq(ra.status, 204, "part 2 completes")
    eq(ra.getheader("Upload-Offset"), str(3 * P), "part 2's new offset")
    a.close()
    eq(t.patch(url, 2 * P + 5, b"x").status, 409, "PATCH inside a part -> 409")
    eq(t.patch(url, 3 * P, data[3 * P:] + b"extra").status, 400, "PATCH past a part's end -> 400")
    eq(t.patch(url, 3 * P, data[3 * P:]).status, 204, "last (short) part")
    r = t.head(url)
    eq(r.header("Upload-Parts"), str(P), "HEAD Upload-Parts")
    eq(r.header("Upload-Parts-Done"), "0,2-3", "HEAD Upload-Parts-Done")
    eq(r.header("Upload-Offset"), str(P), "HEAD offset = contiguous prefix")
    r = t.complete(url, sha)
    eq(r.status, 409, "complete with a missing part -> 409")
    eq((r.json() or {}).get("error", {}).get("missing_parts"), "1", "409 names the missing part")
    # Part 1 in two PATCHes: half, then from where it stopped.
    eq(t.patch(url, P, data[P:P + P // 2]).status, 204, "part 1 first half")
    eq(t.patch(url, P, data[P:P + P // 4]).status, 204, "part 1 restarted at its start")
    eq(t.head(url).header("Upload-Offset"), str(P + P // 4), "restart reset the part")
    eq(t.patch(url, P + P // 4, data[P + P // 4:2 * P]).status, 204, "part 1 rest")
    eq(t.head(url).header("Upload-Parts-Done"), "0-3", "all parts done")
    check(not visible(s, "tus", "parts/big.bin"), "parts: nothing visible before completion")
    r = t.complete(url, sha)
    eq(r.status, 201, "complete -> 201")
    eq((r.json() or {}).get("sha256"), sha, "complete answers the entry")
    eq(r.header("ETag"), f'"{sha}"', "complete ETag")
    r2 = t.complete(url)
    eq(r2.status, 201, "complete again -> same status")
    eq(r2.json(), r.json(), "complete again -> same entry")
    g = alice.get(alice.file_url("tus", "parts/big.bin"))
    check(g.body == data, "parts: identical bytes")

    # Wrong whole-file sha256 at completion: 460 and nothing visible.
    d = data_of(P + 1000, "wrong")
    r = t.create(len(d), extra={"Upload-Parts": str(P)}, path="parts/wrong.bin")
    u = r.header("Location")
    eq(t.patch(u, P, d[P:]).status, 204, "wrong: part 1")
    eq(t.patch(u, 0, d[:P], checksum=ck("sha256", d[:P])).status, 204, "wrong: part 0")
    eq(t.complete(u).status, 422, "complete without any sha256 -> 422")
    r = t.complete(u, "1" * 64)
    eq(r.status, 460, "complete with the wrong sha256 -> 460")
    check(not visible(s, "tus", "parts/wrong.bin"), "nothing visible after 460")


@contextlib.contextmanager
def tus_app(app, *server_args):
    """A fresh de-server with user alice and her app `app`: (server, alice, Tus)."""
    s = Server(*server_args)
    try:
        alice = Client(s, basic("alice", s.add_user("alice")))
        alice.create_app(app)
        yield s, alice, Tus(alice, app)
    finally:
        s.close()


def expiry_test():
    with tus_app("exp", "--upload-expiry", "1") as (s, alice, t):
        r = t.create(1000, path="e.bin")
        url = r.header("Location")
        eq(t.patch(url, 0, b"a" * 10).status, 204, "expiry: PATCH")
        deadline = time.time() + 30
        st = 0
        while time.time() < deadline:
            st = t.head(url).status
            if st == 410:
                break
            time.sleep(0.2)
        eq(st, 410, "expired upload -> 410")
        eq(t.patch(url, 10, b"b").status, 410, "PATCH to an expired upload -> 410")
        left = None
        while time.time() < deadline:
            left = os.listdir(uploads_dir(s, "exp"))
            if not left:
                break
            time.sleep(0.2)
        eq(left, [], "expired upload's files reaped")


def quota_test():
    with tus_app("q", "--quota", "10MiB") as (s, alice, t):
        r1 = t.create(6 * MiB, path="one.bin")
        eq(r1.status, 201, "quota: first creation fits")
        r2 = t.create(6 * MiB, path="two.bin")
        eq(r2.status, 507, "quota: second creation does not fit beside the first")
        err = (r2.json() or {}).get("error", {})
        eq(err.get("needed_bytes"), 6 * MiB, "507 needed_bytes")
        check(err.get("available_bytes", -1) == 4 * MiB, "507 available_bytes", err)
        eq(t.create(11 * MiB, path="huge.bin").status, 413, "over Tus-Max-Size -> 413")
        eq(t.delete(r1.header("Location")).status, 204, "terminate the first")
        eq(t.create(6 * MiB, path="two.bin").status, 201, "the second fits now")


def restart_test():
    with tus_app("rs") as (s, alice, t):
        data = data_of(5 * MiB + 17, "restart")
        sha = sha256_hex(data)
        r = t.create(len(data), path="r.bin", sha256=sha)
        url = r.header("Location")
        eq(t.patch(url, 0, data[:3 * MiB]).status, 204, "restart: first PATCH")
        # A parts upload too, one part done.
        r = t.create(len(data), extra={"Upload-Parts": str(2 * MiB)}, path="rp.bin")
        purl = r.header("Location")
        eq(t.patch(purl, 4 * MiB, data[4 * MiB:]).status, 204, "restart: part 2")
        s.stop(signal.SIGKILL)
        check(not visible(s, "rs", "r.bin"), "nothing visible after the kill")
        s.start()
        alice.c = s.conn()
        r = t.head(url)
        eq(r.status, 200, "HEAD after restart")
        eq(r.header("Upload-Offset"), str(3 * MiB), "offset preserved across SIGKILL")
        eq(t.patch(url, 3 * MiB, data[3 * MiB:]).status, 204, "upload continues after restart")
        g = alice.get(alice.file_url("rs", "r.bin"))
        eq(sha256_hex(g.body), sha, "restarted upload has the right SHA-256")
        eq(t.head(purl).header("Upload-Parts-Done"), "2", "parts preserved across SIGKILL")
        eq(t.patch(purl, 0, data[:2 * MiB]).status, 204, "restart: part 0")
        eq(t.patch(purl, 2 * MiB, data[2 * MiB:4 * MiB]).status, 204, "restart: part 1")
        r = t.complete(purl, sha)
        eq(r.status, 201, "parts upload completes after restart")
        eq(sha256_hex(alice.get(alice.file_url("rs", "rp.bin")).body), sha, "parts restart SHA")
        # The reservation was re-made at start-up and released at completion.
        st = alice.get("/api/v1/apps/rs/mount").json()
        eq(st["used_bytes"], 2 * len(data), "usage after both completions")


def rss_kib(server):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory_release_test():
    """Parts that run ahead of the whole-file hash are kept in memory; when the
    hash catches up their buffers go back to a pool for the next PATCH. Once the
    server is idle the pool must be emptied and the memory returned."""
    with tus_app("mem") as (s, alice, t):
        P = 4 * MiB
        data = data_of(6 * P, "memory")
        r = t.create(len(data), extra={"Upload-Parts": str(P)}, path="m.bin")
        eq(r.status, 201, "memory: creation")
        url = r.header("Location")
        for k in (1, 2, 3, 0, 4, 5):  # 1-3 run ahead of the hash and are kept in memory
            eq(t.patch(url, k * P, data[k * P:(k + 1) * P]).status, 204, f"memory: part {k}")
        eq(t.complete(url, sha256_hex(data)).status, 201, "memory: completion")
        busy = rss_kib(s)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and rss_kib(s) > busy - 8 * 1024:
            time.sleep(0.2)
        idle = rss_kib(s)
        check(SANITIZED or idle <= busy - 8 * 1024,
              "the idle server gives back the buffers of parts that ran ahead",
              f"VmRSS {busy} KiB after the upload, {idle} KiB idle")


def chunked_test():
    """PATCH bodies with Transfer-Encoding: chunked (no Content-Length), as a
    client streaming from a pipe sends them: accepted, checksummed, and held to
    Upload-Length while streaming."""
    with tus_app("ch") as (s, alice, t):
        data = data_of(3 * MiB + 7, "chunked")
        r = t.create(len(data), path="c.bin")
        eq(r.status, 201, "chunked: creation")
        url = r.header("Location")

        def chunked_patch(offset, body, checksum=None):
            c = s.conn(timeout=30)
            h = {"Authorization": alice.auth, "Tus-Resumable": "1.0.0",
                 "Upload-Offset": str(offset), "Content-Type": OCTETS}
            if checksum:
                h["Upload-Checksum"] = checksum
            pieces = [body[i:i + 65536] for i in range(0, len(body), 65536)]
            try:
                c.request("PATCH", url, body=iter(pieces), headers=h, encode_chunked=True)
                resp = c.getresponse()
                resp.read()
                return resp.status, resp.getheader("Upload-Offset")
            except (ConnectionError, http.client.HTTPException) as e:
                return repr(e), None
            finally:
                c.close()

        first = data[:2 * MiB]
        eq(chunked_patch(0, first, ck("crc32c", first)), (204, str(2 * MiB)),
           "chunked PATCH with a crc32c checksum -> 204 and the new offset")
        too_long = data[2 * MiB:] + b"z" * 100
        st, _ = chunked_patch(2 * MiB, too_long, ck("crc32c", too_long))
        eq(st, 400, "a chunked body running past Upload-Length -> 400 while streaming")
        eq(t.head(url).header("Upload-Offset"), str(2 * MiB),
           "a refused checksummed chunked PATCH keeps nothing")
        rest = data[2 * MiB:]
        eq(chunked_patch(2 * MiB, rest, ck("sha1", rest)), (204, str(len(data))),
           "the rest, chunked, with sha1")
        eq(t.complete(url, sha256_hex(data)).status, 201, "chunked: completion")
        eq(sha256_hex(alice.get(alice.file_url("ch", "c.bin")).body), sha256_hex(data),
           "chunked: the file is what was sent")


main_server()
chunked_test()
expiry_test()
quota_test()
restart_test()
memory_release_test()
finish()

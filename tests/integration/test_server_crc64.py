"""The CRC-64 of issue 15 on de-server's write paths (docs/api.md: PUT's Repr-Digest, tus
`Upload-Checksum: crc64` and `"crc64"` in .../complete, batch `DE.crc64`), against a real
de-server: a damaged body is refused and nothing is committed; a staged tus part damaged on
disk before completion is caught (460); every committed file carries its CRC in the
user.de.crc64 attribute. The expected CRCs come from ISA-L itself through ctypes, not from
de's code."""
import base64
import ctypes
import io
import os
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import (  # noqa: E402
    MiB, OCTETS, Server, Client, basic, check, data_of, eq, finish, meta, sha256_hex)

_isal = ctypes.CDLL("libisal.so.2")
_isal.crc64_ecma_refl.restype = ctypes.c_uint64
_isal.crc64_ecma_refl.argtypes = [ctypes.c_uint64, ctypes.c_char_p, ctypes.c_uint64]


def crc64(data):
    """CRC-64/XZ (ISA-L's crc64_ecma_refl; check value of "123456789" 0x995DC9BBDF1939FA)."""
    return _isal.crc64_ecma_refl(0, data, len(data))


assert crc64(b"123456789") == 0x995DC9BBDF1939FA


def crc_b64(data):
    return base64.b64encode(crc64(data).to_bytes(8, "big")).decode()


def crc_hex(data):
    return f"{crc64(data):016x}"


def stored_crc(path):
    """The CRC the user.de.crc64 attribute names, with its size."""
    fields = os.getxattr(path, "user.de.crc64").decode().split()
    eq(fields[0], "v1", f"{path}: attribute version")
    return fields[1], int(fields[2])


def check_xattr(path, data, what):
    crc, size = stored_crc(path)
    eq((crc, size), (crc_hex(data), len(data)), f"{what}: user.de.crc64 is the file's CRC-64")


class Tus:
    def __init__(self, client, app):
        self.c = client
        self.base = f"/api/v1/apps/{app}/uploads"

    def h(self, extra=None):
        h = {"Tus-Resumable": "1.0.0"}
        h.update(extra or {})
        return h

    def create(self, length, part_size, path):
        return self.c.request("POST", self.base, headers=self.h({
            "Upload-Length": str(length), "Upload-Parts": str(part_size),
            "Upload-Metadata": meta(path=path)}))

    def patch(self, url, offset, data, checksum=None):
        extra = {"Upload-Offset": str(offset), "Content-Type": OCTETS}
        if checksum:
            extra["Upload-Checksum"] = checksum
        return self.c.request("PATCH", url, body=data, headers=self.h(extra))

    def complete(self, url, body):
        import json
        return self.c.request("POST", url + "/complete", body=json.dumps(body).encode(),
                              headers=self.h({"Content-Type": "application/json"}))


def put_tests(s, alice):
    mount = s.mount_dir("crc")
    data = data_of(300_000, "put")
    url = alice.file_url("crc", "p/ok.bin")
    # The right Repr-Digest: stored, with its CRC beside it.
    r = alice.put(url, data, headers={"Repr-Digest": f"crc64=:{crc_b64(data)}:"})
    eq(r.status, 201, f"PUT with the right Repr-Digest ({r.body[:200]!r})")
    eq((r.json() or {}).get("sha256"), sha256_hex(data), "the entry's sha256 (server-side)")
    check_xattr(os.path.join(mount, "p/ok.bin"), data, "PUT")
    # Also without any digest the committed file gets its attribute.
    r = alice.put(alice.file_url("crc", "p/plain.bin"), data)
    eq(r.status, 201, "PUT without a digest")
    check_xattr(os.path.join(mount, "p/plain.bin"), data, "PUT without a digest")
    # One byte flipped on the way (the digest says what the client had).
    bad = bytearray(data)
    bad[1234] ^= 0x40
    r = alice.put(alice.file_url("crc", "p/bad.bin"), bytes(bad),
                  headers={"Repr-Digest": f"crc64=:{crc_b64(data)}:"})
    eq((r.status, r.kind()), (400, "digest_mismatch"), "a damaged PUT body -> 400 digest_mismatch")
    err = (r.json() or {}).get("error", {})
    eq(err.get("received_crc64"), crc_hex(bytes(bad)), "the error names the received CRC-64")
    check("CRC-64" in err.get("message", ""), "the message says CRC-64", err)
    check(not os.path.exists(os.path.join(mount, "p/bad.bin")), "nothing stored")
    # A malformed crc64 member is 400 bad_request; Content-Digest sha-256 still works.
    r = alice.put(alice.file_url("crc", "p/m.bin"), data, headers={"Repr-Digest": "crc64=:xx:"})
    eq((r.status, r.kind()), (400, "bad_request"), "malformed Repr-Digest -> 400")
    r = alice.put(alice.file_url("crc", "p/cd.bin"), data, headers={
        "Content-Digest": "sha-256=:" + base64.b64encode(
            __import__("hashlib").sha256(data).digest()).decode() + ":"})
    eq(r.status, 201, "Content-Digest sha-256 still accepted")


def tus_tests(s, alice):
    mount = s.mount_dir("crc")
    t = Tus(alice, "crc")
    P = MiB
    # A PATCH with the right crc64 completes; a wrong one is 460 and keeps nothing.
    data = data_of(3 * P + 5, "tus")
    r = t.create(len(data), P, "t/ok.bin")
    eq(r.status, 201, "create")
    url = r.header("Location")
    part = data[:P]
    bad = bytearray(part)
    bad[10] ^= 1
    r = t.patch(url, 0, bytes(bad), checksum=f"crc64 {crc_b64(part)}")
    eq(r.status, 460, "a PATCH whose body is not its crc64 -> 460")
    for k in range(4):
        chunk = data[k * P:(k + 1) * P]
        r = t.patch(url, k * P, chunk, checksum=f"crc64 {crc_b64(chunk)}")
        eq(r.status, 204, f"part {k} with its crc64")
    r = t.complete(url, {"crc64": crc_hex(data)})
    eq(r.status, 201, f"complete with the whole file's crc64 ({r.body[:200]!r})")
    eq((r.json() or {}).get("sha256"), sha256_hex(data), "the entry's sha256 (computed once, server)")
    check_xattr(os.path.join(mount, "t/ok.bin"), data, "tus")

    # A wrong whole-file crc64: 460 with received_crc64, nothing committed, upload discarded.
    r = t.create(len(data), P, "t/wrong.bin")
    url = r.header("Location")
    for k in range(4):
        t.patch(url, k * P, data[k * P:(k + 1) * P])
    r = t.complete(url, {"crc64": "0123456789abcdef"})
    eq((r.status, r.kind()), (460, "checksum_mismatch"), "a wrong whole-file crc64 -> 460")
    eq(((r.json() or {}).get("error") or {}).get("received_crc64"), crc_hex(data),
       "460 names the CRC-64 the server computed")
    check(not os.path.exists(os.path.join(mount, "t/wrong.bin")), "nothing committed")
    eq(t.complete(url, {"crc64": crc_hex(data)}).status, 410, "the upload was discarded")
    eq(t.complete(url + "x", {"crc64": "zz"}).status, 404, "unknown upload")
    r = t.create(10, P, "t/bad.bin")
    eq(t.complete(r.header("Location"), {"crc64": "xyz"}).status, 422, "crc64 not 16 hex -> 422")

    # A staged part damaged on disk before completion: parts far ahead of the hash are
    # not kept in memory (16 MiB window) and are read back from the staged file, so the
    # whole-file CRC catches the damage: 460, nothing committed.
    n = 20
    data = data_of(n * P, "disk")
    r = t.create(len(data), P, "t/disk.bin")
    url = r.header("Location")
    upload_id = url.rsplit("/", 1)[1]
    for k in range(n - 1, 0, -1):  # last to second: all beyond the hash at 0
        chunk = data[k * P:(k + 1) * P]
        eq(t.patch(url, k * P, chunk, checksum=f"crc64 {crc_b64(chunk)}").status, 204,
           f"disk: part {k}")
    staged = os.path.join(s.root, "apps", "crc", "uploads", upload_id + ".data")
    with open(staged, "r+b") as f:
        f.seek(18 * P + 77)
        b = f.read(1)
        f.seek(18 * P + 77)
        f.write(bytes([b[0] ^ 0x01]))
    chunk = data[:P]
    eq(t.patch(url, 0, chunk, checksum=f"crc64 {crc_b64(chunk)}").status, 204, "disk: part 0")
    r = t.complete(url, {"crc64": crc_hex(data)})
    eq((r.status, r.kind()), (460, "checksum_mismatch"),
       f"a staged part damaged on disk -> 460 ({r.body[:300]!r})")
    check(not os.path.exists(os.path.join(mount, "t/disk.bin")), "disk: nothing committed")


def make_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path, data, pax in members:
            ti = tarfile.TarInfo(path)
            ti.mtime = 1_700_000_000
            ti.size = len(data)
            ti.pax_headers = pax
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def batch_tests(s, alice):
    mount = s.mount_dir("crc")
    a, b = data_of(5000, "ba"), data_of(7000, "bb")
    body = make_tar([("b/a.txt", a, {"DE.crc64": crc_hex(a)}),
                     ("b/b.txt", b, {"DE.crc64": crc_hex(b)})])
    r = alice.request("POST", "/api/v1/apps/crc/mount/batch", body=body,
                      headers={"Content-Type": "application/x-tar"})
    eq(r.status, 200, f"a batch with DE.crc64 ({r.body[:200]!r})")
    check_xattr(os.path.join(mount, "b/a.txt"), a, "batch")
    check_xattr(os.path.join(mount, "b/b.txt"), b, "batch")
    body = make_tar([("c/a.txt", a, {"DE.crc64": crc_hex(a)}),
                     ("c/b.txt", b, {"DE.crc64": crc_hex(a)})])
    r = alice.request("POST", "/api/v1/apps/crc/mount/batch", body=body,
                      headers={"Content-Type": "application/x-tar"})
    eq((r.status, r.kind()), (400, "digest_mismatch"), "a wrong DE.crc64 -> 400 digest_mismatch")
    err = (r.json() or {}).get("error", {})
    eq((err.get("path"), err.get("received_crc64")), ("c/b.txt", crc_hex(b)),
       "the error names the member and its CRC-64")
    check(not os.path.exists(os.path.join(mount, "c")), "nothing of the batch committed")
    body = make_tar([("d/a.txt", a, {"DE.crc64": "nothex"})])
    r = alice.request("POST", "/api/v1/apps/crc/mount/batch", body=body,
                      headers={"Content-Type": "application/x-tar"})
    eq(r.status, 400, "a DE.crc64 that is not 16 hex digits -> 400")


def main():
    s = Server()
    try:
        alice = Client(s, basic("alice", s.add_user("alice")))
        eq(alice.create_app("crc").status, 201, "create app")
        put_tests(s, alice)
        tus_tests(s, alice)
        batch_tests(s, alice)
    finally:
        s.close()


main()
finish()

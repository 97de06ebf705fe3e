"""Batch upload (POST .../mount/batch, docs/api.md "Batch upload") against a real de-server:
`de-cli sync push` of a few hundred small files lands identical through batches; hand-made
tar bodies (python's tarfile, pax headers with DE.sha256) check that a digest mismatch, a
conflict, a quota refusal or a malformed member commits nothing and leaves staging empty,
and that another user's app is 404."""
import hashlib
import io
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Client, Server, basic, check, eq, finish, sha256_hex


def make_tar(members, fmt=tarfile.PAX_FORMAT):
    """members: (path, data | None for a folder, extra pax dict or None, mtime)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for path, data, pax, mtime in members:
            ti = tarfile.TarInfo(path)
            ti.mtime = mtime
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
                continue
            ti.size = len(data)
            ti.pax_headers = dict(pax if pax is not None else {"DE.sha256": sha256_hex(data)})
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def batch(client, app, body, overwrite=None, headers=None):
    q = "" if overwrite is None else f"?overwrite={'true' if overwrite else 'false'}"
    h = {"Content-Type": "application/x-tar"}
    h.update(headers or {})
    return client.request("POST", f"/api/v1/apps/{app}/mount/batch{q}", body=body, headers=h)


def tree_of(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = (hashlib.sha256(fh.read()).hexdigest(),
                                                 os.stat(p).st_mtime_ns)
    return out


def staging_empty(srv, app, what):
    left = [n for n in os.listdir(srv.staging_dir(app)) if n.startswith("batch-")]
    eq(left, [], f"{what}: nothing left in staging")


srv = Server()
tmp = tempfile.mkdtemp(prefix="de-batch-it.")
try:
    key = srv.add_user("alice")
    alice = Client(srv, basic("alice", key))
    alice.create_app("b")
    mount = srv.mount_dir("b")

    # ---- de-cli sync push: a few hundred files in batches, identical on arrival ----------
    src = os.path.join(tmp, "src")
    rng = random.Random(4)
    for i in range(300):
        d = os.path.join(src, f"d{i % 7}", f"s{i % 3}")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"f{i:03d}.bin")
        with open(p, "wb") as f:
            f.write(os.urandom(rng.randint(0, 20000)))
        os.utime(p, ns=(1_700_000_000_123_456_789 + i, 1_700_000_000_123_456_789 + i * 1001))
    os.makedirs(os.path.join(src, "empty", "inner"))
    big = os.path.join(src, "big.bin")  # above the batch threshold: the per-file path
    with open(big, "wb") as f:
        f.write(os.urandom(3 << 20))
    env = dict(os.environ, HOME=os.path.join(tmp, "home"),
               XDG_CACHE_HOME=os.path.join(tmp, "home", ".cache"),
               XDG_CONFIG_HOME=os.path.join(tmp, "home", ".config"),
               DASH_ENTERPRISE_HOST=srv.url, DASH_ENTERPRISE_USERNAME="alice",
               DASH_ENTERPRISE_PASSWORD=key)
    before = srv.stderr().count("/mount/batch ")
    r = subprocess.run([os.environ["DE_CLI"], "--no-keyfile", "sync", "push", "-n", "b", src],
                       capture_output=True, env=env, timeout=300)
    eq(r.returncode, 0, f"sync push exit code (stderr: {r.stderr.decode()[-500:]})")
    eq(tree_of(mount), tree_of(src), "every file arrived with the same SHA-256 and mtime (ns)")
    check(os.path.isdir(os.path.join(mount, "empty", "inner")), "empty folders were created")
    log = srv.stderr()
    nbatch = log.count("/mount/batch ") - before
    check(1 <= nbatch <= 4, "the small files went up in a few batch requests", f"{nbatch}")
    eq(log.count("PUT /api/v1/apps/b/mount/files/"), 1, "only the big file used a PUT")
    staging_empty(srv, "b", "after sync push")
    r = subprocess.run([os.environ["DE_CLI"], "--no-keyfile", "sync", "push", "-n", "b", src],
                       capture_output=True, env=env, timeout=300)
    eq(r.returncode, 0, "a second sync push (no-op) succeeds")
    eq(srv.stderr().count("/mount/batch ") - before, nbatch, "the no-op sent no batch")

    # ---- a tree larger than one batch goes up in several requests -------------------------
    # DE_BATCH_MAX_FILES (a test knob, cli/test_hooks.cpp) caps the files per request,
    # so 150 files make 4 requests of at most 40; --json must still list every stored file
    # (entries are handed on from each answer as it is parsed, not kept per request).
    split = os.path.join(tmp, "split")
    want = {}
    for i in range(150):
        d = os.path.join(split, f"p{i % 3}")
        os.makedirs(d, exist_ok=True)
        data = os.urandom(rng.randint(1, 5000))
        with open(os.path.join(d, f"g{i:03d}.bin"), "wb") as f:
            f.write(data)
        want[f"p{i % 3}/g{i:03d}.bin"] = sha256_hex(data)
    before = srv.stderr().count("POST /api/v1/apps/b/mount/batch ")
    r = subprocess.run([os.environ["DE_CLI"], "--no-keyfile", "--json", "upload", "-r",
                        split + "/", "/split", "-n", "b"], capture_output=True,
                       env=dict(env, DE_BATCH_MAX_FILES="40"), timeout=300)
    eq(r.returncode, 0, f"upload -r in small batches (stderr: {r.stderr.decode()[-500:]})")
    eq(srv.stderr().count("POST /api/v1/apps/b/mount/batch ") - before, 4,
       "150 files at most 40 a request: 4 batch requests")
    got = {e["path"]: e["sha256"] for e in __import__("json").loads(r.stdout)["files"]}
    eq(got, {"/split/" + p: h for p, h in want.items()}, "--json lists every file with its sha256")
    eq({p: h for p, (h, _) in tree_of(os.path.join(mount, "split")).items()}, want,
       "every file of every request arrived")
    staging_empty(srv, "b", "after upload -r in several batches")
    before = srv.stderr().count("POST /api/v1/apps/b/mount/batch ")
    r = subprocess.run([os.environ["DE_CLI"], "--no-keyfile", "sync", "push", "-n", "b", split,
                        "--remote-dir", "split2"], capture_output=True,
                       env=dict(env, DE_BATCH_MAX_FILES="40"), timeout=300)
    eq(r.returncode, 0, f"sync push in small batches (stderr: {r.stderr.decode()[-500:]})")
    check(srv.stderr().count("POST /api/v1/apps/b/mount/batch ") - before >= 4,
          "sync push split the 150 files (and 4 folders) into several requests")
    eq({p: h for p, (h, _) in tree_of(os.path.join(mount, "split2")).items()}, want,
       "sync push: every file of every request arrived")

    # ---- hand-made tar bodies ------------------------------------------------------------
    body = make_tar([("t/", None, None, 1_700_000_000),
                     ("t/a.txt", b"alpha", None, 1_700_000_000.5),
                     ("t/" + "x" * 150 + "/long.txt", b"long", None, 1_700_000_001),
                     ("t/empty.txt", b"", None, 1_700_000_002)])
    r = batch(alice, "b", body)
    eq(r.status, 200, f"a hand-made pax tar is accepted ({r.body[:300]!r})")
    j = r.json()
    eq((j["files"], j["dirs"], j["bytes"]), (3, 1, 9), "answer counts files, dirs, bytes")
    eq(sorted(e["path"] for e in j["entries"]),
       sorted(["t/a.txt", "t/" + "x" * 150 + "/long.txt", "t/empty.txt"]), "answer entries")
    eq({e["path"]: e["sha256"] for e in j["entries"]}["t/a.txt"], sha256_hex(b"alpha"),
       "entries carry sha256")
    with open(os.path.join(mount, "t", "a.txt"), "rb") as f:
        eq(f.read(), b"alpha", "content stored")
    eq(os.stat(os.path.join(mount, "t", "a.txt")).st_mtime_ns, 1_700_000_000_500_000_000,
       "fractional pax mtime kept")
    r = alice.get("/api/v1/apps/b/mount/files/t/a.txt")
    eq(r.header("ETag"), '"' + sha256_hex(b"alpha") + '"', "ETag from the remembered hash")

    # digest mismatch: nothing of the batch is committed
    body = make_tar([("dm/ok1.txt", b"one", None, 1_700_000_000),
                     ("dm/bad.txt", b"two", {"DE.sha256": sha256_hex(b"not two")}, 1_700_000_000),
                     ("dm/ok3.txt", b"three", None, 1_700_000_000)])
    r = batch(alice, "b", body)
    eq((r.status, r.kind()), (400, "digest_mismatch"), "a wrong DE.sha256 -> 400 digest_mismatch")
    eq(r.json()["error"].get("path"), "dm/bad.txt", "the error names the member")
    check(not os.path.exists(os.path.join(mount, "dm")), "digest mismatch: nothing committed")
    staging_empty(srv, "b", "digest mismatch")
    eq(alice.get("/api/v1/whoami").status, 200, "the connection stays usable after a 400")

    # conflict without overwrite: nothing committed; with overwrite: replaced
    body = make_tar([("c/new.txt", b"new", None, 1_700_000_000),
                     ("t/a.txt", b"changed", None, 1_700_000_000)])
    r = batch(alice, "b", body)
    eq((r.status, r.kind()), (409, "conflict"), "an existing file without overwrite -> 409")
    check("t/a.txt" in r.json()["error"]["message"], "the 409 names the file")
    check(not os.path.exists(os.path.join(mount, "c")), "conflict: nothing committed")
    with open(os.path.join(mount, "t", "a.txt"), "rb") as f:
        eq(f.read(), b"alpha", "conflict: the existing file is untouched")
    staging_empty(srv, "b", "conflict")
    r = batch(alice, "b", body, overwrite=True)
    eq(r.status, 200, "overwrite=true replaces")
    with open(os.path.join(mount, "t", "a.txt"), "rb") as f:
        eq(f.read(), b"changed", "overwrite=true: new content")
    r = batch(alice, "b", make_tar([("t", b"file over a folder", None, 1_700_000_000)]),
              overwrite=True)
    eq((r.status, r.kind()), (409, "conflict"), "a file over a folder -> 409 even with overwrite")
    r = batch(alice, "b", make_tar([("f", b"x", None, 0), ("f/d/", None, None, 0)]))
    eq((r.status, r.kind()), (409, "conflict"), "a folder under a file of the same batch -> 409")
    check(not os.path.exists(os.path.join(mount, "f")), "in-batch conflict: nothing committed")
    r = batch(alice, "b", make_tar([("t/a.txt/under", b"x", None, 1_700_000_000)]))
    eq((r.status, r.kind()), (409, "conflict"), "a file under a file -> 409")

    # malformed members: 400 and nothing committed
    def refused(members, what, needle, fmt=tarfile.PAX_FORMAT, raw=None):
        body = raw if raw is not None else make_tar(members, fmt)
        r = batch(alice, "b", body)
        eq((r.status, r.kind()), (400, "bad_request"), what)
        check(needle in r.json()["error"]["message"], f"{what}: message says why",
              r.json()["error"]["message"])
        staging_empty(srv, "b", what)

    refused([("m/ok.txt", b"x", None, 0), ("../escape.txt", b"x", None, 0)], "'..' member", "..")
    check(not os.path.exists(os.path.join(srv.root, "apps", "b", "escape.txt")), "no escape")
    check(not os.path.exists(os.path.join(mount, "m")), "'..' member: nothing committed")
    refused([("m/nosha.txt", b"x", {}, 0)], "a file without DE.sha256", "DE.sha256")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("m/link")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "/etc/passwd"
        t.addfile(ti)
    refused(None, "a symlink member", "symbolic link", raw=buf.getvalue())
    good = make_tar([("m/ok.txt", b"x", None, 0)])
    refused(None, "a truncated body", "truncated", raw=good[:700])
    corrupt = bytearray(good)
    corrupt[1024 + 10] ^= 0x01  # the member's own ustar header (after the pax header + data)
    refused(None, "a corrupt header", "checksum", raw=bytes(corrupt))
    check(not os.path.exists(os.path.join(mount, "m")), "malformed: nothing committed")

    # no Content-Length (chunked) -> 411
    c = srv.conn()
    c.putrequest("POST", "/api/v1/apps/b/mount/batch")
    c.putheader("Authorization", basic("alice", key))
    c.putheader("Content-Type", "application/x-tar")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    c.send(b"0\r\n\r\n")
    resp = c.getresponse()
    eq(resp.status, 411, "a chunked batch -> 411")
    c.close()

    # a client that drops the connection mid-body: nothing committed, staging emptied
    body = make_tar([(f"drop/f{i}.bin", os.urandom(4000), None, 0) for i in range(50)])
    head = (f"POST /api/v1/apps/b/mount/batch HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {basic('alice', key)}\r\nContent-Type: application/x-tar\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    s = srv.raw(head + body[:len(body) // 2], read=False)
    time.sleep(0.2)
    s.close()
    deadline = time.time() + 30
    while time.time() < deadline and any(n.startswith("batch-")
                                         for n in os.listdir(srv.staging_dir("b"))):
        time.sleep(0.05)
    staging_empty(srv, "b", "a dropped connection")
    check(not os.path.exists(os.path.join(mount, "drop")), "a dropped connection: nothing committed")

    # another user's app -> 404, before the body
    key_b = srv.add_user("bob")
    bob = Client(srv, basic("bob", key_b))
    r = batch(bob, "b", make_tar([("stolen.txt", b"x", None, 0)]))
    eq((r.status, r.kind()), (404, "not_found"), "another user's app -> 404")
    check(not os.path.exists(os.path.join(mount, "stolen.txt")), "404: nothing stored")
finally:
    srv.close()

# ---- quota: 507 before the body, nothing committed ----------------------------------------
srv = Server("--quota", "64KiB")
try:
    key = srv.add_user("carol")
    carol = Client(srv, basic("carol", key))
    carol.create_app("q")
    body = make_tar([(f"q/f{i}.bin", os.urandom(20000), None, 0) for i in range(5)])
    r = batch(carol, "q", body)
    eq((r.status, r.kind()), (507, "quota_exceeded"), "a batch over the quota -> 507")
    eq(r.json()["error"]["needed_bytes"], len(body), "507 names the body's size")
    eq(os.listdir(srv.mount_dir("q")), [], "507: nothing committed")
    staging_empty(srv, "q", "507")
    body = make_tar([(f"q/f{i}.bin", os.urandom(5000), None, 0) for i in range(3)])
    eq(batch(carol, "q", body).status, 200, "a batch under the quota is stored")
finally:
    srv.close()
    subprocess.run(["rm", "-rf", tmp])

finish()

"""Nothing is left behind, and the tus commit window survives a crash (issue 13):

- a tus upload whose server is killed (test hook DE_SERVER_TEST_CRASH) right
  after the rename into the mount is completed after the restart: HEAD says so
  (Upload-Offset = length, ETag, X-De-Entry); killed just before the rename, it
  is complete but uncommitted and POST .../complete commits it;
- DELETE of a complete-but-uncommitted upload frees its file and reservation at
  once, also after a restart; a completion refused by a conflict discards it;
- an aborted, refused or partly committed batch (DE_SERVER_TEST_BATCH_RACE; pool
  threads lingering after batch jobs, DE_SERVER_TEST_POOL_LINGER_MS) and a
  failed or aborted PUT leave no staging file and no reservation;
- mount status reports reserved_bytes (API and `de-cli mount status`);
- a small state file's temporary copy left by a kill mid-write (DE_SERVER_TEST_CRASH=
  atomic_write_before_rename) is removed by the next start once 10 minutes old, and
  nothing else is;
- --min-free: writes that would cut into the free-space reserve get 507 and
  leave the mount as it was (on a 32 MiB tmpfs when we may mount one).
Needs a DE_TEST_HOOKS build."""
import http.client
import json
import os
import socket
import subprocess
import sys
import tarfile
import io
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import (  # noqa: E402
    MiB, OCTETS, Server, Client, b64, basic, check, data_of, eq, finish, meta, sha256_hex)



def tus_headers(extra=None):
    h = {"Tus-Resumable": "1.0.0"}
    h.update(extra or {})
    return h


def create(c, app, length, parts=None, **md):
    h = tus_headers({"Upload-Length": str(length), "Upload-Metadata": meta(**md)})
    if parts:
        h["Upload-Parts"] = str(parts)
    r = c.request("POST", f"/api/v1/apps/{app}/uploads", headers=h)
    check(r.status == 201, "tus creation -> 201", repr(r))
    return r.header("Location")


def patch(c, url, offset, data, retry=True):
    h = tus_headers({"Upload-Offset": str(offset), "Content-Type": OCTETS})
    return c.request("PATCH", url, body=data, headers=h, retry=retry)


def head(c, url):
    return c.request("HEAD", url, headers=tus_headers())


def status(c, app):
    r = c.get(f"/api/v1/apps/{app}/mount")
    check(r.status == 200, f"mount status of {app}", repr(r))
    return r.json()


def staged(srv, app):
    d = srv.staging_dir(app)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def uploads(srv, app):
    d = os.path.join(srv.root, "apps", app, "uploads")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def mount_tree(srv, app):
    out = {}
    root = srv.mount_dir(app)
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = sha256_hex(fh.read())
    return out


def usage_right(c, srv, app, what):
    """mount status equals what the mount holds, and nothing is reserved."""
    st = status(c, app)
    sizes = [os.path.getsize(os.path.join(d, f))
             for d, _, fs in os.walk(srv.mount_dir(app)) for f in fs]
    eq((st["used_bytes"], st["file_count"], st["reserved_bytes"]), (sum(sizes), len(sizes), 0),
       f"{what}: usage = the mount's content, nothing reserved")
    eq(staged(srv, app), [], f"{what}: staging is empty")


def wait_for(cond, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def make_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data in members:
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mtime = 1_700_000_000
            ti.pax_headers = {"DE.sha256": sha256_hex(data)}
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def batch(c, app, body, overwrite=False):
    q = "?overwrite=true" if overwrite else ""
    return c.request("POST", f"/api/v1/apps/{app}/mount/batch{q}", body=body,
                     headers={"Content-Type": "application/x-tar"})


def raw_request(srv, auth, method, path, headers, body=b"", send_all=True, expect=False):
    """One request on its own socket, with Expect: 100-continue when `expect`:
    returns (status, parsed JSON body or None). With send_all=False the body is
    cut short and the socket closed (a client that went away)."""
    s = socket.create_connection((srv.host, srv.port), timeout=30)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {srv.host}", f"Authorization: {auth}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if expect:
            lines.append("Expect: 100-continue")
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

        def read_head(buf):
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    return None, buf
                buf += chunk
            h, rest = buf.split(b"\r\n\r\n", 1)
            return h.decode(), rest

        buf = b""
        if expect:
            h, buf = read_head(buf)
            if h is None:
                return None, None
            code = int(h.split()[1])
            if code != 100:
                return code, read_body(s, h, buf)
        if not send_all:
            s.sendall(body[: len(body) // 2])
            time.sleep(0.2)
            return None, None
        try:
            if callable(body):
                body(s)
            else:
                s.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h, buf = read_head(buf)
        if h is None:
            return None, None
        return int(h.split()[1]), read_body(s, h, buf)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return None, None
    finally:
        s.close()


def read_body(s, h, buf):
    n = 0
    for line in h.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            n = int(v.strip())
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    try:
        return json.loads(buf[:n]) if n else None
    except ValueError:
        return None


def kill_and_restart(srv, *env_unset):
    srv.proc.wait(timeout=30)
    eq(srv.proc.returncode, -9, "the test hook killed the server (SIGKILL)")
    for k in env_unset:
        os.environ.pop(k, None)
    srv.start()


# ---- the tus commit window -------------------------------------------------------------------
def commit_window():
    os.environ["DE_SERVER_TEST_CRASH"] = "after_rename"
    srv = Server()
    try:
        key = srv.add_user("alice")
        auth = basic("alice", key)
        alice = Client(srv, auth)
        alice.create_app("w")
        data = data_of(3 * MiB + 123, "after")
        sha = sha256_hex(data)
        url = create(alice, "w", len(data), path="d/after.bin", sha256=sha)
        try:
            r = patch(alice, url, 0, data, retry=False)
            check(False, "the PATCH that commits got no answer (the server was killed)", repr(r))
        except (http.client.HTTPException, ConnectionError, OSError):
            pass
        kill_and_restart(srv, "DE_SERVER_TEST_CRASH")
        alice = Client(srv, auth)
        r = head(alice, url)
        eq(r.status, 200, "after a crash right after the rename, HEAD -> 200")
        eq(r.header("Upload-Offset"), str(len(data)), "HEAD: Upload-Offset = Upload-Length")
        eq(r.header("ETag"), f'"{sha}"', "HEAD: ETag is the file's SHA-256")
        entry = json.loads(r.header("X-De-Entry") or "{}")
        eq((entry.get("path"), entry.get("sha256"), entry.get("size")),
           ("d/after.bin", sha, len(data)), "HEAD: X-De-Entry names the committed file")
        eq(mount_tree(srv, "w"), {"d/after.bin": sha}, "the mount has the file, whole")
        eq([n for n in uploads(srv, "w") if n.endswith(".data")], [],
           "no staged data is left in uploads/")
        usage_right(alice, srv, "w", "after the crash after the rename")
        r = alice.request("POST", url + "/complete", headers=tus_headers())
        check(r.status in (200, 201) and (r.json() or {}).get("sha256") == sha,
              "POST .../complete of the completed upload answers its entry", repr(r))
        r = alice.request("GET", "/api/v1/apps/w/mount/files/d/after.bin")
        eq((r.status, r.body == data, r.header("ETag")), (200, True, f'"{sha}"'),
           "GET of the recovered file: same bytes, ETag")

        # Killed just before the rename: complete, not committed; POST .../complete commits.
        srv.stop()
        os.environ["DE_SERVER_TEST_CRASH"] = "before_rename"
        srv.start()
        alice = Client(srv, auth)
        data2 = data_of(2 * MiB + 7, "before")
        sha2 = sha256_hex(data2)
        url2 = create(alice, "w", len(data2), path="before.bin", sha256=sha2)
        try:
            patch(alice, url2, 0, data2, retry=False)
        except (http.client.HTTPException, ConnectionError, OSError):
            pass
        kill_and_restart(srv, "DE_SERVER_TEST_CRASH")
        alice = Client(srv, auth)
        r = head(alice, url2)
        eq((r.status, r.header("Upload-Offset"), r.header("X-De-Entry")),
           (200, str(len(data2)), None),
           "after a crash before the rename: complete (offset = length), not committed")
        check(not os.path.exists(os.path.join(srv.mount_dir("w"), "before.bin")),
              "the file is not in the mount yet")
        eq(status(alice, "w")["reserved_bytes"], len(data2),
           "the complete-but-uncommitted upload holds its reservation")
        r = alice.request("POST", url2 + "/complete", headers=tus_headers())
        eq(r.status, 201, "POST .../complete commits it")
        eq(mount_tree(srv, "w").get("before.bin"), sha2, "the committed file is whole")
        r = head(alice, url2)
        eq(r.header("ETag"), f'"{sha2}"', "HEAD after completion: ETag")
        usage_right(alice, srv, "w", "after completing the recovered upload")
        eq([n for n in uploads(srv, "w") if n.endswith(".data")], [], "no staged data left")
    finally:
        os.environ.pop("DE_SERVER_TEST_CRASH", None)
        srv.close()


# ---- reservations and leftovers --------------------------------------------------------------
def leftovers():
    os.environ["DE_SERVER_TEST_BATCH_RACE"] = "race.txt"
    # Pool threads linger after a batch job: a Batch still referenced there must
    # not depend on the request that is gone by then (it leaked staged files).
    os.environ["DE_SERVER_TEST_POOL_LINGER_MS"] = "300"
    srv = Server()
    try:
        key = srv.add_user("alice")
        auth = basic("alice", key)
        alice = Client(srv, auth)
        alice.create_app("l")

        # DELETE of a complete-but-uncommitted upload (parts mode does not complete by
        # itself) frees it at once, before and after a restart.
        n = 2 * MiB
        for restart in (False, True):
            data = data_of(n, f"parts{restart}")
            url = create(alice, "l", n, parts=MiB, path=f"p{restart}.bin")
            for off in (0, MiB):
                eq(patch(alice, url, off, data[off:off + MiB]).status, 204, "PATCH a part")
            eq(status(alice, "l")["reserved_bytes"], n, "a complete upload holds its length")
            if restart:
                srv.stop()
                srv.start()
                alice = Client(srv, auth)
                eq(status(alice, "l")["reserved_bytes"], n, "re-reserved after a restart")
            eq(alice.request("DELETE", url, headers=tus_headers()).status, 204, "DELETE -> 204")
            eq(status(alice, "l")["reserved_bytes"], 0,
               f"DELETE freed the reservation at once (restart={restart})")
            eq(uploads(srv, "l"), [], "DELETE removed the staged file and its state")
            eq(alice.request("DELETE", url, headers=tus_headers()).status, 204,
               "a retried DELETE -> 204")

        # A completion refused because the target appeared meanwhile discards the upload.
        data = data_of(MiB + 5, "conflict")
        url = create(alice, "l", len(data), parts=MiB, path="taken.bin")
        eq(patch(alice, url, 0, data[:MiB]).status, 204, "PATCH part 0")
        eq(patch(alice, url, MiB, data[MiB:]).status, 204, "PATCH part 1")
        eq(alice.upload("l", "taken.bin", b"someone else").status, 201, "another writer wins")
        r = alice.request("POST", url + "/complete",
                          headers=tus_headers({"Content-Type": "application/json"}),
                          body=json.dumps({"sha256": sha256_hex(data)}).encode())
        eq((r.status, r.kind()), (409, "conflict"), "completion over an existing file -> 409")
        eq(uploads(srv, "l"), [], "the refused upload's files are gone at once")
        check(head(alice, url).status in (404, 410), "the refused upload is gone")
        eq(alice.request("DELETE", url, headers=tus_headers()).status, 204,
           "the client's DELETE of it still succeeds")
        usage_right(alice, srv, "l", "after a refused tus completion")

        # Batches: aborted mid-body, refused (digest), committed in part (a racing writer).
        # Big enough that the part sent before the abort fills a whole 1 MiB
        # buffer, so members are staged before the connection drops.
        members = [(f"b/f{i}.bin", data_of(400_000, f"m{i}")) for i in range(6)]
        body = make_tar(members)
        for attempt in range(3):
            raw_request(srv, auth, "POST", "/api/v1/apps/l/mount/batch",
                        {"Content-Type": "application/x-tar", "Content-Length": str(len(body))},
                        body, send_all=False)
            time.sleep(0.6)  # past the pool's linger, before any other request
        check(wait_for(lambda: staged(srv, "l") == [] and
                       status(alice, "l")["reserved_bytes"] == 0),
              "aborted batches: staging empty, nothing reserved", repr(staged(srv, "l")))
        check(not os.path.exists(os.path.join(srv.mount_dir("l"), "b")),
              "an aborted batch committed nothing")
        bad = make_tar(members[:2]).replace(b"DE.sha256=" + sha256_hex(members[1][1]).encode(),
                                            b"DE.sha256=" + b"0" * 64)
        r = batch(alice, "l", bad)
        eq((r.status, r.kind()), (400, "digest_mismatch"), "a batch with a wrong digest -> 400")
        usage_right(alice, srv, "l", "after a refused batch")
        racing = make_tar(members[:3] + [("race.txt", b"mine")] + members[3:])
        r = batch(alice, "l", racing)
        eq(r.status, 207, "a batch that a racing writer beats to one path -> 207")
        eq([f["path"] for f in (r.json() or {}).get("failed", [])], ["race.txt"],
           "207: the raced member failed")
        eq(staged(srv, "l"), [], "a partial batch leaves nothing in staging (right away)")
        eq(len([p for p in mount_tree(srv, "l") if p.startswith("b/")]), 6,
           "the other members are committed")
        usage_right(alice, srv, "l", "after a partial batch")

        # PUT: refused after its body (If-None-Match: *), and cut off mid-body.
        r = alice.upload("l", "taken.bin", b"x" * 1000, headers={"If-None-Match": "*"})
        eq(r.status, 412, "PUT If-None-Match: * over a file -> 412")
        raw_request(srv, auth, "PUT", "/api/v1/apps/l/mount/files/cut.bin",
                    {"Content-Length": str(4 * MiB)}, b"z" * (4 * MiB), send_all=False)
        check(wait_for(lambda: staged(srv, "l") == [] and
                       status(alice, "l")["reserved_bytes"] == 0),
              "an aborted PUT: staging empty, nothing reserved", repr(staged(srv, "l")))
        usage_right(alice, srv, "l", "after failed PUTs")

        # C3 through the CLI: a reservation in flight is shown.
        url = create(alice, "l", 3 * MiB, parts=MiB, path="inflight.bin")
        tmp = tempfile.mkdtemp(prefix="de-leftovers-cli.")
        env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, ".config"),
                   XDG_CACHE_HOME=os.path.join(tmp, ".cache"),
                   DASH_ENTERPRISE_HOST=srv.url, DASH_ENTERPRISE_USERNAME="alice",
                   DASH_ENTERPRISE_PASSWORD=key)
        cli = [os.environ["DE_CLI"], "--no-keyfile"]
        out = subprocess.run(cli + ["mount", "status", "-n", "l"], capture_output=True,
                             env=env, timeout=60)
        eq(out.returncode, 0, "de-cli mount status")
        text = out.stdout.decode()
        check("reserved by uploads in flight\t3.0 MiB" in text or
              "reserved by uploads in flight\t3 MiB" in text,
              "mount status prints the bytes reserved by uploads in flight", text)
        out = subprocess.run(cli + ["--json", "mount", "status", "-n", "l"], capture_output=True,
                             env=env, timeout=60)
        js = json.loads(out.stdout.decode() or "{}")
        eq(js.get("mount", {}).get("reserved_bytes"), 3 * MiB, "mount status --json: reserved_bytes")
        eq(alice.request("DELETE", url, headers=tus_headers()).status, 204, "terminate it")
        eq(status(alice, "l")["reserved_bytes"], 0, "nothing reserved after the termination")
    finally:
        os.environ.pop("DE_SERVER_TEST_BATCH_RACE", None)
        os.environ.pop("DE_SERVER_TEST_POOL_LINGER_MS", None)
        srv.close()


# ---- --min-free --------------------------------------------------------------------------------
def refused_writes(srv, alice, auth, app, size, what):
    """Every kind of write of `size` bytes is refused with 507 and changes nothing."""
    before = mount_tree(srv, app)
    code, body = raw_request(srv, auth, "PUT", f"/api/v1/apps/{app}/mount/files/x.bin",
                             {"Content-Length": str(size)}, b"x" * size, expect=True)
    eq((code, (body or {}).get("error", {}).get("kind")), (507, "quota_exceeded"),
       f"{what}: PUT -> 507 quota_exceeded")
    check("free space" in json.dumps(body), f"{what}: the message says it is the disk", repr(body))
    r = alice.request("POST", f"/api/v1/apps/{app}/uploads",
                      headers=tus_headers({"Upload-Length": str(size),
                                           "Upload-Metadata": meta(path="t.bin")}))
    eq((r.status, r.kind()), (507, "quota_exceeded"), f"{what}: tus creation -> 507")
    tar = make_tar([("bt.bin", b"y" * size)])
    code, body = raw_request(srv, auth, "POST", f"/api/v1/apps/{app}/mount/batch",
                             {"Content-Type": "application/x-tar",
                              "Content-Length": str(len(tar))}, tar, expect=True)
    eq(code, 507, f"{what}: batch -> 507")
    eq(mount_tree(srv, app), before, f"{what}: the mount is as it was")
    eq(uploads(srv, app), [], f"{what}: no tus upload left")
    usage_right(alice, srv, app, what)


def min_free():
    # Anywhere: a reserve of 100 % refuses every write.
    srv = Server("--min-free", "100%")
    try:
        key = srv.add_user("alice")
        auth = basic("alice", key)
        alice = Client(srv, auth)
        alice.create_app("m")
        refused_writes(srv, alice, auth, "m", 1000, "--min-free 100%")
        eq(alice.upload("m", "empty.txt", b"").status, 201, "an empty file still fits")
    finally:
        srv.close()
    bad = subprocess.run([os.environ["DE_SERVER"], "--root", "/nonexistent", "--min-free", "101%"],
                         capture_output=True)
    eq(bad.returncode, 2, "--min-free 101% is a usage error")

    # A 32 MiB tmpfs (root may mount one): a reserve of 8 MiB, then none (ENOSPC).
    if os.geteuid() != 0:
        print("not root: the tmpfs part of the --min-free test is skipped", file=sys.stderr)
        return
    fs = tempfile.mkdtemp(prefix="de-minfree.")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", fs]).returncode != 0:
        print("cannot mount a tmpfs: the tmpfs part is skipped", file=sys.stderr)
        os.rmdir(fs)
        return
    try:
        srv = Server("--min-free", "8MiB", root=os.path.join(fs, "root"))
        try:
            key = srv.add_user("alice")
            auth = basic("alice", key)
            alice = Client(srv, auth)
            alice.create_app("t")
            data = data_of(16 * MiB, "first")
            eq(alice.upload("t", "first.bin", data).status, 201, "16 MiB fit above the reserve")
            refused_writes(srv, alice, auth, "t", 10 * MiB, "10 MiB more on a 32 MiB tmpfs")
            st = os.statvfs(fs)
            check(st.f_bavail * st.f_frsize >= 8 * MiB, "the reserve is still free on the disk")
            srv.stop()
            srv.extra = ["--min-free", "0"]
            srv.start()
            alice = Client(srv, auth)

            # No reserve: a chunked PUT bigger than the disk hits the disk's end.
            def chunks(s):
                block = b"c" * (256 * 1024)
                for _ in range(96):  # 24 MiB
                    s.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
                s.sendall(b"0\r\n\r\n")
            code, body = raw_request(srv, auth, "PUT", "/api/v1/apps/t/mount/files/big.bin",
                                     {"Transfer-Encoding": "chunked"}, chunks, expect=True)
            check(code in (507, None), "a chunked PUT past the disk's end -> 507", f"{code} {body}")
            if code == 507:
                eq(body["error"]["kind"], "quota_exceeded", "disk full -> quota_exceeded")
            check(wait_for(lambda: staged(srv, "t") == []), "the cut-off PUT left no staging file")
            eq(mount_tree(srv, "t"), {"first.bin": sha256_hex(data)}, "the mount is as it was")
            usage_right(alice, srv, "t", "after a PUT that ran out of disk")
            eq(alice.upload("t", "small.bin", b"s" * 1000).status, 201,
               "a small write still succeeds afterwards")
        finally:
            srv.close()
    finally:
        subprocess.run(["umount", fs])
        os.rmdir(fs)


# ---- temporary files of small atomic writes --------------------------------------------------
def atomic_temps():
    """A de-server killed between writing a state file's temporary copy (app.json here) and
    renaming it leaves "<name>.tmp-<16 hex>". A start removes such files once they are 10
    minutes old; never a younger one (a live replica may be writing it), a name of another
    shape, or anything in a mount."""
    srv = Server()
    try:
        key = srv.add_user("alice")
        auth = basic("alice", key)
        alice = Client(srv, auth)
        alice.create_app("k")
        eq(alice.upload("k", "keep.tmp-0123456789abcdef", b"user data").status, 201,
           "a mount file named like a temporary file")
        srv.stop()
        os.environ["DE_SERVER_TEST_CRASH"] = "atomic_write_before_rename"
        srv.start()
        alice = Client(srv, auth)
        try:
            r = alice.post("/api/v1/apps", {"name": "killed"})
            check(False, "creating an app got no answer (the server was killed)", repr(r))
        except (http.client.HTTPException, ConnectionError, OSError):
            pass
        kill_and_restart(srv, "DE_SERVER_TEST_CRASH")
        srv.stop()
        apps = os.path.join(srv.root, "apps")
        left = [n for n in os.listdir(os.path.join(apps, "killed")) if ".tmp-" in n]
        eq(len(left), 1, "the kill left app.json's temporary file")
        check(left[0].startswith("app.json.tmp-"), "named after app.json", repr(left))
        old = time.time() - 11 * 60
        stale = os.path.join(apps, "killed", left[0])
        os.utime(stale, (old, old))
        young = os.path.join(apps, "k", "dav-locks.json.tmp-00112233445566ff")
        other = os.path.join(apps, "k", "notes.tmp-xyz")
        in_tus = os.path.join(apps, "k", "tus", "key.abc.tmp-ffeeddccbbaa9988")
        in_root = os.path.join(srv.root, "users.json.tmp-0000000000000001")
        os.makedirs(os.path.dirname(in_tus), exist_ok=True)
        for path, age in ((young, 0), (other, 11 * 60), (in_tus, 11 * 60), (in_root, 20 * 60)):
            with open(path, "w") as f:
                f.write("x")
            os.utime(path, (time.time() - age, time.time() - age))
        in_mount = os.path.join(apps, "k", "mount", "keep.tmp-0123456789abcdef")
        os.utime(in_mount, (old, old))
        before = srv.stderr().count("temporary file(s)")
        srv.start()
        alice = Client(srv, auth)
        check(not os.path.exists(stale), "the killed write's file, 11 minutes old, is gone")
        check(not os.path.exists(in_tus), "one in an app's tus folder is gone")
        check(not os.path.exists(in_root), "one in the root is gone")
        check(os.path.exists(young), "a younger one is kept (it may be being written)")
        check(os.path.exists(other), "a name of another shape is kept")
        check(os.path.exists(in_mount), "a file in a mount is never touched")
        eq(srv.stderr().count("removed 3 temporary file(s)"), 1, "the start says what it removed")
        check(srv.stderr().count("temporary file(s)") == before + 1, "once")
        eq(alice.get("/api/v1/apps/k/mount/files/keep.tmp-0123456789abcdef").body, b"user data",
           "the mount file reads back")
        r = alice.get("/api/v1/apps")
        eq(r.status, 200, "apps list after the killed creation")
    finally:
        srv.close()


commit_window()
leftovers()
atomic_temps()
min_free()
finish()

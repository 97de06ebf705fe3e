"""Storage guarantees of de-server: quota (before the body, while streaming, with
concurrent uploads), outside writes to the mount (usage, hash invalidation), concurrent
same-path uploads, SIGTERM during an upload, and staging clean-up at start-up."""
import hashlib
import http.client
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Client, Server, basic, check, eq, finish, sha256_hex

def wait_until(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


# ---- quota -----------------------------------------------------------------------------------
srv = Server("--quota", "1MiB")
try:
    key = srv.add_user("alice")
    alice = Client(srv, basic("alice", key))
    alice.create_app("q")
    eq(alice.get("/api/v1/apps/q/mount").json()["quota_bytes"], 1 << 20, "--quota 1MiB")
    eq(alice.upload("q", "a.bin", b"a" * 600_000).status, 201, "under the quota")
    r = alice.upload("q", "b.bin", b"b" * 600_000)
    eq((r.status, r.kind()), (507, "quota_exceeded"), "over the quota -> 507")
    err = r.json()["error"]
    eq((err["needed_bytes"], err["available_bytes"]), (600_000, (1 << 20) - 600_000),
       "507 says needed and available bytes")
    check(not os.path.exists(os.path.join(srv.mount_dir("q"), "b.bin")), "refused: nothing stored")
    eq(os.listdir(srv.staging_dir("q")), [], "refused: no staging file")
    # refused before the body: with Expect: 100-continue no 100 comes, the 507 does
    c = srv.conn(timeout=10)
    c.putrequest("PUT", "/api/v1/apps/q/mount/files/c.bin")
    c.putheader("Authorization", basic("alice", key))
    c.putheader("Content-Length", str(50 << 20))
    c.putheader("Expect", "100-continue")
    c.endheaders()
    r = c.getresponse()
    eq(r.status, 507, "507 before the body (Expect: 100-continue)")
    c.close()
    # and without Expect: the answer comes although the body was never sent
    c = srv.conn(timeout=10)
    c.putrequest("PUT", "/api/v1/apps/q/mount/files/c.bin")
    c.putheader("Authorization", basic("alice", key))
    c.putheader("Content-Length", str(10 << 30))
    c.endheaders()
    r = c.getresponse()
    eq(r.status, 507, "507 before reading a 10 GiB body")
    eq(r.getheader("Connection", "").lower(), "close", "and the connection closes")
    c.close()
    # replacing a file counts only the difference
    eq(alice.upload("q", "a.bin", b"A" * 700_000).status, 200, "replacing within the quota")
    # chunked: enforced while streaming
    c = srv.conn(timeout=20)
    c.request("PUT", "/api/v1/apps/q/mount/files/chunked.bin",
              body=iter([b"z" * 100_000] * 10), encode_chunked=True,
              headers={"Authorization": basic("alice", key)})
    try:
        r = c.getresponse()
        status = r.status
    except (ConnectionError, http.client.HTTPException):
        status = 507
    eq(status, 507, "chunked upload stops at the quota")
    c.close()
    time.sleep(0.2)
    check(not os.path.exists(os.path.join(srv.mount_dir("q"), "chunked.bin")),
          "chunked over quota: nothing stored")
    eq(os.listdir(srv.staging_dir("q")), [], "chunked over quota: no staging file")
    # copy is charged too
    eq(alice.post("/api/v1/apps/q/mount/copy", {"from": "a.bin", "to": "a2.bin"}).status, 507,
       "copy over the quota")
    # outside writes count
    with open(os.path.join(srv.mount_dir("q"), "outside.bin"), "wb") as f:
        f.write(b"o" * 300_000)
    st = alice.get("/api/v1/apps/q/mount").json()
    eq((st["used_bytes"], st["file_count"]), (1_000_000, 2), "usage includes outside writes")
    eq(alice.upload("q", "d.bin", b"d" * 100_000).status, 507,
       "quota counts outside writes (after the status refresh)")
    os.remove(os.path.join(srv.mount_dir("q"), "outside.bin"))
    alice.get("/api/v1/apps/q/mount")
    eq(alice.upload("q", "d.bin", b"d" * 100_000).status, 201, "room again after an outside delete")
    # concurrent uploads cannot overrun: 4 x 200 kB with ~248 kB free -> exactly one fits
    used = alice.get("/api/v1/apps/q/mount").json()["used_bytes"]
    free = (1 << 20) - used
    results = []
    barrier = threading.Barrier(4)

    def up(i):
        cl = srv.conn(timeout=30)
        cl.putrequest("PUT", f"/api/v1/apps/q/mount/files/con{i}.bin")
        cl.putheader("Authorization", basic("alice", key))
        cl.putheader("Content-Length", "200000")
        cl.endheaders()
        barrier.wait()
        try:
            for _ in range(20):
                cl.send(b"c" * 10_000)
                time.sleep(0.02)
        except OSError:
            pass
        try:
            results.append(cl.getresponse().status)
        except Exception:
            results.append(507)
        cl.close()

    ts = [threading.Thread(target=up, args=(i,)) for i in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    eq(sorted(results), [201, 507, 507, 507], f"concurrent uploads with {free} bytes free")
    st = alice.get("/api/v1/apps/q/mount").json()
    check(st["used_bytes"] <= 1 << 20, "usage never exceeds the quota", repr(st))
finally:
    srv.close()

# ---- outside writes, hashes, concurrency, SIGTERM -----------------------------------------------
srv = Server("--shutdown-grace", "1")
try:
    key = srv.add_user("alice")
    alice = Client(srv, basic("alice", key))
    alice.create_app("s")
    m = srv.mount_dir("s")
    alice.upload("s", "f.txt", b"one")
    eq(alice.request("HEAD", alice.file_url("s", "f.txt")).header("ETag"),
       f'"{sha256_hex(b"one")}"', "etag of the uploaded file")
    with open(os.path.join(m, "f.txt"), "wb") as f:
        f.write(b"two!")  # an app process rewrites it: size and mtime change
    r = alice.get(alice.file_url("s", "f.txt"))
    eq((r.body, r.header("ETag")), (b"two!", f'"{sha256_hex(b"two!")}"'),
       "the cached hash is dropped after an outside write")
    with open(os.path.join(m, "f.txt"), "wb") as f:
        f.write(b"owt!")  # same size
    os.utime(os.path.join(m, "f.txt"), ns=(1, 1_700_000_000_000_000_000))
    eq(alice.request("HEAD", alice.file_url("s", "f.txt")).header("ETag"),
       f'"{sha256_hex(b"owt!")}"', "same size, new mtime: hash recomputed")
    os.makedirs(os.path.join(m, "app", "cache"))
    with open(os.path.join(m, "app", "cache", "x.parquet"), "wb") as f:
        f.write(b"p" * 12345)
    lst = alice.get("/api/v1/apps/s/mount/list?recursive=true&hashes=true").json()["entries"]
    ent = {e["path"]: e for e in lst}
    eq(ent.get("app/cache/x.parquet", {}).get("sha256"), sha256_hex(b"p" * 12345),
       "outside files are listed with their hash")
    st = alice.get("/api/v1/apps/s/mount").json()
    eq((st["used_bytes"], st["file_count"]), (4 + 12345, 2), "status after outside writes")
    # If-Match sees the outside write
    eq(alice.upload("s", "f.txt", b"x", headers={"If-Match": f'"{sha256_hex(b"one")}"'}).status,
       412, "If-Match against a stale etag after an outside write")

    # concurrent uploads of the same path: the result is exactly one of them
    size = 8 << 20
    bodies = [bytes([65 + i]) * size for i in range(4)]
    statuses = []

    def put(i):
        c = Client(srv, basic("alice", key))
        statuses.append(c.upload("s", "same.bin", bodies[i]).status)

    for rnd in range(3):
        ts = [threading.Thread(target=put, args=(i,)) for i in range(4)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        with open(os.path.join(m, "same.bin"), "rb") as f:
            got = f.read()
        check(got in bodies, f"round {rnd}: the file is exactly one upload, never a mix",
              f"len={len(got)} starts={got[:1]!r} ends={got[-1:]!r}")
        r = alice.request("HEAD", alice.file_url("s", "same.bin"))
        eq(r.header("ETag"), f'"{sha256_hex(got)}"', f"round {rnd}: etag matches the content")
    check(all(s in (200, 201) for s in statuses), "all concurrent uploads succeed", repr(statuses))
    eq(os.listdir(srv.staging_dir("s")), [], "no staging files after concurrent uploads")
    # If-None-Match: * races: exactly one wins
    statuses = []

    def put_new(i):
        c = Client(srv, basic("alice", key))
        statuses.append(c.upload("s", "once.bin", bodies[i][:1 << 20],
                                 headers={"If-None-Match": "*"}).status)

    ts = [threading.Thread(target=put_new, args=(i,)) for i in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    eq(sorted(statuses), [201, 412, 412, 412], "If-None-Match: * lets exactly one create")

    # SIGTERM during an upload: no partial file, no staging file
    c = srv.conn(timeout=30)
    c.putrequest("PUT", "/api/v1/apps/s/mount/files/interrupted.bin")
    c.putheader("Authorization", basic("alice", key))
    c.putheader("Content-Length", str(100 << 20))
    c.endheaders()
    c.send(b"i" * (4 << 20))
    time.sleep(0.3)
    check(len(os.listdir(srv.staging_dir("s"))) == 1, "the upload is staged while in flight")
    t0 = time.monotonic()
    rc = srv.stop(signal.SIGTERM, timeout=20)
    took = time.monotonic() - t0
    eq(rc, 0, "SIGTERM exits 0")
    check(took < 6, "shutdown is bounded (--shutdown-grace 1)", f"took {took:.1f}s")
    c.close()
    check(not os.path.exists(os.path.join(m, "interrupted.bin")), "no partial file after SIGTERM")
    eq(os.listdir(srv.staging_dir("s")), [], "no staging file after SIGTERM")
    check(os.path.exists(os.path.join(m, "same.bin")), "acknowledged files survive")

    # stale staging files from a crash are removed at start-up, and so is what
    # a previous run left in the trash (in the background: poll for it)
    with open(os.path.join(srv.staging_dir("s"), "up-stale"), "wb") as f:
        f.write(b"stale")
    left = os.path.join(srv.root, "trash", "s-del-0123456789abcdef")
    os.makedirs(os.path.join(left, "deep", "er"))
    for i in range(50):
        with open(os.path.join(left, "deep", "er", f"{i}.bin"), "wb") as f:
            f.write(b"x")
    srv.start()
    eq(os.listdir(srv.staging_dir("s")), [], "stale staging cleaned at start-up")
    check(wait_until(lambda: os.listdir(os.path.join(srv.root, "trash")) == []),
          "a tree left in the trash is removed after start-up",
          str(os.listdir(os.path.join(srv.root, "trash"))))
    alice = Client(srv, basic("alice", key))
    eq(alice.get(alice.file_url("s", "f.txt")).body, b"owt!", "files persist across restarts")
    # SIGINT works as well; idle keep-alive connections do not hold it up
    idle = srv.conn()
    idle.request("GET", "/api/v1/health")
    idle.getresponse().read()
    t0 = time.monotonic()
    eq(srv.stop(signal.SIGINT), 0, "SIGINT exits 0")
    check(time.monotonic() - t0 < 3, "an idle keep-alive connection does not delay shutdown")
finally:
    srv.close()

# ---- deletes answer after one rename; the reaper removes the files ----------------------------
srv = Server()
try:
    key = srv.add_user("alice")
    alice = Client(srv, basic("alice", key))
    alice.create_app("d")
    m = srv.mount_dir("d")
    trash = os.path.join(srv.root, "trash")
    for i in range(2000):
        sub = os.path.join(m, "big", f"{i % 20:02d}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"{i}.txt"), "wb") as f:
            f.write(b"%d" % i)
    with open(os.path.join(m, "keep.txt"), "wb") as f:
        f.write(b"keep")
    used = alice.get("/api/v1/apps/d/mount").json()["used_bytes"]
    r = alice.delete(alice.file_url("d", "big") + "?recursive=true")
    eq(r.status, 204, "recursive delete of 2,000 files")
    check(not os.path.exists(os.path.join(m, "big")), "gone from the mount at once")
    eq(alice.get(alice.file_url("d", "big")).status, 404, "and from the API")
    check(alice.get("/api/v1/apps/d/mount").json()["used_bytes"] < used,
          "the quota's usage drops at once")
    check(wait_until(lambda: os.listdir(trash) == []), "the reaper empties the trash",
          str(os.listdir(trash)))
    eq(os.listdir(srv.staging_dir("d")), [], "nothing left in staging")
    eq(alice.get(alice.file_url("d", "keep.txt")).body, b"keep", "the rest is untouched")
    # turning the mount off: the same path, and the mount comes back empty
    os.makedirs(os.path.join(m, "x", "y"))
    r = alice.patch("/api/v1/apps/d", {"persistent_filesystem": False, "confirm": "d"})
    eq(r.status, 200, "mount disable")
    check(not os.path.exists(m), "the mount folder is gone at once")
    check(wait_until(lambda: os.listdir(trash) == []), "the disabled mount's files are removed",
          str(os.listdir(trash)))
    alice.put_mount("d")
    eq(os.listdir(m), [], "enabled again: empty")
    # deleting the app
    with open(os.path.join(m, "z.txt"), "wb") as f:
        f.write(b"z")
    eq(alice.delete("/api/v1/apps/d?confirm=d").status, 204, "app delete")
    check(not os.path.exists(os.path.join(srv.root, "apps", "d")), "the app folder is gone at once")
    check(wait_until(lambda: os.listdir(trash) == []), "the app's files are removed",
          str(os.listdir(trash)))
finally:
    srv.close()
finish()

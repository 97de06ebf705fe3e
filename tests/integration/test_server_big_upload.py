"""A 2 GiB upload and download through de-server with its peak RSS (VmHWM) measured:
memory must stay flat (well under 100 MiB) whatever the file size."""
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import SANITIZED, Server, basic, check, eq, finish

SIZE = 2 << 30
BLOCK = 1 << 20

srv = Server()
try:
    key = srv.add_user("alice")
    auth = basic("alice", key)
    c = srv.conn(timeout=120)
    c.request("POST", "/api/v1/apps", body=b'{"name":"big"}',
              headers={"Authorization": auth, "Content-Type": "application/json"})
    c.getresponse().read()
    c.request("PUT", "/api/v1/apps/big/mount", headers={"Authorization": auth})
    c.getresponse().read()
    before = srv.rss_peak_kib()

    # 2 GiB generated on the fly (one random 1 MiB block, salted per block) and hashed as sent.
    seed = os.urandom(BLOCK)
    sha = hashlib.sha256()
    t0 = time.monotonic()
    c.putrequest("PUT", "/api/v1/apps/big/mount/files/big.bin")
    c.putheader("Authorization", auth)
    c.putheader("Content-Length", str(SIZE))
    c.endheaders()
    for i in range(SIZE // BLOCK):
        block = i.to_bytes(8, "little") + seed[8:]
        sha.update(block)
        c.send(block)
    r = c.getresponse()
    body = r.read()
    took = time.monotonic() - t0
    eq(r.status, 201, "2 GiB upload stored")
    eq(r.getheader("ETag"), f'"{sha.hexdigest()}"', "2 GiB upload: SHA-256 matches")
    eq(os.path.getsize(os.path.join(srv.mount_dir("big"), "big.bin")), SIZE, "size on disk")
    peak_up = srv.rss_peak_kib()
    print(f"upload: {SIZE / took / 1e6:.0f} MB/s; peak RSS before {before} KiB, "
          f"after upload {peak_up} KiB", file=sys.stderr)
    if not SANITIZED:
        check(peak_up < 100 * 1024, "peak RSS stays under 100 MiB during a 2 GiB upload",
              f"{peak_up} KiB")
        check(peak_up - before < 40 * 1024, "peak RSS grows by less than 40 MiB",
              f"{before}->{peak_up}")

    # and back: a streamed 2 GiB GET keeps memory flat too
    t0 = time.monotonic()
    c.request("GET", "/api/v1/apps/big/mount/files/big.bin", headers={"Authorization": auth})
    r = c.getresponse()
    down = hashlib.sha256()
    n = 0
    while True:
        chunk = r.read(BLOCK)
        if not chunk:
            break
        n += len(chunk)
        down.update(chunk)
    took = time.monotonic() - t0
    eq((r.status, n), (200, SIZE), "2 GiB download")
    eq(down.hexdigest(), sha.hexdigest(), "2 GiB download: content matches")
    peak_down = srv.rss_peak_kib()
    print(f"download: {SIZE / took / 1e6:.0f} MB/s; peak RSS {peak_down} KiB", file=sys.stderr)
    if not SANITIZED:
        check(peak_down < 100 * 1024, "peak RSS stays under 100 MiB during a 2 GiB download",
              f"{peak_down} KiB")
    eq(os.listdir(srv.staging_dir("big")), [], "no staging file left")
finally:
    srv.close()
finish()

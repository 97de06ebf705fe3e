"""Issue 18 F5 and friends: what one user can hold open cannot starve another.

1. Two users under a hard open-files limit of 256 (soft 128 given, which
   de-server raises to 256 at start-up): user A opens 50 manifests of a deep
   tree and never reads them; meanwhile user B's upload, listing, status,
   manifest and health answer right and each within 5 s. Each of A's requests
   is held (200) or refused for the descriptor reserve (503 with Retry-After);
   the server never runs out of descriptors.
2. The per-user stream limit: with --max-streams-per-user 50, A's 51st stream
   is 429 with Retry-After and a JSON error, B is not affected, and A gets a
   stream again once one of its 50 goes.
3. A stalled reader is cut after --send-timeout; a slow reader that keeps
   reading is not.
4. Hard links: a file with more than one link (an app process linked a file
   from outside the mount) is refused like a symlink: 403 for GET, HEAD and
   copy, absent from listings and manifests; deleting or replacing the name
   leaves the outside file alone.
5. Failed authentication is slowed per client: after 10 failures in a
   minute, each further one waits and gets 429 with a growing Retry-After;
   the owner's valid key from the same address still answers at once.
"""
import json
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from server_harness import (Client, Server, basic, check, eq, finish,  # noqa: E402
                            sha256_hex)

BOUND = 5.0  # seconds: each of B's answers while A holds its streams


def timed(what, fn):
    t0 = time.monotonic()
    r = fn()
    dt = time.monotonic() - t0
    check(dt < BOUND, f"{what} within {BOUND} s", f"(took {dt:.2f} s)")
    return r, dt


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def unread_stream(srv, auth, target):
    """A request whose answer is never read: a small receive window and a small
    segment size keep the server's send buffer small, so its write blocks soon."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect((srv.host, srv.port))
    req = f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n"
    s.sendall(req.encode())
    return s


def status_line(s):
    """The status of the answer on s, reading only its first bytes."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 4096:
        chunk = s.recv(1)
        if not chunk:
            break
        data += chunk
    head = data.decode(errors="replace")
    try:
        code = int(head.split(" ", 2)[1])
    except (IndexError, ValueError):
        code = 0
    return code, head


def read_rest(s, limit_s):
    """Everything until EOF (or limit_s)."""
    s.settimeout(limit_s)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return out


def dechunk(body):
    """The payload of a chunked body."""
    out, pos = b"", 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol].split(b";")[0], 16)
        if size == 0:
            return out
        out += body[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


def make_tree(root, depth, files, name_len=120):
    """A chain of `depth` folders with `files` empty files with long names at its bottom."""
    d = root
    for i in range(depth):
        d = os.path.join(d, f"level{i:02d}")
    os.makedirs(d, exist_ok=True)
    for i in range(files):
        with open(os.path.join(d, f"{i:05d}-" + "x" * name_len), "wb"):
            pass
    return d


def manifest_lines(body):
    lines = [json.loads(x) for x in body.decode().splitlines() if x.strip()]
    return lines


def setup_users(srv):
    a = Client(srv, basic("alice", srv.add_user("alice")))
    bkey = srv.add_user("bob")
    b = Client(srv, basic("bob", bkey))
    eq(a.create_app("aapp").status, 201, "alice's app")
    eq(b.create_app("bapp").status, 201, "bob's app")
    return a, b, bkey


# ---- 1: two users, a low open-files limit, 50 unread manifests --------------------------------
def two_users_low_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The server inherits soft 128 / hard 256 and raises its soft limit to 256.
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 256))
    try:
        srv = Server("--max-streams-per-user", "50")
    finally:
        # The test process keeps what it may (a lowered hard limit cannot be raised).
        pass
    try:
        with open(f"/proc/{srv.proc.pid}/limits") as f:
            line = next(x for x in f if x.startswith("Max open files"))
        eq(line.split()[3:5], ["256", "256"], "de-server raised its soft open-files limit to 256")
        a, b, _ = setup_users(srv)
        make_tree(srv.mount_dir("aapp"), 16, 3000)
        for i in range(5):
            with open(os.path.join(srv.mount_dir("bapp"), f"b{i}.txt"), "wb") as f:
                f.write(b"b" * (i + 1))
        target = "/api/v1/apps/aapp/mount/manifest"
        held, refused = [], 0
        for i in range(50):
            s = unread_stream(srv, a.auth, target)
            code, head = status_line(s)
            if code == 200:
                held.append(s)
            else:
                check(code == 503 and "Retry-After:" in head,
                      "A's manifest beyond the descriptor reserve: 503 with Retry-After",
                      f"(got {head[:200]!r})")
                refused += 1
                s.close()
        time.sleep(0.5)  # the held walks block on their full sockets
        fds = open_fds(srv.proc.pid)
        print(f"alice holds {len(held)} unread manifests, {refused} refused for the reserve; "
              f"de-server has {fds} of 256 descriptors open", file=sys.stderr)
        check(len(held) >= 3, "alice holds several unread manifests", f"({len(held)})")
        check(fds < 256, "the server keeps descriptors free", f"({fds})")

        # Bob: upload, listing, status, manifest, health: right and fast.
        data = os.urandom(1 << 20)
        r, dt_put = timed("bob's PUT", lambda: b.upload("bapp", "new/up.bin", data))
        eq(r.status, 201, "bob's PUT while alice holds her streams")
        eq((r.json() or {}).get("sha256"), sha256_hex(data), "bob's PUT stored his bytes")
        r, dt_list = timed("bob's list", lambda: b.get(
            "/api/v1/apps/bapp/mount/list?recursive=true"))
        eq(r.status, 200, "bob's list")
        paths = sorted(e["path"] for e in (r.json() or {}).get("entries", []))
        eq(paths, sorted([f"b{i}.txt" for i in range(5)] + ["new", "new/up.bin"]),
           "bob's list has every entry")
        r, dt_status = timed("bob's status", lambda: b.get("/api/v1/apps/bapp/mount"))
        eq(r.status, 200, "bob's mount status")
        st = r.json() or {}
        eq(st.get("used_bytes"), (1 << 20) + sum(range(1, 6)), "bob's used_bytes")
        eq(st.get("file_count"), 6, "bob's file_count")
        r, dt_man = timed("bob's manifest", lambda: b.get("/api/v1/apps/bapp/mount/manifest"))
        eq(r.status, 200, "bob's manifest")
        lines = manifest_lines(r.body) if r.status == 200 else []
        eq(lines[-1] if lines else None, {"end": True, "count": 7}, "bob's manifest is complete")
        r, dt_get = timed("bob's GET", lambda: b.get(b.file_url("bapp", "new/up.bin")))
        eq(r.status, 200, "bob's GET")
        check(r.body == data, "bob's GET returns his bytes")
        r, _ = timed("health", lambda: Client(srv, None).get("/api/v1/health"))
        eq(r.status, 200, "health while alice holds her streams")
        print(f"bob: PUT {dt_put:.3f} s, list {dt_list:.3f} s, status {dt_status:.3f} s, "
              f"manifest {dt_man:.3f} s, GET {dt_get:.3f} s", file=sys.stderr)
        for s in held:
            s.close()
    finally:
        srv.close()


# ---- 2: the 51st stream ------------------------------------------------------------------------
def stream_limit():
    srv = Server("--max-streams-per-user", "50")
    try:
        a, b, _ = setup_users(srv)
        make_tree(srv.mount_dir("aapp"), 2, 3000)
        with open(os.path.join(srv.mount_dir("bapp"), "x"), "wb") as f:
            f.write(b"x")
        target = "/api/v1/apps/aapp/mount/manifest"
        held = []
        for i in range(50):
            s = unread_stream(srv, a.auth, target)
            code, head = status_line(s)
            eq(code, 200, f"alice's stream {i + 1} of 50")
            held.append(s)
        r = a.get(target)
        eq(r.status, 429, "alice's 51st stream is refused")
        eq(r.kind(), "too_many_requests", "429's JSON error kind")
        check(r.header("Retry-After") is not None and int(r.header("Retry-After")) >= 1,
              "429 carries Retry-After", repr(r.headers))
        check("--max-streams-per-user" in (r.json() or {}).get("error", {}).get("message", ""),
              "429's message names the flag", repr(r))
        r = a.get(a.file_url("aapp", "level00/level01/00000-" + "x" * 120))
        eq(r.status, 429, "a download is a stream too")
        r = a.get("/api/v1/apps/aapp/mount")
        eq(r.status, 200, "alice's small answers still work")
        r = b.get("/api/v1/apps/bapp/mount/manifest")
        eq(r.status, 200, "bob's manifest is not limited by alice's")
        eq(manifest_lines(r.body)[-1], {"end": True, "count": 1}, "bob's manifest complete")
        # One of alice's goes: she may open another.
        held.pop().close()
        ok = False
        for _ in range(50):
            time.sleep(0.1)
            r = a.get("/api/v1/apps/aapp/mount/list")
            if r.status == 200:
                ok = True
                break
        check(ok, "a stream freed by a closed connection can be used again", repr(r))
        for s in held:
            s.close()
    finally:
        srv.close()


# ---- 3: stalled reader -------------------------------------------------------------------------
def stalled_reader():
    srv = Server("--send-timeout", "2")
    try:
        a, _, _ = setup_users(srv)
        make_tree(srv.mount_dir("aapp"), 2, 3000)
        target = "/api/v1/apps/aapp/mount/manifest"
        base = open_fds(srv.proc.pid)
        s = unread_stream(srv, a.auth, target)
        t0 = time.monotonic()
        code, _ = status_line(s)
        eq(code, 200, "the stalled reader's manifest starts")
        time.sleep(0.3)
        check(open_fds(srv.proc.pid) > base, "the server holds the stalled stream")
        # Not read: the server cuts it after 2 s without progress.
        cut = None
        while time.monotonic() - t0 < 8:
            time.sleep(0.2)
            if open_fds(srv.proc.pid) <= base:
                cut = time.monotonic() - t0
                break
        check(cut is not None and cut >= 1.9, "a stalled reader is cut after --send-timeout",
              f"(after {cut})")
        rest = read_rest(s, 5)
        check(b'"end":true' not in rest, "the cut manifest has no end marker")
        s.close()
        print(f"stalled reader cut after {cut:.2f} s (--send-timeout 2)" if cut else
              "stalled reader not cut", file=sys.stderr)
        # A slow reader that keeps taking bytes is served to the end.
        s = unread_stream(srv, a.auth, target)
        s.settimeout(10)
        got = b""
        while True:
            time.sleep(0.02)
            chunk = s.recv(32768)
            if not chunk:
                break
            got += chunk
            if got.endswith(b"0\r\n\r\n"):
                break
        try:
            lines = manifest_lines(dechunk(got.split(b"\r\n\r\n", 1)[1]))
        except (ValueError, IndexError):
            lines = []
        eq(lines[-1] if lines else None, {"end": True, "count": 3002},
           "a slow but steady reader gets it all")
        s.close()
    finally:
        srv.close()


# ---- 4: hard links -----------------------------------------------------------------------------
def hard_links():
    srv = Server()
    try:
        a, _, _ = setup_users(srv)
        outside = os.path.join(srv.tmp, "secret.txt")
        with open(outside, "wb") as f:
            f.write(b"outside the mount")
        mount = srv.mount_dir("aapp")
        os.makedirs(os.path.join(mount, "d"))
        os.link(outside, os.path.join(mount, "d", "linked"))
        with open(os.path.join(mount, "d", "plain"), "wb") as f:
            f.write(b"plain")
        # A link whose both names are inside the mount cannot be told apart: refused too.
        os.link(os.path.join(mount, "d", "plain"), os.path.join(mount, "d", "twin"))
        with open(os.path.join(mount, "d", "single"), "wb") as f:
            f.write(b"single")
        for name in ("linked", "twin", "plain"):
            url = a.file_url("aapp", f"d/{name}")
            r = a.get(url)
            eq(r.status, 403, f"GET of a hard-linked file ({name})")
            eq(r.kind(), "forbidden", f"GET of {name}: kind")
            check(b"outside the mount\"" not in r.body and b"plain" != r.body,
                  f"GET of {name} gives no content")
            eq(a.request("HEAD", url).status, 403, f"HEAD of a hard-linked file ({name})")
            r = a.get(url, headers={"Range": "bytes=0-3"})
            eq(r.status, 403, f"ranged GET of {name}")
        eq(a.get(a.file_url("aapp", "d/single")).body, b"single", "a single-link file is served")
        r = a.get("/api/v1/apps/aapp/mount/list?path=d&hashes=true")
        eq(sorted(e["path"] for e in r.json()["entries"]), ["d/single"],
           "listing shows neither hard-linked name")
        r = a.get("/api/v1/apps/aapp/mount/manifest?hashes=true")
        paths = [e.get("path") for e in manifest_lines(r.body)[:-1]]
        eq(sorted(paths), ["d", "d/single"], "the manifest shows neither hard-linked name")
        r = a.post("/api/v1/apps/aapp/mount/copy", {"from": "d/linked", "to": "copied"})
        eq(r.status, 403, "copy of a hard-linked file")
        r = a.post("/api/v1/apps/aapp/mount/copy", {"from": "d", "to": "dcopy"})
        eq(r.status, 201, "copy of the folder")
        eq(sorted(os.listdir(os.path.join(mount, "dcopy"))), ["single"],
           "a copied folder leaves hard-linked files out")
        # Replacing or deleting the name touches only the name.
        eq(a.upload("aapp", "d/linked", b"replaced").status, 200, "PUT over a hard link")
        eq(a.get(a.file_url("aapp", "d/linked")).body, b"replaced", "the new file is served")
        eq(a.delete(a.file_url("aapp", "d/twin")).status, 204, "DELETE of a hard link")
        with open(outside, "rb") as f:
            eq(f.read(), b"outside the mount", "the outside file is untouched")
        eq(a.get(a.file_url("aapp", "d/plain")).body, b"plain",
           "once its other link is gone, a file is served again")
    finally:
        srv.close()


# ---- 5: failed authentication ------------------------------------------------------------------
def auth_throttle():
    srv = Server()
    try:
        a, _, akey = None, None, None
        akey = srv.add_user("alice")
        good = Client(srv, basic("alice", akey))
        eq(good.get("/api/v1/whoami").status, 200, "the valid key works")
        wrong = Client(srv, basic("alice", "0" * 64))
        t0 = time.monotonic()
        first = [wrong.get("/api/v1/whoami").status for _ in range(10)]
        dt_first = time.monotonic() - t0
        eq(first, [401] * 10, "the first 10 wrong keys: 401 at once")
        rate_before = 10 / dt_first
        t0 = time.monotonic()
        after, retry_after = [], []
        while time.monotonic() - t0 < 4:
            r = wrong.get("/api/v1/whoami")
            after.append(r.status)
            retry_after.append(int(r.header("Retry-After") or 0))
        dt_after = time.monotonic() - t0
        rate_after = len(after) / dt_after
        eq(set(after), {429}, "further wrong keys: 429")
        check(retry_after == sorted(retry_after) and retry_after[-1] > retry_after[0],
              "Retry-After grows", repr(retry_after))
        check(rate_after < 5, "wrong keys are slowed to a few a second", f"({rate_after:.1f}/s)")
        r = Client(srv, basic("alice", "1" * 64)).get("/api/v1/whoami")
        eq(r.kind(), "too_many_requests", "429's JSON error kind")
        t0 = time.monotonic()
        r = good.get("/api/v1/whoami")
        dt_good = time.monotonic() - t0
        eq(r.status, 200, "the owner's valid key from the same address")
        check(dt_good < 0.5, "the valid key answers at once", f"({dt_good:.3f} s)")
        t0 = time.monotonic()
        for _ in range(20):
            eq(good.get("/api/v1/whoami").status, 200, "valid key, repeatedly")
        dt_good20 = time.monotonic() - t0
        check(dt_good20 < 2, "20 valid requests stay fast", f"({dt_good20:.3f} s)")
        eq(Client(srv, None).get("/api/v1/whoami").status, 401,
           "no credentials at all: 401, not counted")
        print(f"wrong keys: {rate_before:.0f} tries/s for the first 10, then {rate_after:.1f} "
              f"tries/s ({len(after)} in {dt_after:.1f} s, Retry-After {retry_after}); "
              f"valid key {dt_good * 1000:.1f} ms, 20 more in {dt_good20 * 1000:.0f} ms",
              file=sys.stderr)
    finally:
        srv.close()


stream_limit()
stalled_reader()
hard_links()
auth_throttle()
two_users_low_limit()  # last: it lowers this process's open-files limit too
finish()

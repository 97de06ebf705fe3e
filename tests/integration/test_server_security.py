"""Bad input against de-server: path tricks, escaping symlinks, another user's apps,
limits on headers and bodies, malformed requests, slow clients. Nothing may escape the
mount, crash the server, or leak a credential."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Client, Server, basic, check, eq, finish

srv = Server("--header-timeout", "1", "--body-timeout", "1")
try:
    key = srv.add_user("alice")
    mallory_key = srv.add_user("mallory")
    alice = Client(srv, basic("alice", key))
    mallory = Client(srv, basic("mallory", mallory_key))
    alice.create_app("app1")
    mallory.create_app("evil")
    mount = srv.mount_dir("app1")
    outside = os.path.join(srv.tmp, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret.txt"), "w") as f:
        f.write("top secret")
    with open(os.path.join(srv.root, "apps", "app1", "app.json")) as f:
        app_json = f.read()
    alice.upload("app1", "ok/file.txt", b"fine")

    # ---- lexical path attacks (raw targets, so nothing normalises them on the way) ----------
    def raw_get(target):
        req = (f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {basic('alice', key)}\r\n"
               "Connection: close\r\n\r\n").encode()
        return srv.raw(req)

    base = "/api/v1/apps/app1/mount/files/"
    for t, want in [
        ("../app.json", b" 400 "),
        ("..", b" 400 "),
        ("ok/../../app.json", b" 400 "),
        ("%2e%2e/app.json", b" 400 "),
        ("%2E%2E%2Fapp.json", b" 400 "),
        ("ok%2f..%2f..%2fapp.json", b" 400 "),
        ("a%00b", b" 400 "),
        ("a%01b", b" 400 "),
        ("a%0ab", b" 400 "),
        ("a%7fb", b" 400 "),
        ("%zz", b" 400 "),
        ("x" * 256, b" 400 "),
        ("%252e%252e/app.json", b" 404 "),  # decoded once: a literal name "%2e%2e"
        ("//etc/passwd", b" 404 "),           # leading slashes mean the mount root
    ]:
        out = raw_get(base + t)
        first = out.split(b"\r\n", 1)[0]
        check(want in first, f"GET {t[:40]!r} -> {want.strip().decode()}", repr(first))
        check(b"top secret" not in out and app_json.encode() not in out,
              f"GET {t[:40]!r} leaks nothing")
    long_path = "/".join(["d" * 200] * 21)  # over 4096 bytes
    eq(alice.get(base + long_path).status, 400, "a path over 4096 bytes")
    eq(alice.upload("app1", "..%2fescape.txt", b"x").status, 400, "PUT with encoded ..")
    check(not os.path.exists(os.path.join(srv.root, "apps", "app1", "escape.txt")),
          "nothing written beside the mount")
    for body in [{"path": "../x"}, {"path": "a\u0000b"}, {"path": "a\nb"}, {"path": "x" * 300}]:
        eq(alice.post("/api/v1/apps/app1/mount/mkdir", body).status, 400, f"mkdir {body!r:.40}")
    eq(alice.post("/api/v1/apps/app1/mount/move", {"from": "ok", "to": "../../x"}).status, 400,
       "move to ..")
    eq(alice.post("/api/v1/apps/app1/mount/copy", {"from": "../app.json", "to": "x"}).status, 400,
       "copy from ..")
    eq(alice.get("/api/v1/apps/app1/mount/list?path=..").status, 400, "list ..")
    eq(alice.get("/api/v1/apps/app1/mount/manifest?path=%2e%2e").status, 400, "manifest ..")
    eq(alice.get("/api/v1/apps/..%2fapp1/mount").status, 404, "app name with ..")

    # ---- symlinks left by app processes -----------------------------------------------------
    os.symlink(outside, os.path.join(mount, "escape_dir"))
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(mount, "escape_file"))
    os.symlink("../app.json", os.path.join(mount, "escape_rel"))
    os.symlink("/proc/self/root/etc/passwd", os.path.join(mount, "escape_proc"))
    os.symlink("ok/file.txt", os.path.join(mount, "inside_link"))
    for p in ["escape_dir/secret.txt", "escape_file", "escape_rel", "escape_proc"]:
        r = alice.get(alice.file_url("app1", p))
        eq((r.status, r.kind()), (403, "forbidden"), f"GET through symlink {p}")
        check(b"top secret" not in r.body, f"{p} leaks nothing")
    eq(alice.request("HEAD", alice.file_url("app1", "escape_file")).status, 403, "HEAD escape")
    r = alice.upload("app1", "escape_dir/new.txt", b"x")
    eq(r.status, 403, "PUT through an escaping symlinked folder")
    check(not os.path.exists(os.path.join(outside, "new.txt")), "nothing written outside")
    eq(alice.upload("app1", "escape_file", b"overwrite").status, 403, "PUT onto an escaping link")
    eq(open(os.path.join(outside, "secret.txt")).read(), "top secret", "outside file intact")
    eq(alice.post("/api/v1/apps/app1/mount/mkdir", {"path": "escape_dir/sub", "parents": True})
       .status, 403, "mkdir through an escaping link")
    check(not os.path.exists(os.path.join(outside, "sub")), "no folder created outside")
    eq(alice.get("/api/v1/apps/app1/mount/list?path=escape_dir").status, 403, "list through link")
    eq(alice.get("/api/v1/apps/app1/mount/manifest?path=escape_dir").status, 403,
       "manifest through link")
    eq(alice.post("/api/v1/apps/app1/mount/copy", {"from": "escape_file", "to": "stolen"}).status,
       403, "copy from an escaping link")
    eq(alice.post("/api/v1/apps/app1/mount/move", {"from": "ok/file.txt",
                                                   "to": "escape_dir/moved"}).status, 403,
       "move into an escaping link")
    eq(alice.delete(alice.file_url("app1", "escape_dir/secret.txt")).status, 403,
       "delete through an escaping link")
    check(os.path.exists(os.path.join(outside, "secret.txt")), "outside file not deleted")
    r = alice.get(alice.file_url("app1", "inside_link"))
    eq((r.status, r.body), (200, b"fine"), "a symlink inside the mount is followed")
    lst = alice.get("/api/v1/apps/app1/mount/list?recursive=true").json()["entries"]
    check(not any("escape" in e["path"] or "inside_link" in e["path"] for e in lst),
          "symlinks are not listed", repr(lst))
    r = alice.get("/api/v1/apps/app1/mount/manifest")
    check(b"escape" not in r.body and b"secret" not in r.body, "manifest lists no symlink")
    st = alice.get("/api/v1/apps/app1/mount").json()
    eq(st["file_count"], 1, "symlinks do not count as files")
    # deleting the escaping link itself is fine: it removes the link, not the target
    eq(alice.delete(alice.file_url("app1", "escape_dir")).status, 204, "delete the link itself")
    check(os.path.exists(os.path.join(outside, "secret.txt")), "the link's target survives")

    # ---- another user's apps -------------------------------------------------------------------
    for method, path in [("GET", "/api/v1/apps/app1"), ("GET", "/api/v1/apps/app1/mount"),
                         ("GET", "/api/v1/apps/app1/mount/files/ok/file.txt"),
                         ("HEAD", "/api/v1/apps/app1/mount/files/ok/file.txt"),
                         ("GET", "/api/v1/apps/app1/mount/list"),
                         ("GET", "/api/v1/apps/app1/mount/manifest"),
                         ("DELETE", "/api/v1/apps/app1/mount/files/ok?recursive=true"),
                         ("DELETE", "/api/v1/apps/app1?confirm=app1"),
                         ("DELETE", "/api/v1/apps/app1/mount?confirm=app1"),
                         ("PUT", "/api/v1/apps/app1/mount")]:
        r = mallory.request(method, path)
        eq(r.status, 404, f"mallory {method} {path}")
    eq(mallory.upload("app1", "x", b"x").status, 404, "mallory PUT")
    eq(mallory.post("/api/v1/apps/app1/mount/mkdir", {"path": "x"}).status, 404, "mallory mkdir")
    eq(alice.get(alice.file_url("app1", "ok/file.txt")).body, b"fine", "alice's file intact")
    eq(alice.get("/api/v1/apps/evil").status, 404, "and the other way round")

    # ---- limits and malformed requests -----------------------------------------------------------
    big_header = ("GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 17000 +
                  "\r\n\r\n").encode()
    out = srv.raw(big_header)
    check(out.startswith(b"HTTP/1.1 413"), "headers over 16 KiB -> 413", repr(out[:80]))
    check(b'"too_large"' in out, "413 has a JSON error")
    many = "".join(f"X-H{i}: {'v' * 50}\r\n" for i in range(400))
    out = srv.raw(f"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    check(out.startswith(b"HTTP/1.1 413"), "many headers over 16 KiB -> 413", repr(out[:80]))
    r = alice.request("POST", "/api/v1/apps", body=b'{"name":"' + b"a" * 70000 + b'"}',
                      headers={"Content-Type": "application/json"})
    eq((r.status, r.kind()), (413, "too_large"), "JSON body over 64 KiB")
    for garbage in [b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"GET /api/v1/health HTTP/1.1\r\nBad Header Line\r\n\r\n",
                    b"\x00\x01\x02\x03\r\n\r\n",
                    b"PUT /api/v1/health HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                    b"GET /api/v1/health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]:
        out = srv.raw(garbage)
        first = out.split(b"\r\n", 1)[0]
        check(first.startswith(b"HTTP/1.1 4") or out == b"", f"malformed {garbage[:20]!r} -> 4xx",
              repr(out[:100]))
        if out:
            check(b'"error"' in out, f"malformed {garbage[:20]!r} has a JSON error")
    eq(Client(srv, None).get("/api/v1/health").status, 200, "server alive after malformed input")

    # ---- slow and stalled clients ----------------------------------------------------------------
    t0 = time.monotonic()
    s = srv.raw(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n", read=False)  # never finishes
    s.settimeout(10)
    try:
        got = s.recv(100)
    except (ConnectionResetError, socket.timeout):
        got = b""
    took = time.monotonic() - t0
    check(took < 5, "a stalled header is cut off (--header-timeout 1)", f"took {took:.1f}s")
    check(got.startswith(b"HTTP/1.1 408"), "a stalled header gets 408", repr(got[:60]))
    s.close()
    # slowloris: a byte every 0.3 s never completes within the header deadline
    s = srv.raw(b"G", read=False)
    t0 = time.monotonic()
    closed = False
    for ch in b"ET /api/v1/health HTTP/1.1\r\nX-Slow: " + b"a" * 40:
        try:
            s.sendall(bytes([ch]))
        except OSError:
            closed = True
            break
        time.sleep(0.3)
        if time.monotonic() - t0 > 6:
            break
    if not closed:
        s.settimeout(3)
        try:
            closed = s.recv(100) == b""
        except (ConnectionResetError, socket.timeout, OSError):
            closed = True
    check(closed, "slowloris headers are cut off")
    s.close()
    # a stalled body: the upload is discarded, nothing left in staging or the mount
    s = srv.raw((f"PUT {base}stalled.bin HTTP/1.1\r\nHost: x\r\nAuthorization: "
                 f"{basic('alice', key)}\r\nContent-Length: 1000000\r\n\r\n").encode() +
                b"x" * 1000, read=False)
    s.settimeout(10)
    try:
        got = s.recv(100)
    except (ConnectionResetError, socket.timeout):
        got = b""
    s.close()
    time.sleep(0.3)
    check(not os.path.exists(os.path.join(mount, "stalled.bin")), "stalled upload not stored")
    eq(os.listdir(srv.staging_dir("app1")), [], "stalled upload leaves no staging file")
    # a client that disconnects mid-body
    s = srv.raw((f"PUT {base}cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: "
                 f"{basic('alice', key)}\r\nContent-Length: 10000000\r\n\r\n").encode() +
                b"y" * 500000, read=False)
    s.close()
    time.sleep(0.5)
    check(not os.path.exists(os.path.join(mount, "cut.bin")), "broken upload not stored")
    eq(os.listdir(srv.staging_dir("app1")), [], "broken upload leaves no staging file")
    eq(Client(srv, None).get("/api/v1/health").status, 200, "server alive after slow clients")

    log = srv.stderr()
    check(key not in log and mallory_key not in log, "no key in the log")
finally:
    eq(srv.stop(), 0, "clean exit")
    srv.close()
finish()

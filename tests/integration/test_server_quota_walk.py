"""Issue 18, F1/F4/F7 and "no partial listing, no false end marker", against a real de-server
started with few open files (RLIMIT_NOFILE 256, inherited from this process):

- F1: 1,500 folders (one batch) and files an app process wrote beside them are all counted:
  GET /mount says the right used_bytes and a PUT over the quota is refused (the old walk held one
  descriptor per pending folder and skipped those it could not open: used_bytes 0, PUTs admitted).
- F4: every file and folder is an entry against --max-entries: empty files, folders, batches and
  copies beyond it are refused with 507, `entries`/`max_entries` are in the mount status.
- F7: list?recursive=true&limit=1 pages through the whole tree (same order as the manifest), and
  three concurrent listings of 50,000 folders keep the server's peak RSS (VmHWM) small.
- A walk that cannot finish (the server's descriptor limit lowered under it with prlimit)
  answers an error: never a 200 listing with entries missing, never a manifest end line, never
  a status under-count, never a write admitted.
"""
import io
import json
import os
import resource
import sys
import tarfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from server_harness import (MiB, SANITIZED, Client, Server, basic, check, eq,  # noqa: E402
                            finish, sha256_hex)

resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def make_tar(members):
    """members: (path, data | None for a folder)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data in members:
            ti = tarfile.TarInfo(path)
            ti.mtime = 1_700_000_000
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
                continue
            ti.size = len(data)
            ti.pax_headers = {"DE.sha256": sha256_hex(data)}
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def batch(c, app, body):
    return c.request("POST", f"/api/v1/apps/{app}/mount/batch", body=body,
                     headers={"Content-Type": "application/x-tar"})


def manifest(c, app, path=""):
    r = c.get(f"/api/v1/apps/{app}/mount/manifest?path={path}")
    lines = [json.loads(x) for x in r.body.decode().splitlines() if x]
    return r, lines


def list_all(c, app, limit, path="", recursive=True):
    """Pages through a listing; returns (entries, error response or None)."""
    out, cursor = [], None
    for _ in range(100_000):
        q = f"path={path}&recursive={'true' if recursive else 'false'}&limit={limit}"
        if cursor is not None:
            q += "&cursor=" + cursor
        r = c.get(f"/api/v1/apps/{app}/mount/list?{q}")
        if r.status != 200:
            return out, r
        page = r.json()
        out += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out, None
    raise RuntimeError("listing does not end")


def disk_tree(root):
    """Every file and folder below root (relative paths), as the walk should see them."""
    found = {}
    for d, dirs, files in os.walk(root):
        for n in dirs:
            found[os.path.relpath(os.path.join(d, n), root)] = "dir"
        for n in files:
            found[os.path.relpath(os.path.join(d, n), root)] = "file"
    return found


def component_order(paths):
    return sorted(paths, key=lambda p: p.encode().split(b"/"))


def test_f1_usage_counts_every_folder():
    srv = Server("--quota", "10MiB")
    try:
        c = Client(srv, basic("alice", srv.add_user("alice")))
        c.create_app("q1")
        # 1,500 folders from one batch, 9 MiB of files in nine of them.
        body = make_tar([(f"d{i:04}", None) for i in range(1500)])
        r = batch(c, "q1", body)
        eq(r.status, 200, "F1: a batch of 1,500 folders is stored")
        mount = srv.mount_dir("q1")
        for i in range(9):
            with open(os.path.join(mount, f"d{100 + 160 * i:04}", "blob"), "wb") as f:
                f.write(b"\1" * MiB)  # an app process writing into its mount
        st = c.get("/api/v1/apps/q1/mount").json()
        eq(st.get("used_bytes"), 9 * MiB, "F1: used_bytes counts the files in all 1,500 folders")
        eq(st.get("file_count"), 9, "F1: file_count")
        eq(st.get("entries"), 1509, "F1: entries = 1,500 folders + 9 files")
        for i in range(3):
            r = c.upload("q1", f"over{i}", b"\0" * (2 * MiB))
            eq(r.status, 507, f"F1: PUT {i} of 2 MiB over the 10 MiB quota is refused")
        r = c.upload("q1", "fits", b"\0" * (MiB // 2))
        eq(r.status, 201, "F1: a PUT that fits is stored")
        st = c.get("/api/v1/apps/q1/mount").json()
        eq(st.get("used_bytes"), 9 * MiB + MiB // 2, "F1: used_bytes after the PUT")

        want = disk_tree(mount)
        got, err = list_all(c, "q1", 10000)
        check(err is None, "F1: the recursive listing answers", repr(err))
        eq(len(got), len(want), "F1: list?recursive=true lists every folder and file")
        eq({e["path"] for e in got}, set(want), "F1: the same paths as on disk")
        r, lines = manifest(c, "q1")
        eq(lines[-1] if lines else None, {"end": True, "count": len(want)},
           "F1: the manifest ends with the full count")
        eq([e["path"] for e in lines[:-1]], [e["path"] for e in got],
           "F1: listing and manifest come in the same order")
        eq([e["path"] for e in got], component_order(want),
           "F1: a folder right before its contents, siblings by name")
    finally:
        srv.close()


def test_walk_failure_is_an_error():
    """The server's descriptor limit lowered under it: every answer is whole or an error."""
    srv = Server("--quota", "10MiB")
    try:
        c = Client(srv, basic("alice", srv.add_user("alice")))
        c.create_app("q2")
        mount = srv.mount_dir("q2")
        for i in range(40):
            d = os.path.join(mount, f"a{i:02}", "b", "c")
            os.makedirs(d)
            with open(os.path.join(d, "f"), "wb") as f:
                f.write(b"x" * (200 * 1024))  # 40 x 200 KiB = 8,000 KiB
        want = disk_tree(mount)
        used = 40 * 200 * 1024
        eq(c.get("/api/v1/apps/q2/mount").json().get("used_bytes"), used, "walk: used_bytes")
        c.get("/api/v1/health")  # the keep-alive connection exists before the limit drops
        pid = srv.proc.pid
        base = len(os.listdir(f"/proc/{pid}/fd"))
        errors = 0
        # From open + 0 (not even app.json can be read) up: an app that exists is never
        # answered 404 and the app list is never partial.
        for extra in range(0, 8):
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (base + extra, 256))
            what = f"walk (limit = open + {extra})"
            r = c.get("/api/v1/apps/q2")
            check(r.status in (200, 503), f"{what}: the app is there or the server says it cannot tell",
                  repr(r))
            if r.status == 503:
                errors += 1
            r = c.get("/api/v1/apps")
            if r.status == 200:
                names = [a["name"] for a in r.json()["apps"]]
                eq(names, ["q2"], f"{what}: a 200 app list is complete")
            else:
                check(r.status == 503, f"{what}: app list error", repr(r))
            r, lines = manifest(c, "q2")
            if r.status == 200:
                complete = lines and lines[-1] == {"end": True, "count": len(want)}
                cut = lines and "error" in lines[-1] and not any("end" in x for x in lines)
                check(complete or cut, f"{what}: a manifest is whole or ends with an error",
                      repr(lines[-2:]))
                if cut:
                    errors += 1
            else:
                check(r.status in (500, 503), f"{what}: manifest error", repr(r))
                errors += 1
            r = c.get("/api/v1/apps/q2/mount/list?recursive=true&limit=10000")
            if r.status == 200:
                eq(len(r.json()["entries"]), len(want), f"{what}: a 200 listing is complete")
            else:
                check(r.status in (500, 503), f"{what}: listing error", repr(r))
                errors += 1
            r = c.get("/api/v1/apps/q2/mount")
            if r.status == 200:
                eq(r.json().get("used_bytes"), used, f"{what}: a 200 status counts everything")
            else:
                check(r.status in (500, 503), f"{what}: status error", repr(r))
                errors += 1
            r = c.upload("q2", "big", b"\0" * (3 * MiB))
            check(r.status != 201, f"{what}: a PUT over the quota is never admitted", repr(r))
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (256, 256))
        check(errors > 0, "walk: a lowered limit did make some walk fail", f"(errors {errors})")
        r, lines = manifest(c, "q2")
        eq(lines[-1] if lines else None, {"end": True, "count": len(want)},
           "walk: whole again once descriptors are back")
    finally:
        srv.close()


def test_f4_entries_cost():
    srv = Server("--quota", "10MiB", "--max-entries", "1000")
    try:
        c = Client(srv, basic("alice", srv.add_user("alice")))
        c.create_app("q4")
        st = c.get("/api/v1/apps/q4/mount").json()
        eq((st.get("entries"), st.get("max_entries")), (0, 1000), "F4: status reports entries")
        # 20,000 empty files in two batches: refused whole, nothing stored.
        for half in range(2):
            body = make_tar([(f"e{half}/{i:05}", b"") for i in range(10000)])
            r = batch(c, "q4", body)
            eq(r.status, 507, f"F4: a batch of 10,000 empty files over --max-entries (part {half})")
            eq(r.kind(), "quota_exceeded", "F4: quota_exceeded")
        eq(c.get("/api/v1/apps/q4/mount").json().get("entries"), 0, "F4: nothing was stored")
        mount = srv.mount_dir("q4")
        for i in range(990):  # an app process filled most of it
            open(os.path.join(mount, f"x{i:04}"), "wb").close()
        # Outside writes count from the next count (at most 2 s old; status counts afresh).
        eq(c.get("/api/v1/apps/q4/mount").json().get("entries"), 990, "F4: outside writes count")
        stored = 0
        for i in range(20):
            r = c.upload("q4", f"empty{i}", b"")
            if r.status == 201:
                stored += 1
            else:
                eq(r.status, 507, f"F4: empty file {i} beyond the limit: 507")
        eq(stored, 10, "F4: exactly the 10 empty files that fit are stored")
        eq(c.get("/api/v1/apps/q4/mount").json().get("entries"), 1000, "F4: entries at the limit")
        r = c.request("POST", "/api/v1/apps/q4/mount/mkdir",
                      json_body={"path": "newdir", "parents": True})
        check(r.status == 507, "F4: a folder beyond the limit is refused", repr(r))
        r = c.upload("q4", "x0000", b"replaced")
        eq(r.status, 200, "F4: replacing a file needs no new entry")
        r = c.post("/api/v1/apps/q4/mount/copy", {"from": "x0001", "to": "copy"})
        eq(r.status, 507, "F4: a copy beyond the limit is refused")
        r = c.delete(c.file_url("q4", "x0002"))
        eq(r.status, 204, "F4: delete")
        r = c.upload("q4", "deep/er/file", b"")
        eq(r.status, 507, "F4: a file needing two new folders does not fit one free entry")
        r = c.upload("q4", "one-more", b"")
        eq(r.status, 201, "F4: a freed entry can be used again")
        check(len(disk_tree(mount)) <= 1000, "F4: the mount never holds more than --max-entries")
    finally:
        srv.close()


def test_f7_cursor_listing():
    srv = Server()
    try:
        c = Client(srv, basic("alice", srv.add_user("alice")))
        c.create_app("q7")
        mount = srv.mount_dir("q7")
        # Names where component order and bytewise path order differ ('-' < '/').
        for p in ["a/b/c", "a-c/d", "a.x", "b/" + "n" * 200 + "/z", "z"]:
            os.makedirs(os.path.join(mount, p))
        for i in range(120):
            with open(os.path.join(mount, "a", "b", f"f{i:03}"), "wb") as f:
                f.write(b"%d" % i)
        open(os.path.join(mount, "a-c", "empty"), "wb").close()
        want = component_order(disk_tree(mount))
        one, err = list_all(c, "q7", 1)
        check(err is None, "F7: limit=1 pages without error", repr(err))
        eq([e["path"] for e in one], want, "F7: limit=1 pages through every entry, in order")
        some, _ = list_all(c, "q7", 7)
        eq([e["path"] for e in some], want, "F7: limit=7 gives the same")
        sub, _ = list_all(c, "q7", 3, path="a")
        eq([e["path"] for e in sub], [p for p in want if p.startswith("a/")], "F7: a sub-folder")
        flat, _ = list_all(c, "q7", 2, recursive=False)
        eq([e["path"] for e in flat], [p for p in want if "/" not in p], "F7: non-recursive")
        r = c.get("/api/v1/apps/q7/mount/list?recursive=true&limit=5&cursor=a/b/f050")
        eq([e["path"] for e in r.json()["entries"]],
           ["a/b/f051", "a/b/f052", "a/b/f053", "a/b/f054", "a/b/f055"], "F7: resume at a cursor")
        r = c.get("/api/v1/apps/q7/mount/list?recursive=true&limit=2&cursor=a/b/gone")
        eq([e["path"] for e in r.json()["entries"]], ["a-c", "a-c/d"],
           "F7: a cursor that was deleted meanwhile resumes after its place")
        r = c.get("/api/v1/apps/q7/mount/list?path=a&cursor=z")
        eq(r.status, 400, "F7: a cursor outside the listed folder is 400")

        # Memory: 50,000 folders, three concurrent listings (limit=1 pages and a full page).
        # The sanitizer build checks the code paths, not memory (its RSS is ASan's): a
        # tenth of the tree keeps it within a minute.
        groups = 5 if SANITIZED else 50
        big = os.path.join(mount, "big")
        for i in range(groups):
            d = os.path.join(big, f"g{i:02}")
            os.makedirs(d)
            for j in range(1000):
                os.mkdir(os.path.join(d, f"h{j:03}"))
        before = srv.rss_peak_kib()
        results = []

        def lister(n):
            cl = Client(srv, c.auth)
            cursor, pages = None, 0
            for _ in range(n):
                q = "path=big&recursive=true&limit=1" + (f"&cursor={cursor}" if cursor else "")
                r = cl.get(f"/api/v1/apps/q7/mount/list?{q}")
                if r.status != 200:
                    results.append(r.status)
                    return
                cursor = r.json()["next_cursor"]
                pages += 1
            results.append(pages)

        def full_page():
            cl = Client(srv, c.auth)
            r = cl.get("/api/v1/apps/q7/mount/list?path=big&recursive=true&limit=10000")
            results.append((r.status, len(r.json()["entries"]) if r.status == 200 else 0))

        def run(target, *args):
            threads = [threading.Thread(target=target, args=args) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        run(lister, 100)
        after = srv.rss_peak_kib()
        eq(results, [100] * 3, f"F7: three concurrent limit=1 listings of {groups * 1001} folders")
        print(f"F7: VmHWM {before} KiB -> {after} KiB (+{after - before} KiB) for three "
              f"concurrent recursive limit=1 listings of {groups * 1001} folders", file=sys.stderr)
        if not SANITIZED:
            check(after - before < 4 * 1024, "F7: peak RSS grows by less than 4 MiB",
                  f"({before} -> {after} KiB)")
        results.clear()
        run(full_page)
        full = srv.rss_peak_kib()
        eq(results, [(200, min(10000, groups * 1001))] * 3,
           "F7: three concurrent pages of 10,000 entries")
        print(f"F7: VmHWM {after} KiB -> {full} KiB (+{full - after} KiB) for three concurrent "
              f"pages of 10,000 (the JSON answers)", file=sys.stderr)
        if not SANITIZED:
            check(full - before < 48 * 1024, "F7: pages of 10,000 cost in proportion to limit",
                  f"({before} -> {full} KiB)")
        st = c.get("/api/v1/apps/q7/mount").json()
        eq(st.get("entries"), len(want) + groups * 1001 + 1, "F7: status counts every folder of big/")
    finally:
        srv.close()


test_f1_usage_counts_every_folder()
test_walk_failure_is_an_error()
test_f4_entries_cost()
test_f7_cursor_listing()
finish()

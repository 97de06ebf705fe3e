"""de-server's operability (issue 17): --version is the version /api/v1/health reports; every
option can come from DE_SERVER_*; the probes /livez and /readyz; Prometheus metrics at
/metrics (format checked line by line, counts and bytes exactly what this test sent); the
JSON-lines access log, which never holds a credential. The drain on SIGTERM is
test_server_drain.py. A few seconds."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Client, Server, basic, check, eq, finish

BIN = os.environ["DE_SERVER"]


def run(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DE_SERVER_")}
    env.update(env_extra or {})
    try:
        return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=10)
    except subprocess.TimeoutExpired as e:  # it served instead of refusing its arguments
        return subprocess.CompletedProcess(e.cmd, None, "", "(still running after 10 s)")


def with_env(env_extra, *args):
    """A Server started with these DE_SERVER_* variables set."""
    saved = dict(os.environ)
    os.environ.update(env_extra)
    try:
        return Server(*args)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def raw(srv, data, timeout=10):
    """One request on its own connection (Connection: close): the whole answer's bytes."""
    s = socket.create_connection((srv.host, srv.port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def req(method, path, headers=(), body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
    for h in headers:
        head += h + "\r\n"
    if body or method in ("PUT", "POST"):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def status_of(answer):
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else -1


def body_of(answer):
    return answer.split(b"\r\n\r\n", 1)[1]


# ---- the exposition format (text 0.0.4), checked line by line ---------------------------
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)\}})? (\S+)$")
VALUE = re.compile(r"^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$")


def parse_metrics(text):
    """{(name, frozenset(labels)): value}, after checking every line's grammar and that
    each sample belongs to a family with one HELP and one TYPE line before it."""
    check(text.endswith("\n"), "the exposition ends with a newline")
    types, helps, samples = {}, set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            check(re.fullmatch(NAME, name) is not None and name not in helps,
                  "one well-formed HELP per family", line)
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            check(len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram")
                  and parts[2] not in types, "one well-formed TYPE per family", line)
            types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        if not check(m is not None, "a sample line of the exposition format", repr(line)):
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        check(VALUE.match(value) is not None, "a sample value is a number", line)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        family = family if types.get(family) == "histogram" else name
        check(family in types and family in helps, "a sample's family has TYPE and HELP", line)
        if types.get(family) == "counter":
            check(name.endswith("_total"), "a counter's name ends in _total", name)
        key = (name, frozenset(re.findall(r'([a-zA-Z_]\w*)="([^"]*)"', labels)))
        check(key not in samples, "no sample twice", line)
        samples[key] = float(value)
    return samples, types


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def check_histograms(samples):
    """Per route: buckets cumulative in ascending le, +Inf == _count."""
    routes = {dict(k)["route"] for (n, k) in samples if n == "de_request_duration_seconds_count"}
    for route in routes:
        buckets = sorted((float(dict(k)["le"]), v) for (n, k), v in samples.items()
                         if n == "de_request_duration_seconds_bucket" and dict(k)["route"] == route)
        check(len(buckets) == 16 and buckets[0][0] == 0.001 and buckets[-2][0] == 60,
              f"{route}: 15 buckets from 1 ms to 60 s, and +Inf", buckets)
        check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
              f"{route}: buckets are cumulative", buckets)
        eq(buckets[-1][1], get(samples, "de_request_duration_seconds_count", route=route),
           f"{route}: +Inf bucket == _count")
    return routes


# ---- 1. --version --------------------------------------------------------------------
v = run(["--version"])
eq(v.returncode, 0, "--version exits 0")
check(re.fullmatch(r"de-server \d+\.\d+\.\d+\n", v.stdout) is not None, "--version prints it",
      repr(v.stdout))

# ---- 2. the environment ------------------------------------------------------------------
h = run(["--help"])
eq(h.returncode, 0, "--help exits 0")
for var in ("DE_SERVER_ROOT", "DE_SERVER_QUOTA", "DE_SERVER_LISTEN", "DE_SERVER_ACCESS_LOG",
            "DE_SERVER_MAX_UPLOADS_PER_USER"):
    check(var in h.stdout, f"--help shows {var}")
check("DE_SERVER_FOO_BAR" in h.stdout, "--help states the rule")
docs = open(os.path.join(os.environ["DE_SOURCE_DIR"], "docs", "server.md")).read()
for var in sorted(set(re.findall(r"DE_SERVER_[A-Z_]+", h.stdout)) - {"DE_SERVER_FOO_BAR"}):
    check(f"`{var}`" in docs, f"docs/server.md lists {var}")
check("DE_SERVER_HELP" not in h.stdout and "DE_SERVER_VERSION" not in h.stdout,
      "--help and --version have no variable")

scratch = tempfile.mkdtemp(prefix="de-ops.")
bad = run(["--root", scratch, "--listen", "127.0.0.1:0"], {"DE_SERVER_QUOTA": "lots"})
eq(bad.returncode, 2, "a bad size from the environment is a usage error")
check("DE_SERVER_QUOTA" in bad.stderr and "lots" in bad.stderr, "the error names the variable",
      bad.stderr)
bad = run(["--root", scratch], {"DE_SERVER_THREADS": "0"})
eq(bad.returncode, 2, "an out-of-range number from the environment is a usage error")
check("DE_SERVER_THREADS" in bad.stderr, "its error names the variable", bad.stderr)
bad = run(["--root", scratch], {"DE_SERVER_MAX_ENTRIES": "many"})
eq(bad.returncode, 2, "a word for a number from the environment is a usage error")
check("DE_SERVER_MAX_ENTRIES" in bad.stderr, "its error names the variable", bad.stderr)
bad = run(["--root", scratch, "--threads", "0"], {"DE_SERVER_THREADS": "2"})
eq(bad.returncode, 2, "a bad flag is a usage error")
check("--threads" in bad.stderr and "DE_SERVER_THREADS" not in bad.stderr,
      "a bad flag's error names the flag, not the variable", bad.stderr)
bad = run(["--root", scratch], {"DE_SERVER_LISTEN": "nowhere"})
check(bad.returncode == 2 and "DE_SERVER_LISTEN" in bad.stderr, "a bad --listen from the "
      "environment names the variable", bad.stderr)

with tempfile.TemporaryDirectory() as tmp:
    u = run(["user", "add", "envuser"], {"DE_SERVER_ROOT": tmp})
    eq(u.returncode, 0, "DE_SERVER_ROOT stands for --root")
    check(os.path.exists(os.path.join(tmp, "users.json")), "the root came from the environment")

srv = with_env({"DE_SERVER_QUOTA": "1234567"})
try:
    alice = Client(srv, basic("alice", srv.add_user("alice")))
    alice.create_app("q")
    eq(alice.get("/api/v1/apps/q/mount").json()["quota_bytes"], 1234567,
       "DE_SERVER_QUOTA sets the quota")
    eq(alice.get("/api/v1/health").json()["version"], v.stdout.split()[1],
       "--version prints the version /api/v1/health reports")
finally:
    srv.close()
srv = with_env({"DE_SERVER_QUOTA": "1234567"}, "--quota", "7654321")
try:
    alice = Client(srv, basic("alice", srv.add_user("alice")))
    alice.create_app("q")
    eq(alice.get("/api/v1/apps/q/mount").json()["quota_bytes"], 7654321,
       "--quota wins over DE_SERVER_QUOTA")
finally:
    srv.close()

# ---- 3, 4, 5: probes, metrics, access log on one server ---------------------------------
log_path = tempfile.mktemp(prefix="de-access.", suffix=".log")
started = time.time()
srv = Server("--access-log", log_path)
try:
    key = srv.add_user("alice")
    auth = basic("alice", key)
    alice = Client(srv, auth)
    alice.create_app("secret-app")

    # Probes: no credentials, cheap, routed like health.
    a = raw(srv, req("GET", "/livez"))
    eq(status_of(a), 200, "/livez 200 without credentials")
    a = raw(srv, req("GET", "/readyz"))
    eq(status_of(a), 200, "/readyz 200 while the root is usable")
    eq(json.loads(body_of(a))["status"], "ready", "/readyz says ready")
    eq(status_of(raw(srv, req("POST", "/readyz"))), 405, "/readyz is GET only")
    apps = os.path.join(srv.root, "apps")
    os.rename(apps, apps + ".away")
    a = raw(srv, req("GET", "/readyz"))
    os.rename(apps + ".away", apps)
    eq(status_of(a), 503, "/readyz 503 when the root's apps folder cannot be opened")
    reason = json.loads(body_of(a))
    check(reason.get("status") == "unavailable" and "apps folder" in reason.get("reason", "")
          and srv.root not in reason["reason"], "a short reason, without the root's path", reason)
    eq(status_of(raw(srv, req("GET", "/readyz"))), 200, "/readyz 200 again")

    # Metrics: scrape, make known requests, scrape again; the differences are exact.
    scrape = req("GET", "/metrics")

    def scrape_until(cond, tries=200):
        """The metrics once `cond` holds on them (or the last scrape, for the checks to
        report), scraping every 50 ms."""
        for _ in range(tries):
            m, _ = parse_metrics(body_of(raw(srv, scrape)).decode())
            if cond(m):
                break
            time.sleep(0.05)
        return m

    def counted(samples, metrics):
        return sum(v for (n, k), v in samples.items()
                   if n == "de_requests_total" and (dict(k).get("route") == "metrics") == metrics)

    # A request is counted once its answer is written: the client may read the answer of the
    # setup's last request (PUT .../mount) before de-server counted it (seen once in CI under
    # load). The first scrape is taken once, since the scrape before it, nothing else was
    # counted and that scrape was.
    first, before, settled = None, None, False
    for _ in range(100):
        prev, first = before, raw(srv, scrape)
        before, _ = parse_metrics(body_of(first).decode())
        if (prev is not None and counted(prev, False) == counted(before, False)
                and counted(before, True) == counted(prev, True) + 1):
            settled = True
            break
        time.sleep(0.02)
    check(settled, "the metrics settle after the setup's requests")
    eq(status_of(first), 200, "/metrics 200 without credentials")
    check(b"Content-Type: text/plain; version=0.0.4" in first, "the exposition's media type")
    data = b"0123456789" * 5000
    sent = [scrape]  # the first scrape is counted when it ended, so the second one sees it
    answers = [first]
    expected = {("metrics", "GET", "200"): 1, ("health", "GET", "200"): 3,
                ("files", "PUT", "201"): 2, ("files", "GET", "200"): 1,
                ("app", "GET", "404"): 1, ("whoami", "GET", "401"): 1,
                ("unmatched", "GET", "404"): 1, ("livez", "GET", "200"): 1,
                ("unmatched", "other", "404"): 1}
    batch = [req("GET", "/api/v1/health")] * 3 + [
        req("PUT", "/api/v1/apps/secret-app/mount/files/a.bin", [f"Authorization: {auth}"], data),
        req("PUT", "/api/v1/apps/secret-app/mount/files/b.bin?x=1", [f"Authorization: {auth}"],
            data[:777]),
        req("GET", "/api/v1/apps/secret-app/mount/files/a.bin", [f"Authorization: {auth}"]),
        req("GET", "/api/v1/apps/nope", [f"Authorization: {auth}"]),
        req("GET", "/api/v1/whoami", ["Authorization: Basic bm9ib2R5Ondyb25n"]),
        req("GET", "/nowhere"), req("GET", "/livez"), req("BREW", "/coffee")]
    for r in batch:
        answers.append(raw(srv, r))
        sent.append(r)
    eq([status_of(a) for a in answers[1:]], [200, 200, 200, 201, 201, 200, 404, 401, 404, 200,
                                             404], "the statuses of the requests made")
    eq(body_of(answers[6]), data, "the download")
    second = raw(srv, scrape)
    text = body_of(second).decode()
    after, types = parse_metrics(text)
    for (route, method, status), n in expected.items():
        eq(get(after, "de_requests_total", route=route, method=method, status=status)
           - get(before, "de_requests_total", route=route, method=method, status=status), n,
           f"de_requests_total{{{route},{method},{status}}} went up by exactly the requests")
    total = lambda s: sum(v for (n, _), v in s.items() if n == "de_requests_total")
    eq(total(after) - total(before), sum(expected.values()), "no other request was counted")
    eq(get(after, "de_received_bytes_total") - get(before, "de_received_bytes_total"),
       sum(len(r) for r in sent), "de_received_bytes_total: exactly the bytes sent")
    eq(get(after, "de_sent_bytes_total") - get(before, "de_sent_bytes_total"),
       sum(len(a) for a in answers), "de_sent_bytes_total: exactly the bytes answered")
    routes = check_histograms(after)
    check({"files", "health", "metrics", "unmatched"} <= routes, "a histogram per route", routes)
    for route in routes:
        eq(get(after, "de_request_duration_seconds_count", route=route)
           - get(before, "de_request_duration_seconds_count", route=route),
           sum(n for (r, _, _), n in expected.items() if r == route),
           f"{route}: the histogram counted each request once")
    for name, kind in (("de_requests_total", "counter"), ("de_request_duration_seconds",
                       "histogram"), ("de_received_bytes_total", "counter"),
                       ("de_sent_bytes_total", "counter"), ("de_uploads_in_flight", "gauge"),
                       ("de_reserved_bytes", "gauge"), ("de_reaper_backlog", "gauge"),
                       ("de_connections_open", "gauge"), ("process_start_time_seconds", "gauge")):
        eq(types.get(name), kind, f"{name} is a {kind}")
    eq(get(after, "de_uploads_in_flight"), 0.0, "no upload in flight")
    eq(get(after, "de_reserved_bytes"), 0.0, "nothing reserved")
    check(started - 2 <= get(after, "process_start_time_seconds") <= time.time(),
          "process_start_time_seconds is when it started")
    for secret in ("alice", "secret-app", "a.bin", key, "nope", "coffee", "nowhere"):
        check(secret not in text, f"/metrics never names '{secret}'")

    # Connections: once the others have closed, the scrape's own is the one open.
    alice.c.close()
    m = scrape_until(lambda m: get(m, "de_connections_open") == 1)
    eq(get(m, "de_connections_open"), 1.0, "de_connections_open: the scrape's own")

    # An upload in flight: its bytes reserved, one upload counted; both gone once it ends.
    size = 3 << 20
    s = socket.create_connection((srv.host, srv.port), timeout=20)
    s.sendall(f"PUT /api/v1/apps/secret-app/mount/files/slow.bin HTTP/1.1\r\nHost: t\r\n"
              f"Authorization: {auth}\r\nContent-Length: {size}\r\n\r\n".encode()
              + b"s" * (1 << 20))
    # The upload is counted as it starts and its bytes reserved a moment later.
    during = scrape_until(lambda m: get(m, "de_uploads_in_flight") == 1
                          and get(m, "de_connections_open") == 2
                          and get(m, "de_reserved_bytes") == size)
    eq(get(during, "de_uploads_in_flight"), 1.0, "de_uploads_in_flight counts the PUT")
    eq(get(during, "de_reserved_bytes"), float(size), "de_reserved_bytes: what the PUT holds")
    eq(get(during, "de_connections_open"), 2.0, "de_connections_open: the PUT's and the scrape's")
    s.sendall(b"s" * (size - (1 << 20)))
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += s.recv(65536)
    s.close()
    eq(status_of(answer), 201, "the slow PUT")
    # Both are released as the request ends, after its answer is written.
    done = scrape_until(lambda m: get(m, "de_uploads_in_flight") == 0
                        and get(m, "de_reserved_bytes") == 0)
    eq(get(done, "de_uploads_in_flight"), 0.0, "de_uploads_in_flight back to 0")
    eq(get(done, "de_reserved_bytes"), 0.0, "de_reserved_bytes back to 0")

    # The reaper's backlog: a deleted folder is queued, then removed.
    for i in range(20):
        alice.upload("secret-app", f"tree/{i}.txt", b"x")
    eq(alice.delete(alice.file_url("secret-app", "tree") + "?recursive=true").status, 204,
       "a tree deleted")
    m = scrape_until(lambda m: get(m, "de_reaper_backlog") == 0)
    eq(get(m, "de_reaper_backlog"), 0.0, "de_reaper_backlog drains to 0")
    check(os.listdir(os.path.join(srv.root, "trash")) == [], "and the trash is empty")

    # Access log: a bearer token and Basic auth, with secrets in the query too.
    login = alice.post("/api/v1/login")
    token = login.json()["token"]
    bearer = raw(srv, req("GET", "/api/v1/whoami?token=" + token,
                          [f"Authorization: Bearer {token}"]))
    eq(status_of(bearer), 200, "a request with the bearer token")
    # Two requests one after the other on one keep-alive connection: each line has its own
    # request's bytes, not the connection's so far.
    ka = socket.create_connection((srv.host, srv.port), timeout=10)
    one = b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\n\r\n"
    two = b"GET /livez?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    ka.sendall(one)
    first_answer = b""
    while not (b"\r\n\r\n" in first_answer and first_answer.endswith(b"}")):
        first_answer += ka.recv(65536)
    ka.sendall(two)
    second_answer = b""
    while True:
        chunk = ka.recv(65536)
        if not chunk:
            break
        second_answer += chunk
    ka.close()
    eq((status_of(first_answer), status_of(second_answer)), (200, 200), "two on one connection")
    lines = open(log_path).read().splitlines()
    entries = [json.loads(line) for line in lines]
    check(len(entries) >= 20, "one line per request", len(entries))
    fields = {"time", "remote", "method", "route", "target", "status", "bytes_in", "bytes_out",
              "duration_ms", "user"}
    check(all(set(e) == fields for e in entries), "every line has the fields", entries[0])
    check(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"])
              for e in entries), "RFC 3339 UTC times with ms", entries[0]["time"])
    last = [e for e in entries if e["route"] == "whoami" and e["status"] == 200][-1]
    eq((last["method"], last["route"], last["target"], last["status"], last["user"],
        last["remote"]), ("GET", "whoami", "/api/v1/whoami", 200, "alice", "127.0.0.1"),
       "the bearer request's line (target without its query)")
    eq((last["bytes_in"], last["bytes_out"]),
       (len(req("GET", "/api/v1/whoami?token=" + token, [f"Authorization: Bearer {token}"])),
        len(bearer)), "its bytes in and out")
    kept = [e for e in entries if e["target"].split("?")[0] in ("/api/v1/health", "/livez")][-2:]
    eq([(e["route"], e["bytes_in"], e["bytes_out"]) for e in kept],
       [("health", len(one), len(first_answer)), ("livez", len(two), len(second_answer))],
       "a keep-alive connection's requests each have their own bytes")
    put_line = [e for e in entries if e["route"] == "files" and e["method"] == "PUT"][0]
    eq((put_line["target"], put_line["status"], put_line["user"], put_line["bytes_in"]),
       ("/api/v1/apps/secret-app/mount/files/a.bin", 201, "alice", len(batch[3])),
       "a Basic-auth PUT's line")
    bad_auth = [e for e in entries if e["route"] == "whoami" and e["status"] == 401][0]
    eq(bad_auth["user"], None, "no user for credentials that failed")
    eq([e for e in entries if e["method"] == "BREW"][0]["route"], "unmatched",
       "an unrouted request is logged too")
    whole = open(log_path).read()
    creds = auth.split(" ", 1)[1]
    for secret in (key, token, creds, "Basic", "Bearer", "bm9ib2R5Ondyb25n", "token="):
        check(secret not in whole, "the access log holds no credential",
              secret if len(secret) < 12 else secret[:6] + "...")
    check(re.search(r"^GET /api/v1/health 200 \d+ms$", srv.stderr(), re.M) is not None,
          "the human log line stays on stderr")

    # SIGHUP opens the file again, as logrotate wants after it moved the file away.
    os.rename(log_path, log_path + ".1")
    srv.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "SIGHUP: the access log was opened again" in srv.stderr():
            break
        time.sleep(0.02)
    eq(status_of(raw(srv, req("GET", "/livez"))), 200, "the server lives on after SIGHUP")
    with open(log_path) as f:
        fresh = [json.loads(l) for l in f]
    eq([e["route"] for e in fresh], ["livez"], "the line after SIGHUP is in the new file")
    with open(log_path + ".1") as f:
        eq(f.read(), whole, "the moved file got nothing more")
    os.unlink(log_path + ".1")
finally:
    srv.close()
    if os.path.exists(log_path):
        os.unlink(log_path)

# --access-log -: the lines go to standard error, beside the human log lines.
srv = Server("--access-log", "-")
try:
    eq(status_of(raw(srv, req("GET", "/livez"))), 200, "/livez")
    time.sleep(0.1)
    logged = [json.loads(l) for l in srv.stderr().splitlines() if l.startswith("{")]
    check(any(e["route"] == "livez" and e["status"] == 200 for e in logged),
          "--access-log - writes to stderr", srv.stderr()[-500:])
finally:
    srv.close()
bad = run(["--root", scratch, "--listen", "127.0.0.1:0", "--access-log",
           "/nonexistent-dir/x.log"])
check(bad.returncode == 1 and "/nonexistent-dir/x.log" in bad.stderr,
      "an access log that cannot be opened stops the start", bad.stderr)

shutil.rmtree(scratch, ignore_errors=True)
finish()

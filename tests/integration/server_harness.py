"""Harness for de-server's HTTP integration tests (python3 stdlib only).

Starts the real $DE_SERVER on 127.0.0.1:0 with a temporary root, parses its
"listening on" line, adds users, and offers a tiny HTTP client plus check
helpers. Every check is counted; finish() exits non-zero on any failure.
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FAILURES = []
# A sanitizer build (tests/CMakeLists.txt): resident-memory figures measure ASan's
# shadow memory and quarantine, not de-server, so their checks are skipped.
SANITIZED = os.environ.get("DE_SANITIZED") == "1"
CHECKS = [0]


def check(cond, what, detail=""):
    CHECKS[0] += 1
    if not cond:
        FAILURES.append(what)
        print(f"FAIL: {what} {detail}", file=sys.stderr)
    return cond


def eq(actual, expected, what):
    return check(actual == expected, what, f"(got {actual!r}, expected {expected!r})")


# Exit status of a sanitizer build's process that reported (tests/CMakeLists.txt).
SANITIZER_EXIT = 86


def sanitizer_reports():
    """The report files that this test's processes (de-server, de-cli) wrote in a
    sanitizer build: ASAN_OPTIONS' log_path, plus '.PID'."""
    for opt in os.environ.get("ASAN_OPTIONS", "").split(":"):
        if opt.startswith("log_path="):
            prefix = opt[len("log_path="):]
            d, base = os.path.split(prefix)
            try:
                return sorted(os.path.join(d, f) for f in os.listdir(d)
                              if f.startswith(base + "."))
            except OSError:
                return []
    return []


def finish():
    for path in sanitizer_reports():
        with open(path, errors="replace") as f:
            print(f"== sanitizer report {path}:\n{f.read()}", file=sys.stderr)
        check(False, f"no sanitizer report ({os.path.basename(path)})")
    print(f"{CHECKS[0]} checks, {len(FAILURES)} failures", file=sys.stderr)
    sys.exit(1 if FAILURES else 0)


# tus helpers shared by the tus tests: the body media type, Upload-Metadata
# values, and deterministic data of n bytes for a seed.
MiB = 1 << 20
OCTETS = "application/offset+octet-stream"


def b64(v):
    return base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode()


def meta(**kv):
    return ",".join(f"{k} {b64(str(v))}" for k, v in kv.items())


def data_of(n, seed):
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def content_digest(data):
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def kind(self):
        try:
            return self.json()["error"]["kind"]
        except Exception:
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    def __init__(self, *extra_args, root=None):
        self.binary = os.environ["DE_SERVER"]
        self.tmp = tempfile.mkdtemp(prefix="de-server-it.")
        self.root = root or os.path.join(self.tmp, "root")
        self.extra = list(extra_args)
        self.proc = None
        self.reported = False
        self.start()

    def start(self):
        self.err = open(os.path.join(self.tmp, "server.err"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--root", self.root, "--listen", "127.0.0.1:0", *self.extra],
            stdout=subprocess.PIPE, stderr=self.err)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on http://"):
            raise RuntimeError(f"de-server did not start: {line!r}; stderr: {self.stderr()}")
        hostport = line.strip()[len("listening on http://"):]
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.url = "http://" + hostport

    def stderr(self):
        try:
            with open(os.path.join(self.tmp, "server.err"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def add_user(self, name):
        out = subprocess.run([self.binary, "--root", self.root, "user", "add", name],
                             capture_output=True, check=True)
        return out.stdout.decode().strip()

    def cli(self, *args):
        return subprocess.run([self.binary, "--root", self.root, *args], capture_output=True)

    def rss_peak_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return -1

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.returncode == SANITIZER_EXIT and not self.reported:
            # A sanitizer build's de-server found an error (ASan, LSan at exit, UBSan).
            self.reported = True
            check(False, f"de-server exited {SANITIZER_EXIT}: a sanitizer report",
                  "\n" + self.stderr()[-4000:])
        return self.proc.returncode

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def mount_dir(self, app):
        return os.path.join(self.root, "apps", app, "mount")

    def staging_dir(self, app):
        return os.path.join(self.root, "apps", app, "staging")

    def conn(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def raw(self, data, timeout=10, read=True):
        """Sends raw bytes on a fresh socket; returns what came back before close/timeout."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            s.sendall(data)
            if not read:
                return s
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            if read:
                s.close()


def basic(user, key):
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


class Client:
    """One user's view of the API over a keep-alive connection."""

    def __init__(self, server, auth):
        self.server = server
        self.auth = auth
        self.c = server.conn()

    def request(self, method, path, body=None, headers=None, json_body=None, retry=True):
        h = {}
        if self.auth:
            h["Authorization"] = self.auth
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        try:
            try:
                self.c.request(method, path, body=body, headers=h)
            except (BrokenPipeError, ConnectionResetError):
                # The server answered before it read the whole body (412, 401, 507, ...)
                # and closed; the answer came before the reset and is still waiting in
                # the socket, as a browser or curl would read it. Without a socket (the
                # connect itself failed) there is nothing to read: retry below.
                if self.c.sock is None:
                    raise
            r = self.c.getresponse()
            data = r.read()
            resp = Resp(r.status, r.getheaders(), data)
            if r.getheader("Connection", "").lower() == "close":
                self.c.close()
                self.c = self.server.conn()
            return resp
        except (http.client.HTTPException, ConnectionError, BrokenPipeError):
            self.c.close()
            self.c = self.server.conn()
            if not retry:
                raise
            return self.request(method, path, body, headers, json_body, retry=False)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body=body, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.request("PATCH", path, json_body=json_body, **kw)

    # conveniences
    def create_app(self, name, mount=True):
        r = self.post("/api/v1/apps", {"name": name})
        if mount:
            self.put_mount(name)
        return r

    def put_mount(self, app):
        return self.request("PUT", f"/api/v1/apps/{app}/mount")

    def file_url(self, app, path):
        return f"/api/v1/apps/{app}/mount/files/{path}"

    def upload(self, app, path, data, headers=None):
        return self.put(self.file_url(app, path), data, headers=headers)

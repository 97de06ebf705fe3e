#!/usr/bin/env python3
"""Fault-injection suite for de-cli and de-server (python3 standard library only).

Every trial starts a real de-server on 127.0.0.1:0 with a fresh root, lets the
real de-cli run one scenario, injects one fault, and then checks invariants:

  I1 no torn or temporary file in the mount: every file is at a path the trial
     wrote and holds one of the contents the trial wrote there (sha256)
  I2 acknowledged writes are intact: what a client that exited 0 wrote (and
     what the set-up wrote outside the command's scope) is there and equal
  I3 the re-run (the same command again, on a restarted server if it was
     killed) exits 0 and the mount equals the source; for races, the mount
     equals one client's intended result, never a mix, and two conflicting
     intents never both exit 0
  I4 GET /api/v1/apps/APP/mount used_bytes and file_count equal the mount's
     content on disk (once the server is idle)
  I5 nothing left behind once idle: <root>/apps/APP/staging empty, no
     <root>/apps/APP/uploads/*.data, reserved_bytes == 0 (when the field
     exists), no file under $XDG_STATE_HOME/de-cli (client journals)
  I6 a client rides out a server restart: a de-cli whose server was killed
     and restarted within a few seconds exits 0 (kill_server trials; for
     mount_cycle also 5 "already off": a retried DELETE has no recognition)

Faults: kill_server (kill -9 of de-server at a random moment, restarted on the
same root and port), kill_client (kill -9 of de-cli), diskfull (the root on a
small tmpfs that the command does not fit; then a filler is deleted and the
command re-run), race (two de-cli processes with conflicting intents at once).

Everything random comes from --seed: each trial derives its own seed, and a
violation prints that seed with a command that replays just that trial
(`--trial FAULT:SCENARIO:SEED`). Only real timing differs between runs.

Binaries: $DE_CLI and $DE_SERVER (as CTest sets them), else --build DIR.
Disk-full trials mount a tmpfs and so need root; without it they FAIL.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

MiB = 1 << 20
KiB = 1 << 10
HERE = os.path.dirname(os.path.abspath(__file__))
INVARIANTS = ["I1", "I2", "I3", "I4", "I5", "I6"]
INVARIANT_TEXT = {
    "I1": "no torn or temporary file visible",
    "I2": "acknowledged files intact",
    "I3": "re-run exits 0 / race result is one intent",
    "I4": "mount status equals the disk",
    "I5": "no staging, upload or journal leftovers",
    "I6": "client rides out a server restart",
}
SCENARIOS = ["upload_big", "upload_tree", "sync_delete", "rm_r", "mv_dir", "mount_cycle"]
DISKFULL_SCENARIOS = ["upload_big", "upload_tree", "sync_delete"]
RACES = ["upload_same", "upload_vs_rm", "sync_two"]
FAULTS = ["kill_server", "kill_client", "diskfull", "race"]
APP = "fault"
USER = "tester"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class SetupError(Exception):
    """The trial could not be prepared (not an invariant violation)."""


# ----------------------------------------------------------------- server ---

class Server:
    def __init__(self, binary, root, logdir, extra):
        self.binary = binary
        self.root = root
        self.logdir = logdir
        self.extra = list(extra)
        self.proc = None
        self.port = 0
        self.starts = 0

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        deadline = time.monotonic() + 15
        while True:
            self.starts += 1
            out_path = os.path.join(self.logdir, f"server{self.starts}.out")
            err = open(os.path.join(self.logdir, f"server{self.starts}.err"), "wb")
            out = open(out_path, "wb")
            self.proc = subprocess.Popen(
                [self.binary, "--root", self.root, "--listen", f"127.0.0.1:{self.port}", *self.extra],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            out.close()
            err.close()
            while time.monotonic() < deadline:
                with open(out_path, "rb") as f:
                    line = f.readline().decode(errors="replace")
                if line.startswith("listening on http://") and line.endswith("\n"):
                    self.port = int(line.strip().rsplit(":", 1)[1])
                    self.url = f"http://127.0.0.1:{self.port}"
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if time.monotonic() >= deadline or self.port == 0:
                raise SetupError(f"de-server did not start: {self.stderr(self.starts)[-2000:]}")
            time.sleep(0.2)  # the old port may still be held: try again

    def stderr(self, n=None):
        try:
            with open(os.path.join(self.logdir, f"server{n or self.starts}.err"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def sleep(self, seconds):
        """Sleeps while advancing the sequence (the next command starts at once)."""
        end = time.monotonic() + seconds
        while True:
            self.poll()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.005))

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case a trial left it stopped
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def add_user(self, name):
        r = subprocess.run([self.binary, "--root", self.root, "user", "add", name],
                           capture_output=True)
        if r.returncode != 0:
            raise SetupError(f"user add failed: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode().strip()


# ------------------------------------------------------------------ trees ---

def make_tree(rng, count, small_max=16 * KiB, big=0, big_size=2 * MiB, prefix="", dirs=8):
    """A dict rel-path -> bytes: `count` small files in `dirs` folders and `big` big ones."""
    tree = {}
    for i in range(count):
        d = f"d{rng.randrange(dirs)}"
        tree[f"{prefix}{d}/f{i:04d}.dat"] = rng.randbytes(rng.randrange(1, small_max))
    for i in range(big):
        tree[f"{prefix}big{i}.bin"] = rng.randbytes(big_size + rng.randrange(0, 4096))
    return tree


def write_tree(base, tree):
    for rel, data in tree.items():
        p = os.path.join(base, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)


def under(prefix, tree):
    return {f"{prefix}/{k}": sha(v) for k, v in tree.items()}


# ------------------------------------------------------------------ trial ---

class Trial:
    """One fault in one fresh root; collects violations per invariant."""

    def __init__(self, ctx, fault, scenario, seed):
        self.ctx = ctx
        self.fault = fault
        self.scenario = scenario
        self.seed = seed
        self.rng = random.Random(f"{fault}:{scenario}:{seed}")
        self.violations = {}  # invariant -> [messages]
        self.checked = set()
        self.notes = []
        self.tmpfs = None
        self.tmp = tempfile.mkdtemp(prefix=f"de-fault.{fault}.{scenario}.", dir=ctx.tmpdir)
        self.home = os.path.join(self.tmp, "home")
        self.state_home = os.path.join(self.home, ".local", "state")
        os.makedirs(self.home)
        self.legit = {}  # rel path -> set of sha256 the trial wrote there
        self.children = []

    # -- helpers
    @property
    def spec(self):
        return f"{self.fault}:{self.scenario}:{self.seed}"

    def check(self, inv, ok, msg):
        self.checked.add(inv)
        if not ok:
            self.violations.setdefault(inv, []).append(msg)
        return ok

    def allow(self, mapping):
        for k, v in mapping.items():
            self.legit.setdefault(k, set()).add(v)

    def env(self, extra=None):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith(("DASH_ENTERPRISE_", "DE_CLI_", "DE_BATCH_", "XDG_")):
                del e[k]
        e.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_STATE_HOME": self.state_home,
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "DASH_ENTERPRISE_USERNAME": USER,
            "DASH_ENTERPRISE_PASSWORD": self.key,
            # resumable from 1 MiB in 1 MiB parts: big files stay small
            "DE_CLI_RESUMABLE_THRESHOLD": "1MiB",
            "DE_CLI_PART_SIZE": "1MiB",
        })
        if extra:
            e.update(extra)
        return e

    def argv(self, args):
        return [self.ctx.cli, "--host", self.server.url, "--no-keyfile", "--no-progress", *args]

    def cli(self, args, timeout=180, extra_env=None):
        try:
            r = subprocess.run(self.argv(args), env=self.env(extra_env), capture_output=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return 124, "", f"timed out after {timeout}s"
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def must(self, args, what):
        rc, out, err = self.cli(args)
        if rc != 0:
            raise SetupError(f"{what}: de-cli {' '.join(args)} exited {rc}: {err.strip()[:500]}")

    def spawn(self, args, name, extra_env=None):
        out = open(os.path.join(self.tmp, f"{name}.out"), "wb")
        err = open(os.path.join(self.tmp, f"{name}.err"), "wb")
        p = subprocess.Popen(self.argv(args), env=self.env(extra_env), stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL)
        out.close()
        err.close()
        p.fault_name = name
        self.children.append(p)
        return p

    def read_err(self, name):
        try:
            with open(os.path.join(self.tmp, f"{name}.err"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def local(self, name, tree):
        base = os.path.join(self.tmp, name)
        write_tree(base, tree)
        return base

    # -- server side views
    @property
    def app_dir(self):
        return os.path.join(self.root, "apps", APP)

    @property
    def mount_dir(self):
        return os.path.join(self.app_dir, "mount")

    def snapshot(self):
        """rel path -> sha256 of every regular file in the mount; odd entries as 'special:'."""
        snap = {}
        base = self.mount_dir
        if not os.path.isdir(base):
            return snap
        for dirpath, dirnames, filenames in os.walk(base):
            for name in filenames:
                p = os.path.join(dirpath, name)
                rel = os.path.relpath(p, base)
                try:
                    if os.path.islink(p) or not os.path.isfile(p):
                        snap[rel] = "special:"
                        continue
                    with open(p, "rb") as f:
                        snap[rel] = hashlib.file_digest(f, "sha256").hexdigest() \
                            if hasattr(hashlib, "file_digest") else sha(f.read())
                except FileNotFoundError:
                    continue
        return snap

    def disk_usage(self):
        used = count = 0
        for dirpath, dirnames, filenames in os.walk(self.mount_dir):
            for name in filenames:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                if os.path.stat.S_ISREG(st.st_mode):
                    used += st.st_size
                    count += 1
        return used, count

    def status(self):
        req = urllib.request.Request(f"{self.server.url}/api/v1/apps/{APP}/mount")
        token = base64.b64encode(f"{USER}:{self.key}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
        with urllib.request.urlopen(req, timeout=20) as r:
            return json.loads(r.read())

    def parts_done(self):
        """(done, total) parts of the upload in the client's journal (HEAD), or None."""
        jdir = os.path.join(self.state_home, "de-cli", "uploads")
        try:
            names = [n for n in os.listdir(jdir) if n.endswith(".json")]
            with open(os.path.join(jdir, names[0])) as f:
                j = json.load(f)
            url = j["upload_url"]
            if url.startswith("/"):
                url = self.server.url + url
            total = -(-j["identity"]["size"] // j["part_size"])
            req = urllib.request.Request(url, method="HEAD")
            token = base64.b64encode(f"{USER}:{self.key}".encode()).decode()
            req.add_header("Authorization", "Basic " + token)
            req.add_header("Tus-Resumable", "1.0.0")
            with urllib.request.urlopen(req, timeout=5) as r:
                value = r.headers.get("Upload-Parts-Done") or ""
        except Exception:  # noqa: BLE001 - not there yet
            return None
        done = 0
        for item in filter(None, (x.strip() for x in value.split(","))):
            a, _, b = item.partition("-")
            done += int(b or a) - int(a) + 1
        return done, total

    def leftovers(self):
        """What I5 objects to, as a list of strings (empty: clean)."""
        found = []
        staging = os.path.join(self.app_dir, "staging")
        if os.path.isdir(staging):
            names = sorted(os.listdir(staging))
            if names:
                found.append(f"{len(names)} entries in staging ({', '.join(names[:3])}...)")
        uploads = os.path.join(self.app_dir, "uploads")
        if os.path.isdir(uploads):
            data = sorted(n for n in os.listdir(uploads) if n.endswith(".data"))
            if data:
                found.append(f"{len(data)} uploads/*.data ({', '.join(data[:2])})")
        journal = os.path.join(self.state_home, "de-cli")
        if os.path.isdir(journal):
            files = [os.path.relpath(os.path.join(d, n), journal)
                     for d, _, ns in os.walk(journal) for n in ns]
            if files:
                found.append(f"client journal left: {', '.join(sorted(files)[:3])}")
        try:
            st = self.status()
            if st.get("reserved_bytes", 0) != 0:
                found.append(f"reserved_bytes {st['reserved_bytes']}")
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            found.append(f"mount status failed: {e}")
        return found

    # -- invariant checks
    def check_i1(self, when):
        snap = self.snapshot()
        bad = []
        for rel, digest in sorted(snap.items()):
            if rel not in self.legit:
                bad.append(f"unexpected file {rel!r}")
            elif digest not in self.legit[rel]:
                bad.append(f"{rel!r} holds content the test never wrote ({digest[:12]})")
        self.check("I1", not bad, f"{when}: " + "; ".join(bad[:4]) + (f" (+{len(bad) - 4})" if len(bad) > 4 else ""))
        return snap

    def check_i2(self, expect, when, snap=None):
        """expect: rel -> sha (None: must be absent)."""
        snap = self.snapshot() if snap is None else snap
        bad = []
        for rel, digest in sorted(expect.items()):
            got = snap.get(rel)
            if got != digest:
                bad.append(f"{rel!r} {'missing' if got is None else 'differs'}" if digest else f"{rel!r} still there")
        self.check("I2", not bad, f"{when}: " + "; ".join(bad[:4]) + (f" (+{len(bad) - 4})" if len(bad) > 4 else ""))

    def diff(self, want, snap):
        missing = sorted(k for k in want if k not in snap)
        extra = sorted(k for k in snap if k not in want)
        changed = sorted(k for k in want if k in snap and snap[k] != want[k])
        parts = []
        for label, items in (("missing", missing), ("extra", extra), ("differ", changed)):
            if items:
                parts.append(f"{len(items)} {label} (e.g. {items[0]})")
        return ", ".join(parts)

    def wait_idle_checks(self, enabled=True):
        """I4 and I5, each polled until it holds or 10 s pass (the server finishes its work)."""
        deadline = time.monotonic() + 10
        i4_msg = "not checked"
        while True:
            try:
                st = self.status()
                used, count = self.disk_usage() if enabled else (0, 0)
                if st.get("used_bytes") == used and st.get("file_count") == count \
                        and bool(st.get("enabled")) == enabled:
                    i4_msg = ""
                else:
                    i4_msg = (f"status says enabled={st.get('enabled')} used_bytes={st.get('used_bytes')} "
                              f"file_count={st.get('file_count')}, disk has {used} bytes in {count} files")
            except Exception as e:  # noqa: BLE001
                i4_msg = f"mount status failed: {e}"
            if not i4_msg or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        self.check("I4", not i4_msg, i4_msg)
        deadline = time.monotonic() + 10
        while True:
            left = self.leftovers()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        self.check("I5", not left, "once idle: " + "; ".join(left))

    # -- set-up and tear-down
    def start(self, tmpfs_size=0):
        if tmpfs_size:
            self.tmpfs = os.path.join(self.tmp, "fs")
            os.makedirs(self.tmpfs)
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_size},mode=0755", "tmpfs",
                                self.tmpfs], capture_output=True)
            if r.returncode != 0:
                self.tmpfs = None
                raise SetupError("cannot mount a tmpfs for the disk-full trial "
                                 f"({r.stderr.decode(errors='replace').strip()}): run as root")
            self.root = os.path.join(self.tmpfs, "root")
        else:
            self.root = os.path.join(self.tmp, "root")
        extra = []
        if self.tmpfs and self.ctx.has_min_free:
            extra += ["--min-free", "0"]
        self.server = Server(self.ctx.server, self.root, self.tmp, extra)
        self.server.start()
        self.key = self.server.add_user(USER)
        self.must(["apps", "create", "-n", APP, "-q"], "create the app")
        self.must(["mount", "enable", "-n", APP, "-q"], "enable the mount")

    def close(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()
        if getattr(self, "server", None):
            self.server.stop()
        if self.tmpfs:
            r = subprocess.run(["umount", self.tmpfs], capture_output=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", self.tmpfs], capture_output=True)
        if self.ctx.keep and self.violations:
            log(f"  kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# -------------------------------------------------------------- scenarios ---

class Scenario:
    """A command (or a short sequence) with its set-up and its intended result.

    commands: list of argv lists (without the global options); expected: rel ->
    sha of the whole mount after success; scope: the set-up's acknowledged
    files that the command must not touch; window: seconds a kill is spread
    over (about the command's duration on an idle 2-core machine);
    env: extra environment for the command.
    """
    window = 1.0
    env = None
    enabled_after = True

    def __init__(self, t):
        self.t = t
        rng = t.rng
        self.keep = make_tree(rng, 5, dirs=1)
        t.allow(under("keep", self.keep))
        self.keep_dir = t.local("keep", self.keep)

    def setup_remote(self):
        self.t.must(["upload", "-r", self.keep_dir + "/", "/keep", "-n", APP, "-q"], "upload /keep")

    def kept(self):
        return under("keep", self.keep)

    def already_done(self, i, rc, snap):
        """Accepts a re-run's non-zero exit that means 'nothing left to do' (see README)."""
        return False


class UploadBig(Scenario):
    """upload FILE /big/big.bin of 20-28 MiB, resumable in 1 MiB parts."""
    window = 1.6

    def __init__(self, t, size=None):
        super().__init__(t)
        size = size or (20 * MiB + t.rng.randrange(8 * MiB))
        self.data = t.rng.randbytes(size)
        self.src = t.local("src", {"big.bin": self.data})
        t.allow({"big/big.bin": sha(self.data)})
        self.commands = [["upload", os.path.join(self.src, "big.bin"), "/big/big.bin", "-n", APP]]
        self.expected = {**self.kept(), "big/big.bin": sha(self.data)}
        # ~1.2 s of transfer whatever the CPU does, so kills land in every phase
        self.env = {"DE_CLI_TEST_SLOW_UPLOAD": str(6 * MiB)}
        self.need = size


class UploadTree(Scenario):
    """upload -r of ~300 small files in folders plus three 2 MiB files."""
    window = 0.8

    def __init__(self, t):
        super().__init__(t)
        # files up to 64 KiB: the batch body (~10 MB) outgrows the socket
        # buffers, so a client killed mid-batch cuts the body off on the server
        self.tree = make_tree(t.rng, 280 + t.rng.randrange(40), small_max=64 * KiB, big=3)
        self.src = t.local("tree", self.tree)
        t.allow(under("tree", self.tree))
        self.commands = [["upload", "-r", self.src + "/", "/tree", "-n", APP]]
        self.expected = {**self.kept(), **under("tree", self.tree)}
        self.need = sum(len(v) for v in self.tree.values())


class SyncDelete(Scenario):
    """sync push --delete into /sync, which starts with a different tree."""
    window = 1.5

    def __init__(self, t):
        super().__init__(t)
        rng = t.rng
        self.old = make_tree(rng, 150, big=1)
        new = {}
        for k, v in self.old.items():
            r = rng.random()
            if r < 0.35:
                new[k] = v  # the same
            elif r < 0.7:
                new[k] = rng.randbytes(len(v) + 1 + rng.randrange(64))  # changed
            # else: only remote: deleted by --delete
        new.update(make_tree(rng, 150, prefix="n", big=1))
        self.tree = new
        self.old_dir = t.local("old", self.old)
        self.src = t.local("sync", self.tree)
        t.allow(under("sync", self.old))
        t.allow(under("sync", self.tree))
        self.commands = [["sync", "push", self.src, "-n", APP, "--remote-dir", "sync", "--delete", "-y"]]
        self.expected = {**self.kept(), **under("sync", self.tree)}
        self.need = sum(len(v) for v in self.tree.values())

    def setup_remote(self):
        super().setup_remote()
        self.t.must(["upload", "-r", self.old_dir + "/", "/sync", "-n", APP, "-q"], "upload /sync")


class RmTree(Scenario):
    """rm -r -y of a folder of 200 files."""
    window = 0.2

    def __init__(self, t):
        super().__init__(t)
        self.tree = make_tree(t.rng, 200, big=1)
        self.dir = t.local("data", self.tree)
        t.allow(under("data", self.tree))
        self.commands = [["rm", "-r", "-y", "/data", "-n", APP]]
        self.expected = self.kept()

    def setup_remote(self):
        super().setup_remote()
        self.t.must(["upload", "-r", self.dir + "/", "/data", "-n", APP, "-q"], "upload /data")

    def already_done(self, i, rc, snap):
        return rc == 3 and not any(k.startswith("data/") for k in snap)


class MoveDir(Scenario):
    """mv of a folder of 200 files."""
    window = 0.2

    def __init__(self, t):
        super().__init__(t)
        self.tree = make_tree(t.rng, 200, big=1)
        self.dir = t.local("srcdir", self.tree)
        t.allow(under("src", self.tree))
        t.allow(under("dst", self.tree))
        self.commands = [["mv", "/src", "/dst", "-n", APP]]
        self.expected = {**self.kept(), **under("dst", self.tree)}

    def setup_remote(self):
        super().setup_remote()
        self.t.must(["upload", "-r", self.dir + "/", "/src", "-n", APP, "-q"], "upload /src")

    def already_done(self, i, rc, snap):
        return rc == 3 and snap == self.expected


class MountCycle(Scenario):
    """mount disable -y, then mount enable: an empty mount."""
    window = 0.3

    def __init__(self, t):
        super().__init__(t)
        self.tree = make_tree(t.rng, 200, big=1)
        self.dir = t.local("m", self.tree)
        t.allow(under("m", self.tree))
        self.commands = [["mount", "disable", "-y", "-n", APP], ["mount", "enable", "-n", APP]]
        self.expected = {}

    def setup_remote(self):
        super().setup_remote()
        self.t.must(["upload", "-r", self.dir + "/", "/m", "-n", APP, "-q"], "upload /m")

    def kept(self):
        return {}

    def already_done(self, i, rc, snap):
        if i != 0 or rc != 5:
            return False
        try:
            return not self.t.status().get("enabled", True)
        except Exception:  # noqa: BLE001
            return False


SCENARIO_CLASSES = {
    "upload_big": UploadBig, "upload_tree": UploadTree, "sync_delete": SyncDelete,
    "rm_r": RmTree, "mv_dir": MoveDir, "mount_cycle": MountCycle,
}


# ------------------------------------------------------------ trial kinds ---

class Sequence:
    """The scenario's commands, started one after another as background processes."""

    def __init__(self, t, sc, name):
        self.t, self.sc, self.name = t, sc, name
        self.i = 0
        self.rcs = []
        self.proc = t.spawn(sc.commands[0], f"{name}0", sc.env)
        self.t0 = time.monotonic()
        self.rc = None
        self.elapsed = None

    def poll(self):
        """Advances; returns the final exit code (first non-zero, or 0) or None while running."""
        while self.rc is None:
            rc = self.proc.poll()
            if rc is None:
                return None
            self.rcs.append(rc)
            if rc != 0 or self.i + 1 == len(self.sc.commands):
                self.rc = rc
                self.elapsed = time.monotonic() - self.t0
                return rc
            self.i += 1
            self.proc = self.t.spawn(self.sc.commands[self.i], f"{self.name}{self.i}", self.sc.env)
        return self.rc

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.poll()
            if rc is not None:
                return rc
            time.sleep(0.005)
        self.proc.kill()
        self.proc.wait()
        return None

    def sleep(self, seconds):
        """Sleeps while advancing the sequence (the next command starts at once)."""
        end = time.monotonic() + seconds
        while True:
            self.poll()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.005))

    def kill9(self):
        if self.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            return True
        return False

    def last_err(self):
        return self.t.read_err(f"{self.name}{self.i}").strip()


def rerun(t, sc, when):
    """I3: the same command(s) again exit 0 (or 'already done') and the mount equals the source."""
    for i, args in enumerate(sc.commands):
        rc, out, err = t.cli(args, extra_env=None)
        if rc != 0 and not sc.already_done(i, rc, t.snapshot()):
            t.check("I3", False, f"{when}: re-run of `{' '.join(args[:3])}` exited {rc}: "
                    f"{err.strip().splitlines()[-1][:300] if err.strip() else ''}")
            return
        if rc != 0:
            t.notes.append(f"re-run of `{' '.join(args[:2])}` exited {rc}: accepted as already done")
    snap = t.snapshot()
    t.check("I3", snap == sc.expected, f"{when}: after the re-run the mount is not the source: "
            f"{t.diff(sc.expected, snap)}")


def last_line(text):
    """The last non-empty line (de-cli prints its error last), cut to 300 characters."""
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else ""


def trial_kill(t, target):
    sc = SCENARIO_CLASSES[t.scenario](t)
    t.start()
    sc.setup_remote()
    rng = t.rng
    delay = rng.uniform(0.0, 1.25) * sc.window
    if target == "none":
        delay = 0.0
    downtime = rng.uniform(0.2, 2.0)
    # Half of the kills aim at a narrow window found by watching the server:
    # upload_big at the tail of the upload (all or all but one part on the
    # server, then 0-80 ms: the last part and the commit window after it);
    # upload_tree and sync_delete at a batch in flight (its members staged).
    aim = None
    if target != "none" and rng.random() < 0.5:
        if t.scenario == "upload_big":
            aim = ("parts", rng.choice([0, 1]))
        elif t.scenario in ("upload_tree", "sync_delete"):
            aim = ("staged", rng.randrange(1, 80))
        elif target == "server":
            aim = ("frozen", 0)
    aim_extra = rng.uniform(0.0, 0.08) if aim and aim[0] == "parts" else rng.uniform(0.0, 0.03)
    seq = Sequence(t, sc, "cmd")
    if aim and aim[0] == "frozen":
        # rm/mv/mount: their requests are too short to hit by chance, so the
        # server is stopped (SIGSTOP) at the random moment and killed 0.1-0.4 s
        # later: whatever request was in flight then dies with it.
        seq.sleep(delay)
        t.server.proc.send_signal(signal.SIGSTOP)
        frozen = rng.uniform(0.1, 0.4)
        seq.sleep(frozen)
        t.notes.append(f"aimed: frozen at {delay:.2f}s for {frozen:.2f}s"
                       + (" (the client was done)" if seq.poll() is not None else ""))
    elif aim:
        deadline = time.monotonic() + 60
        reached = None
        staging = os.path.join(t.app_dir, "staging")
        while time.monotonic() < deadline and seq.poll() is None:
            if aim[0] == "parts":
                pd = t.parts_done()
                if pd and pd[0] >= pd[1] - aim[1]:
                    reached = f"parts {pd[0]}/{pd[1]}"
                    break
                seq.sleep(0.01)
            else:
                try:
                    n = sum(1 for x in os.listdir(staging) if x.startswith("batch-"))
                except OSError:
                    n = 0
                if n >= aim[1]:
                    reached = f"{n} staged batch members"
                    break
                seq.sleep(0.002)
        seq.sleep(aim_extra)
        t.notes.append(f"aimed: {reached or 'not reached'} + {aim_extra * 1000:.0f} ms")
    else:
        seq.sleep(delay)
    killed = False
    if target == "server":
        t.server.kill9()
        killed = True
        time.sleep(downtime)
        t.server.start()
        rc = seq.wait(180)
    elif target == "client":
        killed = seq.kill9()
        rc = seq.poll()
    else:
        rc = seq.wait(180)
    t.notes.append(("" if aim else f"delay {delay:.2f}s, ") + f"rc {rc} after {len(seq.rcs)} command(s)"
                   + (f" in {seq.elapsed:.2f}s" if seq.elapsed is not None else "")
                   + (f", down {downtime:.2f}s" if target == "server" else "")
                   + ("" if killed or target == "none" else ", finished before the kill"))
    if rc is None:
        t.check("I3", False, "the client hung for 180 s after the fault")
        return
    snap = t.check_i1("after the fault")
    if rc == 0 and (target != "client" or not killed):
        t.check_i2(sc.expected, "the client exited 0", snap)
    else:
        t.check_i2(sc.kept(), "files outside the command's scope", snap)
    if target == "server":
        # mount disable retried after its first DELETE took effect answers
        # "already off" (exit 5): the contract has no recognition for it, so
        # for mount_cycle only giving up (any other failure) is a violation
        ok = rc == 0 or (t.scenario == "mount_cycle" and rc == 5)
        t.check("I6", ok, f"the client exited {rc} across a {downtime:.1f} s restart: "
                f"{last_line(seq.last_err())}")
    rerun(t, sc, "after the fault")
    t.check_i1("after the re-run")
    t.wait_idle_checks(enabled=sc.enabled_after)


def trial_diskfull(t):
    if os.geteuid() != 0:
        raise SetupError("disk-full trials need root (they mount a tmpfs)")
    cls = SCENARIO_CLASSES[t.scenario]
    sc = cls(t, size=12 * MiB + t.rng.randrange(4 * MiB)) if cls is UploadBig else cls(t)
    sc.env = None
    t.start(tmpfs_size=f"{64 + 2 * (sc.need >> 20)}m")
    sc.setup_remote()
    frac = t.rng.uniform(0.05, 0.7)
    vfs = os.statvfs(t.tmpfs)
    avail = vfs.f_bavail * vfs.f_frsize
    filler_size = max(0, avail - int(frac * sc.need))
    filler = os.path.join(t.tmpfs, "filler.bin")
    with open(filler, "wb") as f:
        chunk = b"\0" * MiB
        left = filler_size
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
    seq = Sequence(t, sc, "cmd")
    rc = seq.wait(180)
    t.notes.append(f"free {frac:.2f} of {sc.need >> 10} KiB, rc {rc}")
    if rc is None:
        t.check("I3", False, "the client hung for 180 s on a full disk")
        return
    snap = t.check_i1("on the full disk")
    if rc == 0:
        t.check_i2(sc.expected, "the client exited 0 on a full disk", snap)
    else:
        t.check_i2(sc.kept(), "files outside the command's scope", snap)
    os.unlink(filler)
    rerun(t, sc, "after freeing space")
    t.check_i1("after the re-run")
    t.wait_idle_checks()


def trial_race(t):
    rng = t.rng
    base = Scenario(t)
    t.start()
    base.setup_remote()
    kept = base.kept()
    env = None
    if t.scenario == "upload_same":
        size = rng.choice([64 * KiB, 300 * KiB, 4 * MiB, 6 * MiB]) + rng.randrange(4096)
        a, b = rng.randbytes(size), rng.randbytes(size)
        da = t.local("a", {"f.bin": a})
        db = t.local("b", {"f.bin": b})
        t.allow({"race/f.bin": sha(a)})
        t.allow({"race/f.bin": sha(b)})
        cmds = [["upload", os.path.join(da, "f.bin"), "/race/f.bin", "-n", APP],
                ["upload", os.path.join(db, "f.bin"), "/race/f.bin", "-n", APP]]
        results = [{**kept, "race/f.bin": sha(a)}, {**kept, "race/f.bin": sha(b)}]

        def legit(rca, rcb):
            ok = [results[i] for i, rc in enumerate((rca, rcb)) if rc == 0]
            return ok, (rca == 0 and rcb == 0)
    elif t.scenario == "upload_vs_rm":
        old = make_tree(rng, 20, dirs=2)
        t.allow(under("x", old))
        t.must(["upload", "-r", t.local("xold", old) + "/", "/x", "-n", APP, "-q"], "upload /x")
        size = rng.choice([64 * KiB, 4 * MiB]) + rng.randrange(4096)
        new = rng.randbytes(size)
        dn = t.local("n", {"new.bin": new})
        t.allow({"x/new.bin": sha(new)})
        cmds = [["upload", os.path.join(dn, "new.bin"), "/x/new.bin", "-n", APP],
                ["rm", "-r", "-y", "/x", "-n", APP]]
        with_old = {**kept, **under("x", old)}
        upload_then_rm = dict(kept)
        rm_then_upload = {**kept, "x/new.bin": sha(new)}

        def legit(rca, rcb):
            if rca == 0 and rcb == 0:
                return [upload_then_rm, rm_then_upload], False
            if rca == 0:
                return [{**with_old, "x/new.bin": sha(new)}], False
            if rcb == 0:
                return [upload_then_rm], False
            return [], False
    else:  # sync_two
        old = make_tree(rng, 100, dirs=4)
        t.allow(under("sync", old))
        t.must(["upload", "-r", t.local("sold", old) + "/", "/sync", "-n", APP, "-q"], "upload /sync")
        ta = make_tree(rng, 250, dirs=4)
        tb = make_tree(rng, 250, dirs=4)
        t.allow(under("sync", ta))
        t.allow(under("sync", tb))
        da, db = t.local("ta", ta), t.local("tb", tb)
        cmds = [["sync", "push", da, "-n", APP, "--remote-dir", "sync", "--delete", "-y"],
                ["sync", "push", db, "-n", APP, "--remote-dir", "sync", "--delete", "-y"]]
        results = [{**kept, **under("sync", ta)}, {**kept, **under("sync", tb)}]

        def legit(rca, rcb):
            ok = [results[i] for i, rc in enumerate((rca, rcb)) if rc == 0]
            return ok, (rca == 0 and rcb == 0)

    pa = t.spawn(cmds[0], "a", env)
    pb = t.spawn(cmds[1], "b", env)
    rcs = []
    for p in (pa, pb):
        try:
            rcs.append(p.wait(timeout=180))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rcs.append(None)
    rca, rcb = rcs
    t.notes.append(f"exit codes {rca} and {rcb}")
    for name, rc in (("a", rca), ("b", rcb)):
        if rc:
            t.notes.append(f"{name}: {last_line(t.read_err(name))[:160]}")
    if None in rcs:
        t.check("I3", False, f"a client hung for 180 s (exit codes {rca}, {rcb})")
        return
    snap = t.check_i1("after the race")
    t.check_i2(kept, "files outside the race", snap)
    finals, both_conflicting = legit(rca, rcb)
    if both_conflicting:
        t.check("I3", False, "both clients exited 0 although their intents conflict "
                f"(the mount: {'one intent' if snap in finals else 'a mix'})")
    elif not finals:
        t.check("I3", False, f"neither client succeeded (exit {rca}: {last_line(t.read_err('a'))}; "
                f"exit {rcb}: {last_line(t.read_err('b'))})")
    else:
        t.check("I3", snap in finals, "the mount is not the result of the succeeding client(s): "
                + t.diff(finals[0], snap))
    t.wait_idle_checks()


def run_trial(ctx, spec):
    fault, scenario, seed = spec
    t = Trial(ctx, fault, scenario, seed)
    started = time.monotonic()
    error = None
    try:
        if fault == "kill_server":
            trial_kill(t, "server")
        elif fault == "kill_client":
            trial_kill(t, "client")
        elif fault == "none":
            trial_kill(t, "none")
        elif fault == "diskfull":
            trial_diskfull(t)
        elif fault == "race":
            trial_race(t)
        else:
            raise SetupError(f"unknown fault {fault}")
    except SetupError as e:
        error = str(e)
    except Exception as e:  # noqa: BLE001 - a crash of the driver is an error too
        import traceback
        error = f"driver error: {e}\n{traceback.format_exc()}"
    finally:
        t.close()
    t.error = error
    t.elapsed = time.monotonic() - started
    return t


# ------------------------------------------------------------------- main ---

def plan(args):
    """The list of (fault, scenario, seed), all derived from --seed."""
    rng = random.Random(args.seed)
    trials = []
    for i in range(args.kills):
        fault = "kill_server" if i % 2 == 0 else "kill_client"
        trials.append((fault, SCENARIOS[(i // 2) % len(SCENARIOS)], rng.getrandbits(32)))
    for i in range(args.diskfull):
        trials.append(("diskfull", DISKFULL_SCENARIOS[i % len(DISKFULL_SCENARIOS)], rng.getrandbits(32)))
    for i in range(args.races):
        trials.append(("race", RACES[i % len(RACES)], rng.getrandbits(32)))
    return trials


class Context:
    pass


def find_binaries(args):
    cli = os.environ.get("DE_CLI")
    server = os.environ.get("DE_SERVER")
    if args.build:
        cli = os.path.join(args.build, "cli", "de-cli")
        server = os.path.join(args.build, "server", "de-server")
    if not cli or not server:
        build = os.path.join(HERE, "..", "..", "build")
        cli = cli or os.path.join(build, "cli", "de-cli")
        server = server or os.path.join(build, "server", "de-server")
    for b in (cli, server):
        if not os.access(b, os.X_OK):
            sys.exit(f"fault.py: no binary at {b} (set DE_CLI/DE_SERVER or pass --build DIR)")
    return os.path.abspath(cli), os.path.abspath(server)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Short (CI): fault.py --short --seed 1\n"
                                        "Long:       fault.py --long --kills 100 --diskfull 20 --races 50\n"
                                        "One trial:  fault.py --trial kill_server:upload_big:12345")
    ap.add_argument("--seed", type=int, default=None, help="master seed (default: random, printed)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--short", action="store_true", help="CI mode: 20 kills, 4 disk-full, 6 races")
    mode.add_argument("--long", action="store_true", help="long mode: 100 kills, 20 disk-full, 50 races")
    mode.add_argument("--trial", metavar="FAULT:SCENARIO:SEED", action="append",
                      help="replay one trial (repeatable)")
    ap.add_argument("--kills", type=int)
    ap.add_argument("--diskfull", type=int)
    ap.add_argument("--races", type=int)
    ap.add_argument("--only", metavar="FAULT[:SCENARIO]", action="append",
                    help="run only the planned trials of this fault (and scenario)")
    ap.add_argument("--build", help="build folder with cli/de-cli and server/de-server")
    ap.add_argument("--keep", action="store_true", help="keep the folders of trials with violations")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per trial")
    args = ap.parse_args()

    defaults = (100, 20, 50) if args.long else (20, 4, 6)
    args.kills = defaults[0] if args.kills is None else args.kills
    args.diskfull = defaults[1] if args.diskfull is None else args.diskfull
    args.races = defaults[2] if args.races is None else args.races
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)

    ctx = Context()
    ctx.cli, ctx.server = find_binaries(args)
    ctx.keep = args.keep
    ctx.tmpdir = os.environ.get("TMPDIR") or tempfile.gettempdir()
    helptext = subprocess.run([ctx.server, "--help"], capture_output=True).stdout.decode(errors="replace")
    ctx.has_min_free = "--min-free" in helptext

    if args.trial:
        trials = []
        for s in args.trial:
            try:
                f, sc, sd = s.split(":")
                trials.append((f, sc, int(sd)))
            except ValueError:
                sys.exit(f"fault.py: --trial wants FAULT:SCENARIO:SEED, not {s!r}")
    else:
        trials = plan(args)
        if args.only:
            keep = [o.split(":") for o in args.only]
            trials = [x for x in trials if any(x[0] == k[0] and (len(k) < 2 or x[1] == k[1]) for k in keep)]

    env_prefix = f"DE_CLI={shlex.quote(ctx.cli)} DE_SERVER={shlex.quote(ctx.server)}"
    me = shlex.quote(os.path.abspath(__file__))
    log(f"fault suite: seed {args.seed}, {len(trials)} trials "
        f"(--min-free {'passed' if ctx.has_min_free else 'not supported by this de-server'})")
    if args.trial:
        again = " ".join(f"--trial {f}:{sc}:{sd}" for f, sc, sd in trials)
    else:
        again = f"--seed {args.seed} --kills {args.kills} --diskfull {args.diskfull} --races {args.races}"
        again += "".join(f" --only {o}" for o in args.only or [])
    log(f"  reproduce the whole run: {env_prefix} python3 {me} {again}")

    if os.geteuid() != 0 and any(x[0] == "diskfull" for x in trials):
        log("FAIL: the disk-full trials mount a tmpfs and need root; they will be reported as "
            "errors and the run fails (run as root, or pass --diskfull 0 to leave them out)")
    per_inv = {k: [0, 0] for k in INVARIANTS}
    per_kind = {}
    errors = []
    violations = 0
    t_start = time.monotonic()
    for n, spec in enumerate(trials, 1):
        t = run_trial(ctx, spec)
        kind = f"{spec[0]}:{spec[1]}"
        row = per_kind.setdefault(kind, [0, 0, 0])
        row[0] += 1
        if t.error:
            row[2] += 1
            errors.append((t, t.error))
            log(f"ERROR {t.spec} seed={t.seed}: {t.error.strip()[:1500]}")
            log(f"  reproduce: {env_prefix} python3 {me} --trial {t.spec}")
        for inv in INVARIANTS:
            if inv in t.checked:
                per_inv[inv][0] += 1
                if inv in t.violations:
                    per_inv[inv][1] += 1
        if t.violations:
            row[1] += 1
            violations += 1
            for inv in INVARIANTS:
                for msg in t.violations.get(inv, []):
                    log(f"VIOLATION {inv} {t.spec} seed={t.seed}: {msg}")
            log(f"  ({'; '.join(t.notes)})")
            log(f"  reproduce: {env_prefix} python3 {me} --trial {t.spec}")
        if args.verbose:
            status = "violations " + ",".join(sorted(t.violations)) if t.violations else "ok"
            if t.error:
                status = "ERROR"
            log(f"[{n}/{len(trials)}] {t.spec}: {status} in {t.elapsed:.1f}s ({'; '.join(t.notes)})")

    elapsed = time.monotonic() - t_start
    print(f"\nfault suite: seed {args.seed}, {len(trials)} trials in {elapsed:.0f} s")
    print(f"{'invariant':<6} {'what':<44} {'trials':>6} {'violations':>10}")
    for inv in INVARIANTS:
        print(f"{inv:<6} {INVARIANT_TEXT[inv]:<44} {per_inv[inv][0]:>6} {per_inv[inv][1]:>10}")
    print(f"\n{'fault:scenario':<28} {'trials':>6} {'with violations':>15} {'errors':>6}")
    for kind in sorted(per_kind):
        r = per_kind[kind]
        print(f"{kind:<28} {r[0]:>6} {r[1]:>15} {r[2]:>6}")
    if errors:
        print(f"\n{len(errors)} trial(s) could not run (see ERROR lines above)")
    print(f"\n{violations} trial(s) with violations, {len(errors)} error(s)")
    return 1 if violations or errors else 0


if __name__ == "__main__":
    sys.exit(main())

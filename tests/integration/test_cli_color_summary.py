"""Colour on a terminal, and summaries that say where and what (issue 14, items 13, 14).

Colour: with stderr on a pty, "de-cli: error:" is bold red and "warning:" yellow;
NO_COLOR (any non-empty value), --no-color, or a stderr that is not a terminal
turn it off. Summaries: `sync pull --remote-dir csv` into a missing ../mount
names sales:/csv and ../mount and says it created the folder; dry runs say
"would"; counts of one are singular; a progress bar is ended before the
summary line starts.
"""
import os
import pty
import select
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Server, check, finish  # noqa: E402

CLI = os.environ["DE_CLI"]
RED = "\x1b[1;31mde-cli: error:\x1b[0m"
YELLOW = "\x1b[33mwarning:\x1b[0m"

srv = Server()
key = srv.add_user("alice")
tmp = tempfile.mkdtemp(prefix="de-color.")
env = {k: v for k, v in os.environ.items() if not k.startswith("DASH_ENTERPRISE") and k != "NO_COLOR"}
env.update(HOME=tmp, XDG_CONFIG_HOME=f"{tmp}/c", XDG_CACHE_HOME=f"{tmp}/k",
           DASH_ENTERPRISE_HOST=srv.url, DASH_ENTERPRISE_USERNAME="alice",
           DASH_ENTERPRISE_PASSWORD=key, COLUMNS="100")


def run_pty(args, cwd=tmp, extra=None):
    """Runs de-cli with stderr (and stdin) on a pty, stdout piped; returns (rc, stdout, stderr)."""
    master, slave = pty.openpty()
    e = dict(env, **(extra or {}))
    p = subprocess.Popen([CLI, *args], stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                         env=e, cwd=cwd)
    os.close(slave)
    err = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        err += chunk
    out = p.stdout.read()
    rc = p.wait(timeout=60)
    os.close(master)
    return rc, out.decode(errors="replace"), err.decode(errors="replace").replace("\r\n", "\n")


def run_pipe(args, cwd=tmp, extra=None):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, env=dict(env, **(extra or {})),
                       cwd=cwd, timeout=60)
    return p.returncode, p.stdout, p.stderr


# ---- colour --------------------------------------------------------------
rc, _, err = run_pty(["apps", "info", "-n", "nope"])
check(rc == 3 and RED in err, "an error is bold red on a terminal", repr(err))
rc, _, err = run_pty(["apps", "info", "-n", "nope"], extra={"NO_COLOR": "1"})
check(rc == 3 and "\x1b[" not in err and "de-cli: error:" in err, "NO_COLOR=1: no colour", repr(err))
rc, _, err = run_pty(["apps", "info", "-n", "nope"], extra={"NO_COLOR": ""})
check(RED in err, "an empty NO_COLOR does not turn colour off (no-color.org)", repr(err))
rc, _, err = run_pty(["apps", "info", "-n", "nope", "--no-color"])
check(rc == 3 and "\x1b[" not in err and "de-cli: error:" in err, "--no-color: no colour", repr(err))
rc, _, err = run_pipe(["apps", "info", "-n", "nope"])
check(rc == 3 and "\x1b[" not in err and err.startswith("de-cli: error:"),
      "stderr not a terminal: no colour", repr(err))

subprocess.run([CLI, "apps", "create", "-n", "sales"], env=env, check=True, capture_output=True)
subprocess.run([CLI, "mount", "enable", "-n", "sales"], env=env, check=True, capture_output=True)
src = os.path.join(tmp, "src")
os.makedirs(f"{src}/csv")
for name, data in (("a.csv", b"a\n"), ("b.csv", b"bb\n")):
    with open(f"{src}/csv/{name}", "wb") as f:
        f.write(data)
os.symlink("/etc/hostname", f"{src}/link")
rc, _, err = run_pty(["sync", "push", src, "-n", "sales", "--no-progress"])
check(rc == 0 and "de-cli: " + YELLOW in err, "a warning is yellow on a terminal", repr(err))
rc, _, err = run_pty(["sync", "push", src, "-n", "sales", "--no-color"])
check(rc == 0 and "de-cli: warning:" in err and "\x1b[33m" not in err,
      "--no-color: warnings plain", repr(err))

# ---- summaries -----------------------------------------------------------
app = os.path.join(tmp, "proj", "app")
os.makedirs(app)
rc, _, err = run_pipe(["sync", "pull", "--remote-dir", "csv", "-n", "sales", "--dry-run"], cwd=app)
check(rc == 0 and "would receive 2 files (5 B) from sales:/csv into ../mount" in err
      and "would create ../mount" in err, "a dry pull says what it would do, and where", err)
check(not os.path.exists(os.path.join(tmp, "proj", "mount")), "the dry run created nothing")
rc, _, err = run_pipe(["sync", "pull", "--remote-dir", "csv", "-n", "sales"], cwd=app)
check(rc == 0 and "sync pull: received 2 files (5 B) from sales:/csv into ../mount" in err
      and "created ../mount (it did not exist)" in err, "pull names both sides and the new folder",
      err)
mount = os.path.join(tmp, "proj", "mount")
os.remove(f"{mount}/a.csv")
with open(f"{mount}/extra.txt", "w") as f:
    f.write("x")
rc, _, err = run_pipe(["sync", "pull", "--remote-dir", "csv", "-n", "sales", "--delete",
                       "--dry-run"], cwd=app)
check(rc == 0 and "would receive 1 file (2 B)" in err and "would delete 1 file" in err
      and "1 unchanged" in err and "created" not in err,
      "dry run: 'would', and singular counts", err)
os.makedirs(f"{mount}/new1")
os.makedirs(f"{mount}/new2")
rc, _, err = run_pipe(["sync", "push", "-n", "sales", "--remote-dir", "fresh"], cwd=app)
check(rc == 0 and "sync push: sent 2 files (4 B) from ../mount to sales:/fresh" in err
      and "2 folders created" in err, "push names both sides; plural folders", err)
os.makedirs(f"{mount}/one")
rc, _, err = run_pipe(["sync", "push", "-n", "sales", "--remote-dir", "fresh"], cwd=app)
check(rc == 0 and "sent 0 files" in err and "1 folder created" in err and "1 folders" not in err,
      "one folder is '1 folder'", err)

# The progress bar is ended before the summary: the summary starts its own line.
with open(f"{mount}/big.bin", "wb") as f:
    f.write(os.urandom(4 << 20))
rc, _, err = run_pty(["sync", "push", "-n", "sales", "--remote-dir", "big"], cwd=app)
at = err.find("sync push: sent")
check(rc == 0 and at > 0 and "[" in err[:at], "a progress bar was drawn before the summary",
      repr(err[-300:]))
check(at > 0 and (err[:at].endswith("\x1b[K") or err[:at].endswith("\n")),
      "the summary does not continue the progress line", repr(err[max(0, at - 120):at + 40]))

srv.close()
finish()

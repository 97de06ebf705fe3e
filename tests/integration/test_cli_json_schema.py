"""Every de-cli command's --json document against its JSON Schema (docs/json.md).

Runs each command that does something (every leaf of the command tree, as
`de-cli man` lists it, plus `sync`, which runs --apply itself) against a real
de-server, once succeeding and once failing, and validates stdout against
docs/schema/COMMAND.json (the failure against error.json); NDJSON progress
events on stderr against progress-event.json. Fails when a command has no
schema or no case here, so a new command cannot ship without its JSON written
down. Needs python3-jsonschema (Debian); fails (does not skip) without it.
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Server, check, eq, finish  # noqa: E402

import jsonschema  # noqa: E402  (python3-jsonschema; a missing module fails the test)

CLI = os.environ["DE_CLI"]
SCHEMA_DIR = os.path.join(os.environ["DE_SOURCE_DIR"], "docs", "schema")
# Commands that print text by design (a script, a man page), not a JSON document.
TEXT_COMMANDS = {"completion", "man", "help"}
# Command groups that also run by themselves (`sync --apply PLAN`).
RUNNABLE_GROUPS = {"sync"}


def load(name):
    with open(os.path.join(SCHEMA_DIR, name)) as f:
        return json.load(f)


DEFS = load("defs.json")


def bundle(schema):
    """The schema with defs.json inlined: '$ref': 'defs.json#/$defs/x' becomes '#/$defs/x',
    so validation needs no reference resolver (works with every jsonschema 4.x)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("defs.json#"):
                node["$ref"] = ref[len("defs.json"):]
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(schema)
    defs = copy.deepcopy(DEFS["$defs"])
    walk(defs)
    schema.setdefault("$defs", {}).update(defs)
    return schema


def validator(name):
    schema = bundle(load(name))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def valid(v, doc, what):
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    return check(not errors, what,
                 "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:3])
                 + f"\ndocument: {json.dumps(doc)[:600]}")


def commands():
    """Runnable commands from the man page's command tree ('apps list', 'sync', ...)."""
    page = subprocess.run([CLI, "man"], capture_output=True, text=True, check=True).stdout
    names = re.findall(r'^\.SS "de\\-cli (.+)"$', page, re.M)
    names = [n.replace("\\-", "-") for n in names]
    groups = {n for n in names for m in names if m.startswith(n + " ")}
    return [n for n in names
            if n.split()[0] not in TEXT_COMMANDS and (n not in groups or n in RUNNABLE_GROUPS)]


def schema_file(command):
    return command.replace(" ", "-") + ".json"


srv = Server()
key = srv.add_user("alice")
tmp = tempfile.mkdtemp(prefix="de-json-schema.")
env = dict(os.environ)
for k in ("DASH_ENTERPRISE_HOST", "DASH_ENTERPRISE_USERNAME", "DASH_ENTERPRISE_PASSWORD",
          "NO_COLOR"):
    env.pop(k, None)
env.update(HOME=tmp, XDG_CONFIG_HOME=f"{tmp}/config", XDG_CACHE_HOME=f"{tmp}/cache",
           XDG_STATE_HOME=f"{tmp}/state")
AUTH = {"DASH_ENTERPRISE_HOST": srv.url, "DASH_ENTERPRISE_USERNAME": "alice",
        "DASH_ENTERPRISE_PASSWORD": key}
work = os.path.join(tmp, "work")
os.makedirs(work)


def run(args, stdin="", auth=True, cwd=work):
    e = dict(env)
    if auth:
        e.update(AUTH)
    p = subprocess.run([CLI, *args, "--json"], input=stdin, capture_output=True, text=True,
                       env=e, cwd=cwd, timeout=120)
    return p


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# Fixtures: app "shop" with a mount holding a few files; a local tree; a predeploy app folder.
assert run(["apps", "create", "-n", "shop"]).returncode == 0
assert run(["mount", "enable", "-n", "shop"]).returncode == 0
write(f"{work}/up/a.txt", b"alpha\n")
write(f"{work}/up/sub/b.txt", b"beta\n")
write(f"{work}/big.bin", os.urandom(3 << 20))
write(f"{work}/proj/app/project.toml", b'[scripts]\npredeploy = "pre.sh"\n')
write(f"{work}/proj/app/pre.sh", b"echo hi > ../mount/out.txt\n")
write(f"{work}/proj/app/Procfile", b"web: gunicorn app:server\n")
assert run(["upload", "-r", "up/", "/data", "-n", "shop"]).returncode == 0
plan_path = os.path.join(tmp, "plan.json")

# command -> (success args, failure args[, stdin for success])
CASES = {
    "login": (["login", "--host", srv.url, "-u", "alice", "--password-stdin"],
              ["login", "--host", srv.url, "-u", "alice", "--password-stdin"], key),
    "logout": (["logout", "--host", srv.url], ["logout", "--no-keyfile"]),
    "whoami": (["whoami"], ["whoami", "--no-keyfile", "--host", srv.url, "NOAUTH"]),
    "config": (["config"], ["config", "--no-such-option"]),
    "apps list": (["apps", "list"], ["apps", "list", "NOAUTH", "--no-keyfile"]),
    "apps exists": (["apps", "exists", "-n", "shop"], ["apps", "exists", "-n", "nope"]),
    "apps create": (["apps", "create", "-n", "made"], ["apps", "create", "-n", "shop"]),
    "apps info": (["apps", "info", "-n", "shop"], ["apps", "info", "-n", "nope"]),
    "apps update": (["apps", "update", "-n", "made", "--persistent-filesystem"],
                    ["apps", "update", "-n", "nope", "--persistent-filesystem"]),
    "apps delete": (["apps", "delete", "-n", "made", "-y"], ["apps", "delete", "-n", "nope", "-y"]),
    "mount status": (["mount", "status", "-n", "shop"], ["mount", "status", "-n", "nope"]),
    "mount url": (["mount", "url", "-n", "shop"], ["mount", "url", "-n", "nope"]),
    "mount enable": (["mount", "enable", "-n", "shop"], ["mount", "enable", "-n", "nope"]),
    "mount disable": (["mount", "disable", "-n", "gone", "-y"],
                      ["mount", "disable", "-n", "nope", "-y"]),
    "upload": (["upload", "big.bin", "/big.bin", "-n", "shop"],
               ["upload", "missing.txt", "/", "-n", "shop"]),
    "download": (["download", "-r", "/data", "down", "-n", "shop"],
                 ["download", "/nothing.txt", "x.txt", "-n", "shop"]),
    "ls": (["ls", "-R", "/", "-n", "shop"], ["ls", "/nothing", "-n", "shop"]),
    "cat": (["cat", "/data/a.txt", "-n", "shop"], ["cat", "/nothing", "-n", "shop"]),
    "mv": (["mv", "/data/a.txt", "/data/a2.txt", "-n", "shop"],
           ["mv", "/nothing", "/x", "-n", "shop"]),
    "mkdir": (["mkdir", "/made/deep", "-n", "shop"], ["mkdir", "/data/a2.txt/x", "-n", "shop"]),
    "rm": (["rm", "/data/a2.txt", "-n", "shop"], ["rm", "/nothing", "-n", "shop"]),
    "sync push": (["sync", "push", "up", "-n", "shop", "--remote-dir", "mirror"],
                  ["sync", "push", "up", "-n", "nope"]),
    "sync pull": (["sync", "pull", "pulled", "-n", "shop", "--remote-dir", "data"],
                  ["sync", "pull", "pulled", "-n", "nope"]),
    "sync": (["sync", "--apply", plan_path], ["sync", "--apply", os.path.join(tmp, "none.json")]),
    "predeploy": (["predeploy", "proj/app", "--push", "-n", "shop"],
                  ["predeploy", "proj/nothing"]),
    "version": (["version"], ["version", "--no-such-option"]),
}
# Extra documents of the same commands in their other modes.
EXTRA = [
    ("upload", ["upload", "-r", "up/", "/dry", "-n", "shop", "--dry-run"]),
    ("upload", ["upload", "-r", "up/", "/data", "-n", "shop"]),  # all unchanged
    ("sync push", ["sync", "push", "up", "-n", "shop", "--remote-dir", "mirror2", "--dry-run"]),
    ("sync pull", ["sync", "pull", "pulled2", "-n", "shop", "--dry-run"]),
    ("predeploy", ["predeploy", "proj/app", "--check"]),
    ("predeploy", ["predeploy", "proj/app", "--dry-run", "--push", "-n", "shop"]),
    ("predeploy", ["predeploy", "proj/app"]),
    ("mkdir", ["mkdir", "/m1", "/m2", "-n", "shop"]),
    ("apps list", ["apps", "list"]),
    ("download", ["download", "-r", "/data", "down2", "-n", "shop", "--dry-run"]),
    ("rm", ["rm", "-r", "/data", "-n", "shop", "--dry-run"]),
    ("mv", ["mv", "/data", "/data3", "-n", "shop", "--dry-run"]),
    ("mkdir", ["mkdir", "/dry/deep", "-n", "shop", "--dry-run"]),
    ("mount enable", ["mount", "enable", "-n", "shop"]),  # already on: changed false
    # --dry-run of every state change: the state_dry_run document.
    ("apps create", ["apps", "create", "-n", "drynew", "--dry-run"]),
    ("apps delete", ["apps", "delete", "-n", "shop", "--dry-run"]),
    ("apps update", ["apps", "update", "-n", "shop", "--no-persistent-filesystem", "--dry-run"]),
    ("apps update", ["apps", "update", "-n", "shop", "--persistent-filesystem"]),  # already on
    ("mount enable", ["mount", "enable", "-n", "shop", "--dry-run"]),
    ("mount disable", ["mount", "disable", "-n", "shop", "--dry-run"]),
]

error_v = validator("error.json")
event_v = validator("progress-event.json")
found = commands()
check(len(found) >= 20, "the man page lists the commands", str(found))
for cmd in found:
    check(os.path.exists(os.path.join(SCHEMA_DIR, schema_file(cmd))),
          f"docs/schema/{schema_file(cmd)} exists for `de-cli {cmd}`")
    check(cmd in CASES, f"a --json case for `de-cli {cmd}`")

# Disposable fixtures the cases consume.
assert run(["apps", "create", "-n", "gone"]).returncode == 0
assert run(["mount", "enable", "-n", "gone"]).returncode == 0
with open(plan_path, "w") as f:
    f.write(run(["sync", "push", "up", "-n", "shop", "--remote-dir", "planned",
                 "--dry-run"]).stdout)

events = 0
order = [c for c in CASES if c not in ("logout",)] + ["logout"]
for cmd in order:
    if cmd not in found or not os.path.exists(os.path.join(SCHEMA_DIR, schema_file(cmd))):
        continue
    ok_args, bad_args, *stdin = CASES[cmd]
    v = validator(schema_file(cmd))
    for args, want_ok in ((ok_args, True), (bad_args, False)):
        auth = "NOAUTH" not in args
        args = [a for a in args if a != "NOAUTH"]
        if cmd == "login" and not want_ok:
            p = run(args, stdin="wrong-key", auth=False)
        else:
            p = run(args, stdin=stdin[0] if stdin else "", auth=auth and cmd != "login")
        what = f"`de-cli {' '.join(args)} --json`"
        if not check((p.returncode == 0) == want_ok, f"{what} exits {'0' if want_ok else '!=0'}",
                     f"(rc {p.returncode}; stderr {p.stderr[-400:]!r})"):
            continue
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            check(False, f"{what} prints one JSON document", repr(p.stdout[:300]))
            continue
        check(p.stdout.count("\n") == 1, f"{what} prints one line")
        valid(v if want_ok else error_v, doc, f"{what} matches its schema")
        for line in p.stderr.splitlines():
            if line.startswith("{"):
                events += 1
                valid(event_v, json.loads(line), f"{what}: progress event matches")

for cmd, args in EXTRA:
    p = run(args)
    what = f"`de-cli {' '.join(args)} --json`"
    if check(p.returncode == 0, f"{what} exits 0", p.stdout[-300:] + p.stderr[-300:]):
        valid(validator(schema_file(cmd)), json.loads(p.stdout), f"{what} matches its schema")

check(events >= 2, "the 3 MiB upload printed NDJSON progress events (start, finish)", str(events))

# The documents say what the vocabulary promises, beyond their shape.
d = json.loads(run(["mount", "status", "-n", "shop"]).stdout)
a = json.loads(run(["apps", "info", "-n", "shop"]).stdout)
eq((d["mount"]["enabled"], a["mount"]["enabled"]), (True, True),
   "mount status and apps info agree on mount.enabled (and the dry runs above changed nothing)")
check(d["mount"]["file_count"] > 0, "the dry-run disable and delete of 'shop' deleted nothing",
      str(d))
eq(run(["apps", "exists", "-n", "drynew"]).returncode, 3, "apps create --dry-run created nothing")
p = json.loads(run(["sync", "pull", "pulled3", "-n", "shop", "--remote-dir", "data"]).stdout)
check("files_sent" not in p and p["files_transferred"] >= 1 and p["local_dir_created"] is True,
      "sync pull counts files_transferred and says it created the folder", str(p))
c = json.loads(run(["config"], auth=False).stdout)
eq((c["username"]["value"], c["ca_path"]["value"], c["token"]["set"]), (None, None, False),
   "config: unset settings are null")

srv.close()
finish()

#!/usr/bin/env python3
"""deploy/ against the real de-server and Debian 12 (no container engine or cluster needed).

- deploy/k8s: every YAML parses; the Deployment has 3 replicas, rolls, probes exactly /livez
  and /readyz on the container port, runs as the image's non-root uid with a read-only root
  file system and no capabilities, asks for resources, mounts a ReadWriteMany claim at
  DE_SERVER_ROOT and waits longer than preStop + the shutdown grace before SIGKILL; the
  Service reaches the container port without session affinity; the TLS overlay mounts its
  Secret read-only where DE_SERVER_TLS_CERT/KEY point (rendered with `kubectl kustomize`
  where kubectl is installed).
- deploy/Containerfile: the runtime stage installs packages that exist in Debian 12's apt
  cache and hold every library de-server and de-cli link (readelf NEEDED); uid, port, root
  and entry point agree with the manifests; the build stage runs docs/deploy.md's commands.
- deploy/de-server.service: the settings that matter, and `systemd-analyze verify` where
  systemd is installed.
- The real binary: every DE_SERVER_* variable named anywhere in deploy/ is a flag in
  `de-server --help`; de-server starts from each deployment's environment alone (no flags);
  the manifest's probe and metrics paths answer 200 without credentials.
Costs about 4 CPU-s (apt-cache and kubectl, which run beside the other checks, are most of
it): a few seconds on a quiet 2-core machine; 12.7 s measured at load average 17.
"""
import glob
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_harness import Server, check, eq, finish  # noqa: E402

import yaml  # noqa: E402  (python3-yaml, scripts/deps.sh)

SRC = os.environ.get("DE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
DEPLOY = os.path.join(SRC, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
DE_SERVER = os.environ["DE_SERVER"]
DE_CLI = os.environ.get("DE_CLI")
# de-server's --shutdown-grace when not set (server/main.cpp).
DEFAULT_GRACE_S = 5.0


def read(path):
    with open(path) as f:
        return f.read()


# ---------------------------------------------------------------- Containerfile

def parse_containerfile(text):
    """[(stage, INSTRUCTION, args)] with continuation lines joined and comments dropped."""
    out, stage, pending = [], -1, ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        word, _, args = full.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage += 1
        out.append((stage, word, args.strip()))
    return out


def env_of(instructions, stage):
    env = {}
    for s, word, args in instructions:
        if s == stage and word == "ENV":
            for item in shlex.split(args):
                k, _, v = item.partition("=")
                env[k] = v
    return env


def apt_installs(run_args):
    """The packages of each `apt-get install` in a RUN line."""
    pkgs = []
    for part in re.split(r"&&|;|\|\|", run_args):
        words = shlex.split(part)
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1:]
            pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


cf_text = read(os.path.join(DEPLOY, "Containerfile"))
cf = parse_containerfile(cf_text)
stages = [args for _, w, args in cf if w == "FROM"]
eq(len(stages), 2, "Containerfile: two stages (build, runtime)")
check(all(s.split()[0] == "debian:12" for s in stages), "Containerfile: every stage is debian:12",
      repr(stages))
runtime = len(stages) - 1
rt = [(w, a) for s, w, a in cf if s == runtime]
build = [(w, a) for s, w, a in cf if s == 0]
cf_env = env_of(cf, runtime)
eq(cf_env.get("DE_SERVER_LISTEN"), "0.0.0.0:8050", "Containerfile: DE_SERVER_LISTEN default")
eq(cf_env.get("DE_SERVER_ROOT"), "/data", "Containerfile: DE_SERVER_ROOT default")
entry = [a for w, a in rt if w == "ENTRYPOINT"]
eq([json.loads(a) for a in entry], [["de-server"]], "Containerfile: ENTRYPOINT [\"de-server\"]")
eq([a for w, a in rt if w == "EXPOSE"], ["8050"], "Containerfile: EXPOSE 8050")
users = [a for w, a in rt if w == "USER"]
check(len(users) == 1 and re.fullmatch(r"\d+(:\d+)?", users[0]) is not None,
      "Containerfile: one numeric USER (runAsNonRoot needs a number)", repr(users))
CF_UID = int(users[0].split(":")[0]) if users else -1
CF_GID = int(users[0].split(":")[1]) if users and ":" in users[0] else CF_UID
check(CF_UID > 0, "Containerfile: USER is not root", str(CF_UID))
useradd = " ".join(a for w, a in rt if w == "RUN" and "useradd" in a)
check(f"--uid {CF_UID}" in useradd and f"--gid {CF_GID}" in useradd,
      "Containerfile: useradd creates the USER's uid and gid", useradd)
runtime_pkgs = [p for w, a in rt if w == "RUN" for p in apt_installs(a)]
check(len(runtime_pkgs) > 0, "Containerfile: the runtime stage installs its libraries")
check(not any(p.endswith("-dev") or p in ("build-essential", "cmake", "g++") for p in runtime_pkgs),
      "Containerfile: no build packages at run time", repr(runtime_pkgs))
copies = [a for w, a in rt if w == "COPY"]
check(any(a.startswith("--from=") for a in copies), "Containerfile: runtime copies from the build")

# The build stage runs what docs/deploy.md tells a host to run (drift check): each RUN's
# commands, less the staging DESTDIR, appear there verbatim.
deploy_md = read(os.path.join(SRC, "docs", "deploy.md"))
build_runs = [a for w, a in build if w == "RUN"]
check(any("scripts/deps.sh" in a and "DE_DEPS=build" in a for a in build_runs),
      "Containerfile: build stage installs with DE_DEPS=build scripts/deps.sh", repr(build_runs))
check(any("-DCMAKE_BUILD_TYPE=Release" in a for a in build_runs),
      "Containerfile: Release build", repr(build_runs))
for run in build_runs:
    for cmd in run.split("&&"):
        cmd = re.sub(r"^DESTDIR=\S+\s+", "", cmd.strip())
        check(cmd in deploy_md, "docs/deploy.md shows the build stage's command", repr(cmd))
check("docs/deploy.md" in read(os.path.join(SRC, "README.md")), "README.md points to docs/deploy.md")


# The slow look-ups run beside the other checks: apt-cache rebuilds its cache on every call
# here (about 1 CPU-s), kubectl kustomize takes about 0.5 s an overlay.
apt_proc = subprocess.Popen(["apt-cache", "show", "--no-all-versions", "apt", *runtime_pkgs],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
kubectl = shutil.which("kubectl")
kustomized = {}
if kubectl:
    for overlay in ("base", "tls"):
        kustomized[overlay] = subprocess.Popen(
            [kubectl, "kustomize", os.path.join(SRC, "deploy", "k8s", overlay)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def linked_libraries(binary):
    """{soname: resolved path} of the libraries the binary links directly (ELF NEEDED)."""
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
    return {n: paths.get(n) for n in needed}


libs = {}
for b in [DE_SERVER] + ([DE_CLI] if DE_CLI else []):
    libs.update(linked_libraries(b))
# Sanitizer runtimes are not what the image runs (a Release build links none).
libs = {n: p for n, p in libs.items() if not re.match(r"lib(a|ub|l|t)san", n)}
check("libisal.so.2" in libs and "libfmt.so.9" in libs, "readelf: de-server's NEEDED read",
      repr(libs))
# dpkg knows a library by the path its package ships, /lib/... or /usr/lib/... (usrmerge).
candidates = []
for path in filter(None, libs.values()):
    candidates += [path, path[4:] if path.startswith("/usr/") else "/usr" + path]
found = subprocess.run(["dpkg", "-S", *candidates], capture_output=True, text=True).stdout
owner = {}
for line in found.splitlines():
    pkg, _, path = line.partition(": ")
    owner[os.path.basename(path.strip())] = pkg.split(":")[0]
needed = {}
for soname, path in libs.items():
    check(path is not None, f"ldd resolves {soname}")
    if path:
        needed[soname] = owner.get(os.path.basename(path))
        check(needed[soname] is not None, f"dpkg knows the package of {path}")
dpkg_fields = {}
if any(needed.values()):
    q = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Priority}\t${Essential}\n",
                        *sorted(set(filter(None, needed.values())))],
                       capture_output=True, text=True).stdout
    for line in q.splitlines():
        pkg, prio, ess = (line.split("\t") + ["", ""])[:3]
        dpkg_fields[pkg] = {"Priority": prio, "Essential": ess}

# ---------------------------------------------------------------- Kubernetes manifests

yaml_files = sorted(glob.glob(os.path.join(K8S, "**", "*.yaml"), recursive=True))
check(len(yaml_files) >= 5, "deploy/k8s holds the manifests", repr(yaml_files))
docs = {}
for path in yaml_files:
    try:
        with open(path) as f:
            loaded = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        check(False, f"{path} parses", str(e))
        continue
    for d in loaded:
        check(isinstance(d, dict) and "apiVersion" in d and "kind" in d,
              f"{os.path.relpath(path, K8S)}: each document has apiVersion and kind")
    docs[os.path.relpath(path, K8S)] = loaded


def of_kind(documents, kind):
    return [d for d in documents if isinstance(d, dict) and d.get("kind") == kind]


base_docs = [d for rel, ds in docs.items() if rel.startswith("base" + os.sep) for d in ds]
base_kust = of_kind(base_docs, "Kustomization")
eq(len(base_kust), 1, "deploy/k8s/base has a kustomization.yaml")
if base_kust:
    for res in base_kust[0].get("resources", []):
        check(os.path.exists(os.path.join(K8S, "base", res)), f"base kustomization: {res} exists")


def grace_of(env):
    return float(env.get("DE_SERVER_SHUTDOWN_GRACE", DEFAULT_GRACE_S))


def check_deployment(documents, where, tls=False):
    """The checks that matter, on a set of documents (raw base, or kustomize's output)."""
    deps = of_kind(documents, "Deployment")
    if not check(len(deps) == 1, f"{where}: one Deployment", str(len(deps))):
        return None
    dep = deps[0]
    spec = dep["spec"]
    eq(spec.get("replicas"), 3, f"{where}: replicas")
    eq(spec.get("strategy", {}).get("type"), "RollingUpdate", f"{where}: RollingUpdate")
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    eq(spec["selector"].get("matchLabels"), labels, f"{where}: selector matches the pod labels")
    cs = [c for c in pod["containers"] if c.get("name") == "de-server"]
    if not check(len(cs) == 1, f"{where}: a de-server container"):
        return None
    c = cs[0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    full_env = dict(cf_env, **env)  # the manifest's values win over the image's
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    eq(len(ports), 1, f"{where}: one container port")
    port = next(iter(ports.values()), None)

    def resolve(p):
        return ports.get(p) if isinstance(p, str) else p

    eq(int(full_env.get("DE_SERVER_LISTEN", ":-1").rsplit(":", 1)[1]), port,
       f"{where}: DE_SERVER_LISTEN's port is the container port")
    eq(str(port), [a for w, a in rt if w == "EXPOSE"][0], f"{where}: the image EXPOSEs it")
    probes = {}
    for name, want in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        get = c.get(name, {}).get("httpGet", {})
        eq(get.get("path"), want, f"{where}: {name} path")
        eq(resolve(get.get("port")), port, f"{where}: {name} port is the container port")
        probes[name] = get
    if "startupProbe" in c:
        get = c["startupProbe"].get("httpGet", {})
        check(get.get("path") in ("/livez", "/readyz"), f"{where}: startupProbe path", repr(get))
        eq(resolve(get.get("port")), port, f"{where}: startupProbe port is the container port")
        probes["startupProbe"] = get
    for name, get in probes.items():
        eq(get.get("scheme", "HTTP"), "HTTPS" if tls else "HTTP", f"{where}: {name} scheme")

    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    eq(psc.get("runAsNonRoot"), True, f"{where}: runAsNonRoot")
    eq(psc.get("runAsUser"), CF_UID, f"{where}: runAsUser is the Containerfile's uid")
    eq(psc.get("fsGroup"), CF_GID, f"{where}: fsGroup is the Containerfile's gid")
    eq(csc.get("runAsUser", CF_UID), CF_UID, f"{where}: the container's runAsUser agrees")
    eq(csc.get("allowPrivilegeEscalation"), False, f"{where}: allowPrivilegeEscalation false")
    eq(csc.get("readOnlyRootFilesystem"), True, f"{where}: readOnlyRootFilesystem")
    eq(csc.get("capabilities", {}).get("drop"), ["ALL"], f"{where}: drops all capabilities")
    res = c.get("resources", {})
    for kind in ("cpu", "memory"):
        check(kind in res.get("requests", {}), f"{where}: resource request {kind}", repr(res))
    check("memory" in res.get("limits", {}), f"{where}: memory limit", repr(res))
    check(pod.get("hostNetwork") is not True, f"{where}: no host network")

    # The root: a ReadWriteMany claim mounted where DE_SERVER_ROOT points.
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    root_mounts = [m for m in c.get("volumeMounts", [])
                   if "persistentVolumeClaim" in vols.get(m["name"], {})]
    eq([m["mountPath"] for m in root_mounts], [full_env.get("DE_SERVER_ROOT")],
       f"{where}: the claim is mounted at DE_SERVER_ROOT")
    check(all(not m.get("readOnly") for m in root_mounts), f"{where}: the root is writable")
    claims = {d["metadata"]["name"]: d for d in of_kind(documents, "PersistentVolumeClaim")}
    for m in root_mounts:
        name = vols[m["name"]]["persistentVolumeClaim"]["claimName"]
        claim = claims.get(name)
        if check(claim is not None, f"{where}: claim {name} is defined"):
            cspec = claim["spec"]
            eq(cspec.get("accessModes"), ["ReadWriteMany"], f"{where}: claim accessModes")
            check(bool(cspec.get("storageClassName")), f"{where}: claim names a storage class")
            check(bool(cspec.get("resources", {}).get("requests", {}).get("storage")),
                  f"{where}: claim has a size")

    # Drain: SIGKILL only after preStop and the shutdown grace.
    grace = grace_of(full_env)
    pre = c.get("lifecycle", {}).get("preStop", {})
    pre_s = 0.0
    if "exec" in pre:
        cmd = pre["exec"]["command"]
        check(cmd[0] == "sleep" and len(cmd) == 2, f"{where}: preStop is a sleep", repr(cmd))
        pre_s = float(cmd[1])
    elif "sleep" in pre:
        pre_s = float(pre["sleep"]["seconds"])
    tgp = pod.get("terminationGracePeriodSeconds", 30)
    check(tgp > pre_s + grace, f"{where}: terminationGracePeriodSeconds above preStop + grace",
          f"({tgp} <= {pre_s} + {grace})")

    ann = spec["template"]["metadata"].get("annotations", {})
    eq(ann.get("prometheus.io/scrape"), "true", f"{where}: prometheus scrape annotation")
    eq(ann.get("prometheus.io/port"), str(port), f"{where}: prometheus port is the container port")
    check(str(ann.get("prometheus.io/path", "")).startswith("/"), f"{where}: prometheus path")
    if tls:
        eq(ann.get("prometheus.io/scheme"), "https", f"{where}: prometheus scheme")

    svcs = of_kind(documents, "Service")
    if check(len(svcs) == 1, f"{where}: one Service"):
        s = svcs[0]["spec"]
        eq(s.get("type", "ClusterIP"), "ClusterIP", f"{where}: Service type")
        eq(s.get("sessionAffinity"), "None", f"{where}: Service sessionAffinity")
        check(all(labels.get(k) == v for k, v in s.get("selector", {}).items())
              and s.get("selector"), f"{where}: Service selects the pods")
        sports = s.get("ports", [])
        eq([resolve(p.get("targetPort")) for p in sports], [port],
           f"{where}: Service targetPort is the container port")
        eq([p.get("port") for p in sports], [80], f"{where}: Service port 80")
    return {"dep": dep, "container": c, "env": full_env, "pod": pod, "ann": ann}


def check_tls(env, container, pod, where):
    """DE_SERVER_TLS_CERT/KEY lie in a read-only mount of a Secret volume."""
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for var in ("DE_SERVER_TLS_CERT", "DE_SERVER_TLS_KEY"):
        path = env.get(var)
        if not check(path is not None, f"{where}: {var} set"):
            continue
        mounts = [m for m in container.get("volumeMounts", [])
                  if path.startswith(m["mountPath"].rstrip("/") + "/")]
        ok = (len(mounts) == 1 and mounts[0].get("readOnly") is True
              and "secret" in vols.get(mounts[0]["name"], {}))
        check(ok, f"{where}: {var} is in a read-only Secret mount", repr(mounts))
        if ok:
            secret = vols[mounts[0]["name"]]["secret"]
            check(os.path.basename(path) in ("tls.crt", "tls.key"),
                  f"{where}: {var} is a kubernetes.io/tls key", path)
            check(secret.get("defaultMode", 0o644) & 0o007 == 0,
                  f"{where}: the key is not world-readable", oct(secret.get("defaultMode", 0o644)))


base = check_deployment(base_docs, "k8s/base")

# The TLS overlay: its patch alone (always), and kustomize's rendering where kubectl is here.
patch_docs = docs.get(os.path.join("tls", "deployment-tls.yaml"), [])
tls_kust = of_kind(docs.get(os.path.join("tls", "kustomization.yaml"), []), "Kustomization")
check(len(patch_docs) == 1 and len(tls_kust) == 1, "k8s/tls: kustomization and patch")
if patch_docs and tls_kust:
    eq(tls_kust[0].get("resources"), ["../base"], "k8s/tls builds on ../base")
    patch = patch_docs[0]["spec"]["template"]
    pc = [c for c in patch["spec"]["containers"] if c["name"] == "de-server"][0]
    check_tls({e["name"]: e["value"] for e in pc.get("env", [])}, pc, patch["spec"], "k8s/tls patch")
if kubectl:
    for overlay, tls in (("base", False), ("tls", True)):
        out, err = kustomized[overlay].communicate(timeout=60)
        if check(kustomized[overlay].returncode == 0, f"kubectl kustomize k8s/{overlay}",
                 err[-2000:]):
            rendered = [d for d in yaml.safe_load_all(out) if d]
            got = check_deployment(rendered, f"kustomize k8s/{overlay}", tls=tls)
            if got and tls:
                check_tls(got["env"], got["container"], got["pod"], f"kustomize k8s/{overlay}")
else:
    print("note: no kubectl here; the TLS overlay was checked as a patch only", file=sys.stderr)

# ---------------------------------------------------------------- systemd unit


def parse_unit(text):
    sections, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = sections.setdefault(line[1:-1], {})
            continue
        k, sep, v = line.partition("=")
        check(sep == "=" and cur is not None, "de-server.service: key=value lines", repr(line))
        cur.setdefault(k.strip(), []).append(v.strip())
    return sections


unit_path = os.path.join(DEPLOY, "de-server.service")
unit_text = read(unit_path)
unit = parse_unit(unit_text)
svc = unit.get("Service", {})


def one(key):
    v = svc.get(key, [])
    return v[-1] if v else None


unit_env = {}
for item in svc.get("Environment", []):
    for kv in shlex.split(item):
        k, _, v = kv.partition("=")
        unit_env[k] = v
unit_root = unit_env.get("DE_SERVER_ROOT")
check(bool(unit_root), "de-server.service: Environment sets DE_SERVER_ROOT")
eq(os.path.basename(shlex.split(one("ExecStart") or "x")[0]), "de-server", "unit: ExecStart")
check(one("User") not in (None, "root", "0"), "unit: a dedicated user", repr(one("User")))
eq(svc.get("EnvironmentFile"), ["-/etc/de-server/env"], "unit: EnvironmentFile")
eq(one("NoNewPrivileges"), "yes", "unit: NoNewPrivileges")
eq(one("ProtectSystem"), "strict", "unit: ProtectSystem")
eq(one("PrivateTmp"), "yes", "unit: PrivateTmp")
eq(one("ProtectHome"), "yes", "unit: ProtectHome")
check(unit_root in " ".join(svc.get("ReadWritePaths", [])).split(),
      "unit: ReadWritePaths holds the root", repr(svc.get("ReadWritePaths")))
check(unit_root in " ".join(unit.get("Unit", {}).get("RequiresMountsFor", [])).split(),
      "unit: RequiresMountsFor the root")
eq(one("KillSignal"), "SIGTERM", "unit: KillSignal")
eq(one("Restart"), "on-failure", "unit: Restart")
stop = one("TimeoutStopSec") or "90"
check(float(stop.rstrip("s")) > grace_of(unit_env), "unit: TimeoutStopSec above the grace",
      f"({stop} vs {grace_of(unit_env)})")
sysusers = read(os.path.join(DEPLOY, "de-server.sysusers"))
check(re.search(rf"^u\s+{re.escape(one('User') or '?')}\s+{CF_UID}:{CF_GID}\s", sysusers, re.M)
      is not None, "sysusers: the unit's user has the image's uid:gid")
tmpfiles = read(os.path.join(DEPLOY, "de-server.tmpfiles"))
check(re.search(rf"^d\s+{re.escape(unit_root or '?')}\s", tmpfiles, re.M) is not None,
      "tmpfiles: creates the unit's root")

analyze = shutil.which("systemd-analyze")
if analyze:
    # verify wants ExecStart's program to exist: the copy runs the binary under test.
    with tempfile.TemporaryDirectory(prefix="de-unit.") as d:
        copy = os.path.join(d, "de-server.service")
        with open(copy, "w") as f:
            f.write(re.sub(r"^ExecStart=\S+", f"ExecStart={DE_SERVER}", unit_text, flags=re.M))
        r = subprocess.run([analyze, "verify", "--man=no", copy], capture_output=True, text=True,
                           timeout=30)
        complaints = [ln for ln in (r.stdout + r.stderr).splitlines() if "de-server.service" in ln]
        check(r.returncode == 0 and not complaints, "systemd-analyze verify de-server.service",
              "\n".join(complaints) or r.stderr[-2000:])
else:
    print("note: no systemd-analyze here; the unit was checked by the parser only",
          file=sys.stderr)

# ---------------------------------------------------------------- the real binary

# Every DE_SERVER_<FLAG> named in deploy/ is --<flag> in de-server's help.
help_text = subprocess.run([DE_SERVER, "--help"], capture_output=True, text=True).stdout
named = set()
for path in glob.glob(os.path.join(DEPLOY, "**", "*"), recursive=True):
    if os.path.isfile(path):
        named |= set(re.findall(r"\bDE_SERVER_[A-Z0-9_]*[A-Z0-9]", read(path)))
check({"DE_SERVER_ROOT", "DE_SERVER_LISTEN", "DE_SERVER_TLS_CERT"} <= named,
      "deploy/ names the variables it sets", repr(sorted(named)))
for var in sorted(named):
    flag = "--" + var[len("DE_SERVER_"):].lower().replace("_", "-")
    check(re.search(rf"(^|[\s,]){re.escape(flag)}(?![\w-])", help_text, re.M) is not None,
          f"{var} is a de-server flag ({flag} in --help)")


def start_from_env(env_vars, what):
    """de-server with no arguments, configured by env_vars alone (root and listen address
    replaced by a temporary folder and 127.0.0.1:0; TLS left out): does it start?"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DE_SERVER_")}
    env.update({k: v for k, v in env_vars.items() if not k.startswith("DE_SERVER_TLS_")})
    with tempfile.TemporaryDirectory(prefix="de-deploy.") as d:
        env["DE_SERVER_ROOT"] = os.path.join(d, "root")
        env["DE_SERVER_LISTEN"] = "127.0.0.1:0"
        p = subprocess.Popen([DE_SERVER], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        line = p.stdout.readline().decode()
        started = line.startswith("listening on http://")
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        err = p.stderr.read().decode(errors="replace")
        check(started, f"de-server starts from {what}'s environment alone", f"{line!r} {err[-500:]}")
        if started:
            eq(p.returncode, 0, f"de-server from {what}'s environment exits 0 on SIGTERM")


start_from_env(cf_env, "the Containerfile")
if base:
    start_from_env(base["env"], "deploy/k8s/base")
start_from_env(unit_env, "de-server.service")

# The probe and metrics paths of the manifest answer 200, without credentials.
server = None
try:
    server = Server()
    paths = [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")]
    if base:
        paths = [(name, base["container"].get(name, {}).get("httpGet", {}).get("path", want))
                 for name, want in paths]
        paths.append(("prometheus.io/path", base["ann"].get("prometheus.io/path", "/metrics")))
    for what, path in paths:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read().decode(errors="replace")
        conn.close()
        eq(r.status, 200, f"GET {path} ({what}) without credentials")
        if what.startswith("prometheus"):
            check(re.search(r"^[A-Za-z_:][\w:]*(\{[^}]*\})? \S+", body, re.M) is not None,
                  f"GET {path} is Prometheus text", repr(body[:200]))
except RuntimeError as e:
    check(False, "de-server starts", str(e))
finally:
    if server:
        server.close()

# ---------------------------------------------------------------- Debian 12's packages

out, err = apt_proc.communicate(timeout=120)
info = {}
for para in out.split("\n\n"):
    fields = dict(re.findall(r"^([\w-]+): (.*)$", para, re.M))
    if "Package" in fields:
        info[fields["Package"]] = fields
for p in runtime_pkgs:
    check(p in info, f"runtime package {p} is in Debian 12's apt cache", err.strip()[-300:])


def depends(pkg):
    text = info.get(pkg, {}).get("Depends", "") + ", " + info.get(pkg, {}).get("Pre-Depends", "")
    return {re.split(r"[\s(:]", alt.strip())[0] for dep in text.split(",")
            for alt in dep.split("|") if alt.strip()}


# A linked library comes from a package the runtime stage installs, one of their direct
# dependencies, or the base image (apt and what apt depends on: libc6, libstdc++6, ...).
provided = set(runtime_pkgs) | {"apt"} | depends("apt")
for p in runtime_pkgs:
    provided |= depends(p)
for soname, pkg in sorted(needed.items()):
    if not pkg:
        continue
    fields = dpkg_fields.get(pkg, {})
    ok = pkg in provided or fields.get("Essential") == "yes" or fields.get("Priority") == "required"
    check(ok, f"the image holds {soname} (package {pkg})", f"runtime packages: {runtime_pkgs}")

finish()

#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install, build, start a local
# de-server on a temporary root, create a user, log in, create the example app,
# enable its mount, run its predeploy step, upload the dataset, show the mount,
# download everything back and verify it, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
DE_CLI=$PWD/${BUILD_DIR:-build}/cli/de-cli
DE_SERVER=$PWD/${BUILD_DIR:-build}/server/de-server

work=$(mktemp -d "${TMPDIR:-/tmp}/de-demo.XXXXXX")
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
# Keep the demo's login out of the user's own keyfile.
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache"
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "start de-server on a temporary root (free loopback port)"
"$DE_SERVER" --root "$work/root" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/server.out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$work/server.out")
[[ -n "$url" ]] || { cat "$work/server.log" >&2; exit 1; }
echo "de-server at $url"

step "create a user and log in"
key=$("$DE_SERVER" --root "$work/root" user add demo)
printf '%s\n' "$key" | "$DE_CLI" login --host "$url" --username demo --password-stdin
"$DE_CLI" whoami

step "create the example app and enable its persistent filesystem"
cp -r examples/my-project "$work/my-project"
cd "$work/my-project/app"
"$DE_CLI" apps create -n my-project
"$DE_CLI" mount enable -n my-project

step "run the app's predeploy step locally (fills ../mount)"
"$DE_CLI" predeploy .

step "upload the dataset"
"$DE_CLI" upload -r ../mount/data / -n my-project

step "mount status and listing"
"$DE_CLI" mount status -n my-project
"$DE_CLI" ls -l -R -n my-project

step "download everything back and verify"
"$DE_CLI" download -r data "$work/downloaded" -n my-project
diff -r ../mount/data "$work/downloaded"
(cd ../mount/data && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$work/local.sha"
(cd "$work/downloaded" && sha256sum -c --quiet "$work/local.sha")
echo "verified: $(wc -l <"$work/local.sha") files identical (SHA-256)"

step "stop de-server"
kill "$server_pid" && wait "$server_pid" || true
server_pid=""
echo "done"

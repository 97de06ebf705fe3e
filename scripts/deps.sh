#!/usr/bin/env bash
# Installs what building and testing de-cli needs on Debian 12, from Debian's
# packages only. Safe to run again. clang-16 (with its sanitizer runtimes)
# builds the sanitizer build of scripts/test.sh; stress-ng is the
# load of scripts/stress-test.sh; tmux drives the TTY tests (prompts, completion,
# colour); python3-jsonschema validates every command's --json output; nginx with
# its WebDAV module and GNU time are the peers and meters of bench/ (smoke-tested);
# expat parses de-server's WebDAV request XML, and litmus, cadaver, rclone and
# davfs2 with fuse3 are the WebDAV clients of the interop tests (test_dav_*);
# python3-yaml reads deploy/k8s in test_deploy_manifests; the openssl CLI makes the
# throwaway CA of test_server_tls.
#
# DE_DEPS=build installs only what building de-server and de-cli needs (no tests:
# configure with -DDE_BUILD_TESTS=OFF), and no Node.js: deploy/Containerfile's build
# stage. Unset (the default) it installs everything below.
set -euo pipefail
SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO=sudo; fi
BUILD_PACKAGES=(
    build-essential cmake ninja-build pkg-config
    libcli11-dev libcurl4-openssl-dev nlohmann-json3-dev libfmt-dev libtomlplusplus-dev
    libssl-dev libboost-dev libisal-dev libexpat1-dev
)
PACKAGES=(
    "${BUILD_PACKAGES[@]}" git ca-certificates doctest-dev
    curl python3 procps python3-yaml openssl
    clang-16 libclang-rt-16-dev stress-ng tmux python3-jsonschema
    mandoc man-db groff-base bash-completion zsh fish
    nginx libnginx-mod-http-dav-ext time
    litmus cadaver rclone davfs2 fuse3
)
case "${DE_DEPS:-all}" in
    all) ;;
    build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
    *) echo "deps: DE_DEPS must be 'all' or 'build', not '${DE_DEPS}'" >&2; exit 2 ;;
esac
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    # nginx is a peer the benches start on their own ports: its package must not
    # start the system service (port 80) while installing. policy-rc.d says so to
    # invoke-rc.d, for this install only.
    policy=/usr/sbin/policy-rc.d
    placed=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        placed=1
    fi
    # davfs2 asks (debconf) whether to make mount.davfs setuid for ordinary users:
    # noninteractive takes the default, no (the tests mount as root).
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if ((placed)); then $SUDO rm -f "$policy"; fi
fi
[[ ${DE_DEPS:-all} == build ]] && exit 0

# Node.js for the tus-js-client interop test (tests/interop). Debian's nodejs/npm only when
# `node` or `npm` is missing: a node from elsewhere (e.g. a Debian-format nodesource package,
# which carries its own npm) stays as it is.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "deps: installing nodejs npm" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# tests/interop/node_modules from the committed package-lock.json (npm ci), again only when the
# lock file changed. Without the registry this warns and goes on: the interop test then fails
# and says why.
interop="$(cd "$(dirname "$0")/.." && pwd)/tests/interop"
lock_sum=$(sha256sum "$interop/package-lock.json" | cut -d' ' -f1)
if [[ "$(cat "$interop/node_modules/.de-lock-sha256" 2>/dev/null)" != "$lock_sum" ]]; then
    echo "deps: npm ci in tests/interop" >&2
    if (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
        echo "$lock_sum" >"$interop/node_modules/.de-lock-sha256"
    else
        echo "deps: WARNING: npm ci failed in tests/interop; test_tus_js_client will fail" >&2
    fi
fi

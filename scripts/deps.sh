#!/usr/bin/env bash
# Installs what building and testing de-cli needs on Debian 12, from Debian's
# packages only. Safe to run again.
set -euo pipefail
SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO=sudo; fi
PACKAGES=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    libcli11-dev libcurl4-openssl-dev nlohmann-json3-dev libfmt-dev libtomlplusplus-dev
    doctest-dev libssl-dev libboost-dev
    curl python3 procps
    mandoc man-db groff-base bash-completion zsh fish
)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

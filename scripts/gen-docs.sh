#!/usr/bin/env bash
# Regenerates the committed man pages (man/) and shell completions
# (completions/) from the built binaries: both come from the binaries' own
# command trees (`de-cli man`, `de-cli completion SHELL`, `de-server man`), so
# rerun this whenever a command, option or help text changes, and commit the
# result. tests/integration/test_docs_drift.sh fails while they differ.
#
#   scripts/gen-docs.sh [BUILD_DIR]      (default: $BUILD_DIR, else build)
#
# DE_CLI / DE_SERVER override the binaries; DE_DOCS_OUT writes the files under
# another folder instead of the source tree (the drift test uses it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD_DIR:-$root/build}}
cli=${DE_CLI:-$build/cli/de-cli}
server=${DE_SERVER:-$build/server/de-server}
out=${DE_DOCS_OUT:-$root}

[[ -x $cli ]] || { echo "gen-docs: no de-cli at $cli (build first, or set DE_CLI)" >&2; exit 1; }
mkdir -p "$out/man" "$out/completions"

# Write through a temporary file so a failing generator never leaves a torn file.
gen() {
    local dest=$1
    shift
    "$@" >"$dest.tmp"
    mv "$dest.tmp" "$dest"
}

# A fixed locale and no user settings: the output must not depend on who runs it.
export LC_ALL=C
unset DASH_ENTERPRISE_HOST DASH_ENTERPRISE_USERNAME DASH_ENTERPRISE_PASSWORD

gen "$out/man/de-cli.1" "$cli" man
gen "$out/completions/de-cli.bash" "$cli" completion bash
gen "$out/completions/_de-cli" "$cli" completion zsh
gen "$out/completions/de-cli.fish" "$cli" completion fish

if [[ -x $server ]] && "$server" man >"$out/man/de-server.1.tmp" 2>/dev/null \
    && grep -q '^\.TH' "$out/man/de-server.1.tmp"; then
    mv "$out/man/de-server.1.tmp" "$out/man/de-server.1"
else
    rm -f "$out/man/de-server.1.tmp"
    echo "gen-docs: warning: $server has no 'man' command; man/de-server.1 not generated" >&2
fi
echo "gen-docs: wrote $out/man and $out/completions" >&2

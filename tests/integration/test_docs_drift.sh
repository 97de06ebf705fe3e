#!/usr/bin/env bash
# The committed man pages and completion scripts must be exactly what the
# binaries generate now: regenerate into a temp folder and compare. On a
# difference, run scripts/gen-docs.sh and commit man/ and completions/.
source "$(dirname "$0")/harness.sh"

gen="$T/gen"
run env DE_CLI="$DE_CLI" DE_SERVER="$DE_SERVER" DE_DOCS_OUT="$gen" \
    bash "$DE_SOURCE_DIR/scripts/gen-docs.sh"
assert_eq "$RC" 0 "scripts/gen-docs.sh failed"

for f in man/de-cli.1 completions/de-cli.bash completions/_de-cli completions/de-cli.fish; do
    CHECKS=$((CHECKS + 1))
    if [[ ! -f "$DE_SOURCE_DIR/$f" ]]; then
        fail "$f is not committed; run scripts/gen-docs.sh and commit it"
    elif ! diff -u "$DE_SOURCE_DIR/$f" "$gen/$f" >"$T/diff"; then
        fail "$f differs from what the binary generates; run scripts/gen-docs.sh and commit it"
        head -n 40 "$T/diff" >&2
    fi
done

# de-server.1: compared once de-server can print it; never silently dropped.
CHECKS=$((CHECKS + 1))
if [[ -f "$gen/man/de-server.1" ]]; then
    if [[ ! -f "$DE_SOURCE_DIR/man/de-server.1" ]]; then
        fail "man/de-server.1 is not committed; run scripts/gen-docs.sh and commit it"
    elif ! diff -u "$DE_SOURCE_DIR/man/de-server.1" "$gen/man/de-server.1" >"$T/diff"; then
        fail "man/de-server.1 differs from \`de-server man\`; run scripts/gen-docs.sh"
        head -n 40 "$T/diff" >&2
    fi
elif [[ -f "$DE_SOURCE_DIR/man/de-server.1" ]]; then
    fail "man/de-server.1 is committed but \`de-server man\` no longer prints it"
else
    echo "note: de-server has no 'man' command yet; de-server.1 not checked" >&2
fi

# Generating twice gives the same bytes (no clock, no environment).
run env DE_CLI="$DE_CLI" DE_SERVER="$DE_SERVER" DE_DOCS_OUT="$T/again" HOME=/nonexistent \
    DASH_ENTERPRISE_HOST=http://elsewhere.example bash "$DE_SOURCE_DIR/scripts/gen-docs.sh"
run diff -r "$gen" "$T/again"
assert_eq "$RC" 0 "generated docs depend on the environment: $OUT"

finish

#!/usr/bin/env bash
# Man pages lint clean (mandoc at warning level, groff -ww), say what the issue
# asks for, and `cmake --install` puts pages and completions where Debian
# looks for them; the installed page renders with `man -l`.
source "$(dirname "$0")/harness.sh"

pages=("$DE_SOURCE_DIR/man/de-cli.1")
[[ -f "$DE_SOURCE_DIR/man/de-server.1" ]] && pages+=("$DE_SOURCE_DIR/man/de-server.1")
"$DE_CLI" man >"$T/de-cli.1"
pages+=("$T/de-cli.1")
if "$DE_SERVER" man >"$T/de-server.1" 2>/dev/null && grep -q '^\.TH' "$T/de-server.1"; then
    pages+=("$T/de-server.1")
fi

for page in "${pages[@]}"; do
    run mandoc -T lint -W warning "$page"
    assert_eq "$RC" 0 "mandoc -T lint -W warning $page: $OUT $ERR"
    run groff -ww -z -man "$page"
    assert_eq "$ERR" "" "groff -ww -z $page"
    assert_eq "$RC" 0 "groff -ww -z $page"
done

# What de-cli.1 must hold: every visible command, the sections, the exit codes.
page=$(cat "$T/de-cli.1")
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" ENVIRONMENT FILES \
    EXAMPLES; do
    assert_contains "$page" ".SH $section" "section $section"
done
for var in DASH_ENTERPRISE_HOST DASH_ENTERPRISE_USERNAME DASH_ENTERPRISE_PASSWORD \
    XDG_CONFIG_HOME; do
    assert_contains "$page" "$var"
done
assert_contains "$page" "de\\-cli/keyfile" "keyfile path in FILES"
assert_contains "$page" $'.TP\n130\n' "exit code 130 in EXIT STATUS"
assert_not_contains "$page" "__complete" "hidden command in the man page"
for cmd in login logout whoami "apps list" "apps create" "mount enable" "mount disable" \
    "mount status" upload download ls cat rm mv mkdir "sync push" "sync pull" predeploy \
    completion; do
    assert_contains "$page" ".SS \"de\\-cli ${cmd}\"" "command $cmd in de-cli.1"
done
assert_contains "$page" '$ de\-cli mount' "examples"

# Install the docs component into a DESTDIR, as a package build would.
dest="$T/dest"
run env DESTDIR="$dest" cmake --install "$DE_BUILD_DIR" --prefix /usr --component docs
assert_eq "$RC" 0 "cmake --install --component docs: $ERR"
for f in usr/share/man/man1/de-cli.1 usr/share/bash-completion/completions/de-cli \
    usr/share/zsh/site-functions/_de-cli usr/share/fish/vendor_completions.d/de-cli.fish; do
    CHECKS=$((CHECKS + 1))
    [[ -f "$dest/$f" ]] || fail "not installed: /$f"
done
run cmp "$dest/usr/share/bash-completion/completions/de-cli" \
    "$DE_SOURCE_DIR/completions/de-cli.bash"
assert_eq "$RC" 0 "installed bash completion is the committed one"

run env MANWIDTH=80 man -l "$dest/usr/share/man/man1/de-cli.1"
assert_eq "$RC" 0 "man -l the installed page: $ERR"
assert_contains "$OUT" "EXIT STATUS"
assert_contains "$OUT" "de-cli mount enable"
assert_contains "$OUT" "DASH_ENTERPRISE_HOST"

# The whole install: binaries too.
run env DESTDIR="$T/full" cmake --install "$DE_BUILD_DIR" --prefix /usr
assert_eq "$RC" 0 "cmake --install: $ERR"
for f in usr/bin/de-cli usr/bin/de-server usr/share/man/man1/de-cli.1; do
    CHECKS=$((CHECKS + 1))
    [[ -e "$T/full/$f" ]] || fail "not installed: /$f"
done

finish

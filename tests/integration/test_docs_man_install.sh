#!/usr/bin/env bash
# `man de-cli` finds the page after a plain install: `cmake --install --prefix P`
# puts it in P/share/man/man1, which man-db searches both through MANPATH and,
# with MANPATH unset, through P/bin on PATH (its ../share/man rule); the
# completions land in each shell's standard folder under P/share. Needs man-db
# (fails, not skips, without it).
source "$(dirname "$0")/harness.sh"

command -v man >/dev/null || fail "man is not installed (Debian: man-db)"
P="$T/prefix"
run cmake --install "$DE_BUILD_DIR" --prefix "$P"
assert_eq "$RC" 0 "cmake --install --prefix: $ERR"
for f in bin/de-cli share/man/man1/de-cli.1 share/bash-completion/completions/de-cli \
    share/zsh/site-functions/_de-cli share/fish/vendor_completions.d/de-cli.fish; do
    CHECKS=$((CHECKS + 1))
    [[ -f "$P/$f" ]] || fail "not installed: P/$f"
done

run env MANPATH="$P/share/man" man -w de-cli
assert_eq "$RC:$OUT" "0:$P/share/man/man1/de-cli.1" "MANPATH=P/share/man man -w de-cli"
# The plain set-up: only P/bin on PATH, no MANPATH.
run env -u MANPATH PATH="$P/bin:$PATH" man -w de-cli
assert_eq "$RC:$OUT" "0:$P/share/man/man1/de-cli.1" "PATH=P/bin man -w de-cli"
run env MANPATH="$P/share/man" MANWIDTH=80 man de-cli
assert_eq "$RC" 0 "man de-cli renders: $ERR"
assert_contains "$OUT" "de-cli mount enable"

finish

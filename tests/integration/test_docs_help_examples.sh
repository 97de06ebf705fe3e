#!/usr/bin/env bash
# Every visible command's --help shows one to three `$ de-cli ...` examples
# (the convention the man page's EXAMPLES section is collected from). The
# command list comes from the generated man page, so a new command is checked
# without touching this test.
source "$(dirname "$0")/harness.sh"

"$DE_CLI" man >"$T/de-cli.1"
mapfile -t commands < <(sed -n 's/^\.SS "de\\-cli \(.*\)"$/\1/p' "$T/de-cli.1" | sed 's/\\-/-/g')
CHECKS=$((CHECKS + 1))
((${#commands[@]} >= 20)) || fail "only ${#commands[@]} commands found in de-cli.1"

for cmd in "${commands[@]}"; do
    # shellcheck disable=SC2086 # the command path is words
    run "$DE_CLI" $cmd --help
    assert_eq "$RC" 0 "de-cli $cmd --help"
    n=$(grep -cE '^[[:space:]]*\$ de-cli( |$)' <<<"$OUT" || true)
    CHECKS=$((CHECKS + 1))
    ((n >= 1 && n <= 3)) || fail "de-cli $cmd --help shows $n examples, want 1 to 3"
done

finish

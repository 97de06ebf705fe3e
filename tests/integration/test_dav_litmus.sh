#!/usr/bin/env bash
# litmus (Debian's `litmus`, the WebDAV server test suite) against de-server's
# WebDAV: the basic, copymove, props, locks and http suites must all pass, with
# no test failed. Warnings are printed (the closing note of issue 16 lists them).
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/dav_helpers.sh"
command -v litmus >/dev/null || { echo "FAIL: litmus is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

dav_setup
dav MKCOL /litmus/
assert_eq "$CODE" "201" "MKCOL /litmus/"

for suite in basic copymove props locks http; do
    set +e
    # In $T: litmus writes debug.log and child.log into its working folder.
    (cd "$T" && TESTS=$suite litmus "$DAV/litmus/" alice "$KEY") >"$T/litmus.$suite" 2>&1
    rc=$?
    set -e
    summary=$(grep -a "summary for \`$suite'" "$T/litmus.$suite" || true)
    echo "litmus $suite: ${summary#*: }"
    grep -a "WARNING" "$T/litmus.$suite" | sed "s/^/  $suite /" || true
    CHECKS=$((CHECKS + 1))
    if [[ $rc != 0 || "$summary" != *" 0 failed."* ]]; then
        fail "litmus $suite: exit $rc"
        grep -a -E "FAIL|ERROR|\.\.\. " "$T/litmus.$suite" | grep -v "pass$" | head -40 >&2 || true
    fi
done
finish

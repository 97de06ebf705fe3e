# Sourced by the integration tests. Starts a real de-server on an ephemeral
# loopback port with a temporary root, gives the test a private HOME and XDG
# folders, and offers small assertion helpers. Everything is removed on exit.
set -euo pipefail

: "${DE_CLI:?DE_CLI must point at the de-cli binary}"
: "${DE_SERVER:?DE_SERVER must point at the de-server binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/de-it.XXXXXX")
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_STATE_HOME="$T/home/.local/state" \
       XDG_CACHE_HOME="$T/home/.cache"
mkdir -p "$HOME"
unset DASH_ENTERPRISE_HOST DASH_ENTERPRISE_USERNAME DASH_ENTERPRISE_PASSWORD
SERVER_PID=""
SERVER_ROOT="$T/root"
FAILURES=0
CHECKS=0

cleanup() {
    local rc=$?
    stop_server
    # A sanitizer build (tests/CMakeLists.txt): a report of de-server or of any de-cli
    # this test ran fails it, also one from a run whose failure the test expected.
    local log_path
    log_path=$(tr ':' '\n' <<<"${ASAN_OPTIONS:-}" | sed -n 's/^log_path=//p')
    if [[ -n "$log_path" ]] && compgen -G "$log_path.*" >/dev/null; then
        local f
        for f in "$log_path".*; do
            echo "== sanitizer report $f:" >&2
            cat "$f" >&2
        done
        echo "FAIL: sanitizer reports (above)" >&2
        rc=1
    fi
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT

# wait_listening OUT PID ERR: until de-server PID prints its "listening on URL" line into OUT;
# prints URL. Fails (with ERR's content) when it exits first or takes 10 s.
wait_listening() {
    local out=$1 pid=$2 err=$3 _
    for _ in $(seq 1 200); do
        if grep -q '^listening on ' "$out"; then
            sed -n 's/^listening on //p' "$out" | head -n1
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "de-server did not start:" >&2
    cat "$err" >&2
    return 1
}

# start_server [extra de-server args...]: sets SERVER_URL and SERVER_PID.
start_server() {
    mkdir -p "$SERVER_ROOT"
    local out="$T/server.out"
    : >"$out"
    "$DE_SERVER" --root "$SERVER_ROOT" --listen 127.0.0.1:0 "$@" >"$out" 2>"$T/server.err" &
    SERVER_PID=$!
    SERVER_URL=$(wait_listening "$out" "$SERVER_PID" "$T/server.err") || return 1
    export SERVER_URL
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        local st=0
        wait "$SERVER_PID" 2>/dev/null || st=$?
        SERVER_PID=""
        if ((st == 86)); then  # a sanitizer build's report (tests/CMakeLists.txt)
            echo "FAIL: de-server exited 86, a sanitizer report; its stderr:" >&2
            tail -c 4000 "$T/server.err" >&2 || true
            FAILURES=$((FAILURES + 1))
        fi
    fi
}

# add_user NAME: prints the new user's API key.
add_user() { "$DE_SERVER" --root "$SERVER_ROOT" user add "$1"; }

# wait_sigint_handler PID: until the process catches SIGINT (SigCgt bit 2).
# A background job of a non-interactive shell starts with SIGINT ignored, so a
# Ctrl-C sent before de-cli installs its handler would be lost.
wait_sigint_handler() {
    local i mask
    for i in $(seq 1 200); do
        mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
        [[ -n "$mask" ]] || return 1
        (((16#$mask >> 1) & 1)) && return 0
        sleep 0.05
    done
    return 1
}

# run CMD...: runs a command, capturing OUT, ERR and RC (never aborts the test).
run() {
    set +e
    "$@" >"$T/run.out" 2>"$T/run.err"
    RC=$?
    set -e
    OUT=$(cat "$T/run.out")
    ERR=$(cat "$T/run.err")
}

fail() {
    FAILURES=$((FAILURES + 1))
    echo "FAIL: $*" >&2
    if [[ -n "${OUT-}${ERR-}" ]]; then
        echo "  last stdout: ${OUT-}" | head -c 2000 >&2
        echo >&2
        echo "  last stderr: ${ERR-}" | head -c 2000 >&2
        echo >&2
    fi
}

# expect_rc CODE CMD...: runs CMD and checks its exit code.
expect_rc() {
    local want=$1
    shift
    CHECKS=$((CHECKS + 1))
    run "$@"
    [[ "$RC" == "$want" ]] || fail "expected exit $want, got $RC: $*"
}

assert_eq() {
    CHECKS=$((CHECKS + 1))
    [[ "$1" == "$2" ]] || fail "${3:-values differ}: got '$1', want '$2'"
}

assert_contains() {
    CHECKS=$((CHECKS + 1))
    [[ "$1" == *"$2"* ]] || fail "${3:-missing text}: '$2' not in '$(head -c 500 <<<"$1")'"
}

assert_not_contains() {
    CHECKS=$((CHECKS + 1))
    [[ "$1" != *"$2"* ]] || fail "${3:-unexpected text}: '$2' found"
}

# finish: prints the plain closing line and exits non-zero on any failure.
finish() {
    local passed=$((CHECKS - FAILURES))
    echo "$(basename "$0"): $passed passed, $FAILURES failed"
    [[ "$FAILURES" == 0 ]]
}

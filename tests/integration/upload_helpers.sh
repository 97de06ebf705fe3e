# Sourced by tests/integration/test_upload_*.sh after harness.sh: an app with
# its mount enabled, and ways to watch a resumable upload from outside the
# client (its resume journal, and the server's own HEAD answer).
#
# Test-only knobs of de-cli that these tests use (read into libde's TestHooks
# by cli/test_hooks.cpp, in DE_TEST_HOOKS builds only):
#   DE_CLI_RESUMABLE_THRESHOLD=SIZE  resumable uploads from this size on
#   DE_CLI_PART_SIZE=SIZE            part size of resumable uploads
#   DE_CLI_TEST_SLOW_UPLOAD=BPS      bytes/s per PATCH connection
#   DE_CLI_TEST_CORRUPT_PART=K       first attempt of part K carries a wrong body

JOURNALS="$XDG_STATE_HOME/de-cli/uploads"
export DE_CLI_RESUMABLE_THRESHOLD=1MiB DE_CLI_PART_SIZE=1MiB

# setup_app: user alice logged in, app sales with its mount on; sets KEY, MOUNT.
setup_app() {
    KEY=$(add_user alice)
    printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
    "$DE_CLI" apps create -n sales -q
    "$DE_CLI" mount enable -n sales -q
    MOUNT="$SERVER_ROOT/apps/sales/mount"
}

# journal_count: how many uploads are in flight according to the journal folder.
journal_count() {
    if [[ -d "$JOURNALS" ]]; then find "$JOURNALS" -name '*.json' | wc -l; else echo 0; fi
}

# journal_url: the upload URL of the (one) journal entry, or nothing.
journal_url() {
    [[ -d "$JOURNALS" ]] || return 0
    python3 - "$JOURNALS" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    try:
        print(json.load(open(f))["upload_url"])
        break
    except Exception:
        pass
PY
}

# parts_done URL: how many parts the server lists as complete (HEAD), -1 on failure.
parts_done() {
    curl -sS -o /dev/null -D - -I -u "alice:$KEY" -H 'Tus-Resumable: 1.0.0' "$1" 2>/dev/null |
        python3 -c '
import sys
done = -1
for line in sys.stdin:
    name, _, value = line.partition(":")
    if name.strip().lower() == "upload-parts-done":
        done = 0
        for item in filter(None, (x.strip() for x in value.strip().split(","))):
            a, _, b = item.partition("-")
            done += int(b or a) - int(a) + 1
print(done)'
}

# wait_parts N [SECONDS]: waits until the journal's upload has at least N parts
# on the server; fails the test (and returns 1) after SECONDS (default 30).
wait_parts() {
    local want=$1 limit=${2:-30} url="" n=-1 i
    for i in $(seq 1 $((limit * 10))); do
        [[ -n "$url" ]] || url=$(journal_url)
        if [[ -n "$url" ]]; then
            n=$(parts_done "$url")
            ((n >= want)) && return 0
        fi
        sleep 0.1
    done
    fail "the upload did not reach $want parts on the server in ${limit}s (url '$url', parts $n)"
    return 1
}

# sha FILE: lower-case hex SHA-256.
sha() { sha256sum "$1" | cut -d' ' -f1; }

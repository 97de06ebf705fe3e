#!/usr/bin/env bash
# A resumed upload trusts nothing in the server's HEAD answer (issue 18): a
# part size of 1 byte (Upload-Parts: 1) for a file of many MiB would make the
# client's part table as large as the file in bits and send it a byte per
# PATCH. The client must take it as "not the upload I made": notice, terminate
# it, and start over on a fresh upload — which then completes normally.
source "$(dirname "$0")/harness.sh"
source "$(dirname "$0")/upload_helpers.sh"

start_server
setup_app

# An interrupted upload leaves a journal with the upload's URL.
head -c $((4 << 20)) /dev/urandom >"$T/big.bin"
DE_CLI_TEST_SLOW_UPLOAD=300000 "$DE_CLI" upload "$T/big.bin" /big.bin -n sales -q \
    >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
for _ in $(seq 1 200); do
    [[ -n "$(journal_url)" ]] && break
    sleep 0.05
done
kill -9 "$BG" 2>/dev/null || true
wait "$BG" 2>/dev/null || true
[[ -n "$(journal_url)" ]] || fail "no journal after the kill"

# The journal now points at a hostile server: its HEAD says the part size is 1.
PORT_FILE="$T/hostile.port"
python3 - "$PORT_FILE" "$(stat -c %s "$T/big.bin")" >"$T/hostile.log" 2>&1 <<'PY' &
import http.server, sys
port_file, size = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Tus-Resumable", "1.0.0")
        self.send_header("Upload-Length", size)
        self.send_header("Upload-Offset", "0")
        self.send_header("Upload-Parts", "1")
        self.send_header("Upload-Parts-Done", "")
        self.send_header("X-De-Server", "1")
        self.end_headers()
        print("HEAD", self.path, flush=True)
    def do_DELETE(self):
        self.send_response(204)
        self.end_headers()
        print("DELETE", self.path, flush=True)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
HOSTILE=$!
for _ in $(seq 1 100); do [[ -s "$PORT_FILE" ]] && break; sleep 0.05; done
python3 - "$JOURNALS" "http://127.0.0.1:$(cat "$PORT_FILE")/uploads/hostile" <<'PY'
import glob, json, sys
(f,) = glob.glob(sys.argv[1] + "/*.json")
j = json.load(open(f))
j["upload_url"] = sys.argv[2]
json.dump(j, open(f, "w"))
PY

expect_rc 0 timeout 60 "$DE_CLI" upload "$T/big.bin" /big.bin -n sales
assert_contains "$ERR" "does not match it; starting over"
assert_contains "$(cat "$T/hostile.log")" "HEAD /uploads/hostile"
cmp "$T/big.bin" "$MOUNT/big.bin" || fail "the fresh upload did not store the file"
assert_eq "$(journal_count)" "0" "no journal left"
kill "$HOSTILE" 2>/dev/null || true
finish

#!/usr/bin/env bash
# One 2 GiB file, uploaded with `curl -T` to de-server and to nginx's WebDAV
# module (dav_methods PUT), in one run on loopback. Prints time and throughput
# for each, and de-server's peak RSS (VmHWM) over its upload.
#
#   bench/upload_vs_nginx.sh            # DE_SERVER defaults to build/server/de-server
#   SIZE_MIB=512 DE_SERVER=build-x/server/de-server bench/upload_vs_nginx.sh
#
# What each side does with the bytes differs, and the figures should be read so:
# de-server hashes (SHA-256) while it writes, fsyncs the file and its folder and
# renames it into place; nginx writes a temp file and renames it, without fsync.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
DE_SERVER=${DE_SERVER:-$here/../build/server/de-server}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
SIZE_MIB=${SIZE_MIB:-2048}
[[ -x $DE_SERVER ]] || { echo "de-server not found at $DE_SERVER (set DE_SERVER)" >&2; exit 2; }
[[ -x $NGINX ]] || { echo "nginx not found (apt-get install nginx-light)" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/de-bench-upload.XXXXXX")
DE_PID="" NG_PID=""
cleanup() {
    [[ -n $DE_PID ]] && kill "$DE_PID" 2>/dev/null && wait "$DE_PID" 2>/dev/null || true
    [[ -n $NG_PID ]] && kill "$NG_PID" 2>/dev/null && wait "$NG_PID" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "creating a ${SIZE_MIB} MiB file of random bytes..." >&2
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$T/big.bin"
BYTES=$(stat -c %s "$T/big.bin")
SHA=$(python3 -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$T/big.bin")

# ---- de-server ----------------------------------------------------------------------------
"$DE_SERVER" --root "$T/de-root" --listen 127.0.0.1:0 >"$T/de.out" 2>"$T/de.err" &
DE_PID=$!
for _ in $(seq 1 200); do grep -q '^listening on ' "$T/de.out" && break; sleep 0.05; done
DE_URL=$(sed -n 's/^listening on //p' "$T/de.out")
KEY=$("$DE_SERVER" --root "$T/de-root" user add bench)
curl -sS -f -u "bench:$KEY" -H 'Content-Type: application/json' -d '{"name":"bench"}' \
    "$DE_URL/api/v1/apps" -o /dev/null
curl -sS -f -u "bench:$KEY" -X PUT "$DE_URL/api/v1/apps/bench/mount" -o /dev/null
RSS_BEFORE=$(awk '/VmHWM/ {print $2}' "/proc/$DE_PID/status")
sync
read -r DE_TIME DE_CODE < <(curl -sS -u "bench:$KEY" -T "$T/big.bin" \
    "$DE_URL/api/v1/apps/bench/mount/files/big.bin" -o "$T/de.resp" \
    -w '%{time_total} %{http_code}\n')
RSS_PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$DE_PID/status")
[[ $DE_CODE == 201 ]] || { echo "de-server upload failed: $DE_CODE $(cat "$T/de.resp")" >&2; exit 1; }
grep -q "\"sha256\":\"$SHA\"" "$T/de.resp" || { echo "de-server: hash mismatch" >&2; exit 1; }
kill "$DE_PID"; wait "$DE_PID" 2>/dev/null || true; DE_PID=""
rm -rf "$T/de-root"
sync

# ---- nginx WebDAV --------------------------------------------------------------------------
NG_PORT=$(free_port)
mkdir -p "$T/nginx/root" "$T/nginx/client_body"
chmod 0711 "$T"  # nginx workers may run as nobody: they must reach the root
chmod 0777 "$T/nginx" "$T/nginx/root" "$T/nginx/client_body"
sed -e "s|@PREFIX@|$T/nginx|g" -e "s|@ROOT@|$T/nginx/root|g" -e "s|@PORT@|$NG_PORT|g" \
    "$here/nginx/webdav.conf" >"$T/nginx/nginx.conf"
"$NGINX" -c "$T/nginx/nginx.conf" -p "$T/nginx" 2>"$T/nginx/stderr" &
NG_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$NG_PORT/" && break
    sleep 0.05
done
read -r NG_TIME NG_CODE < <(curl -sS -T "$T/big.bin" "http://127.0.0.1:$NG_PORT/big.bin" \
    -o /dev/null -w '%{time_total} %{http_code}\n')
[[ $NG_CODE == 201 || $NG_CODE == 204 ]] || { echo "nginx upload failed: $NG_CODE" >&2; exit 1; }
[[ $(stat -c %s "$T/nginx/root/big.bin") == "$BYTES" ]] || { echo "nginx: size mismatch" >&2; exit 1; }
# nginx acknowledges before its data is on disk; de-server fsyncs first. The time to
# flush nginx's file afterwards makes the durable comparison.
SYNC_START=$(date +%s.%N)
sync "$T/nginx/root/big.bin"
SYNC_TIME=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" \
    "$SYNC_START" "$(date +%s.%N)")
DE_SPLIT=$(sed -n 's/^upload of [0-9]* bytes: //p' "$T/de.err" | tail -n1)

# ---- report -----------------------------------------------------------------------------
python3 - "$BYTES" "$DE_TIME" "$NG_TIME" "$RSS_BEFORE" "$RSS_PEAK" "$SYNC_TIME" "$DE_SPLIT" <<'PY'
import sys
size, de_t, ng_t, rss0, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sync_t, split = float(sys.argv[6]), sys.argv[7]
print(f"file: {size} bytes ({size / 2**30:.2f} GiB), curl -T over loopback, one run")
print(f"{'target':<22} {'time (s)':>9} {'throughput':>14}")
print(f"{'de-server':<22} {de_t:>9.2f} {size / de_t / 1e9:>10.2f} GB/s")
print(f"{'nginx WebDAV (PUT)':<22} {ng_t:>9.2f} {size / ng_t / 1e9:>10.2f} GB/s")
print(f"{'nginx WebDAV + sync':<22} {ng_t + sync_t:>9.2f} {size / (ng_t + sync_t) / 1e9:>10.2f} GB/s"
      f"   (sync of nginx's file afterwards: {sync_t:.2f} s)")
print(f"de-server / nginx time: {de_t / ng_t:.2f}x; with nginx's sync: {de_t / (ng_t + sync_t):.2f}x")
print(f"de-server's own split: {split}")
print(f"de-server peak RSS (VmHWM): {rss / 1024:.1f} MiB (before the upload: {rss0 / 1024:.1f} MiB)")
PY

#!/usr/bin/env bash
# de-server over HTTPS (--tls-cert/--tls-key): a throwaway CA and a server
# certificate for 127.0.0.1 made with the openssl CLI. de-cli with --ca-path
# end to end (login, app, mount, a batch of small files, a 12 MiB PUT that
# takes the big-body path, list, downloads compared byte for byte, delete);
# de-cli without --ca-path fails as a network error naming TLS (exit 7); curl
# --cacert does a WebDAV PROPFIND and a tus upload; a plain-HTTP request to the
# port fails, is logged once, and the server keeps serving; a client that
# connects and sends nothing is cut after --header-timeout; TLS 1.1 is refused,
# TLS 1.2 works and ALPN says http/1.1; SIGTERM with a TLS connection open
# stops the server at once; wrong flag combinations exit 2 and unusable files
# exit 1 before listening. A few seconds.
source "$(dirname "$0")/harness.sh"

command -v openssl >/dev/null || {
    echo "the openssl CLI is missing (scripts/deps.sh installs it)" >&2
    exit 1
}

# ---- a throwaway CA and a server certificate for 127.0.0.1 (EC P-256: fast) --
P="$T/pki"
mkdir -p "$P"
ossl() { openssl "$@" 2>>"$T/openssl.log" >/dev/null; }
ec_key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
ossl req -x509 "${ec_key[@]}" -keyout "$P/ca.key" -out "$P/ca.pem" -days 2 -subj "/CN=de test CA"
ossl req "${ec_key[@]}" -keyout "$P/server.key" -out "$P/server.csr" -subj "/CN=127.0.0.1"
printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$P/ext"
ossl x509 -req -in "$P/server.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
    -days 2 -extfile "$P/ext" -out "$P/server.pem"
# The chain file: the server's certificate, then the CA (as an intermediate would be).
cat "$P/server.pem" "$P/ca.pem" >"$P/chain.pem"
CA="$P/ca.pem"

# ---- flags: both or neither (2); unusable files stop it before it listens (1) --
# (timeout: a server that listened anyway must not hang the test)
srv() { timeout 10 "$DE_SERVER" --root "$SERVER_ROOT" --listen 127.0.0.1:0 "$@"; }
expect_rc 2 srv --tls-cert "$P/chain.pem"
assert_contains "$ERR" "--tls-cert requires --tls-key"
expect_rc 2 srv --tls-key "$P/server.key"
assert_contains "$ERR" "--tls-key requires --tls-cert"
expect_rc 1 srv --tls-cert "$P/missing.pem" --tls-key "$P/server.key"
assert_contains "$ERR" "--tls-cert $P/missing.pem: cannot read it: No such file or directory"
assert_not_contains "$OUT" "listening on"
expect_rc 1 srv --tls-cert "$P/chain.pem" --tls-key "$P/ca.key"
assert_contains "$ERR" "--tls-key $P/ca.key does not match the certificate"
assert_not_contains "$OUT" "listening on"
expect_rc 1 srv --tls-cert "$P/ext" --tls-key "$P/server.key"
assert_contains "$ERR" "not a PEM certificate"
expect_rc 1 srv --tls-cert "$P/chain.pem" --tls-key "$P/chain.pem"
assert_contains "$ERR" "not an unencrypted PEM private key"

# ---- the HTTPS server ---------------------------------------------------------
start_server --tls-cert "$P/chain.pem" --tls-key "$P/server.key" --header-timeout 1
assert_contains "$SERVER_URL" "https://127.0.0.1:" "the ready line names https"
PORT=${SERVER_URL##*:}
assert_contains "$(cat "$T/server.err")" "TLS: certificate CN=127.0.0.1, valid until"
KEY=$(add_user alice)
C=("$DE_CLI" --host "$SERVER_URL" --ca-path "$CA")

# Without --ca-path the server's certificate is not trusted: a TLS error, exit 7 (network).
expect_rc 7 bash -c "printf '%s' '$KEY' | '$DE_CLI' --host '$SERVER_URL' login -u alice --password-stdin"
assert_contains "$ERR" "TLS with ${SERVER_URL#https://} failed"
assert_contains "$ERR" "--ca-path FILE"

# ---- de-cli end to end ----------------------------------------------------------
expect_rc 0 bash -c "printf '%s' '$KEY' | \"\$@\" login -u alice --password-stdin" _ "${C[@]}"
expect_rc 0 "${C[@]}" whoami
assert_eq "$OUT" "alice"
expect_rc 0 "${C[@]}" apps create -n sales
expect_rc 0 "${C[@]}" mount enable -n sales

mkdir -p "$T/src/small" "$T/back"
for i in 1 2 3; do head -c $((i * 1000 + 7)) /dev/urandom >"$T/src/small/f$i.bin"; done
head -c $((12 * 1024 * 1024 + 4097)) /dev/urandom >"$T/src/big.bin"
expect_rc 0 "${C[@]}" upload -r "$T/src/small" / -n sales  # a batch
expect_rc 0 "${C[@]}" upload "$T/src/big.bin" big.bin -n sales  # one PUT, 4 buffers, O_DIRECT
MOUNT="$SERVER_ROOT/apps/sales/mount"
cmp -s "$T/src/big.bin" "$MOUNT/big.bin" || fail "the 12 MiB upload differs on the server"
cmp -s "$T/src/small/f2.bin" "$MOUNT/small/f2.bin" || fail "a batched file differs on the server"
expect_rc 0 "${C[@]}" ls -R -n sales
assert_contains "$OUT" "big.bin"
assert_contains "$OUT" "f3.bin"
expect_rc 0 "${C[@]}" download big.bin "$T/back/big.bin" -n sales
cmp -s "$T/src/big.bin" "$T/back/big.bin" || fail "the 12 MiB download differs"
expect_rc 0 "${C[@]}" download -r small "$T/back" -n sales
cmp -s "$T/src/small/f1.bin" "$T/back/small/f1.bin" || fail "a downloaded small file differs"
cmp -s "$T/src/small/f3.bin" "$T/back/small/f3.bin" || fail "a downloaded small file differs"
expect_rc 0 "${C[@]}" rm big.bin -n sales
expect_rc 0 "${C[@]}" ls -n sales
assert_not_contains "$OUT" "big.bin"
[[ ! -e "$MOUNT/big.bin" ]] || fail "big.bin is still on the server after rm"

# ---- curl: WebDAV PROPFIND and a tus upload ------------------------------------
CODE=$(curl -sS --cacert "$CA" -u "alice:$KEY" -X PROPFIND -H "Depth: 1" -o "$T/propfind.xml" \
    -w '%{http_code}' "$SERVER_URL/dav/sales/small/") || CODE=000
assert_eq "$CODE" "207" "PROPFIND over TLS"
assert_contains "$(cat "$T/propfind.xml")" "/dav/sales/small/f2.bin"

head -c 300000 /dev/urandom >"$T/tus.bin"
curl -sS --cacert "$CA" -u "alice:$KEY" -X POST -H "Tus-Resumable: 1.0.0" -H "Upload-Length: 300000" \
    -H "Upload-Metadata: path $(printf 'tus.bin' | base64)" -D "$T/tus.headers" -o /dev/null \
    "$SERVER_URL/api/v1/apps/sales/uploads" || true
LOC=$(tr -d '\r' <"$T/tus.headers" | sed -n 's/^[Ll]ocation: //p')
assert_contains "$LOC" "/api/v1/apps/sales/uploads/" "tus creation over TLS"
CODE=$(curl -sS --cacert "$CA" -u "alice:$KEY" -X PATCH -H "Tus-Resumable: 1.0.0" \
    -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" \
    --data-binary "@$T/tus.bin" -o /dev/null -w '%{http_code}' "$SERVER_URL$LOC") || CODE=000
assert_eq "$CODE" "204" "tus PATCH over TLS"
cmp -s "$T/tus.bin" "$MOUNT/tus.bin" || fail "the tus upload differs on the server"

# ---- plain HTTP to the HTTPS port: refused, logged once, the server unharmed ---
run curl -sS -m 5 -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"
CHECKS=$((CHECKS + 1))
((RC != 0)) || fail "a plain-HTTP request to the HTTPS port succeeded"
sleep 0.2
assert_eq "$(grep -c 'TLS handshake failed: http request' "$T/server.err")" "1" \
    "the plain-HTTP request is logged once"
CODE=$(curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' "$SERVER_URL/api/v1/health") || CODE=000
assert_eq "$CODE" "200" "the next HTTPS request is served"

# ---- a client that connects and sends nothing is cut after --header-timeout (1 s) --
started=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
read_rc=0
read -r -t 8 -u 3 _ || read_rc=$?
exec 3<&-
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
CHECKS=$((CHECKS + 1))
((read_rc == 1 && elapsed_ms >= 800 && elapsed_ms < 6000)) ||
    fail "a silent client was not cut after the 1 s handshake timeout (read rc $read_rc, ${elapsed_ms} ms)"
assert_contains "$(cat "$T/server.err")" "TLS handshake timed out"

# ---- protocol versions and ALPN --------------------------------------------------
run openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null
CHECKS=$((CHECKS + 1))
((RC != 0)) || fail "a TLS 1.1 handshake succeeded"
run openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -CAfile "$CA" -verify_return_error \
    -alpn h2,http/1.1 </dev/null
assert_eq "$RC" "0" "a TLS 1.2 handshake with the CA"
assert_contains "$OUT" "ALPN protocol: http/1.1"

# ---- SIGTERM with an idle TLS connection open: the server stops at once, exit 0 --
mkfifo "$T/hold"
openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$CA" <"$T/hold" >/dev/null 2>&1 &
CLIENT_PID=$!
exec 4>"$T/hold"  # the client's stdin stays open: it idles on its connection
sleep 0.5
kill -TERM "$SERVER_PID"
started=$(date +%s%N)
st=0
wait "$SERVER_PID" || st=$?
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
SERVER_PID=""
exec 4>&-
kill "$CLIENT_PID" 2>/dev/null || true
wait "$CLIENT_PID" 2>/dev/null || true
assert_eq "$st" "0" "de-server's exit code after SIGTERM"
CHECKS=$((CHECKS + 1))
((elapsed_ms < 3000)) || fail "SIGTERM with an idle TLS connection took ${elapsed_ms} ms"
assert_contains "$(cat "$T/server.err")" "de-server stopped"

finish

# Sourced by the WebDAV tests (after harness.sh): a server with user alice,
# her app `sales` with its mount on, and the app's WebDAV address.
#   DAV      http://127.0.0.1:PORT/dav/sales   (no trailing slash)
#   KEY      alice's API key (Basic password)
#   MOUNT    the mount on disk
# dav METHOD PATH [curl args...]: a request as alice; sets CODE, BODY (and the
# response headers in $T/dav.headers).
dav_setup() {
    start_server "$@"
    KEY=$(add_user alice)
    printf '%s' "$KEY" | "$DE_CLI" --host "$SERVER_URL" login -u alice --password-stdin -q
    "$DE_CLI" apps create -n sales -q
    "$DE_CLI" mount enable -n sales -q
    MOUNT="$SERVER_ROOT/apps/sales/mount"
    DAV="$SERVER_URL/dav/sales"
}

dav() {
    local method=$1 path=$2
    shift 2
    CODE=$(curl -sS -o "$T/dav.body" -D "$T/dav.headers" -w '%{http_code}' -u "alice:$KEY" \
        -X "$method" "$@" "$DAV$path") || CODE=000
    BODY=$(cat "$T/dav.body" 2>/dev/null || true)
}

# dav_header NAME: the value of response header NAME of the last dav call.
dav_header() {
    tr -d '\r' <"$T/dav.headers" | awk -v n="$(tr 'A-Z' 'a-z' <<<"$1")" -F': ' \
        'tolower($1) == n {sub(/^[^:]*: /, ""); print; exit}'
}

# dav_rclone_remote: rclone's remote `dav:` for alice's app, from the environment and a private,
# empty config file in $T (never the user's); the key goes through `rclone obscure` on stdin,
# never on a command line.
dav_rclone_remote() {
    : >"$T/rclone.conf"
    export RCLONE_CONFIG="$T/rclone.conf"
    export RCLONE_CONFIG_DAV_TYPE=webdav RCLONE_CONFIG_DAV_URL="$DAV/" RCLONE_CONFIG_DAV_VENDOR=other \
        RCLONE_CONFIG_DAV_USER=alice
    RCLONE_CONFIG_DAV_PASS=$(printf '%s' "$KEY" | rclone obscure -)
    export RCLONE_CONFIG_DAV_PASS
}

# assert_code_in "CODE..." WHAT: the last dav call's CODE is one of the listed statuses
# (a whole word: an empty or partial CODE never matches).
assert_code_in() {
    CHECKS=$((CHECKS + 1))
    [[ " $1 " == *" ${CODE:-none} "* ]] || fail "${2:-status}: got '${CODE:-}', want one of $1"
}

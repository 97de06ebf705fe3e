#!/usr/bin/env bash
# The confirmation prompt on a terminal, driven through tmux: sync push
# --delete and rm -r show the counts and the first paths and ask [y/N];
# "n" (or just Enter) deletes nothing, "y" deletes. tmux is required: a
# missing tmux fails this test, it does not skip it.
source "$(dirname "$0")/harness.sh"

command -v tmux >/dev/null || {
    echo "FAIL: tmux is not installed (needed for the prompt tests)" >&2
    exit 1
}

start_server
KEY=$(add_user alice)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
"$DE_CLI" --no-keyfile apps create -n sales -q </dev/null
"$DE_CLI" --no-keyfile mount enable -n sales -q </dev/null
MOUNT="$SERVER_ROOT/apps/sales/mount"

SOCK="$T/tmux.sock"
tmx() { tmux -S "$SOCK" "$@"; }
stop_tmux() { tmx kill-server 2>/dev/null || true; }
trap 'rc=$?; stop_tmux; (exit $rc); cleanup' EXIT

# in_tmux NAME CMD: runs CMD in a new tmux window (a terminal on stdin and
# stderr); its exit status lands in $T/NAME.rc.
in_tmux() {
    local name=$1
    shift
    rm -f "$T/$name.rc"
    printf '%q ' "$@" >"$T/$name.cmd"
    if ! tmx has-session -t it 2>/dev/null; then
        tmx new-session -d -s it -x 200 -y 50 "bash --norc"
    fi
    tmx new-window -t it -n "$name" \
        "env DE_CLI_UNUSED=1 bash --norc -c '$(cat "$T/$name.cmd"); echo \$? >$T/$name.rc; sleep 600'"
}

# wait_screen NAME TEXT: until the window shows TEXT (10 s at most); SCREEN holds it.
wait_screen() {
    local i
    for i in $(seq 1 200); do
        SCREEN=$(tmx capture-pane -p -J -t "it:$1" -S -100 2>/dev/null || true)
        [[ "$SCREEN" == *"$2"* ]] && return 0
        sleep 0.05
    done
    fail "no '$2' on the screen of $1: $SCREEN"
    return 1
}

wait_rc() {
    local i
    for i in $(seq 1 200); do
        [[ -s "$T/$1.rc" ]] && {
            cat "$T/$1.rc"
            return 0
        }
        sleep 0.05
    done
    echo timeout
}

# --- sync push --delete: answer n, then y ---
mkdir -p "$T/src" "$MOUNT/old"
echo keep >"$T/src/keep.txt"
for i in $(seq 1 12); do echo "$i" >"$MOUNT/old/f$i.txt"; done
echo s >"$MOUNT/stale.txt"

in_tmux push_n "$DE_CLI" --no-keyfile sync push "$T/src" -n sales --delete
wait_screen push_n "Proceed? [y/N]"
assert_contains "$SCREEN" "this will delete 13 files and 1 folder" "the prompt has the counts"
assert_contains "$SCREEN" "sales:/old/" "the prompt lists the first paths"
assert_contains "$SCREEN" "sales:/stale.txt"
tmx send-keys -t it:push_n n Enter
assert_eq "$(wait_rc push_n)" "2" "answering n exits 2"
wait_screen push_n "aborted: not confirmed; nothing was changed"
[[ -f "$MOUNT/stale.txt" && -f "$MOUNT/old/f1.txt" ]] || fail "answering n deleted files"

# Enter alone is the default: no.
in_tmux push_enter "$DE_CLI" --no-keyfile sync push "$T/src" -n sales --delete
wait_screen push_enter "Proceed? [y/N]"
tmx send-keys -t it:push_enter Enter
assert_eq "$(wait_rc push_enter)" "2" "Enter alone is no"
[[ -f "$MOUNT/stale.txt" ]] || fail "Enter alone deleted files"

in_tmux push_y "$DE_CLI" --no-keyfile sync push "$T/src" -n sales --delete
wait_screen push_y "Proceed? [y/N]"
tmx send-keys -t it:push_y y Enter
assert_eq "$(wait_rc push_y)" "0" "answering y runs the sync"
[[ ! -e "$MOUNT/stale.txt" && ! -e "$MOUNT/old" && -f "$MOUNT/keep.txt" ]] ||
    fail "answering y did not delete"

# --- rm -r: the first 10 paths and how many more ---
mkdir -p "$MOUNT/cache"
for i in $(seq 10 24); do echo "$i" >"$MOUNT/cache/c$i.bin"; done
in_tmux rm_n "$DE_CLI" --no-keyfile rm -r cache -n sales
wait_screen rm_n "Proceed? [y/N]"
assert_contains "$SCREEN" "this will delete 15 files and 1 folder"
assert_contains "$SCREEN" "sales:/cache/c10.bin"
assert_contains "$SCREEN" "... and 6 more"
tmx send-keys -t it:rm_n n Enter
assert_eq "$(wait_rc rm_n)" "2"
[[ -f "$MOUNT/cache/c10.bin" ]] || fail "rm -r answered n deleted"
in_tmux rm_y "$DE_CLI" --no-keyfile rm -r cache -n sales
wait_screen rm_y "Proceed? [y/N]"
tmx send-keys -t it:rm_y y Enter
assert_eq "$(wait_rc rm_y)" "0"
[[ ! -e "$MOUNT/cache" ]] || fail "rm -r answered y kept the folder"

# --- an upload over an existing file asks instead of refusing ---
echo "v1" >"$T/u.txt"
"$DE_CLI" --no-keyfile upload "$T/u.txt" / -n sales -q </dev/null
echo "v2 longer" >"$T/u.txt"
in_tmux up_y "$DE_CLI" --no-keyfile upload "$T/u.txt" / -n sales
wait_screen up_y "Proceed? [y/N]"
assert_contains "$SCREEN" "this will replace 1 existing file with other content in sales:/"
tmx send-keys -t it:up_y y Enter
assert_eq "$(wait_rc up_y)" "0"
assert_eq "$(cat "$MOUNT/u.txt")" "v2 longer" "a yes replaces"

stop_tmux
finish

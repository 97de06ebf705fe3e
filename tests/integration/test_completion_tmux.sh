#!/usr/bin/env bash
# Bash completion as a user meets it (issue 14 item 8): a real bash (--norc)
# in tmux with `de-cli completion bash` sourced, a real de-server, keys typed
# and Tab pressed; the screen is read back with capture-pane. Each case has a
# local and a remote candidate that differ, so the wrong side cannot pass:
#   - `sync push --remote-dir <TAB>` offers remote folders (not local ones);
#   - download's LOCAL destination completes local paths, upload's REMOTE
#     destination remote ones (their first word the other way round);
#   - an escaped word (dir\ with\ space/<TAB>) completes, remote and local;
#   - `-n APP` typed after the word being completed is honoured.
# tmux is required: without it this test fails (it does not skip).
source "$(dirname "$0")/harness.sh"

command -v tmux >/dev/null || { echo "FAIL: tmux is not installed (needed by this test)" >&2; exit 1; }

start_server
KEY=$(add_user alice)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@" >/dev/null; }

# Remote: app1 has reports/ (folder), readme.txt, lfremote.txt, "dir with space/inner.txt";
# app2 has zeta/.
cli apps create -n app1
cli mount enable -n app1
cli apps create -n app2
cli mount enable -n app2
echo x >"$T/x.txt"
cli mkdir -n app1 /reports /relics
cli upload -n app1 "$T/x.txt" /readme.txt
cli upload -n app1 "$T/x.txt" /lfremote.txt
cli upload -n app1 "$T/x.txt" "/dir with space/inner.txt"
cli mkdir -n app2 /zeta

# Local, in the shell's folder (named "work": no such app, so only -n picks one).
W="$T/work"
mkdir -p "$W/remote_local_only" "$W/repo_local" "$W/local dir"
echo y >"$W/lfile.txt"
echo y >"$W/local dir/lf2.txt"
mkdir -p "$T/bin"
ln -s "$DE_CLI" "$T/bin/de-cli"
"$DE_CLI" completion bash >"$T/de-cli.bash"

SOCK="$T/tmux.sock"
tmx() { tmux -S "$SOCK" "$@"; }
trap 'rc=$?; tmux -S "$SOCK" kill-server 2>/dev/null; (exit $rc); cleanup' EXIT
tmx new-session -d -x 220 -y 40 -c "$W" \
    env -i HOME="$HOME" PATH="$T/bin:/usr/bin:/bin" TERM=xterm LC_ALL=C \
    XDG_CONFIG_HOME="$XDG_CONFIG_HOME" XDG_CACHE_HOME="$XDG_CACHE_HOME" \
    DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice \
    DASH_ENTERPRISE_PASSWORD="$KEY" bash --norc --noprofile
tmx send-keys -t 0 "PS1='PROMPT> '; bind 'set bell-style none'; source '$T/de-cli.bash'; clear" Enter

# The text after the last prompt on the screen (the line being edited).
current_line() { tmx capture-pane -p -t 0 | grep '^PROMPT> ' | tail -n1 | sed 's/^PROMPT> //; s/ *$//'; }

wait_for_line() {  # wait_for_line TEXT: until the edited line is TEXT (up to 5 s)
    local i
    for i in $(seq 1 100); do
        [[ "$(current_line)" == "$1" ]] && return 0
        sleep 0.05
    done
    return 1
}

# complete BEFORE [AFTER]: types BEFORE (cursor after it, AFTER behind the
# cursor), presses Tab and sets LINE to the edited line once it settles.
complete() {
    local before=$1 after=${2-}
    tmx send-keys -t 0 C-c
    tmx send-keys -t 0 "clear" Enter
    wait_for_line "" || true
    if [[ -n $after ]]; then
        tmx send-keys -t 0 -l "$after"
        tmx send-keys -t 0 C-a
    fi
    tmx send-keys -t 0 -l "$before"
    wait_for_line "$before$after" || true
    tmx send-keys -t 0 Tab
    local i last="" now
    for i in $(seq 1 60); do
        sleep 0.05
        now=$(current_line)
        [[ $now != "$before$after" && $now == "$last" ]] && break
        last=$now
    done
    LINE=$(current_line)
}

expect_line() {  # expect_line WANT WHAT
    CHECKS=$((CHECKS + 1))
    [[ "$LINE" == "$1" ]] || {
        FAILURES=$((FAILURES + 1))
        echo "FAIL: $2: got '$LINE', want '$1'" >&2
        tmx capture-pane -p -t 0 | tail -n 5 >&2
    }
}

# Sanity: a command name completes (the script is loaded).
complete "de-cli whoa"
expect_line "de-cli whoami" "command names"

# --remote-dir completes remote folders: reports/ (remote) vs remote_local_only/ (local);
# relics/ makes "re" ambiguous, so "rep" picks the folder and readme.txt is no folder.
complete "de-cli sync push . -n app1 --remote-dir rep"
expect_line "de-cli sync push . -n app1 --remote-dir reports/" "--remote-dir offers remote folders"
complete "de-cli sync pull . -n app1 --remote-dir rea"
expect_line "de-cli sync pull . -n app1 --remote-dir rea" "--remote-dir offers no remote files"

# download REMOTE LOCAL: the first word remote, the destination local.
complete "de-cli download -n app1 rea"
expect_line "de-cli download -n app1 readme.txt" "download's source is remote"
complete "de-cli download -n app1 readme.txt lf"
expect_line "de-cli download -n app1 readme.txt lfile.txt" "download's destination is local"
# upload LOCAL REMOTE: the first word local, the destination remote.
complete "de-cli upload -n app1 lf"
expect_line "de-cli upload -n app1 lfile.txt" "upload's source is local"
complete "de-cli upload -n app1 lfile.txt rep"
expect_line "de-cli upload -n app1 lfile.txt reports/" "upload's destination is remote"

# Escaped words.
complete 'de-cli ls -n app1 dir\ with\ space/'
expect_line 'de-cli ls -n app1 dir\ with\ space/inner.txt' "an escaped remote word"
complete 'de-cli ls -n app1 "dir with space/'
expect_line 'de-cli ls -n app1 "dir with space/inner.txt"' "a double-quoted remote word"
complete 'de-cli upload -n app1 local\ dir/'
expect_line 'de-cli upload -n app1 local\ dir/lf2.txt' "an escaped local word"

# -n after the word being completed (the cursor is before it).
complete "de-cli ls zet" " -n app2"
expect_line "de-cli ls zeta/ -n app2" "-n typed after the path"
complete "de-cli ls -n app1 zet"
expect_line "de-cli ls -n app1 zet" "control: app1 has no zeta"

finish

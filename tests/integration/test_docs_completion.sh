#!/usr/bin/env bash
# Completion scripts in real shells. Bash: the committed script, loaded after
# bash-completion, completes commands, subcommands, options and fixed values,
# and app names and remote paths from a running de-server through the hidden
# `de-cli __complete`. Zsh and fish: the scripts load without error and fish
# completes commands. `__complete` prints nothing and exits 0, quickly, when
# the server is down or does not answer.
source "$(dirname "$0")/harness.sh"
export LC_ALL=C

bash_script="$DE_SOURCE_DIR/completions/de-cli.bash"
zsh_script="$DE_SOURCE_DIR/completions/_de-cli"
fish_script="$DE_SOURCE_DIR/completions/de-cli.fish"

# complete_bash WORD...: the candidates bash offers for the last word, one a
# line. COMP_WORDS[0] is the binary under test, so dynamic queries reach it.
complete_bash() {
    bash --norc --noprofile -c '
        if [[ -f /usr/share/bash-completion/bash_completion ]]; then
            source /usr/share/bash-completion/bash_completion
        fi
        source "$1" || exit 9
        shift
        fn=$(complete -p de-cli | sed -E "s/.*-F ([^ ]+).*/\1/")
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        "$fn" de-cli "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' bash "$bash_script" "$DE_CLI" "$@"
}

# --- static: the command tree ---------------------------------------------------
run complete_bash mo
assert_eq "$RC" 0 "bash completion ran"
assert_eq "$OUT" "mount" "de-cli mo<TAB>"
run complete_bash mount e
assert_eq "$OUT" "enable" "de-cli mount e<TAB>"
run complete_bash mount ''
assert_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "disable enable status url " "de-cli mount <TAB>"
run complete_bash completion ''
assert_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "bash fish zsh " "fixed values of completion"
run complete_bash --json sync p
assert_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "pull push " "after a global flag"
run complete_bash mount status --na
assert_eq "$OUT" "--name" "an option"
run complete_bash ls --js
assert_eq "$OUT" "--json" "a global option after the command (fallthrough)"
run complete_bash __comp
assert_eq "$OUT" "" "hidden commands are not offered"

# --- zsh and fish load --------------------------------------------------------
run zsh -f -c "autoload -U compinit; compinit -u -d '$T/zcompdump'; source '$zsh_script'; print -r -- \$_comps[de-cli]"
assert_eq "$RC" 0 "zsh loads _de-cli: $ERR"
assert_eq "$ERR" "" "zsh stderr"
assert_eq "$OUT" "_de_cli" "zsh registers the completion"
# The walker under zsh: _describe and compadd stubbed to print what they get.
zsh_offer() {
    zsh -f -c '
        autoload -U compinit; compinit -u -d "$1/zcompdump"; source "$2"
        _describe() { print -l -- ${(P)${@[-1]}%%:*} }
        compadd() { print -l -- ${@[$(( ${@[(i)--]} + 1 )),-1]} }
        words=("${@[3,-1]}"); CURRENT=${#words}; PREFIX=${words[-1]}
        _de_cli' zsh "$T" "$zsh_script" de-cli "$@"
}
run zsh_offer mount e
assert_contains "$OUT" $'enable\n' "zsh: de-cli mount e<TAB>"
assert_not_contains "$OUT" "mount" "zsh: subcommands of mount only"
run zsh_offer completion ''
assert_eq "$OUT" $'bash\nzsh\nfish' "zsh: fixed values"
run fish --no-config -c "source '$fish_script'; complete -C'de-cli mo'; complete -C'de-cli mount e'"
assert_eq "$RC" 0 "fish loads de-cli.fish: $ERR"
assert_eq "$ERR" "" "fish stderr"
assert_contains "$OUT" "mount"
assert_contains "$OUT" "enable"

# --- dynamic: app names and remote paths from a running de-server -------------
start_server
key=$(add_user alice)
bob_key=$(add_user bob)
DASH_ENTERPRISE_HOST=$SERVER_URL DASH_ENTERPRISE_USERNAME=bob DASH_ENTERPRISE_PASSWORD=$bob_key \
    "$DE_CLI" --no-keyfile apps create -n bobs-secret-app >/dev/null 2>&1
export DASH_ENTERPRISE_HOST=$SERVER_URL DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD=$key
expect_rc 0 "$DE_CLI" --no-keyfile apps create -n sales-dashboard
expect_rc 0 "$DE_CLI" --no-keyfile apps create -n salt-model
expect_rc 0 "$DE_CLI" --no-keyfile mount enable -n sales-dashboard
# The mount is a plain folder that other processes may write: put files there.
mount_dir="$SERVER_ROOT/apps/sales-dashboard/mount"
mkdir -p "$mount_dir/data/raw" "$mount_dir/docs"
echo "a,b" >"$mount_dir/data/prices.csv"
echo "x" >"$mount_dir/data/prices 2024.csv"
echo "hi" >"$mount_dir/readme.txt"
echo "secret" >"$mount_dir/.hidden"

run complete_bash --no-keyfile mount status -n sal
assert_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "sales-dashboard salt-model " "app names after -n"
run complete_bash --no-keyfile ls --name sales
assert_eq "$OUT" "sales-dashboard" "app name after --name"
run complete_bash --no-keyfile apps info -n ''
assert_not_contains "$OUT" "bobs-secret-app" "another user's app"

start=$(date +%s%N)
run complete_bash --no-keyfile ls -n sales-dashboard d
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "data/ docs/ " "remote folders for ls"
echo "remote path completion (bash, whole round trip): ${elapsed_ms} ms" >&2
run complete_bash --no-keyfile cat -n sales-dashboard data/pr
assert_eq "$(sort <<<"$OUT" | tr '\n' ' ')" 'data/prices.csv data/prices\ 2024.csv ' \
    "remote files for cat, quoted"
run complete_bash --no-keyfile rm -n sales-dashboard data/
assert_eq "$(sort <<<"$OUT" | tr '\n' ' ')" 'data/prices.csv data/prices\ 2024.csv data/raw/ ' \
    "a folder's entries for rm"
run complete_bash --no-keyfile mv -n sales-dashboard r
assert_eq "$OUT" "readme.txt" "mv"
run complete_bash --no-keyfile download -n sales-dashboard /da
assert_eq "$OUT" "/data/" "download's remote argument, with a leading /"
run complete_bash --no-keyfile ls -n sales-dashboard ''
assert_not_contains "$OUT" ".hidden" "dot files only when asked for"
run complete_bash --no-keyfile ls -n sales-dashboard .h
assert_eq "$OUT" ".hidden" "dot files when asked for"
run complete_bash --host "$SERVER_URL" --no-keyfile ls -n sales-dashboard re
assert_eq "$OUT" "readme.txt" "--host is forwarded"

# zsh and fish ask the same hidden command (de-cli on PATH, as installed).
mkdir -p "$T/bin"
ln -s "$DE_CLI" "$T/bin/de-cli"
PATH="$T/bin:$PATH" run zsh_offer --no-keyfile rm -n sales-dashboard data/r
assert_contains "$OUT" "data/raw/" "zsh: remote path"
run env PATH="$T/bin:$PATH" fish --no-config -c \
    "source '$fish_script'; complete -C'de-cli --no-keyfile cat --name sales-dashboard data/p'"
assert_contains "$OUT" "data/prices.csv" "fish: remote path"
run env PATH="$T/bin:$PATH" fish --no-config -c \
    "source '$fish_script'; complete -C'de-cli --no-keyfile ls -n sales-'"
assert_contains "$OUT" "sales-dashboard" "fish: app name"

# --- failures: nothing printed, exit 0, quickly -------------------------------
expect_rc 0 "$DE_CLI" --no-keyfile __complete paths -n no-such-app -- ''
assert_eq "$OUT$ERR" "" "unknown app"
expect_rc 0 env -u DASH_ENTERPRISE_PASSWORD "$DE_CLI" --no-keyfile __complete apps -- ''
assert_eq "$OUT$ERR" "" "no credentials"
stop_server
expect_rc 0 "$DE_CLI" --no-keyfile __complete apps -- ''
assert_eq "$OUT$ERR" "" "server down"
# A server that accepts the connection and never answers: the short timeout.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(30)' >"$T/port" &
silent_pid=$!
for _ in $(seq 1 50); do [[ -s "$T/port" ]] && break; sleep 0.05; done
start=$(date +%s%N)
expect_rc 0 "$DE_CLI" --host "http://127.0.0.1:$(cat "$T/port")" --no-keyfile __complete apps -- ''
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
kill "$silent_pid" 2>/dev/null || true
wait "$silent_pid" 2>/dev/null || true
assert_eq "$OUT$ERR" "" "silent server"
CHECKS=$((CHECKS + 1))
((elapsed_ms < 3000)) || fail "__complete took ${elapsed_ms} ms against a silent server"
echo "__complete against a silent server gave up after ${elapsed_ms} ms" >&2

finish

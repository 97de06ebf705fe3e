# bash completion for de-cli                                -*- shell-script -*-
# Generated from de-cli's command tree by `de-cli completion bash`: do not edit.

# _de_cli_spec CMD: sets subs, opts, vopts (value-taking options of CMD and its
# parents) and pos (positionals as NAME:COUNT, COUNT -1 for any number).
_de_cli_spec() {
    case "$1" in
        '')
            subs='login logout whoami config apps mount upload download ls cat rm mv mkdir sync predeploy completion help version'
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        'login')
            subs=''
            opts='-h --help -u --username --password-stdin --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -u --username'
            pos=''
            ;;
        'logout')
            subs=''
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        'whoami')
            subs=''
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        'config')
            subs=''
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        'apps')
            subs='list exists create info delete update'
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        'apps list')
            subs=''
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        'apps exists')
            subs=''
            opts='-h --help -n --name --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'apps create')
            subs=''
            opts='-h --help -n --name --dry-run --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'apps info')
            subs=''
            opts='-h --help -n --name --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'apps delete')
            subs=''
            opts='-h --help -n --name --dry-run -y --yes --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'apps update')
            subs=''
            opts='-h --help -n --name --dry-run --persistent-filesystem --no-persistent-filesystem -y --yes --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'mount')
            subs='status url enable disable'
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        'mount status')
            subs=''
            opts='-h --help -n --name --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'mount url')
            subs=''
            opts='-h --help -n --name --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'mount enable')
            subs=''
            opts='-h --help -n --name --dry-run --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos=''
            ;;
        'mount disable')
            subs=''
            opts='-h --help -n --name --dry-run -y --yes --backup --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name --backup'
            pos=''
            ;;
        'upload')
            subs=''
            opts='-h --help -n --name -r --recursive --update --force --dry-run --include --exclude -j --jobs --no-resume --verify --follow-symlinks --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name --include --exclude -j --jobs'
            pos='paths:1 paths@2:-1'
            ;;
        'download')
            subs=''
            opts='-h --help -n --name -r --recursive --update --force --dry-run --include --exclude -j --jobs --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name --include --exclude -j --jobs'
            pos='paths:1 paths@2:-1'
            ;;
        'ls')
            subs=''
            opts='-h --help -n --name -l --long -R --recursive --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos='path:1'
            ;;
        'cat')
            subs=''
            opts='-h --help -n --name --range --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name --range'
            pos='path:1'
            ;;
        'rm')
            subs=''
            opts='-h --help -n --name -r --recursive -y --yes --dry-run --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos='path:-1'
            ;;
        'mv')
            subs=''
            opts='-h --help -n --name --update --dry-run --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos='source:1 dest:1'
            ;;
        'mkdir')
            subs=''
            opts='-h --help -n --name --dry-run --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path -n --name'
            pos='path:-1'
            ;;
        'sync')
            subs='push pull'
            opts='-h --help --apply --max-delete --force -j --jobs -n --name --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path --apply --max-delete -j --jobs -n --name'
            pos=''
            ;;
        'sync push')
            subs=''
            opts='-h --help -n --name --remote-dir --delete -y --yes --max-delete --force --dry-run --checksum --include --exclude --follow-symlinks -j --jobs --apply --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path --apply --max-delete -j --jobs -n --name --remote-dir --include --exclude'
            pos='LOCAL_DIR:1'
            ;;
        'sync pull')
            subs=''
            opts='-h --help -n --name --remote-dir --delete -y --yes --max-delete --force --dry-run --checksum --include --exclude --follow-symlinks -j --jobs --apply --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path --apply --max-delete -j --jobs -n --name --remote-dir --include --exclude'
            pos='LOCAL_DIR:1'
            ;;
        'predeploy')
            subs=''
            opts='-h --help --mount-dir --timeout --kill-grace --dry-run --check --push -n --name --delete --max-delete --checksum -j --jobs --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path --mount-dir --timeout --kill-grace -n --name --max-delete -j --jobs'
            pos='APP_DIR:1'
            ;;
        'completion')
            subs=''
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos='shell:1'
            ;;
        'help')
            subs=''
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos='command:-1'
            ;;
        'version')
            subs=''
            opts='-h --help --host --no-keyfile --ca-path --insecure --json -q --quiet -v --verbose --no-progress --no-color -V --version'
            vopts='--host --ca-path'
            pos=''
            ;;
        *) subs='' opts='' vopts='' pos='' ;;
    esac
}

# _de_cli_values CMD TARGET: completes an option's or a positional's value.
_de_cli_values() {
    case "$1|$2" in
        '|--ca-path') _de_cli_files ;;
        'login|--ca-path') _de_cli_files ;;
        'logout|--ca-path') _de_cli_files ;;
        'whoami|--ca-path') _de_cli_files ;;
        'config|--ca-path') _de_cli_files ;;
        'apps|--ca-path') _de_cli_files ;;
        'apps list|--ca-path') _de_cli_files ;;
        'apps exists|-n' | 'apps exists|--name') _de_cli_dynamic 'apps' ;;
        'apps exists|--ca-path') _de_cli_files ;;
        'apps create|--ca-path') _de_cli_files ;;
        'apps info|-n' | 'apps info|--name') _de_cli_dynamic 'apps' ;;
        'apps info|--ca-path') _de_cli_files ;;
        'apps delete|-n' | 'apps delete|--name') _de_cli_dynamic 'apps' ;;
        'apps delete|--ca-path') _de_cli_files ;;
        'apps update|-n' | 'apps update|--name') _de_cli_dynamic 'apps' ;;
        'apps update|--ca-path') _de_cli_files ;;
        'mount|--ca-path') _de_cli_files ;;
        'mount status|-n' | 'mount status|--name') _de_cli_dynamic 'apps' ;;
        'mount status|--ca-path') _de_cli_files ;;
        'mount url|-n' | 'mount url|--name') _de_cli_dynamic 'apps' ;;
        'mount url|--ca-path') _de_cli_files ;;
        'mount enable|-n' | 'mount enable|--name') _de_cli_dynamic 'apps' ;;
        'mount enable|--ca-path') _de_cli_files ;;
        'mount disable|-n' | 'mount disable|--name') _de_cli_dynamic 'apps' ;;
        'mount disable|--backup') _de_cli_files ;;
        'mount disable|--ca-path') _de_cli_files ;;
        'upload|-n' | 'upload|--name') _de_cli_dynamic 'apps' ;;
        'upload|--ca-path') _de_cli_files ;;
        'upload|paths') _de_cli_files ;;
        'upload|paths@2') _de_cli_dynamic 'paths' ;;
        'download|-n' | 'download|--name') _de_cli_dynamic 'apps' ;;
        'download|--ca-path') _de_cli_files ;;
        'download|paths') _de_cli_dynamic 'paths' ;;
        'download|paths@2') _de_cli_files ;;
        'ls|-n' | 'ls|--name') _de_cli_dynamic 'apps' ;;
        'ls|--ca-path') _de_cli_files ;;
        'ls|path') _de_cli_dynamic 'paths' ;;
        'cat|-n' | 'cat|--name') _de_cli_dynamic 'apps' ;;
        'cat|--ca-path') _de_cli_files ;;
        'cat|path') _de_cli_dynamic 'paths' ;;
        'rm|-n' | 'rm|--name') _de_cli_dynamic 'apps' ;;
        'rm|--ca-path') _de_cli_files ;;
        'rm|path') _de_cli_dynamic 'paths' ;;
        'mv|-n' | 'mv|--name') _de_cli_dynamic 'apps' ;;
        'mv|--ca-path') _de_cli_files ;;
        'mv|source') _de_cli_dynamic 'paths' ;;
        'mv|dest') _de_cli_dynamic 'paths' ;;
        'mkdir|-n' | 'mkdir|--name') _de_cli_dynamic 'apps' ;;
        'mkdir|--ca-path') _de_cli_files ;;
        'mkdir|path') _de_cli_dynamic 'paths' ;;
        'sync|-n' | 'sync|--name') _de_cli_dynamic 'apps' ;;
        'sync|--ca-path') _de_cli_files ;;
        'sync push|-n' | 'sync push|--name') _de_cli_dynamic 'apps' ;;
        'sync push|--remote-dir') _de_cli_dynamic 'dirs' ;;
        'sync push|--ca-path') _de_cli_files ;;
        'sync push|LOCAL_DIR') _de_cli_dirs ;;
        'sync pull|-n' | 'sync pull|--name') _de_cli_dynamic 'apps' ;;
        'sync pull|--remote-dir') _de_cli_dynamic 'dirs' ;;
        'sync pull|--ca-path') _de_cli_files ;;
        'sync pull|LOCAL_DIR') _de_cli_dirs ;;
        'predeploy|--mount-dir') _de_cli_dirs ;;
        'predeploy|-n' | 'predeploy|--name') _de_cli_dynamic 'apps' ;;
        'predeploy|--ca-path') _de_cli_files ;;
        'predeploy|APP_DIR') _de_cli_dirs ;;
        'completion|--ca-path') _de_cli_files ;;
        'completion|shell') _de_cli_words 'bash zsh fish' ;;
        'help|--ca-path') _de_cli_files ;;
        'help|command') _de_cli_files ;;
        'version|--ca-path') _de_cli_files ;;
    esac
}

_de_cli_words() {
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

# _de_cli_dequote WORD: sets dq to WORD without its quoting (backslashes, '...',
# "..."), as the command will receive it. Nothing is evaluated.
_de_cli_dequote() {
    local s=$1 c q=''
    local -i i
    dq=''
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [[ $q == "'" ]]; then
            if [[ $c == "'" ]]; then q=''; else dq+=$c; fi
        elif [[ $q == '"' ]]; then
            if [[ $c == '"' ]]; then
                q=''
            elif [[ $c == '\' && ${s:i+1:1} == [\"\\\$\`] ]]; then
                dq+=${s:i+1:1}
                ((++i))
            else
                dq+=$c
            fi
        elif [[ $c == '\' ]]; then
            dq+=${s:i+1:1}
            ((++i))
        elif [[ $c == "'" || $c == '"' ]]; then
            q=$c
        else
            dq+=$c
        fi
    done
}

_de_cli_files() {
    compopt -o filenames 2>/dev/null
    local IFS=$'\n' dq
    _de_cli_dequote "$cur"
    COMPREPLY=($(compgen -f -- "$dq"))
}

_de_cli_dirs() {
    compopt -o filenames 2>/dev/null
    local IFS=$'\n' dq
    _de_cli_dequote "$cur"
    COMPREPLY=($(compgen -d -- "$dq"))
}

# _de_cli_dynamic QUERY: asks `de-cli __complete QUERY` for candidates; it answers fast
# or prints nothing. Options anywhere on the line (also after the cursor)
# are forwarded, without their quoting.
_de_cli_dynamic() {
    local -a pre=() post=()
    local i w c dq n=${#COMP_WORDS[@]}
    for ((i = 1; i < n; i++)); do
        ((i == COMP_CWORD)) && continue
        w=${COMP_WORDS[i]}
        case "$w" in
            '--host')
                [[ ${COMP_WORDS[i + 1]-} == = ]] && ((++i))
                if ((i + 1 < n && i + 1 != COMP_CWORD)); then
                    _de_cli_dequote "${COMP_WORDS[i + 1]}"
                    pre+=("$w" "$dq")
                fi
                ((++i))
                ;;
            '--ca-path')
                [[ ${COMP_WORDS[i + 1]-} == = ]] && ((++i))
                if ((i + 1 < n && i + 1 != COMP_CWORD)); then
                    _de_cli_dequote "${COMP_WORDS[i + 1]}"
                    pre+=("$w" "$dq")
                fi
                ((++i))
                ;;
            '--no-keyfile') pre+=("$w") ;;
            '--insecure') pre+=("$w") ;;
            '-n')
                [[ ${COMP_WORDS[i + 1]-} == = ]] && ((++i))
                if ((i + 1 < n && i + 1 != COMP_CWORD)); then
                    _de_cli_dequote "${COMP_WORDS[i + 1]}"
                    post+=("$w" "$dq")
                fi
                ((++i))
                ;;
            '--name')
                [[ ${COMP_WORDS[i + 1]-} == = ]] && ((++i))
                if ((i + 1 < n && i + 1 != COMP_CWORD)); then
                    _de_cli_dequote "${COMP_WORDS[i + 1]}"
                    post+=("$w" "$dq")
                fi
                ((++i))
                ;;
        esac
    done
    _de_cli_dequote "$cur"
    COMPREPLY=()
    while IFS= read -r c; do
        [[ -n $c ]] || continue
        # A word the user opened with a quote is quoted by readline itself.
        [[ $cur == [\"\']* ]] || printf -v c '%q' "$c"
        COMPREPLY+=("$c")
    done < <("$prog" "${pre[@]}" __complete "$1" "${post[@]}" -- "$dq" 2>/dev/null)
    # A directory gets no space after it, so the path can go on.
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

_de_cli() {
    local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]}
    local cmd='' valopt='' npos=0 i w subs opts vopts pos p name count
    local IFS=$' \t\n'
    COMPREPLY=()
    [[ $cur == = ]] && cur=''
    _de_cli_spec ''
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == -?* ]]; then
            # An option that takes a value: skip it ("--opt val" or "--opt = val").
            if [[ $w != *=* && " $vopts " == *" $w "* ]]; then
                ((i + 1 == COMP_CWORD)) && { valopt=$w; break; }
                ((++i))
                if [[ ${COMP_WORDS[i]} == = ]]; then
                    ((i + 1 == COMP_CWORD)) && { valopt=$w; break; }
                    ((++i))
                fi
            fi
        elif ((npos == 0)) && [[ -n $w && " $subs " == *" $w "* ]]; then
            cmd=${cmd:+$cmd }$w
            _de_cli_spec "$cmd"
        else
            ((++npos))
        fi
    done
    if [[ -n $valopt ]]; then
        _de_cli_values "$cmd" "$valopt"
        return 0
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    if [[ -n $subs ]] && ((npos == 0)); then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return 0
    fi
    for p in $pos; do
        name=${p%:*} count=${p##*:}
        if ((count < 0 || npos < count)); then
            _de_cli_values "$cmd" "$name"
            return 0
        fi
        npos=$((npos - count))
    done
    return 0
}

complete -F _de_cli de-cli

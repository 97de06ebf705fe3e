# fish completion for de-cli.
# Generated from de-cli's command tree by `de-cli completion fish`: do not edit.

function __de_cli_subs --argument-names cmd
    switch "$cmd"
        case ''
            printf '%s\n' login logout whoami config apps mount upload download ls cat rm mv mkdir sync predeploy completion help version
        case 'apps'
            printf '%s\n' list exists create info delete update
        case 'mount'
            printf '%s\n' status url enable disable
        case 'sync'
            printf '%s\n' push pull
    end
end

function __de_cli_vopts --argument-names cmd
    switch "$cmd"
        case ''
            printf '%s\n' --host --ca-path
        case 'login'
            printf '%s\n' --host --ca-path -u --username
        case 'logout'
            printf '%s\n' --host --ca-path
        case 'whoami'
            printf '%s\n' --host --ca-path
        case 'config'
            printf '%s\n' --host --ca-path
        case 'apps'
            printf '%s\n' --host --ca-path
        case 'apps list'
            printf '%s\n' --host --ca-path
        case 'apps exists'
            printf '%s\n' --host --ca-path -n --name
        case 'apps create'
            printf '%s\n' --host --ca-path -n --name
        case 'apps info'
            printf '%s\n' --host --ca-path -n --name
        case 'apps delete'
            printf '%s\n' --host --ca-path -n --name
        case 'apps update'
            printf '%s\n' --host --ca-path -n --name
        case 'mount'
            printf '%s\n' --host --ca-path
        case 'mount status'
            printf '%s\n' --host --ca-path -n --name
        case 'mount url'
            printf '%s\n' --host --ca-path -n --name
        case 'mount enable'
            printf '%s\n' --host --ca-path -n --name
        case 'mount disable'
            printf '%s\n' --host --ca-path -n --name --backup
        case 'upload'
            printf '%s\n' --host --ca-path -n --name --include --exclude -j --jobs
        case 'download'
            printf '%s\n' --host --ca-path -n --name --include --exclude -j --jobs
        case 'ls'
            printf '%s\n' --host --ca-path -n --name
        case 'cat'
            printf '%s\n' --host --ca-path -n --name --range
        case 'rm'
            printf '%s\n' --host --ca-path -n --name
        case 'mv'
            printf '%s\n' --host --ca-path -n --name
        case 'mkdir'
            printf '%s\n' --host --ca-path -n --name
        case 'sync'
            printf '%s\n' --host --ca-path --apply --max-delete -j --jobs -n --name
        case 'sync push'
            printf '%s\n' --host --ca-path --apply --max-delete -j --jobs -n --name --remote-dir --include --exclude
        case 'sync pull'
            printf '%s\n' --host --ca-path --apply --max-delete -j --jobs -n --name --remote-dir --include --exclude
        case 'predeploy'
            printf '%s\n' --host --ca-path --mount-dir --timeout --kill-grace -n --name --max-delete -j --jobs
        case 'completion'
            printf '%s\n' --host --ca-path
        case 'help'
            printf '%s\n' --host --ca-path
        case 'version'
            printf '%s\n' --host --ca-path
    end
end

# Prints the number of positionals so far, then the command path.
function __de_cli_path
    set -l toks (commandline -opc)
    set -e toks[1]
    set -l cmd ''
    set -l npos 0
    set -l skip 0
    for t in $toks
        if test $skip -eq 1
            set skip 0
            continue
        end
        if string match -q -- '-?*' $t
            if not string match -q -- '*=*' $t; and contains -- $t (__de_cli_vopts "$cmd")
                set skip 1
            end
        else if test $npos -eq 0; and contains -- $t (__de_cli_subs "$cmd")
            set cmd (string trim -- "$cmd $t")
        else
            set npos (math $npos + 1)
        end
    end
    echo $npos
    echo $cmd
end

function __de_cli_at --argument-names want
    set -l state (__de_cli_path)
    test "$state[2]" = "$want"
end

# __de_cli_pos CMD FIRST COUNT: at CMD, completing positional FIRST..FIRST+COUNT-1
# (COUNT -1: any number).
function __de_cli_pos --argument-names want first count
    set -l state (__de_cli_path)
    test "$state[2]" = "$want"; or return 1
    test $state[1] -ge $first; or return 1
    test $count -lt 0; or test $state[1] -lt (math $first + $count)
end

# __de_cli_dynamic QUERY: asks `de-cli __complete QUERY` for candidates; it answers fast
# or prints nothing.
function __de_cli_dynamic --argument-names query
    # The whole line counts, also what follows the cursor.
    set -l toks (commandline -op)
    set -l here (math (count (commandline -opc)) + 1)
    set -l prog $toks[1]
    set -l pre
    set -l post
    set -l next ''
    set -l opt ''
    for i in (seq 2 (count $toks))
        set -l t $toks[$i]
        if test -n "$next"
            test $i -ne $here; and set -a $next $opt $t
            set next ''
            continue
        end
        test $i -eq $here; and continue
        switch $t
            case '--host'
                set opt $t
                set next pre
            case '--host=*'
                set -a pre $t
            case '--ca-path'
                set opt $t
                set next pre
            case '--ca-path=*'
                set -a pre $t
            case '--no-keyfile'
                set -a pre $t
            case '--insecure'
                set -a pre $t
            case '-n'
                set opt $t
                set next post
            case '-n=*'
                set -a post $t
            case '--name'
                set opt $t
                set next post
            case '--name=*'
                set -a post $t
        end
    end
    $prog $pre __complete $query $post -- (string unescape -- (commandline -ct)) 2>/dev/null
end

complete -c de-cli -f

# de-cli
complete -c de-cli -n '__de_cli_at \'\'' -a 'login' -d 'Log in to a host and keep a token in the keyfile'
complete -c de-cli -n '__de_cli_at \'\'' -a 'logout' -d 'Revoke the token and remove it from the keyfile'
complete -c de-cli -n '__de_cli_at \'\'' -a 'whoami' -d 'Print the user the credentials belong to'
complete -c de-cli -n '__de_cli_at \'\'' -a 'config' -d 'Show the settings in effect and where each comes from (secrets hidden)'
complete -c de-cli -n '__de_cli_at \'\'' -a 'apps' -d 'List, create, inspect, update and delete apps'
complete -c de-cli -n '__de_cli_at \'\'' -a 'mount' -d 'Turn an app\'s persistent filesystem on or off, show it or its WebDAV address'
complete -c de-cli -n '__de_cli_at \'\'' -a 'upload' -d 'Upload files or folders into the mount'
complete -c de-cli -n '__de_cli_at \'\'' -a 'download' -d 'Download files or folders from the mount'
complete -c de-cli -n '__de_cli_at \'\'' -a 'ls' -d 'List a folder of the mount (default: its root)'
complete -c de-cli -n '__de_cli_at \'\'' -a 'cat' -d 'Write a file (or a byte range of it) to stdout'
complete -c de-cli -n '__de_cli_at \'\'' -a 'rm' -d 'Remove files, or folders with -r (needs -n)'
complete -c de-cli -n '__de_cli_at \'\'' -a 'mv' -d 'Move or rename a file or folder inside the mount'
complete -c de-cli -n '__de_cli_at \'\'' -a 'mkdir' -d 'Create folders (and their parents) in the mount'
complete -c de-cli -n '__de_cli_at \'\'' -a 'sync' -d 'Keep a local folder and the app\'s mount in step'
complete -c de-cli -n '__de_cli_at \'\'' -a 'predeploy' -d 'Run the app\'s predeploy script (project.toml) locally, and push its output'
complete -c de-cli -n '__de_cli_at \'\'' -a 'completion' -d 'Print a shell completion script (bash, zsh or fish)'
complete -c de-cli -n '__de_cli_at \'\'' -a 'help' -d 'Show the help of de-cli or of a command'
complete -c de-cli -n '__de_cli_at \'\'' -a 'version' -d 'Print the versions of de-cli, its libraries and the server (when reachable)'
complete -c de-cli -n '__de_cli_at \'\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli login
complete -c de-cli -n '__de_cli_at \'login\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'login\'' -s 'u' -l 'username' -x -d 'Username (default: $DASH_ENTERPRISE_USERNAME, else asked)'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'password-stdin' -d 'Read the API key from stdin (for scripts; nothing is echoed)'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'login\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'login\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'login\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'login\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli logout
complete -c de-cli -n '__de_cli_at \'logout\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'logout\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'logout\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'logout\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'logout\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'logout\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'logout\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'logout\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'logout\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'logout\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'logout\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli whoami
complete -c de-cli -n '__de_cli_at \'whoami\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'whoami\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'whoami\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'whoami\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'whoami\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'whoami\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'whoami\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'whoami\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'whoami\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'whoami\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'whoami\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli config
complete -c de-cli -n '__de_cli_at \'config\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'config\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'config\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'config\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'config\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'config\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'config\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'config\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'config\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'config\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'config\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli apps
complete -c de-cli -n '__de_cli_at \'apps\'' -a 'list' -d 'List your apps'
complete -c de-cli -n '__de_cli_at \'apps\'' -a 'exists' -d 'Exit 0 when the app exists, 3 when it does not'
complete -c de-cli -n '__de_cli_at \'apps\'' -a 'create' -d 'Create an app (needs -n)'
complete -c de-cli -n '__de_cli_at \'apps\'' -a 'info' -d 'Show an app\'s owner, creation time and persistent filesystem setting'
complete -c de-cli -n '__de_cli_at \'apps\'' -a 'delete' -d 'Delete an app and its persistent filesystem (needs -n)'
complete -c de-cli -n '__de_cli_at \'apps\'' -a 'update' -d 'Turn an app\'s persistent filesystem on or off'
complete -c de-cli -n '__de_cli_at \'apps\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'apps\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'apps\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'apps\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'apps\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'apps\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'apps\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'apps\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'apps\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'apps\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'apps\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli apps list
complete -c de-cli -n '__de_cli_at \'apps list\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'apps list\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'apps list\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'apps list\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'apps list\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'apps list\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'apps list\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'apps list\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'apps list\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'apps list\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'apps list\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli apps exists
complete -c de-cli -n '__de_cli_at \'apps exists\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'apps exists\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli apps create
complete -c de-cli -n '__de_cli_at \'apps create\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'apps create\'' -s 'n' -l 'name' -x -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'dry-run' -d 'Say what would change; change nothing'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'apps create\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'apps create\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'apps create\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'apps create\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli apps info
complete -c de-cli -n '__de_cli_at \'apps info\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'apps info\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'apps info\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'apps info\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'apps info\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'apps info\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'apps info\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'apps info\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'apps info\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'apps info\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'apps info\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'apps info\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli apps delete
complete -c de-cli -n '__de_cli_at \'apps delete\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'dry-run' -d 'Say what would change; change nothing'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -s 'y' -l 'yes' -d 'Do not ask for confirmation (needed without a terminal)'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'apps delete\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli apps update
complete -c de-cli -n '__de_cli_at \'apps update\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'apps update\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'dry-run' -d 'Say what would change; change nothing'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'persistent-filesystem' -d 'Turn the persistent filesystem (the mount) on'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'no-persistent-filesystem' -d 'Turn it off, deleting every file in it'
complete -c de-cli -n '__de_cli_at \'apps update\'' -s 'y' -l 'yes' -d 'Do not ask for confirmation (needed without a terminal)'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'apps update\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'apps update\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'apps update\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'apps update\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli mount
complete -c de-cli -n '__de_cli_at \'mount\'' -a 'status' -d 'Show used space against the quota, the file count and the storage class'
complete -c de-cli -n '__de_cli_at \'mount\'' -a 'url' -d 'Print the app\'s WebDAV address and how to connect with davfs2, rclone, macOS, Windows'
complete -c de-cli -n '__de_cli_at \'mount\'' -a 'enable' -d 'Turn the persistent filesystem on (the app sees it at ../mount)'
complete -c de-cli -n '__de_cli_at \'mount\'' -a 'disable' -d 'Turn the persistent filesystem off, deleting every file in it (needs -n)'
complete -c de-cli -n '__de_cli_at \'mount\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'mount\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'mount\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'mount\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'mount\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'mount\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'mount\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'mount\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'mount\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'mount\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'mount\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli mount status
complete -c de-cli -n '__de_cli_at \'mount status\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'mount status\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'mount status\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'mount status\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'mount status\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'mount status\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'mount status\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'mount status\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'mount status\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'mount status\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'mount status\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'mount status\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli mount url
complete -c de-cli -n '__de_cli_at \'mount url\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'mount url\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'mount url\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'mount url\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'mount url\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'mount url\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'mount url\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'mount url\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'mount url\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'mount url\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'mount url\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'mount url\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli mount enable
complete -c de-cli -n '__de_cli_at \'mount enable\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'dry-run' -d 'Say what would change; change nothing'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'mount enable\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli mount disable
complete -c de-cli -n '__de_cli_at \'mount disable\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'dry-run' -d 'Say what would change; change nothing'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -s 'y' -l 'yes' -d 'Do not ask for confirmation (needed without a terminal)'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'backup' -r -F -d 'First download every file into this tar archive; if that fails nothing is deleted'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'mount disable\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli upload
complete -c de-cli -n '__de_cli_at \'upload\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'upload\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'upload\'' -s 'r' -l 'recursive' -d 'Upload folders and everything in them (\'dir/\' uploads its contents)'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'update' -d 'Replace remote files that exist with other content, unless they are newer than the local file (default: refuse; identical files are never sent). As `dagshub upload --update`; like rsync\'s and `cp -u`\'s --update it never replaces a newer file, and --force does'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'force' -d 'With --update: replace remote files even when they are newer than the local file'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'dry-run' -d 'Print the plan and check it; send nothing'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'include' -x -d 'Only files matching this glob (repeatable; \'*.csv\', \'data/**\')'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'exclude' -x -d 'Skip files and folders matching this glob (repeatable)'
complete -c de-cli -n '__de_cli_at \'upload\'' -s 'j' -l 'jobs' -x -d 'Connections for a big file\'s parts (1-16)'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'no-resume' -d 'Start big files over instead of resuming an interrupted upload'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'verify' -d 'When resuming, read the parts already on the server again for the whole-file CRC-64 instead of trusting the resume journal'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'follow-symlinks' -d 'Follow symlinks inside folders (default: skip them with a warning)'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'upload\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'upload\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'upload\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'upload\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'upload\' 0 1' -F
complete -c de-cli -n '__de_cli_pos \'upload\' 1 -1' -f -a '(__de_cli_dynamic paths)'

# de-cli download
complete -c de-cli -n '__de_cli_at \'download\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'download\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'download\'' -s 'r' -l 'recursive' -d 'Download folders and everything in them'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'update' -d 'Replace local files that exist with other content, unless they are newer than the remote file (default: refuse; identical files are never fetched). Like rsync\'s and `cp -u`\'s --update it never replaces a newer file; --force does'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'force' -d 'With --update: replace local files even when they are newer than the remote file'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'dry-run' -d 'Print the plan and check it; write nothing'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'include' -x -d 'With -r: only files matching this glob (repeatable; \'*.csv\', \'data/**\')'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'exclude' -x -d 'With -r: skip files and folders matching this glob (repeatable)'
complete -c de-cli -n '__de_cli_at \'download\'' -s 'j' -l 'jobs' -x -d 'Connections for a big file\'s ranges (1-16)'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'download\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'download\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'download\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'download\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'download\' 0 1' -f -a '(__de_cli_dynamic paths)'
complete -c de-cli -n '__de_cli_pos \'download\' 1 -1' -F

# de-cli ls
complete -c de-cli -n '__de_cli_at \'ls\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'ls\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'ls\'' -s 'l' -l 'long' -d 'Show type, size and modification time'
complete -c de-cli -n '__de_cli_at \'ls\'' -s 'R' -l 'recursive' -d 'List everything beneath the folder'
complete -c de-cli -n '__de_cli_at \'ls\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'ls\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'ls\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'ls\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'ls\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'ls\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'ls\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'ls\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'ls\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'ls\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'ls\' 0 1' -f -a '(__de_cli_dynamic paths)'

# de-cli cat
complete -c de-cli -n '__de_cli_at \'cat\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'cat\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'range' -x -d 'Only bytes FIRST-LAST (inclusive), from FIRST to the end (FIRST-), or the last SUFFIX bytes (-SUFFIX); sizes take units (1MiB)'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'cat\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'cat\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'cat\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'cat\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'cat\' 0 1' -f -a '(__de_cli_dynamic paths)'

# de-cli rm
complete -c de-cli -n '__de_cli_at \'rm\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'rm\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app; required with -r (without -r the default app applies, as for ls)'
complete -c de-cli -n '__de_cli_at \'rm\'' -s 'r' -l 'recursive' -d 'Remove folders and everything in them'
complete -c de-cli -n '__de_cli_at \'rm\'' -s 'y' -l 'yes' -d 'Do not ask for confirmation (needed without a terminal)'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'dry-run' -d 'Say what would be removed; remove nothing'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'rm\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'rm\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'rm\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'rm\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'rm\' 0 -1' -f -a '(__de_cli_dynamic paths)'

# de-cli mv
complete -c de-cli -n '__de_cli_at \'mv\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'mv\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'update' -d 'Replace DEST if it exists (default: refuse; on a terminal, ask)'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'dry-run' -d 'Say what would be moved where; move nothing'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'mv\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'mv\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'mv\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'mv\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'mv\' 0 1' -f -a '(__de_cli_dynamic paths)'
complete -c de-cli -n '__de_cli_pos \'mv\' 1 1' -f -a '(__de_cli_dynamic paths)'

# de-cli mkdir
complete -c de-cli -n '__de_cli_at \'mkdir\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'dry-run' -d 'Say what would be created; create nothing'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'mkdir\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'mkdir\' 0 -1' -f -a '(__de_cli_dynamic paths)'

# de-cli sync
complete -c de-cli -n '__de_cli_at \'sync\'' -a 'push' -d 'Make the app\'s mount match a local folder'
complete -c de-cli -n '__de_cli_at \'sync\'' -a 'pull' -d 'Make a local folder match the app\'s mount'
complete -c de-cli -n '__de_cli_at \'sync\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'apply' -x -d 'Execute a plan written by --dry-run --json (refused if either side changed)'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'max-delete' -x -d 'With --apply: refuse a plan that deletes more than N files (-1: no limit)'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'force' -d 'With --apply: allow a plan that deletes everything'
complete -c de-cli -n '__de_cli_at \'sync\'' -s 'j' -l 'jobs' -x -d 'With --apply: parallel transfers'
complete -c de-cli -n '__de_cli_at \'sync\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'sync\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'sync\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'sync\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'sync\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

# de-cli sync push
complete -c de-cli -n '__de_cli_at \'sync push\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'sync push\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'remote-dir' -x -a '(__de_cli_dynamic dirs)' -d 'Folder inside the mount (default: its root)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'delete' -d 'Delete destination files that the source does not have (asks first on a terminal; -y without one)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -s 'y' -l 'yes' -d 'Do not ask for confirmation (needed without a terminal)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'max-delete' -x -d 'Refuse --delete when it would delete more than N files (default 1000; -1: no limit)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'force' -d 'Allow --delete even when the source is empty or missing'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'dry-run' -d 'Print the plan and change nothing (with --json: a plan file for --apply)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'checksum' -d 'Compare SHA-256 instead of size and mtime (hashes are cached on both sides)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'include' -x -d 'Only sync files matching GLOB (repeatable)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'exclude' -x -d 'Skip paths matching GLOB; a matching folder skips everything in it (repeatable)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'follow-symlinks' -d 'Follow local symlinks (default: skip them with a warning)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -s 'j' -l 'jobs' -x -d 'Parallel transfers (default 8)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'apply' -x -d 'Execute a plan written by --dry-run --json (refused if either side changed)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'sync push\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'sync push\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'sync push\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'sync push\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'sync push\' 0 1' -f -a '(__fish_complete_directories)'

# de-cli sync pull
complete -c de-cli -n '__de_cli_at \'sync pull\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'remote-dir' -x -a '(__de_cli_dynamic dirs)' -d 'Folder inside the mount (default: its root)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'delete' -d 'Delete destination files that the source does not have (asks first on a terminal; -y without one)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -s 'y' -l 'yes' -d 'Do not ask for confirmation (needed without a terminal)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'max-delete' -x -d 'Refuse --delete when it would delete more than N files (default 1000; -1: no limit)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'force' -d 'Allow --delete even when the source is empty or missing'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'dry-run' -d 'Print the plan and change nothing (with --json: a plan file for --apply)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'checksum' -d 'Compare SHA-256 instead of size and mtime (hashes are cached on both sides)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'include' -x -d 'Only sync files matching GLOB (repeatable)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'exclude' -x -d 'Skip paths matching GLOB; a matching folder skips everything in it (repeatable)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'follow-symlinks' -d 'Follow local symlinks (default: skip them with a warning)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -s 'j' -l 'jobs' -x -d 'Parallel transfers (default 8)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'apply' -x -d 'Execute a plan written by --dry-run --json (refused if either side changed)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'sync pull\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'sync pull\' 0 1' -f -a '(__fish_complete_directories)'

# de-cli predeploy
complete -c de-cli -n '__de_cli_at \'predeploy\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'mount-dir' -x -a '(__fish_complete_directories)' -d 'Local mount folder (default: APP_DIR/../mount, created if missing); another folder is linked as ../mount for the run'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'timeout' -x -d 'Stop the script and its children after this long (e.g. 90, 30s, 5m, 1h)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'kill-grace' -x -d 'After --timeout or Ctrl-C, wait this long before SIGKILL (default 5s)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'dry-run' -d 'Say what would run and be pushed; do nothing'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'check' -d 'Lint the app folder against the platform\'s rules (project.toml, script, Procfile, mount folder) instead of running'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'push' -d 'After a successful run, publish the mount folder to the app\'s mount (sync push; never deletes without --delete)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -s 'n' -l 'name' -x -a '(__de_cli_dynamic apps)' -d 'The app (default: in the app/ + mount/ layout the project folder\'s name, else the current folder\'s name)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'delete' -d 'With --push: delete files in the app\'s mount that the mount folder lacks'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'max-delete' -x -d 'With --push --delete: refuse to delete more than N files (default 1000; -1: no limit)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'checksum' -d 'With --push: compare SHA-256 instead of size and mtime'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -s 'j' -l 'jobs' -x -d 'With --push: parallel transfers (default 8)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'predeploy\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'predeploy\' 0 1' -f -a '(__fish_complete_directories)'

# de-cli completion
complete -c de-cli -n '__de_cli_at \'completion\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'completion\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'completion\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'completion\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'completion\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'completion\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'completion\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'completion\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'completion\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'completion\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'completion\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'completion\' 0 1' -f -a 'bash zsh fish'

# de-cli help
complete -c de-cli -n '__de_cli_at \'help\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'help\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'help\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'help\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'help\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'help\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'help\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'help\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'help\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'help\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'help\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'
complete -c de-cli -n '__de_cli_pos \'help\' 0 -1' -F

# de-cli version
complete -c de-cli -n '__de_cli_at \'version\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c de-cli -n '__de_cli_at \'version\'' -l 'host' -x -d 'Platform URL (default: $DASH_ENTERPRISE_HOST, else the last host logged into, else http://127.0.0.1:8050)'
complete -c de-cli -n '__de_cli_at \'version\'' -l 'no-keyfile' -d 'Do not read or write the keyfile; take credentials from DASH_ENTERPRISE_USERNAME and DASH_ENTERPRISE_PASSWORD (for CI)'
complete -c de-cli -n '__de_cli_at \'version\'' -l 'ca-path' -r -F -d 'CA bundle file to verify the server\'s certificate'
complete -c de-cli -n '__de_cli_at \'version\'' -l 'insecure' -d 'Skip TLS certificate verification (only for test servers)'
complete -c de-cli -n '__de_cli_at \'version\'' -l 'json' -d 'Print exactly one JSON document on stdout (errors too); progress as NDJSON lines on stderr'
complete -c de-cli -n '__de_cli_at \'version\'' -s 'q' -l 'quiet' -d 'Print nothing but results and errors'
complete -c de-cli -n '__de_cli_at \'version\'' -s 'v' -l 'verbose' -d 'Explain more on stderr (repeat for more)'
complete -c de-cli -n '__de_cli_at \'version\'' -l 'no-progress' -d 'Do not draw progress bars'
complete -c de-cli -n '__de_cli_at \'version\'' -l 'no-color' -d 'No colour in errors and warnings (also: NO_COLOR set, or stderr not a terminal)'
complete -c de-cli -n '__de_cli_at \'version\'' -s 'V' -l 'version' -d 'Print the versions of de-cli, its libraries and the server, and exit'

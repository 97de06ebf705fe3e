// Bash completion script. The script carries the command tree as two case
// tables (_X_spec: a command's subcommands, options and positionals;
// _X_values: how one option's or positional's value completes) and one small
// walker that finds the command path before the cursor, skipping option
// values. Dynamic values come from `<program> __complete <query>`, whose
// candidates already match the prefix; on any failure it prints nothing.

#include "model.hpp"

#include <fmt/format.h>

namespace de::docgen {

namespace {

using detail::shell_quote;

std::string value_call(const detail::ArgModel& arg, const std::string& fn) {
    switch (arg.source) {
        case ValueSource::files:
            return fn + "_files";
        case ValueSource::directories:
            return fn + "_dirs";
        case ValueSource::words:
            return fn + "_words " + shell_quote(detail::join(arg.words, " "));
        case ValueSource::dynamic:
            return fn + "_dynamic " + shell_quote(arg.query);
        case ValueSource::none:
            break;
    }
    return {};
}

}  // namespace

std::string bash_completion(const CLI::App& app, const CompletionSpec& spec) {
    const std::string program = detail::program_name(app, spec);
    const std::string fn = "_" + detail::identifier(program);
    const auto model = detail::build_model(app, spec);
    const auto forwarded = detail::forwarded_options(app, spec);
    std::string out;

    out += fmt::format(
        "# bash completion for {0}                                -*- shell-script -*-\n"
        "# Generated from {0}'s command tree by `{0} completion bash`: do not edit.\n\n",
        program);

    out += fmt::format(
        "# {}_spec CMD: sets subs, opts, vopts (value-taking options of CMD and its\n"
        "# parents) and pos (positionals as NAME:COUNT, COUNT -1 for any number).\n",
        fn);
    out += fn + "_spec() {\n    case \"$1\" in\n";
    for (const auto& cmd : model) {
        std::vector<std::string> opts;
        for (const auto& o : cmd.options) {
            opts.insert(opts.end(), o.names.begin(), o.names.end());
        }
        std::vector<std::string> pos;
        for (const auto& p : cmd.positionals) {
            pos.push_back(fmt::format("{}:{}", p.positional, p.max_count));
        }
        out += fmt::format("        {})\n", shell_quote(cmd.key));
        out +=
            fmt::format("            subs={}\n", shell_quote(detail::join(cmd.subcommands, " ")));
        out += fmt::format("            opts={}\n", shell_quote(detail::join(opts, " ")));
        out += fmt::format("            vopts={}\n",
                           shell_quote(detail::join(cmd.value_options, " ")));
        out += fmt::format("            pos={}\n", shell_quote(detail::join(pos, " ")));
        out += "            ;;\n";
    }
    out += "        *) subs='' opts='' vopts='' pos='' ;;\n    esac\n}\n\n";

    out +=
        fmt::format("# {}_values CMD TARGET: completes an option's or a positional's value.\n", fn);
    out += fn + "_values() {\n    case \"$1|$2\" in\n";
    for (const auto& c : detail::value_cases(model)) {
        const std::string call = value_call(*c.arg, fn);
        if (call.empty()) {
            continue;
        }
        out += fmt::format("        {}) {} ;;\n", detail::join(c.keys, " | "), call);
    }
    out += "    esac\n}\n\n";

    out += fn +
           "_words() {\n"
           "    local IFS=$' \\t\\n'\n"
           "    COMPREPLY=($(compgen -W \"$1\" -- \"$cur\"))\n}\n\n";
    // The word as the shell will pass it: COMP_WORDS keeps the user's quoting
    // (dir\ with\ space/), which compgen and the program must not see.
    out += fmt::format(
        "# {0}_dequote WORD: sets dq to WORD without its quoting (backslashes, '...',\n"
        "# \"...\"), as the command will receive it. Nothing is evaluated.\n",
        fn);
    out += fn +
           "_dequote() {\n"
           "    local s=$1 c q=''\n"
           "    local -i i\n"
           "    dq=''\n"
           "    for ((i = 0; i < ${#s}; i++)); do\n"
           "        c=${s:i:1}\n"
           "        if [[ $q == \"'\" ]]; then\n"
           "            if [[ $c == \"'\" ]]; then q=''; else dq+=$c; fi\n"
           "        elif [[ $q == '\"' ]]; then\n"
           "            if [[ $c == '\"' ]]; then\n"
           "                q=''\n"
           "            elif [[ $c == '\\' && ${s:i+1:1} == [\\\"\\\\\\$\\`] ]]; then\n"
           "                dq+=${s:i+1:1}\n"
           "                ((++i))\n"
           "            else\n"
           "                dq+=$c\n"
           "            fi\n"
           "        elif [[ $c == '\\' ]]; then\n"
           "            dq+=${s:i+1:1}\n"
           "            ((++i))\n"
           "        elif [[ $c == \"'\" || $c == '\"' ]]; then\n"
           "            q=$c\n"
           "        else\n"
           "            dq+=$c\n"
           "        fi\n"
           "    done\n"
           "}\n\n";
    out += fn +
           "_files() {\n"
           "    compopt -o filenames 2>/dev/null\n"
           "    local IFS=$'\\n' dq\n"
           "    " +
           fn +
           "_dequote \"$cur\"\n"
           "    COMPREPLY=($(compgen -f -- \"$dq\"))\n}\n\n";
    out += fn +
           "_dirs() {\n"
           "    compopt -o filenames 2>/dev/null\n"
           "    local IFS=$'\\n' dq\n"
           "    " +
           fn +
           "_dequote \"$cur\"\n"
           "    COMPREPLY=($(compgen -d -- \"$dq\"))\n}\n\n";

    // The dynamic query repeats the options that pick the server and the app.
    // The whole line counts, also what follows the cursor (`ls da<TAB> -n app`).
    out += fmt::format(
        "# {0}_dynamic QUERY: asks `{1} {2} QUERY` for candidates; it answers fast\n"
        "# or prints nothing. Options anywhere on the line (also after the cursor)\n"
        "# are forwarded, without their quoting.\n",
        fn, program, spec.complete_command);
    out += fn +
           "_dynamic() {\n"
           "    local -a pre=() post=()\n"
           "    local i w c dq n=${#COMP_WORDS[@]}\n"
           "    for ((i = 1; i < n; i++)); do\n"
           "        ((i == COMP_CWORD)) && continue\n"
           "        w=${COMP_WORDS[i]}\n"
           "        case \"$w\" in\n";
    for (const auto& f : forwarded) {
        const std::string list = f.root ? "pre" : "post";
        if (f.takes_value) {
            out += fmt::format(
                "            {0})\n"
                "                [[ ${{COMP_WORDS[i + 1]-}} == = ]] && ((++i))\n"
                "                if ((i + 1 < n && i + 1 != COMP_CWORD)); then\n"
                "                    {2}_dequote \"${{COMP_WORDS[i + 1]}}\"\n"
                "                    {1}+=(\"$w\" \"$dq\")\n"
                "                fi\n"
                "                ((++i))\n"
                "                ;;\n",
                shell_quote(f.name), list, fn);
        } else {
            out += fmt::format("            {}) {}+=(\"$w\") ;;\n", shell_quote(f.name), list);
        }
    }
    out += fmt::format(
        "        esac\n"
        "    done\n"
        "    {1}_dequote \"$cur\"\n"
        "    COMPREPLY=()\n"
        "    while IFS= read -r c; do\n"
        "        [[ -n $c ]] || continue\n"
        "        # A word the user opened with a quote is quoted by readline itself.\n"
        "        [[ $cur == [\\\"\\']* ]] || printf -v c '%q' \"$c\"\n"
        "        COMPREPLY+=(\"$c\")\n"
        "    done < <(\"$prog\" \"${{pre[@]}}\" {0} \"$1\" \"${{post[@]}}\" -- \"$dq\" "
        "2>/dev/null)\n"
        "    # A directory gets no space after it, so the path can go on.\n"
        "    if [[ ${{#COMPREPLY[@]}} -eq 1 && ${{COMPREPLY[0]}} == */ ]]; then\n"
        "        compopt -o nospace 2>/dev/null\n"
        "    fi\n"
        "    return 0\n"
        "}}\n\n",
        spec.complete_command, fn);

    out += fmt::format(
        "{0}() {{\n"
        "    local cur=${{COMP_WORDS[COMP_CWORD]}} prog=${{COMP_WORDS[0]}}\n"
        "    local cmd='' valopt='' npos=0 i w subs opts vopts pos p name count\n"
        "    local IFS=$' \\t\\n'\n"
        "    COMPREPLY=()\n"
        "    [[ $cur == = ]] && cur=''\n"
        "    {0}_spec ''\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        w=${{COMP_WORDS[i]}}\n"
        "        if [[ $w == -?* ]]; then\n"
        "            # An option that takes a value: skip it (\"--opt val\" or \"--opt = val\").\n"
        "            if [[ $w != *=* && \" $vopts \" == *\" $w \"* ]]; then\n"
        "                ((i + 1 == COMP_CWORD)) && {{ valopt=$w; break; }}\n"
        "                ((++i))\n"
        "                if [[ ${{COMP_WORDS[i]}} == = ]]; then\n"
        "                    ((i + 1 == COMP_CWORD)) && {{ valopt=$w; break; }}\n"
        "                    ((++i))\n"
        "                fi\n"
        "            fi\n"
        "        elif ((npos == 0)) && [[ -n $w && \" $subs \" == *\" $w \"* ]]; then\n"
        "            cmd=${{cmd:+$cmd }}$w\n"
        "            {0}_spec \"$cmd\"\n"
        "        else\n"
        "            ((++npos))\n"
        "        fi\n"
        "    done\n"
        "    if [[ -n $valopt ]]; then\n"
        "        {0}_values \"$cmd\" \"$valopt\"\n"
        "        return 0\n"
        "    fi\n"
        "    if [[ $cur == -* ]]; then\n"
        "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
        "        return 0\n"
        "    fi\n"
        "    if [[ -n $subs ]] && ((npos == 0)); then\n"
        "        COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
        "        return 0\n"
        "    fi\n"
        "    for p in $pos; do\n"
        "        name=${{p%:*}} count=${{p##*:}}\n"
        "        if ((count < 0 || npos < count)); then\n"
        "            {0}_values \"$cmd\" \"$name\"\n"
        "            return 0\n"
        "        fi\n"
        "        npos=$((npos - count))\n"
        "    done\n"
        "    return 0\n"
        "}}\n\n"
        "complete -F {0} {1}\n",
        fn, program);
    return out;
}

}  // namespace de::docgen

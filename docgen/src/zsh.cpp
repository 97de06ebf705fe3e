// Zsh completion script: the same design as the bash one (a spec table, a
// value table and a walker over $words), so both shells complete alike;
// candidates are offered with descriptions through _describe. The file works
// both autoloaded from $fpath (#compdef) and sourced after compinit.

#include "model.hpp"

#include <fmt/format.h>

namespace de::docgen {

namespace {

using detail::shell_quote;

// "name:description" for _describe; a colon in the name would split it.
std::string described(const std::string& name, const std::string& description) {
    std::string escaped;
    for (char c : name) {
        if (c == ':') {
            escaped += '\\';
        }
        escaped += c;
    }
    return shell_quote(description.empty() ? escaped : escaped + ":" + description);
}

std::string value_call(const detail::ArgModel& arg, const std::string& fn) {
    switch (arg.source) {
        case ValueSource::files:
            return "_files";
        case ValueSource::directories:
            return "_files -/";
        case ValueSource::words: {
            std::string words;
            for (const auto& w : arg.words) {
                words += " " + shell_quote(w);
            }
            return "compadd --" + words;
        }
        case ValueSource::dynamic:
            return fn + "_dynamic " + shell_quote(arg.query);
        case ValueSource::none:
            break;
    }
    return {};
}

}  // namespace

std::string zsh_completion(const CLI::App& app, const CompletionSpec& spec) {
    const std::string program = detail::program_name(app, spec);
    const std::string fn = "_" + detail::identifier(program);
    const auto model = detail::build_model(app, spec);
    const auto forwarded = detail::forwarded_options(app, spec);
    std::string out;

    out += fmt::format(
        "#compdef {0}\n"
        "# zsh completion for {0}.\n"
        "# Generated from {0}'s command tree by `{0} completion zsh`: do not edit.\n\n",
        program);

    out += fmt::format(
        "# {}_spec CMD: sets subs and opts (name:description), vopts (value-taking\n"
        "# options of CMD and its parents) and pos (NAME:COUNT, COUNT -1 for any).\n",
        fn);
    out += fn + "_spec() {\n    case $1 in\n";
    for (const auto& cmd : model) {
        out += fmt::format("        ({})\n", shell_quote(cmd.key));
        out += "            subs=(";
        for (std::size_t i = 0; i < cmd.subcommands.size(); ++i) {
            out += fmt::format("\n                {}",
                               described(cmd.subcommands[i], cmd.subcommand_descriptions[i]));
        }
        out += cmd.subcommands.empty() ? ")\n" : "\n            )\n";
        out += "            opts=(";
        for (const auto& o : cmd.options) {
            for (const auto& n : o.names) {
                out += fmt::format("\n                {}", described(n, o.description));
            }
        }
        out += cmd.options.empty() ? ")\n" : "\n            )\n";
        out += "            vopts=(";
        for (const auto& v : cmd.value_options) {
            out += (&v == &cmd.value_options.front() ? "" : " ") + shell_quote(v);
        }
        out += ")\n            pos=(";
        for (const auto& p : cmd.positionals) {
            out += (&p == &cmd.positionals.front() ? "" : " ") +
                   shell_quote(fmt::format("{}:{}", p.positional, p.max_count));
        }
        out += ")\n            ;;\n";
    }
    out += "        (*) subs=() opts=() vopts=() pos=() ;;\n    esac\n}\n\n";

    out +=
        fmt::format("# {}_values CMD TARGET: completes an option's or a positional's value.\n", fn);
    out += fn + "_values() {\n    case \"$1|$2\" in\n";
    for (const auto& c : detail::value_cases(model)) {
        const std::string call = value_call(*c.arg, fn);
        if (call.empty()) {
            continue;
        }
        out += fmt::format("        ({}) {} ;;\n", detail::join(c.keys, "|"), call);
    }
    out += "    esac\n}\n\n";

    out += fmt::format(
        "# {0}_dynamic QUERY: asks `{1} {2} QUERY` for candidates; it answers fast\n"
        "# or prints nothing.\n",
        fn, program, spec.complete_command);
    out += fn +
           "_dynamic() {\n"
           "    local -a pre post cands\n"
           "    local i w c\n"
           "    # The whole line counts, also what follows the cursor.\n"
           "    for ((i = 2; i <= ${#words}; i++)); do\n"
           "        ((i == CURRENT)) && continue\n"
           "        w=${(Q)words[i]}\n"
           "        case $w in\n";
    for (const auto& f : forwarded) {
        const std::string list = f.root ? "pre" : "post";
        if (f.takes_value) {
            out += fmt::format(
                "            ({0})\n"
                "                ((i + 1 <= ${{#words}} && i + 1 != CURRENT)) && "
                "{1}+=(\"$w\" \"${{(Q)words[i + 1]}}\")\n"
                "                ((++i))\n"
                "                ;;\n"
                "            ({0}=*) {1}+=(\"$w\") ;;\n",
                shell_quote(f.name), list);
        } else {
            out += fmt::format("            ({}) {}+=(\"$w\") ;;\n", shell_quote(f.name), list);
        }
    }
    out += fmt::format(
        "        esac\n"
        "    done\n"
        "    # The prefix without its quoting; compadd quotes the candidates back.\n"
        "    cands=(${{(f)\"$(${{(Q)words[1]}} $pre {} $1 $post -- \"${{(Q)PREFIX}}\" "
        "2>/dev/null)\"}})\n"
        "    for c in $cands; do\n"
        "        # A directory gets no space after it, so the path can go on.\n"
        "        if [[ $c == */ ]]; then\n"
        "            compadd -S '' -- \"$c\"\n"
        "        else\n"
        "            compadd -- \"$c\"\n"
        "        fi\n"
        "    done\n"
        "}}\n\n",
        spec.complete_command);

    out += fmt::format(
        "{0}() {{\n"
        "    local cmd='' valopt='' w p name count\n"
        "    local -i i npos=0\n"
        "    local -a subs opts vopts pos subnames\n"
        "    {0}_spec ''\n"
        "    for ((i = 2; i < CURRENT; i++)); do\n"
        "        w=${{words[i]}}\n"
        "        subnames=(${{subs%%:*}})\n"
        "        if [[ $w == -?* ]]; then\n"
        "            if [[ $w != *=* ]] && (( ${{vopts[(Ie)$w]}} )); then\n"
        "                ((i + 1 == CURRENT)) && {{ valopt=$w; break; }}\n"
        "                ((++i))\n"
        "            fi\n"
        "        elif ((npos == 0)) && [[ -n $w ]] && (( ${{subnames[(Ie)$w]}} )); then\n"
        "            cmd=${{cmd:+$cmd }}$w\n"
        "            {0}_spec \"$cmd\"\n"
        "        else\n"
        "            ((++npos))\n"
        "        fi\n"
        "    done\n"
        "    if [[ -z $valopt && $PREFIX == -*=* ]] && (( ${{vopts[(Ie)${{PREFIX%%=*}}]}} )); "
        "then\n"
        "        valopt=${{PREFIX%%=*}}\n"
        "        compset -P '*='\n"
        "    fi\n"
        "    if [[ -n $valopt ]]; then\n"
        "        {0}_values \"$cmd\" \"$valopt\"\n"
        "        return\n"
        "    fi\n"
        "    if [[ $PREFIX == -* ]]; then\n"
        "        _describe -t options option opts\n"
        "        return\n"
        "    fi\n"
        "    if (( ${{#subs}} && npos == 0 )); then\n"
        "        _describe -t commands command subs\n"
        "        return\n"
        "    fi\n"
        "    for p in $pos; do\n"
        "        name=${{p%:*}} count=${{p##*:}}\n"
        "        if (( count < 0 || npos < count )); then\n"
        "            {0}_values \"$cmd\" \"$name\"\n"
        "            return\n"
        "        fi\n"
        "        npos=$((npos - count))\n"
        "    done\n"
        "}}\n\n"
        "if [[ ${{zsh_eval_context[-1]}} == loadautofunc ]]; then\n"
        "    {0} \"$@\"\n"
        "else\n"
        "    compdef {0} {1}\n"
        "fi\n",
        fn, program);
    return out;
}

}  // namespace de::docgen

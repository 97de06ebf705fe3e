// Fish completion script: fish's own `complete` entries, one per subcommand,
// option and positional, each guarded by a condition on the command path
// before the cursor (__X_path walks the tokens like the bash script does).
// File completion is off unless an entry asks for it (-F).

#include "model.hpp"

#include <fmt/format.h>

namespace de::docgen {

namespace {

// Fish single quotes: only \ and ' are special inside.
std::string fish_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\\' || c == '\'') {
            out += '\\';
        }
        out += c;
    }
    out += '\'';
    return out;
}

std::string value_flags(const detail::ArgModel& arg, const std::string& fn) {
    switch (arg.source) {
        case ValueSource::files:
            return " -r -F";
        case ValueSource::directories:
            return " -x -a '(__fish_complete_directories)'";
        case ValueSource::words:
            return " -x -a " + fish_quote(detail::join(arg.words, " "));
        case ValueSource::dynamic:
            return fmt::format(" -x -a {}", fish_quote("(" + fn + "_dynamic " + arg.query + ")"));
        case ValueSource::none:
            break;
    }
    return " -x";
}

}  // namespace

std::string fish_completion(const CLI::App& app, const CompletionSpec& spec) {
    const std::string program = detail::program_name(app, spec);
    const std::string fn = "__" + detail::identifier(program);
    const auto model = detail::build_model(app, spec);
    const auto forwarded = detail::forwarded_options(app, spec);
    std::string out;

    out += fmt::format(
        "# fish completion for {0}.\n"
        "# Generated from {0}'s command tree by `{0} completion fish`: do not edit.\n\n",
        program);

    out += "function " + fn + "_subs --argument-names cmd\n    switch \"$cmd\"\n";
    for (const auto& cmd : model) {
        if (!cmd.subcommands.empty()) {
            out += fmt::format("        case {}\n            printf '%s\\n' {}\n",
                               fish_quote(cmd.key), detail::join(cmd.subcommands, " "));
        }
    }
    out += "    end\nend\n\n";

    out += "function " + fn + "_vopts --argument-names cmd\n    switch \"$cmd\"\n";
    for (const auto& cmd : model) {
        if (!cmd.value_options.empty()) {
            out += fmt::format("        case {}\n            printf '%s\\n' {}\n",
                               fish_quote(cmd.key), detail::join(cmd.value_options, " "));
        }
    }
    out += "    end\nend\n\n";

    out += fmt::format(
        "# Prints the number of positionals so far, then the command path.\n"
        "function {0}_path\n"
        "    set -l toks (commandline -opc)\n"
        "    set -e toks[1]\n"
        "    set -l cmd ''\n"
        "    set -l npos 0\n"
        "    set -l skip 0\n"
        "    for t in $toks\n"
        "        if test $skip -eq 1\n"
        "            set skip 0\n"
        "            continue\n"
        "        end\n"
        "        if string match -q -- '-?*' $t\n"
        "            if not string match -q -- '*=*' $t; and contains -- $t ({0}_vopts \"$cmd\")\n"
        "                set skip 1\n"
        "            end\n"
        "        else if test $npos -eq 0; and contains -- $t ({0}_subs \"$cmd\")\n"
        "            set cmd (string trim -- \"$cmd $t\")\n"
        "        else\n"
        "            set npos (math $npos + 1)\n"
        "        end\n"
        "    end\n"
        "    echo $npos\n"
        "    echo $cmd\n"
        "end\n\n"
        "function {0}_at --argument-names want\n"
        "    set -l state ({0}_path)\n"
        "    test \"$state[2]\" = \"$want\"\n"
        "end\n\n"
        "# {0}_pos CMD FIRST COUNT: at CMD, completing positional FIRST..FIRST+COUNT-1\n"
        "# (COUNT -1: any number).\n"
        "function {0}_pos --argument-names want first count\n"
        "    set -l state ({0}_path)\n"
        "    test \"$state[2]\" = \"$want\"; or return 1\n"
        "    test $state[1] -ge $first; or return 1\n"
        "    test $count -lt 0; or test $state[1] -lt (math $first + $count)\n"
        "end\n\n",
        fn);

    out += fmt::format(
        "# {0}_dynamic QUERY: asks `{1} {2} QUERY` for candidates; it answers fast\n"
        "# or prints nothing.\n"
        "function {0}_dynamic --argument-names query\n"
        "    # The whole line counts, also what follows the cursor.\n"
        "    set -l toks (commandline -op)\n"
        "    set -l here (math (count (commandline -opc)) + 1)\n"
        "    set -l prog $toks[1]\n"
        "    set -l pre\n"
        "    set -l post\n"
        "    set -l next ''\n"
        "    set -l opt ''\n"
        "    for i in (seq 2 (count $toks))\n"
        "        set -l t $toks[$i]\n"
        "        if test -n \"$next\"\n"
        "            test $i -ne $here; and set -a $next $opt $t\n"
        "            set next ''\n"
        "            continue\n"
        "        end\n"
        "        test $i -eq $here; and continue\n"
        "        switch $t\n",
        fn, program, spec.complete_command);
    for (const auto& f : forwarded) {
        const std::string list = f.root ? "pre" : "post";
        if (f.takes_value) {
            out += fmt::format(
                "            case {0}\n"
                "                set opt $t\n"
                "                set next {1}\n"
                "            case {2}\n"
                "                set -a {1} $t\n",
                fish_quote(f.name), list, fish_quote(f.name + "=*"));
        } else {
            out += fmt::format("            case {}\n                set -a {} $t\n",
                               fish_quote(f.name), list);
        }
    }
    out += fmt::format(
        "        end\n"
        "    end\n"
        "    $prog $pre {} $query $post -- (string unescape -- (commandline -ct)) 2>/dev/null\n"
        "end\n\n",
        spec.complete_command);

    out += fmt::format("complete -c {} -f\n", program);
    for (const auto& cmd : model) {
        const std::string at = fish_quote(fmt::format("{}_at {}", fn, fish_quote(cmd.key)));
        out += fmt::format("\n# {}\n", cmd.key.empty() ? program : program + " " + cmd.key);
        for (std::size_t i = 0; i < cmd.subcommands.size(); ++i) {
            out += fmt::format("complete -c {} -n {} -a {} -d {}\n", program, at,
                               fish_quote(cmd.subcommands[i]),
                               fish_quote(cmd.subcommand_descriptions[i]));
        }
        for (const auto& o : cmd.options) {
            std::string names;
            for (const auto& n : o.names) {
                if (n.rfind("--", 0) == 0) {
                    names += " -l " + fish_quote(n.substr(2));
                } else if (n.size() == 2) {
                    names += " -s " + fish_quote(n.substr(1));
                } else {
                    names += " -o " + fish_quote(n.substr(1));
                }
            }
            out += fmt::format("complete -c {} -n {}{}{} -d {}\n", program, at, names,
                               o.takes_value ? value_flags(o, fn) : "", fish_quote(o.description));
        }
        int first = 0;
        for (const auto& p : cmd.positionals) {
            if (p.source != ValueSource::none) {
                const std::string cond = fish_quote(
                    fmt::format("{}_pos {} {} {}", fn, fish_quote(cmd.key), first, p.max_count));
                // A positional is no option argument: -f (no files) instead of -x.
                std::string flags = value_flags(p, fn);
                if (p.source == ValueSource::files) {
                    flags = " -F";
                } else if (flags.rfind(" -x", 0) == 0) {
                    flags.replace(0, 3, " -f");
                }
                out += fmt::format("complete -c {} -n {}{}\n", program, cond, flags);
            }
            if (p.max_count < 0) {
                break;
            }
            first += p.max_count;
        }
    }
    return out;
}

}  // namespace de::docgen

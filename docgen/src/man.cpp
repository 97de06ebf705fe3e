// man(7) page from the command tree: NAME, SYNOPSIS, DESCRIPTION, OPTIONS (the
// root's), COMMANDS (every visible command with its usage, description and
// options), then the caller's sections (EXIT STATUS, ENVIRONMENT, FILES...)
// and EXAMPLES collected from the commands' "$ program ..." help lines.
// All text is escaped here; callers pass plain text. The output lints clean
// with `mandoc -T lint -W warning` and renders with man-db's `man -l`.

#include "model.hpp"

#include <de/docgen.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace de::docgen {

namespace {

using detail::trim;

// Plain text to roff: backslashes and hyphens escaped (so options render as
// ASCII minus, copy-pasteable), and no line may start with a control character.
std::string esc(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else {
            out += c;
        }
    }
    return out;
}

// Text lines of a paragraph: escaped, trimmed, never starting with '.' or '\''.
std::string text_lines(std::string_view text) {
    std::string out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line.empty()) {
            continue;
        }
        if (line[0] == '.' || line[0] == '\'') {
            out += "\\&";
        }
        out += esc(line) + "\n";
    }
    return out;
}

// Paragraphs separated by blank lines; `first` is false when a .PP is needed
// before the first one (not right after .SH/.SS/.TP).
std::string paragraphs(std::string_view text, bool first) {
    std::string out;
    std::istringstream in{std::string(text)};
    std::string line;
    std::string para;
    auto flush = [&] {
        if (trim(para).empty()) {
            para.clear();
            return;
        }
        if (!first) {
            out += ".PP\n";
        }
        out += text_lines(para);
        first = false;
        para.clear();
    };
    while (std::getline(in, line)) {
        if (trim(line).empty()) {
            flush();
        } else {
            para += line + "\n";
        }
    }
    flush();
    return out;
}

// The description without example lines and their "Examples:" heading: the
// examples have their own section.
std::string without_examples(const std::string& text, const std::string& prompt) {
    std::string out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const std::string t = trim(line);
        if (t.rfind(prompt, 0) == 0 || t == "Examples:" || t == "Example:") {
            continue;
        }
        out += line + "\n";
    }
    return out;
}

std::string value_name(const CLI::Option& opt) {
    if (auto values = fixed_values(opt); !values.empty()) {
        std::string joined;
        for (const auto& v : values) {
            joined += (joined.empty() ? "" : "|") + v;
        }
        return "{" + joined + "}";
    }
    // "TEXT:FILE" (CLI::ExistingFile) says more as FILE.
    std::string type = opt.get_type_name();
    if (const auto colon = type.find(':'); colon != std::string::npos) {
        const std::string check = type.substr(colon + 1);
        const bool word = !check.empty() && std::all_of(check.begin(), check.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || c == '_';
        });
        type = word ? check : type.substr(0, colon);
    }
    return type;
}

bool takes_value(const CLI::Option& opt) {
    return opt.get_items_expected_max() > 0;
}

bool is_help(const CLI::Option& opt) {
    const auto& l = opt.get_lnames();
    return std::find(l.begin(), l.end(), "help") != l.end();
}

std::string option_tag(const CLI::Option& opt) {
    if (!opt.nonpositional()) {
        const bool fixed = !fixed_values(opt).empty();
        return fmt::format("\\fI{}\\fR{}", esc(opt.get_name(true)),
                           fixed ? " " + esc(value_name(opt)) : std::string());
    }
    std::string tag;
    for (const auto& s : opt.get_snames()) {
        tag += (tag.empty() ? "" : ", ") + fmt::format("\\fB\\-{}\\fR", esc(s));
    }
    for (const auto& l : opt.get_lnames()) {
        tag += (tag.empty() ? "" : ", ") + fmt::format("\\fB\\-\\-{}\\fR", esc(l));
    }
    if (takes_value(opt) && !value_name(opt).empty()) {
        tag += fmt::format(" \\fI{}\\fR", esc(value_name(opt)));
    }
    return tag;
}

std::string option_text(const CLI::Option& opt) {
    std::string text = opt.get_description();
    std::vector<std::string> notes;
    if (opt.get_required()) {
        notes.push_back("required");
    }
    if (!opt.get_default_str().empty()) {
        notes.push_back("default: " + opt.get_default_str());
    }
    if (!opt.get_envname().empty()) {
        notes.push_back("environment: " + opt.get_envname());
    }
    if (!notes.empty()) {
        std::string joined;
        for (const auto& n : notes) {
            joined += (joined.empty() ? "" : "; ") + n;
        }
        text = trim(text) + " (" + joined + ")";
    }
    return trim(text).empty() ? std::string("\\&\n") : text_lines(text);
}

std::string options_list(const std::vector<const CLI::Option*>& options) {
    std::string out;
    for (const CLI::Option* opt : options) {
        out += ".TP\n" + option_tag(*opt) + "\n" + option_text(*opt);
    }
    return out;
}

// "de-cli mount enable -n APP [OPTIONS] PATH..." with required options shown.
std::string usage(const CLI::App& cmd, const std::string& full_name) {
    std::string out = fmt::format("\\fB{}\\fR", esc(full_name));
    bool optional_options = false;
    for (const CLI::Option* opt : visible_options(cmd)) {
        if (!opt->nonpositional()) {
            continue;
        }
        if (opt->get_required()) {
            const std::string name = opt->get_snames().empty() ? "--" + opt->get_lnames().at(0)
                                                               : "-" + opt->get_snames().at(0);
            out += fmt::format(" \\fB{}\\fR", esc(name));
            if (takes_value(*opt) && !value_name(*opt).empty()) {
                out += fmt::format(" \\fI{}\\fR", esc(value_name(*opt)));
            }
        } else {
            optional_options = true;
        }
    }
    if (optional_options) {
        out += " [\\fIOPTIONS\\fR]";
    }
    if (!visible_subcommands(cmd).empty()) {
        out += " \\fICOMMAND\\fR";
    }
    for (const CLI::Option* opt : visible_options(cmd)) {
        if (!opt->get_positional() || opt->nonpositional()) {
            continue;
        }
        std::string arg = fmt::format("\\fI{}\\fR", esc(opt->get_name(true)));
        if (opt->get_items_expected_max() > 1) {
            arg += "...";
        }
        out += opt->get_required() ? " " + arg : " [" + arg + "]";
    }
    return out + "\n";
}

void command_sections(const CLI::App& cmd, const std::string& full_name, const std::string& prompt,
                      std::string& out) {
    out += fmt::format(".SS \"{}\"\n", esc(full_name));
    out += usage(cmd, full_name);
    out += paragraphs(without_examples(cmd.get_description(), prompt), false);
    std::vector<const CLI::Option*> options;
    for (const CLI::Option* opt : visible_options(cmd)) {
        if (!is_help(*opt) && (opt->nonpositional() || !opt->get_description().empty())) {
            options.push_back(opt);
        }
    }
    out += options_list(options);
    for (const CLI::App* sub : visible_subcommands(cmd)) {
        command_sections(*sub, full_name + " " + sub->get_name(), prompt, out);
    }
}

std::string section_body(const ManSection& section) {
    std::string out;
    bool first = true;
    for (const auto& p : section.paragraphs) {
        out += paragraphs(p, first);
        first = false;
    }
    for (const auto& item : section.items) {
        out += ".TP\n" + text_lines(item.tag);
        out += trim(item.text).empty() ? std::string("\\&\n") : text_lines(item.text);
    }
    return out;
}

// Examples grouped by command: a bold caption, then the command lines (with
// their "# comment" lines) in a no-fill block, as typed at a prompt.
std::string examples_body(const std::vector<Example>& examples, const std::string& program,
                          bool first) {
    std::string out;
    for (std::size_t i = 0; i < examples.size();) {
        const std::string& command = examples[i].command;
        if (!first) {
            out += ".PP\n";
        }
        first = false;
        out +=
            fmt::format("\\fB{}\\fR\n", esc(command.empty() ? program : program + " " + command));
        out += ".RS 4\n.nf\n";
        for (; i < examples.size() && examples[i].command == command; ++i) {
            if (!examples[i].comment.empty()) {
                out += text_lines("# " + examples[i].comment);
            }
            out += text_lines("$ " + examples[i].line);
        }
        out += ".fi\n.RE\n";
    }
    return out;
}

}  // namespace

std::string man_page(const CLI::App& app, const ManPageInfo& info) {
    const std::string name = info.name.empty() ? app.get_name() : info.name;
    const std::string prompt = "$ " + name;
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::string out;
    out += fmt::format(".\\\" Generated from {}'s command tree: do not edit.\n", name);
    // The date stays as given (YYYY-MM-DD): mandoc parses it only unescaped.
    out += fmt::format(".TH \"{}\" \"{}\" \"{}\" \"{}\" \"{}\"\n", esc(upper), info.section,
                       info.date, esc(info.source), esc(info.manual));
    // Left-aligned, unhyphenated: option names and paths must not be split.
    out += ".nh\n.ad l\n";

    std::string summary = info.summary.empty() ? app.get_description() : info.summary;
    const std::string own_prefix = name + ": ";
    if (summary.rfind(own_prefix, 0) == 0) {
        summary = summary.substr(own_prefix.size());
    }
    out += ".SH NAME\n" + esc(name) + " \\- " + esc(trim(summary)) + "\n";

    out += ".SH SYNOPSIS\n" + usage(app, name);
    if (!visible_subcommands(app).empty()) {
        out += ".PP\nCommands:\n";
        for (const CLI::App* sub : visible_subcommands(app)) {
            out += fmt::format(".br\n\\fB{} {}\\fR", esc(name), esc(sub->get_name()));
            const auto subs = visible_subcommands(*sub);
            if (!subs.empty()) {
                std::string list;
                for (const CLI::App* s : subs) {
                    list += (list.empty() ? "" : "|") + esc(s->get_name());
                }
                out += " " + list;
            }
            out += "\n";
        }
    }

    if (!info.description.empty()) {
        out += ".SH DESCRIPTION\n";
        bool first = true;
        for (const auto& p : info.description) {
            out += paragraphs(p, first);
            first = false;
        }
    }

    out += ".SH OPTIONS\n";
    out += options_list(visible_options(app));

    if (!visible_subcommands(app).empty()) {
        out += ".SH COMMANDS\n";
        for (const CLI::App* sub : visible_subcommands(app)) {
            command_sections(*sub, name + " " + sub->get_name(), prompt, out);
        }
    }

    const auto examples =
        info.collect_examples ? collect_examples(app, name) : std::vector<Example>{};
    bool examples_done = examples.empty();
    for (const ManSection& section : info.sections) {
        if (!examples_done && section.title == "SEE ALSO") {
            out += ".SH EXAMPLES\n" + examples_body(examples, name, true);
            examples_done = true;
        }
        out += fmt::format(".SH {}\n", esc(section.title));
        out += section_body(section);
        if (!examples_done && section.title == "EXAMPLES") {
            out +=
                examples_body(examples, name, section.paragraphs.empty() && section.items.empty());
            examples_done = true;
        }
    }
    if (!examples_done) {
        out += ".SH EXAMPLES\n" + examples_body(examples, name, true);
    }
    return out;
}

}  // namespace de::docgen

// Glob matching by recursion on the pattern: patterns are short, and a
// backtracking loop that tries each split point for '*' / '**' is simple and
// correct when both kinds mix (the classic single-backtrack trick is not).
#include <de/glob.hpp>

namespace de {

namespace {

// Matches a bracket class starting at pat[0] == '['. Returns the length of the
// class in the pattern (0 when unterminated: then '[' is a literal).
std::size_t match_class(std::string_view pat, char c, bool& matched) {
    std::size_t i = 1;
    bool negate = i < pat.size() && (pat[i] == '!' || pat[i] == '^');
    if (negate) ++i;
    bool hit = false;
    std::size_t start = i;
    for (; i < pat.size(); ++i) {
        if (pat[i] == ']' && i > start) break;
        char lo = pat[i];
        char hi = lo;
        if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
            hi = pat[i + 2];
            i += 2;
        }
        if (lo <= c && c <= hi) hit = true;
    }
    if (i >= pat.size()) return 0;
    matched = c != '/' && hit != negate;
    return i + 1;
}

bool match(std::string_view pat, std::string_view str) {
    while (!pat.empty()) {
        if (pat[0] == '*') {
            bool any_depth = pat.size() > 1 && pat[1] == '*';
            std::string_view rest = pat.substr(any_depth ? 2 : 1);
            // "**/" may stand for no folder at all: "a/**/b" matches "a/b".
            if (any_depth && !rest.empty() && rest[0] == '/' && match(rest.substr(1), str))
                return true;
            for (std::size_t k = 0;; ++k) {
                if (match(rest, str.substr(k))) return true;
                if (k >= str.size() || (!any_depth && str[k] == '/')) return false;
            }
        }
        if (str.empty()) return false;
        std::size_t used = 1;
        if (pat[0] == '?') {
            if (str[0] == '/') return false;
        } else if (pat[0] == '[') {
            bool matched = false;
            std::size_t len = match_class(pat, str[0], matched);
            if (len == 0) {
                if (str[0] != '[') return false;
            } else {
                if (!matched) return false;
                used = len;
            }
        } else if (pat[0] == '\\' && pat.size() > 1) {
            if (pat[1] != str[0]) return false;
            used = 2;
        } else if (pat[0] != str[0]) {
            return false;
        }
        pat.remove_prefix(used);
        str.remove_prefix(1);
    }
    return str.empty();
}

bool any_matches(const std::vector<std::string>& patterns, std::string_view path) {
    for (const auto& p : patterns)
        if (glob_match(p, path)) return true;
    return false;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
    while (!pattern.empty() && pattern.back() == '/')
        pattern.remove_suffix(1);
    if (pattern.empty()) return false;
    if (pattern[0] == '/') return match(pattern.substr(1), path);
    if (pattern.find('/') == std::string_view::npos) {
        auto slash = path.rfind('/');
        return match(pattern, slash == std::string_view::npos ? path : path.substr(slash + 1));
    }
    return match(pattern, path);
}

PathFilter::PathFilter(std::vector<std::string> include, std::vector<std::string> exclude)
    : m_include(std::move(include)), m_exclude(std::move(exclude)) {}

bool PathFilter::enters_dir(std::string_view path) const {
    return !any_matches(m_exclude, path);
}

bool PathFilter::accepts_file(std::string_view path) const {
    // Excluded itself or through any folder above it.
    for (std::size_t slash = path.find('/'); slash != std::string_view::npos;
         slash = path.find('/', slash + 1))
        if (any_matches(m_exclude, path.substr(0, slash))) return false;
    if (any_matches(m_exclude, path)) return false;
    return m_include.empty() || any_matches(m_include, path);
}

}  // namespace de

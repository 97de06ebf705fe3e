// Glob matching in time linear in the path's length: a pattern is compiled
// once into a small list of tokens (a Thompson-style automaton), and a path is
// run through it with the set of live token positions, one step a byte. A
// backtracking matcher tries every split point of every '*', which is
// exponential for patterns such as "*a*a*a*a*a*a*a*a*a*b"; here each byte costs
// at most one visit per token, whatever the pattern, so a user's --exclude
// can never hang a walk.
#include <de/glob.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace de {

namespace {

struct Token {
    enum class Kind : std::uint8_t {
        byte,       // one given byte
        any,        // '?': one byte except '/'
        set,        // '[...]': one byte of a class ('/' never)
        star,       // '*': any run of bytes without '/'
        any_depth,  // '**': any run of bytes, '/' included
    };
    Kind kind = Kind::byte;
    char byte = 0;
    std::array<bool, 256> members{};  // Kind::set: which bytes match
};

// Parses a bracket class starting at pat[0] == '['. Returns its length in the
// pattern, or 0 when it is unterminated (then '[' is a literal).
std::size_t parse_class(std::string_view pat, Token& token) {
    std::size_t i = 1;
    bool negate = i < pat.size() && (pat[i] == '!' || pat[i] == '^');
    if (negate) ++i;
    std::size_t start = i;
    std::array<bool, 256> hit{};
    for (; i < pat.size(); ++i) {
        if (pat[i] == ']' && i > start) break;
        char lo = pat[i];
        char hi = lo;
        if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
            hi = pat[i + 2];
            i += 2;
        }
        // Ranges compare as char, as a shell's fnmatch in the C locale does.
        for (int b = 0; b < 256; ++b) {
            char c = static_cast<char>(b);
            if (lo <= c && c <= hi) hit[static_cast<std::size_t>(b)] = true;
        }
    }
    if (i >= pat.size()) return 0;
    token.kind = Token::Kind::set;
    for (std::size_t b = 0; b < 256; ++b)
        token.members[b] = static_cast<char>(b) != '/' && hit[b] != negate;
    return i + 1;
}

std::vector<Token> compile(std::string_view pat) {
    std::vector<Token> tokens;
    while (!pat.empty()) {
        Token token;
        std::size_t used = 1;
        if (pat[0] == '*') {
            bool any_depth = pat.size() > 1 && pat[1] == '*';
            token.kind = any_depth ? Token::Kind::any_depth : Token::Kind::star;
            used = any_depth ? 2 : 1;
        } else if (pat[0] == '?') {
            token.kind = Token::Kind::any;
        } else if (pat[0] == '[') {
            std::size_t len = parse_class(pat, token);
            if (len == 0) {
                token.kind = Token::Kind::byte;
                token.byte = '[';
            } else {
                used = len;
            }
        } else if (pat[0] == '\\' && pat.size() > 1) {
            token.byte = pat[1];
            used = 2;
        } else {
            token.byte = pat[0];
        }
        tokens.push_back(token);
        pat.remove_prefix(used);
    }
    return tokens;
}

// Adds state i and everything reachable from it without reading a byte: a star
// may match nothing, and "**/" may stand for no folder at all ("a/**/b"
// matches "a/b").
void add_state(const std::vector<Token>& tokens, std::vector<char>& live, std::size_t i) {
    while (i <= tokens.size() && !live[i]) {
        live[i] = 1;
        if (i == tokens.size()) return;
        const Token& t = tokens[i];
        if (t.kind == Token::Kind::any_depth && i + 1 < tokens.size() &&
            tokens[i + 1].kind == Token::Kind::byte && tokens[i + 1].byte == '/')
            add_state(tokens, live, i + 2);
        if (t.kind != Token::Kind::star && t.kind != Token::Kind::any_depth) return;
        ++i;
    }
}

bool match(std::string_view pat, std::string_view str) {
    const std::vector<Token> tokens = compile(pat);
    std::vector<char> live(tokens.size() + 1, 0);
    std::vector<char> next(tokens.size() + 1, 0);
    add_state(tokens, live, 0);
    for (char c : str) {
        std::fill(next.begin(), next.end(), 0);
        bool any = false;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            if (!live[i]) continue;
            const Token& t = tokens[i];
            bool stay = false, advance = false;
            switch (t.kind) {
                case Token::Kind::byte:
                    advance = c == t.byte;
                    break;
                case Token::Kind::any:
                    advance = c != '/';
                    break;
                case Token::Kind::set:
                    advance = t.members[static_cast<unsigned char>(c)];
                    break;
                case Token::Kind::star:
                    stay = c != '/';
                    break;
                case Token::Kind::any_depth:
                    stay = true;
                    break;
            }
            if (stay) add_state(tokens, next, i);
            if (advance) add_state(tokens, next, i + 1);
            any = any || stay || advance;
        }
        if (!any) return false;
        live.swap(next);
    }
    return live[tokens.size()] != 0;
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

// WebDAV request XML and the If header: see dav_xml.hpp.
//
// The body is parsed by expat into a small tree (at most k_max_elements
// elements, k_max_depth deep, text no larger than the body), which is then
// checked against the method's grammar. Property values and <owner> are cut
// out of that tree and written again as self-contained fragments: every
// element names its namespace with a default declaration (xmlns="urn:a", or
// xmlns="" for none) unless its re-serialized parent already put the same one
// in scope, namespaced attributes get a prefixed declaration, text is escaped
// (CR as &#13; so it survives the next parser's line-end normalization).
// Comments and processing instructions are dropped; the infoset RFC 4918 4.3
// asks to keep (names, attributes, element and character children) is kept.
#include "dav_xml.hpp"

#include <expat.h>

#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace de::server::dav {

namespace {

constexpr std::string_view k_dav = "DAV:";
constexpr std::string_view k_xml_ns = "http://www.w3.org/XML/1998/namespace";
// Separator between namespace URI, local name and prefix in expat's names:
// U+0001 is not an XML 1.0 character, so no URI or name can contain it.
constexpr char k_sep = '\x01';

struct Attr {
    QName name;
    std::string prefix;  // as written (namespaced attributes only)
    std::string value;
};

struct Child {
    bool is_text = false;
    std::string text;         // is_text
    std::size_t element = 0;  // !is_text: index in Tree::nodes
};

struct Node {
    QName name;
    std::vector<Attr> attrs;
    std::vector<Child> children;
    std::size_t lang_node = SIZE_MAX;  // the node whose xml:lang is in scope (SIZE_MAX: none)
};

struct Tree {
    std::vector<Node> nodes;  // nodes[0] is the root once parsed
    std::size_t budget = 0;   // bytes names, attributes and fragments may take (see below)
    std::size_t used = 0;

    // The xml:lang in scope on `node`, "" when none.
    std::string_view lang(const Node& node) const {
        if (node.lang_node == SIZE_MAX) return {};
        for (const auto& a : nodes[node.lang_node].attrs)
            if (a.name.ns == k_xml_ns && a.name.name == "lang") return a.value;
        return {};
    }
};

// What one body may cost in copied names and re-serialized fragments. Expat
// hands over every element and attribute name with its full namespace URI,
// so 10,000 elements in a namespace with a long URI would copy that URI
// 10,000 times, and re-serialization declares it again on each sibling: an
// amplification, refused with a 413 once past 16 times the body plus 1 MiB.
std::size_t expansion_budget(std::string_view body) {
    return body.size() * 16 + (1u << 20);
}

// Splits expat's "uri<sep>local<sep>prefix" (or "local").
void split_name(const char* raw, QName& name, std::string* prefix) {
    std::string_view s(raw);
    auto a = s.find(k_sep);
    if (a == std::string_view::npos) {
        name.ns.clear();
        name.name = std::string(s);
        return;
    }
    name.ns = std::string(s.substr(0, a));
    auto rest = s.substr(a + 1);
    auto b = rest.find(k_sep);
    name.name = std::string(rest.substr(0, b));
    if (prefix && b != std::string_view::npos) *prefix = std::string(rest.substr(b + 1));
}

struct ParseState {
    XML_Parser parser = nullptr;
    Tree tree;
    std::vector<std::size_t> stack;
    std::optional<XmlError> error;

    bool charge(std::size_t bytes) {
        tree.used += bytes;
        if (tree.used <= tree.budget) return true;
        fail(413, "XML body expands too much (namespace names repeated on many elements)");
        return false;
    }

    void fail(int status, std::string message) {
        if (!error) error = XmlError{status, std::move(message)};
        XML_StopParser(parser, XML_FALSE);
    }
};

void XMLCALL on_start(void* ud, const XML_Char* name, const XML_Char** atts) {
    auto& st = *static_cast<ParseState*>(ud);
    if (st.error) return;
    if (st.tree.nodes.size() >= k_max_elements) {
        st.fail(413, "XML body has more than " + std::to_string(k_max_elements) + " elements");
        return;
    }
    if (st.stack.size() >= k_max_depth) {
        st.fail(400, "XML body is nested deeper than " + std::to_string(k_max_depth) + " elements");
        return;
    }
    Node node;
    split_name(name, node.name, nullptr);
    std::size_t index = st.tree.nodes.size();
    if (!st.stack.empty()) node.lang_node = st.tree.nodes[st.stack.back()].lang_node;
    std::size_t bytes = node.name.ns.size() + node.name.name.size();
    for (const XML_Char** a = atts; a && a[0]; a += 2) {
        Attr attr;
        split_name(a[0], attr.name, &attr.prefix);
        attr.value = a[1];
        if (attr.name.ns == k_xml_ns && attr.name.name == "lang") node.lang_node = index;
        bytes +=
            attr.name.ns.size() + attr.name.name.size() + attr.prefix.size() + attr.value.size();
        node.attrs.push_back(std::move(attr));
    }
    if (!st.charge(bytes)) return;
    st.tree.nodes.push_back(std::move(node));
    if (!st.stack.empty()) {
        Child c;
        c.element = index;
        st.tree.nodes[st.stack.back()].children.push_back(std::move(c));
    }
    st.stack.push_back(index);
}

void XMLCALL on_end(void* ud, const XML_Char*) {
    auto& st = *static_cast<ParseState*>(ud);
    if (st.error || st.stack.empty()) return;
    st.stack.pop_back();
}

void XMLCALL on_text(void* ud, const XML_Char* s, int len) {
    auto& st = *static_cast<ParseState*>(ud);
    if (st.error || st.stack.empty() || len <= 0) return;
    auto& children = st.tree.nodes[st.stack.back()].children;
    if (children.empty() || !children.back().is_text) {
        Child c;
        c.is_text = true;
        children.push_back(std::move(c));
    }
    children.back().text.append(s, static_cast<std::size_t>(len));
}

void XMLCALL on_doctype(void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<ParseState*>(ud)->fail(400, "DTDs are not accepted in WebDAV request bodies");
}

void XMLCALL on_entity_decl(void* ud, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                            const XML_Char*, const XML_Char*, const XML_Char*) {
    static_cast<ParseState*>(ud)->fail(400, "entity declarations are not accepted");
}

// Never loads anything: an external entity reference is an error.
int XMLCALL on_external_entity(XML_Parser, const XML_Char*, const XML_Char*, const XML_Char*,
                               const XML_Char*) {
    return XML_STATUS_ERROR;
}

XmlResult<Tree> parse_tree(std::string_view body) {
    if (body.size() > static_cast<std::size_t>(INT_MAX))
        return std::unexpected(XmlError{413, "XML body too large"});
    ParseState st;
    st.tree.budget = expansion_budget(body);
    st.parser = XML_ParserCreateNS(nullptr, k_sep);
    if (!st.parser) return std::unexpected(XmlError{500, "cannot create an XML parser"});
    struct Free {
        XML_Parser p;
        ~Free() { XML_ParserFree(p); }
    } free_parser{st.parser};
    XML_SetReturnNSTriplet(st.parser, 1);
    XML_SetUserData(st.parser, &st);
    XML_SetElementHandler(st.parser, on_start, on_end);
    XML_SetCharacterDataHandler(st.parser, on_text);
    XML_SetStartDoctypeDeclHandler(st.parser, on_doctype);
    XML_SetEntityDeclHandler(st.parser, on_entity_decl);
    XML_SetExternalEntityRefHandler(st.parser, on_external_entity);
    XML_SetParamEntityParsing(st.parser, XML_PARAM_ENTITY_PARSING_NEVER);
    auto status = XML_Parse(st.parser, body.data(), static_cast<int>(body.size()), XML_TRUE);
    if (st.error) return std::unexpected(std::move(*st.error));
    if (status != XML_STATUS_OK) {
        auto code = XML_GetErrorCode(st.parser);
        const char* what = XML_ErrorString(code);
        return std::unexpected(
            XmlError{400, "XML body is not well-formed: line " +
                              std::to_string(XML_GetCurrentLineNumber(st.parser)) + ", column " +
                              std::to_string(XML_GetCurrentColumnNumber(st.parser) + 1) + ": " +
                              (what ? what : "error")});
    }
    if (st.tree.nodes.empty()) return std::unexpected(XmlError{400, "XML body has no element"});
    return std::move(st.tree);
}

bool all_space(std::string_view s) {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

bool is_dav(const QName& n, std::string_view local) {
    return n.ns == k_dav && n.name == local;
}

// A name for an error message (plain text: escape it to put it in XML),
// cut short: a namespace URI may be as long as the body.
std::string show(const QName& n) {
    // Appended piece by piece: g++ 12 at -O2 takes `s.substr(0, 200) + "..."`
    // for an out-of-bounds memcpy (a false -Warray-bounds).
    std::string s;
    if (!n.ns.empty()) s.append("{").append(n.ns).append("}");
    s.append(n.name);
    if (s.size() > 200) {
        s.resize(200);
        s.append("...");
    }
    return s;
}

XmlError shape(std::string message) {
    return XmlError{422, std::move(message)};
}

// The element children of `node` named DAV:`local`.
std::vector<std::size_t> dav_children(const Tree& t, const Node& node, std::string_view local) {
    std::vector<std::size_t> out;
    for (const auto& c : node.children)
        if (!c.is_text && is_dav(t.nodes[c.element].name, local)) out.push_back(c.element);
    return out;
}

std::vector<QName> element_names(const Tree& t, const Node& node) {
    std::vector<QName> out;
    for (const auto& c : node.children)
        if (!c.is_text) out.push_back(t.nodes[c.element].name);
    return out;
}

// ---- re-serialization -------------------------------------------------------

// What an escape writes as a character reference besides & < > (always).
struct Escapes {
    bool quot = false, apos = false, tab_newline = false, cr = false;
};
constexpr Escapes k_text{false, false, false, true};   // element content
constexpr Escapes k_attr{true, false, true, true};     // a "..." attribute value
constexpr Escapes k_public{true, true, false, false};  // xml_escape: anywhere in an answer

void append_escaped(std::string& out, std::string_view s, Escapes e) {
    std::size_t plain = 0;  // start of the run of characters taken as they are
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char* ref = nullptr;
        switch (s[i]) {
            case '&':
                ref = "&amp;";
                break;
            case '<':
                ref = "&lt;";
                break;
            case '>':
                ref = "&gt;";
                break;
            case '"':
                ref = e.quot ? "&quot;" : nullptr;
                break;
            case '\'':
                ref = e.apos ? "&apos;" : nullptr;
                break;
            case '\t':
                ref = e.tab_newline ? "&#9;" : nullptr;
                break;
            case '\n':
                ref = e.tab_newline ? "&#10;" : nullptr;
                break;
            case '\r':
                ref = e.cr ? "&#13;" : nullptr;
                break;
            default:
                break;
        }
        if (!ref) continue;
        out.append(s, plain, i - plain);
        out += ref;
        plain = i + 1;
    }
    out.append(s, plain, s.size() - plain);
}

void escape_text(std::string& out, std::string_view s) {
    append_escaped(out, s, k_text);
}
void escape_attr(std::string& out, std::string_view s) {
    append_escaped(out, s, k_attr);
}

// Writes elements with the namespace declarations they need: an element's
// namespace is the default one (declared when it differs from what the
// written parent put in scope; at the fragment's top the scope is unknown, so
// always), a namespaced attribute's is its prefix, declared unless the written
// ancestors bound that prefix to the same URI.
struct Writer {
    Tree& tree;
    std::string& out;
    bool over = false;
    // prefix → URIs bound by the elements being written, innermost last
    std::map<std::string, std::vector<const std::string*>, std::less<>> prefixes;

    void check() {
        if (tree.used + out.size() > tree.budget) over = true;
    }

    // parent_ns: the default namespace in scope, nullptr when unknown.
    void element(const Node& node, const std::string* parent_ns) {
        if (over) return;
        out += '<';
        out += node.name.name;
        const std::string* ns = parent_ns;
        if (!ns || *ns != node.name.ns) {
            out += " xmlns=\"";
            escape_attr(out, node.name.ns);
            out += '"';
            ns = &node.name.ns;
        }
        std::vector<std::string> pushed;
        for (const auto& a : node.attrs) {
            out += ' ';
            if (a.name.ns == k_xml_ns) {
                out += "xml:";
            } else if (!a.name.ns.empty()) {
                // A namespaced attribute always came with a prefix (the
                // input's, which binds one URI per element); "ns" is only a
                // fallback for an expat that did not report it.
                std::string prefix = a.prefix.empty() || a.prefix == "xmlns" || a.prefix == "xml"
                                         ? std::string("ns")
                                         : a.prefix;
                auto it = prefixes.find(prefix);
                const std::string* bound =
                    it == prefixes.end() || it->second.empty() ? nullptr : it->second.back();
                if (!bound || *bound != a.name.ns) {
                    out += "xmlns:" + prefix + "=\"";
                    escape_attr(out, a.name.ns);
                    out += "\" ";
                    prefixes[prefix].push_back(&a.name.ns);
                    pushed.push_back(prefix);
                }
                out += prefix;
                out += ':';
            }
            out += a.name.name;
            out += "=\"";
            escape_attr(out, a.value);
            out += '"';
        }
        if (node.children.empty()) {
            out += "/>";
        } else {
            out += '>';
            content(node, ns);
            out += "</";
            out += node.name.name;
            out += '>';
        }
        for (const auto& p : pushed)
            prefixes.find(p)->second.pop_back();
        check();
    }

    void content(const Node& node, const std::string* ns) {
        for (const auto& c : node.children) {
            if (over) return;
            if (c.is_text)
                escape_text(out, c.text);
            else
                element(tree.nodes[c.element], ns);
            check();
        }
    }
};

XmlError too_big() {
    return XmlError{413, "XML property values are too large once re-serialized"};
}

// The content of `node` as a self-contained fragment, charged to the budget.
XmlResult<std::string> fragment(Tree& t, const Node& node) {
    std::string out;
    Writer w{t, out, false, {}};
    w.content(node, nullptr);
    if (w.over) return std::unexpected(too_big());
    t.used += out.size();
    return out;
}

}  // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_escaped(out, text, k_public);
    return out;
}

void xml_escape_to(std::string& out, std::string_view text) {
    append_escaped(out, text, k_public);
}

XmlResult<PropfindRequest> parse_propfind(std::string_view body) {
    PropfindRequest req;
    if (all_space(body)) return req;
    auto tree = parse_tree(body);
    if (!tree) return std::unexpected(std::move(tree.error()));
    const Tree& t = *tree;
    const Node& root = t.nodes[0];
    if (!is_dav(root.name, "propfind"))
        return std::unexpected(
            shape("PROPFIND body must be a DAV:propfind element, not " + show(root.name)));
    auto props = dav_children(t, root, "prop");
    auto allprop = dav_children(t, root, "allprop");
    auto propname = dav_children(t, root, "propname");
    auto include = dav_children(t, root, "include");
    if (props.size() + allprop.size() + propname.size() != 1)
        return std::unexpected(
            shape("DAV:propfind must hold exactly one of DAV:prop, DAV:allprop, DAV:propname"));
    if (!include.empty() && allprop.empty())
        return std::unexpected(shape("DAV:include is only allowed with DAV:allprop"));
    if (!props.empty()) {
        req.kind = PropfindKind::prop;
        req.props = element_names(t, t.nodes[props[0]]);
    } else if (!propname.empty()) {
        req.kind = PropfindKind::propname;
    }
    for (auto i : include)
        for (auto& n : element_names(t, t.nodes[i]))
            req.include.push_back(std::move(n));
    return req;
}

XmlResult<std::vector<PropPatchOp>> parse_proppatch(std::string_view body) {
    auto tree = parse_tree(body);
    if (!tree) return std::unexpected(std::move(tree.error()));
    Tree& t = *tree;
    const Node& root = t.nodes[0];
    if (!is_dav(root.name, "propertyupdate"))
        return std::unexpected(
            shape("PROPPATCH body must be a DAV:propertyupdate element, not " + show(root.name)));
    std::vector<PropPatchOp> ops;
    bool any = false;
    for (const auto& c : root.children) {
        if (c.is_text) continue;
        const Node& op = t.nodes[c.element];
        bool set = is_dav(op.name, "set");
        if (!set && !is_dav(op.name, "remove")) continue;  // unknown: ignored (RFC 4918 17)
        any = true;
        auto prop = dav_children(t, op, "prop");
        if (prop.size() != 1)
            return std::unexpected(
                shape("DAV:" + op.name.name + " must hold exactly one DAV:prop"));
        for (const auto& pc : t.nodes[prop[0]].children) {
            if (pc.is_text) continue;
            const Node& p = t.nodes[pc.element];
            PropPatchOp o;
            o.set = set;
            o.name = p.name;
            if (set) {
                auto value = fragment(t, p);
                if (!value) return std::unexpected(std::move(value.error()));
                o.value_xml = std::move(*value);
                o.xml_lang = t.lang(p);
                t.used += o.xml_lang.size();
                if (t.used > t.budget) return std::unexpected(too_big());
            }
            ops.push_back(std::move(o));
        }
    }
    if (!any)
        return std::unexpected(
            shape("DAV:propertyupdate must hold at least one DAV:set or DAV:remove"));
    return ops;
}

XmlResult<std::optional<LockInfo>> parse_lockinfo(std::string_view body) {
    if (all_space(body)) return std::optional<LockInfo>{};
    auto tree = parse_tree(body);
    if (!tree) return std::unexpected(std::move(tree.error()));
    Tree& t = *tree;
    const Node& root = t.nodes[0];
    if (!is_dav(root.name, "lockinfo"))
        return std::unexpected(
            shape("LOCK body must be a DAV:lockinfo element, not " + show(root.name)));
    LockInfo info;
    auto scope = dav_children(t, root, "lockscope");
    if (scope.size() != 1)
        return std::unexpected(shape("DAV:lockinfo must hold exactly one DAV:lockscope"));
    auto exclusive = dav_children(t, t.nodes[scope[0]], "exclusive");
    auto shared = dav_children(t, t.nodes[scope[0]], "shared");
    if (exclusive.size() + shared.size() != 1)
        return std::unexpected(
            shape("DAV:lockscope must hold exactly one of DAV:exclusive, DAV:shared"));
    info.exclusive = !exclusive.empty();
    auto type = dav_children(t, root, "locktype");
    if (type.size() != 1)
        return std::unexpected(shape("DAV:lockinfo must hold exactly one DAV:locktype"));
    if (dav_children(t, t.nodes[type[0]], "write").size() != 1)
        return std::unexpected(shape("only write locks are supported (DAV:locktype DAV:write)"));
    auto owner = dav_children(t, root, "owner");
    if (owner.size() > 1)
        return std::unexpected(shape("DAV:lockinfo holds more than one DAV:owner"));
    if (!owner.empty()) {
        auto xml = fragment(t, t.nodes[owner[0]]);
        if (!xml) return std::unexpected(std::move(xml.error()));
        info.owner_xml = std::move(*xml);
    }
    return std::optional<LockInfo>(std::move(info));
}

// ---- If header ----------------------------------------------------------------

namespace {

struct IfScanner {
    std::string_view s;
    std::size_t i = 0;

    void skip_lws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
            ++i;
    }
    bool at_end() {
        skip_lws();
        return i >= s.size();
    }
    char peek() { return i < s.size() ? s[i] : '\0'; }

    // "<" ... ">": no whitespace, controls or angle brackets inside, not empty.
    std::optional<std::string> angle() {
        if (peek() != '<') return std::nullopt;
        std::size_t start = ++i;
        while (i < s.size() && s[i] != '>') {
            auto c = static_cast<unsigned char>(s[i]);
            if (c <= 0x20 || c == 0x7f || c == '<') return std::nullopt;
            ++i;
        }
        if (i >= s.size() || i == start) return std::nullopt;
        std::string v(s.substr(start, i - start));
        ++i;
        return v;
    }

    // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 8.8.3), and SP.
    std::optional<std::string> etag() {
        std::size_t start = i;
        if (s.substr(i, 2) == "W/") i += 2;
        if (peek() != '"') return std::nullopt;
        ++i;
        while (i < s.size() && s[i] != '"') {
            auto c = static_cast<unsigned char>(s[i]);
            // Spaces are not etagc, but RFC 4918's own examples use them.
            if (c < 0x20 || c == 0x7f) return std::nullopt;
            ++i;
        }
        if (i >= s.size()) return std::nullopt;
        ++i;
        return std::string(s.substr(start, i - start));
    }

    // "Not" (case-insensitive, as HTTP's ABNF strings are).
    bool not_keyword() {
        if (i + 3 > s.size()) return false;
        auto w = s.substr(i, 3);
        bool match = (w[0] == 'N' || w[0] == 'n') && (w[1] == 'O' || w[1] == 'o') &&
                     (w[2] == 'T' || w[2] == 't');
        if (!match) return false;
        i += 3;
        return true;
    }
};

XmlError bad_if(std::string what) {
    return XmlError{400, "malformed If header: " + what};
}

}  // namespace

XmlResult<std::vector<IfList>> parse_if_header(std::string_view value) {
    IfScanner sc{value};
    std::vector<IfList> lists;
    std::optional<bool> tagged;  // decided by the first list
    std::optional<std::string> resource;
    if (sc.at_end()) return std::unexpected(bad_if("empty"));
    while (!sc.at_end()) {
        if (sc.peek() == '<') {
            if (tagged == false) return std::unexpected(bad_if("tagged list after untagged one"));
            auto tag = sc.angle();
            if (!tag) return std::unexpected(bad_if("bad resource tag"));
            tagged = true;
            resource = std::move(*tag);
            if (sc.at_end() || sc.peek() != '(')
                return std::unexpected(bad_if("resource tag without a list"));
            continue;
        }
        if (sc.peek() != '(') return std::unexpected(bad_if("expected '(' or '<'"));
        if (!tagged) tagged = false;
        ++sc.i;
        IfList list;
        list.resource = resource;
        while (true) {
            if (sc.at_end()) return std::unexpected(bad_if("unterminated list"));
            if (sc.peek() == ')') {
                ++sc.i;
                break;
            }
            IfCondition cond;
            if (sc.not_keyword()) {
                cond.negated = true;
                if (sc.at_end()) return std::unexpected(bad_if("Not without a condition"));
            }
            if (sc.peek() == '<') {
                auto token = sc.angle();
                if (!token) return std::unexpected(bad_if("bad state token"));
                cond.value = std::move(*token);
            } else if (sc.peek() == '[') {
                ++sc.i;
                sc.skip_lws();
                auto tag = sc.etag();
                if (!tag) return std::unexpected(bad_if("bad entity tag"));
                sc.skip_lws();
                if (sc.peek() != ']') return std::unexpected(bad_if("entity tag without ']'"));
                ++sc.i;
                cond.etag = true;
                cond.value = std::move(*tag);
            } else {
                return std::unexpected(bad_if("expected a state token or [entity-tag]"));
            }
            list.conditions.push_back(std::move(cond));
        }
        if (list.conditions.empty()) return std::unexpected(bad_if("empty list"));
        lists.push_back(std::move(list));
    }
    return lists;
}

}  // namespace de::server::dav

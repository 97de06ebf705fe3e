#pragma once
// WebDAV request bodies (PROPFIND, PROPPATCH, LOCK) and the If header
// (RFC 4918), as pure functions over the bytes: no I/O, so unit tests and the
// fuzzer reach them directly. XML is parsed with expat, namespace aware;
// hostile input is refused cheaply: any DOCTYPE (so no entity is ever
// declared, expanded or loaded), nesting deeper than k_max_depth, more than
// k_max_elements elements.
//
// Status codes of XmlError:
//   400  not well-formed XML (expat's message and line), invalid UTF-8, a
//        DOCTYPE, nesting deeper than k_max_depth, a malformed If header;
//   413  more than k_max_elements elements, or a body whose names (expat
//        repeats each namespace URI on every element and attribute) and
//        re-serialized values would take more than 16 times its size + 1 MiB;
//   422  well-formed XML of the wrong shape (RFC 4918 11.2): the root is not
//        the method's element, a required child is missing or repeated,
//        locktype is not write. Unknown elements are ignored where the RFC's
//        grammar is not violated (RFC 4918 17: recipients ignore what they do
//        not understand; litmus' propextended sends <propfind><foobar/>
//        <allprop/></propfind> and expects a 207).

#include <compare>
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace de::server::dav {

inline constexpr std::size_t k_max_depth = 64;
inline constexpr std::size_t k_max_elements = 10'000;

struct QName {  // {namespace URI, local name}; ns "" = no namespace
    std::string ns, name;
    auto operator<=>(const QName&) const = default;
};
struct XmlError {
    int status = 400;  // 400 malformed, 422 wrong shape, 413 too big
    std::string message;
};
template <class T>
using XmlResult = std::expected<T, XmlError>;

enum class PropfindKind { allprop, propname, prop };
struct PropfindRequest {
    PropfindKind kind = PropfindKind::allprop;
    std::vector<QName> props;    // kind == prop: the names asked, in order
    std::vector<QName> include;  // allprop's <include> (RFC 4918 14.8), may be empty
};
// An empty (or all-whitespace) body is allprop.
XmlResult<PropfindRequest> parse_propfind(std::string_view body);

struct PropPatchOp {
    bool set = true;  // false: remove
    QName name;
    // set: the property's value as a self-contained XML fragment (the element's
    // content): text escaped, child elements re-serialized with the namespace
    // declarations they need (e.g. <x xmlns="urn:a">..</x>), so it can be
    // embedded verbatim inside any element of a response. Text and nesting kept.
    std::string value_xml;
    // set: the xml:lang in scope on the property element ("" when none), which
    // RFC 4918 4.3 asks servers to keep; PROPFIND echoes it as xml:lang="..."
    // on the property element.
    std::string xml_lang;
};
// In document order (RFC 4918 9.2: applied in order, all or nothing).
XmlResult<std::vector<PropPatchOp>> parse_proppatch(std::string_view body);

struct LockInfo {
    bool exclusive = true;  // lockscope; locktype must be write (else 422)
    std::string owner_xml;  // content of <owner>, self-contained like value_xml ("" if none)
};
// Empty (or all-whitespace) body → nullopt (a lock refresh).
XmlResult<std::optional<LockInfo>> parse_lockinfo(std::string_view body);

// Text content / attribute value escaping (& < > " ').
std::string xml_escape(std::string_view text);
// The same, appended to `out` (no string of its own: PROPFIND's listings).
void xml_escape_to(std::string& out, std::string_view text);

// The If header (RFC 4918 10.4). A list of lists; each list optionally tagged
// with a resource (the URL inside <...>, as sent: absolute URL or absolute path).
struct IfCondition {
    bool negated = false;
    bool etag = false;  // true: [entity-tag] (value with its quotes, e.g. "\"abc\"" or W/"x")
    std::string value;  // etag, or the state token (Coded-URL without < >)
};
struct IfList {
    std::optional<std::string> resource;
    std::vector<IfCondition> conditions;
};
// Tagged and untagged lists may not be mixed; a malformed header is a 400.
XmlResult<std::vector<IfList>> parse_if_header(std::string_view value);

}  // namespace de::server::dav

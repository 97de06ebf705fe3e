// WebDAV request bodies and the If header (server/src/dav_xml.cpp), all four
// parsers on every input. Invariants: an error is 400, 413 or 422 with a
// message; a property value or lock owner, embedded in another body as a
// property value, parses back and re-serializes to itself (it is a
// self-contained, well-formed fragment); an If header written out again from
// what was parsed parses to the same lists; xml_escape leaves no markup.
#include "fuzz_check.hpp"

#include "dav_xml.hpp"

#include <cstdint>
#include <string>
#include <string_view>

using namespace de::server::dav;

namespace {

template <class T>
void check_error(const XmlResult<T>& r) {
    if (r) return;
    const auto& e = r.error();
    FUZZ_CHECK(e.status == 400 || e.status == 413 || e.status == 422);
    FUZZ_CHECK(!e.message.empty());
}

// A value goes back as a property value, an owner as an owner: the same depth
// and no more wrapper elements than the input had, so no limit trips.
void check_fragment(const std::string& fragment, bool owner) {
    if (owner) {
        auto again = parse_lockinfo(
            "<D:lockinfo xmlns:D='DAV:'><D:lockscope><D:exclusive/></D:lockscope><D:locktype>"
            "<D:write/></D:locktype><D:owner>" +
            fragment + "</D:owner></D:lockinfo>");
        FUZZ_CHECK(again && *again && (*again)->owner_xml == fragment);
        return;
    }
    auto again =
        parse_proppatch("<D:propertyupdate xmlns:D='DAV:'><D:set><D:prop><p xmlns='urn:p'>" +
                        fragment + "</p></D:prop></D:set></D:propertyupdate>");
    FUZZ_CHECK(again && again->size() == 1 && (*again)[0].value_xml == fragment);
}

std::string format_if(const std::vector<IfList>& lists) {
    std::string out;
    for (const auto& l : lists) {
        if (l.resource) out += "<" + *l.resource + "> ";
        out += '(';
        for (const auto& c : l.conditions) {
            if (c.negated) out += "Not ";
            out += c.etag ? "[" + c.value + "] " : "<" + c.value + "> ";
        }
        out += ") ";
    }
    return out;
}

bool same(const std::vector<IfList>& a, const std::vector<IfList>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].resource != b[i].resource) return false;
        if (a[i].conditions.size() != b[i].conditions.size()) return false;
        for (std::size_t k = 0; k < a[i].conditions.size(); ++k) {
            const auto& x = a[i].conditions[k];
            const auto& y = b[i].conditions[k];
            if (x.negated != y.negated || x.etag != y.etag || x.value != y.value) return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    auto pf = parse_propfind(in);
    check_error(pf);
    if (pf && pf->kind != PropfindKind::prop) FUZZ_CHECK(pf->props.empty());

    auto pp = parse_proppatch(in);
    check_error(pp);
    if (pp)
        for (const auto& op : *pp) {
            FUZZ_CHECK(!op.name.name.empty());
            if (op.set)
                check_fragment(op.value_xml, false);
            else
                FUZZ_CHECK(op.value_xml.empty());
        }

    auto li = parse_lockinfo(in);
    check_error(li);
    if (li && *li) check_fragment((*li)->owner_xml, true);

    auto ih = parse_if_header(in);
    check_error(ih);
    if (ih) {
        FUZZ_CHECK(!ih->empty());
        for (const auto& l : *ih) {
            FUZZ_CHECK(!l.conditions.empty());
            for (const auto& c : l.conditions)
                FUZZ_CHECK(!c.value.empty());
        }
        auto again = parse_if_header(format_if(*ih));
        FUZZ_CHECK(again && same(*again, *ih));
    }

    std::string esc = xml_escape(in);
    FUZZ_CHECK(esc.find_first_of("<>\"'") == std::string::npos);
    return 0;
}

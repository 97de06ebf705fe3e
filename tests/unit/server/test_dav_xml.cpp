// WebDAV request XML (PROPFIND, PROPPATCH, LOCK), hostile XML and the If header.
#include "dav_xml.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

// Everything in this file, tests included, sits in dav_xml_test: the unit
// executable is one unity translation unit, so neither the helpers nor the
// using-directive reach the other test files.
namespace dav_xml_test {

using namespace de::server::dav;

const std::string k_decl = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>";
const std::string k_litmus = "http://webdav.org/neon/litmus/";

// The value of the only property a PROPPATCH body sets.
std::string only_value(const std::string& body) {
    auto ops = parse_proppatch(body);
    REQUIRE(ops);
    REQUIRE(ops->size() == 1);
    CHECK((*ops)[0].set);
    return (*ops)[0].value_xml;
}

// A canonical dump of a fragment's structure, read back by the parser itself:
// the fragment is wrapped as a property value and its re-serialization must
// equal itself (a fixed point), and be the given dump.
std::string reparse(const std::string& fragment) {
    return only_value("<D:propertyupdate xmlns:D='DAV:'><D:set><D:prop><p xmlns='urn:p'>" +
                      fragment + "</p></D:prop></D:set></D:propertyupdate>");
}

std::string nested(int depth) {
    std::string s = "<D:propfind xmlns:D='DAV:'><D:prop>";
    for (int i = 0; i < depth; ++i)
        s += "<a>";
    for (int i = 0; i < depth; ++i)
        s += "</a>";
    return s + "</D:prop></D:propfind>";
}

TEST_CASE("parse_propfind: empty body, allprop, propname, prop, include") {
    for (const char* body : {"", "  \r\n\t"}) {
        auto r = parse_propfind(body);
        REQUIRE(r);
        CHECK(r->kind == PropfindKind::allprop);
        CHECK(r->props.empty());
    }
    auto r = parse_propfind(k_decl + "<propfind xmlns='DAV:'><propname/></propfind>");
    REQUIRE(r);
    CHECK(r->kind == PropfindKind::propname);

    r = parse_propfind(k_decl +
                       "<D:propfind xmlns:D=\"DAV:\">\n  <D:prop xmlns:R=\"http://ns.example.com/"
                       "boxschema/\">\n    <R:bigbox/> <R:author/>\n    <D:getetag/>"
                       "<nonamespace xmlns=''/>\n  </D:prop>\n</D:propfind>");
    REQUIRE(r);
    CHECK(r->kind == PropfindKind::prop);
    REQUIRE(r->props.size() == 4);
    CHECK(r->props[0] == QName{"http://ns.example.com/boxschema/", "bigbox"});
    CHECK(r->props[1] == QName{"http://ns.example.com/boxschema/", "author"});
    CHECK(r->props[2] == QName{"DAV:", "getetag"});
    CHECK(r->props[3] == QName{"", "nonamespace"});

    r = parse_propfind(
        "<D:propfind xmlns:D='DAV:'><D:allprop/><D:include><D:supported-live-property-set/>"
        "<D:supported-report-set/></D:include></D:propfind>");
    REQUIRE(r);
    CHECK(r->kind == PropfindKind::allprop);
    REQUIRE(r->include.size() == 2);
    CHECK(r->include[1] == QName{"DAV:", "supported-report-set"});
}

TEST_CASE("parse_propfind: unknown elements ignored (litmus propextended)") {
    auto r = parse_propfind(k_decl + "<propfind xmlns=\"DAV:\"><foobar/><allprop/></propfind>");
    REQUIRE(r);
    CHECK(r->kind == PropfindKind::allprop);
}

TEST_CASE("parse_propfind: malformed is 400, wrong shape is 422") {
    auto r = parse_propfind("<foo>");  // litmus propfind_invalid
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    CHECK(r.error().message.find("line 1") != std::string::npos);
    // litmus propfind_invalid2: a prefix may not be undeclared in XML 1.0.
    r = parse_propfind(
        "<D:propfind xmlns:D=\"DAV:\"><D:prop><bar:foo xmlns:bar=\"\"/></D:prop></D:propfind>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    r = parse_propfind("<propfind><allprop/></propfind>");  // no namespace
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_propfind("<D:propfind xmlns:D='DAV:'/>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_propfind("<D:propfind xmlns:D='DAV:'><D:allprop/><D:propname/></D:propfind>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_propfind("<D:propfind xmlns:D='DAV:'><D:propname/><D:include/></D:propfind>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_propfind("<D:propfind xmlns:D='DAV:'><D:allprop/></D:propfind><x/>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
}

TEST_CASE("parse_proppatch: set and remove in document order (RFC 4918 9.2.2)") {
    auto ops = parse_proppatch(
        k_decl +
        "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"http://ns.example.com/standards/z39.50/\">\n"
        "  <D:set><D:prop><Z:Authors><Z:Author>Jim Whitehead</Z:Author>\n"
        "<Z:Author>Roy Fielding</Z:Author></Z:Authors></D:prop></D:set>\n"
        "  <D:remove><D:prop><Z:Copyright-Owner/></D:prop></D:remove>\n"
        "  <D:set><D:prop><Z:x>a &amp; b &lt; c</Z:x></D:prop></D:set>\n"
        "</D:propertyupdate>");
    REQUIRE(ops);
    REQUIRE(ops->size() == 3);
    const std::string z = "http://ns.example.com/standards/z39.50/";
    CHECK((*ops)[0].set);
    CHECK((*ops)[0].name == QName{z, "Authors"});
    CHECK((*ops)[0].value_xml == "<Author xmlns=\"" + z +
                                     "\">Jim Whitehead</Author>\n<Author xmlns=\"" + z +
                                     "\">Roy Fielding</Author>");
    CHECK_FALSE((*ops)[1].set);
    CHECK((*ops)[1].name == QName{z, "Copyright-Owner"});
    CHECK((*ops)[1].value_xml.empty());
    CHECK((*ops)[2].value_xml == "a &amp; b &lt; c");
}

TEST_CASE("parse_proppatch: what litmus' props suite sends") {
    // propset: neon's own body, ten properties in the litmus namespace.
    std::string body = k_decl + "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>";
    for (int i = 0; i < 10; ++i)
        body += "<prop" + std::to_string(i) + " xmlns=\"" + k_litmus + "\">value" +
                std::to_string(i) + "</prop" + std::to_string(i) + ">";
    body += "</D:prop></D:set></D:propertyupdate>";
    auto ops = parse_proppatch(body);
    REQUIRE(ops);
    REQUIRE(ops->size() == 10);
    CHECK((*ops)[9].name == QName{k_litmus, "prop9"});
    CHECK((*ops)[9].value_xml == "value9");

    // propnullns
    ops = parse_proppatch(k_decl +
                          "<propertyupdate xmlns=\"DAV:\"><set><prop><nonamespace "
                          "xmlns=\"\">randomvalue</nonamespace></prop></set></propertyupdate>");
    REQUIRE(ops);
    REQUIRE(ops->size() == 1);
    CHECK((*ops)[0].name == QName{"", "nonamespace"});
    CHECK((*ops)[0].value_xml == "randomvalue");

    // prophighunicode: U+10000 as a character reference comes back as UTF-8.
    CHECK(only_value(k_decl + "<propertyupdate xmlns='DAV:'><set><prop><high-unicode xmlns='" +
                     k_litmus + "'>&#65536;</high-unicode></prop></set></propertyupdate>") ==
          "\xf0\x90\x80\x80");

    // propremoveset: remove, set x, set y, in that order.
    ops = parse_proppatch(k_decl + "<propertyupdate xmlns='DAV:'><remove><prop><removeset xmlns='" +
                          k_litmus + "'/></prop></remove><set><prop><removeset xmlns='" + k_litmus +
                          "'>x</removeset></prop></set><set><prop><removeset xmlns='" + k_litmus +
                          "'>y</removeset></prop></set></propertyupdate>");
    REQUIRE(ops);
    REQUIRE(ops->size() == 3);
    CHECK_FALSE((*ops)[0].set);
    CHECK((*ops)[1].value_xml == "x");
    CHECK((*ops)[2].value_xml == "y");

    // propvalnspace: the value's own default namespace is declared again.
    CHECK(only_value(k_decl + "<propertyupdate xmlns='DAV:'><set><prop><t:valnspace xmlns:t='" +
                     k_litmus +
                     "'><foo xmlns='bar'/></t:valnspace></prop></set>"
                     "</propertyupdate>") == "<foo xmlns=\"bar\"/>");

    // propmanyns: ten namespaces, one name.
    body = k_decl + "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>";
    for (const char* ns :
         {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"})
        body += std::string("<somename xmlns=\"") + ns + "\">manynsvalue</somename>";
    body += "</D:prop></D:set></D:propertyupdate>";
    ops = parse_proppatch(body);
    REQUIRE(ops);
    REQUIRE(ops->size() == 10);
    CHECK((*ops)[0].name == QName{"alpha", "somename"});
    CHECK((*ops)[9].name == QName{"kappa", "somename"});
}

TEST_CASE("parse_proppatch: values are self-contained and round-trip") {
    // Prefixed children, a no-namespace child under a namespaced one,
    // namespaced and xml: attributes, mixed content, whitespace, CR, escapes.
    std::string v = only_value(
        "<D:propertyupdate xmlns:D='DAV:' xmlns:a='urn:a' xmlns:b='urn:b'><D:set><D:prop>"
        "<a:p xml:lang='de'>  lead <a:x b:k='1&amp;&quot;' plain='t&#9;ab'>in<a:y/>"
        "<z xmlns=''>none</z></a:x> mid &#13;&gt; <![CDATA[<raw>]]>"
        "<D:href>/x</D:href> tail\n</a:p></D:prop></D:set></D:propertyupdate>");
    CHECK(v ==
          "  lead <x xmlns=\"urn:a\" xmlns:b=\"urn:b\" b:k=\"1&amp;&quot;\" plain=\"t&#9;ab\">"
          "in<y/><z xmlns=\"\">none</z></x> mid &#13;&gt; &lt;raw&gt;"
          "<href xmlns=\"DAV:\">/x</href> tail\n");
    // Re-parsed inside another document, it comes back identical.
    CHECK(reparse(v) == v);

    auto ops = parse_proppatch(
        "<D:propertyupdate xmlns:D='DAV:'><D:set><D:prop xml:lang='en'><p xmlns='urn:p'>x</p>"
        "<q xmlns='urn:p' xml:lang='fr'/></D:prop></D:set></D:propertyupdate>");
    REQUIRE(ops);
    REQUIRE(ops->size() == 2);
    CHECK((*ops)[0].xml_lang == "en");
    CHECK((*ops)[1].xml_lang == "fr");
    CHECK((*ops)[1].value_xml.empty());

    // An attribute prefix bound to a different URI further up is redeclared.
    v = only_value(
        "<D:propertyupdate xmlns:D='DAV:'><D:set><D:prop><p xmlns='urn:p'>"
        "<o xmlns:k='urn:1' k:a='1'><i xmlns:k='urn:2' k:a='2'/><i k:a='3'/></o>"
        "</p></D:prop></D:set></D:propertyupdate>");
    CHECK(v ==
          "<o xmlns=\"urn:p\" xmlns:k=\"urn:1\" k:a=\"1\"><i xmlns:k=\"urn:2\" k:a=\"2\"/>"
          "<i k:a=\"3\"/></o>");
    CHECK(reparse(v) == v);
}

TEST_CASE("parse_proppatch: wrong shapes") {
    auto r = parse_proppatch("<D:propfind xmlns:D='DAV:'/>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_proppatch("<D:propertyupdate xmlns:D='DAV:'/>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_proppatch("<D:propertyupdate xmlns:D='DAV:'><D:set/></D:propertyupdate>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_proppatch(
        "<D:propertyupdate xmlns:D='DAV:'><D:set><D:prop/><D:prop/></D:set></D:propertyupdate>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 422);
    r = parse_proppatch("");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    // An unknown element beside set is ignored (RFC 4918 17).
    auto ok = parse_proppatch(
        "<D:propertyupdate xmlns:D='DAV:'><x:y xmlns:x='urn:x'/><D:remove><D:prop><q/></D:prop>"
        "</D:remove></D:propertyupdate>");
    REQUIRE(ok);
    REQUIRE(ok->size() == 1);
    CHECK((*ok)[0].name == QName{"", "q"});
}

TEST_CASE("parse_lockinfo: exclusive, shared, owner, refresh") {
    auto r = parse_lockinfo("");
    REQUIRE(r);
    CHECK_FALSE(r->has_value());
    r = parse_lockinfo(" \n");
    REQUIRE(r);
    CHECK_FALSE(r->has_value());

    r = parse_lockinfo(k_decl +
                       "<D:lockinfo xmlns:D='DAV:'>\n <D:lockscope><D:exclusive/></D:lockscope>\n"
                       " <D:locktype><D:write/></D:locktype>\n <D:owner>\n  <D:href>http://"
                       "example.org/~ejw/contact.html</D:href>\n </D:owner>\n</D:lockinfo>");
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK((*r)->exclusive);
    CHECK((*r)->owner_xml ==
          "\n  <href xmlns=\"DAV:\">http://example.org/~ejw/contact.html</href>\n ");

    // neon (litmus) sends the owner as text.
    r = parse_lockinfo(
        "<lockinfo xmlns='DAV:'><lockscope><shared/></lockscope><locktype><write/></locktype>"
        "<owner>litmus test suite</owner></lockinfo>");
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK_FALSE((*r)->exclusive);
    CHECK((*r)->owner_xml == "litmus test suite");

    r = parse_lockinfo(
        "<lockinfo xmlns='DAV:'><lockscope><shared/></lockscope><locktype><write/></locktype>"
        "</lockinfo>");
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK((*r)->owner_xml.empty());
}

TEST_CASE("parse_lockinfo: wrong shapes are 422") {
    for (const char* body :
         {"<lockinfo xmlns='DAV:'><locktype><write/></locktype></lockinfo>",
          "<lockinfo xmlns='DAV:'><lockscope><exclusive/></lockscope></lockinfo>",
          "<lockinfo xmlns='DAV:'><lockscope/><locktype><write/></locktype></lockinfo>",
          "<lockinfo xmlns='DAV:'><lockscope><exclusive/><shared/></lockscope>"
          "<locktype><write/></locktype></lockinfo>",
          "<lockinfo xmlns='DAV:'><lockscope><exclusive/></lockscope>"
          "<locktype><read/></locktype></lockinfo>",
          "<lockinfo xmlns='DAV:'><lockscope><exclusive/></lockscope>"
          "<locktype><write/></locktype><owner>a</owner><owner>b</owner></lockinfo>",
          "<propfind xmlns='DAV:'><allprop/></propfind>"}) {
        CAPTURE(body);
        auto r = parse_lockinfo(body);
        REQUIRE_FALSE(r);
        CHECK(r.error().status == 422);
    }
}

TEST_CASE("hostile XML: billion laughs, external entities, depth, count, bad UTF-8") {
    std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
    laughs += " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
    for (int i = 2; i <= 9; ++i) {
        std::string prev = "&lol" + std::to_string(i - 1) + ";";
        laughs += " <!ENTITY lol" + std::to_string(i) + " \"";
        for (int k = 0; k < 10; ++k)
            laughs += prev;
        laughs += "\">\n";
    }
    laughs += "]>\n<propfind xmlns='DAV:'><prop><x>&lol9;</x></prop></propfind>";
    auto t0 = std::chrono::steady_clock::now();
    auto r = parse_propfind(laughs);
    auto p = parse_proppatch(laughs);
    auto l = parse_lockinfo(laughs);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    CHECK(ms < 100);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    CHECK(r.error().message.find("DTD") != std::string::npos);
    REQUIRE_FALSE(p);
    CHECK(p.error().status == 400);
    REQUIRE_FALSE(l);
    CHECK(l.error().status == 400);

    // A DOCTYPE without internal subset, and an external entity: refused too.
    r = parse_propfind("<!DOCTYPE propfind SYSTEM \"file:///etc/passwd\"><propfind/>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    r = parse_propfind(
        "<!DOCTYPE p [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><propfind xmlns='DAV:'>"
        "<prop><a>&x;</a></prop></propfind>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    // An undeclared entity is an error, not a load.
    r = parse_propfind("<propfind xmlns='DAV:'><prop><a>&x;</a></prop></propfind>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);

    // Depth: propfind + prop + 62 = 64 is fine, one more is refused.
    CHECK(parse_propfind(nested(62)));
    r = parse_propfind(nested(63));
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);
    CHECK(r.error().message.find("deeper") != std::string::npos);
    r = parse_propfind(nested(100000));
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 400);

    // Element count: 10,000 in all is fine, 10,001 is refused.
    std::string many = "<D:propfind xmlns:D='DAV:'><D:prop>";
    for (int i = 0; i < 9998; ++i)
        many += "<a/>";
    auto fine = parse_propfind(many + "</D:prop></D:propfind>");
    REQUIRE(fine);
    CHECK(fine->props.size() == 9998);
    r = parse_propfind(many + "<a/></D:prop></D:propfind>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 413);

    // Invalid UTF-8 (a lone continuation byte, an overlong form, a surrogate).
    for (std::string bad : {"\x80", "\xc0\xaf", "\xed\xa0\x80"}) {
        auto b = parse_proppatch("<D:propertyupdate xmlns:D='DAV:'><D:set><D:prop><p>" + bad +
                                 "</p></D:prop></D:set></D:propertyupdate>");
        REQUIRE_FALSE(b);
        CHECK(b.error().status == 400);
    }
}

TEST_CASE("hostile XML: names and values cannot amplify a body") {
    // One long URI declared once, then thousands of elements that each carry
    // it (expat's names), or siblings that each need it declared again.
    std::string uri = "urn:" + std::string(20000, 'u');
    std::string body =
        "<D:propertyupdate xmlns:D='DAV:' xmlns:u='" + uri + "'><D:set><D:prop><p xmlns='urn:p'>";
    for (int i = 0; i < 5000; ++i)
        body += "<u:x/>";
    body += "</p></D:prop></D:set></D:propertyupdate>";
    auto t0 = std::chrono::steady_clock::now();
    auto r = parse_proppatch(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 413);

    std::string names = "<D:propfind xmlns:D='DAV:'><D:prop xmlns='" + uri + "'>";
    for (int i = 0; i < 9000; ++i)
        names += "<a/>";
    auto pf = parse_propfind(names + "</D:prop></D:propfind>");
    REQUIRE_FALSE(pf);
    CHECK(pf.error().status == 413);

    // A long xml:lang in scope of thousands of properties.
    std::string lang = "<D:propertyupdate xmlns:D='DAV:' xml:lang='" + std::string(100000, 'l') +
                       "'><D:set><D:prop>";
    for (int i = 0; i < 2000; ++i)
        lang += "<a>1</a>";
    r = parse_proppatch(lang + "</D:prop></D:set></D:propertyupdate>");
    REQUIRE_FALSE(r);
    CHECK(r.error().status == 413);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    CHECK(ms < 500);

    // The same shapes with a short URI are fine.
    std::string small =
        "<D:propertyupdate xmlns:D='DAV:' xmlns:u='urn:u'><D:set><D:prop>"
        "<p xmlns='urn:p'>";
    for (int i = 0; i < 5000; ++i)
        small += "<u:x/>";
    auto ok = parse_proppatch(small + "</p></D:prop></D:set></D:propertyupdate>");
    REQUIRE(ok);
    REQUIRE(ok->size() == 1);
    CHECK((*ok)[0].value_xml.size() == 5000 * std::string("<x xmlns=\"urn:u\"/>").size());
}

TEST_CASE("xml_escape") {
    CHECK(xml_escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    CHECK(xml_escape("plain \xc3\xa9") == "plain \xc3\xa9");
    CHECK(xml_escape("").empty());
}

TEST_CASE("parse_if_header: RFC 4918 examples") {
    // 10.4.6 / 10.4.7
    auto r = parse_if_header(
        "(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> [\"I am an ETag\"]) ([\"I am another "
        "ETag\"])");
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK_FALSE((*r)[0].resource);
    REQUIRE((*r)[0].conditions.size() == 2);
    CHECK((*r)[0].conditions[0].value == "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2");
    CHECK_FALSE((*r)[0].conditions[0].etag);
    CHECK((*r)[0].conditions[1].etag);
    CHECK((*r)[0].conditions[1].value == "\"I am an ETag\"");
    CHECK((*r)[1].conditions[0].value == "\"I am another ETag\"");

    // 10.4.8: Not, and the no-lock trick.
    r = parse_if_header(
        "(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>\r\n"
        "  <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)");
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    REQUIRE((*r)[0].conditions.size() == 2);
    CHECK((*r)[0].conditions[0].negated);
    CHECK_FALSE((*r)[0].conditions[1].negated);
    r = parse_if_header("(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>) (Not <DAV:no-lock>)");
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK((*r)[1].conditions[0].negated);
    CHECK((*r)[1].conditions[0].value == "DAV:no-lock");

    // 10.4.10: tagged lists, one resource with two lists.
    r = parse_if_header(
        "<http://www.example.com/specs/>\n (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>)\n"
        "<http://www.example.com/foo> ([W/\"A weak ETag\"]) ([\"strong ETag\"])");
    REQUIRE(r);
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].resource == "http://www.example.com/specs/");
    CHECK((*r)[1].resource == "http://www.example.com/foo");
    CHECK((*r)[2].resource == "http://www.example.com/foo");
    CHECK((*r)[1].conditions[0].value == "W/\"A weak ETag\"");
    CHECK((*r)[1].conditions[0].etag);

    // 10.4.9 (absolute path as the tag), and what litmus sends.
    r = parse_if_header(
        "</resource1> (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> [W/\"A weak "
        "ETag\"]) ([\"strong ETag\"])");
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].resource == "/resource1");
    r = parse_if_header("(<opaquelocktoken:abc> [\"e1\"]) (Not <DAV:no-lock> [\"e1\"])");
    REQUIRE(r);
    CHECK(r->size() == 2);
    r = parse_if_header("(NOT<DAV:no-lock>)(not [ \"x\" ])");
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].conditions[0].negated);
    CHECK((*r)[1].conditions[0].negated);
    CHECK((*r)[1].conditions[0].value == "\"x\"");
}

TEST_CASE("parse_if_header: malformed headers are 400") {
    for (const char* h : {"",
                          "   ",
                          "()",
                          "(",
                          "(<a:b>",
                          "<a:b>",
                          "<http://x/> ",
                          "(<a:b>) <http://x/> (<c:d>)",
                          "<http://x/> (<a:b>) (<c:d>) x",
                          "(<>)",
                          "(<a b>)",
                          "(Not)",
                          "(Not )",
                          "([\"x\")",
                          "([x])",
                          "([\"unterminated])",
                          "([])",
                          "(<a:b> junk)",
                          "(<a:b>) )",
                          "<a<b> (<c:d>)",
                          "(Nott <a:b>)"}) {
        CAPTURE(h);
        auto r = parse_if_header(h);
        REQUIRE_FALSE(r);
        CHECK(r.error().status == 400);
    }
}

}  // namespace dav_xml_test

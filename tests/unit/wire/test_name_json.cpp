// Names in JSON (de/name_json.hpp): names that are not UTF-8 survive a round
// trip through JSON byte for byte, and nothing here makes dump() throw.
#include <de/json.hpp>
#include <de/name_json.hpp>

#include <doctest/doctest.h>

#include <string>

using nlohmann::json;

TEST_CASE("is_utf8 follows RFC 3629") {
    CHECK(de::is_utf8(""));
    CHECK(de::is_utf8("plain/ascii.txt"));
    CHECK(de::is_utf8("caf\xC3\xA9"));       // é
    CHECK(de::is_utf8("\xE2\x82\xAC"));      // €
    CHECK(de::is_utf8("\xF0\x9F\x98\x80"));  // U+1F600
    CHECK(de::is_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
    CHECK_FALSE(de::is_utf8("caf\xE9"));     // Latin-1 é
    CHECK_FALSE(de::is_utf8("\xFF"));
    CHECK_FALSE(de::is_utf8("\xC0\xAF"));               // overlong '/'
    CHECK_FALSE(de::is_utf8("\xE0\x80\xAF"));           // overlong
    CHECK_FALSE(de::is_utf8("\xED\xA0\x80"));           // surrogate D800
    CHECK_FALSE(de::is_utf8("\xF4\x90\x80\x80"));       // above U+10FFFF
    CHECK_FALSE(de::is_utf8("\xE2\x82"));               // truncated
    CHECK_FALSE(de::is_utf8("\x80"));                   // lone continuation
    CHECK_FALSE(de::is_utf8(std::string("a\xC3", 2)));  // cut at the end
}

TEST_CASE("the percent form escapes '%' and invalid bytes only, and decodes back") {
    CHECK(de::name_to_percent("bad\xFF") == "bad%FF");
    CHECK(de::name_to_percent("caf\xE9 100%") == "caf%E9 100%25");
    CHECK(de::name_to_percent("caf\xC3\xA9\xE9") == "caf\xC3\xA9%E9");  // valid é kept
    CHECK(de::name_to_percent("\xE2\x82") == "%E2%82");
    CHECK(de::name_from_percent("bad%FF") == std::string("bad\xFF"));
    CHECK(de::name_from_percent("bad%ff") == std::string("bad\xFF"));
    CHECK(de::name_from_percent("a%2541") == std::string("a%41"));
    CHECK_FALSE(de::name_from_percent("bad%F").has_value());
    CHECK_FALSE(de::name_from_percent("bad%").has_value());
    CHECK_FALSE(de::name_from_percent("bad%zz").has_value());
    // Every byte value, alone and among others, round-trips.
    std::string all;
    for (int c = 1; c < 256; ++c)
        all.push_back(static_cast<char>(c));
    for (int c = 1; c < 256; ++c) {
        std::string one(1, static_cast<char>(c));
        CHECK(de::is_utf8(de::name_to_percent(one)));
        CHECK(de::name_from_percent(de::name_to_percent(one)) == one);
    }
    CHECK(de::is_utf8(de::name_to_percent(all)));
    CHECK(de::name_from_percent(de::name_to_percent(all)) == all);
}

TEST_CASE("put_name / get_name: the flag only when needed, lossless either way") {
    json j = json::object();
    de::put_name(j, "path", "data/caf\xC3\xA9.csv");
    CHECK(j["path"] == "data/caf\xC3\xA9.csv");
    CHECK_FALSE(j.contains("path_encoding"));
    CHECK(de::get_name(j, "path") == std::string("data/caf\xC3\xA9.csv"));

    de::put_name(j, "path", "data/caf\xE9.csv");
    CHECK(j["path"] == "data/caf%E9.csv");
    CHECK(j["path_encoding"] == "percent");
    CHECK(de::get_name(j, "path") == std::string("data/caf\xE9.csv"));
    // The document dumps (it would throw with the raw bytes) and parses back.
    std::string text = j.dump();
    CHECK(de::get_name(json::parse(text), "path") == std::string("data/caf\xE9.csv"));
    // Writing a UTF-8 name over it drops the flag again.
    de::put_name(j, "path", "100%.txt");
    CHECK(j["path"] == "100%.txt");
    CHECK_FALSE(j.contains("path_encoding"));
    CHECK(de::get_name(j, "path") == std::string("100%.txt"));

    // Malformed documents are refused, not guessed at.
    CHECK_FALSE(de::get_name(json::parse(R"({"path": 5})"), "path").has_value());
    CHECK_FALSE(de::get_name(json::parse(R"({})"), "path").has_value());
    CHECK_FALSE(de::get_name(json::parse(R"([1])"), "path").has_value());
    CHECK_FALSE(de::get_name(json::parse(R"({"path": "a", "path_encoding": "base64"})"), "path"));
    CHECK_FALSE(
        de::get_name(json::parse(R"({"path": "a%G1", "path_encoding": "percent"})"), "path"));
    CHECK(de::get_name(json::parse(R"({"path": "a%41", "path_encoding": null})"), "path") ==
          std::string("a%41"));
}

TEST_CASE("name_value: array elements") {
    CHECK(de::name_value("ok.txt") == json("ok.txt"));
    json v = de::name_value("bad\xFF");
    CHECK(v["name"] == "bad%FF");
    CHECK(v["name_encoding"] == "percent");
    CHECK(de::name_from_value(v) == std::string("bad\xFF"));
    CHECK(de::name_from_value(json("x")) == std::string("x"));
    CHECK_FALSE(de::name_from_value(json(3)).has_value());
}

TEST_CASE("Entry JSON carries a Latin-1 path losslessly") {
    de::Entry e;
    e.path = "dir/bad\xFF\xE9";
    e.size = 3;
    e.mtime_ns = 42;
    json j = e;
    CHECK(j["path"] == "dir/bad%FF%E9");
    CHECK(j["path_encoding"] == "percent");
    auto back = json::parse(j.dump()).get<de::Entry>();
    CHECK(back.path == e.path);
    CHECK(back.size == 3);
    // A UTF-8 path is sent as before, without the flag.
    e.path = "dir/ok";
    json plain = e;
    CHECK_FALSE(plain.contains("path_encoding"));
    // A bad flag is a JSON error (callers catch json::exception), not a wrong name.
    json bad = json::parse(R"({"path":"x%Z","path_encoding":"percent","type":"file","size":0,
                               "mtime_ns":0})");
    CHECK_THROWS_AS(bad.get<de::Entry>(), json::exception);
}

TEST_CASE("display_name escapes what a terminal should not get raw") {
    CHECK(de::display_name("data/caf\xC3\xA9.csv") == "data/caf\xC3\xA9.csv");
    CHECK(de::display_name("a\\b") == "a\\b");  // clean names are left alone
    CHECK(de::display_name("bad\xFF") == "bad\\xFF");
    CHECK(de::display_name("new\nline") == "new\\x0Aline");
    CHECK(de::display_name("esc\x1b[31m") == "esc\\x1B[31m");
    CHECK(de::display_name("a\\b\xFF") == "a\\\\b\\xFF");  // once escaping, '\' too
}

TEST_CASE("dump_json never throws") {
    json j{{"message", "cannot open 'bad\xFF'"}};
    CHECK_THROWS(j.dump());
    std::string out;
    CHECK_NOTHROW(out = de::dump_json(j));
    CHECK(de::is_utf8(out));
    CHECK(out.find("bad\xEF\xBF\xBD") != std::string::npos);  // U+FFFD
    std::string ascii = de::dump_json(json{{"p", "caf\xC3\xA9"}}, -1, true);
    CHECK(ascii == R"({"p":"caf\u00e9"})");
}

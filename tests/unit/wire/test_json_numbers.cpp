// The whole-number members of the wire types (found by fuzz/fuzz_json_names:
// `"mtime_ns": 1e30` was converted with a cast UBSan reports as undefined).
#include <de/json.hpp>

#include <doctest/doctest.h>

using nlohmann::json;

TEST_CASE("from_json: a number that is not a whole number in range is a type error") {
    auto entry = [](const char* text) { return json::parse(text).get<de::Entry>(); };
    de::Entry ok = entry(R"({"path":"a","type":"file","size":3,"mtime_ns":-5})");
    CHECK(ok.size == 3);
    CHECK(ok.mtime_ns == -5);
    CHECK_THROWS_AS(entry(R"({"path":"a","type":"file","size":3,"mtime_ns":1e30})"),
                    json::type_error);
    CHECK_THROWS_AS(entry(R"({"path":"a","type":"file","size":1.5,"mtime_ns":0})"),
                    json::type_error);
    CHECK_THROWS_AS(entry(R"({"path":"a","type":"file","size":-1,"mtime_ns":0})"),
                    json::type_error);
    CHECK_THROWS_AS(entry(R"({"path":"a","type":"file","size":1,"mtime_ns":9223372036854775808})"),
                    json::type_error);
    auto big = entry(R"({"path":"a","type":"file","size":18446744073709551615,"mtime_ns":0})");
    CHECK(big.size == 18446744073709551615ull);

    auto status = [](const char* text) { return json::parse(text).get<de::MountStatus>(); };
    const char* base = R"({"app":"a","enabled":true,"used_bytes":1,"quota_bytes":2,"file_count":3,)"
                       R"("storage_class":"s")";
    CHECK(status((std::string(base) + "}").c_str()).reserved_bytes == 0);
    CHECK(status((std::string(base) + R"(,"reserved_bytes":7})").c_str()).reserved_bytes == 7);
    CHECK_THROWS_AS(status((std::string(base) + R"(,"reserved_bytes":1e300})").c_str()),
                    json::type_error);
    CHECK_THROWS_AS(
        json::parse(R"({"id":"x","holder":"h","since":1e99,"expires":2})").get<de::SyncLease>(),
        json::type_error);
}

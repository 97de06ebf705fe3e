// project.toml and Procfile parsing, as predeploy and `de-cli check` lint an
// app folder (the parsers are what read the untrusted text; check_app_dir adds
// file system checks around them). Invariants: toml++ errors come back as a
// usage error naming the file, never an exception; a predeploy found is a
// non-empty string with a position; Procfile processes have valid, unique
// names and 1-based lines; every finding names its rule and formats.
#include "fuzz_check.hpp"

#include <de/project.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    auto p = de::parse_project_toml(in, "app/project.toml");
    if (p) {
        FUZZ_CHECK(p->source == "app/project.toml");
        if (p->predeploy) {
            FUZZ_CHECK(!p->predeploy->empty());
            FUZZ_CHECK(p->predeploy_location.line >= 1);
        }
    } else {
        FUZZ_CHECK(p.error().kind == de::ErrorKind::usage);
        FUZZ_CHECK(p.error().message.starts_with("app/project.toml"));
    }

    auto pf = de::parse_procfile(in, "app/Procfile");
    std::set<std::string> names;
    for (const auto& proc : pf.processes) {
        FUZZ_CHECK(!proc.name.empty() && names.insert(proc.name).second);
        for (char c : proc.name)
            FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-');
        FUZZ_CHECK(proc.line >= 1);
    }
    for (const auto& f : pf.findings) {
        FUZZ_CHECK(!f.rule.empty() && !f.message.empty());
        FUZZ_CHECK(!de::format_finding(f).empty());
    }
    return 0;
}

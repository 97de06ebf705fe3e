// Argument parsing shared by the file commands; see helpers.hpp.
#include "helpers.hpp"

#include <de/json.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>

#include <fmt/format.h>

namespace de::cli {

Result<ByteRange> parse_range(std::string_view text) {
    auto bad = [&] {
        return fail(ErrorKind::usage,
                    fmt::format("invalid --range '{}': use FIRST-LAST (inclusive), FIRST- or "
                                "-SUFFIX (the last bytes), e.g. 0-1023, 1MiB-2MiB, 4096- or -10",
                                text));
    };
    auto dash = text.find('-');
    if (dash == std::string_view::npos) return bad();
    if (dash == 0) {
        // -N: the last N bytes, as HTTP's suffix range.
        auto n = parse_size(text.substr(1));
        if (!n || *n == 0) return bad();
        ByteRange range;
        range.suffix = *n;
        return range;
    }
    auto first = parse_size(text.substr(0, dash));
    if (!first) return bad();
    ByteRange range{*first, std::nullopt, std::nullopt};
    auto rest = text.substr(dash + 1);
    if (!rest.empty()) {
        auto last = parse_size(rest);
        if (!last || *last < *first) return bad();
        range.last = *last;
    }
    return range;
}

std::string remote_display(std::string_view app, std::string_view path) {
    return fmt::format("{}:/{}", app, path);
}

nlohmann::json entry_json(const Entry& entry) {
    nlohmann::json j = entry;
    return j;
}

void warn_sync_failures(const Context& ctx, const SyncSummary& summary) {
    std::size_t shown = 0;
    for (const auto& f : summary.failures) {
        if (++shown > 20) {
            warn(ctx, fmt::format("... and {} more failures", summary.failures.size() - 20));
            break;
        }
        warn(ctx, fmt::format("failed: {} {}: {}", f.action, f.path, f.error.message));
    }
}

}  // namespace de::cli

// Argument parsing shared by the file commands; see helpers.hpp.
#include "helpers.hpp"

#include <de/json.hpp>
#include <de/name_json.hpp>
#include <de/remote_path.hpp>
#include <de/size.hpp>

#include <fmt/format.h>

namespace de::cli {

Result<ByteRange> parse_range(std::string_view text) {
    auto bad = [&] {
        return fail(ErrorKind::usage,
                    fmt::format("invalid --range '{}': use FIRST-LAST (inclusive) or FIRST-, "
                                "e.g. 0-1023, 1MiB-2MiB or 4096-",
                                text));
    };
    auto dash = text.find('-');
    if (dash == std::string_view::npos || dash == 0) return bad();
    auto first = parse_size(text.substr(0, dash));
    if (!first) return bad();
    ByteRange range{*first, std::nullopt};
    auto rest = text.substr(dash + 1);
    if (!rest.empty()) {
        auto last = parse_size(rest);
        if (!last || *last < *first) return bad();
        range.last = *last;
    }
    return range;
}

std::string remote_display(std::string_view app, std::string_view path) {
    return fmt::format("{}:/{}", app, display_name(path));
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
        warn(ctx,
             fmt::format("failed: {} {}: {}", f.action, display_name(f.path), f.error.message));
    }
}

}  // namespace de::cli

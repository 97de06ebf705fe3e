#pragma once
// Small pieces shared by the commands: parsing --range, the JSON forms of results, and the
// failure lines of a sync summary (sync and predeploy). Kept out of
// context.hpp because only cli/commands use them.

#include "context.hpp"

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/sync.hpp>
#include <de/types.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace de::cli {

// "A-B" (inclusive), "A-" (to the end), "-N" (the last N bytes); A, B and N
// take size units ("0-1MiB").
Result<ByteRange> parse_range(std::string_view text);

// "sales:/data/x.csv" for messages.
std::string remote_display(std::string_view app, std::string_view path);

nlohmann::json entry_json(const Entry& entry);

// One warning per failed transfer of a sync, the first 20, then how many more.
void warn_sync_failures(const Context& ctx, const SyncSummary& summary);

}  // namespace de::cli

#pragma once
// Small pieces shared by the file and transfer commands: parsing --range,
// checking remote paths with a message that names the argument, and the JSON
// forms of results. Kept out of context.hpp because only cli/commands use them.

#include <de/client.hpp>
#include <de/error.hpp>
#include <de/types.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace de::cli {

// "A-B" (inclusive), "A-" (to the end); A and B take size units ("0-1MiB").
Result<ByteRange> parse_range(std::string_view text);

// normalize_remote_path with a message naming the argument and app.
Result<std::string> remote_path_arg(std::string_view path, std::string_view app);

// "sales:/data/x.csv" for messages.
std::string remote_display(std::string_view app, std::string_view path);

nlohmann::json entry_json(const Entry& entry);

}  // namespace de::cli

// TestHooks from DE_CLI_TEST_* and the tuning variables (see test_hooks.hpp).
// The whole reader is compiled only with DE_TEST_HOOKS; a malformed value is
// ignored like an unset one, as the library's own knobs were.
#include "test_hooks.hpp"

#ifdef DE_TEST_HOOKS
#include <de/size.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string_view>
#endif

namespace de::cli {

#ifdef DE_TEST_HOOKS
namespace {

std::optional<std::string_view> variable(const char* name) {
    const char* text = std::getenv(name);
    if (!text || !*text) return std::nullopt;
    return std::string_view(text);
}

std::optional<std::uint64_t> number(const char* name) {
    auto text = variable(name);
    if (!text) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
    return value;
}

std::optional<std::uint64_t> size(const char* name) {
    auto text = variable(name);
    if (!text) return std::nullopt;
    auto parsed = parse_size(*text);
    if (!parsed) return std::nullopt;
    return *parsed;
}

bool is_set(const char* name) {
    return std::getenv(name) != nullptr;
}

}  // namespace

std::shared_ptr<const de::TestHooks> test_hooks_from_environment() {
    TestHooks hooks;
    bool any = false;
    auto take = [&any](auto& field, auto value) {
        if (value) {
            field = *value;
            any = true;
        }
    };
    take(hooks.resumable_threshold, size("DE_CLI_RESUMABLE_THRESHOLD"));
    take(hooks.part_size, size("DE_CLI_PART_SIZE"));
    take(hooks.parallel_threshold, size("DE_CLI_PARALLEL_THRESHOLD"));
    take(hooks.range_size, size("DE_CLI_TEST_RANGE_SIZE"));
    if (auto n = number("DE_BATCH_MAX_FILES"); n && *n >= 1)
        take(hooks.batch_max_files, std::optional<std::size_t>(static_cast<std::size_t>(*n)));
    take(hooks.corrupt_part, number("DE_CLI_TEST_CORRUPT_PART"));
    take(hooks.slow_upload_bps, number("DE_CLI_TEST_SLOW_UPLOAD"));
    if (auto bps = size("DE_CLI_TEST_SLOW_DOWNLOAD"))
        take(hooks.slow_download_bps,
             std::optional<std::uint64_t>(std::max<std::uint64_t>(1, *bps)));
    if (auto v = number("DE_CLI_TEST_HASH_THREAD"))
        take(hooks.hash_thread, std::optional<bool>(*v != 0));
    if (auto v = number("DE_CLI_TEST_OUTAGE_BUDGET"))
        take(hooks.outage_budget,
             std::optional<std::chrono::seconds>(std::chrono::seconds(static_cast<long>(*v))));
    if (is_set("DE_CLI_TEST_NO_WRITEBACK")) take(hooks.no_writeback, std::optional<bool>(true));
    if (is_set("DE_CLI_TEST_FALLOCATE")) take(hooks.fallocate, std::optional<bool>(true));
    if (is_set("DE_CLI_TEST_ABORT_AFTER_COMPLETE"))
        take(hooks.abort_after_complete, std::optional<bool>(true));
    if (is_set("DE_CLI_TEST_ABORT_IN_JOURNAL_REMOVAL"))
        take(hooks.abort_in_journal_removal, std::optional<bool>(true));
    if (!any) return nullptr;
    return std::make_shared<const TestHooks>(hooks);
}

std::optional<std::chrono::milliseconds> retry_budget_from_environment() {
    auto ms = number("DE_CLI_RETRY_BUDGET_MS");
    if (!ms) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
}

#else

std::shared_ptr<const de::TestHooks> test_hooks_from_environment() {
    return nullptr;
}

std::optional<std::chrono::milliseconds> retry_budget_from_environment() {
    return std::nullopt;
}

#endif

}  // namespace de::cli

// Plan files: what `sync --dry-run --json` writes and `sync --apply` reads.
// The format is versioned ("de-sync-plan/1") and read strictly: a plan that is
// not understood in full is refused rather than half executed.

#include <de/remote_path.hpp>
#include <de/sync.hpp>
#include <de/timestamp.hpp>

#include <de/name_json.hpp>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

namespace de {

namespace {

constexpr std::string_view k_format = "de-sync-plan/1";

}  // namespace

std::string sync_plan_to_json(const SyncPlan& plan) {
    using nlohmann::json;
    json ops = json::array();
    for (const auto& op : plan.ops) {
        json o = {{"action", to_string(op.action)},
                  {"type", op.type == EntryType::dir ? "dir" : "file"},
                  {"size", op.size},
                  {"mtime", format_rfc3339_ns(op.mtime_ns)},
                  {"reason", op.reason}};
        put_name(o, "path", op.path);  // percent form when not UTF-8
        if (op.action == SyncOp::Action::remove) o["files"] = op.files;
        if (op.replace) o["replace"] = true;
        if (op.after_delete) o["after_delete"] = true;
        if (op.dest_sha256) o["dest_sha256"] = *op.dest_sha256;
        if (op.source_sha256) o["source_sha256"] = *op.source_sha256;
        ops.push_back(std::move(o));
    }
    SyncSummary s = plan_summary(plan);
    json j = {
        {"format", k_format},
        {"direction", to_string(plan.direction)},
        {"app", plan.app},
        {"host", plan.host},
        {"delete", plan.delete_extraneous},
        {"checksum", plan.checksum},
        {"follow_symlinks", plan.follow_symlinks},
        {"include", plan.include},
        {"exclude", plan.exclude},
        {"created_at", format_rfc3339_s(plan.created_at)},
        {"fingerprint", {{"local", plan.local_fingerprint}, {"remote", plan.remote_fingerprint}}},
        {"totals",
         {{"source_files", plan.source_files},
          {"transfer_files", s.files_sent},
          {"transfer_bytes", s.bytes_sent},
          {"unchanged_files", plan.unchanged_files},
          {"unchanged_bytes", plan.unchanged_bytes},
          {"delete_files", s.files_deleted},
          {"mkdir", s.dirs_created},
          {"excluded", plan.excluded},
          {"symlinks_skipped", plan.symlinks_skipped},
          {"symlinks_followed", plan.symlinks_followed}}},
        {"warnings", plan.warnings},
        {"ops", std::move(ops)},
    };
    put_name(j, "local_dir", plan.local_dir);
    put_name(j, "remote_dir", "/" + plan.remote_dir);
    return dump_json(j, 2) + "\n";
}

Result<SyncPlan> sync_plan_from_json(std::string_view text) {
    using nlohmann::json;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail(ErrorKind::usage,
                    "the plan file is not valid JSON; write it with "
                    "`de-cli sync push|pull --dry-run --json > PLAN`");
    }
    try {
        if (j.at("format").get<std::string>() != k_format) {
            return fail(ErrorKind::usage,
                        fmt::format("the plan file has format '{}', this de-cli reads '{}'",
                                    j.at("format").get<std::string>(), k_format));
        }
        SyncPlan plan;
        auto dir = j.at("direction").get<std::string>();
        if (dir == "push") {
            plan.direction = SyncDirection::push;
        } else if (dir == "pull") {
            plan.direction = SyncDirection::pull;
        } else {
            return fail(ErrorKind::usage, fmt::format("the plan's direction '{}' is unknown", dir));
        }
        plan.app = j.at("app").get<std::string>();
        plan.host = j.value("host", std::string{});
        auto local_dir = get_name(j, "local_dir");
        auto remote_raw = get_name(j, "remote_dir");
        if (!local_dir || !remote_raw)
            return fail(ErrorKind::usage, "the plan file has no valid local_dir and remote_dir");
        plan.local_dir = std::move(*local_dir);
        // Written as "/dir" (docs/json.md); older plans wrote "dir".
        auto remote_dir = normalize_remote_path(*remote_raw);
        if (!remote_dir)
            return fail(ErrorKind::usage, "the plan has an unsafe or malformed remote_dir");
        plan.remote_dir = *remote_dir;
        plan.delete_extraneous = j.at("delete").get<bool>();
        plan.checksum = j.at("checksum").get<bool>();
        plan.follow_symlinks = j.at("follow_symlinks").get<bool>();
        plan.include = j.at("include").get<std::vector<std::string>>();
        plan.exclude = j.at("exclude").get<std::vector<std::string>>();
        // An RFC 3339 string (older plans: unix seconds).
        if (auto c = j.find("created_at"); c != j.end() && c->is_string()) {
            auto ns = parse_rfc3339_ns(c->get<std::string>());
            if (!ns) return fail(ErrorKind::usage, "the plan's created_at is not an RFC 3339 time");
            plan.created_at = *ns / 1'000'000'000;
        } else {
            plan.created_at = j.value("created_at", std::int64_t{0});
        }
        plan.local_fingerprint = j.at("fingerprint").at("local").get<std::string>();
        plan.remote_fingerprint = j.at("fingerprint").at("remote").get<std::string>();
        if (plan.local_fingerprint.empty() || plan.remote_fingerprint.empty()) {
            return fail(ErrorKind::usage, "the plan file has no fingerprint of both sides");
        }
        const auto& t = j.at("totals");
        plan.source_files = t.at("source_files").get<std::uint64_t>();
        plan.unchanged_files = t.at("unchanged_files").get<std::uint64_t>();
        plan.unchanged_bytes = t.at("unchanged_bytes").get<std::uint64_t>();
        plan.excluded = t.value("excluded", std::uint64_t{0});
        plan.symlinks_skipped = t.value("symlinks_skipped", std::uint64_t{0});
        plan.symlinks_followed = t.value("symlinks_followed", std::uint64_t{0});
        if (j.contains("warnings"))
            plan.warnings = j.at("warnings").get<std::vector<std::string>>();
        for (const auto& o : j.at("ops")) {
            SyncOp op;
            auto a = o.at("action").get<std::string>();
            if (a == "transfer") {
                op.action = SyncOp::Action::transfer;
            } else if (a == "mkdir") {
                op.action = SyncOp::Action::mkdir;
            } else if (a == "delete") {
                op.action = SyncOp::Action::remove;
            } else if (a == "touch") {
                op.action = SyncOp::Action::touch;
            } else {
                return fail(ErrorKind::usage,
                            fmt::format("the plan has an unknown action '{}'", a));
            }
            auto op_path = get_name(o, "path");
            if (!op_path)
                return fail(ErrorKind::usage, "the plan has an operation without a valid path");
            op.path = std::move(*op_path);
            op.type = o.at("type").get<std::string>() == "dir" ? EntryType::dir : EntryType::file;
            op.size = o.at("size").get<std::uint64_t>();
            if (auto m = o.find("mtime"); m != o.end()) {
                auto ns = parse_rfc3339_ns(m->get<std::string>());
                if (!ns)
                    return fail(
                        ErrorKind::usage,
                        fmt::format("the plan's mtime of '{}' is not an RFC 3339 time", op.path));
                op.mtime_ns = *ns;
            } else {
                op.mtime_ns = o.at("mtime_ns").get<std::int64_t>();  // older plans
            }
            op.reason = o.value("reason", std::string{});
            op.files = o.value("files", std::uint64_t{0});
            op.replace = o.value("replace", false);
            op.after_delete = o.value("after_delete", false);
            if (o.contains("dest_sha256")) op.dest_sha256 = o.at("dest_sha256").get<std::string>();
            if (o.contains("source_sha256")) {
                op.source_sha256 = o.at("source_sha256").get<std::string>();
            }
            // A plan file is input: every path must stay beneath both roots.
            auto norm = normalize_remote_path(op.path);
            if (!norm || *norm != op.path || op.path.empty()) {
                return fail(ErrorKind::usage,
                            fmt::format("the plan has an unsafe or malformed path '{}'", op.path));
            }
            plan.ops.push_back(std::move(op));
        }
        return plan;
    } catch (const json::exception& e) {
        return fail(ErrorKind::usage, fmt::format("the plan file is incomplete or malformed ({}); "
                                                  "make a new one with --dry-run --json",
                                                  e.what()));
    }
}

}  // namespace de

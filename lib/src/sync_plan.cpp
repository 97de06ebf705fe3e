// The sync planner and its rules: path order, file equality, include/exclude
// globs, the --delete guards and the listing fingerprint. Everything here is a
// pure function of its arguments, so the unit tests can pin the rules down
// without a server or a filesystem.
//
// Globs follow de/glob.hpp, as upload and download do.
//
// The planner walks both sorted listings at once (a merge), so its cost is
// linear in the number of entries and it needs no map of either side.

#include <de/glob.hpp>
#include <de/sha256.hpp>
#include <de/sync.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace de {

namespace {

constexpr unsigned char order_key(char c) {
    // '/' must sort before every other byte so that "a/b" comes right after "a"
    // and before "a-b": that is depth-first order with siblings by name.
    return c == '/' ? 0 : static_cast<unsigned char>(c);
}

bool is_beneath(std::string_view path, std::string_view dir) {
    return path.size() > dir.size() && path[dir.size()] == '/' && path.starts_with(dir);
}

bool matches_any(std::string_view path, std::span<const std::string> patterns) {
    for (const auto& pattern : patterns) {
        if (sync_glob_match(pattern, path)) return true;
    }
    return false;
}

bool excluded_by(std::string_view path, std::span<const std::string> exclude) {
    if (exclude.empty()) return false;
    // The path itself or any folder above it.
    for (std::size_t pos = 0;;) {
        std::size_t slash = path.find('/', pos);
        std::string_view prefix = path.substr(0, slash);
        if (matches_any(prefix, exclude)) return true;
        if (slash == std::string_view::npos) return false;
        pos = slash + 1;
    }
}

}  // namespace

bool sync_path_less(std::string_view a, std::string_view b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) return order_key(a[i]) < order_key(b[i]);
    }
    return a.size() < b.size();
}

void sort_sync_entries(std::vector<SyncEntry>& entries) {
    std::sort(entries.begin(), entries.end(), [](const SyncEntry& x, const SyncEntry& y) {
        return sync_path_less(x.path, y.path);
    });
}

bool mtime_equal(std::int64_t a_ns, std::int64_t b_ns) {
    // Floor division to microseconds: a side that keeps only microseconds still matches.
    auto us = [](std::int64_t ns) { return ns >= 0 ? ns / 1000 : (ns - 999) / 1000; };
    return us(a_ns) == us(b_ns);
}

bool sync_glob_match(std::string_view pattern, std::string_view path) {
    // One set of glob rules for upload/download and sync (de/glob.hpp).
    return glob_match(pattern, path);
}

bool sync_filter_accepts(std::string_view path, EntryType type,
                         std::span<const std::string> include,
                         std::span<const std::string> exclude) {
    if (excluded_by(path, exclude)) return false;
    if (type == EntryType::dir || include.empty()) return true;
    return matches_any(path, include);
}

SyncPlan plan_sync(std::span<const SyncEntry> source, std::span<const SyncEntry> dest,
                   SyncDirection direction, const SyncOptions& options) {
    SyncPlan plan;
    plan.direction = direction;
    plan.remote_dir = options.remote_dir;
    plan.delete_extraneous = options.delete_extraneous;
    plan.checksum = options.checksum;
    plan.follow_symlinks = options.follow_symlinks;
    plan.include = options.include;
    plan.exclude = options.exclude;
    plan.ops.reserve(source.size());  // mostly one op per source entry at most

    const auto& inc = options.include;
    const auto& exc = options.exclude;
    auto accepts = [&](const SyncEntry& e) {
        return sync_filter_accepts(e.path, e.type, inc, exc);
    };
    // With include globs, folders are only walked through, not created or removed whole.
    auto dir_selected = [&](const SyncEntry& e) { return inc.empty() || matches_any(e.path, inc); };

    std::string conflict_prefix;  // a source folder replacing a destination file
    auto transfer = [&](const SyncEntry& s, bool replace, std::string reason) {
        SyncOp op;
        op.action = SyncOp::Action::transfer;
        op.path = s.path;
        op.size = s.size;
        op.mtime_ns = s.mtime_ns;
        op.replace = replace;
        op.source_sha256 = s.sha256;
        op.reason = std::move(reason);
        op.after_delete = !conflict_prefix.empty() && is_beneath(s.path, conflict_prefix);
        plan.ops.push_back(std::move(op));
    };
    auto mkdir = [&](const SyncEntry& s, std::string reason) {
        SyncOp op;
        op.action = SyncOp::Action::mkdir;
        op.type = EntryType::dir;
        op.path = s.path;
        op.mtime_ns = s.mtime_ns;
        op.reason = std::move(reason);
        op.after_delete = !conflict_prefix.empty() && is_beneath(s.path, conflict_prefix);
        plan.ops.push_back(std::move(op));
    };
    // Removes dest[j] (and, for a folder, everything beneath it); returns the next index.
    auto remove = [&](std::size_t j, std::string reason) -> std::size_t {
        const SyncEntry& d = dest[j];
        SyncOp op;
        op.action = SyncOp::Action::remove;
        op.path = d.path;
        op.type = d.type;
        op.reason = std::move(reason);
        std::size_t k = j + 1;
        if (d.type == EntryType::file) {
            op.files = 1;
            op.size = d.size;
        } else {
            for (; k < dest.size() && is_beneath(dest[k].path, d.path); ++k) {
                if (dest[k].type == EntryType::file) {
                    ++op.files;
                    op.size += dest[k].size;
                }
            }
        }
        plan.ops.push_back(std::move(op));
        return k;
    };
    // A whole destination folder can go in one request only when nothing
    // beneath it is protected by the filter.
    auto subtree_all_accepted = [&](std::size_t j) {
        if (!inc.empty()) return false;
        for (std::size_t k = j + 1; k < dest.size() && is_beneath(dest[k].path, dest[j].path);
             ++k) {
            if (!accepts(dest[k])) return false;
        }
        return true;
    };
    auto skip_subtree = [&](std::span<const SyncEntry> side, std::size_t k) {
        std::string_view root = side[k].path;
        ++k;
        while (k < side.size() && is_beneath(side[k].path, root))
            ++k;
        return k;
    };

    std::size_t i = 0, j = 0;
    while (i < source.size() || j < dest.size()) {
        if (!conflict_prefix.empty() && i < source.size() &&
            !is_beneath(source[i].path, conflict_prefix)) {
            conflict_prefix.clear();
        }
        bool have_s = i < source.size();
        bool have_d = j < dest.size();
        bool s_first = have_s && (!have_d || sync_path_less(source[i].path, dest[j].path));
        bool d_first = have_d && (!have_s || sync_path_less(dest[j].path, source[i].path));

        if (s_first) {
            const SyncEntry& s = source[i];
            if (!accepts(s)) {
                ++plan.excluded;
                ++i;
                continue;
            }
            if (s.type == EntryType::file) {
                ++plan.source_files;
                transfer(s, false, "new");
            } else if (dir_selected(s)) {
                mkdir(s, "new");
            }
            ++i;
            continue;
        }
        if (d_first) {
            const SyncEntry& d = dest[j];
            if (!options.delete_extraneous || !accepts(d)) {
                ++j;
                continue;
            }
            if (d.type == EntryType::dir && !subtree_all_accepted(j)) {
                ++j;  // walk into it: its accepted files go one by one
                continue;
            }
            j = remove(j, "extraneous");
            continue;
        }

        // Both sides have this path.
        const SyncEntry& s = source[i];
        const SyncEntry& d = dest[j];
        if (!accepts(s)) {
            ++plan.excluded;
            ++i;
            ++j;
            continue;
        }
        if (s.type == EntryType::dir && d.type == EntryType::dir) {
            ++i;
            ++j;
            continue;
        }
        if (s.type == EntryType::file && d.type == EntryType::file) {
            ++plan.source_files;
            std::string reason;
            bool same_mtime = mtime_equal(s.mtime_ns, d.mtime_ns);
            if (s.size != d.size) {
                reason = "size";
            } else if (options.checksum && s.sha256 && d.sha256) {
                if (*s.sha256 != *d.sha256) reason = "checksum";
            } else if (!same_mtime) {
                reason = "mtime";
            }
            if (reason.empty()) {
                ++plan.unchanged_files;
                plan.unchanged_bytes += s.size;
                if (!same_mtime && direction == SyncDirection::pull) {
                    // Equal content: only the local mtime needs to follow the server.
                    SyncOp op;
                    op.action = SyncOp::Action::touch;
                    op.path = s.path;
                    op.mtime_ns = s.mtime_ns;
                    op.reason = "mtime";
                    plan.ops.push_back(std::move(op));
                }
            } else {
                transfer(s, true, reason);
                plan.ops.back().dest_sha256 = d.sha256;
            }
            ++i;
            ++j;
            continue;
        }
        // A file on one side and a folder on the other.
        if (s.type == EntryType::file) {
            ++plan.source_files;
            if (options.delete_extraneous && subtree_all_accepted(j)) {
                j = remove(j, "replaced by a file");
                transfer(s, false, "type");
                plan.ops.back().after_delete = true;
            } else {
                // Left to fail at the destination (a folder is in the way), deleting nothing.
                transfer(s, true, "type conflict (use --delete)");
                j = skip_subtree(dest, j);
            }
            ++i;
            continue;
        }
        // Source folder, destination file.
        if (options.delete_extraneous) {
            remove(j, "replaced by a folder");
            conflict_prefix = s.path;
            mkdir(s, "type");
            plan.ops.back().after_delete = true;
        } else {
            mkdir(s, "type conflict (use --delete)");
        }
        ++i;
        ++j;
    }

    // A folder that gets a file or subfolder created beneath it is created by
    // that request (parents as needed): its own mkdir would be a wasted round trip.
    std::string_view next_created;
    std::vector<bool> redundant(plan.ops.size(), false);
    for (std::size_t k = plan.ops.size(); k-- > 0;) {
        const SyncOp& op = plan.ops[k];
        if (op.action == SyncOp::Action::mkdir) {
            if (!next_created.empty() && is_beneath(next_created, op.path)) redundant[k] = true;
            next_created = op.path;
        } else if (op.action == SyncOp::Action::transfer) {
            next_created = op.path;
        }
    }
    std::size_t out = 0;
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
        if (!redundant[k]) {
            if (out != k) plan.ops[out] = std::move(plan.ops[k]);
            ++out;
        }
    }
    plan.ops.resize(out);
    return plan;
}

Status check_delete_guards(const SyncPlan& plan, const SyncOptions& options, bool source_exists) {
    std::uint64_t files = 0;
    std::uint64_t entries = 0;
    for (const auto& op : plan.ops) {
        if (op.action != SyncOp::Action::remove) continue;
        files += op.files;
        ++entries;
    }
    if (entries == 0) return {};
    const char* side = plan.direction == SyncDirection::push ? "local folder" : "remote folder";
    std::string where =
        plan.direction == SyncDirection::push
            ? plan.local_dir
            : (plan.remote_dir.empty() ? std::string("(mount root)") : plan.remote_dir);
    if (!options.force && !source_exists) {
        return fail(ErrorKind::conflict,
                    fmt::format("refusing --delete: the {} {} does not exist, so every file on the "
                                "destination ({} files) would be deleted; check the path, or pass "
                                "--force if that is really what you want",
                                side, where, files));
    }
    if (!options.force && plan.source_files == 0) {
        return fail(ErrorKind::conflict,
                    fmt::format("refusing --delete: the {} {} has no files, so every file on the "
                                "destination ({} files) would be deleted; pass --force if that is "
                                "really what you want",
                                side, where, files));
    }
    if (options.max_delete >= 0 && files > static_cast<std::uint64_t>(options.max_delete)) {
        return fail(
            ErrorKind::conflict,
            fmt::format("refusing --delete: it would delete {} files, more than the limit "
                        "of {}; review with --dry-run, then pass --max-delete {} to allow it",
                        files, options.max_delete, files));
    }
    return {};
}

std::string sync_fingerprint(std::span<const SyncEntry> entries, bool with_hashes) {
    Sha256 hasher;
    std::string line;
    for (const auto& e : entries) {
        line.clear();
        fmt::format_to(std::back_inserter(line), "{}\t{}\t{}\t{}",
                       e.type == EntryType::dir ? 'd' : 'f', e.path,
                       e.type == EntryType::dir ? 0 : e.size,
                       e.type == EntryType::dir ? 0 : e.mtime_ns);
        if (with_hashes && e.sha256) {
            line += '\t';
            line += *e.sha256;
        }
        line += '\n';
        hasher.update(line);
    }
    return hasher.finish_hex();
}

SyncSummary plan_summary(const SyncPlan& plan) {
    SyncSummary s;
    s.direction = plan.direction;
    s.dry_run = true;
    s.files_skipped = plan.unchanged_files;
    s.bytes_skipped = plan.unchanged_bytes;
    s.excluded = plan.excluded;
    s.symlinks_skipped = plan.symlinks_skipped;
    s.symlinks_followed = plan.symlinks_followed;
    s.warnings = plan.warnings;
    for (const auto& op : plan.ops) {
        switch (op.action) {
            case SyncOp::Action::transfer:
                ++s.files_sent;
                s.bytes_sent += op.size;
                break;
            case SyncOp::Action::mkdir:
                ++s.dirs_created;
                break;
            case SyncOp::Action::remove:
                s.files_deleted += op.files;
                if (op.type == EntryType::dir) ++s.dirs_deleted;
                break;
            case SyncOp::Action::touch:
                ++s.mtimes_set;
                break;
        }
    }
    return s;
}

Status sync_status(const SyncSummary& summary) {
    if (summary.failures.empty() && summary.files_failed == 0) return {};
    Error e;
    if (!summary.failures.empty()) {
        const auto& f = summary.failures.front();
        e.kind = f.error.kind;
        e.http_status = f.error.http_status;
        e.api_kind = f.error.api_kind;
        e.message = fmt::format("sync {}: {} of the operations failed; first: {} {}: {}",
                                to_string(summary.direction), summary.failures.size(), f.action,
                                f.path.empty() ? std::string("(sync)") : f.path, f.error.message);
    } else {
        e.message = fmt::format("sync {}: {} files failed", to_string(summary.direction),
                                summary.files_failed);
    }
    if (summary.deletes_skipped) e.message += "; nothing was deleted";
    return std::unexpected(std::move(e));
}

std::string_view to_string(SyncDirection direction) {
    return direction == SyncDirection::push ? "push" : "pull";
}

std::string_view to_string(SyncOp::Action action) {
    switch (action) {
        case SyncOp::Action::transfer:
            return "transfer";
        case SyncOp::Action::mkdir:
            return "mkdir";
        case SyncOp::Action::remove:
            return "delete";
        case SyncOp::Action::touch:
            return "touch";
    }
    return "?";
}

}  // namespace de

// sync push|pull: scan both sides, plan, check the guards, execute.
//
// The remote side is one streamed manifest request (never a request per
// folder); a manifest without its end marker is an error, so an incomplete
// listing can never drive deletes. Execution runs in phases: creations and
// transfers on a pool of workers (one Client each, since a Client is
// single-threaded), then — only if all of them succeeded — the deletes, then
// the few transfers that had to wait for a delete (a file replacing a folder).
//
// Push takes its local listing from the one local walker and its send split
// from the upload planner (de/upload_plan.hpp): files below k_batch_threshold
// go through Client::upload_batch (tar bodies of thousands of files, one flush
// per batch on the server) instead of a PUT each, so 20k small files cost a
// few requests, not 20k round trips and 20k fsyncs. The folders to create
// travel in the same batches. Files that replace a known remote content
// (If-Match in --checksum mode), big files and a lone small file keep the
// per-file path, with the thresholds tuned_upload_options() gives.

#include "sync_internal.hpp"

#include <de/hash_cache.hpp>
#include <de/remote_path.hpp>
#include <de/sync.hpp>
#include <de/sync_lease.hpp>
#include <de/upload_plan.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace de {

namespace fs = std::filesystem;

namespace {

// sync pull: files smaller than this come in one tree archive request.
constexpr std::uint64_t k_tree_below = 1 << 20;

struct RemoteScan {
    std::vector<SyncEntry> entries;
    bool exists = false;
};

Result<RemoteScan> scan_remote(Client& client, std::string_view app, const std::string& remote_dir,
                               bool hashes) {
    RemoteScan scan;
    scan.exists = true;
    std::string prefix = remote_dir.empty() ? std::string{} : remote_dir + "/";
    auto st = client.manifest(app, remote_dir, hashes, [&](const Entry& e) -> Status {
        std::string_view p = e.path;
        if (!prefix.empty()) {
            if (p == remote_dir) return {};
            if (!p.starts_with(prefix)) {
                return fail(ErrorKind::generic,
                            fmt::format("the server's manifest of '{}' listed '{}', which is not "
                                        "beneath it",
                                        remote_dir, e.path));
            }
            p.remove_prefix(prefix.size());
        }
        if (p.empty()) return {};
        scan.entries.push_back(SyncEntry{std::string(p), e.type, e.size, e.mtime_ns, e.sha256});
        return {};
    });
    if (!st) {
        if (st.error().kind == ErrorKind::not_found && st.error().api_kind != "app_not_found" &&
            !remote_dir.empty()) {
            // The folder does not exist yet (the app itself does: the error names the path).
            scan.exists = false;
            scan.entries.clear();
            return scan;
        }
        return std::unexpected(std::move(st.error()));
    }
    sort_sync_entries(scan.entries);
    return scan;
}

std::vector<SyncEntry> filtered(const std::vector<SyncEntry>& entries, const SyncPlan& plan) {
    std::vector<SyncEntry> out;
    out.reserve(entries.size());
    for (const auto& e : entries) {
        if (sync_filter_accepts(e.path, e.type, plan.include, plan.exclude)) out.push_back(e);
    }
    return out;
}

struct Scanned {
    LocalScan local;
    RemoteScan remote;
};

Result<Scanned> scan_both(const ClientOptions& copts, std::string_view app,
                          const fs::path& local_dir, const SyncOptions& options,
                          const std::string& remote_dir) {
    auto client = Client::create(copts);
    if (!client) return std::unexpected(std::move(client.error()));
    Scanned s;
    // The two listings are independent: list the remote while walking the local folder.
    Result<RemoteScan> remote = fail(ErrorKind::generic, "not listed");
    std::thread remote_thread(
        [&] { remote = scan_remote(*client, app, remote_dir, options.checksum); });
    auto local = scan_local(local_dir, options.checksum, options);
    remote_thread.join();
    if (!local) return std::unexpected(std::move(local.error()));
    if (!remote) return std::unexpected(std::move(remote.error()));
    s.local = std::move(*local);
    s.remote = std::move(*remote);
    if (options.on_event) {
        std::string m1 = fmt::format("local: {} entries", s.local.entries.size());
        std::string m2 = fmt::format("remote: {} entries", s.remote.entries.size());
        options.on_event(SyncEvent{SyncEvent::Kind::scan, "scan", "", 0, m1});
        options.on_event(SyncEvent{SyncEvent::Kind::scan, "scan", "", 0, m2});
    }
    return s;
}

// Push without --checksum: a file whose size matches but whose mtime differs
// is compared by SHA-256 (the server's from HEAD for a few, else one manifest
// with hashes; the local one from the hash cache) and, when identical, counts
// as unchanged instead of being sent again (issue 13: identical files cost no
// transfer).
Status drop_identical(const ClientOptions& copts, SyncPlan& plan, const SyncOptions& options) {
    std::vector<std::size_t> candidates;
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
        const SyncOp& op = plan.ops[k];
        if (op.action == SyncOp::Action::transfer && op.replace && op.reason == "mtime")
            candidates.push_back(k);
    }
    if (candidates.empty()) return {};
    auto client = Client::create(copts);
    if (!client) return std::unexpected(std::move(client.error()));
    std::unordered_map<std::string, std::string> remote_sha;  // relative path -> sha256
    if (candidates.size() <= 32) {
        for (std::size_t k : candidates) {
            const std::string& rel = plan.ops[k].path;
            auto st = client->stat(plan.app, join_path(plan.remote_dir, rel));
            if (st && st->sha256) remote_sha[rel] = *st->sha256;
        }
    } else {
        std::string prefix = plan.remote_dir.empty() ? std::string{} : plan.remote_dir + "/";
        auto st = client->manifest(plan.app, plan.remote_dir, true, [&](const Entry& e) -> Status {
            if (e.type == EntryType::file && e.sha256 && e.path.starts_with(prefix))
                remote_sha[e.path.substr(prefix.size())] = *e.sha256;
            return {};
        });
        if (!st) return st;
    }
    HashCache cache =
        options.use_hash_cache ? HashCache::open(options.hash_cache_dir) : HashCache{};
    std::vector<bool> drop(plan.ops.size(), false);
    for (std::size_t k : candidates) {
        SyncOp& op = plan.ops[k];
        auto it = remote_sha.find(op.path);
        if (it == remote_sha.end()) continue;
        auto local = cache.sha256_of(fs::path(plan.local_dir) / op.path);
        if (!local) {
            if (local.error().kind == ErrorKind::interrupted)
                return std::unexpected(std::move(local.error()));
            continue;  // unreadable: the transfer reports it
        }
        if (*local == it->second) {
            drop[k] = true;
            ++plan.unchanged_files;
            plan.unchanged_bytes += op.size;
        } else {
            op.source_sha256 = *local;  // known now: no hashing pass when sending
        }
    }
    if (auto saved = cache.save(); !saved) plan.warnings.push_back(saved.error().message);
    std::size_t out = 0;
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
        if (drop[k]) continue;
        // Never a self-move: libstdc++ leaves a string moved into itself empty.
        if (out != k) plan.ops[out] = std::move(plan.ops[k]);
        ++out;
    }
    plan.ops.resize(out);
    return {};
}

Result<std::string> normalized_remote_dir(const std::string& dir) {
    auto n = normalize_remote_path(dir);
    if (!n) {
        return fail(ErrorKind::usage, fmt::format("the remote folder '{}' is not a valid path: {}",
                                                  dir, n.error().message));
    }
    return *n;
}

// Runs the executor's phases.
class Executor {
  public:
    Executor(const ClientOptions& copts, const SyncPlan& plan, const SyncOptions& options,
             const SyncLeaseHold* lease)
        : m_copts(copts),
          m_plan(plan),
          m_options(options),
          m_local(plan.local_dir),
          m_lease(lease) {}

    SyncSummary run() {
        auto t0 = std::chrono::steady_clock::now();
        m_summary.direction = m_plan.direction;
        m_summary.files_skipped = m_plan.unchanged_files;
        m_summary.bytes_skipped = m_plan.unchanged_bytes;
        m_summary.excluded = m_plan.excluded;
        m_summary.symlinks_skipped = m_plan.symlinks_skipped;
        m_summary.symlinks_followed = m_plan.symlinks_followed;
        m_summary.warnings = m_plan.warnings;

        std::vector<const SyncOp*> dirs, transfers, removes, late_dirs, late_transfers, touches;
        for (const auto& op : m_plan.ops) {
            switch (op.action) {
                case SyncOp::Action::mkdir:
                    (op.after_delete ? late_dirs : dirs).push_back(&op);
                    break;
                case SyncOp::Action::transfer:
                    (op.after_delete ? late_transfers : transfers).push_back(&op);
                    break;
                case SyncOp::Action::remove:
                    removes.push_back(&op);
                    break;
                case SyncOp::Action::touch:
                    touches.push_back(&op);
                    break;
            }
        }
        if (m_plan.direction == SyncDirection::pull) {
            std::error_code ec;
            fs::create_directories(m_local, ec);
            if (m_plan.checksum && m_options.use_hash_cache) {
                m_cache = detail::LocalHashCache::open(m_options.hash_cache_dir.empty()
                                                           ? detail::default_cache_dir()
                                                           : m_options.hash_cache_dir,
                                                       m_local);
            }
        }
        // Folders first, in order (parents before children), then files in parallel.
        if (m_plan.direction == SyncDirection::push) {
            // Small files (and the folders) in batches; the rest one by one.
            SendSplit split = split_for_send(
                transfers.size(), [&](std::size_t i) { return transfers[i]->size; },
                [&](std::size_t i) { return transfers[i]->replace && transfers[i]->dest_sha256; });
            if (!split.batched.empty()) {
                std::vector<const SyncOp*> fresh, replacing, single;
                for (std::size_t i : split.batched)
                    (transfers[i]->replace ? replacing : fresh).push_back(transfers[i]);
                for (std::size_t i : split.singles)
                    single.push_back(transfers[i]);
                run_batch(fresh, dirs, false);
                run_batch(replacing, {}, true);
                dirs.clear();
                transfers = std::move(single);
            }
        }
        if (m_plan.direction == SyncDirection::pull) {
            // Folders first; then the small files in one streamed tree archive
            // request (two: new files, and files that replace local ones); the
            // rest one by one.
            run_pool(dirs, 1);
            dirs.clear();
            std::vector<const SyncOp*> fresh, replacing, single;
            for (const SyncOp* op : transfers)
                (op->size >= k_tree_below ? single : op->replace ? replacing : fresh).push_back(op);
            if (fresh.size() < 2) single.insert(single.end(), fresh.begin(), fresh.end());
            if (replacing.size() < 2)
                single.insert(single.end(), replacing.begin(), replacing.end());
            if (fresh.size() < 2) fresh.clear();
            if (replacing.size() < 2) replacing.clear();
            run_tree(fresh, false);
            run_tree(replacing, true);
            transfers = std::move(single);
        }
        run_pool(dirs, 1);
        run_pool(transfers, m_options.jobs);
        run_pool(touches, 1);
        if (!removes.empty() || !late_dirs.empty() || !late_transfers.empty()) {
            if (failed()) {
                m_summary.deletes_skipped = !removes.empty();
            } else {
                run_pool(removes, m_options.jobs);
                if (!failed()) {
                    run_pool(late_dirs, 1);
                    run_pool(late_transfers, m_options.jobs);
                }
            }
        }
        if (m_cache) {
            if (auto saved = m_cache->save(); !saved) {
                m_summary.warnings.push_back(saved.error().message);
            }
        }
        m_summary.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return std::move(m_summary);
    }

  private:
    bool failed() {
        std::lock_guard lock(m_mutex);
        return !m_summary.failures.empty();
    }

    // Ctrl-C, or the sync lease was lost: start nothing more.
    std::optional<Error> stop_reason() const {
        if (interrupt_requested()) return Error{ErrorKind::interrupted, "interrupted", 0, {}};
        if (m_lease && m_lease->lost()) return m_lease->lost_error();
        return std::nullopt;
    }

    void event(SyncEvent::Kind kind, std::string_view action, std::string_view path,
               std::uint64_t bytes, std::string_view message) {
        if (!m_options.on_event) return;
        std::lock_guard lock(m_event_mutex);
        m_options.on_event(SyncEvent{kind, action, path, bytes, message});
    }

    void record_failure(const SyncOp& op, std::string_view action, Error error) {
        event(SyncEvent::Kind::failed, action, op.path, op.size, error.message);
        std::lock_guard lock(m_mutex);
        if (op.action == SyncOp::Action::transfer) ++m_summary.files_failed;
        m_summary.failures.push_back(SyncFailure{op.path, std::string(action), std::move(error)});
    }

    std::string remote_path(const SyncOp& op) const {
        return join_path(m_plan.remote_dir, op.path);
    }

    Status run_one(Client* client, const SyncOp& op, std::string_view action) {
        bool push = m_plan.direction == SyncDirection::push;
        fs::path local = m_local / op.path;
        switch (op.action) {
            case SyncOp::Action::transfer: {
                if (push) {
                    UploadOptions uo = tuned_upload_options(*client);
                    uo.overwrite = op.replace;
                    if (op.replace && op.dest_sha256) uo.if_match_sha256 = op.dest_sha256;
                    uo.sha256 = op.source_sha256;  // known from the hash cache: no second read
                    auto r = client->upload(m_plan.app, local, remote_path(op), uo);
                    if (!r) return std::unexpected(std::move(r.error()));
                } else {
                    std::error_code ec;
                    fs::create_directories(local.parent_path(), ec);
                    DownloadOptions dopt;
                    dopt.overwrite = op.replace;
                    auto r = client->download(m_plan.app, remote_path(op), local, dopt);
                    if (!r) return std::unexpected(std::move(r.error()));
                }
                std::lock_guard lock(m_mutex);
                ++m_summary.files_sent;
                m_summary.bytes_sent += op.size;
                return {};
            }
            case SyncOp::Action::mkdir: {
                if (push) {
                    auto r = client->mkdir(m_plan.app, remote_path(op), true);
                    if (!r) return std::unexpected(std::move(r.error()));
                } else {
                    std::error_code ec;
                    fs::create_directories(local, ec);
                    if (ec) {
                        return fail(ErrorKind::generic,
                                    fmt::format("cannot create local folder {}: {}", local.string(),
                                                ec.message()));
                    }
                }
                std::lock_guard lock(m_mutex);
                ++m_summary.dirs_created;
                return {};
            }
            case SyncOp::Action::remove: {
                if (push) {
                    auto r = client->remove(m_plan.app, remote_path(op), op.type == EntryType::dir);
                    if (!r && r.error().kind != ErrorKind::not_found) {
                        return std::unexpected(std::move(r.error()));
                    }
                } else {
                    std::error_code ec;
                    if (op.type == EntryType::dir) {
                        fs::remove_all(local, ec);
                    } else {
                        fs::remove(local, ec);
                    }
                    if (ec) {
                        return fail(ErrorKind::generic, fmt::format("cannot delete local {}: {}",
                                                                    local.string(), ec.message()));
                    }
                }
                std::lock_guard lock(m_mutex);
                m_summary.files_deleted += op.files;
                if (op.type == EntryType::dir) ++m_summary.dirs_deleted;
                return {};
            }
            case SyncOp::Action::touch: {
                struct timespec ts[2];
                ts[0].tv_sec = 0;
                ts[0].tv_nsec = UTIME_OMIT;
                ts[1].tv_sec = static_cast<time_t>(op.mtime_ns / 1'000'000'000);
                ts[1].tv_nsec = static_cast<long>(op.mtime_ns % 1'000'000'000);
                if (ts[1].tv_nsec < 0) {
                    ts[1].tv_nsec += 1'000'000'000;
                    --ts[1].tv_sec;
                }
                if (::utimensat(AT_FDCWD, local.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
                    return fail(ErrorKind::generic,
                                fmt::format("cannot set the mtime of {}", local.string()));
                }
                std::lock_guard lock(m_mutex);
                ++m_summary.mtimes_set;
                return {};
            }
        }
        (void)action;
        return {};
    }

    std::string_view action_of(const SyncOp& op) const {
        if (op.action == SyncOp::Action::transfer) {
            return m_plan.direction == SyncDirection::push ? "upload" : "download";
        }
        return to_string(op.action);
    }

    // Uploads `files` (and creates `dirs`) through Client::upload_batch; a
    // failed batch fails each of its operations with the batch's error.
    void run_batch(const std::vector<const SyncOp*>& files, const std::vector<const SyncOp*>& dirs,
                   bool overwrite) {
        if (files.empty() && dirs.empty()) return;
        if (auto stop = stop_reason()) {
            for (const SyncOp* op : dirs)
                record_failure(*op, "mkdir", *stop);
            for (const SyncOp* op : files)
                record_failure(*op, "upload", *stop);
            return;
        }
        auto fail_all = [&](const Error& e) {
            for (const SyncOp* op : dirs)
                record_failure(*op, "mkdir", e);
            for (const SyncOp* op : files)
                record_failure(*op, "upload", e);
        };
        auto client = Client::create(m_copts);
        if (!client) return fail_all(client.error());
        std::vector<BatchItem> items;
        items.reserve(files.size());
        const std::string local_dir = m_local.string();
        for (const SyncOp* op : files) {
            event(SyncEvent::Kind::start, "upload", op->path, op->size, {});
            items.push_back(BatchItem{local_dir + '/' + op->path, remote_path(*op), op->size,
                                      op->mtime_ns, op->source_sha256});
        }
        BatchOptions bo;
        bo.overwrite = overwrite;
        bo.on_entry = [](Entry&&) {};  // the plan knows every file already: keep none
        for (const SyncOp* op : dirs) {
            event(SyncEvent::Kind::start, "mkdir", op->path, 0, {});
            bo.dirs.push_back(remote_path(*op));
        }
        auto r = client->upload_batch(m_plan.app, items, bo);
        if (!r) return fail_all(r.error());
        for (const SyncOp* op : dirs) {
            event(SyncEvent::Kind::done, "mkdir", op->path, 0, {});
            std::lock_guard lock(m_mutex);
            ++m_summary.dirs_created;
        }
        for (const SyncOp* op : files) {
            event(SyncEvent::Kind::done, "upload", op->path, op->size, {});
            std::lock_guard lock(m_mutex);
            ++m_summary.files_sent;
            m_summary.bytes_sent += op->size;
        }
    }

    // Pull: `files` through Client::download_tree (one request); a file the
    // server could not send fails alone; an error of the stream fails the
    // files not committed before it.
    void run_tree(const std::vector<const SyncOp*>& files, bool overwrite) {
        if (files.empty()) return;
        if (auto stop = stop_reason()) {
            for (const SyncOp* op : files)
                record_failure(*op, "download", *stop);
            return;
        }
        auto client = Client::create(m_copts);
        if (!client) {
            for (const SyncOp* op : files)
                record_failure(*op, "download", client.error());
            return;
        }
        std::vector<TreeItem> items;
        items.reserve(files.size());
        for (const SyncOp* op : files) {
            event(SyncEvent::Kind::start, "download", op->path, op->size, {});
            items.push_back(TreeItem{remote_path(*op), (m_local / op->path).string()});
        }
        std::vector<char> settled(files.size(), 0);
        TreeDownloadOptions to;
        to.overwrite = overwrite;
        to.on_file = [&](std::size_t i, const Entry&) {
            settled[i] = 1;
            const SyncOp& op = *files[i];
            event(SyncEvent::Kind::done, "download", op.path, op.size, {});
            std::lock_guard lock(m_mutex);
            ++m_summary.files_sent;
            m_summary.bytes_sent += op.size;
        };
        to.on_failure = [&](std::size_t i, Error e) {
            settled[i] = 1;
            record_failure(*files[i], "download", std::move(e));
        };
        auto done = client->download_tree(m_plan.app, items, to);
        if (!done) {
            for (std::size_t i = 0; i < files.size(); ++i)
                if (!settled[i]) record_failure(*files[i], "download", done.error());
        }
    }

    void run_pool(const std::vector<const SyncOp*>& ops, int jobs) {
        if (ops.empty()) return;
        bool needs_client = m_plan.direction == SyncDirection::push ||
                            std::any_of(ops.begin(), ops.end(), [](const SyncOp* op) {
                                return op->action == SyncOp::Action::transfer;
                            });
        std::size_t n =
            std::clamp<std::size_t>(jobs < 1 ? 1 : static_cast<std::size_t>(jobs), 1, ops.size());
        std::atomic<std::size_t> next{0};
        auto worker = [&] {
            std::optional<Client> client;
            if (needs_client) {
                auto c = Client::create(m_copts);
                if (!c) {
                    // Every op this worker would take fails the same way; one record is enough.
                    std::size_t k = next.fetch_add(1);
                    if (k < ops.size()) record_failure(*ops[k], action_of(*ops[k]), c.error());
                    return;
                }
                client.emplace(std::move(*c));
            }
            for (;;) {
                std::size_t k = next.fetch_add(1);
                if (k >= ops.size()) return;
                const SyncOp& op = *ops[k];
                auto action = action_of(op);
                if (auto stop = stop_reason()) {
                    record_failure(op, action, std::move(*stop));
                    next.store(ops.size());
                    return;
                }
                event(SyncEvent::Kind::start, action, op.path, op.size, {});
                auto st = run_one(client ? &*client : nullptr, op, action);
                if (st) {
                    event(SyncEvent::Kind::done, action, op.path, op.size, {});
                } else {
                    record_failure(op, action, std::move(st.error()));
                }
            }
        };
        if (n == 1) {
            worker();
            return;
        }
        std::vector<std::jthread> threads;
        threads.reserve(n);
        for (std::size_t t = 0; t < n; ++t)
            threads.emplace_back(worker);
    }

    const ClientOptions& m_copts;
    const SyncPlan& m_plan;
    const SyncOptions& m_options;
    fs::path m_local;
    SyncSummary m_summary;
    std::optional<detail::LocalHashCache> m_cache;  // pull --checksum: learn downloaded hashes
    const SyncLeaseHold* m_lease;                   // push: the sync lease it runs under
    std::mutex m_mutex;
    std::mutex m_event_mutex;
};

}  // namespace

Result<SyncPlan> sync_plan(const ClientOptions& client, std::string_view app,
                           const fs::path& local_dir, SyncDirection direction,
                           const SyncOptions& options) {
    auto remote_dir = normalized_remote_dir(options.remote_dir);
    if (!remote_dir) return std::unexpected(std::move(remote_dir.error()));
    std::error_code ec;
    fs::path local_abs = fs::absolute(local_dir, ec).lexically_normal();
    if (ec) return fail(ErrorKind::usage, fmt::format("bad local folder {}", local_dir.string()));
    if (local_abs.has_filename() == false && local_abs != local_abs.root_path()) {
        local_abs = local_abs.parent_path();
    }

    bool push = direction == SyncDirection::push;
    // The lease comes before the remote scan: a plan made while another sync
    // writes would undo or mix with that sync's changes.
    std::shared_ptr<SyncLeaseHold> lease;
    if (push && !options.dry_run) {
        auto held = SyncLeaseHold::take(client, app);
        if (!held) return std::unexpected(std::move(held.error()));
        lease = std::move(*held);
    }

    auto scanned = scan_both(client, app, local_abs, options, *remote_dir);
    if (!scanned) return std::unexpected(std::move(scanned.error()));
    auto& local = scanned->local;
    auto& remote = scanned->remote;

    bool source_exists = push ? local.exists : remote.exists;
    if (!source_exists && options.delete_extraneous && !options.force) {
        // The classic one-typo wipe-out: refuse it as a guard, whatever the destination holds.
        return fail(ErrorKind::conflict,
                    fmt::format("refusing --delete: the {} {} does not exist, so every file on "
                                "the destination would be deleted; check the path, or pass "
                                "--force if that is really what you want",
                                push ? "local folder" : "remote folder",
                                push ? local_abs.string() : "'" + *remote_dir + "'"));
    }
    if (!source_exists && !options.delete_extraneous) {
        if (push) {
            return fail(ErrorKind::not_found,
                        fmt::format("the local folder {} does not exist; create it, or name "
                                    "another one (LOCAL_DIR defaults to ../mount)",
                                    local_abs.string()));
        }
        return fail(ErrorKind::not_found,
                    fmt::format("the remote folder '{}' does not exist in app {}'s mount",
                                *remote_dir, app));
    }

    SyncOptions opts = options;
    opts.remote_dir = *remote_dir;
    const auto& src = push ? local.entries : remote.entries;
    const auto& dst = push ? remote.entries : local.entries;
    SyncPlan plan = plan_sync(src, dst, direction, opts);
    plan.app = std::string(app);
    plan.host = client.host;
    plan.local_dir = local_abs.string();
    plan.symlinks_skipped = local.symlinks_skipped;
    plan.symlinks_followed = local.symlinks_followed;
    plan.warnings = local.warnings;
    plan.local_fingerprint = sync_fingerprint(filtered(local.entries, plan), options.checksum);
    plan.remote_fingerprint = sync_fingerprint(filtered(remote.entries, plan), options.checksum);
    plan.created_at = static_cast<std::int64_t>(std::time(nullptr));
    plan.lease = std::move(lease);
    if (push && !options.checksum)
        if (auto st = drop_identical(client, plan, options); !st)
            return std::unexpected(std::move(st.error()));
    if (options.delete_extraneous) {
        if (auto g = check_delete_guards(plan, opts, source_exists); !g) {
            // A dry run still shows the plan (that is how one reviews a big
            // delete); --apply checks the guards again.
            if (!options.dry_run) return std::unexpected(std::move(g.error()));
            plan.warnings.push_back(g.error().message);
        }
    }
    return plan;
}

namespace {
Result<SyncSummary> execute_under(const ClientOptions& client, const SyncPlan& plan,
                                  const SyncOptions& options, bool verify,
                                  const SyncLeaseHold* lease);
}  // namespace

Result<SyncSummary> sync_execute(const ClientOptions& client, const SyncPlan& plan,
                                 const SyncOptions& options, bool verify) {
    std::shared_ptr<SyncLeaseHold> lease;
    if (plan.direction == SyncDirection::push) {
        if (plan.lease && !plan.lease->released()) {
            lease = plan.lease;
        } else {
            auto held = SyncLeaseHold::take(client, plan.app);
            if (!held) return std::unexpected(std::move(held.error()));
            lease = std::move(*held);
            // The plan's remote scan was not made under this lease: check it.
            if (!plan.remote_fingerprint.empty()) verify = true;
        }
    }
    auto summary =
        execute_under(lease ? lease->client_options() : client, plan, options, verify, lease.get());
    if (lease) {
        lease->confirm();
        bool lost = lease->lost();
        lease->release();
        if (lost) return std::unexpected(lease->lost_error());
    }
    return summary;
}

namespace {
Result<SyncSummary> execute_under(const ClientOptions& client, const SyncPlan& plan,
                                  const SyncOptions& options, bool verify,
                                  const SyncLeaseHold* lease) {
    if (verify) {
        if (!plan.host.empty() && !client.host.empty() && plan.host != client.host) {
            return fail(ErrorKind::usage,
                        fmt::format("the plan was made for host {}, not {}; pass --host {}",
                                    plan.host, client.host, plan.host));
        }
        SyncOptions scan_opts = options;
        scan_opts.checksum = plan.checksum;
        scan_opts.follow_symlinks = plan.follow_symlinks;
        scan_opts.include = plan.include;
        scan_opts.exclude = plan.exclude;
        auto scanned = scan_both(client, plan.app, plan.local_dir, scan_opts, plan.remote_dir);
        if (!scanned) return std::unexpected(std::move(scanned.error()));
        auto lf = sync_fingerprint(filtered(scanned->local.entries, plan), plan.checksum);
        auto rf = sync_fingerprint(filtered(scanned->remote.entries, plan), plan.checksum);
        if (lf != plan.local_fingerprint || rf != plan.remote_fingerprint) {
            std::string which = lf != plan.local_fingerprint && rf != plan.remote_fingerprint
                                    ? "both sides have"
                                : lf != plan.local_fingerprint
                                    ? fmt::format("the local folder {} has", plan.local_dir)
                                    : fmt::format("app {}'s mount has", plan.app);
            return fail(ErrorKind::conflict,
                        fmt::format("refusing to apply the plan: {} changed since it was made; "
                                    "make a new plan with --dry-run --json and review it",
                                    which));
        }
    }
    Executor executor(client, plan, options, lease);
    return executor.run();
}
}  // namespace

Result<SyncSummary> sync_apply(const ClientOptions& client, const SyncPlan& plan,
                               SyncOptions options) {
    options.remote_dir = plan.remote_dir;
    options.delete_extraneous = plan.delete_extraneous;
    options.checksum = plan.checksum;
    options.follow_symlinks = plan.follow_symlinks;
    options.include = plan.include;
    options.exclude = plan.exclude;
    options.dry_run = false;
    if (auto g = check_delete_guards(plan, options, true); !g)
        return std::unexpected(std::move(g.error()));
    return sync_execute(client, plan, options, true);
}

namespace {

Result<SyncSummary> sync_run(const ClientOptions& client, std::string_view app,
                             const fs::path& local_dir, SyncDirection direction,
                             const SyncOptions& options) {
    auto t0 = std::chrono::steady_clock::now();
    auto plan = sync_plan(client, app, local_dir, direction, options);
    if (!plan) return std::unexpected(std::move(plan.error()));
    SyncSummary summary;
    if (options.dry_run) {
        summary = plan_summary(*plan);
    } else {
        auto done = sync_execute(client, *plan, options, false);
        if (!done) return done;
        summary = std::move(*done);
    }
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return summary;
}

}  // namespace

Result<SyncSummary> sync_push(const ClientOptions& client, std::string_view app,
                              const fs::path& local_dir, const SyncOptions& options) {
    return sync_run(client, app, local_dir, SyncDirection::push, options);
}

Result<SyncSummary> sync_pull(const ClientOptions& client, std::string_view app,
                              const fs::path& local_dir, const SyncOptions& options) {
    return sync_run(client, app, local_dir, SyncDirection::pull, options);
}

}  // namespace de

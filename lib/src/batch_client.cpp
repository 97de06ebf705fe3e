// Client::upload_batch: many small files as tar bodies to .../mount/batch
// (docs/api.md, "Batch upload").
//
// Each request's body is generated while libcurl sends it: the read callback
// asks for up to 1 MiB, and we append whole members (pax header with path,
// mtime in nanoseconds and DE.crc64, ustar header, data, padding) to a small
// output buffer until it holds that much. A file of at most 1 MiB is read
// whole into a buffer and its CRC-64 computed there, so it is read once; a
// bigger one gets its CRC in a first pass and is streamed in a second (the
// record precedes the data). No SHA-256 on this side: the server computes it
// once (the ETag). Content-Length is known before the first byte
// (TarWriter::file_member_size: every header's length depends only on the
// path and the records' lengths, and a CRC-64 is always 16 digits), so the server can reserve quota
// and refuse (Expect: 100-continue) before the body. A file whose size changed since it was planned
// fails the batch with a clear message: the server would otherwise store a torn file.
//
// Requests are cut by BatchOptions.max_files / max_bytes (and the server's
// limits), then sent on up to two connections at once: the server parses and
// writes one body while it flushes and renames the other's files, and the
// client's reading and hashing runs beside libcurl's sending. Measured on the
// 2-core box: see the commit log and the report of issue 4.
//
// Answers are parsed with a callback that hands each entry on (to
// BatchOptions::on_entry, or into BatchResult::entries) and drops it from the
// JSON tree, so a 5000-file answer never exists as 5000 JSON objects.
//
// A batch POST is not idempotent (one that reached the server may have
// committed), but its effect is recognised: it is sent again after any
// outage (refused or broken connection, 502/503/504) for up to the retry
// budget (TransferEnv::retry_budget, default 30 s; backoff at most 2 s
// apart), and when it is refused (409) because files exist, the files
// of the request are looked up (HEAD): those that hold the content sent are
// this request's own earlier doing and count as stored, the missing ones go
// again in a request of their own, and a file with other content is a
// conflict as before. With overwrite=true a second send stores the same
// content again. Test seam: TestHooks::batch_max_files (applied
// by Client::upload_batch) caps the files per request, so a test sees a tree
// go up in several requests without 5000+ files.
#include "transfers.hpp"

#include <de/api.hpp>
#include <de/archive.hpp>
#include <de/crc64.hpp>
#include <de/json.hpp>
#include <de/sha256.hpp>
#include <de/size.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

namespace de::detail {

namespace {

using nlohmann::json;

constexpr std::uint64_t k_read_whole = 1 << 20;  // files up to this are read in one go
constexpr std::uint64_t k_expect_continue_from = 1 << 20;
constexpr std::uint64_t k_progress_step = 256 * 1024;
// Members are generated ahead into a buffer of about this much (plus at most
// one whole small file), not of libcurl's whole 1 MiB upload buffer: two
// senders' buffers then stay well under 1 MiB each.
constexpr std::size_t k_out_target = 256 * 1024;
constexpr int k_connections = 2;

std::string mtime_record(std::int64_t ns) {
    std::int64_t sec = ns / 1'000'000'000;
    std::int64_t frac = ns % 1'000'000'000;
    if (frac < 0) {
        frac += 1'000'000'000;
        --sec;
    }
    if (sec < 0 && frac != 0) {
        // pax times are "-S.F" meaning -(S.F); keep the arithmetic exact.
        std::int64_t neg = -ns;
        return fmt::format("-{}.{:09}", neg / 1'000'000'000, neg % 1'000'000'000);
    }
    return fmt::format("{}.{:09}", sec, frac);
}

// The SHA-256 of a local file ("" when it cannot be read): only for
// recognising an earlier send on a server that does not send Repr-Digest.
std::string local_sha256(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    Sha256 hasher;
    std::vector<char> buffer(1 << 20);
    ssize_t n = 0;
    while ((n = ::read(fd, buffer.data(), buffer.size())) > 0)
        hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    ::close(fd);
    return n == 0 ? hasher.finish_hex() : "";
}

PaxRecords records_for(std::int64_t mtime_ns, std::string crc64_hex) {
    return {{"mtime", mtime_record(mtime_ns)}, {"DE.crc64", std::move(crc64_hex)}};
}

std::uint64_t dir_member_size(std::string_view path) {
    TarWriter counter([](std::string_view) -> Status { return {}; });
    (void)counter.add_directory(path, 0);
    return counter.bytes_written();
}

struct Slice {
    std::size_t first = 0, last = 0;          // items [first, last)
    std::size_t dir_first = 0, dir_last = 0;  // options.dirs [dir_first, dir_last)
    std::uint64_t body = 0;                   // Content-Length
    std::uint64_t bytes = 0;                  // file content bytes
};

class Fd {
  public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    void reset(int fd = -1) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = fd;
    }
    int get() const { return m_fd; }

  private:
    int m_fd;
};

// Errors of the batch route: the shared classifier of libde.
Error response_error(const http::Response& response, std::string_view what) {
    return http::response_error(response.status, response.body, what);
}

// Sends one slice: generates its tar body on the fly.
class SliceSender {
  public:
    SliceSender(const TransferEnv& env, const std::vector<BatchItem>& items,
                const BatchOptions& options, const Slice& slice,
                std::function<void(std::uint64_t)> advance, const std::atomic<bool>& stop)
        : m_env(env),
          m_items(items),
          m_options(options),
          m_slice(slice),
          m_advance(std::move(advance)),
          m_stop(stop) {}

    // Sends the slice; each committed file's entry goes to `sink` while the
    // answer is parsed. Returns how many there were.
    Result<std::size_t> send(http::Transport& transport, const std::function<void(Entry&&)>& sink) {
        const std::string what = fmt::format("batch upload of {} files to app '{}'",
                                             m_slice.last - m_slice.first, m_env.app);
        http::Request request;
        request.method = "POST";
        request.url = http::build_url(m_env.base_url, m_env.app_route + "/mount/batch",
                                      {{"overwrite", m_options.overwrite ? "true" : "false"}});
        request.streaming = true;
        request.body_size = m_slice.body;
        request.headers = {
            "Content-Type: application/x-tar",
            "Accept: application/json",
            m_slice.body >= k_expect_continue_from ? "Expect: 100-continue" : "Expect:",
        };
        request.read_body = [this](char* buf, std::size_t len) { return read(buf, len); };
        request.rewind_body = [this] {
            restart();
            return true;
        };
        restart();
        std::expected<http::Response, http::TransportError> response;
        const http::RetryPolicy policy{m_env.max_retries, std::chrono::milliseconds(200),
                                       std::chrono::milliseconds(2'000),
                                       std::chrono::milliseconds(0), m_env.retry_budget};
        http::Retry retry(policy, true,
                          static_cast<std::uint32_t>(m_slice.first * 2654435761u + 1));
        for (;;) {
            response = transport.perform(request);
            if (m_error) return std::unexpected(*m_error);
            http::Attempt outcome;
            if (response)
                outcome.status = response->status;
            else
                outcome.failure = response.error().kind;
            auto verdict = retry.next(outcome);
            if (verdict.action == http::Retry::Action::exhausted && http::outage(outcome) &&
                policy.outage_budget.count() > 0)
                return std::unexpected(http::outage_error(what, m_env.base_url,
                                                          policy.outage_budget, outcome,
                                                          response ? "" : response.error().detail));
            if (verdict.action != http::Retry::Action::retry) break;
            auto until = std::chrono::steady_clock::now() + verdict.delay;
            while (!interrupt_requested() && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                    std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
            if (interrupt_requested()) break;
            restart();
        }
        if (!response) {
            if (response.error().kind == http::TransportError::Kind::interrupted ||
                interrupt_requested())
                return fail(ErrorKind::interrupted, fmt::format("{} interrupted", what));
            return std::unexpected(http::transport_error(response.error(), m_env.host, what));
        }
        // A refusal because files exist is looked at whether or not an earlier
        // send may have been carried out: files that appeared after the plan
        // (a killed run's batch the server was still committing) with the
        // content sent are what was asked for, not a conflict.
        if (response->status == 409 && !m_options.overwrite)
            return recognise(transport, sink, response_error(*response, what));
        if (response->status != 200 && response->status != 207)
            return std::unexpected(response_error(*response, what));
        std::size_t entries = 0;
        try {
            // The entries are taken out one by one as the parser completes
            // them (and dropped from the tree), so thousands of them never sit
            // in memory as JSON objects.
            bool in_entries = false, saw_entries = false;
            json body = json::parse(response->body, [&](int depth, json::parse_event_t event,
                                                        json& parsed) {
                if (event == json::parse_event_t::key && depth == 1) {
                    in_entries = parsed == "entries";
                    saw_entries = saw_entries || in_entries;
                } else if (event == json::parse_event_t::object_end && depth == 2 && in_entries) {
                    sink(parsed.get<Entry>());
                    ++entries;
                    return false;
                }
                return true;
            });
            if (!saw_entries)
                return fail(ErrorKind::generic,
                            fmt::format("{} failed: the server's answer is not what API v1 "
                                        "describes (no \"entries\")",
                                        what));
            if (response->status == 207) {
                std::string names;
                std::size_t n = 0;
                for (const auto& f : body.at("failed")) {
                    if (n++ < 5)
                        names += fmt::format("{}'{}' ({})", n > 1 ? ", " : "", f.value("path", ""),
                                             f.value("message", ""));
                }
                return fail(ErrorKind::conflict,
                            fmt::format("{}: {} of the files were not stored because another "
                                        "writer changed them meanwhile: {}{}; the other {} were "
                                        "stored",
                                        what, n, names, n > 5 ? ", ..." : "", entries));
            }
        } catch (const json::exception& e) {
            return fail(ErrorKind::generic,
                        fmt::format("{} failed: the server's answer is not what API v1 "
                                    "describes ({})",
                                    what, e.what()));
        }
        return entries;
    }

  private:
    // A retry of this slice was refused (409: files exist) after an earlier
    // send may have been carried out. Each file is looked up: the same
    // content there counts as stored (its entry goes to sink), missing files
    // go again in a request of their own, anything else is `refused`.
    Result<std::size_t> recognise(http::Transport& transport,
                                  const std::function<void(Entry&&)>& sink, Error refused) {
        std::vector<Entry> stored;
        std::vector<BatchItem> missing;
        for (std::size_t i = m_slice.first; i < m_slice.last; ++i) {
            const BatchItem& item = m_items[i];
            const std::string& crc = m_crcs[i - m_slice.first];
            auto encoded = http::encode_remote_path(item.remote);
            if (crc.empty() || !encoded) return std::unexpected(refused);
            http::Request head;
            head.method = "HEAD";
            head.url =
                http::build_url(m_env.base_url, m_env.app_route + "/mount/files/" + *encoded);
            auto answer = transport.perform(head);
            if (!answer) return std::unexpected(refused);
            if (answer->status == 404) {
                missing.push_back(item);
                continue;
            }
            // The same content: the size and the CRC-64 the server keeps
            // (Repr-Digest), or the SHA-256 when the caller knew it (ETag).
            std::optional<std::string> remote_sha;
            if (auto v = answer->headers.find("etag")) remote_sha = api::sha256_from_etag(*v);
            std::optional<std::uint64_t> remote_crc;
            bool malformed = false;
            if (auto v = answer->headers.find("repr-digest"))
                remote_crc = api::parse_digest_crc64(*v, malformed);
            auto remote_size = http::parse_int(answer->headers.find("content-length").value_or(""));
            const bool size_ok =
                remote_size && static_cast<std::uint64_t>(*remote_size) == item.size;
            bool same = false;
            if (item.sha256)
                same = remote_sha == item.sha256;
            else if (remote_crc)
                same = size_ok && crc64_hex(*remote_crc) == crc;
            else if (size_ok && remote_sha)
                same = local_sha256(item.local) == *remote_sha;  // a server without Repr-Digest
            if (answer->status != 200 || !same) return std::unexpected(refused);
            Entry entry{item.remote, EntryType::file, item.size, item.mtime_ns, remote_sha};
            if (auto v = answer->headers.find("x-de-mtime-ns"))
                entry.mtime_ns = http::parse_int(*v).value_or(item.mtime_ns);
            stored.push_back(std::move(entry));
        }
        std::size_t count = 0;
        if (!missing.empty() || m_slice.dir_last > m_slice.dir_first) {
            // The rest (and the slice's folders, which may exist) as a new request.
            Slice rest;
            rest.first = 0;
            rest.last = missing.size();
            rest.dir_first = m_slice.dir_first;
            rest.dir_last = m_slice.dir_last;
            for (std::size_t d = rest.dir_first; d < rest.dir_last; ++d)
                rest.body += dir_member_size(m_options.dirs[d]);
            for (const auto& it : missing) {
                rest.body += TarWriter::file_member_size(
                    it.remote, it.size, records_for(it.mtime_ns, std::string(16, '0')));
                rest.bytes += it.size;
            }
            rest.body += 1024;
            SliceSender again(m_env, missing, m_options, rest, m_advance, m_stop);
            auto sent = again.send(transport, sink);
            if (!sent) return sent;
            count = *sent;
        }
        for (auto& entry : stored)
            sink(std::move(entry));
        return count + stored.size();
    }

    void restart() {
        m_out.clear();
        m_out_pos = 0;
        m_next_item = m_slice.first;
        m_next_dir = m_slice.dir_first;
        m_finished = false;
        m_stream_fd.reset();
        m_stream_left = 0;
        m_error.reset();
        m_crcs.assign(m_slice.last - m_slice.first, std::string());
        m_writer.emplace([this](std::string_view d) -> Status {
            m_out.append(d);
            return {};
        });
    }

    std::optional<std::size_t> read(char* buf, std::size_t len) {
        if (m_stop.load(std::memory_order_relaxed) || interrupt_requested()) {
            if (!m_error)
                m_error = Error{interrupt_requested() ? ErrorKind::interrupted : ErrorKind::generic,
                                interrupt_requested() ? "batch upload interrupted"
                                                      : "batch upload stopped: another batch "
                                                        "failed",
                                0,
                                {}};
            return std::nullopt;
        }
        if (m_out_pos == m_out.size()) {
            m_out.clear();
            m_out_pos = 0;
            if (auto st = refill(std::min(len, k_out_target)); !st) {
                m_error = st.error();
                return std::nullopt;
            }
        }
        std::size_t n = std::min(len, m_out.size() - m_out_pos);
        std::memcpy(buf, m_out.data() + m_out_pos, n);
        m_out_pos += n;
        return n;
    }

    Status item_error(const BatchItem& item, std::string_view why) {
        return fail(ErrorKind::generic,
                    fmt::format("batch upload of '{}' failed: {}", item.local, why));
    }

    // Appends members to m_out until it holds about `want` bytes (or the end).
    Status refill(std::size_t want) {
        while (m_out.size() < want) {
            if (m_stream_fd.get() >= 0) {
                if (auto st = stream_more(want); !st) return st;
                continue;
            }
            if (m_next_dir < m_slice.dir_last) {
                if (auto st = m_writer->add_directory(m_options.dirs[m_next_dir++], 0); !st)
                    return st;
                continue;
            }
            if (m_next_item < m_slice.last) {
                if (auto st = add_item(m_items[m_next_item++]); !st) return st;
                continue;
            }
            if (!m_finished) {
                m_finished = true;
                if (auto st = m_writer->finish(); !st) return st;
            }
            break;
        }
        return {};
    }

    Status add_item(const BatchItem& item) {
        Fd fd(::open(item.local.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0)
            return item_error(item, fmt::format("cannot open it: {}", std::strerror(errno)));
        if (item.size > k_read_whole) return begin_stream(item, fd);
        m_data.resize(item.size + 1);  // one byte more: a file that grew shows up
        std::size_t got = 0;
        while (got < m_data.size()) {
            std::size_t want = m_data.size() - got;
            ssize_t n = ::read(fd.get(), m_data.data() + got, want);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0)
                return item_error(item, fmt::format("cannot read it: {}", std::strerror(errno)));
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
            // A regular file's read returns less than asked only at its end:
            // no second read (and syscall) per file just to see 0.
            if (static_cast<std::size_t>(n) < want) break;
        }
        if (got != item.size)
            return item_error(item, fmt::format("its size changed from {} to {}{} bytes since the "
                                                "upload was planned; run it again",
                                                item.size, got > item.size ? "more than " : "",
                                                got > item.size ? item.size : got));
        std::string_view data(m_data.data(), item.size);
        std::string crc = crc64_hex(crc64(data));
        m_crcs[m_next_item - 1 - m_slice.first] = crc;
        if (auto st = m_writer->begin_file(item.remote, item.size, item.mtime_ns,
                                           records_for(item.mtime_ns, std::move(crc)));
            !st)
            return st;
        if (auto st = m_writer->write(data); !st) return st;
        if (auto st = m_writer->end_file(); !st) return st;
        m_advance(item.size);
        return {};
    }

    // A big item: its CRC-64 in a first pass (the record precedes the data),
    // then stream it chunk by chunk.
    Status begin_stream(const BatchItem& item, Fd& fd) {
        std::string crc;
        {
            Crc64 hasher;
            m_data.resize(k_read_whole);
            std::uint64_t total = 0;
            for (;;) {
                ssize_t n =
                    ::pread(fd.get(), m_data.data(), m_data.size(), static_cast<off_t>(total));
                if (n < 0 && errno == EINTR) continue;
                if (n < 0)
                    return item_error(item,
                                      fmt::format("cannot read it: {}", std::strerror(errno)));
                if (n == 0) break;
                hasher.update(std::string_view(m_data.data(), static_cast<std::size_t>(n)));
                total += static_cast<std::uint64_t>(n);
                if (interrupt_requested())
                    return fail(ErrorKind::interrupted, "batch upload interrupted");
            }
            if (total != item.size)
                return item_error(item, fmt::format("its size changed from {} to {} bytes since "
                                                    "the upload was planned; run it again",
                                                    item.size, total));
            crc = crc64_hex(hasher.value());
        }
        m_crcs[m_next_item - 1 - m_slice.first] = crc;
        if (auto st = m_writer->begin_file(item.remote, item.size, item.mtime_ns,
                                           records_for(item.mtime_ns, std::move(crc)));
            !st)
            return st;
        m_stream_item = &item;
        m_stream_left = item.size;
        m_stream_off = 0;
        m_stream_fd.reset(::dup(fd.get()));
        if (m_stream_fd.get() < 0) return item_error(item, "cannot duplicate its descriptor");
        if (m_stream_left == 0) return end_stream();
        return {};
    }

    Status stream_more(std::size_t want) {
        const BatchItem& item = *m_stream_item;
        std::size_t chunk = static_cast<std::size_t>(
            std::min<std::uint64_t>(m_stream_left, std::max<std::size_t>(want, 64 * 1024)));
        m_data.resize(chunk);
        ssize_t n;
        do {
            n = ::pread(m_stream_fd.get(), m_data.data(), chunk, static_cast<off_t>(m_stream_off));
        } while (n < 0 && errno == EINTR);
        if (n < 0) return item_error(item, fmt::format("cannot read it: {}", std::strerror(errno)));
        if (n == 0) return item_error(item, "it shrank while it was sent; run the upload again");
        if (auto st = m_writer->write(std::string_view(m_data.data(), static_cast<std::size_t>(n)));
            !st)
            return st;
        m_stream_off += static_cast<std::uint64_t>(n);
        m_stream_left -= static_cast<std::uint64_t>(n);
        m_advance(static_cast<std::uint64_t>(n));
        if (m_stream_left == 0) return end_stream();
        return {};
    }

    Status end_stream() {
        m_stream_fd.reset();
        return m_writer->end_file();
    }

    const TransferEnv& m_env;
    const std::vector<BatchItem>& m_items;
    const BatchOptions& m_options;
    const Slice& m_slice;
    std::function<void(std::uint64_t)> m_advance;
    const std::atomic<bool>& m_stop;

    std::optional<TarWriter> m_writer;
    std::string m_out;
    std::size_t m_out_pos = 0;
    std::vector<char> m_data;
    std::size_t m_next_item = 0;
    std::size_t m_next_dir = 0;
    bool m_finished = false;
    Fd m_stream_fd;
    const BatchItem* m_stream_item = nullptr;
    std::uint64_t m_stream_left = 0;
    std::uint64_t m_stream_off = 0;
    std::optional<Error> m_error;
    std::vector<std::string> m_crcs;  // CRC-64 hex of the slice's items, as sent
};

}  // namespace

Result<BatchResult> batch_upload(const TransferEnv& env, const std::vector<BatchItem>& items,
                                 const BatchOptions& options) {
    BatchResult result;
    if (items.empty() && options.dirs.empty()) return result;

    // Cut the work into requests.
    std::size_t max_files = std::clamp<std::size_t>(options.max_files, 1, api::k_batch_max_members);
    std::uint64_t max_body =
        std::clamp<std::uint64_t>(options.max_bytes, 64 * 1024, api::k_batch_max_body);
    std::vector<Slice> slices;
    Slice cur;
    std::uint64_t total_bytes = 0;
    auto members = [](const Slice& s) { return (s.last - s.first) + (s.dir_last - s.dir_first); };
    auto close_slice = [&](std::size_t next_item, std::size_t next_dir) {
        cur.body += 1024;  // the end-of-archive blocks
        slices.push_back(cur);
        cur = Slice{};
        cur.first = cur.last = next_item;
        cur.dir_first = cur.dir_last = next_dir;
    };
    for (std::size_t d = 0; d < options.dirs.size(); ++d) {
        std::uint64_t sz = dir_member_size(options.dirs[d]);
        if (members(cur) > 0 && (members(cur) + 1 > max_files || cur.body + sz + 1024 > max_body))
            close_slice(0, d);
        cur.dir_last = d + 1;
        cur.body += sz;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
        const BatchItem& it = items[i];
        std::uint64_t sz = TarWriter::file_member_size(
            it.remote, it.size, records_for(it.mtime_ns, std::string(16, '0')));
        if (sz + 1024 > api::k_batch_max_body)
            return fail(ErrorKind::usage,
                        fmt::format("'{}' ({}) is too big for a batch upload; upload it on its "
                                    "own",
                                    it.local, format_size(it.size)));
        if (members(cur) > 0 && (members(cur) + 1 > max_files || cur.body + sz + 1024 > max_body))
            close_slice(i, options.dirs.size());
        if (cur.last == cur.first) cur.first = i;
        cur.last = i + 1;
        cur.body += sz;
        cur.bytes += it.size;
        total_bytes += it.size;
    }
    if (members(cur) > 0) close_slice(items.size(), options.dirs.size());
    // Dir-only slices leave first/last at 0; file slices never hold dirs of another slice.
    result.requests = slices.size();

    // Progress over all items' bytes, from whichever connection moved them.
    std::mutex progress_mutex;
    std::uint64_t done = 0, reported = 0;
    const std::string label = fmt::format("{} files", items.size());
    if (options.progress)
        options.progress(ProgressEvent{ProgressEvent::Phase::start, label, 0, total_bytes});
    auto advance = [&](std::uint64_t n) {
        if (!options.progress) return;
        std::lock_guard lock(progress_mutex);
        done += n;
        if (done - reported >= k_progress_step || done == total_bytes) {
            reported = done;
            options.progress(
                ProgressEvent{ProgressEvent::Phase::advance, label, done, total_bytes});
        }
    };

    // Entries go to options.on_entry, or are collected, as each answer is read.
    std::mutex entry_mutex;
    std::function<void(Entry &&)> sink = [&](Entry&& e) {
        std::lock_guard lock(entry_mutex);
        result.bytes += e.size;
        ++result.files;
        if (options.on_entry)
            options.on_entry(std::move(e));
        else
            result.entries.push_back(std::move(e));
    };
    std::vector<Result<std::size_t>> outcomes(slices.size(), fail(ErrorKind::generic, "not sent"));
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    auto worker = [&] {
        http::Transport transport(env.settings);
        for (;;) {
            std::size_t k = next.fetch_add(1);
            if (k >= slices.size() || stop.load()) return;
            SliceSender sender(env, items, options, slices[k], advance, stop);
            outcomes[k] = sender.send(transport, sink);
            if (!outcomes[k]) stop.store(true);
        }
    };
    int threads = static_cast<int>(std::min<std::size_t>(k_connections, slices.size()));
    if (threads <= 1) {
        worker();
    } else {
        std::vector<std::jthread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back(worker);
    }

    // The first real failure wins over "stopped because another failed".
    std::optional<Error> first_error;
    for (auto& o : outcomes) {
        if (!o && o.error().message != "not sent" &&
            (!first_error ||
             first_error->message.find("another batch failed") != std::string::npos)) {
            first_error = o.error();
        }
    }
    if (first_error) return std::unexpected(*first_error);
    if (options.progress)
        options.progress(ProgressEvent{ProgressEvent::Phase::finish, label, done, total_bytes});
    return result;
}

}  // namespace de::detail

// libde's Client against a real de-server: every method of de::Client over
// REST API v1, its errors (auth, not found, conflict, quota, network), and
// streamed transfers of a 64 MiB file with SHA-256, mtime and memory checked.
//
// The server runs as a child process ($DE_SERVER) on an ephemeral loopback
// port with a temporary root; the test reads its "listening on URL" line.
// No fixed ports, no mocks.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <de/client.hpp>
#include <de/progress.hpp>
#include <de/sha256.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
using de::ErrorKind;

namespace {

std::string server_binary() {
    const char* path = std::getenv("DE_SERVER");
    if (!path || !*path) throw std::runtime_error("DE_SERVER must point at the de-server binary");
    return path;
}

// Runs argv, returns its stdout (stderr goes to err_file), and the exit status.
std::pair<int, std::string> run(const std::vector<std::string>& args, const fs::path& err_file) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
        ::close(out[0]);
        throw std::runtime_error("cannot start " + args[0]);
    }
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
        text.append(buf, n);
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

// A de-server child with its own temporary root, stopped on destruction.
class Server {
  public:
    // listen: "127.0.0.1:0" for an ephemeral port; dir: a prepared folder
    // holding root/ (default: a new temporary one). The folder is removed at the end.
    explicit Server(std::vector<std::string> extra = {}, std::string listen = "127.0.0.1:0",
                    fs::path dir = {}) {
        if (dir.empty()) {
            char tmpl[] = "/tmp/de-client-it.XXXXXX";
            if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
            dir = tmpl;
        }
        m_dir = dir;
        m_root = m_dir / "root";
        fs::create_directories(m_root);
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        std::vector<std::string> args{server_binary(), "--root", m_root.string(), "--listen",
                                      listen};
        args.insert(args.end(), extra.begin(), extra.end());
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_addopen(&actions, 2, (m_dir / "server.err").c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        int rc = posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        if (rc != 0) throw std::runtime_error("cannot start de-server");
        m_stdout = out[0];
        // Wait (at most 20 s) for the "listening on URL" line.
        std::string seen;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{m_stdout, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buf[512];
            ssize_t n = ::read(m_stdout, buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, n);
            auto at = seen.find("listening on ");
            if (at != std::string::npos) {
                auto end = seen.find('\n', at);
                if (end == std::string::npos) continue;
                m_url = seen.substr(at + 13, end - at - 13);
                return;
            }
        }
        stop();
        std::ifstream err(m_dir / "server.err");
        std::string log((std::istreambuf_iterator<char>(err)), {});
        throw std::runtime_error("de-server did not start: " + seen + log);
    }
    ~Server() {
        stop();
        std::error_code ec;
        fs::remove_all(m_dir, ec);
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void stop() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
            m_pid = -1;
        }
        if (m_stdout >= 0) ::close(m_stdout);
        m_stdout = -1;
    }

    const std::string& url() const { return m_url; }
    const fs::path& root() const { return m_root; }
    const fs::path& dir() const { return m_dir; }

    std::string add_user(const std::string& name) const { return add_user_at(m_root, name); }

    // `de-server --root ROOT user add NAME`: returns the printed API key.
    static std::string add_user_at(const fs::path& root, const std::string& name) {
        auto [rc, out] = run({server_binary(), "--root", root.string(), "user", "add", name},
                             root.parent_path() / "user-add.err");
        if (rc != 0) throw std::runtime_error("user add " + name + " failed");
        std::string last;
        std::size_t i = 0;
        while (i < out.size()) {
            while (i < out.size() && std::isspace(static_cast<unsigned char>(out[i])))
                ++i;
            std::size_t j = i;
            while (j < out.size() && !std::isspace(static_cast<unsigned char>(out[j])))
                ++j;
            std::string token = out.substr(i, j - i);
            if (token.size() == 64 &&
                std::all_of(token.begin(), token.end(), [](char c) { return std::isxdigit(c); }))
                return token;
            if (!token.empty()) last = token;
            i = j;
        }
        return last;
    }

    de::Client client(const std::string& user, const std::string& key, int retries = 3) const {
        de::ClientOptions options;
        options.host = m_url;
        options.credentials.username = user;
        options.credentials.api_key = key;
        options.max_retries = retries;
        options.connect_timeout = std::chrono::milliseconds(2000);
        return de::Client::create(options).value();
    }

  private:
    fs::path m_dir, m_root;
    pid_t m_pid = -1;
    int m_stdout = -1;
    std::string m_url;
};

// One server and two users for the whole run.
struct World {
    Server server;
    std::string alice_key, bob_key;
    fs::path work;
    World() {
        alice_key = server.add_user("alice");
        bob_key = server.add_user("bob");
        work = server.dir() / "work";
        fs::create_directories(work);
    }
    de::Client alice() const { return server.client("alice", alice_key); }
    de::Client bob() const { return server.client("bob", bob_key); }
};

World& world() {
    static World w;
    return w;
}

void write_file(const fs::path& path, std::string_view data) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::int64_t mtime_ns(const fs::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

void set_mtime_ns(const fs::path& path, std::int64_t ns) {
    timespec times[2] = {{0, UTIME_OMIT}, {ns / 1'000'000'000, ns % 1'000'000'000}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

// Resident memory of this process now (kB).
long rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return 0;
}

// A fresh app with its mount on, owned by alice.
std::string make_app(de::Client& client, const std::string& name) {
    REQUIRE(client.create_app(name).has_value());
    REQUIRE(client.enable_mount(name).has_value());
    return name;
}

std::string read_all(de::Client& client, const std::string& app, const std::string& path,
                     std::optional<de::ByteRange> range = std::nullopt) {
    std::string out;
    auto status = client.read(app, path, range, [&](std::string_view chunk) -> de::Status {
        out.append(chunk);
        return {};
    });
    REQUIRE_MESSAGE(status.has_value(), status.error().message);
    return out;
}

bool has_part_files(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".de-part-") != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("create() checks options without I/O") {
    de::ClientOptions options;
    options.host = "ftp://example.com";
    options.credentials = {"u", "k", ""};
    auto bad_host = de::Client::create(options);
    REQUIRE_FALSE(bad_host);
    CHECK(bad_host.error().kind == ErrorKind::usage);

    options.host = "http://127.0.0.1:1";
    options.credentials = {};
    auto no_credentials = de::Client::create(options);
    REQUIRE_FALSE(no_credentials);
    CHECK(no_credentials.error().kind == ErrorKind::auth);

    options.credentials.token = "t";
    auto ok = de::Client::create(options);
    REQUIRE(ok);
    CHECK(ok->options().host == "http://127.0.0.1:1");
    de::Client moved = std::move(*ok);
    CHECK(moved.options().credentials.token == "t");
}

TEST_CASE("session: whoami, login, bearer token, logout, wrong key") {
    auto& w = world();
    auto alice = w.alice();
    auto me = alice.whoami();
    REQUIRE_MESSAGE(me, me.error().message);
    CHECK(me->username == "alice");

    auto token = alice.login();
    REQUIRE_MESSAGE(token, token.error().message);
    CHECK(token->username == "alice");
    CHECK(token->token.size() >= 32);
    CHECK(token->expires_at > std::time(nullptr));

    de::ClientOptions options;
    options.host = w.server.url();
    options.credentials.token = token->token;
    auto by_token = de::Client::create(options).value();
    CHECK(by_token.whoami().value().username == "alice");
    CHECK(by_token.list_apps().has_value());
    REQUIRE(by_token.logout().has_value());
    auto revoked = by_token.whoami();
    REQUIRE_FALSE(revoked);
    CHECK(revoked.error().kind == ErrorKind::auth);
    CHECK(revoked.error().http_status == 401);

    // Debug output shows the exchange but never a credential.
    std::vector<std::string> lines;
    de::ClientOptions verbose = alice.options();
    verbose.debug = [&](std::string_view line) { lines.emplace_back(line); };
    REQUIRE(de::Client::create(verbose).value().whoami().has_value());
    verbose.credentials = {"", "", token->token};
    (void)de::Client::create(verbose).value().whoami();  // revoked: 401, still logged
    std::string joined;
    for (const auto& l : lines)
        joined += l + "\n";
    CHECK(joined.find("> GET /api/v1/whoami") != std::string::npos);
    CHECK(joined.find("< HTTP/1.1 200") != std::string::npos);
    CHECK(joined.find("Authorization: [redacted]") != std::string::npos);
    CHECK(joined.find(w.alice_key) == std::string::npos);
    CHECK(joined.find(token->token) == std::string::npos);
    CHECK(joined.find("Authorization: Basic") == std::string::npos);
    CHECK(joined.find("Authorization: Bearer") == std::string::npos);

    auto wrong = w.server.client("alice", std::string(64, '0'));
    auto denied = wrong.whoami();
    REQUIRE_FALSE(denied);
    CHECK(denied.error().kind == ErrorKind::auth);
    CHECK(denied.error().api_kind == "unauthorized");
    CHECK(denied.error().message.find(std::string(64, '0')) == std::string::npos);
    auto nobody = w.server.client("mallory", w.alice_key);
    CHECK(nobody.list_apps().error().kind == ErrorKind::auth);
    CHECK(wrong.login().error().kind == ErrorKind::auth);
}

TEST_CASE("apps: create, list, get, update, delete; other users see nothing") {
    auto& w = world();
    auto alice = w.alice();
    auto bob = w.bob();
    auto created = alice.create_app("sales");
    REQUIRE_MESSAGE(created, created.error().message);
    CHECK(created->name == "sales");
    CHECK(created->owner == "alice");
    CHECK_FALSE(created->persistent_filesystem);

    auto again = alice.create_app("sales");
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == ErrorKind::conflict);
    auto taken = bob.create_app("sales");  // names are global
    REQUIRE_FALSE(taken);
    CHECK(taken.error().kind == ErrorKind::conflict);
    auto bad_name = alice.create_app("Bad_Name!");
    REQUIRE_FALSE(bad_name);
    CHECK(bad_name.error().kind == ErrorKind::usage);

    auto apps = alice.list_apps().value();
    CHECK(
        std::any_of(apps.begin(), apps.end(), [](const de::App& a) { return a.name == "sales"; }));
    auto bob_apps = bob.list_apps().value();
    CHECK(std::none_of(bob_apps.begin(), bob_apps.end(),
                       [](const de::App& a) { return a.name == "sales"; }));

    CHECK(alice.get_app("sales").value().owner == "alice");
    auto hidden = bob.get_app("sales");
    REQUIRE_FALSE(hidden);
    CHECK(hidden.error().kind == ErrorKind::not_found);
    CHECK(hidden.error().http_status == 404);
    CHECK(bob.mount_status("sales").error().kind == ErrorKind::not_found);
    CHECK(bob.delete_app("sales").error().kind == ErrorKind::not_found);
    CHECK(bob.list("sales", "", {}).error().kind == ErrorKind::not_found);
    CHECK(alice.get_app("no-such-app").error().kind == ErrorKind::not_found);
    CHECK(alice.get_app("").error().kind == ErrorKind::usage);

    auto on = alice.update_app("sales", de::AppUpdate{true});
    REQUIRE_MESSAGE(on, on.error().message);
    CHECK(on->persistent_filesystem);
    CHECK(alice.mount_status("sales").value().enabled);
    auto off = alice.update_app("sales", de::AppUpdate{false});  // sends confirm=sales
    REQUIRE_MESSAGE(off, off.error().message);
    CHECK_FALSE(off->persistent_filesystem);
    CHECK_FALSE(alice.mount_status("sales").value().enabled);

    REQUIRE(alice.delete_app("sales").has_value());
    CHECK(alice.get_app("sales").error().kind == ErrorKind::not_found);
}

TEST_CASE("mount: enable, status, disable deletes the files") {
    auto& w = world();
    auto alice = w.alice();
    REQUIRE(alice.create_app("mnt").has_value());
    auto disabled = alice.list("mnt", "", {});
    REQUIRE_FALSE(disabled);
    CHECK(disabled.error().kind == ErrorKind::conflict);
    CHECK(disabled.error().api_kind == "mount_disabled");
    CHECK(disabled.error().message.find("mnt") != std::string::npos);

    auto status = alice.enable_mount("mnt");
    REQUIRE_MESSAGE(status, status.error().message);
    CHECK(status->enabled);
    CHECK(status->app == "mnt");
    CHECK(status->used_bytes == 0);
    CHECK(status->quota_bytes > 0);
    CHECK(status->storage_class == "local");
    CHECK(alice.enable_mount("mnt").value().enabled);  // again: still fine

    write_file(w.work / "m.txt", "hello");
    REQUIRE(alice.upload("mnt", w.work / "m.txt", "d/m.txt", {}).has_value());
    auto used = alice.mount_status("mnt").value();
    CHECK(used.used_bytes >= 5);
    CHECK(used.file_count >= 1);

    REQUIRE(alice.disable_mount("mnt").has_value());
    CHECK_FALSE(alice.mount_status("mnt").value().enabled);
    CHECK(alice.disable_mount("mnt").error().kind == ErrorKind::conflict);
    REQUIRE(alice.enable_mount("mnt").has_value());
    CHECK(alice.list("mnt", "", {}).value().empty());  // the files went with it
    REQUIRE(alice.delete_app("mnt").has_value());
}

TEST_CASE("files: upload, stat, overwrite rules, list, move, mkdir, remove") {
    auto& w = world();
    auto alice = w.alice();
    const auto app = make_app(alice, "files");
    const fs::path local = w.work / "a.csv";
    write_file(local, "id,value\n1,2\n");
    set_mtime_ns(local, 1'700'000'000'123'456'789);

    std::vector<de::ProgressEvent::Phase> phases;
    de::UploadOptions up;
    up.progress = [&](const de::ProgressEvent& e) { phases.push_back(e.phase); };
    auto entry = alice.upload(app, local, "/data//a.csv", up);
    REQUIRE_MESSAGE(entry, entry.error().message);
    CHECK(entry->path == "data/a.csv");
    CHECK(entry->type == de::EntryType::file);
    CHECK(entry->size == 13);
    CHECK(entry->mtime_ns == 1'700'000'000'123'456'789);
    CHECK(entry->sha256 == de::sha256_file(local).value());
    REQUIRE(phases.size() >= 2);
    CHECK(phases.front() == de::ProgressEvent::Phase::start);
    CHECK(phases.back() == de::ProgressEvent::Phase::finish);
    CHECK(fs::exists(w.server.root() / "apps" / app / "mount" / "data" / "a.csv"));

    auto st = alice.stat(app, "data/a.csv");
    REQUIRE_MESSAGE(st, st.error().message);
    CHECK(st->size == 13);
    CHECK(st->mtime_ns == 1'700'000'000'123'456'789);
    CHECK(st->sha256 == entry->sha256);
    auto dir = alice.stat(app, "data");
    REQUIRE_MESSAGE(dir, dir.error().message);
    CHECK(dir->type == de::EntryType::dir);
    CHECK(alice.stat(app, "").value().type == de::EntryType::dir);
    CHECK(alice.stat(app, "nope.txt").error().kind == ErrorKind::not_found);

    // No overwrite unless asked; If-Match guards against a changed file.
    write_file(local, "id,value\n1,3\n");
    auto refused = alice.upload(app, local, "data/a.csv", {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::conflict);
    CHECK(refused.error().http_status == 412);
    CHECK(refused.error().message.find("data/a.csv") != std::string::npos);
    CHECK(read_all(alice, app, "data/a.csv") == "id,value\n1,2\n");
    de::UploadOptions stale;
    stale.if_match_sha256 = std::string(64, 'a');
    CHECK(alice.upload(app, local, "data/a.csv", stale).error().kind == ErrorKind::conflict);
    de::UploadOptions guarded;
    guarded.if_match_sha256 = *entry->sha256;
    auto replaced = alice.upload(app, local, "data/a.csv", guarded);
    REQUIRE_MESSAGE(replaced, replaced.error().message);
    CHECK(read_all(alice, app, "data/a.csv") == "id,value\n1,3\n");
    de::UploadOptions overwrite;
    overwrite.overwrite = true;
    overwrite.mtime_ns = 42'000'000'000;
    write_file(local, "x");
    auto forced = alice.upload(app, local, "data/a.csv", overwrite);
    REQUIRE_MESSAGE(forced, forced.error().message);
    CHECK(forced->mtime_ns == 42'000'000'000);
    CHECK(read_all(alice, app, "data/a.csv") == "x");

    // A known hash skips hashing; a wrong one is refused by the server.
    de::UploadOptions wrong_hash;
    wrong_hash.sha256 = de::sha256_hex("something else");
    auto mismatch = alice.upload(app, local, "data/wrong.csv", wrong_hash);
    REQUIRE_FALSE(mismatch);
    CHECK(mismatch.error().api_kind == "digest_mismatch");
    CHECK(alice.stat(app, "data/wrong.csv").error().kind == ErrorKind::not_found);

    auto missing = alice.upload(app, w.work / "no-such-file", "x", {});
    REQUIRE_FALSE(missing);
    CHECK((missing.error().kind == ErrorKind::usage || missing.error().kind == ErrorKind::generic));
    CHECK(missing.error().message.find("no-such-file") != std::string::npos);
    CHECK(alice.upload(app, w.work, "x", {}).error().kind == ErrorKind::usage);  // a directory
    CHECK(alice.upload(app, local, "../escape", {}).error().kind == ErrorKind::usage);

    // Names that need encoding.
    const std::string odd = "odd dir/caf\xc3\xa9 #1?%20&x=y+z.txt";
    write_file(local, "odd");
    auto odd_entry = alice.upload(app, local, odd, {});
    REQUIRE_MESSAGE(odd_entry, odd_entry.error().message);
    CHECK(odd_entry->path == odd);
    CHECK(fs::exists(w.server.root() / "apps" / app / "mount" / odd));
    CHECK(read_all(alice, app, odd) == "odd");

    auto made = alice.mkdir(app, "deep/er/still", true);
    REQUIRE_MESSAGE(made, made.error().message);
    CHECK(made->type == de::EntryType::dir);
    CHECK(alice.mkdir(app, "deep/er/still", true).has_value());
    CHECK(alice.mkdir(app, "deep/er/still", false).error().kind == ErrorKind::conflict);
    CHECK(alice.mkdir(app, "data/a.csv/sub", true).error().kind == ErrorKind::conflict);

    auto top = alice.list(app, "", {}).value();
    std::set<std::string> names;
    for (const auto& e : top)
        names.insert(e.path);
    CHECK(names == std::set<std::string>{"data", "deep", "odd dir"});
    de::ListOptions rec;
    rec.recursive = true;
    rec.hashes = true;
    auto all = alice.list(app, "", rec).value();
    CHECK(std::is_sorted(all.begin(), all.end(),
                         [](const de::Entry& a, const de::Entry& b) { return a.path < b.path; }));
    bool saw_hash = false;
    for (const auto& e : all)
        if (e.path == "data/a.csv") saw_hash = e.sha256 == de::sha256_hex("x");
    CHECK(saw_hash);
    CHECK(alice.list(app, "data/a.csv", {}).error().kind == ErrorKind::conflict);
    CHECK(alice.list(app, "nowhere", {}).error().kind == ErrorKind::not_found);

    auto moved = alice.move(app, "data/a.csv", "deep/a.csv", false);
    REQUIRE_MESSAGE(moved, moved.error().message);
    CHECK(moved->path == "deep/a.csv");
    CHECK(alice.stat(app, "data/a.csv").error().kind == ErrorKind::not_found);
    CHECK(alice.move(app, "data/a.csv", "x", false).error().kind == ErrorKind::not_found);
    write_file(local, "other");
    REQUIRE(alice.upload(app, local, "other.txt", {}).has_value());
    CHECK(alice.move(app, "other.txt", "deep/a.csv", false).error().kind == ErrorKind::conflict);
    CHECK(alice.move(app, "other.txt", "deep/a.csv", true).has_value());
    CHECK(read_all(alice, app, "deep/a.csv") == "other");

    auto not_empty = alice.remove(app, "deep", false);
    REQUIRE_FALSE(not_empty);
    CHECK(not_empty.error().kind == ErrorKind::conflict);
    REQUIRE(alice.remove(app, "deep/a.csv", false).has_value());
    CHECK(alice.remove(app, "deep/a.csv", false).error().kind == ErrorKind::not_found);
    REQUIRE(alice.remove(app, "deep", true).has_value());
    CHECK(alice.stat(app, "deep").error().kind == ErrorKind::not_found);
    CHECK_FALSE(alice.remove(app, "", true).has_value());  // never the mount root

    // Another user cannot reach alice's files.
    auto bob = w.bob();
    CHECK(bob.stat(app, odd).error().kind == ErrorKind::not_found);
    CHECK(bob.upload(app, local, "intruder.txt", {}).error().kind == ErrorKind::not_found);
    CHECK(bob.remove(app, odd, false).error().kind == ErrorKind::not_found);
    CHECK(alice.stat(app, "intruder.txt").error().kind == ErrorKind::not_found);
}

// Issue 13: a target that appeared after the plan (a killed run's batch the
// server was still committing) holding the very content sent is what was
// asked for; only other content is a conflict.
TEST_CASE(
    "no-overwrite uploads: identical content already there converges, other content is a "
    "conflict") {
    auto& w = world();
    auto alice = w.alice();
    const auto app = make_app(alice, "converge");
    const fs::path a = w.work / "conv-a.txt";
    const fs::path b = w.work / "conv-b.txt";
    write_file(a, "alpha\n");
    write_file(b, "bravo\n");
    REQUIRE(alice.upload(app, a, "conv/a.txt", {}));

    auto again = alice.upload(app, a, "conv/a.txt", {});
    REQUIRE_MESSAGE(again, again.error().message);
    CHECK(again->sha256 == de::sha256_file(a).value());

    std::vector<de::BatchItem> items{
        de::BatchItem{a.string(), "conv/a.txt", fs::file_size(a), 0, std::nullopt},
        de::BatchItem{b.string(), "conv/b.txt", fs::file_size(b), 0, std::nullopt}};
    auto batch = alice.upload_batch(app, items, {});
    REQUIRE_MESSAGE(batch, batch.error().message);
    CHECK(batch->files == 2);
    CHECK(read_all(alice, app, "conv/b.txt") == "bravo\n");

    write_file(a, "ALPHA\n");  // same size, other content
    auto refused = alice.upload(app, a, "conv/a.txt", {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::conflict);
    items[0].size = fs::file_size(a);
    auto refused_batch = alice.upload_batch(app, items, {});
    REQUIRE_FALSE(refused_batch);
    CHECK(refused_batch.error().kind == ErrorKind::conflict);
    CHECK(read_all(alice, app, "conv/a.txt") == "alpha\n");
}

TEST_CASE("read: whole files, ranges, errors; download: checks and mtime") {
    auto& w = world();
    auto alice = w.alice();
    const auto app = make_app(alice, "reads");
    std::string data;
    for (int i = 0; i < 100000; ++i)
        data += static_cast<char>('a' + i % 26);
    write_file(w.work / "r.bin", data);
    set_mtime_ns(w.work / "r.bin", 1'600'000'000'000'000'001);
    REQUIRE(alice.upload(app, w.work / "r.bin", "r.bin", {}).has_value());

    CHECK(read_all(alice, app, "r.bin") == data);
    CHECK(read_all(alice, app, "r.bin", de::ByteRange{10, 19, std::nullopt}) ==
          data.substr(10, 10));
    CHECK(read_all(alice, app, "r.bin", de::ByteRange{99990, std::nullopt, std::nullopt}) ==
          data.substr(99990));
    CHECK(read_all(alice, app, "r.bin", de::ByteRange{0, 0, std::nullopt}) == data.substr(0, 1));
    auto beyond = alice.read(app, "r.bin", de::ByteRange{200000, std::nullopt, std::nullopt},
                             [](std::string_view) -> de::Status { return {}; });
    REQUIRE_FALSE(beyond);
    CHECK(beyond.error().http_status == 416);
    CHECK(
        alice.read(app, "missing", std::nullopt, [](std::string_view) -> de::Status { return {}; })
            .error()
            .kind == ErrorKind::not_found);
    int calls = 0;
    auto stopped = alice.read(app, "r.bin", std::nullopt, [&](std::string_view) -> de::Status {
        ++calls;
        return de::fail(ErrorKind::usage, "sink says stop");
    });
    REQUIRE_FALSE(stopped);
    CHECK(stopped.error().message == "sink says stop");
    CHECK(calls == 1);

    const fs::path target = w.work / "dl" / "r.bin";
    fs::create_directories(target.parent_path());
    auto got = alice.download(app, "r.bin", target, {});
    REQUIRE_MESSAGE(got, got.error().message);
    CHECK(read_file(target) == data);
    CHECK(got->sha256 == de::sha256_hex(data));
    CHECK(mtime_ns(target) == 1'600'000'000'000'000'001);
    auto exists = alice.download(app, "r.bin", target, {});
    REQUIRE_FALSE(exists);
    CHECK(exists.error().kind == ErrorKind::conflict);
    de::DownloadOptions replace;
    replace.overwrite = true;
    write_file(target, "old");
    REQUIRE(alice.download(app, "r.bin", target, replace).has_value());
    CHECK(read_file(target) == data);

    auto absent = alice.download(app, "absent.bin", target.parent_path() / "absent.bin", {});
    REQUIRE_FALSE(absent);
    CHECK(absent.error().kind == ErrorKind::not_found);
    CHECK_FALSE(fs::exists(target.parent_path() / "absent.bin"));
    CHECK_FALSE(has_part_files(target.parent_path()));
    CHECK(alice.download(app, "r.bin", target.parent_path(), replace).error().kind ==
          ErrorKind::conflict);
}

TEST_CASE("manifest: streams every entry and checks the end line") {
    auto& w = world();
    auto alice = w.alice();
    const auto app = make_app(alice, "tree");
    std::set<std::string> expected;
    for (int d = 0; d < 5; ++d) {
        for (int f = 0; f < 20; ++f) {
            std::string path = "t/d" + std::to_string(d) + "/f" + std::to_string(f) + ".txt";
            write_file(w.work / "m.txt", path);
            REQUIRE(alice.upload(app, w.work / "m.txt", path, {}).has_value());
            expected.insert(path);
        }
        expected.insert("t/d" + std::to_string(d));
    }
    expected.insert("t");
    std::set<std::string> seen;
    std::size_t files = 0;
    auto status = alice.manifest(app, "", true, [&](const de::Entry& e) -> de::Status {
        seen.insert(e.path);
        if (e.type == de::EntryType::file) {
            ++files;
            CHECK(e.sha256 == de::sha256_hex(e.path));
        }
        return {};
    });
    REQUIRE_MESSAGE(status, status.error().message);
    CHECK(seen == expected);
    CHECK(files == 100);

    std::size_t sub = 0;
    REQUIRE(alice.manifest(app, "t/d3", false, [&](const de::Entry& e) -> de::Status {
        CHECK(e.path.starts_with("t/d3/"));
        ++sub;
        return {};
    }));
    CHECK(sub == 20);

    int n = 0;
    auto stopped = alice.manifest(app, "", false, [&](const de::Entry&) -> de::Status {
        if (++n == 3) return de::fail(ErrorKind::generic, "enough");
        return {};
    });
    REQUIRE_FALSE(stopped);
    CHECK(stopped.error().message == "enough");
    CHECK(n == 3);
    CHECK(alice.manifest(app, "nowhere", false, [](const de::Entry&) -> de::Status { return {}; })
              .error()
              .kind == ErrorKind::not_found);
}

TEST_CASE("quota: an upload over the quota is refused and leaves the mount as it was") {
    Server small({"--quota", "1MiB"});
    auto key = small.add_user("carol");
    auto carol = small.client("carol", key);
    const auto app = make_app(carol, "tiny");
    auto status = carol.mount_status(app).value();
    CHECK(status.quota_bytes == 1 << 20);
    fs::path local = small.dir() / "big.bin";
    write_file(local, std::string(2 << 20, 'q'));
    auto refused = carol.upload(app, local, "big.bin", {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::quota);
    CHECK(refused.error().http_status == 507);
    CHECK(refused.error().message.find("big.bin") != std::string::npos);
    CHECK(carol.stat(app, "big.bin").error().kind == ErrorKind::not_found);
    CHECK(carol.mount_status(app).value().used_bytes == status.used_bytes);
    write_file(local, std::string(1000, 'q'));
    CHECK(carol.upload(app, local, "small.bin", {}).has_value());
}

TEST_CASE("streamed 64 MiB upload and download: SHA-256, mtime, flat memory") {
    auto& w = world();
    auto alice = w.alice();
    const auto app = make_app(alice, "big");
    const fs::path local = w.work / "big.bin";
    const std::uint64_t size = 64ull << 20;
    {
        std::ofstream out(local, std::ios::binary);
        std::mt19937_64 rng(7);
        std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
        for (std::uint64_t written = 0; written < size; written += 8 * block.size()) {
            for (auto& v : block)
                v = rng();
            out.write(reinterpret_cast<const char*>(block.data()), 8 * block.size());
        }
    }
    set_mtime_ns(local, 1'650'000'000'987'654'321);
    const std::string sha = de::sha256_file(local).value();
    const long rss_before = rss_kb();
    long rss_peak = rss_before;  // sampled at every progress event

    std::uint64_t last_done = 0, advances = 0;
    bool monotonic = true, finished = false;
    de::UploadOptions up;
    up.progress = [&](const de::ProgressEvent& e) {
        rss_peak = std::max(rss_peak, rss_kb());
        if (e.phase == de::ProgressEvent::Phase::advance) {
            ++advances;
            monotonic = monotonic && e.done >= last_done && e.total == size;
            last_done = e.done;
        }
        if (e.phase == de::ProgressEvent::Phase::finish) finished = e.done == size;
        CHECK(e.name == "x/big.bin");
    };
    auto t0 = std::chrono::steady_clock::now();
    auto entry = alice.upload(app, local, "x/big.bin", up);
    auto t1 = std::chrono::steady_clock::now();
    REQUIRE_MESSAGE(entry, entry.error().message);
    CHECK(entry->size == size);
    CHECK(entry->sha256 == sha);
    CHECK(advances > 4);
    CHECK(monotonic);
    CHECK(finished);
    CHECK(de::sha256_file(w.server.root() / "apps" / app / "mount" / "x" / "big.bin").value() ==
          sha);

    const fs::path target = w.work / "big-copy.bin";
    std::uint64_t down_events = 0;
    de::DownloadOptions down;
    down.progress = [&](const de::ProgressEvent&) {
        ++down_events;
        rss_peak = std::max(rss_peak, rss_kb());
    };
    auto got = alice.download(app, "x/big.bin", target, down);
    auto t2 = std::chrono::steady_clock::now();
    REQUIRE_MESSAGE(got, got.error().message);
    CHECK(got->sha256 == sha);
    CHECK(got->size == size);
    CHECK(de::sha256_file(target).value() == sha);
    CHECK(mtime_ns(target) == 1'650'000'000'987'654'321);
    CHECK(down_events > 4);
    CHECK_FALSE(has_part_files(w.work));

    const long growth_kb = rss_peak - rss_before;
    MESSAGE("64 MiB upload ", std::chrono::duration<double>(t1 - t0).count(), " s, download ",
            std::chrono::duration<double>(t2 - t1).count(), " s, RSS growth during transfers ",
            growth_kb, " KiB");
    // buffers only, never the file (64 MiB); not in a sanitizer build, whose shadow
    // memory and quarantine grow with every allocation
    if (std::getenv("DE_SANITIZED") == nullptr) CHECK(growth_kb < 16 * 1024);
    fs::remove(target);
    fs::remove(local);
}

namespace {
sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return addr;
}

// A TCP socket bound to an ephemeral loopback port; `port` receives the port.
int bound_loopback_socket(int& port) {
    int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(0);
    REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
    return sock;
}

int free_port() {
    int port = 0;
    ::close(bound_loopback_socket(port));  // nothing listens there now
    return port;
}
}  // namespace

TEST_CASE("network errors: a closed port is ErrorKind::network naming the host") {
    const int port = free_port();

    de::ClientOptions options;
    options.host = "http://127.0.0.1:" + std::to_string(port);
    options.credentials = {"alice", "key", ""};
    options.max_retries = 2;
    options.retry_budget = std::chrono::milliseconds(1'000);  // an outage: ridden out this long
    auto client = de::Client::create(options).value();
    auto t0 = std::chrono::steady_clock::now();
    auto r = client.list_apps();
    auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::network);
    CHECK(r.error().http_status == 0);
    CHECK(r.error().message.find("de-server at http://127.0.0.1:" + std::to_string(port) +
                                 " did not answer for 1 s (connection refused)") !=
          std::string::npos);
    CHECK(elapsed >= std::chrono::milliseconds(1'000));  // more than max_retries would allow
    CHECK(elapsed < std::chrono::milliseconds(3'000));
    CHECK(de::exit_code(r.error().kind) == 7);

    // Without a budget an outage counts against max_retries like any failure.
    options.retry_budget = std::chrono::milliseconds(0);

    // A file of the test's own (not __FILE__, which ccache's base_dir makes
    // relative to the build folder), so the upload gets as far as the network.
    char tmpl[] = "/tmp/de-client-it.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const fs::path dir = tmpl;
    const fs::path local = dir / "x.cpp";
    write_file(local, "int main() {}\n");

    options.max_retries = 0;
    auto once = de::Client::create(options).value();
    auto upload = once.upload("app", local, "x.cpp", {});
    REQUIRE_FALSE(upload);
    CHECK(upload.error().kind == ErrorKind::network);
    fs::remove_all(dir);
}

TEST_CASE("retries: a request made before the server is up succeeds after backoff") {
    char tmpl[] = "/tmp/de-client-it.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const fs::path dir = tmpl;
    fs::create_directories(dir / "root");
    const std::string key = Server::add_user_at(dir / "root", "dave");
    const int port = free_port();

    de::ClientOptions options;
    options.host = "http://127.0.0.1:" + std::to_string(port);
    options.credentials = {"dave", key, ""};
    options.max_retries = 4;  // ~200 + 400 + 800 + 1600 ms of patience
    de::Result<de::UserInfo> result = de::fail(ErrorKind::generic, "not run");
    auto t0 = std::chrono::steady_clock::now();
    std::thread caller([&] { result = de::Client::create(options).value().whoami(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    {
        Server late({}, "127.0.0.1:" + std::to_string(port), dir);
        caller.join();
    }
    auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE_MESSAGE(result, result.error().message);
    CHECK(result->username == "dave");
    CHECK(elapsed >= std::chrono::milliseconds(140));  // at least one backoff happened
}

namespace {
// A loopback TCP relay in front of the real de-server that loses one answer:
// the first request starting with `method` reaches the server and is carried
// out, but what the server says back is swallowed, as when a slow answer
// outlasts the client's timeout or the connection drops on the way back.
class AnswerEater {
  public:
    AnswerEater(int upstream_port, std::string method)
        : m_upstream(upstream_port), m_method(std::move(method) + " ") {
        m_listen = bound_loopback_socket(m_port);
        REQUIRE(::listen(m_listen, 16) == 0);
        REQUIRE(::pipe2(m_stop, O_CLOEXEC) == 0);
        m_accept = std::thread([this] { accept_loop(); });
    }
    ~AnswerEater() {
        (void)!::write(m_stop[1], "x", 1);
        m_accept.join();
        for (auto& t : m_relays)
            t.join();
        ::close(m_listen);
        ::close(m_stop[0]);
        ::close(m_stop[1]);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    int eaten() const { return m_eaten.load(); }

  private:
    void accept_loop() {
        for (;;) {
            pollfd p[2] = {{m_listen, POLLIN, 0}, {m_stop[0], POLLIN, 0}};
            if (::poll(p, 2, -1) < 0) return;
            if (p[1].revents) return;
            int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) m_relays.emplace_back([this, fd] { relay(fd); });
        }
    }
    void relay(int client) {
        int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr = loopback(m_upstream);
        bool swallowing = false;
        if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            char buf[16384];
            for (;;) {
                pollfd p[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {m_stop[0], POLLIN, 0}};
                if (::poll(p, 3, -1) < 0 || p[2].revents) break;
                if (p[0].revents) {
                    ssize_t n = ::read(client, buf, sizeof buf);
                    if (n <= 0) break;
                    std::string_view head(buf, static_cast<std::size_t>(n));
                    if (head.starts_with(m_method) && !m_armed_used.exchange(true)) {
                        swallowing = true;
                        ++m_eaten;
                    }
                    if (::write(server, buf, static_cast<std::size_t>(n)) != n) break;
                }
                if (p[1].revents) {
                    ssize_t n = ::read(server, buf, sizeof buf);
                    if (n <= 0) break;
                    if (!swallowing && ::write(client, buf, static_cast<std::size_t>(n)) != n)
                        break;
                }
            }
        }
        ::close(server);
        ::close(client);
    }

    int m_upstream;
    std::string m_method;
    int m_listen = -1;
    int m_port = 0;
    int m_stop[2] = {-1, -1};
    std::thread m_accept;
    std::vector<std::thread> m_relays;  // only the accept thread adds, joined after it
    std::atomic<bool> m_armed_used{false};
    std::atomic<int> m_eaten{0};
};
}  // namespace

TEST_CASE("remove: an answer lost after the server acted is success, not 'not found'") {
    auto& w = world();
    auto alice = w.alice();
    const auto app = make_app(alice, "lost-answer");
    write_file(w.work / "lost" / "a.txt", "a");
    REQUIRE(alice.upload(app, w.work / "lost" / "a.txt", "tree/a.txt", {}).has_value());
    REQUIRE(alice.upload(app, w.work / "lost" / "a.txt", "tree/sub/b.txt", {}).has_value());

    const std::string& url = w.server.url();
    AnswerEater relay(std::stoi(url.substr(url.rfind(':') + 1)), "DELETE");
    de::ClientOptions options;
    options.host = relay.url();
    options.credentials = {"alice", w.alice_key, ""};
    options.max_retries = 2;
    options.request_timeout = std::chrono::milliseconds(800);  // the lost answer times out
    auto via = de::Client::create(options).value();

    auto removed = via.remove(app, "tree", true);
    CHECK(relay.eaten() == 1);  // the first DELETE's answer never arrived
    REQUIRE_MESSAGE(removed, removed.error().message);
    CHECK_FALSE(fs::exists(w.server.root() / "apps" / app / "mount" / "tree"));
    auto gone = alice.stat(app, "tree");
    REQUIRE_FALSE(gone);
    CHECK(gone.error().kind == ErrorKind::not_found);
    // A path that was never there is still not found (one attempt, one 404).
    auto missing = via.remove(app, "never-there", false);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::not_found);
}

TEST_CASE("TLS: verified by default, --ca-path trusts a private CA, opting out skips checks") {
    // A real TLS endpoint: openssl s_server with a fresh self-signed certificate.
    if (::access("/usr/bin/openssl", X_OK) != 0) {
        MESSAGE("openssl binary not found; TLS test skipped");
        return;
    }
    char tmpl[] = "/tmp/de-client-tls.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const fs::path dir = tmpl;
    auto [rc, out] = run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                          (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days",
                          "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                         dir / "req.err");
    REQUIRE(rc == 0);

    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> args{"/usr/bin/openssl",
                                  "s_server",
                                  "-accept",
                                  "0",
                                  "-cert",
                                  (dir / "cert.pem").string(),
                                  "-key",
                                  (dir / "key.pem").string(),
                                  "-www"};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    std::string seen;
    int port = 0;
    for (int i = 0; i < 100 && port == 0; ++i) {
        pollfd p{pipe_fds[0], POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[256];
        ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
        if (n <= 0) break;
        seen.append(buf, n);
        auto at = seen.find("ACCEPT ");
        auto nl = seen.find('\n', at == std::string::npos ? 0 : at);
        if (at != std::string::npos && nl != std::string::npos) {
            auto colon = seen.rfind(':', nl);
            port = std::atoi(seen.substr(colon + 1, nl - colon - 1).c_str());
        }
    }
    REQUIRE_MESSAGE(port > 0, seen);

    de::ClientOptions options;
    options.host = "https://127.0.0.1:" + std::to_string(port);
    options.credentials = {"alice", "key", ""};
    options.max_retries = 0;

    auto untrusted = de::Client::create(options).value().whoami();
    REQUIRE_FALSE(untrusted);
    CHECK(untrusted.error().kind == ErrorKind::network);
    CHECK(untrusted.error().message.find("TLS") != std::string::npos);
    CHECK(untrusted.error().message.find("--ca-path") != std::string::npos);

    options.ca_path = (dir / "missing.pem").string();
    auto bad_ca = de::Client::create(options).value().whoami();
    REQUIRE_FALSE(bad_ca);
    CHECK(bad_ca.error().kind == ErrorKind::network);

    // The handshake succeeds; s_server's HTML page is then not API v1.
    options.ca_path = (dir / "cert.pem").string();
    auto trusted = de::Client::create(options).value().whoami();
    REQUIRE_FALSE(trusted);
    CHECK(trusted.error().kind == ErrorKind::generic);
    CHECK(trusted.error().message.find("TLS") == std::string::npos);

    options.ca_path.clear();
    options.verify_tls = false;
    auto unchecked = de::Client::create(options).value().whoami();
    REQUIRE_FALSE(unchecked);
    CHECK(unchecked.error().kind == ErrorKind::generic);

    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    ::close(pipe_fds[0]);
    fs::remove_all(dir);
}

TEST_CASE("interrupt: a transfer stops with ErrorKind::interrupted and leaves nothing") {
    // Last test: the interrupt flag is process-wide and stays set.
    auto& w = world();
    auto alice = w.alice();
    const auto app = make_app(alice, "stopme");
    const fs::path local = w.work / "mid.bin";
    write_file(local, std::string(8 << 20, 'z'));
    REQUIRE(alice.upload(app, local, "mid.bin", {}).has_value());
    const fs::path target = w.work / "stop" / "mid.bin";
    fs::create_directories(target.parent_path());
    de::DownloadOptions options;
    options.progress = [](const de::ProgressEvent& e) {
        if (e.phase == de::ProgressEvent::Phase::advance) de::request_interrupt();
    };
    auto r = alice.download(app, "mid.bin", target, options);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::interrupted);
    CHECK_FALSE(fs::exists(target));
    CHECK_FALSE(has_part_files(target.parent_path()));
    CHECK(alice.list_apps().error().kind == ErrorKind::interrupted);
}

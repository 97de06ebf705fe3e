// See walk.hpp.
#include "walk.hpp"

#include <de/remote_path.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace de::server {

using api::WireError;

namespace {

constexpr int k_dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

ApiError walk_error(int err, std::string_view path) {
    if (err == ENOENT || err == ENOTDIR)
        return {WireError::conflict,
                fmt::format("folder '{}' was moved or deleted while it was being read; try again",
                            path.empty() ? "/" : path)};
    return errno_error(err, "reading folder", path);
}

// Calls f(name) for each name in the open folder `fd` but "." and "..",
// from its start. 0 or an errno.
template <class F>
int for_each_name(int fd, F&& f) {
    if (::lseek(fd, 0, SEEK_SET) < 0) return errno;
    alignas(8) std::array<char, 32 * 1024> buf;
    while (true) {
        ssize_t n = ::getdents64(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return 0;
        for (ssize_t off = 0; off < n;) {
            auto* d = reinterpret_cast<const struct dirent64*>(buf.data() + off);
            off += d->d_reclen;
            std::string_view name = d->d_name;
            if (name == "." || name == "..") continue;
            if (int err = f(name); err != 0) return err;
        }
    }
}

// fd of the parent of the folder `fd`, checked to be (dev, ino).
ApiResult<UniqueFd> open_parent(int fd, dev_t dev, ino_t ino, std::string_view path) {
    int p = ::openat(fd, "..", k_dir_flags);
    if (p < 0) return std::unexpected(walk_error(errno, path));
    UniqueFd parent(p);
    struct stat st {};
    if (::fstat(p, &st) != 0) return std::unexpected(walk_error(errno, path));
    if (st.st_dev != dev || st.st_ino != ino) return std::unexpected(walk_error(ENOENT, path));
    return parent;
}

}  // namespace

ApiResult<TreeCount> count_tree(int dir_fd) {
    TreeCount c;
    int top = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0) return std::unexpected(walk_error(errno, ""));
    UniqueFd fd(top);
    struct Level {
        dev_t dev = 0;
        ino_t ino = 0;
        std::string path;
        std::string todo;  // names of the sub-folders still to visit, '\0'-separated
        std::size_t pos = 0;
    };
    std::vector<Level> levels;
    // Reads the folder `fd` is on: counts its files, notes its folders.
    auto read = [&](std::string path) -> ApiResult<void> {
        struct stat self {};
        if (::fstat(fd.get(), &self) != 0) return std::unexpected(walk_error(errno, path));
        Level l;
        l.dev = self.st_dev;
        l.ino = self.st_ino;
        l.path = std::move(path);
        int err = for_each_name(fd.get(), [&](std::string_view name) -> int {
            struct stat st {};
            std::string n(name);
            if (::fstatat(fd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                return errno == ENOENT ? 0 : errno;  // gone meanwhile: nothing to count
            if (S_ISREG(st.st_mode)) {
                c.bytes += static_cast<std::uint64_t>(st.st_size);
                ++c.files;
            } else if (S_ISDIR(st.st_mode)) {
                ++c.dirs;
                l.todo.append(n);
                l.todo.push_back('\0');
            }
            return 0;
        });
        if (err != 0) return std::unexpected(walk_error(err, l.path));
        l.todo.shrink_to_fit();
        levels.push_back(std::move(l));
        return {};
    };
    if (auto r = read(""); !r) return std::unexpected(r.error());
    while (!levels.empty()) {
        Level& l = levels.back();
        if (l.pos < l.todo.size()) {
            std::string name(l.todo.c_str() + l.pos);
            l.pos += name.size() + 1;
            std::string path = join_path(l.path, name);
            int sub = ::openat(fd.get(), name.c_str(), k_dir_flags);
            if (sub < 0) {
                if (errno == ENOENT) continue;  // deleted meanwhile
                return std::unexpected(walk_error(errno, path));
            }
            fd = UniqueFd(sub);
            if (auto r = read(std::move(path)); !r) return std::unexpected(r.error());
            continue;
        }
        std::string done = std::move(l.path);
        levels.pop_back();
        if (levels.empty()) break;
        auto parent = open_parent(fd.get(), levels.back().dev, levels.back().ino, done);
        if (!parent) return std::unexpected(parent.error());
        fd = std::move(*parent);
    }
    return c;
}

ApiResult<SortedWalk> SortedWalk::start(UniqueFd base_fd, std::string base, std::string_view after,
                                        bool recursive, std::size_t max_batch) {
    SortedWalk w;
    w.m_recursive = recursive;
    w.m_max_batch = std::max<std::size_t>(1, std::min(max_batch, k_budget));
    struct stat st {};
    if (::fstat(base_fd.get(), &st) != 0) return std::unexpected(walk_error(errno, base));
    Level top;
    top.path = std::move(base);
    top.dev = st.st_dev;
    top.ino = st.st_ino;
    w.m_levels.push_back(std::move(top));
    w.m_fd = std::move(base_fd);
    // Resume after `after`: each of its folders becomes a level whose last
    // name is the next component; the last component's own contents come next
    // (a folder is returned before its contents).
    while (!after.empty()) {
        auto slash = after.find('/');
        std::string comp(after.substr(0, slash));
        after = slash == std::string_view::npos ? std::string_view{} : after.substr(slash + 1);
        w.m_levels.back().last = comp;
        if (after.empty() && !recursive) break;
        std::string path = join_path(w.m_levels.back().path, comp);
        auto entered = w.down(comp, std::move(path), nullptr);
        if (!entered) return std::unexpected(entered.error());
        if (!*entered) break;  // gone: go on after it at this level
    }
    return w;
}

ApiResult<bool> SortedWalk::down(const std::string& name, std::string path, struct stat* st) {
    int sub = ::openat(m_fd.get(), name.c_str(), k_dir_flags);
    if (sub < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return false;
        return std::unexpected(walk_error(errno, path));
    }
    UniqueFd fd(sub);
    struct stat own {};
    if (!st) st = &own;
    if (::fstat(sub, st) != 0) return std::unexpected(walk_error(errno, path));
    Level l;
    l.path = std::move(path);
    l.dev = st->st_dev;
    l.ino = st->st_ino;
    m_levels.push_back(std::move(l));
    m_fd = std::move(fd);
    return true;
}

ApiResult<void> SortedWalk::up() {
    std::string done = std::move(m_levels.back().path);
    m_in_use -= std::min(m_in_use, m_levels.back().batch.size());
    m_levels.pop_back();
    if (m_levels.empty()) {
        m_fd.reset();
        return {};
    }
    auto parent = open_parent(m_fd.get(), m_levels.back().dev, m_levels.back().ino, done);
    if (!parent) return std::unexpected(parent.error());
    m_fd = std::move(*parent);
    return {};
}

ApiResult<void> SortedWalk::scan(Level& l) {
    m_in_use -= std::min(m_in_use, l.batch.size());
    l.batch.clear();
    l.pos = 0;
    std::size_t room = m_in_use < k_budget ? k_budget - m_in_use : 0;
    std::size_t cap = std::max<std::size_t>(1, std::min(m_max_batch, room));
    // The `cap` smallest names after l.last. Collected as they come while
    // they fit (a folder within one batch is then sorted once); past `cap`
    // the vector becomes a max-heap that keeps the cap smallest.
    std::vector<std::string> names;
    bool heap = false;
    std::size_t after = 0;
    int err = for_each_name(m_fd.get(), [&](std::string_view name) -> int {
        if (!l.last.empty() && name <= std::string_view(l.last)) return 0;
        ++after;
        if (names.size() < cap) {
            names.emplace_back(name);
            return 0;
        }
        if (!heap) {
            std::make_heap(names.begin(), names.end());
            heap = true;
        }
        if (name < std::string_view(names.front())) {
            std::pop_heap(names.begin(), names.end());
            names.back().assign(name);
            std::push_heap(names.begin(), names.end());
        }
        return 0;
    });
    if (err != 0) return std::unexpected(walk_error(err, l.path));
    l.more = after > cap;
    std::sort(names.begin(), names.end());
    l.batch = std::move(names);
    m_in_use += l.batch.size();
    return {};
}

ApiResult<bool> stat_member(int dir_fd, std::string_view folder, SortedWalk::Item& it) {
    if (::fstatat(dir_fd, it.name.c_str(), &it.st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return false;  // deleted meanwhile
        return std::unexpected(walk_error(errno, join_path(folder, it.name)));
    }
    if (!S_ISREG(it.st.st_mode) && !S_ISDIR(it.st.st_mode)) return false;
    // A file with several links may share its inode with one outside the
    // mount: like a symlink it is not listed (docs/api.md, "Entries").
    if (S_ISREG(it.st.st_mode) && it.st.st_nlink > 1) return false;
    it.path = join_path(folder, it.name);
    it.dir_fd = S_ISREG(it.st.st_mode) ? dir_fd : -1;
    return true;
}

ApiResult<std::optional<SortedWalk::Item>> SortedWalk::next() {
    while (!m_levels.empty()) {
        Level& l = m_levels.back();
        if (l.pos == l.batch.size()) {
            if (l.more) {
                if (auto s = scan(l); !s) return std::unexpected(s.error());
                if (l.batch.empty()) l.more = false;
                continue;
            }
            if (auto u = up(); !u) return std::unexpected(u.error());
            continue;
        }
        Item it;
        // The batch is sorted: its last name is where the next scan starts.
        if (l.pos + 1 == l.batch.size()) l.last = l.batch[l.pos];
        it.name = std::move(l.batch[l.pos++]);
        auto listed = stat_member(m_fd.get(), l.path, it);
        if (!listed) return std::unexpected(listed.error());
        if (!*listed) continue;
        if (S_ISDIR(it.st.st_mode) && m_recursive) {
            auto entered = down(it.name, it.path, &it.st);  // invalidates l
            if (!entered) return std::unexpected(entered.error());
            if (!*entered) continue;  // gone or replaced meanwhile
        }
        return std::optional<Item>(std::move(it));
    }
    return std::optional<Item>();
}

// ---- FolderScan -----------------------------------------------------------------------

namespace {
constexpr std::size_t k_dirent_buffer = 32 * 1024;
}

FolderScan::FolderScan(UniqueFd dir_fd, std::string path)
    : m_fd(std::move(dir_fd)), m_path(std::move(path)), m_buf(new char[k_dirent_buffer]) {}

ApiResult<std::optional<std::string>> FolderScan::next_name() {
    while (true) {
        if (m_off == m_len) {
            ssize_t n = ::getdents64(m_fd.get(), m_buf.get(), k_dirent_buffer);
            if (n < 0) {
                if (errno == EINTR) continue;
                return std::unexpected(walk_error(errno, m_path));
            }
            if (n == 0) return std::optional<std::string>();
            m_len = static_cast<std::size_t>(n);
            m_off = 0;
        }
        const auto* d = reinterpret_cast<const struct dirent64*>(m_buf.get() + m_off);
        m_off += d->d_reclen;
        std::string_view name = d->d_name;
        if (name == "." || name == "..") continue;
        // The type from the dirent skips what can never be listed without a stat.
        if (d->d_type != DT_UNKNOWN && d->d_type != DT_REG && d->d_type != DT_DIR) continue;
        return std::optional<std::string>(name);
    }
}

}  // namespace de::server

// The single mapping from error kinds to exit codes and their documented names.
#include <de/error.hpp>

#include <array>

namespace de {

namespace {
constexpr std::array k_table{
    ExitCodeRow{ErrorKind::generic, 1, "error", "error (I/O, server or other failure)"},
    ExitCodeRow{ErrorKind::usage, 2, "usage", "usage: bad command line or argument"},
    ExitCodeRow{ErrorKind::not_found, 3, "not_found", "not found: no such app, file or user"},
    ExitCodeRow{ErrorKind::auth, 4, "auth", "authentication failed or not allowed"},
    ExitCodeRow{ErrorKind::conflict, 5, "conflict",
                "conflict: exists already, would overwrite, or changed meanwhile"},
    ExitCodeRow{ErrorKind::quota, 6, "quota", "quota exceeded: not enough room in the mount"},
    ExitCodeRow{ErrorKind::network, 7, "network", "network: server unreachable or timed out"},
    ExitCodeRow{ErrorKind::interrupted, 130, "interrupted", "interrupted (Ctrl-C)"},
};

const ExitCodeRow& row(ErrorKind kind) {
    for (const auto& r : k_table)
        if (r.kind == kind) return r;
    return k_table[0];
}
}  // namespace

std::span<const ExitCodeRow> exit_code_table() { return k_table; }
int exit_code(ErrorKind kind) { return row(kind).code; }
std::string_view to_string(ErrorKind kind) { return row(kind).name; }

}  // namespace de

#pragma once
// Expected failures are values: every fallible libde call returns de::Result<T>.
// An Error carries a kind; the kind alone decides the process exit code, and
// exit_code() below is the one place where that mapping lives.

#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace de {

enum class ErrorKind {
    generic,      // anything without a more specific kind (I/O, server bug, ...)
    usage,        // the command line or an argument is wrong
    not_found,    // app, file or user does not exist (or is not yours)
    auth,         // no or bad credentials, or forbidden
    conflict,     // exists already / would overwrite / precondition failed / not empty
    quota,        // the mount's quota (or the disk) has no room
    network,      // could not reach the server, timed out, connection dropped
    interrupted,  // SIGINT / Ctrl-C
};

struct Error {
    ErrorKind kind = ErrorKind::generic;
    std::string message;   // says what failed, on which path or app, and what to do next
    int http_status = 0;   // 0 when the failure never reached HTTP
    std::string api_kind;  // the server's error kind string, when there was one
    // The finer cause (de::api::reason: "exists", "not_empty", ...) when the
    // server or libde named one; messages are reworded by it, not by text.
    std::string api_reason = {};
};

template <class T>
using Result = std::expected<T, Error>;

using Status = Result<void>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return std::unexpected(Error{kind, std::move(message), 0, {}});
}

struct ExitCodeRow {
    ErrorKind kind;
    int code;
    std::string_view name;         // stable name used in --json output
    std::string_view description;  // one line for --help, the man page and the README
};

// The exit-code table. exit code 0 means success and is not listed as a kind.
std::span<const ExitCodeRow> exit_code_table();

int exit_code(ErrorKind kind);
std::string_view to_string(ErrorKind kind);

}  // namespace de

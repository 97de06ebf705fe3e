#pragma once
// Errors inside de-server carry the wire kind of REST API v1 directly: the
// answer type is the wire contract's (de/api_error.hpp), named here as the
// server's own, plus the errno mapping of its file operations.

#include <de/api_error.hpp>

#include <string_view>

namespace de::server {

using api::api_fail;
using api::ApiError;
using api::error_body;
template <class T>
using ApiResult = api::ApiResult<T>;

// Maps an errno from a file operation on `path` to the error a client should see.
ApiError errno_error(int err, std::string_view what, std::string_view path);

}  // namespace de::server

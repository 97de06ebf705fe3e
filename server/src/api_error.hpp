#pragma once
// Errors inside de-server carry the wire kind of REST API v1 directly, so a
// failure deep in the storage layer becomes the right HTTP status and JSON body
// without a second translation table (de/api.hpp owns kind <-> status).

#include <de/api.hpp>
#include <de/name_json.hpp>

#include <nlohmann/json.hpp>

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace de::server {

struct ApiError {
    api::WireError kind = api::WireError::internal;
    std::string message;
    nlohmann::json extra = nlohmann::json::object();  // merged into the "error" object
};

template <class T>
using ApiResult = std::expected<T, ApiError>;

inline std::unexpected<ApiError> api_fail(api::WireError kind, std::string message) {
    return std::unexpected(ApiError{kind, std::move(message), nlohmann::json::object()});
}

// api_fail with a finer cause (api::reason), sent as "reason" beside "kind".
inline std::unexpected<ApiError> api_fail(api::WireError kind, std::string message,
                                          std::string_view reason) {
    return std::unexpected(
        ApiError{kind, std::move(message), nlohmann::json{{"reason", std::string(reason)}}});
}

// The JSON body of an error response.
inline std::string error_body(const ApiError& e) {
    nlohmann::json inner = e.extra.is_object() ? e.extra : nlohmann::json::object();
    inner["kind"] = std::string(api::to_string(e.kind));
    inner["message"] = e.message;
    return dump_json(nlohmann::json{{"error", inner}});  // never throws (a name in a message)
}

// Maps an errno from a file operation on `path` to the error a client should see.
ApiError errno_error(int err, std::string_view what, std::string_view path);

}  // namespace de::server

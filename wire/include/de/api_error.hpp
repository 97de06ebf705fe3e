#pragma once
// The error answer of REST API v1 as a value: the wire kind (de/api.hpp owns
// kind <-> status), a message, and extra members merged into the "error"
// object. de-server's storage layer fails with it, so a failure deep down
// becomes the right HTTP status and JSON body without a second translation
// table; the tar reader (de/tar_reader.hpp), shared with libde, fails with it too.

#include <de/api.hpp>
#include <de/name_json.hpp>

#include <nlohmann/json.hpp>

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace de::api {

struct ApiError {
    WireError kind = WireError::internal;
    std::string message;
    nlohmann::json extra = nlohmann::json::object();  // merged into the "error" object
};

template <class T>
using ApiResult = std::expected<T, ApiError>;

inline std::unexpected<ApiError> api_fail(WireError kind, std::string message) {
    return std::unexpected(ApiError{kind, std::move(message), nlohmann::json::object()});
}

// api_fail with a finer cause (api::reason), sent as "reason" beside "kind".
inline std::unexpected<ApiError> api_fail(WireError kind, std::string message,
                                          std::string_view reason) {
    return std::unexpected(
        ApiError{kind, std::move(message), nlohmann::json{{"reason", std::string(reason)}}});
}

// The JSON body of an error response.
inline std::string error_body(const ApiError& e) {
    nlohmann::json inner = e.extra.is_object() ? e.extra : nlohmann::json::object();
    inner["kind"] = std::string(to_string(e.kind));
    inner["message"] = e.message;
    return dump_json(nlohmann::json{{"error", inner}});  // never throws (a name in a message)
}

}  // namespace de::api

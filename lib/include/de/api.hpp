#pragma once
// Facts of REST API v1 shared by de-server and the client: the error kinds on the
// wire with their HTTP statuses, header names, and how a wire error becomes a
// de::ErrorKind. docs/api.md is the prose reference for the same contract.

#include <de/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace de::api {

inline constexpr std::string_view k_prefix = "/api/v1";

// Request/response headers beyond standard HTTP.
// Modification time as integer nanoseconds since the Unix epoch; set on PUT, sent on GET/HEAD.
inline constexpr std::string_view k_header_mtime_ns = "X-De-Mtime-Ns";
inline constexpr std::string_view k_header_content_digest = "Content-Digest";  // RFC 9530

// tus 1.0 (docs/api.md, "Resumable uploads") and de's "parts" extension.
inline constexpr std::string_view k_tus_version = "1.0.0";
inline constexpr std::string_view k_tus_extensions =
    "creation,creation-with-upload,checksum,termination,expiration,concatenation,parts";
inline constexpr std::string_view k_header_upload_parts = "Upload-Parts";
inline constexpr std::string_view k_header_upload_parts_done = "Upload-Parts-Done";
inline constexpr std::string_view k_header_entry = "X-De-Entry";
inline constexpr std::string_view k_tus_content_type = "application/offset+octet-stream";
// Batch upload: the pax keyword carrying a member's SHA-256 (hex).
inline constexpr std::string_view k_pax_sha256 = "DE.sha256";

// Error kinds as they appear in {"error":{"kind":...,"message":...}}.
enum class WireError {
    bad_request,            // 400
    digest_mismatch,        // 400
    confirmation_required,  // 400
    unauthorized,           // 401
    forbidden,              // 403
    not_found,              // 404
    method_not_allowed,     // 405
    timeout,                // 408
    conflict,               // 409  exists, not empty, is a directory, ...
    mount_disabled,         // 409  the app's persistent filesystem is off
    length_required,        // 411
    precondition_failed,    // 412  If-Match / If-None-Match
    too_large,              // 413  body or header over the limit
    unsupported_media,      // 415
    range_not_satisfiable,  // 416
    unprocessable,          // 422
    gone,                   // 410  a tus upload expired or was terminated
    checksum_mismatch,      // 460  tus Upload-Checksum / whole-file sha256
    internal,               // 500
    unavailable,            // 503  shutting down
    quota_exceeded,         // 507
};

int http_status(WireError e);
std::string_view to_string(WireError e);
std::optional<WireError> wire_error_from_string(std::string_view s);

// Content-Digest (RFC 9530) for a SHA-256 given in hex: "sha-256=:<base64>:".
std::string content_digest(std::string_view sha256_hex);
// The SHA-256 (hex) a Content-Digest header carries; nullopt when it has none
// or is malformed.
std::optional<std::string> parse_content_digest(std::string_view header);

// ETag for a content SHA-256: the hex digest in double quotes.
std::string etag_for(std::string_view sha256_hex);

// How the client classifies a server error: by wire kind when known, else by status.
ErrorKind error_kind_for(std::optional<WireError> wire, int http_status);

}  // namespace de::api

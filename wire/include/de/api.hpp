#pragma once
// The wire contract of REST API v1, the one definition both de-server and libde
// compile against (target de_wire): routes, header names, limits, the error
// kinds on the wire with their HTTP statuses, ETag and digest helpers, and how
// a wire error becomes a de::ErrorKind. docs/api.md is the prose reference for
// the same contract. Nothing here does I/O.

#include <de/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace de::api {

inline constexpr std::string_view k_prefix = "/api/v1";

// What every libde request says it is (User-Agent). The version is the API's
// client library version, bumped with a release.
inline constexpr std::string_view k_user_agent = "libde/0.1.0";

// Limits both ends hold to. The server refuses past them; the client cuts its
// requests to fit.
// A batch upload (POST .../mount/batch): members and body bytes per request.
inline constexpr std::size_t k_batch_max_members = 10'000;
inline constexpr std::uint64_t k_batch_max_body = 1ull << 30;
// tus "parts" extension: the smallest part size (Upload-Parts) a server takes.
inline constexpr std::uint64_t k_tus_min_part = 1ull << 20;
// The largest Upload-Parts: 1 TiB (part arithmetic stays far from overflow).
inline constexpr std::uint64_t k_tus_max_part = 1ull << 40;
// A JSON request body (apps, move/copy, tus concatenation lists).
inline constexpr std::size_t k_json_body_limit = 64 * 1024;

// Request/response headers beyond standard HTTP.
// Modification time as integer nanoseconds since the Unix epoch; set on PUT, sent on GET/HEAD.
inline constexpr std::string_view k_header_mtime_ns = "X-De-Mtime-Ns";
inline constexpr std::string_view k_header_content_digest = "Content-Digest";  // RFC 9530
inline constexpr std::string_view k_header_repr_digest = "Repr-Digest";  // RFC 9530: crc64=:B64:
// The sync lease a mutating request is made under (docs/api.md, "Sync lease"):
// the server refuses the request (409) unless it names the app's live lease.
inline constexpr std::string_view k_header_sync_lease = "X-De-Sync-Lease";

// Sync lease: POST .../apps/{app}/mount/sync-lease, PUT|DELETE .../sync-lease/{id}.
inline constexpr std::string_view k_route_sync_lease = "sync-lease";
inline constexpr int k_sync_lease_min_ttl_s = 5;
inline constexpr int k_sync_lease_max_ttl_s = 600;
inline constexpr int k_sync_lease_default_ttl_s = 60;

// tus 1.0 (docs/api.md, "Resumable uploads") and de's "parts" extension.
inline constexpr std::string_view k_tus_version = "1.0.0";
inline constexpr std::string_view k_tus_extensions =
    "creation,creation-with-upload,checksum,termination,expiration,concatenation,parts";
inline constexpr std::string_view k_header_tus_resumable = "Tus-Resumable";
inline constexpr std::string_view k_header_tus_version = "Tus-Version";
inline constexpr std::string_view k_header_tus_extension = "Tus-Extension";
inline constexpr std::string_view k_header_tus_max_size = "Tus-Max-Size";
inline constexpr std::string_view k_header_tus_checksum_algorithm = "Tus-Checksum-Algorithm";
inline constexpr std::string_view k_header_upload_offset = "Upload-Offset";
inline constexpr std::string_view k_header_upload_length = "Upload-Length";
inline constexpr std::string_view k_header_upload_metadata = "Upload-Metadata";
inline constexpr std::string_view k_header_upload_checksum = "Upload-Checksum";
inline constexpr std::string_view k_header_upload_concat = "Upload-Concat";
inline constexpr std::string_view k_header_upload_expires = "Upload-Expires";
inline constexpr std::string_view k_header_upload_defer_length = "Upload-Defer-Length";
inline constexpr std::string_view k_header_upload_parts = "Upload-Parts";
inline constexpr std::string_view k_header_upload_parts_done = "Upload-Parts-Done";
inline constexpr std::string_view k_header_entry = "X-De-Entry";
// On every de-server answer: the server's version. A client tells a de-server
// (also behind a proxy that rewrites Server:) from another HTTP server by it.
inline constexpr std::string_view k_header_server = "X-De-Server";
// On a tus creation: a key the client chose (1-128 of [A-Za-z0-9_-]) and
// journaled before sending; a creation repeated with the same key answers the
// upload the first one made instead of making another (docs/api.md).
inline constexpr std::string_view k_header_idempotency_key = "Idempotency-Key";
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
    too_many_requests,      // 429  a per-user limit or failed-authentication throttle (Retry-After)
    gone,                   // 410  a tus upload expired or was terminated
    checksum_mismatch,      // 460  tus Upload-Checksum / whole-file sha256
    internal,               // 500
    unavailable,            // 503  shutting down
    quota_exceeded,         // 507
};

// Finer causes of an error, sent as "reason" beside "kind" in the error
// object (docs/api.md, "Errors"). Clients word their messages by them, never
// by matching the server's text.
namespace reason {
inline constexpr std::string_view exists = "exists";        // the target exists; no overwrite asked
inline constexpr std::string_view not_empty = "not_empty";  // a folder with entries; no recursive
inline constexpr std::string_view no_parent = "no_parent";  // the target's folder is missing
}  // namespace reason

int http_status(WireError e);
std::string_view to_string(WireError e);
std::optional<WireError> wire_error_from_string(std::string_view s);

// Content-Digest (RFC 9530) for a SHA-256 given in hex: "sha-256=:<base64>:".
std::string content_digest(std::string_view sha256_hex);
// The SHA-256 (hex) a Content-Digest header carries; nullopt when it has none
// or is malformed.
std::optional<std::string> parse_content_digest(std::string_view header);
// Repr-Digest (RFC 9530) for a whole-file CRC-64 (de/crc64.hpp): "crc64=:<base64>:".
std::string repr_digest_crc64(std::uint64_t crc);
// The CRC-64 a Repr-Digest (or Content-Digest) dictionary carries in its
// `crc64` member. nullopt: no such member; `malformed` set when the member is
// there but is not :BASE64: of 8 bytes.
std::optional<std::uint64_t> parse_digest_crc64(std::string_view header, bool& malformed);
// The same, for a reader that treats a malformed member like a missing one.
std::optional<std::uint64_t> parse_digest_crc64(std::string_view header);

// ETag for a content SHA-256: the hex digest in double quotes.
std::string etag_for(std::string_view sha256_hex);
// An entity tag without its quotes and weak prefix ('W/"abc"' -> "abc"),
// surrounding spaces trimmed. "*" stays "*".
std::string_view unquote_etag(std::string_view etag);
// The SHA-256 an ETag carries: unquoted, it must be 64 hex digits; lower-cased.
// nullopt otherwise.
std::optional<std::string> sha256_from_etag(std::string_view etag);
// Whether an If-Match / If-None-Match list ("*" or comma-separated tags)
// names the entity whose SHA-256 is sha256_hex.
bool etag_list_matches(std::string_view header, std::string_view sha256_hex);

// How the client classifies a server error: by wire kind when known, else by status.
ErrorKind error_kind_for(std::optional<WireError> wire, int http_status);

}  // namespace de::api

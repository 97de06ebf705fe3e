#pragma once
// The file routes that stream: GET/HEAD and PUT of
// /api/v1/apps/{app}/mount/files/{path}, and the manifest. The session hands
// each its Exchange once the caller is authenticated; they answer on the
// stream themselves (a body of any size goes through a fixed buffer).

#include "exchange.hpp"

#include <string_view>

namespace de::server {

// GET/HEAD: ETag, Last-Modified, If-Match / If-None-Match, one Range. The
// Content-Type is file_content_type's, with nosniff and a sandbox CSP: a
// browser opening an HTML file of a mount runs none of its scripts on
// de-server's origin.
asio::awaitable<bool> handle_file_get(ServerContext& ctx, Exchange& x);
// The media type a file's name implies (a short table of common extensions,
// application/octet-stream otherwise): a GET's Content-Type and WebDAV's
// getcontenttype, so the two always agree.
std::string_view file_content_type(std::string_view name);
// PUT: preconditions and quota before the body; the body is hashed and
// written in parallel, then committed whole (MountStore's Upload).
asio::awaitable<bool> handle_file_put(ServerContext& ctx, Exchange& x);
// GET .../mount/manifest: NDJSON, chunked, one entry at a time.
asio::awaitable<bool> handle_manifest(ServerContext& ctx, Exchange& x);

}  // namespace de::server

#pragma once
// The file routes that stream: GET/HEAD and PUT of
// /api/v1/apps/{app}/mount/files/{path}, and the manifest. The session hands
// each its Exchange once the caller is authenticated; they answer on the
// stream themselves (a body of any size goes through a fixed buffer).

#include "exchange.hpp"

namespace de::server {

// GET/HEAD: ETag, Last-Modified, If-Match / If-None-Match, one Range.
asio::awaitable<bool> handle_file_get(ServerContext& ctx, Exchange& x);
// PUT: preconditions and quota before the body; the body is hashed and
// written in parallel, then committed whole (MountStore's Upload).
asio::awaitable<bool> handle_file_put(ServerContext& ctx, Exchange& x);
// GET .../mount/manifest: NDJSON, chunked, one entry at a time.
asio::awaitable<bool> handle_manifest(ServerContext& ctx, Exchange& x);

}  // namespace de::server

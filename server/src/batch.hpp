#pragma once
// POST /api/v1/apps/{app}/mount/batch: many small files in one request. The
// body is a tar stream (see docs/api.md, "Batch upload"); every file is staged,
// verified, flushed once for the whole batch and renamed into place.

#include "exchange.hpp"

namespace de::server {

asio::awaitable<bool> handle_batch(ServerContext& ctx, Exchange& x);

}  // namespace de::server

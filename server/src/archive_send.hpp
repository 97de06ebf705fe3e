#pragma once
// POST /api/v1/apps/{app}/mount/archive: many small files in one streamed
// pax tar answer (issue #15; docs/api.md, "Tree archive"), the download side
// of the batch upload. Each member carries its mtime in nanoseconds and the
// vendor records DE.crc64 (always) and DE.sha256 (when the server knows it
// without reading the file again); a file that cannot be sent is a member of
// size 0 with a DE.error record instead.

#include "exchange.hpp"

namespace de::server {

// The most paths one request may name, and the most bytes its body may have.
inline constexpr std::size_t k_archive_max_paths = 100'000;
inline constexpr std::uint64_t k_archive_max_body = 16ull << 20;

asio::awaitable<bool> handle_archive(ServerContext& ctx, Exchange& x);

}  // namespace de::server

#pragma once
// WebDAV (RFC 4918, classes 1 and 2) on an app's mount: /dav/APP/PATH on the
// API's listener, with the API's authentication, isolation, path confinement,
// quota and atomic commit (docs/webdav.md). The storage calls are
// MountStore's, the same the REST routes use: a PUT is the REST PUT, a DELETE
// goes through the trash, COPY and MOVE are MountStore::copy and move.
//
// PROPFIND streams its multistatus answer (chunked) page by page of the
// folder's listing, so memory stays flat however many entries a folder has;
// Depth: infinity is refused (403 propfind-finite-depth), as RFC 4918 9.1
// allows. Locks live in the LockTable (dav_locks.hpp), dead properties in an
// extended attribute of each file (dav_props.hpp), request XML is parsed by
// expat with DTDs refused (dav_xml.hpp).

#include "exchange.hpp"

namespace de::server {

inline constexpr std::string_view k_dav_prefix = "/dav";

// Answers one request on a /dav route. Returns whether the connection may
// carry another request.
asio::awaitable<bool> handle_dav(ServerContext& ctx, Exchange& x);

}  // namespace de::server

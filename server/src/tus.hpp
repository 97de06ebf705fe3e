#pragma once
// Resumable uploads: the tus 1.0 protocol under /api/v1/apps/{app}/uploads
// (see docs/api.md, "Resumable uploads (tus 1.0)"), with concatenation and de's
// `parts` extension (parallel PATCHes at their offsets into one staging file).

#include "exchange.hpp"

#include <memory>

namespace de::server {

class TusService {
  public:
    explicit TusService(ServerContext& ctx);
    ~TusService();
    TusService(const TusService&) = delete;
    TusService& operator=(const TusService&) = delete;

    // Start-up: reload uploads that survived a restart (re-reserving their
    // quota) and drop expired ones.
    void start();
    // Drops expired uploads, and uploads whose app or mount went away; the
    // server calls it periodically.
    void reap();
    // Frees the idle body buffers kept for the next PATCH (up to 24 MiB after
    // a big upload); the server calls it once no connection is busy.
    void release_idle_memory();
    // RouteId::uploads, upload, upload_complete.
    asio::awaitable<bool> handle(Exchange& x);

    struct Impl;

  private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace de::server

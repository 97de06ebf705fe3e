// PLACEHOLDER until the batch implementation lands (issue 4).
#include "batch.hpp"

namespace de::server {

asio::awaitable<bool> handle_batch(ServerContext& ctx, Exchange& x) {
    x.status = 500;
    Response r = error_response(ApiError{api::WireError::internal, "batch: not implemented yet", {}});
    co_return co_await send_response(x.stream, r, x.parser.get().version(), false,
                                     ctx.options.body_timeout);
}

}  // namespace de::server

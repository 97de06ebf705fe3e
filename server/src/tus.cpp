// PLACEHOLDER until the tus implementation lands (issue 4): every tus route
// answers 500 "not implemented".
#include "tus.hpp"

namespace de::server {

struct TusService::Impl {
    ServerContext& ctx;
};

TusService::TusService(ServerContext& ctx) : m_impl(std::make_unique<Impl>(Impl{ctx})) {}
TusService::~TusService() = default;
void TusService::start() {}
void TusService::reap() {}

asio::awaitable<bool> TusService::handle(Exchange& x) {
    x.status = 500;
    Response r = error_response(ApiError{api::WireError::internal, "tus: not implemented yet", {}});
    co_return co_await send_response(x.stream, r, x.parser.get().version(), false,
                                     m_impl->ctx.options.body_timeout);
}

}  // namespace de::server

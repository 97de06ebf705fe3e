#include "context.hpp"

namespace de::cli {

void on_run(CLI::App* sub, Context& ctx, std::function<Status()> fn) {
    sub->callback([&ctx, fn = std::move(fn)] { ctx.outcome = fn(); });
}

}  // namespace de::cli

// Being written: see issue 3 (de-cli).
#include "commands.hpp"

namespace de::cli {
void register_apps(CLI::App&, Context&) {}
}  // namespace de::cli

// Placeholder: being written (see the issue for 'sync').
#include "commands.hpp"

namespace de::cli {
void register_sync(CLI::App&, Context&) {}
}  // namespace de::cli

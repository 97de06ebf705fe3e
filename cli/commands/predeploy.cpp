// Placeholder: being written (see the issue for the 'predeploy' command).
#include "commands.hpp"

namespace de::cli {
void register_predeploy(CLI::App&, Context&) {}
}  // namespace de::cli

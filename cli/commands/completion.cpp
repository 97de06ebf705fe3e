// Placeholder: being written (see the issue for the 'completion' command).
#include "commands.hpp"

namespace de::cli {
void register_completion(CLI::App&, Context&) {}
}  // namespace de::cli

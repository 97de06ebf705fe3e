// Being written: see issue 3 (de-cli).
#include "commands.hpp"

namespace de::cli {
void register_files(CLI::App&, Context&) {}
}  // namespace de::cli

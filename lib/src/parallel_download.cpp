// PLACEHOLDER until the parallel download engine lands (issue 4).
#include "transfers.hpp"

namespace de::detail {

Result<Entry> parallel_download(const TransferEnv&, const std::string&, const std::filesystem::path&,
                                const DownloadOptions&, const std::string& what, TransferReport*) {
    return fail(ErrorKind::generic, what + " failed: parallel downloads are not implemented yet");
}

}  // namespace de::detail

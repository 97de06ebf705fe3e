// PLACEHOLDER until the resumable upload engine lands (issue 4).
#include "transfers.hpp"

namespace de::detail {

Result<Entry> resumable_upload(const TransferEnv&, const std::filesystem::path&, int, std::uint64_t,
                               std::int64_t, const std::string&, const UploadOptions&,
                               const std::string& what, TransferReport*) {
    return fail(ErrorKind::generic, what + " failed: resumable uploads are not implemented yet");
}

}  // namespace de::detail

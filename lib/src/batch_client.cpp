// PLACEHOLDER until the batch client lands (issue 4).
#include "transfers.hpp"

namespace de::detail {

Result<BatchResult> batch_upload(const TransferEnv&, const std::vector<BatchItem>&,
                                 const BatchOptions&) {
    return fail(ErrorKind::generic, "batch upload: not implemented yet");
}

}  // namespace de::detail

// State dicts: a module's parameters and buffers by name (Module::State), in
// the safetensors format (safetensors.h), like torch's state_dict saved with
// safetensors.torch.save_file.
//
//   RETURN_IF_ERROR(SaveStateDict(mlp, "/tmp/mlp.safetensors"));
//   Mlp fresh;
//   RETURN_IF_ERROR(LoadStateDict(fresh, "/tmp/mlp.safetensors"));   // same weights
//
// Loading checks every entry before changing anything: a missing name, an
// unexpected one (unless strict is false), or a dtype or shape that differs
// from the module's tensor is an InvalidArgument naming the entry. Tensors
// that are views of buffers (realized parameters, an optimizer's packed
// parameters, running statistics) are written in place, so optimizers and
// JIT captures that point at them stay valid; lazy ones are replaced.
#ifndef UOP_RUNTIME_NN_STATE_DICT_H_
#define UOP_RUNTIME_NN_STATE_DICT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/nn/module.h"

namespace uop::nn {

absl::StatusOr<std::vector<uint8_t>> StateDictBytes(Module& module);
absl::Status LoadStateDictBytes(Module& module, absl::Span<const uint8_t> bytes,
                                bool strict = true);

absl::Status SaveStateDict(Module& module, const std::string& path);
absl::Status LoadStateDict(Module& module, const std::string& path, bool strict = true);

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_STATE_DICT_H_

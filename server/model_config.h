// A model's configuration: Triton's ModelConfig read from config.pbtxt (or
// JSON, as RepositoryModelLoad sends it), completed from what the model file
// declares, and checked before anything is compiled.
//
//   ASSIGN_OR_RETURN(inference::ModelConfig c, ReadConfigFile("repo/add/config.pbtxt"));
//   RETURN_IF_ERROR(CompleteConfig(*backend, "add", &c));   // inputs/outputs filled and checked
//   BatchBuckets(c) == {1, 2, 4, 8}                          // for max_batch_size 8
//
// The subset uopd acts on: name, backend/platform, max_batch_size, input and
// output (name, data_type, dims, optional), instance_group (kind, count, gpus:
// device_placement.h places them),
// dynamic_batching (preferred_batch_size, max_queue_delay_microseconds,
// default_queue_policy.max_queue_size, priority_levels), version_policy,
// default_model_filename, model_warmup (zero_data, input_data_file). Other
// fields are kept and reported by ModelConfig but have no effect.
#ifndef UOP_SERVER_MODEL_CONFIG_H_
#define UOP_SERVER_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/model_config.pb.h"
#include "server/backend.h"

namespace uop::server {

// Parses protobuf text format; errors name `origin` and the line.
absl::StatusOr<inference::ModelConfig> ParseModelConfigText(absl::string_view text,
                                                            absl::string_view origin);
absl::StatusOr<inference::ModelConfig> ReadConfigFile(const std::string& path);

// Parses Triton's JSON form of a config (the `config` override parameter of
// RepositoryModelLoad). Unknown fields are an error, naming them.
absl::StatusOr<inference::ModelConfig> ParseConfigJson(absl::string_view json);

// Fills what the config leaves out from the model (inputs, outputs, name,
// default_model_filename) and checks the rest against it: every configured
// tensor exists in the model with the same data type and compatible dims,
// every required model input is configured, batching settings are coherent.
// InvalidArgument naming the model, the tensor and expected vs found.
absl::Status CompleteConfig(const ModelBackend& backend, const std::string& model_name,
                            inference::ModelConfig* config);

// Checks that need no model file (used before loading anything).
absl::Status ValidateConfig(const inference::ModelConfig& config, const std::string& model_name);

// Batch sizes to compile and warm, ascending: {0} for a model without a batch
// dimension; else powers of two below max_batch_size, the preferred sizes and
// max_batch_size. A batch of n runs in the smallest bucket >= n.
std::vector<int> BatchBuckets(const inference::ModelConfig& config);

// The versions `policy` selects from `available` (ascending): the latest N
// (default 1), all, or the listed ones that exist.
std::vector<int64_t> SelectVersions(const inference::ModelVersionPolicy& policy,
                                    const std::vector<int64_t>& available);

}  // namespace uop::server

#endif  // UOP_SERVER_MODEL_CONFIG_H_

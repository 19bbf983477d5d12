// KServe v2 ModelInferRequest <-> InferJob: every check of a request against
// its model happens here, once, for gRPC and HTTP alike (HTTP converts its
// JSON into a ModelInferRequest first).
//
//   PreparedInfer p;
//   RETURN_IF_ERROR(PrepareInfer(*model, request, shm, limits, &p));  // INVALID_ARGUMENT...
//   RETURN_IF_ERROR(model->scheduler->Infer(&p.job));
//   RETURN_IF_ERROR(FillResponse(*model, request, p, &response));
//
// Inputs are borrowed, not copied: raw_input_contents and shared-memory
// regions are read in place; only typed `contents` are packed into bytes.
// Errors name the tensor and what was expected vs given:
//   input 'A': shape [3] given, model 'add' expects [4]
//   input 'A': datatype FP64 given, model 'add' expects FP32
//   input 'B': raw contents hold 12 bytes, shape [4] of FP32 needs 16
#ifndef UOP_SERVER_INFER_CODEC_H_
#define UOP_SERVER_INFER_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/grpc_service.pb.h"
#include "server/infer_job.h"
#include "server/model_manager.h"
#include "server/shm_registry.h"

namespace uop::server {

struct InferLimits {
  // Largest tensor data one request may carry (all inputs together).
  int64_t max_request_bytes = int64_t{1} << 30;
};

struct PreparedInfer {
  InferJob job;
  std::vector<std::string> packed;  // typed contents as bytes
  std::vector<ShmView> shm_inputs;  // keep regions mapped while in use
  struct Output {
    std::string name;
    int index = -1;  // in the config's outputs
    ShmView shm;     // when written to shared memory
    bool to_shm = false;
    bool binary = true;  // HTTP binary-data extension
  };
  std::vector<Output> outputs;  // requested ones (all configured when none)
  std::string id;
};

absl::Status PrepareInfer(const ModelVersion& model, const inference::ModelInferRequest& request,
                          const ShmRegistry& shm, const InferLimits& limits, PreparedInfer* out);

// Outputs of a finished job as KServe v2 expects them: raw_output_contents in
// `outputs` order (an empty entry for one written to shared memory).
absl::Status FillResponse(const ModelVersion& model, PreparedInfer& prepared,
                          inference::ModelInferResponse* response);

}  // namespace uop::server

#endif  // UOP_SERVER_INFER_CODEC_H_

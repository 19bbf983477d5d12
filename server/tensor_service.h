// uop.v1.TensorService (proto/tensor_service.proto): tensor programs (ONNX
// models sent in the request) executed without a model repository.
//
//   TensorService tensors(&backends, &shm, limits, {.max_programs = 32});
//   builder.RegisterService(&tensors);
//
// A program is imported and checked once and kept by the SHA-256 of its
// bytes (least recently used ones are dropped past `max_programs`); each new
// input shape compiles on its first run and replays afterwards, so repeated
// submissions of the same program run warm. Inputs go through the same
// checks and limits as ModelInfer (infer_codec.h), so errors read the same:
//   input 'x': shape [3] given, model 'program 1a2b3c4d5e6f' expects [4]
#ifndef UOP_SERVER_TENSOR_SERVICE_H_
#define UOP_SERVER_TENSOR_SERVICE_H_

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/tensor_service.grpc.pb.h"
#include "server/backend.h"
#include "server/infer_codec.h"
#include "server/model_manager.h"
#include "server/shm_registry.h"

namespace uop::server {

struct TensorServiceOptions {
  int max_programs = 32;
  int64_t max_program_bytes = int64_t{256} << 20;
};

class TensorService final : public uop::v1::TensorService::Service {
 public:
  TensorService(const BackendRegistry* backends, const ShmRegistry* shm, InferLimits limits,
                TensorServiceOptions options = {})
      : backends_(backends), shm_(shm), limits_(limits), options_(options) {}
  ~TensorService() override;

  grpc::Status Execute(grpc::ServerContext* context, const uop::v1::ExecuteRequest* request,
                       uop::v1::ExecuteResponse* response) override;

  // The work of Execute, without gRPC (tests).
  absl::Status Run(const uop::v1::ExecuteRequest& request, absl::Time deadline,
                   uop::v1::ExecuteResponse* response);

  int cached_programs() const;

 private:
  absl::StatusOr<std::shared_ptr<ModelVersion>> Program(const uop::v1::ExecuteRequest& request,
                                                        bool* cached);

  const BackendRegistry* backends_;
  const ShmRegistry* shm_;
  const InferLimits limits_;
  const TensorServiceOptions options_;
  mutable std::mutex mu_;  // guards programs_
  std::mutex build_mu_;    // one import at a time
  // Most recently used first.
  std::list<std::pair<std::string, std::shared_ptr<ModelVersion>>> programs_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_TENSOR_SERVICE_H_

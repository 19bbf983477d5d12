// ServingCore: what the gRPC and HTTP front ends share, so both protocols
// behave the same and each check lives in one place: model lookup, request
// validation, scheduling, response building, statistics and the repository
// and shared-memory operations.
//
//   ServingCore core(&models, &shm, limits);
//   inference::ModelInferResponse response;
//   absl::Status s = core.Infer(request, deadline, is_cancelled, &response);
#ifndef UOP_SERVER_SERVING_CORE_H_
#define UOP_SERVER_SERVING_CORE_H_

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/grpc_service.pb.h"
#include "server/infer_codec.h"
#include "server/model_manager.h"
#include "server/shm_registry.h"

namespace uop::server {

class ServingCore {
 public:
  ServingCore(ModelManager* models, ShmRegistry* shm, InferLimits limits)
      : models_(models), shm_(shm), limits_(limits) {}

  // One inference: validate, queue (honouring `deadline` and `is_cancelled`),
  // run, fill `response`. Counts the request in the model's statistics.
  absl::Status Infer(const inference::ModelInferRequest& request, absl::Time deadline,
                     std::function<bool()> is_cancelled, inference::ModelInferResponse* response);

  absl::Status Metadata(const std::string& name, const std::string& version,
                        inference::ModelMetadataResponse* response) const;
  absl::Status Config(const std::string& name, const std::string& version,
                      inference::ModelConfigResponse* response) const;
  absl::Status Statistics(const std::string& name, const std::string& version,
                          inference::ModelStatisticsResponse* response) const;
  absl::Status Index(bool ready_only, inference::RepositoryIndexResponse* response) const;
  absl::Status Load(const inference::RepositoryModelLoadRequest& request);
  absl::Status Unload(const inference::RepositoryModelUnloadRequest& request);
  absl::Status ShmStatus(const std::string& name,
                         inference::SystemSharedMemoryStatusResponse* response) const;

  // Ready when the server is not draining and every wanted model is READY.
  bool ServerReady() const;
  void SetAccepting(bool accepting) { accepting_.store(accepting); }
  // ServerReady turns false for good; requests already arriving still run.
  void SetDraining() { draining_.store(true); }

  ModelManager& models() { return *models_; }
  ShmRegistry& shm() { return *shm_; }
  const InferLimits& limits() const { return limits_; }

 private:
  ModelManager* models_;
  ShmRegistry* shm_;
  InferLimits limits_;
  std::atomic<bool> accepting_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace uop::server

#endif  // UOP_SERVER_SERVING_CORE_H_

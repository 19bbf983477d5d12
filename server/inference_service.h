// uopd's implementation of inference.GRPCInferenceService (KServe v2,
// wire-compatible with Triton).
//
//   InferenceService service(&core);   // ServingCore: models, shm, limits
//   builder.RegisterService(&service);
//
// One handler method per RPC, each a thin translation to ServingCore ending
// in ToGrpcStatus(...), the only absl -> gRPC status conversion. The gRPC
// deadline becomes the request's deadline inside the scheduler, and a
// cancelled call that waited in the queue is dropped before it runs
// (kCancelCheckMinAge). CUDA shared memory, TraceSetting
// and LogSettings answer UNIMPLEMENTED with a message saying why.
#ifndef UOP_SERVER_INFERENCE_SERVICE_H_
#define UOP_SERVER_INFERENCE_SERVICE_H_

#include <atomic>
#include <functional>

#include "absl/time/time.h"
#include "proto/grpc_service.grpc.pb.h"
#include "server/serving_core.h"

namespace uop::server {

// How old a call must be before the scheduler's cancellation check asks gRPC.
// On the synchronous server ServerContext::IsCancelled polls the call's
// completion queue: about 25 µs of CPU, a third of a small request's whole
// cost in uopd (docs/serving.md "Per-request CPU"). A younger call has not
// waited for anything; it is starting to run anyway, and an execution, once
// started, is not interrupted.
inline constexpr absl::Duration kCancelCheckMinAge = absl::Milliseconds(1);

// An InferJob::is_cancelled for a call received at `received`: false while
// the call is younger than `min_age`, then whatever `ask` says.
std::function<bool()> CancelCheckAfter(absl::Time received, absl::Duration min_age,
                                       std::function<bool()> ask);

class InferenceService final : public inference::GRPCInferenceService::Service {
 public:
  explicit InferenceService(ServingCore* core) : core_(core) {}

  grpc::Status ServerLive(grpc::ServerContext* context, const inference::ServerLiveRequest* request,
                          inference::ServerLiveResponse* response) override;
  grpc::Status ServerReady(grpc::ServerContext* context,
                           const inference::ServerReadyRequest* request,
                           inference::ServerReadyResponse* response) override;
  grpc::Status ServerMetadata(grpc::ServerContext* context,
                              const inference::ServerMetadataRequest* request,
                              inference::ServerMetadataResponse* response) override;

  grpc::Status ModelReady(grpc::ServerContext* context, const inference::ModelReadyRequest* request,
                          inference::ModelReadyResponse* response) override;
  grpc::Status ModelMetadata(grpc::ServerContext* context,
                             const inference::ModelMetadataRequest* request,
                             inference::ModelMetadataResponse* response) override;
  grpc::Status ModelInfer(grpc::ServerContext* context, const inference::ModelInferRequest* request,
                          inference::ModelInferResponse* response) override;
  grpc::Status ModelStreamInfer(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*
          stream) override;
  grpc::Status ModelConfig(grpc::ServerContext* context,
                           const inference::ModelConfigRequest* request,
                           inference::ModelConfigResponse* response) override;
  grpc::Status ModelStatistics(grpc::ServerContext* context,
                               const inference::ModelStatisticsRequest* request,
                               inference::ModelStatisticsResponse* response) override;
  grpc::Status RepositoryIndex(grpc::ServerContext* context,
                               const inference::RepositoryIndexRequest* request,
                               inference::RepositoryIndexResponse* response) override;
  grpc::Status RepositoryModelLoad(grpc::ServerContext* context,
                                   const inference::RepositoryModelLoadRequest* request,
                                   inference::RepositoryModelLoadResponse* response) override;
  grpc::Status RepositoryModelUnload(grpc::ServerContext* context,
                                     const inference::RepositoryModelUnloadRequest* request,
                                     inference::RepositoryModelUnloadResponse* response) override;
  grpc::Status SystemSharedMemoryStatus(
      grpc::ServerContext* context, const inference::SystemSharedMemoryStatusRequest* request,
      inference::SystemSharedMemoryStatusResponse* response) override;
  grpc::Status SystemSharedMemoryRegister(
      grpc::ServerContext* context, const inference::SystemSharedMemoryRegisterRequest* request,
      inference::SystemSharedMemoryRegisterResponse* response) override;
  grpc::Status SystemSharedMemoryUnregister(
      grpc::ServerContext* context, const inference::SystemSharedMemoryUnregisterRequest* request,
      inference::SystemSharedMemoryUnregisterResponse* response) override;
  grpc::Status CudaSharedMemoryStatus(grpc::ServerContext* context,
                                      const inference::CudaSharedMemoryStatusRequest* request,
                                      inference::CudaSharedMemoryStatusResponse* response) override;
  grpc::Status CudaSharedMemoryRegister(
      grpc::ServerContext* context, const inference::CudaSharedMemoryRegisterRequest* request,
      inference::CudaSharedMemoryRegisterResponse* response) override;
  grpc::Status CudaSharedMemoryUnregister(
      grpc::ServerContext* context, const inference::CudaSharedMemoryUnregisterRequest* request,
      inference::CudaSharedMemoryUnregisterResponse* response) override;
  grpc::Status TraceSetting(grpc::ServerContext* context,
                            const inference::TraceSettingRequest* request,
                            inference::TraceSettingResponse* response) override;
  grpc::Status LogSettings(grpc::ServerContext* context,
                           const inference::LogSettingsRequest* request,
                           inference::LogSettingsResponse* response) override;

 private:
  ServingCore* core_;  // not owned
};

}  // namespace uop::server

#endif  // UOP_SERVER_INFERENCE_SERVICE_H_

#include "server/inference_service.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/grpc_status.h"
#include "server/server_info.h"

namespace uop::server {
namespace {

// The answer of every RPC that is not served yet. Says which RPC and why, so a
// Triton client's error message is self-explanatory.
grpc::Status NotServedYet(absl::string_view rpc) {
  return ToGrpcStatus(absl::UnimplementedError(
      absl::StrCat(rpc, " is not implemented yet in uopd ", kServerVersion,
                   ": this version serves only ServerLive, ServerReady, ServerMetadata, "
                   "health and reflection (model loading and inference come later)")));
}

}  // namespace

grpc::Status InferenceService::ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                                          inference::ServerLiveResponse* response) {
  // Answering at all is the proof of life.
  response->set_live(true);
  return ToGrpcStatus(absl::OkStatus());
}

grpc::Status InferenceService::ServerReady(grpc::ServerContext*,
                                           const inference::ServerReadyRequest*,
                                           inference::ServerReadyResponse* response) {
  // No models are loaded yet, so readiness is the daemon's own state: started
  // and not draining.
  response->set_ready(ready_.load(std::memory_order_relaxed));
  return ToGrpcStatus(absl::OkStatus());
}

grpc::Status InferenceService::ServerMetadata(grpc::ServerContext*,
                                              const inference::ServerMetadataRequest*,
                                              inference::ServerMetadataResponse* response) {
  response->set_name(std::string(kServerName));
  response->set_version(std::string(kServerVersion));
  for (absl::string_view extension : kServerExtensions) {
    response->add_extensions(std::string(extension));
  }
  return ToGrpcStatus(absl::OkStatus());
}

grpc::Status InferenceService::ModelReady(grpc::ServerContext*, const inference::ModelReadyRequest*,
                                          inference::ModelReadyResponse*) {
  return NotServedYet("ModelReady");
}

grpc::Status InferenceService::ModelMetadata(grpc::ServerContext*,
                                             const inference::ModelMetadataRequest*,
                                             inference::ModelMetadataResponse*) {
  return NotServedYet("ModelMetadata");
}

grpc::Status InferenceService::ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest*,
                                          inference::ModelInferResponse*) {
  return NotServedYet("ModelInfer");
}

grpc::Status InferenceService::ModelStreamInfer(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*) {
  return NotServedYet("ModelStreamInfer");
}

grpc::Status InferenceService::ModelConfig(grpc::ServerContext*,
                                           const inference::ModelConfigRequest*,
                                           inference::ModelConfigResponse*) {
  return NotServedYet("ModelConfig");
}

grpc::Status InferenceService::ModelStatistics(grpc::ServerContext*,
                                               const inference::ModelStatisticsRequest*,
                                               inference::ModelStatisticsResponse*) {
  return NotServedYet("ModelStatistics");
}

grpc::Status InferenceService::RepositoryIndex(grpc::ServerContext*,
                                               const inference::RepositoryIndexRequest*,
                                               inference::RepositoryIndexResponse*) {
  return NotServedYet("RepositoryIndex");
}

grpc::Status InferenceService::RepositoryModelLoad(grpc::ServerContext*,
                                                   const inference::RepositoryModelLoadRequest*,
                                                   inference::RepositoryModelLoadResponse*) {
  return NotServedYet("RepositoryModelLoad");
}

grpc::Status InferenceService::RepositoryModelUnload(grpc::ServerContext*,
                                                     const inference::RepositoryModelUnloadRequest*,
                                                     inference::RepositoryModelUnloadResponse*) {
  return NotServedYet("RepositoryModelUnload");
}

grpc::Status InferenceService::SystemSharedMemoryStatus(
    grpc::ServerContext*, const inference::SystemSharedMemoryStatusRequest*,
    inference::SystemSharedMemoryStatusResponse*) {
  return NotServedYet("SystemSharedMemoryStatus");
}

grpc::Status InferenceService::SystemSharedMemoryRegister(
    grpc::ServerContext*, const inference::SystemSharedMemoryRegisterRequest*,
    inference::SystemSharedMemoryRegisterResponse*) {
  return NotServedYet("SystemSharedMemoryRegister");
}

grpc::Status InferenceService::SystemSharedMemoryUnregister(
    grpc::ServerContext*, const inference::SystemSharedMemoryUnregisterRequest*,
    inference::SystemSharedMemoryUnregisterResponse*) {
  return NotServedYet("SystemSharedMemoryUnregister");
}

grpc::Status InferenceService::CudaSharedMemoryStatus(
    grpc::ServerContext*, const inference::CudaSharedMemoryStatusRequest*,
    inference::CudaSharedMemoryStatusResponse*) {
  return NotServedYet("CudaSharedMemoryStatus");
}

grpc::Status InferenceService::CudaSharedMemoryRegister(
    grpc::ServerContext*, const inference::CudaSharedMemoryRegisterRequest*,
    inference::CudaSharedMemoryRegisterResponse*) {
  return NotServedYet("CudaSharedMemoryRegister");
}

grpc::Status InferenceService::CudaSharedMemoryUnregister(
    grpc::ServerContext*, const inference::CudaSharedMemoryUnregisterRequest*,
    inference::CudaSharedMemoryUnregisterResponse*) {
  return NotServedYet("CudaSharedMemoryUnregister");
}

grpc::Status InferenceService::TraceSetting(grpc::ServerContext*,
                                            const inference::TraceSettingRequest*,
                                            inference::TraceSettingResponse*) {
  return NotServedYet("TraceSetting");
}

grpc::Status InferenceService::LogSettings(grpc::ServerContext*,
                                           const inference::LogSettingsRequest*,
                                           inference::LogSettingsResponse*) {
  return NotServedYet("LogSettings");
}

}  // namespace uop::server

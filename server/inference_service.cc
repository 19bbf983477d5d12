#include "server/inference_service.h"

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "server/grpc_status.h"
#include "server/server_info.h"

namespace uop::server {
namespace {

grpc::Status Unsupported(absl::string_view rpc, absl::string_view why) {
  return ToGrpcStatus(
      absl::UnimplementedError(absl::StrCat(rpc, " is not supported by uopd: ", why)));
}

absl::Time DeadlineOf(const grpc::ServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

std::function<bool()> CancelCheckOf(grpc::ServerContext* context) {
  return CancelCheckAfter(absl::Now(), kCancelCheckMinAge,
                          [context] { return context->IsCancelled(); });
}

}  // namespace

std::function<bool()> CancelCheckAfter(absl::Time received, absl::Duration min_age,
                                       std::function<bool()> ask) {
  return [received, min_age, ask = std::move(ask)] {
    return absl::Now() - received >= min_age && ask();
  };
}

grpc::Status InferenceService::ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                                          inference::ServerLiveResponse* response) {
  // Answering at all is the proof of life.
  response->set_live(true);
  return ToGrpcStatus(absl::OkStatus());
}

grpc::Status InferenceService::ServerReady(grpc::ServerContext*,
                                           const inference::ServerReadyRequest*,
                                           inference::ServerReadyResponse* response) {
  // Honest readiness: not draining and every model asked for is READY.
  response->set_ready(core_->ServerReady());
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

grpc::Status InferenceService::ModelReady(grpc::ServerContext*,
                                          const inference::ModelReadyRequest* request,
                                          inference::ModelReadyResponse* response) {
  absl::StatusOr<std::shared_ptr<ModelVersion>> model =
      core_->models().Get(request->name(), request->version());
  // Unknown models are an error (Triton answers NOT_FOUND too); known but
  // loading or failed ones are simply not ready.
  if (!model.ok() && model.status().code() != absl::StatusCode::kUnavailable) {
    return ToGrpcStatus(model.status());
  }
  response->set_ready(model.ok());
  return ToGrpcStatus(absl::OkStatus());
}

grpc::Status InferenceService::ModelMetadata(grpc::ServerContext*,
                                             const inference::ModelMetadataRequest* request,
                                             inference::ModelMetadataResponse* response) {
  return ToGrpcStatus(core_->Metadata(request->name(), request->version(), response));
}

grpc::Status InferenceService::ModelInfer(grpc::ServerContext* context,
                                          const inference::ModelInferRequest* request,
                                          inference::ModelInferResponse* response) {
  return ToGrpcStatus(
      core_->Infer(*request, DeadlineOf(context), CancelCheckOf(context), response));
}

grpc::Status InferenceService::ModelStreamInfer(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*
        stream) {
  // Requests are answered in order; an error travels in the response message
  // and the stream goes on (Triton's behaviour).
  inference::ModelInferRequest request;
  while (stream->Read(&request)) {
    inference::ModelStreamInferResponse out;
    absl::Status status = core_->Infer(request, DeadlineOf(context), CancelCheckOf(context),
                                       out.mutable_infer_response());
    if (!status.ok()) {
      out.Clear();
      out.set_error_message(std::string(status.message()));
      out.mutable_infer_response()->set_model_name(request.model_name());
      out.mutable_infer_response()->set_model_version(request.model_version());
      out.mutable_infer_response()->set_id(request.id());
    }
    if (!stream->Write(out)) break;
  }
  return ToGrpcStatus(absl::OkStatus());
}

grpc::Status InferenceService::ModelConfig(grpc::ServerContext*,
                                           const inference::ModelConfigRequest* request,
                                           inference::ModelConfigResponse* response) {
  return ToGrpcStatus(core_->Config(request->name(), request->version(), response));
}

grpc::Status InferenceService::ModelStatistics(grpc::ServerContext*,
                                               const inference::ModelStatisticsRequest* request,
                                               inference::ModelStatisticsResponse* response) {
  return ToGrpcStatus(core_->Statistics(request->name(), request->version(), response));
}

grpc::Status InferenceService::RepositoryIndex(grpc::ServerContext*,
                                               const inference::RepositoryIndexRequest* request,
                                               inference::RepositoryIndexResponse* response) {
  if (!request->repository_name().empty()) {
    return ToGrpcStatus(
        absl::InvalidArgumentError("uopd serves one repository; leave repository_name empty"));
  }
  return ToGrpcStatus(core_->Index(request->ready(), response));
}

grpc::Status InferenceService::RepositoryModelLoad(
    grpc::ServerContext*, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  return ToGrpcStatus(core_->Load(*request));
}

grpc::Status InferenceService::RepositoryModelUnload(
    grpc::ServerContext*, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  return ToGrpcStatus(core_->Unload(*request));
}

grpc::Status InferenceService::SystemSharedMemoryStatus(
    grpc::ServerContext*, const inference::SystemSharedMemoryStatusRequest* request,
    inference::SystemSharedMemoryStatusResponse* response) {
  return ToGrpcStatus(core_->ShmStatus(request->name(), response));
}

grpc::Status InferenceService::SystemSharedMemoryRegister(
    grpc::ServerContext*, const inference::SystemSharedMemoryRegisterRequest* request,
    inference::SystemSharedMemoryRegisterResponse*) {
  return ToGrpcStatus(core_->shm().Register(request->name(), request->key(), request->offset(),
                                            request->byte_size()));
}

grpc::Status InferenceService::SystemSharedMemoryUnregister(
    grpc::ServerContext*, const inference::SystemSharedMemoryUnregisterRequest* request,
    inference::SystemSharedMemoryUnregisterResponse*) {
  return ToGrpcStatus(core_->shm().Unregister(request->name()));
}

grpc::Status InferenceService::CudaSharedMemoryStatus(
    grpc::ServerContext*, const inference::CudaSharedMemoryStatusRequest*,
    inference::CudaSharedMemoryStatusResponse*) {
  return Unsupported("CudaSharedMemoryStatus",
                     "uopd has no CUDA device here; use system shared memory");
}

grpc::Status InferenceService::CudaSharedMemoryRegister(
    grpc::ServerContext*, const inference::CudaSharedMemoryRegisterRequest*,
    inference::CudaSharedMemoryRegisterResponse*) {
  return Unsupported("CudaSharedMemoryRegister",
                     "uopd has no CUDA device here; use system shared memory");
}

grpc::Status InferenceService::CudaSharedMemoryUnregister(
    grpc::ServerContext*, const inference::CudaSharedMemoryUnregisterRequest*,
    inference::CudaSharedMemoryUnregisterResponse*) {
  return Unsupported("CudaSharedMemoryUnregister",
                     "uopd has no CUDA device here; use system shared memory");
}

grpc::Status InferenceService::TraceSetting(grpc::ServerContext*,
                                            const inference::TraceSettingRequest*,
                                            inference::TraceSettingResponse*) {
  return Unsupported("TraceSetting", "request tracing comes with the profiler (Perfetto export)");
}

grpc::Status InferenceService::LogSettings(grpc::ServerContext*,
                                           const inference::LogSettingsRequest*,
                                           inference::LogSettingsResponse*) {
  return Unsupported("LogSettings",
                     "uopd logs one line per event to stdout/stderr, not configurable at run time");
}

}  // namespace uop::server

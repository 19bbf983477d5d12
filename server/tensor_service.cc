#include "server/tensor_service.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "drivers/sha256.h"
#include "runtime/base/status_macros.h"
#include "server/grpc_status.h"
#include "server/model_config.h"

namespace uop::server {

TensorService::~TensorService() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [hash, program] : programs_) program->scheduler->Close();
}

int TensorService::cached_programs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(programs_.size());
}

absl::StatusOr<std::shared_ptr<ModelVersion>> TensorService::Program(
    const uop::v1::ExecuteRequest& request, bool* cached) {
  std::string hash = absl::AsciiStrToLower(request.program_sha256());
  if (!request.onnx_model().empty()) {
    if (static_cast<int64_t>(request.onnx_model().size()) > options_.max_program_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the program has ", request.onnx_model().size(),
                       " bytes, more than the limit of ", options_.max_program_bytes));
    }
    const std::string actual = Sha256::Hex(Sha256::Of(request.onnx_model()));
    if (!hash.empty() && hash != actual) {
      return absl::InvalidArgumentError(
          absl::StrCat("program_sha256 is ", hash, " but the program's bytes hash to ", actual));
    }
    hash = actual;
  } else if (hash.empty()) {
    return absl::InvalidArgumentError("give onnx_model, program_sha256 or both");
  }
  auto lookup = [&]() -> std::shared_ptr<ModelVersion> {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = programs_.begin(); it != programs_.end(); ++it) {
      if (it->first != hash) continue;
      programs_.splice(programs_.begin(), programs_, it);  // most recently used
      return it->second;
    }
    return nullptr;
  };
  if (auto found = lookup()) {
    *cached = true;
    return found;
  }
  if (request.onnx_model().empty()) {
    return absl::NotFoundError(
        absl::StrCat("uopd holds no program ", hash, "; send its onnx_model bytes"));
  }
  std::lock_guard<std::mutex> build(build_mu_);
  if (auto found = lookup()) {  // another request built it meanwhile
    *cached = true;
    return found;
  }
  *cached = false;
  inference::ModelConfig config;
  config.set_backend("onnxruntime");
  ASSIGN_OR_RETURN(const BackendLoader* loader, backends_->Find(config));
  ModelFiles files;
  files.bytes = request.onnx_model();
  files.max_bytes = options_.max_program_bytes;
  ASSIGN_OR_RETURN(std::unique_ptr<ModelBackend> backend, (*loader)(files, config));
  const std::string name = absl::StrCat("program ", hash.substr(0, 12));
  config.set_name(name);
  RETURN_IF_ERROR(CompleteConfig(*backend, name, &config));
  auto program = std::make_shared<ModelVersion>();
  program->name = name;
  program->version = 1;
  program->version_string = "1";
  program->config = config;
  program->stats = std::make_unique<ModelStats>(name, "1", nullptr);
  SchedulerOptions so;
  so.model_name = name;
  so.max_queue_size = 1024;
  so.max_queue_bytes = limits_.max_request_bytes;
  std::vector<std::unique_ptr<ModelBackend>> instances;
  instances.push_back(std::move(backend));
  program->scheduler =
      std::make_unique<Scheduler>(std::move(so), std::move(instances), program->stats.get());
  std::shared_ptr<ModelVersion> evicted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    programs_.emplace_front(hash, program);
    if (static_cast<int>(programs_.size()) > options_.max_programs) {
      evicted = std::move(programs_.back().second);
      programs_.pop_back();
    }
  }
  if (evicted) evicted->scheduler->Close();  // waits for its in-flight runs
  return program;
}

absl::Status TensorService::Run(const uop::v1::ExecuteRequest& request, absl::Time deadline,
                                uop::v1::ExecuteResponse* response) {
  bool cached = false;
  ASSIGN_OR_RETURN(std::shared_ptr<ModelVersion> program, Program(request, &cached));
  inference::ModelInferRequest infer;
  infer.set_model_name(program->name);
  *infer.mutable_inputs() = request.inputs();
  *infer.mutable_raw_input_contents() = request.raw_input_contents();
  *infer.mutable_outputs() = request.outputs();
  PreparedInfer prepared;
  prepared.job.deadline = deadline;
  RETURN_IF_ERROR(PrepareInfer(*program, infer, *shm_, limits_, &prepared));
  RETURN_IF_ERROR(program->scheduler->Infer(&prepared.job));
  inference::ModelInferResponse out;
  RETURN_IF_ERROR(FillResponse(*program, prepared, &out));
  response->set_program_sha256(Sha256::Hex(Sha256::Of(request.onnx_model())));
  if (request.onnx_model().empty()) {
    response->set_program_sha256(absl::AsciiStrToLower(request.program_sha256()));
  }
  response->set_cached(cached);
  response->mutable_outputs()->Swap(out.mutable_outputs());
  response->mutable_raw_output_contents()->Swap(out.mutable_raw_output_contents());
  return absl::OkStatus();
}

grpc::Status TensorService::Execute(grpc::ServerContext* context,
                                    const uop::v1::ExecuteRequest* request,
                                    uop::v1::ExecuteResponse* response) {
  const auto d = context->deadline();
  const absl::Time deadline = d == std::chrono::system_clock::time_point::max()
                                  ? absl::InfiniteFuture()
                                  : absl::FromChrono(d);
  return ToGrpcStatus(Run(*request, deadline, response));
}

}  // namespace uop::server

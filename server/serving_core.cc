#include "server/serving_core.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/base/status_macros.h"
#include "server/data_type.h"

namespace uop::server {
namespace {

void AddTensorMetadata(const inference::ModelConfig& config, const std::string& name,
                       inference::DataType type,
                       const google::protobuf::RepeatedField<int64_t>& dims,
                       inference::ModelMetadataResponse::TensorMetadata* t) {
  t->set_name(name);
  t->set_datatype(std::string(WireName(type)));
  if (config.max_batch_size() > 0) t->add_shape(-1);
  for (int64_t d : dims) t->add_shape(d);
}

}  // namespace

absl::Status ServingCore::Infer(const inference::ModelInferRequest& request, absl::Time deadline,
                                std::function<bool()> is_cancelled,
                                inference::ModelInferResponse* response) {
  const int64_t start_ns = absl::GetCurrentTimeNanos();
  if (!accepting_.load(std::memory_order_relaxed)) {
    return absl::UnavailableError("uopd is shutting down and takes no new requests");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<ModelVersion> model,
                   models_->Get(request.model_name(), request.model_version()));
  PreparedInfer prepared;
  prepared.job.deadline = deadline;
  absl::Status status = PrepareInfer(*model, request, *shm_, limits_, &prepared);
  if (status.ok()) {
    prepared.job.is_cancelled = std::move(is_cancelled);
    status = model->scheduler->Infer(&prepared.job);
  }
  if (status.ok()) status = FillResponse(*model, prepared, response);
  model->stats->RecordRequest(prepared.job, status, absl::GetCurrentTimeNanos() - start_ns);
  return status;
}

absl::Status ServingCore::Metadata(const std::string& name, const std::string& version,
                                   inference::ModelMetadataResponse* response) const {
  ASSIGN_OR_RETURN(std::shared_ptr<ModelVersion> model, models_->Get(name, version));
  const inference::ModelConfig& config = model->config;
  response->set_name(model->name);
  for (const auto& v : models_->Ready(name)) response->add_versions(v->version_string);
  response->set_platform(!config.platform().empty() ? config.platform() : "onnxruntime_onnx");
  for (const auto& in : config.input()) {
    AddTensorMetadata(config, in.name(), in.data_type(), in.dims(), response->add_inputs());
  }
  for (const auto& out : config.output()) {
    AddTensorMetadata(config, out.name(), out.data_type(), out.dims(), response->add_outputs());
  }
  return absl::OkStatus();
}

absl::Status ServingCore::Config(const std::string& name, const std::string& version,
                                 inference::ModelConfigResponse* response) const {
  ASSIGN_OR_RETURN(std::shared_ptr<ModelVersion> model, models_->Get(name, version));
  *response->mutable_config() = model->config;
  return absl::OkStatus();
}

absl::Status ServingCore::Statistics(const std::string& name, const std::string& version,
                                     inference::ModelStatisticsResponse* response) const {
  if (!name.empty() && !version.empty()) {
    ASSIGN_OR_RETURN(std::shared_ptr<ModelVersion> model, models_->Get(name, version));
    model->stats->Fill(response->add_model_stats());
    return absl::OkStatus();
  }
  if (!name.empty()) RETURN_IF_ERROR(models_->Get(name, "").status());
  for (const auto& model : models_->Ready(name)) model->stats->Fill(response->add_model_stats());
  return absl::OkStatus();
}

absl::Status ServingCore::Index(bool ready_only,
                                inference::RepositoryIndexResponse* response) const {
  ASSIGN_OR_RETURN(std::vector<ModelIndexEntry> entries, models_->Index(ready_only));
  for (const ModelIndexEntry& e : entries) {
    auto* m = response->add_models();
    m->set_name(e.name);
    m->set_version(e.version);
    m->set_state(e.state);
    m->set_reason(e.reason);
  }
  return absl::OkStatus();
}

absl::Status ServingCore::Load(const inference::RepositoryModelLoadRequest& request) {
  if (!request.repository_name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("uopd serves one repository; leave repository_name empty (got '",
                     request.repository_name(), "')"));
  }
  std::string config;
  std::map<std::string, std::string> files;
  for (const auto& [key, param] : request.parameters()) {
    if (key == "config") {
      if (param.parameter_choice_case() != inference::ModelRepositoryParameter::kStringParam) {
        return absl::InvalidArgumentError("parameter 'config' must be a string (the JSON config)");
      }
      config = param.string_param();
    } else if (key.rfind("file:", 0) == 0) {
      if (param.parameter_choice_case() != inference::ModelRepositoryParameter::kBytesParam) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter '", key, "' must be bytes (the file's content)"));
      }
      files[key.substr(5)] = param.bytes_param();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown load parameter '", key,
                                                     "' (uopd takes 'config' and 'file:<path>')"));
    }
  }
  return models_->Load(request.model_name(), config, files);
}

absl::Status ServingCore::Unload(const inference::RepositoryModelUnloadRequest& request) {
  if (!request.repository_name().empty()) {
    return absl::InvalidArgumentError("uopd serves one repository; leave repository_name empty");
  }
  return models_->Unload(request.model_name());
}

absl::Status ServingCore::ShmStatus(const std::string& name,
                                    inference::SystemSharedMemoryStatusResponse* response) const {
  ASSIGN_OR_RETURN(std::vector<ShmRegionStatus> regions, shm_->Status(name));
  for (const ShmRegionStatus& r : regions) {
    auto& s = (*response->mutable_regions())[r.name];
    s.set_name(r.name);
    s.set_key(r.key);
    s.set_offset(r.offset);
    s.set_byte_size(r.byte_size);
  }
  return absl::OkStatus();
}

bool ServingCore::ServerReady() const {
  return accepting_.load(std::memory_order_relaxed) && !draining_.load(std::memory_order_relaxed) &&
         models_->AllReady();
}

}  // namespace uop::server

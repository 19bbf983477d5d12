#include "server/model_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "server/config_file.h"
#include "server/data_type.h"

namespace uop::server {
namespace {

class CollectErrors final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

std::string Dims(const google::protobuf::RepeatedField<int64_t>& dims) {
  return ShapeString(std::vector<int64_t>(dims.begin(), dims.end()));
}

// Merges model dims into config dims: a fixed value wins over -1; two
// different fixed values are an error. `model` is the model's dims without
// the batch dimension; {-1} stands for "rank unknown".
absl::Status MergeDims(const std::vector<int64_t>& model, const std::string& what,
                       google::protobuf::RepeatedField<int64_t>* dims) {
  if (model.size() == 1 && model[0] == -1 && dims->size() != 1) return absl::OkStatus();
  if (static_cast<size_t>(dims->size()) != model.size()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has dims ", Dims(*dims),
                                                   " in the config but ", ShapeString(model),
                                                   " in the model (rank differs)"));
  }
  for (int i = 0; i < dims->size(); ++i) {
    int64_t& c = *dims->Mutable(i);
    if (c < -1) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has a bad dim ", c));
    }
    if (model[i] == -1) continue;
    if (c == -1) {
      c = model[i];
    } else if (c != model[i]) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has dims ", Dims(*dims),
                                                     " in the config but ", ShapeString(model),
                                                     " in the model"));
    }
  }
  return absl::OkStatus();
}

// The model's dims as the config states them: without the batch dimension
// when the config batches.
absl::StatusOr<std::vector<int64_t>> UnbatchedDims(const TensorSpec& spec, int max_batch_size,
                                                   const std::string& what) {
  if (max_batch_size == 0) return spec.dims;
  if (spec.dims.size() == 1 && spec.dims[0] == -1) return spec.dims;  // rank unknown
  if (spec.dims.empty() || spec.dims[0] != -1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has dims ", ShapeString(spec.dims),
                     " in the model, which has no batch dimension ", "for max_batch_size ",
                     max_batch_size, " (dim 0 must be variable; or set max_batch_size: 0)"));
  }
  return std::vector<int64_t>(spec.dims.begin() + 1, spec.dims.end());
}

template <typename ConfigTensor>
absl::Status CompleteTensors(const std::vector<TensorSpec>& specs, const char* kind,
                             const std::string& model, int max_batch_size,
                             google::protobuf::RepeatedPtrField<ConfigTensor>* tensors,
                             bool require_all) {
  if (tensors->empty()) {
    for (const TensorSpec& spec : specs) {
      ConfigTensor* t = tensors->Add();
      t->set_name(spec.name);
      t->set_data_type(spec.dtype);
      ASSIGN_OR_RETURN(
          std::vector<int64_t> dims,
          UnbatchedDims(spec, max_batch_size,
                        absl::StrCat("model '", model, "' ", kind, " '", spec.name, "'")));
      for (int64_t d : dims) t->add_dims(d);
    }
    return absl::OkStatus();
  }
  std::set<std::string> seen;
  for (ConfigTensor& t : *tensors) {
    const std::string what = absl::StrCat("model '", model, "' ", kind, " '", t.name(), "'");
    if (!seen.insert(t.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(what, " is configured twice"));
    }
    auto it = std::find_if(specs.begin(), specs.end(),
                           [&](const TensorSpec& s) { return s.name == t.name(); });
    if (it == specs.end()) {
      std::vector<std::string> names;
      for (const TensorSpec& s : specs) names.push_back(s.name);
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is not in the model (it has ", absl::StrJoin(names, ", "), ")"));
    }
    if (t.data_type() == inference::TYPE_INVALID) t.set_data_type(it->dtype);
    if (t.data_type() != it->dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is ", inference::DataType_Name(t.data_type()), " in the config but ",
                       inference::DataType_Name(it->dtype), " in the model"));
    }
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, UnbatchedDims(*it, max_batch_size, what));
    RETURN_IF_ERROR(MergeDims(dims, what, t.mutable_dims()));
  }
  if (require_all) {
    for (const TensorSpec& spec : specs) {
      if (!seen.count(spec.name)) {
        return absl::InvalidArgumentError(absl::StrCat("model '", model, "' needs ", kind, " '",
                                                       spec.name, "', which the config omits"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<inference::ModelConfig> ParseModelConfigText(absl::string_view text,
                                                            absl::string_view origin) {
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  inference::ModelConfig config;
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ":", errors.first()));
  }
  return config;
}

absl::StatusOr<inference::ModelConfig> ReadConfigFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseModelConfigText(text, path);
}

absl::StatusOr<inference::ModelConfig> ParseConfigJson(absl::string_view json) {
  inference::ModelConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &config, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the 'config' parameter is not a valid model config in JSON: ",
                     std::string(status.message())));
  }
  return config;
}

absl::Status ValidateConfig(const inference::ModelConfig& config, const std::string& model) {
  const std::string what = absl::StrCat("model '", model, "': ");
  if (!config.name().empty() && config.name() != model) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, "the config names the model '", config.name(), "', its folder is '", model, "'"));
  }
  if (config.max_batch_size() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, "max_batch_size is negative"));
  }
  if (config.has_sequence_batching() || config.has_ensemble_scheduling()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "sequence batching and ensembles are not supported by uopd"));
  }
  if (config.has_dynamic_batching()) {
    if (config.max_batch_size() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "dynamic_batching needs max_batch_size > 0"));
    }
    for (int size : config.dynamic_batching().preferred_batch_size()) {
      if (size < 1 || size > config.max_batch_size()) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, "preferred_batch_size ", size,
                         " is not in [1, max_batch_size=", config.max_batch_size(), "]"));
      }
    }
  }
  for (const auto& group : config.instance_group()) {
    for (int gpu : group.gpus()) {
      if (gpu < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, "instance_group names GPU ", gpu, "; GPU ids are 0 or more"));
      }
    }
    if (group.count() < 0 || group.count() > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "instance_group count ", group.count(), " is not in [0, 64]"));
    }
  }
  for (const auto& input : config.input()) {
    for (int64_t d : input.dims()) {
      if (d < -1) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, "input '", input.name(), "' has a bad dim ", d));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CompleteConfig(const ModelBackend& backend, const std::string& model,
                            inference::ModelConfig* config) {
  RETURN_IF_ERROR(ValidateConfig(*config, model));
  config->set_name(model);
  if (config->default_model_filename().empty()) config->set_default_model_filename("model.onnx");
  const int mbs = config->max_batch_size();
  RETURN_IF_ERROR(CompleteTensors(backend.inputs(), "input", model, mbs, config->mutable_input(),
                                  /*require_all=*/true));
  RETURN_IF_ERROR(CompleteTensors(backend.outputs(), "output", model, mbs, config->mutable_output(),
                                  /*require_all=*/false));
  if (config->instance_group().empty()) {
    auto* group = config->add_instance_group();
    group->set_kind(inference::ModelInstanceGroup::KIND_CPU);
    group->set_count(1);
  }
  for (auto& group : *config->mutable_instance_group()) {
    if (group.name().empty()) group.set_name(model);
    if (group.kind() == inference::ModelInstanceGroup::KIND_AUTO) {
      group.set_kind(inference::ModelInstanceGroup::KIND_CPU);
    }
    if (group.count() == 0) group.set_count(1);
  }
  return absl::OkStatus();
}

std::vector<int> BatchBuckets(const inference::ModelConfig& config) {
  const int max = config.max_batch_size();
  if (max <= 0) return {0};
  std::set<int> sizes;
  for (int s = 1; s < max; s *= 2) sizes.insert(s);
  sizes.insert(max);
  if (config.has_dynamic_batching()) {
    for (int s : config.dynamic_batching().preferred_batch_size()) sizes.insert(s);
  }
  return std::vector<int>(sizes.begin(), sizes.end());
}

std::vector<int64_t> SelectVersions(const inference::ModelVersionPolicy& policy,
                                    const std::vector<int64_t>& available) {
  std::vector<int64_t> out;
  switch (policy.policy_choice_case()) {
    case inference::ModelVersionPolicy::kAll:
      return available;
    case inference::ModelVersionPolicy::kSpecific:
      for (int64_t v : available) {
        const auto& wanted = policy.specific().versions();
        if (std::find(wanted.begin(), wanted.end(), v) != wanted.end()) out.push_back(v);
      }
      return out;
    case inference::ModelVersionPolicy::kLatest:
    case inference::ModelVersionPolicy::POLICY_CHOICE_NOT_SET: {
      size_t n = policy.has_latest() ? std::max<uint32_t>(policy.latest().num_versions(), 1) : 1;
      size_t start = available.size() > n ? available.size() - n : 0;
      return std::vector<int64_t>(available.begin() + start, available.end());
    }
  }
  return out;
}

}  // namespace uop::server

#include "server/infer_codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "runtime/base/status_macros.h"
#include "server/data_type.h"

namespace uop::server {
namespace {

using Params = google::protobuf::Map<std::string, inference::InferParameter>;

// The dims a request must match, with -1 for the batch dimension.
std::vector<int64_t> ExpectedShape(const inference::ModelConfig& config,
                                   const inference::ModelInput& in) {
  std::vector<int64_t> shape;
  if (config.max_batch_size() > 0) shape.push_back(-1);
  shape.insert(shape.end(), in.dims().begin(), in.dims().end());
  return shape;
}

bool ShapeMatches(const std::vector<int64_t>& want, const std::vector<int64_t>& given) {
  if (want.size() != given.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != -1 && want[i] != given[i]) return false;
  }
  return true;
}

absl::StatusOr<int64_t> IntParam(const Params& params, const std::string& key,
                                 const std::string& where) {
  auto it = params.find(key);
  if (it == params.end()) return -1;
  const auto& p = it->second;
  switch (p.parameter_choice_case()) {
    case inference::InferParameter::kInt64Param:
      if (p.int64_param() < 0) break;
      return p.int64_param();
    case inference::InferParameter::kUint64Param:
      if (p.uint64_param() > static_cast<uint64_t>(INT64_MAX)) break;
      return static_cast<int64_t>(p.uint64_param());
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, "parameter '", key, "' must be a non-negative integer"));
}

// Typed contents -> little-endian bytes of `type`. The element count must
// equal `count`.
absl::Status Pack(const inference::InferTensorContents& c, inference::DataType type, int64_t count,
                  const std::string& name, std::string* out) {
  auto wrong = [&](int64_t given) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name, "': contents hold ", given,
                                                   " elements, shape needs ", count));
  };
  auto copy = [&](const auto& field, auto tag) -> absl::Status {
    using T = decltype(tag);
    if (field.size() != count) return wrong(field.size());
    out->resize(static_cast<size_t>(count) * sizeof(T));
    char* dst = out->data();
    for (const auto& v : field) {
      T x = static_cast<T>(v);
      std::memcpy(dst, &x, sizeof(T));
      dst += sizeof(T);
    }
    return absl::OkStatus();
  };
  switch (type) {
    case inference::TYPE_BOOL:
      return copy(c.bool_contents(), uint8_t{});
    case inference::TYPE_INT8:
      return copy(c.int_contents(), int8_t{});
    case inference::TYPE_INT16:
      return copy(c.int_contents(), int16_t{});
    case inference::TYPE_INT32:
      return copy(c.int_contents(), int32_t{});
    case inference::TYPE_INT64:
      return copy(c.int64_contents(), int64_t{});
    case inference::TYPE_UINT8:
      return copy(c.uint_contents(), uint8_t{});
    case inference::TYPE_UINT16:
      return copy(c.uint_contents(), uint16_t{});
    case inference::TYPE_UINT32:
      return copy(c.uint_contents(), uint32_t{});
    case inference::TYPE_UINT64:
      return copy(c.uint64_contents(), uint64_t{});
    case inference::TYPE_FP32:
      return copy(c.fp32_contents(), float{});
    case inference::TYPE_FP64:
      return copy(c.fp64_contents(), double{});
    case inference::TYPE_STRING: {
      if (c.bytes_contents_size() != count) return wrong(c.bytes_contents_size());
      out->clear();
      for (const std::string& s : c.bytes_contents()) {
        if (s.size() > UINT32_MAX) return absl::InvalidArgumentError("a BYTES element is too long");
        uint32_t len = static_cast<uint32_t>(s.size());
        out->append(reinterpret_cast<const char*>(&len), 4);
        out->append(s);
      }
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "': ", WireName(type),
                                                     " has no typed contents; send it in ",
                                                     "raw_input_contents"));
  }
}

// Checks the length-prefixed BYTES encoding holds exactly `count` elements.
absl::Status CheckBytes(absl::string_view data, int64_t count, const std::string& name) {
  size_t pos = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (data.size() - pos < 4)
      return absl::InvalidArgumentError(
          absl::StrCat("input '", name, "': BYTES data ends inside element ", i, " of ", count));
    std::memcpy(&len, data.data() + pos, 4);
    pos += 4;
    if (data.size() - pos < len)
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "': BYTES element ", i,
                                                     " claims ", len, " bytes past the end"));
    pos += len;
  }
  if (pos != data.size()) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name, "': BYTES data has ",
                                                   data.size() - pos, " bytes after ", count,
                                                   " elements"));
  }
  return absl::OkStatus();
}

struct ShmParams {
  std::string region;
  int64_t offset = 0;
  int64_t byte_size = -1;
  bool present = false;
};

absl::StatusOr<ShmParams> ReadShmParams(const Params& params, const std::string& where) {
  ShmParams p;
  auto it = params.find("shared_memory_region");
  if (it == params.end()) {
    if (params.count("shared_memory_offset") || params.count("shared_memory_byte_size")) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "shared_memory_offset/byte_size given without shared_memory_region"));
    }
    return p;
  }
  if (it->second.parameter_choice_case() != inference::InferParameter::kStringParam) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "shared_memory_region must be a string parameter"));
  }
  p.present = true;
  p.region = it->second.string_param();
  ASSIGN_OR_RETURN(int64_t offset, IntParam(params, "shared_memory_offset", where));
  p.offset = offset < 0 ? 0 : offset;
  ASSIGN_OR_RETURN(p.byte_size, IntParam(params, "shared_memory_byte_size", where));
  if (p.byte_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "shared_memory_byte_size is required with shared_memory_region"));
  }
  return p;
}

template <typename T>
absl::StatusOr<T> Prefixed(absl::StatusOr<T> v, const std::string& prefix) {
  if (v.ok()) return v;
  return absl::Status(v.status().code(), absl::StrCat(prefix, v.status().message()));
}

}  // namespace

absl::Status PrepareInfer(const ModelVersion& model, const inference::ModelInferRequest& request,
                          const ShmRegistry& shm, const InferLimits& limits, PreparedInfer* out) {
  const inference::ModelConfig& config = model.config;
  const std::string& m = model.name;
  out->id = request.id();
  InferJob& job = out->job;

  // Request parameters: priority, timeout (microseconds, as in Triton).
  ASSIGN_OR_RETURN(int64_t priority, IntParam(request.parameters(), "priority", ""));
  if (priority > 0) job.priority = static_cast<uint32_t>(std::min<int64_t>(priority, UINT32_MAX));
  ASSIGN_OR_RETURN(int64_t timeout_us, IntParam(request.parameters(), "timeout", ""));
  if (timeout_us > 0) {
    job.deadline = std::min(job.deadline, absl::Now() + absl::Microseconds(timeout_us));
  }

  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw_input_contents has ", request.raw_input_contents_size(), " entries for ",
                     request.inputs_size(), " inputs; give one per input, in the order of inputs"));
  }

  // Config input index -> request input index, and the staged tensors. Views
  // into `packed` stay valid: it never reallocates (one slot per input).
  std::vector<int> by_config(config.input_size(), -1);
  std::vector<InputTensor> staged(config.input_size());
  out->packed.reserve(request.inputs_size());
  int64_t batch = -1;
  int64_t total_bytes = 0;
  for (int r = 0; r < request.inputs_size(); ++r) {
    const auto& in = request.inputs(r);
    int c = 0;
    while (c < config.input_size() && config.input(c).name() != in.name()) ++c;
    if (c == config.input_size()) {
      std::vector<std::string> names;
      for (const auto& ci : config.input()) names.push_back(ci.name());
      return absl::InvalidArgumentError(absl::StrCat("unexpected input '", in.name(),
                                                     "' for model '", m, "' (it takes ",
                                                     absl::StrJoin(names, ", "), ")"));
    }
    if (by_config[c] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", in.name(), "' is given more than once"));
    }
    by_config[c] = r;
    const auto& ci = config.input(c);
    absl::StatusOr<inference::DataType> type = DataTypeFromWire(in.datatype());
    if (!type.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", in.name(), "': ", type.status().message()));
    }
    if (*type != ci.data_type()) {
      return absl::InvalidArgumentError(absl::StrCat("input '", in.name(), "': datatype ",
                                                     in.datatype(), " given, model '", m,
                                                     "' expects ", WireName(ci.data_type())));
    }
    std::vector<int64_t> shape(in.shape().begin(), in.shape().end());
    const std::vector<int64_t> want = ExpectedShape(config, ci);
    if (!ShapeMatches(want, shape)) {
      return absl::InvalidArgumentError(absl::StrCat("input '", in.name(), "': shape ",
                                                     ShapeString(shape), " given, model '", m,
                                                     "' expects ", ShapeString(want)));
    }
    ASSIGN_OR_RETURN(int64_t count,
                     Prefixed(ElementCount(shape), absl::StrCat("input '", in.name(), "': ")));
    if (config.max_batch_size() > 0) {
      if (shape[0] < 1 || shape[0] > config.max_batch_size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", in.name(), "': batch size ", shape[0],
            " is not in [1, max_batch_size=", config.max_batch_size(), "] of model '", m, "'"));
      }
      if (batch >= 0 && shape[0] != batch) {
        return absl::InvalidArgumentError(absl::StrCat("input '", in.name(), "': batch size ",
                                                       shape[0], " differs from the other ",
                                                       "inputs' ", batch));
      }
      batch = shape[0];
    }
    const int item = ElementSize(*type);
    const int64_t want_bytes = item > 0 ? count * item : -1;  // BYTES: variable
    if (want_bytes > limits.max_request_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "input '", in.name(), "': shape ", ShapeString(shape), " of ", in.datatype(), " is ",
          want_bytes, " bytes, more than the limit of ", limits.max_request_bytes));
    }

    InputTensor t;
    t.name = in.name();
    t.dtype = *type;
    t.shape = std::move(shape);
    ASSIGN_OR_RETURN(ShmParams sp,
                     ReadShmParams(in.parameters(), absl::StrCat("input '", in.name(), "': ")));
    const bool typed = in.has_contents() && in.contents().ByteSizeLong() > 0;
    // With raw contents, an input read from shared memory has an empty entry.
    const bool has_raw = raw && !(sp.present && request.raw_input_contents(r).empty());
    if (sp.present + has_raw + typed > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", in.name(), "': data given more than once (shared memory, raw contents and ",
          "typed contents are exclusive)"));
    }
    if (sp.present) {
      ASSIGN_OR_RETURN(ShmView view, Prefixed(shm.View(sp.region, static_cast<uint64_t>(sp.offset),
                                                       static_cast<uint64_t>(sp.byte_size)),
                                              absl::StrCat("input '", in.name(), "': ")));
      t.data = absl::string_view(view.data, view.size);
      out->shm_inputs.push_back(std::move(view));
    } else if (has_raw) {
      t.data = request.raw_input_contents(r);
    } else if (typed) {
      std::string& packed = out->packed.emplace_back();
      RETURN_IF_ERROR(Pack(in.contents(), *type, count, in.name(), &packed));
      t.data = packed;
    } else if (count > 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", in.name(),
                                                     "' has no data (no contents, raw contents ",
                                                     "or shared memory region)"));
    }
    if (want_bytes >= 0 && static_cast<int64_t>(t.data.size()) != want_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", in.name(), "': ", sp.present ? "shared memory holds " : "data holds ",
          t.data.size(), " bytes, shape ", ShapeString(t.shape), " of ", in.datatype(), " needs ",
          want_bytes));
    }
    if (want_bytes < 0) RETURN_IF_ERROR(CheckBytes(t.data, count, in.name()));
    total_bytes += static_cast<int64_t>(t.data.size());
    staged[c] = std::move(t);
    if (total_bytes > limits.max_request_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the request's inputs exceed ", limits.max_request_bytes, " bytes"));
    }
  }

  for (int c = 0; c < config.input_size(); ++c) {
    if (by_config[c] < 0 && !config.input(c).optional()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model '", m, "' needs input '", config.input(c).name(), "', which the request lacks"));
    }
  }
  job.batch = config.max_batch_size() > 0 ? std::max<int64_t>(batch, 1) : 0;

  // Outputs.
  auto find_output = [&](const std::string& name) {
    for (int i = 0; i < config.output_size(); ++i) {
      if (config.output(i).name() == name) return i;
    }
    return -1;
  };
  if (request.outputs_size() == 0) {
    for (int i = 0; i < config.output_size(); ++i) {
      out->outputs.push_back({config.output(i).name(), i, {}, false, true});
    }
  }
  for (const auto& ro : request.outputs()) {
    const int index = find_output(ro.name());
    if (index < 0) {
      std::vector<std::string> names;
      for (const auto& co : config.output()) names.push_back(co.name());
      return absl::InvalidArgumentError(absl::StrCat("unknown output '", ro.name(),
                                                     "' requested from model '", m, "' (it has ",
                                                     absl::StrJoin(names, ", "), ")"));
    }
    for (const auto& o : out->outputs) {
      if (o.name == ro.name()) {
        return absl::InvalidArgumentError(
            absl::StrCat("output '", ro.name(), "' is requested more than once"));
      }
    }
    PreparedInfer::Output o{ro.name(), index, {}, false, true};
    ASSIGN_OR_RETURN(ShmParams sp,
                     ReadShmParams(ro.parameters(), absl::StrCat("output '", ro.name(), "': ")));
    if (sp.present) {
      ASSIGN_OR_RETURN(o.shm, Prefixed(shm.View(sp.region, static_cast<uint64_t>(sp.offset),
                                                static_cast<uint64_t>(sp.byte_size)),
                                       absl::StrCat("output '", ro.name(), "': ")));
      o.to_shm = true;
    }
    auto bin = ro.parameters().find("binary_data");
    if (bin != ro.parameters().end() &&
        bin->second.parameter_choice_case() == inference::InferParameter::kBoolParam) {
      o.binary = bin->second.bool_param();
    }
    out->outputs.push_back(std::move(o));
  }

  // Outputs to shared memory are written there by the backend (or by the
  // batch split) rather than copied from the response afterwards.
  job.output_destinations.clear();
  for (const PreparedInfer::Output& o : out->outputs) {
    if (o.to_shm)
      job.output_destinations.push_back({o.name, absl::MakeSpan(o.shm.data, o.shm.size)});
  }

  // The backend takes the inputs in config order.
  job.inputs.clear();
  job.inputs.reserve(config.input_size());
  for (int c = 0; c < config.input_size(); ++c) {
    if (by_config[c] >= 0) job.inputs.push_back(std::move(staged[c]));
  }
  return absl::OkStatus();
}

absl::Status FillResponse(const ModelVersion& model, PreparedInfer& prepared,
                          inference::ModelInferResponse* response) {
  response->set_model_name(model.name);
  response->set_model_version(model.version_string);
  response->set_id(prepared.id);
  std::vector<OutputTensor>& results = prepared.job.outputs;
  for (PreparedInfer::Output& o : prepared.outputs) {
    OutputTensor* r = nullptr;
    for (OutputTensor& candidate : results) {
      if (candidate.name == o.name) r = &candidate;
    }
    if (r == nullptr) {
      return absl::InternalError(
          absl::StrCat("model '", model.name, "' produced no output '", o.name, "'"));
    }
    auto* t = response->add_outputs();
    t->set_name(o.name);
    t->set_datatype(std::string(WireName(r->dtype)));
    for (int64_t d : r->shape) t->add_shape(d);
    if (o.to_shm) {
      int64_t written = r->in_destination;
      if (written < 0) {  // the backend returned it in `data`: copy it there
        if (r->data.size() > o.shm.size) {
          return absl::InvalidArgumentError(absl::StrCat("output '", o.name, "': ", r->data.size(),
                                                         " bytes do not fit its shared memory (",
                                                         o.shm.size, " bytes)"));
        }
        std::memcpy(o.shm.data, r->data.data(), r->data.size());
        written = static_cast<int64_t>(r->data.size());
      }
      (*t->mutable_parameters())["shared_memory_region"].set_string_param(o.shm.region->name);
      (*t->mutable_parameters())["shared_memory_byte_size"].set_int64_param(written);
      response->add_raw_output_contents();
    } else {
      response->add_raw_output_contents(std::move(r->data));
    }
  }
  return absl::OkStatus();
}

}  // namespace uop::server

#include "runtime/onnx/onnx_model.h"

#include <mutex>
#include <shared_mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "drivers/buffer.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"
#include "runtime/engine/engine.h"
#include "runtime/onnx/evaluator.h"
#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/tensor_proto.h"

namespace uop::onnx_import {
namespace {

// A recording must not see another thread's launches: builds take this
// exclusively. Replays only launch what was recorded, so they share it and
// models on different devices replay at the same time.
std::shared_mutex& RecordMutex() {
  static auto* mu = new std::shared_mutex();
  return *mu;
}

constexpr size_t kMaxPlans = 16;

class PlanRecorder : public Recorder {
 public:
  void OnLaunch(const RecordedLaunch& launch) override { launches.push_back(launch); }
  void OnHostRead(const Storage&) override { host_read = true; }
  void KeepAlive(std::shared_ptr<void> resource) override { keep.push_back(std::move(resource)); }

  std::vector<RecordedLaunch> launches;
  std::vector<std::shared_ptr<void>> keep;
  bool host_read = false;
};

// The BUFFER a whole-buffer view (BUFFER or RESHAPE(BUFFER)) reads, or null.
const UOp* WholeBuffer(const Tensor& t) {
  const UOp* u = t.uop().get();
  if (u->op() == Op::kReshape) u = u->src(0).get();
  if (u->op() != Op::kBuffer) return nullptr;
  if (u->arg().get<BufferArg>().size != t.numel()) return nullptr;
  return u;
}

absl::StatusOr<HostValue> ToHost(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kTensor: {
      HostTensor h;
      h.dtype = v.tensor().dtype();
      h.shape = v.tensor().shape();
      if (v.host()) {
        h.bytes = v.host()->bytes;
      } else if (v.tensor().numel() == 0) {
        // nothing to read
      } else {
        ASSIGN_OR_RETURN(h.bytes, v.tensor().ToBytes());
      }
      return HostValue::Tensor(std::move(h));
    }
    case Value::Kind::kStrings:
      return HostValue::Tensor(*v.host());
    case Value::Kind::kSequence: {
      std::vector<HostValue> items;
      for (const Value& item : v.items()) {
        ASSIGN_OR_RETURN(HostValue h, ToHost(item));
        items.push_back(std::move(h));
      }
      return HostValue::Sequence(std::move(items));
    }
    case Value::Kind::kNone:
      return HostValue::None();
    case Value::Kind::kAbsent:
      break;
  }
  return absl::InternalError("an output has no value");
}

Value FromHost(const HostValue& h) {
  switch (h.kind()) {
    case HostValue::Kind::kTensor:
      if (h.tensor().is_string)
        return Value::Strings(std::make_shared<const HostTensor>(h.tensor()), false);
      return Value::FromTensor(TensorFromHost(h.tensor()), false);
    case HostValue::Kind::kSequence: {
      std::vector<Value> items;
      for (const HostValue& item : h.sequence()) items.push_back(FromHost(item));
      return Value::Sequence(std::move(items), false);
    }
    case HostValue::Kind::kNone:
      return Value::None();
  }
  return Value();
}

std::string DescribeDeclared(const ValueType& t) {
  std::string dims;
  if (t.has_shape) {
    std::vector<std::string> parts;
    for (const Dim& d : t.dims)
      parts.push_back(d.value >= 0 ? absl::StrCat(d.value) : (d.param.empty() ? "?" : d.param));
    dims = absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
  }
  return absl::StrCat(t.elem_type ? OnnxTypeName(t.elem_type) : "any", dims);
}

}  // namespace

struct OnnxModel::Plan {
  std::string shape_key;
  std::vector<int> guard_inputs;
  std::vector<std::vector<uint8_t>> guard_bytes;
  std::vector<RecordedLaunch> launches;
  std::vector<std::shared_ptr<void>> keep;
  // Every storage a launch reads or writes (weights, folded constants),
  // kept alive as long as the plan.
  std::vector<std::shared_ptr<Storage>> bound_storages;
  std::vector<std::shared_ptr<Storage>> input_storages;  // per input (null: unused by kernels)
  struct Output {
    int from_input = -1;  // an input passed through unchanged
    std::shared_ptr<Storage> storage;
    DType dtype;
    Shape shape;
  };
  std::vector<Output> outputs;
};

OnnxModel::OnnxModel(std::shared_ptr<const ModelDef> def) : def_(std::move(def)) {
  absl::flat_hash_map<int, bool> init;
  for (const Graph::Initializer& i : def_->graph.initializers) init[i.id] = true;
  for (const ValueInfo& in : def_->graph.inputs) has_default_.push_back(init.contains(in.id));
}

OnnxModel::~OnnxModel() = default;

namespace {

absl::Status CheckDevice(const LoadOptions& options) {
  if (options.device.empty() || options.device == "CPU") return absl::OkStatus();
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get(options.device);
  if (!d.ok()) {
    return absl::Status(d.status().code(),
                        absl::StrCat("the model is placed on device '", options.device,
                                     "': ", d.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<OnnxModel>> OnnxModel::Load(const std::string& path,
                                                           const LoadOptions& options) {
  RETURN_IF_ERROR(CheckDevice(options));
  ASSIGN_OR_RETURN(std::shared_ptr<const ModelDef> def, LoadModelFile(path, options));
  return std::make_unique<OnnxModel>(std::move(def));
}

absl::StatusOr<std::unique_ptr<OnnxModel>> OnnxModel::FromBytes(absl::string_view bytes,
                                                                const LoadOptions& options) {
  RETURN_IF_ERROR(CheckDevice(options));
  ASSIGN_OR_RETURN(std::shared_ptr<const ModelDef> def, LoadModelBytes(bytes, options));
  return std::make_unique<OnnxModel>(std::move(def));
}

bool OnnxModel::InputHasDefault(size_t i) const {
  return i < has_default_.size() && has_default_[i];
}

OnnxModelStats OnnxModel::stats() const {
  std::lock_guard<std::mutex> lock(run_mu_);
  return stats_;
}

absl::Status OnnxModel::CheckInputs(const std::vector<const HostValue*>& by_index) const {
  absl::flat_hash_map<std::string, std::pair<int64_t, std::string>> symbols;
  for (size_t i = 0; i < by_index.size(); ++i) {
    const ValueInfo& info = def_->graph.inputs[i];
    const HostValue* v = by_index[i];
    if (!v) {
      if (!has_default_[i])
        return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "' is missing"));
      continue;
    }
    const ValueType& t = info.type;
    const bool want_tensor = t.kind == ValueType::Kind::kTensor;
    if (want_tensor && !v->is_tensor())
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "': expected a tensor ",
                                                     DescribeDeclared(t), ", got ", v->Describe()));
    if (t.kind == ValueType::Kind::kSequence && v->kind() != HostValue::Kind::kSequence)
      return absl::InvalidArgumentError(
          absl::StrCat("input '", info.name, "': expected a sequence, got ", v->Describe()));
    if (!want_tensor || !v->is_tensor()) continue;
    const HostTensor& h = v->tensor();
    const int32_t given = h.is_string ? kOnnxString : OnnxFromDType(h.dtype);
    auto mismatch = [&] {
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "': expected ",
                                                     DescribeDeclared(t), ", got ", h.Describe()));
    };
    if (t.elem_type != 0 && given != t.elem_type) return mismatch();
    int64_t numel = 1;
    for (int64_t d : h.shape) {
      if (d < 0) return mismatch();
      numel *= d;
    }
    if (!h.is_string && static_cast<int64_t>(h.bytes.size()) != numel * h.dtype.itemsize())
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "': ", h.bytes.size(),
                                                     " bytes of data for ", h.Describe()));
    if (h.is_string && static_cast<int64_t>(h.strings.size()) != numel)
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "': ", h.strings.size(),
                                                     " strings for ", h.Describe()));
    if (!t.has_shape) continue;
    if (t.dims.size() != h.shape.size()) return mismatch();
    for (size_t k = 0; k < t.dims.size(); ++k) {
      const Dim& d = t.dims[k];
      if (d.value >= 0 && d.value != h.shape[k]) return mismatch();
      if (d.value < 0 && !d.param.empty()) {
        auto [it, fresh] = symbols.emplace(d.param, std::make_pair(h.shape[k], info.name));
        if (!fresh && it->second.first != h.shape[k])
          return absl::InvalidArgumentError(
              absl::StrCat("input '", info.name, "': dimension '", d.param, "' is ", h.shape[k],
                           " but input '", it->second.second, "' has it ", it->second.first));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<HostValue>> OnnxModel::Run(
    const std::vector<std::pair<std::string, HostValue>>& inputs) {
  const std::vector<ValueInfo>& declared = def_->graph.inputs;
  std::vector<const HostValue*> by_index(declared.size(), nullptr);
  for (const auto& [name, value] : inputs) {
    size_t i = 0;
    while (i < declared.size() && declared[i].name != name) ++i;
    if (i == declared.size()) {
      std::vector<std::string> names;
      for (const ValueInfo& d : declared) names.push_back(d.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown input '", name, "' (the model's inputs: ", absl::StrJoin(names, ", "), ")"));
    }
    if (by_index[i])
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "' is given twice"));
    by_index[i] = &value;
  }
  RETURN_IF_ERROR(CheckInputs(by_index));

  std::string key;
  for (const HostValue* v : by_index) {
    if (!v) {
      absl::StrAppend(&key, "-;");
    } else if (v->is_tensor()) {
      absl::StrAppend(&key, v->tensor().Describe(), ";");
    } else {
      absl::StrAppend(&key, v->Describe(), "?;");  // sequences: never replayed
    }
  }
  // One run of this model at a time: a replay writes the plan's input buffers.
  std::lock_guard<std::mutex> lock(run_mu_);
  ++stats_.runs;
  for (const std::unique_ptr<Plan>& plan : plans_) {
    if (plan->shape_key != key) continue;
    bool match = true;
    for (size_t g = 0; g < plan->guard_inputs.size() && match; ++g)
      match = by_index[plan->guard_inputs[g]]->tensor().bytes == plan->guard_bytes[g];
    if (match) {
      std::shared_lock<std::shared_mutex> replaying(RecordMutex());
      return Replay(*plan, by_index);
    }
  }
  std::unique_lock<std::shared_mutex> recording(RecordMutex());
  // The importer reports errors as Status; a standard-library exception
  // (an allocation a hostile model provoked somewhere below) is turned into
  // one too rather than ending the process that serves other models.
  try {
    return BuildAndRun(by_index, key);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("running the model failed: ", e.what()));
  }
}

absl::StatusOr<std::vector<HostValue>> OnnxModel::Replay(
    Plan& plan, const std::vector<const HostValue*>& by_index) {
  for (size_t i = 0; i < by_index.size(); ++i) {
    Storage* s = plan.input_storages[i].get();
    if (!s || !by_index[i]) continue;
    auto* buf = static_cast<DeviceBuffer*>(s->device_handle.get());
    RETURN_IF_ERROR(buf->owner()->CopyIn(*buf, 0, by_index[i]->tensor().bytes));
  }
  auto engine = std::dynamic_pointer_cast<Engine>(Tensor::GetRealizer());
  if (!engine) return absl::FailedPreconditionError("the Engine is no longer the realizer");
  RETURN_IF_ERROR(engine->Replay(plan.launches));
  std::vector<HostValue> outs;
  for (const Plan::Output& o : plan.outputs) {
    HostTensor h;
    h.dtype = o.dtype;
    h.shape = o.shape;
    if (!o.storage) {
      // an empty tensor
    } else if (o.from_input >= 0) {
      h.bytes = by_index[o.from_input]->tensor().bytes;
    } else if (o.storage->device_valid && o.storage->device_handle) {
      auto* buf = static_cast<DeviceBuffer*>(o.storage->device_handle.get());
      h.bytes.resize(o.storage->nbytes());
      RETURN_IF_ERROR(buf->owner()->CopyOut(*buf, 0, absl::MakeSpan(h.bytes)));
    } else {
      h.bytes = o.storage->host;
    }
    outs.push_back(HostValue::Tensor(std::move(h)));
  }
  ++stats_.replays;
  return outs;
}

absl::StatusOr<std::vector<HostValue>> OnnxModel::BuildAndRun(
    const std::vector<const HostValue*>& by_index, const std::string& shape_key) {
  // Every tensor of this graph (inputs, constants, intermediates) on the
  // model's device.
  DeviceScope on_device(def_->options.device.empty() ? "CPU" : def_->options.device);
  std::vector<Value> inputs;
  inputs.reserve(by_index.size());
  for (const HostValue* v : by_index) inputs.push_back(v ? FromHost(*v) : Value());
  std::vector<std::shared_ptr<Storage>> input_storages(by_index.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].is_tensor() && !inputs[i].tensor().storages().empty())
      input_storages[i] = inputs[i].tensor().storages().storages()[0];

  Evaluator ev(*def_, &constants_);
  ASSIGN_OR_RETURN(std::vector<Value> outs, ev.RunMain(std::move(inputs)));

  // Can the run be recorded and replayed exactly?
  auto engine = std::dynamic_pointer_cast<Engine>(Tensor::GetRealizer());
  bool cacheable = engine != nullptr && !ev.used_random() && plans_.size() < kMaxPlans;
  for (int i : ev.host_read_inputs())
    cacheable &= by_index[i] && by_index[i]->is_tensor() &&
                 by_index[i]->tensor().numel() <= kSmallInputElements;
  for (const Value& v : outs) cacheable &= v.is_tensor();

  std::vector<Tensor*> to_realize;
  for (Value& v : outs)
    if (v.is_tensor() && !v.host() && v.tensor().numel() > 0)
      to_realize.push_back(&v.mutable_tensor());
  PlanRecorder recorder;
  if (cacheable) engine->SetRecorder(&recorder);
  absl::Status st = Tensor::RealizeAll(to_realize);
  if (cacheable) engine->SetRecorder(nullptr);
  RETURN_IF_ERROR(st);

  auto plan = std::make_unique<Plan>();
  if (cacheable && !recorder.host_read) {
    plan->shape_key = shape_key;
    for (int i : ev.host_read_inputs()) {
      plan->guard_inputs.push_back(i);
      plan->guard_bytes.push_back(by_index[i]->tensor().bytes);
    }
    plan->input_storages = input_storages;
    for (std::shared_ptr<Storage>& s : plan->input_storages)
      if (s && !s->device_handle) s = nullptr;  // never read by a kernel
    for (const Value& v : outs) {
      if (v.tensor().numel() == 0) {
        plan->outputs.push_back({-1, nullptr, v.tensor().dtype(), v.tensor().shape()});
        continue;
      }
      const UOp* b = WholeBuffer(v.tensor());
      std::shared_ptr<Storage> s = b ? LookupStorage(b->arg().get<BufferArg>().id) : nullptr;
      if (!s) {
        cacheable = false;
        break;
      }
      int from_input = -1;
      for (size_t i = 0; i < input_storages.size(); ++i)
        if (input_storages[i] == s) from_input = static_cast<int>(i);
      plan->outputs.push_back({from_input, s, v.tensor().dtype(), v.tensor().shape()});
    }
    absl::flat_hash_map<int64_t, bool> seen;
    for (const RecordedLaunch& l : recorder.launches)
      for (int64_t id : l.buffer_ids)
        if (seen.emplace(id, true).second)
          if (std::shared_ptr<Storage> st = LookupStorage(id)) plan->bound_storages.push_back(st);
    plan->launches = std::move(recorder.launches);
    plan->keep = std::move(recorder.keep);
  } else {
    cacheable = false;
  }

  std::vector<HostValue> result;
  result.reserve(outs.size());
  for (const Value& v : outs) {
    ASSIGN_OR_RETURN(HostValue h, ToHost(v));
    result.push_back(std::move(h));
  }
  if (cacheable) {
    plans_.push_back(std::move(plan));
    ++stats_.captures;
  } else {
    ++stats_.uncacheable;
  }
  return result;
}

}  // namespace uop::onnx_import

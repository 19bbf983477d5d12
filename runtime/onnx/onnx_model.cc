#include "runtime/onnx/onnx_model.h"

#include <cstring>
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

struct OnnxModel::Given {
  const HostValue* value = nullptr;  // an owned input (Run)
  const InputView* view = nullptr;   // a borrowed input (RunBorrowed)

  bool present() const { return value != nullptr || view != nullptr; }
  bool is_tensor() const { return view != nullptr || value->is_tensor(); }
  bool is_string() const { return value != nullptr && value->tensor().is_string; }
  DType dtype() const { return view ? view->dtype : value->tensor().dtype; }
  absl::Span<const int64_t> shape() const {
    return view ? view->shape : absl::MakeConstSpan(value->tensor().shape);
  }
  // Numeric tensors: the data (empty for string tensors).
  absl::Span<const uint8_t> bytes() const {
    return view ? view->bytes : absl::MakeConstSpan(value->tensor().bytes);
  }
  // "float32[1, 3]", "string[2]", "sequence(3)".
  std::string Describe() const {
    if (value && !value->is_tensor()) return value->Describe();
    return absl::StrCat(is_string() ? "string" : dtype().ToString(), "[",
                        absl::StrJoin(shape(), ", "), "]");
  }
};

absl::Status OutputSink::TakeValue(size_t index, HostValue value) {
  return absl::UnimplementedError(absl::StrCat("output ", index, " is a ", value.Describe(),
                                               ", which this caller cannot take"));
}

namespace {

// Owned runs: every output becomes a HostValue.
class CollectingSink final : public OutputSink {
 public:
  explicit CollectingSink(size_t n) : values(n) {}
  absl::StatusOr<absl::Span<uint8_t>> Allocate(size_t index, DType dtype, const Shape& shape,
                                               size_t nbytes) override {
    HostTensor h;
    h.dtype = dtype;
    h.shape = shape;
    h.bytes.resize(nbytes);
    values[index] = HostValue::Tensor(std::move(h));
    return absl::MakeSpan(values[index].mutable_tensor().bytes);
  }
  absl::Status TakeValue(size_t index, HostValue value) override {
    values[index] = std::move(value);
    return absl::OkStatus();
  }
  std::vector<HostValue> values;
};

// The declared index of each given input name: InvalidArgument for an
// unknown name or one given twice.
absl::StatusOr<std::vector<size_t>> IndexOfNames(const std::vector<ValueInfo>& declared,
                                                 const std::vector<absl::string_view>& names) {
  std::vector<size_t> index;
  std::vector<bool> taken(declared.size(), false);
  for (absl::string_view name : names) {
    size_t i = 0;
    while (i < declared.size() && declared[i].name != name) ++i;
    if (i == declared.size()) {
      std::vector<std::string> known;
      for (const ValueInfo& d : declared) known.push_back(d.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown input '", name, "' (the model's inputs: ", absl::StrJoin(known, ", "), ")"));
    }
    if (taken[i])
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "' is given twice"));
    taken[i] = true;
    index.push_back(i);
  }
  return index;
}

}  // namespace

absl::Status OnnxModel::CheckInputs(const std::vector<Given>& by_index) const {
  absl::flat_hash_map<std::string, std::pair<int64_t, std::string>> symbols;
  for (size_t i = 0; i < by_index.size(); ++i) {
    const ValueInfo& info = def_->graph.inputs[i];
    const Given& v = by_index[i];
    if (!v.present()) {
      if (!has_default_[i])
        return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "' is missing"));
      continue;
    }
    const ValueType& t = info.type;
    const bool want_tensor = t.kind == ValueType::Kind::kTensor;
    if (want_tensor && !v.is_tensor())
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "': expected a tensor ",
                                                     DescribeDeclared(t), ", got ", v.Describe()));
    if (t.kind == ValueType::Kind::kSequence &&
        (v.view || v.value->kind() != HostValue::Kind::kSequence))
      return absl::InvalidArgumentError(
          absl::StrCat("input '", info.name, "': expected a sequence, got ", v.Describe()));
    if (!want_tensor || !v.is_tensor()) continue;
    const int32_t given = v.is_string() ? kOnnxString : OnnxFromDType(v.dtype());
    auto mismatch = [&] {
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "': expected ",
                                                     DescribeDeclared(t), ", got ", v.Describe()));
    };
    if (t.elem_type != 0 && given != t.elem_type) return mismatch();
    const absl::Span<const int64_t> shape = v.shape();
    int64_t numel = 1;
    for (int64_t d : shape) {
      if (d < 0) return mismatch();
      numel *= d;
    }
    if (!v.is_string() && static_cast<int64_t>(v.bytes().size()) != numel * v.dtype().itemsize())
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "': ", v.bytes().size(),
                                                     " bytes of data for ", v.Describe(), " (",
                                                     numel * v.dtype().itemsize(), " expected)"));
    if (v.is_string() && static_cast<int64_t>(v.value->tensor().strings.size()) != numel)
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name,
                                                     "': ", v.value->tensor().strings.size(),
                                                     " strings for ", v.Describe()));
    if (!t.has_shape) continue;
    if (t.dims.size() != shape.size()) return mismatch();
    for (size_t k = 0; k < t.dims.size(); ++k) {
      const Dim& d = t.dims[k];
      if (d.value >= 0 && d.value != shape[k]) return mismatch();
      if (d.value < 0 && !d.param.empty()) {
        auto [it, fresh] = symbols.emplace(d.param, std::make_pair(shape[k], info.name));
        if (!fresh && it->second.first != shape[k])
          return absl::InvalidArgumentError(
              absl::StrCat("input '", info.name, "': dimension '", d.param, "' is ", shape[k],
                           " but input '", it->second.second, "' has it ", it->second.first));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<OnnxModel::Plan*> OnnxModel::Prepare(const std::vector<Given>& by_index,
                                                    std::string* key) {
  RETURN_IF_ERROR(CheckInputs(by_index));
  key->clear();
  for (const Given& v : by_index) {
    if (!v.present()) {
      absl::StrAppend(key, "-;");
    } else if (v.is_tensor()) {
      absl::StrAppend(key, v.Describe(), ";");
    } else {
      absl::StrAppend(key, v.Describe(), "?;");  // sequences: never replayed
    }
  }
  ++stats_.runs;
  for (const std::unique_ptr<Plan>& plan : plans_) {
    if (plan->shape_key != *key) continue;
    bool match = true;
    for (size_t g = 0; g < plan->guard_inputs.size() && match; ++g) {
      const absl::Span<const uint8_t> given = by_index[plan->guard_inputs[g]].bytes();
      match = given == absl::MakeConstSpan(plan->guard_bytes[g]);
    }
    if (match) return plan.get();
  }
  return nullptr;
}

absl::StatusOr<std::vector<HostValue>> OnnxModel::Run(
    const std::vector<std::pair<std::string, HostValue>>& inputs) {
  std::vector<absl::string_view> names;
  for (const auto& [name, value] : inputs) names.push_back(name);
  ASSIGN_OR_RETURN(std::vector<size_t> index, IndexOfNames(def_->graph.inputs, names));
  std::vector<Given> by_index(def_->graph.inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) by_index[index[k]].value = &inputs[k].second;
  // One run of this model at a time: a replay writes the plan's input buffers.
  std::lock_guard<std::mutex> lock(run_mu_);
  std::string key;
  ASSIGN_OR_RETURN(Plan * plan, Prepare(by_index, &key));
  if (plan) {
    CollectingSink sink(plan->outputs.size());
    std::shared_lock<std::shared_mutex> replaying(RecordMutex());
    RETURN_IF_ERROR(Replay(*plan, by_index, sink));
    return std::move(sink.values);
  }
  std::vector<const HostValue*> values;
  for (const Given& g : by_index) values.push_back(g.value);
  return BuildAndRunLocked(values, key);
}

absl::Status OnnxModel::RunBorrowed(absl::Span<const InputView> inputs, OutputSink& sink) {
  std::vector<absl::string_view> names;
  for (const InputView& v : inputs) names.push_back(v.name);
  ASSIGN_OR_RETURN(std::vector<size_t> index, IndexOfNames(def_->graph.inputs, names));
  std::vector<Given> by_index(def_->graph.inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) by_index[index[k]].view = &inputs[k];
  std::lock_guard<std::mutex> lock(run_mu_);
  std::string key;
  ASSIGN_OR_RETURN(Plan * plan, Prepare(by_index, &key));
  if (plan) {
    std::shared_lock<std::shared_mutex> replaying(RecordMutex());
    return Replay(*plan, by_index, sink);
  }
  // Not recorded (yet): stage the inputs as host tensors and build.
  std::vector<HostValue> staged(by_index.size());
  std::vector<const HostValue*> values(by_index.size(), nullptr);
  for (size_t i = 0; i < by_index.size(); ++i) {
    const InputView* v = by_index[i].view;
    if (!v) continue;
    HostTensor h;
    h.dtype = v->dtype;
    h.shape.assign(v->shape.begin(), v->shape.end());
    h.bytes.assign(v->bytes.begin(), v->bytes.end());
    stats_.host_copy_bytes += v->bytes.size();
    staged[i] = HostValue::Tensor(std::move(h));
    values[i] = &staged[i];
  }
  ASSIGN_OR_RETURN(std::vector<HostValue> outs, BuildAndRunLocked(values, key));
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!outs[k].is_tensor() || outs[k].tensor().is_string) {
      RETURN_IF_ERROR(sink.TakeValue(k, std::move(outs[k])));
      continue;
    }
    const HostTensor& h = outs[k].tensor();
    ASSIGN_OR_RETURN(absl::Span<uint8_t> dst, sink.Allocate(k, h.dtype, h.shape, h.bytes.size()));
    if (dst.size() != h.bytes.size())
      return absl::InternalError(absl::StrCat("output '", outputs()[k].name, "': the sink gave ",
                                              dst.size(), " bytes for ", h.Describe(), " (",
                                              h.bytes.size(), " bytes)"));
    if (!h.bytes.empty()) std::memcpy(dst.data(), h.bytes.data(), h.bytes.size());
    stats_.host_copy_bytes += h.bytes.size();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<HostValue>> OnnxModel::BuildAndRunLocked(
    const std::vector<const HostValue*>& by_index, const std::string& shape_key) {
  std::unique_lock<std::shared_mutex> recording(RecordMutex());
  // The importer reports errors as Status; a standard-library exception
  // (an allocation a hostile model provoked somewhere below) is turned into
  // one too rather than ending the process that serves other models.
  try {
    return BuildAndRun(by_index, shape_key);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("running the model failed: ", e.what()));
  }
}

absl::Status OnnxModel::Replay(Plan& plan, const std::vector<Given>& by_index, OutputSink& sink) {
  for (size_t i = 0; i < by_index.size(); ++i) {
    Storage* s = plan.input_storages[i].get();
    if (!s || !by_index[i].present()) continue;
    auto* buf = static_cast<DeviceBuffer*>(s->device_handle.get());
    const absl::Span<const uint8_t> bytes = by_index[i].bytes();
    RETURN_IF_ERROR(buf->owner()->CopyIn(*buf, 0, bytes));
    stats_.bytes_to_device += bytes.size();
  }
  auto engine = std::dynamic_pointer_cast<Engine>(Tensor::GetRealizer());
  if (!engine) return absl::FailedPreconditionError("the Engine is no longer the realizer");
  RETURN_IF_ERROR(engine->Replay(plan.launches));
  for (size_t k = 0; k < plan.outputs.size(); ++k) {
    const Plan::Output& o = plan.outputs[k];
    absl::Span<const uint8_t> host;  // the output's bytes when they are on the host
    const bool on_device =
        o.storage && o.from_input < 0 && o.storage->device_valid && o.storage->device_handle;
    size_t nbytes = 0;
    if (!o.storage) {
      // an empty tensor
    } else if (o.from_input >= 0) {
      if (!by_index[o.from_input].present())
        return absl::InternalError(absl::StrCat("output '", outputs()[k].name,
                                                "' passes through an input that was not given"));
      host = by_index[o.from_input].bytes();
      nbytes = host.size();
    } else if (on_device) {
      nbytes = o.storage->nbytes();
    } else {
      host = o.storage->host;
      nbytes = host.size();
    }
    ASSIGN_OR_RETURN(absl::Span<uint8_t> dst, sink.Allocate(k, o.dtype, o.shape, nbytes));
    if (dst.size() != nbytes)
      return absl::InternalError(absl::StrCat("output '", outputs()[k].name, "': the sink gave ",
                                              dst.size(), " bytes for ", nbytes));
    if (on_device) {
      auto* buf = static_cast<DeviceBuffer*>(o.storage->device_handle.get());
      RETURN_IF_ERROR(buf->owner()->CopyOut(*buf, 0, dst));
      stats_.bytes_from_device += nbytes;
    } else if (nbytes > 0) {
      std::memcpy(dst.data(), host.data(), nbytes);
      stats_.host_copy_bytes += nbytes;
    }
  }
  ++stats_.replays;
  return absl::OkStatus();
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

#include "runtime/engine/jit.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/profiler/profiler.h"

namespace uop {

class Jit::CaptureRecorder : public Recorder {
 public:
  void OnLaunch(const RecordedLaunch& l) override { launches.push_back(l); }
  void OnHostRead(const Storage& s) override { host_reads.push_back(s.id()); }
  void KeepAlive(std::shared_ptr<void> r) override { kept.push_back(std::move(r)); }
  void OnArena(int64_t id, Device& device, int64_t bytes) override {
    arenas.push_back({id, {&device, bytes}});
  }
  std::vector<RecordedLaunch> launches;
  std::vector<std::pair<int64_t, Jit::ArenaInfo>> arenas;
  std::vector<int64_t> host_reads;
  std::vector<std::shared_ptr<void>> kept;
};

namespace {

// The storage a realized input reads: RESHAPEs of a whole BUFFER only.
std::shared_ptr<Storage> WholeBufferStorage(const UOp* u) {
  while (u->op() == Op::kReshape) u = u->src(0).get();
  if (u->op() != Op::kBuffer) return nullptr;
  return LookupStorage(u->arg().get<BufferArg>().id);
}

}  // namespace

Jit::Jit(std::shared_ptr<Engine> engine, Fn fn) : engine_(std::move(engine)), fn_(std::move(fn)) {}
Jit::~Jit() = default;

size_t Jit::num_launches() const { return capture_ ? capture_->launches.size() : 0; }

const std::vector<RecordedLaunch>& Jit::launches() const {
  static const std::vector<RecordedLaunch> kNone;
  return capture_ ? capture_->launches : kNone;
}

const std::vector<std::pair<int64_t, Jit::ArenaInfo>>& Jit::arenas() const {
  static const std::vector<std::pair<int64_t, ArenaInfo>> kNone;
  return capture_ ? capture_->arenas : kNone;
}

absl::Status Jit::CheckInputs(const std::vector<Tensor>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) RETURN_IF_ERROR(inputs[i].status());
  if (calls_ == 0) {
    for (const Tensor& t : inputs) shapes_.push_back(t.shape()), dtypes_.push_back(t.dtype());
    return absl::OkStatus();
  }
  if (inputs.size() != shapes_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Jit: called with ", inputs.size(),
                                                   " inputs, captured with ", shapes_.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].shape() != shapes_[i] || inputs[i].dtype() != dtypes_[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("Jit: input ", i, " is ", inputs[i].dtype().ToString(), " ",
                       ShapeToString(inputs[i].shape()), ", the captured function takes ",
                       dtypes_[i].ToString(), " ", ShapeToString(shapes_[i])));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::shared_ptr<Storage>>> Jit::InputStorages(
    std::vector<Tensor>& inputs) {
  std::vector<std::shared_ptr<Storage>> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    RETURN_IF_ERROR(inputs[i].Realize());
    std::shared_ptr<Storage> s = WholeBufferStorage(inputs[i].uop().get());
    if (!s) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Jit: input ", i, " is not backed by its own buffer (", inputs[i].uop()->ShortString(),
          "); capturing it would bake its values into the kernels. Pass a realized, "
          "contiguous tensor (e.g. x.Contiguous())."));
    }
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::vector<Tensor>> Jit::RunRecorded(const std::vector<Tensor>& inputs,
                                                     CaptureRecorder* recorder) {
  engine_->SetRecorder(recorder);
  std::vector<Tensor> outs = fn_(inputs);
  std::vector<Tensor*> ptrs;
  for (Tensor& t : outs) ptrs.push_back(&t);
  absl::Status st = Tensor::RealizeAll(ptrs);
  engine_->SetRecorder(nullptr);
  RETURN_IF_ERROR(st);
  return outs;
}

absl::StatusOr<std::vector<Tensor>> Jit::Call(const std::vector<Tensor>& inputs_in) {
  profiler::RequestSpan prof(calls_ == 0   ? "jit warmup"
                             : calls_ == 1 ? "jit capture"
                                           : "jit replay");
  RETURN_IF_ERROR(CheckInputs(inputs_in));
  std::vector<Tensor> inputs = inputs_in;
  ASSIGN_OR_RETURN(std::vector<std::shared_ptr<Storage>> storages, InputStorages(inputs));

  if (calls_ < 2) {
    auto recorder = std::make_unique<CaptureRecorder>();
    ASSIGN_OR_RETURN(std::vector<Tensor> outs, RunRecorded(inputs, recorder.get()));
    if (!recorder->host_reads.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Jit: the function reads tensor data on the host (storage ",
                       recorder->host_reads[0], ") while running; that cannot be replayed"));
    }
    if (calls_++ == 0) {
      warmup_ = std::move(recorder);
      return outs;
    }
    // Capture: the kernels must be the ones the first call ran.
    bool same = warmup_->launches.size() == recorder->launches.size();
    for (size_t i = 0; same && i < recorder->launches.size(); ++i) {
      const RecordedLaunch &a = warmup_->launches[i], &b = recorder->launches[i];
      same =
          a.is_copy == b.is_copy && (a.is_copy || a.kernel->spec.source == b.kernel->spec.source);
    }
    if (!same) {
      return absl::FailedPreconditionError(
          "Jit: the function ran different kernels on its second call than on its first "
          "(values baked in as constants, or shapes that depend on data); it cannot be captured");
    }
    warmup_.reset();
    for (size_t l = 0; l < recorder->launches.size(); ++l)
      for (size_t s = 0; s < recorder->launches[l].buffer_ids.size(); ++s)
        for (size_t i = 0; i < storages.size(); ++i)
          if (recorder->launches[l].buffer_ids[s] == storages[i]->id())
            bindings_.push_back({l, s, i});
    capture_ = std::move(recorder);
    outputs_ = outs;
    for (const std::shared_ptr<Storage>& st : storages) input_ids_.push_back(st->id());
    captured_ = true;
    return outs;
  }

  // Replay with this call's input buffers.
  for (const Binding& b : bindings_) {
    ASSIGN_OR_RETURN(DeviceBuffer * buf, engine_->DeviceBufferFor(*storages[b.input]));
    capture_->launches[b.launch].bufs[b.slot] = buf;
  }
  RETURN_IF_ERROR(engine_->Replay(capture_->launches));
  for (const Tensor& t : outputs_) {
    if (std::shared_ptr<Storage> s = WholeBufferStorage(t.uop().get())) {
      s->device_valid = true;
      s->host_valid = false;
    }
  }
  ++calls_;
  return outputs_;
}

}  // namespace uop

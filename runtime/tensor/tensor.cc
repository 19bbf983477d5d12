// Tensor core: construction, error propagation, realization, readers and the
// graph helpers every op file uses (TensorOps).
#include "runtime/tensor/tensor.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor_internal.h"
#include "runtime/uop/const_fold.h"
#include "runtime/uop/spec.h"

namespace uop {
namespace {

std::mutex& RealizerMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}
std::shared_ptr<Realizer>& RealizerSlot() {
  static auto* slot = new std::shared_ptr<Realizer>();
  return *slot;
}

std::atomic<int64_t> g_assign_serial{0};

UOpPtr DeviceNode(const std::string& device) {
  return UOp::Create(Op::kDevice, DType::Void(), {}, Arg(device));
}

// The BUFFER under a chain of movement ops, or nullptr.
const UOp* BaseBuffer(const UOp* u) {
  while (u && IsMovement(u->op()) && u->num_srcs() == 1) u = u->src(0).get();
  return u && u->op() == Op::kBuffer ? u : nullptr;
}

// A view an ASSIGN can write through: RESHAPE/PERMUTE/SHRINK/FLIP over a BUFFER.
bool IsWritableView(const UOp* u) {
  while (u->op() == Op::kReshape || u->op() == Op::kPermute || u->op() == Op::kShrink ||
         u->op() == Op::kFlip)
    u = u->src(0).get();
  return u->op() == Op::kBuffer;
}

std::shared_ptr<Storage> StorageOf(const UOp* buffer) {
  return LookupStorage(buffer->arg().get<BufferArg>().id);
}

// BUFFER or RESHAPE(BUFFER) covering the whole buffer, with realized storage.
bool IsRealizedWholeBuffer(const UOp* u) {
  const UOp* b = u->op() == Op::kReshape ? u->src(0).get() : u;
  if (b->op() != Op::kBuffer) return false;
  if (u != b && TensorOps::Prod(*u->shape()) != b->arg().get<BufferArg>().size) return false;
  std::shared_ptr<Storage> s = StorageOf(b);
  return s && s->realized();
}

int64_t AssignSerial(const UOp* assign) {
  const int64_t* s = assign->arg().get_if<int64_t>();
  return s ? *s : 0;
}

// The graph with every ASSIGN that already ran (serial <= its storage's
// last_assign) replaced by its target; `assigns` collects the ASSIGNs kept.
UOpPtr StripStaleAssigns(const UOpPtr& root, std::vector<UOpPtr>* assigns) {
  std::vector<const UOp*> order = root->Toposort();
  bool any_stale = false;
  absl::flat_hash_map<const UOp*, UOpPtr> replace;
  for (const UOp* u : order) {
    if (u->op() != Op::kAssign) continue;
    const UOp* buffer = BaseBuffer(u->src(0).get());
    std::shared_ptr<Storage> s = buffer ? StorageOf(buffer) : nullptr;
    if (s && AssignSerial(u) != 0 && AssignSerial(u) <= s->last_assign.load()) {
      replace[u] = u->src(0);
      any_stale = true;
    }
  }
  if (!any_stale) {
    for (const UOp* u : order)
      if (u->op() == Op::kAssign) assigns->push_back(UOpPtr::FromBorrowed(u));
    return root;
  }
  for (const UOp* u : order) {
    if (replace.contains(u)) continue;
    UOpList srcs;
    bool changed = false;
    for (const UOpPtr& s : u->src()) {
      auto it = replace.find(s.get());
      srcs.push_back(it == replace.end() ? s : it->second);
      changed |= it != replace.end();
    }
    UOpPtr node = changed ? u->Replace(srcs) : UOpPtr::FromBorrowed(u);
    if (node->op() == Op::kAssign) assigns->push_back(node);
    if (changed) replace[u] = node;
  }
  auto it = replace.find(root.get());
  return it == replace.end() ? root : it->second;
}

}  // namespace

// ---------------------------------------------------------------------------
// Number

double Number::AsDouble() const {
  if (kind_ == Kind::kFloat) return f_;
  return uint64_ ? static_cast<double>(static_cast<uint64_t>(i_)) : static_cast<double>(i_);
}

int64_t Number::AsInt() const { return kind_ == Kind::kFloat ? static_cast<int64_t>(f_) : i_; }

DType Number::ResultDType(DType t) const {
  if (kind_ == Kind::kFloat && !t.is_float()) return DefaultFloatFor(t);
  if (kind_ == Kind::kInt && t.is_bool()) return DType::Int32();
  return t;
}

DType Number::DefaultDType() const {
  switch (kind_) {
    case Kind::kBool:
      return DType::Bool();
    case Kind::kInt:
      return DType::Int32();
    default:
      return DType::Float32();
  }
}

UOpPtr Number::ToConst(DType dtype) const {
  if (dtype.is_float()) return UOp::Const(dtype, AsDouble());
  if (dtype.is_bool()) return UOp::ConstBool(kind_ == Kind::kFloat ? f_ != 0.0 : i_ != 0);
  if (kind_ == Kind::kFloat) return UOp::Const(dtype, f_);
  return UOp::Const(dtype, WrapToDType(static_cast<uint64_t>(i_), dtype));
}

// ---------------------------------------------------------------------------
// Construction and properties

namespace {
// Empty: no scope on this thread.
thread_local std::string scoped_device;
}  // namespace

const std::string& DefaultDevice() {
  static const std::string cpu = "CPU";
  return scoped_device.empty() ? cpu : scoped_device;
}

DeviceScope::DeviceScope(std::string device) : previous_(std::move(scoped_device)) {
  scoped_device = std::move(device);
}

DeviceScope::~DeviceScope() { scoped_device = std::move(previous_); }

Tensor::Tensor() : status_(absl::FailedPreconditionError("uninitialized Tensor")) {}

Tensor::Tensor(UOpPtr uop, std::string device, StorageRefs refs)
    : uop_(std::move(uop)), device_(std::move(device)), refs_(std::move(refs)) {}

Tensor Tensor::FromUOp(UOpPtr uop, std::string device, StorageRefs refs) {
  if (!uop || !uop->shape())
    return Error(absl::InvalidArgumentError("FromUOp: node has no tensor-level shape"));
  return Tensor(std::move(uop), std::move(device), std::move(refs));
}

Tensor Tensor::Error(absl::Status status) {
  Tensor t;
  t.status_ = status.ok() ? absl::InternalError("Tensor::Error with an OK status") : status;
  return t;
}

Tensor Tensor::Derive(UOpPtr uop) const { return Tensor(std::move(uop), device_, refs_); }

Tensor Tensor::Derive(UOpPtr uop, const Tensor& other) const {
  return Tensor(std::move(uop), device_, StorageRefs::Merge(refs_, other.refs_));
}

const Shape& Tensor::shape() const {
  static const Shape* empty = new Shape();
  return ok() ? *uop_->shape() : *empty;
}

int64_t Tensor::numel() const { return TensorOps::Prod(shape()); }

DType Tensor::dtype() const { return ok() ? uop_->dtype() : DType::Void(); }

std::string ShapeToString(const Shape& shape) {
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

// ---------------------------------------------------------------------------
// Data in and out

Tensor Tensor::FromBytes(absl::Span<const uint8_t> bytes, DType dtype, Shape shape,
                         std::string device) {
  if (dtype.count() != 1 || dtype.is_ptr() || dtype.is_void() ||
      dtype.scalar_type() == ScalarType::kIndex)
    return TensorOps::Fail("FromBytes", "unsupported dtype ", dtype.ToString());
  absl::StatusOr<int64_t> numel = TensorOps::CheckedNumel("FromBytes", shape);
  if (!numel.ok()) return Error(numel.status());
  if (device.empty()) return TensorOps::Fail("FromBytes", "empty device name");
  const int64_t n = *numel;
  if (static_cast<int64_t>(bytes.size()) / dtype.itemsize() != n ||
      static_cast<int64_t>(bytes.size()) % dtype.itemsize() != 0)
    return TensorOps::Fail("FromBytes", bytes.size(), " bytes given, ", dtype.ToString(), " ",
                           ShapeToString(shape), " needs ", n * dtype.itemsize());
  std::shared_ptr<Storage> storage = Storage::Create(dtype, n, device);
  storage->SetHostBytes(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  UOpPtr buf = UOp::Create(Op::kBuffer, dtype, {DeviceNode(device)}, BufferArg{storage->id(), n});
  if (shape != Shape{n}) buf = UOp::Create(Op::kReshape, dtype, {buf}, Arg(shape));
  return Tensor(std::move(buf), std::move(device), StorageRefs(std::move(storage)));
}

Tensor Tensor::Empty(Shape shape, DType dtype, std::string device) {
  absl::StatusOr<int64_t> numel = TensorOps::CheckedNumel("Empty", shape);
  if (!numel.ok()) return Error(numel.status());
  if (dtype.count() != 1 || dtype.is_ptr() || dtype.is_void() ||
      dtype.scalar_type() == ScalarType::kIndex)
    return TensorOps::Fail("Empty", "unsupported dtype ", dtype.ToString());
  if (device.empty()) return TensorOps::Fail("Empty", "empty device name");
  const int64_t n = *numel;
  std::shared_ptr<Storage> storage = Storage::Create(dtype, n, device);
  UOpPtr buf = UOp::Create(Op::kBuffer, dtype, {DeviceNode(device)}, BufferArg{storage->id(), n});
  if (shape != Shape{n}) buf = UOp::Create(Op::kReshape, dtype, {buf}, Arg(shape));
  return Tensor(std::move(buf), std::move(device), StorageRefs(std::move(storage)));
}

void Tensor::SetRealizer(std::shared_ptr<Realizer> realizer) {
  std::lock_guard<std::mutex> lock(RealizerMutex());
  RealizerSlot() = std::move(realizer);
}

std::shared_ptr<Realizer> Tensor::GetRealizer() {
  std::lock_guard<std::mutex> lock(RealizerMutex());
  if (!RealizerSlot()) RealizerSlot() = std::make_shared<ReferenceRealizer>();
  return RealizerSlot();
}

absl::Status Tensor::Realize() {
  Tensor* self = this;
  return RealizeAll(absl::MakeConstSpan(&self, 1));
}

absl::Status Tensor::RealizeAll(absl::Span<Tensor* const> tensors) {
  for (Tensor* t : tensors)
    if (!t->ok()) return t->status_;
  struct Job {
    Tensor* tensor;
    UOpPtr target;
  };
  std::vector<Job> jobs;
  UOpList sink_srcs;
  std::vector<UOpPtr> assigns;
  absl::flat_hash_map<const UOp*, UOpPtr> target_of;  // value graph -> its target
  for (Tensor* t : tensors) {
    UOpPtr graph = StripStaleAssigns(t->uop_, &assigns);
    if (IsRealizedWholeBuffer(graph.get())) {
      t->uop_ = graph;
      t->SyncGradSlot();
      continue;
    }
    if (auto it = target_of.find(graph.get()); it != target_of.end()) {
      jobs.push_back({t, it->second});
      continue;
    }
    UOpPtr target;
    if (graph->op() == Op::kAssign) {
      target = graph->src(0);
      sink_srcs.push_back(graph);
    } else {
      const int64_t n = t->numel();
      std::shared_ptr<Storage> storage = Storage::Create(t->dtype(), n, t->device_);
      target = UOp::Create(Op::kBuffer, t->dtype(), {DeviceNode(t->device_)},
                           BufferArg{storage->id(), n});
      if (t->shape() != Shape{n})
        target = UOp::Create(Op::kReshape, t->dtype(), {target}, Arg(t->shape()));
      UOpPtr assign = UOp::Create(Op::kAssign, t->dtype(), {target, graph},
                                  Arg(g_assign_serial.fetch_add(1) + 1));
      assigns.push_back(assign);
      sink_srcs.push_back(assign);
      // The new storage must outlive the realize: the tensor holds it.
      t->refs_ = StorageRefs::Merge(t->refs_, StorageRefs(std::move(storage)));
    }
    target_of[graph.get()] = target;
    jobs.push_back({t, target});
  }
  if (!sink_srcs.empty()) {
    UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), sink_srcs);
#ifndef NDEBUG
    // Debug builds check the contract with the scheduler on every realize.
    RETURN_IF_ERROR(VerifyTensorGraph(sink));
#endif
    RETURN_IF_ERROR(GetRealizer()->Realize(sink));
    for (const UOpPtr& a : assigns) {
      std::shared_ptr<Storage> s = StorageOf(BaseBuffer(a->src(0).get()));
      int64_t serial = AssignSerial(a.get()), prev = s->last_assign.load();
      while (serial > prev && !s->last_assign.compare_exchange_weak(prev, serial)) {
      }
    }
  }
  for (const Job& job : jobs) {
    job.tensor->uop_ = job.target;
    job.tensor->refs_ = StorageRefs(StorageOf(BaseBuffer(job.target.get())));
    job.tensor->SyncGradSlot();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> Tensor::ToBytes() const {
  Tensor t = *this;
  RETURN_IF_ERROR(t.Realize());
  std::shared_ptr<Storage> s = StorageOf(BaseBuffer(t.uop_.get()));
  if (!s) return absl::InternalError("ToBytes: realized tensor has no storage");
  RETURN_IF_ERROR(GetRealizer()->CopyToHost(*s));
  return s->host;
}

// ---------------------------------------------------------------------------
// Assign and graph markers

Tensor Tensor::Assign(const Tensor& value) {
  TENSOR_RETURN_IF_ERROR(this, &value);
  UOpPtr target = uop_->op() == Op::kAssign ? uop_->src(0) : uop_;
  if (!IsWritableView(target.get()))
    return Error(absl::FailedPreconditionError(
        absl::StrCat("Assign: the target must be a view of a buffer (Realize() it first), got ",
                     OpName(target->op()))));
  if (value.dtype() != dtype())
    return TensorOps::Fail("Assign", "value dtype ", value.dtype().ToString(),
                           " differs from target dtype ", dtype().ToString());
  if (value.device_ != device_)
    return TensorOps::Fail("Assign", "value is on ", value.device_, ", target on ", device_);
  absl::StatusOr<Shape> s = TensorOps::BroadcastShapes("Assign", value.shape(), shape());
  if (!s.ok()) return Error(s.status());
  if (*s != shape())
    return TensorOps::Fail("Assign", "value shape ", ShapeToString(value.shape()),
                           " does not broadcast to target shape ", ShapeToString(shape()));
  Tensor v = TensorOps::BroadcastTo(value, shape());
  UOpPtr node =
      UOp::Create(Op::kAssign, dtype(), {target, v.uop_}, Arg(g_assign_serial.fetch_add(1) + 1));
  std::shared_ptr<GradSlot> slot = std::move(grad_slot_);
  *this = Derive(std::move(node), v);
  grad_slot_ = std::move(slot);
  SyncGradSlot();
  return *this;
}

Tensor Tensor::Assign(Number value) {
  if (!ok()) return *this;
  return Assign(TensorOps::Const(value, dtype(), shape(), device_));
}

Tensor Tensor::Contiguous() const {
  if (!ok()) return *this;
  return Derive(UOp::Create(Op::kContiguous, dtype(), {uop_}));
}

Tensor Tensor::Detach() const {
  if (!ok()) return *this;
  return Derive(UOp::Create(Op::kDetach, dtype(), {uop_}));
}

Tensor Tensor::To(const std::string& device) const {
  if (!ok() || device == device_) return *this;
  if (device.empty()) return TensorOps::Fail("To", "empty device name");
  Tensor t = Derive(UOp::Create(Op::kCopy, dtype(), {uop_, DeviceNode(device)}));
  t.device_ = device;
  return t;
}

// ---------------------------------------------------------------------------
// Gradient marks (Backward in gradient.h reads them)

namespace {

struct GradRegistry {
  std::mutex mu;
  std::vector<std::weak_ptr<GradSlot>> slots;
};

GradRegistry& Registry() {
  static auto* r = new GradRegistry();
  return *r;
}

}  // namespace

Tensor& Tensor::RequiresGrad(bool on) {
  if (!on) {
    grad_slot_.reset();
    return *this;
  }
  if (grad_slot_ || !ok()) return *this;
  grad_slot_ = std::make_shared<GradSlot>();
  grad_slot_->node = uop_;
  GradRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  // Drop the slots of destroyed tensors while registering, so the list stays
  // proportional to the live marked tensors.
  r.slots.erase(std::remove_if(r.slots.begin(), r.slots.end(),
                               [](const std::weak_ptr<GradSlot>& w) { return w.expired(); }),
                r.slots.end());
  r.slots.push_back(grad_slot_);
  return *this;
}

std::optional<Tensor> Tensor::grad() const {
  if (!grad_slot_) return std::nullopt;
  std::lock_guard<std::mutex> lock(grad_slot_->mu);
  return grad_slot_->grad;
}

void Tensor::SetGrad(std::optional<Tensor> grad) {
  if (!grad_slot_) return;
  std::lock_guard<std::mutex> lock(grad_slot_->mu);
  grad_slot_->grad = std::move(grad);
}

std::vector<std::shared_ptr<GradSlot>> Tensor::LiveGradSlots() {
  GradRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::shared_ptr<GradSlot>> out;
  for (const std::weak_ptr<GradSlot>& w : r.slots)
    if (std::shared_ptr<GradSlot> s = w.lock()) out.push_back(std::move(s));
  return out;
}

void Tensor::SyncGradSlot() const {
  if (!grad_slot_) return;
  std::lock_guard<std::mutex> lock(grad_slot_->mu);
  grad_slot_->node = uop_;
}

// ---------------------------------------------------------------------------
// TensorOps: shared helpers

const Tensor* TensorOps::FirstError(std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    if (!t->ok()) return t;
  return nullptr;
}

int64_t TensorOps::Prod(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

absl::StatusOr<int64_t> TensorOps::CheckedNumel(absl::string_view op, const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": negative dimension in ", ShapeToString(shape)));
    if (__builtin_mul_overflow(n, d, &n))
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": ", ShapeToString(shape), " has more than 2^63 elements"));
  }
  return n;
}

absl::StatusOr<int64_t> TensorOps::NormAxis(absl::string_view op, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank || (rank == 0 && axis != 0 && axis != -1))
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": axis ", axis, " is out of range for rank ", rank));
  if (rank == 0) return 0;
  return axis < 0 ? axis + rank : axis;
}

absl::StatusOr<std::vector<int64_t>> TensorOps::NormAxes(absl::string_view op,
                                                         const std::vector<int64_t>& axes,
                                                         int64_t rank) {
  std::vector<int64_t> out;
  out.reserve(axes.size());
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": axis ", a, " is out of range for rank ", rank));
    out.push_back(a < 0 ? a + rank : a);
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": repeated axis in (", absl::StrJoin(axes, ", "), ")"));
  return out;
}

absl::StatusOr<std::vector<int64_t>> TensorOps::PerAxis(absl::string_view op,
                                                        absl::string_view what,
                                                        const std::vector<int64_t>& v, size_t n,
                                                        int64_t dflt) {
  if (v.empty()) return std::vector<int64_t>(n, dflt);
  if (v.size() == 1) return std::vector<int64_t>(n, v[0]);
  if (v.size() != n)
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", what, " has ", v.size(), " values for ", n, " spatial axes"));
  return v;
}

absl::StatusOr<PairList> TensorOps::PerAxisPairs(absl::string_view op, const PairList& v,
                                                 size_t n) {
  if (v.empty()) return PairList(n, {0, 0});
  if (v.size() == 1) return PairList(n, v[0]);
  if (v.size() != n)
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": padding has ", v.size(), " pairs for ", n, " spatial axes"));
  return v;
}

absl::StatusOr<Shape> TensorOps::BroadcastShapes(absl::string_view op, const Shape& a,
                                                 const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t k = 0; k < rank; ++k) {
    int64_t x = k < rank - a.size() ? 1 : a[k - (rank - a.size())];
    int64_t y = k < rank - b.size() ? 1 : b[k - (rank - b.size())];
    if (x != y && x != 1 && y != 1)
      return absl::InvalidArgumentError(absl::StrCat(op, ": cannot broadcast shapes ",
                                                     ShapeToString(a), " and ", ShapeToString(b)));
    out[k] = x == 1 ? y : x;
  }
  return out;
}

Tensor TensorOps::Move(const Tensor& x, Op op, Arg arg) {
  return x.Derive(UOp::Create(op, x.dtype(), {x.uop_}, std::move(arg)));
}

Tensor TensorOps::BroadcastTo(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor t = x;
  if (x.shape().size() < shape.size()) {
    Shape padded(shape.size() - x.shape().size(), 1);
    padded.insert(padded.end(), x.shape().begin(), x.shape().end());
    t = Move(t, Op::kReshape, Arg(padded));
  }
  if (t.shape() != shape) t = Move(t, Op::kExpand, Arg(shape));
  return t;
}

Tensor TensorOps::Alu(Op op, std::initializer_list<const Tensor*> srcs) {
  UOpList uops;
  StorageRefs refs;
  for (const Tensor* t : srcs) {
    uops.push_back(t->uop_);
    refs = StorageRefs::Merge(refs, t->refs_);
  }
  const Tensor& first = **srcs.begin();
  return Tensor(UOp::Alu(op, uops), first.device_, std::move(refs));
}

Tensor TensorOps::AluTo(Op op, DType dtype, const Tensor& x) {
  return x.Derive(UOp::Create(op, dtype, {x.uop_}));
}

Tensor TensorOps::Const(Number v, DType dtype, const Shape& shape, const std::string& device) {
  UOpPtr c = UOp::Create(Op::kReshape, dtype, {v.ToConst(dtype)}, Arg(Shape(shape.size(), 1)));
  if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d != 1; }))
    c = UOp::Create(Op::kExpand, dtype, {c}, Arg(shape));
  return Tensor(std::move(c), device, StorageRefs());
}

Tensor TensorOps::ConstLike(const Tensor& like, Number v) {
  return Const(v, like.dtype(), like.shape(), like.device_);
}

Tensor TensorOps::ConstLike(const Tensor& like, Number v, DType dtype) {
  return Const(v, dtype, like.shape(), like.device_);
}

Tensor TensorOps::Reduce(const Tensor& x, Op op, const std::vector<int64_t>& axes, bool keepdim) {
  if (axes.empty()) return x;
  Tensor r = x.Derive(UOp::Create(Op::kReduceAxis, x.dtype(), {x.uop_}, ReduceArg{op, axes}));
  if (keepdim) return r;
  Shape out;
  for (int64_t k = 0; k < x.ndim(); ++k)
    if (!std::binary_search(axes.begin(), axes.end(), k)) out.push_back(x.shape()[k]);
  return Move(r, Op::kReshape, Arg(out));
}

bool TensorOps::Broadcast2(absl::string_view op, const Tensor& a, const Tensor& b,
                           std::optional<DType> dtype, Tensor* out_a, Tensor* out_b,
                           Tensor* error) {
  if (const Tensor* e = FirstError({&a, &b})) {
    *error = *e;
    return false;
  }
  if (a.device_ != b.device_) {
    *error = Fail(op, "tensors are on different devices ", a.device_, " and ", b.device_);
    return false;
  }
  absl::StatusOr<Shape> shape = BroadcastShapes(op, a.shape(), b.shape());
  if (!shape.ok()) {
    *error = Tensor::Error(shape.status());
    return false;
  }
  DType dt = dtype ? *dtype : Promote(a.dtype(), b.dtype());
  *out_a = BroadcastTo(a.Cast(dt), *shape);
  *out_b = BroadcastTo(b.Cast(dt), *shape);
  return true;
}

std::pair<Tensor, Tensor> TensorOps::WithNumber(const Tensor& x, Number n) {
  DType dt = n.ResultDType(x.dtype());
  return {x.Cast(dt), Const(n, dt, x.shape(), x.device_)};
}

DType TensorOps::SumAccDType(DType d) {
  if (d.is_unsigned()) return Promote(d, DType::UInt32());
  if (d.is_int() || d.is_bool()) return Promote(d, DType::Int32());
  return Promote(d, DType::Float32());
}

}  // namespace uop

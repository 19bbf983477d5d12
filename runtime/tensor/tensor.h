// Tensor: the lazy tensor API. Every op only builds a graph of tensor-level
// UOps (docs/compiler.md "Tensor-level graph"); nothing is computed until
// Realize() (or a reader such as ToVector) hands the graph to the realizer.
//
//   Tensor x = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
//   Tensor w = Tensor::Randn({3, 4}, DType::Float32(), {.seed = 7});
//   Tensor y = x.Matmul(w).Relu().Sum({1});          // a graph, no compute yet
//   absl::StatusOr<std::vector<float>> v = y.ToVector<float>();
//
// Errors: ops never abort on bad input. An op that cannot apply (shapes that
// do not broadcast, a bad axis, a dtype the op does not take, ...) returns an
// *error tensor* carrying an absl::Status that names the op and what was
// wrong, e.g. "Add: cannot broadcast shapes (2, 3) and (4,)". Any op on an
// error tensor returns that first error unchanged, so long chains stay
// readable and the first failure surfaces from status(), Realize() or the
// readers.
//
// Dtypes: binary ops promote with Promote() (dtype.h). A Number (a C++
// scalar) adopts the tensor's dtype like a Python scalar in tinygrad: an int
// or bool number keeps an int/float tensor's dtype, a float number turns an
// int/bool tensor into float32. Ops that need floats (Div, Exp, Sqrt, ...)
// compute int/bool inputs as float32.
//
// Graph shapes: movement ops are free views (RESHAPE, PERMUTE, EXPAND, PAD,
// SHRINK, FLIP). Transcendentals use only the primitive ops EXP2, LOG2, SIN,
// SQRT, RECIP (exp(x) = exp2(x * log2(e))). Reductions are REDUCE_AXIS with
// kept axes, followed by a RESHAPE when keepdim is false. Matmul and
// convolution are broadcasted multiplies summed by a reduce, Gather is a
// one-hot compare-and-sum, Arange is a cumulative sum (a reduce over a pooled
// view): all of it fuses in the scheduler like tinygrad's graphs. No rule
// folds algebra away (0 * x stays a MUL, so 0 * inf is NaN).
//
// Storage: tensors made from data own a Storage (storage.h) behind a BUFFER
// node; every tensor keeps alive the storages its graph reads.
//
// Realize and the Realizer seam: Realize() builds
//   SINK(ASSIGN(target, value))
// where target is a fresh BUFFER (reshaped to the tensor's shape) and value
// the tensor's graph, hands it to the process-wide Realizer (realizer.h), and
// then makes the tensor a view of that buffer. A tensor that already is a
// whole realized buffer is left alone. Tensor::SetRealizer installs the
// engine; the default is the ReferenceRealizer (reference_eval.h).
//
// Assign: `a.Assign(v)` makes `a` an ASSIGN node writing v into a's buffer
// (a must be a view of a BUFFER: realize it first). The write happens when a
// graph containing the ASSIGN is realized; after that `a` is a view of the
// buffer again. Each Assign has a serial number (the ASSIGN's arg); an ASSIGN
// older than the newest one already run on its buffer is never run again,
// so a stale copy of `a` cannot repeat a write: it reads the buffer instead.
// NOTE: graphs built before the write that read the buffer (not the ASSIGN)
// read whatever the buffer holds when they are realized.
//
// Thread safety: a Tensor is a value; distinct Tensors may be used from
// different threads. Realizes are serialized by the realizer.
#ifndef UOP_RUNTIME_TENSOR_TENSOR_H_
#define UOP_RUNTIME_TENSOR_TENSOR_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "runtime/dtype/dtype.h"
#include "runtime/tensor/realizer.h"
#include "runtime/tensor/storage.h"
#include "runtime/uop/uop.h"

namespace uop {

// A C++ scalar given to a tensor op. It remembers whether it was written as a
// bool, an integer or a float, because that decides the result dtype.
class Number {
 public:
  enum class Kind : uint8_t { kBool, kInt, kFloat };

  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  constexpr Number(T v) {  // NOLINT: implicit, so x.Add(1) and x.Mul(0.5) read naturally
    if constexpr (std::is_same_v<T, bool>) {
      kind_ = Kind::kBool;
      i_ = v;
    } else if constexpr (std::is_floating_point_v<T>) {
      kind_ = Kind::kFloat;
      f_ = static_cast<double>(v);
    } else {
      kind_ = Kind::kInt;
      i_ = static_cast<int64_t>(v);
      uint64_ = std::is_unsigned_v<T> && sizeof(T) == 8;
    }
  }

  Kind kind() const { return kind_; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  double AsDouble() const;
  // Integer value (floats truncate; a uint64 past INT64_MAX as its bits).
  int64_t AsInt() const;

  // The dtype of `tensor_dtype` op this number.
  DType ResultDType(DType tensor_dtype) const;
  // The dtype of a tensor made from this number alone: bool, int32, float32.
  DType DefaultDType() const;
  // A scalar CONST of `dtype` holding this number (wrapped / rounded).
  UOpPtr ToConst(DType dtype) const;

 private:
  Kind kind_ = Kind::kInt;
  bool uint64_ = false;
  int64_t i_ = 0;
  double f_ = 0.0;
};

// One axis of Tensor::Slice, with Python's slice semantics: missing start /
// stop mean the whole axis in the step's direction, negative values count
// from the end, out-of-range values clamp, step may be negative (not 0).
struct SliceSpec {
  std::optional<int64_t> start;
  std::optional<int64_t> stop;
  int64_t step = 1;
};

enum class PadMode : uint8_t {
  kConstant,  // fill with a value
  kReflect,   // mirror without the edge: (1 2 3) pad 2 -> (3 2 1 2 3 2 1)
  kEdge,      // repeat the edge: (1 2 3) pad 2 -> (1 1 1 2 3 3 3)
  kWrap,      // circular: (1 2 3) pad 2 -> (2 3 1 2 3 1 2)
};

// Convolution parameters for N spatial axes (N = weight rank - 2). Per-axis
// lists may be empty (default), hold one value for every axis, or one per axis.
struct ConvOptions {
  int64_t groups = 1;
  std::vector<int64_t> stride;          // default 1
  std::vector<int64_t> dilation;        // default 1
  PairList padding;                     // (before, after) per axis, default 0
  std::vector<int64_t> output_padding;  // ConvTranspose only, default 0
  std::optional<DType> acc_dtype;       // accumulate (and return) in this dtype
};

// Pooling parameters; `kernel` sets the number of (trailing) spatial axes.
struct PoolOptions {
  std::vector<int64_t> kernel;
  std::vector<int64_t> stride;    // default: the kernel
  std::vector<int64_t> dilation;  // default 1
  PairList padding;               // (before, after) per axis, default 0
  bool ceil_mode = false;         // output size rounds up (windows may start in the padding)
  bool count_include_pad = true;  // AvgPool: divide by the full window, padding included
};

enum class ScatterReduction : uint8_t { kSum, kProd, kAmax, kAmin, kMean };

// The device that tensor factories use when the caller names none: "CPU",
// unless a DeviceScope on this thread names another. Code written against
// the default (an ONNX model's import) then builds its graph on a GPU:
//
//   DeviceScope on_gpu("CUDA:1");
//   Tensor x = Tensor::FromVector<float>({1, 2}, {2});  // on CUDA:1
const std::string& DefaultDevice();

class DeviceScope {
 public:
  explicit DeviceScope(std::string device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  std::string previous_;
};

// Random-number options. Without a seed, calls draw successive streams from
// the process seed (ManualSeed); with one, the numbers depend on it alone.
struct RandOptions {
  std::optional<uint64_t> seed;
  std::string device = DefaultDevice();
};

struct GradSlot;

class Tensor {
 public:
  // An error tensor ("uninitialized Tensor"); assign a real one over it.
  Tensor();

  // ---------------------------------------------------------------- creation
  // Copies `data` into a new realized host buffer of `shape` (1-D without
  // one). Elem is bool, int8..int64, uint8..uint64, float or double.
  template <typename Elem>
  static Tensor FromVector(const std::vector<Elem>& data, Shape shape,
                           std::string device = DefaultDevice());
  template <typename Elem>
  static Tensor FromVector(const std::vector<Elem>& data) {
    return FromVector(data, Shape{static_cast<int64_t>(data.size())});
  }
  // Raw little-endian bytes of `dtype` (float16 as IEEE half bits, ...).
  static Tensor FromBytes(absl::Span<const uint8_t> bytes, DType dtype, Shape shape,
                          std::string device = DefaultDevice());
  // An unrealized buffer: a target for Assign or for the engine to fill.
  static Tensor Empty(Shape shape, DType dtype = DType::Float32(),
                      std::string device = DefaultDevice());
  // A constant (CONST reshaped and expanded: no memory). dtype defaults to
  // value.DefaultDType().
  static Tensor Full(Shape shape, Number value, std::optional<DType> dtype = std::nullopt,
                     std::string device = DefaultDevice());
  static Tensor Zeros(Shape shape, DType dtype = DType::Float32(),
                      std::string device = DefaultDevice());
  static Tensor Ones(Shape shape, DType dtype = DType::Float32(),
                     std::string device = DefaultDevice());
  Tensor FullLike(Number value, std::optional<DType> dtype = std::nullopt) const;
  Tensor ZerosLike() const { return FullLike(0); }
  Tensor OnesLike() const { return FullLike(1); }
  // [start, stop) by step (not 0), like Python's range. dtype defaults to
  // int32 when all three are integers, else float32.
  static Tensor Arange(Number start, Number stop, Number step = 1,
                       std::optional<DType> dtype = std::nullopt,
                       std::string device = DefaultDevice());
  static Tensor Arange(Number stop) { return Arange(0, stop); }
  // n x m (default n x n) identity, built from views (no compute).
  static Tensor Eye(int64_t n, int64_t m = -1, DType dtype = DType::Float32(),
                    std::string device = DefaultDevice());

  // ------------------------------------------------------------------ random
  // Counter-based (THREEFRY of element index and a key), so every backend
  // produces the same numbers from the same seed.
  // Resets the process seed and its stream counter.
  static void ManualSeed(uint64_t seed);
  // Uniform in [0, 1), float dtypes only.
  static Tensor Rand(Shape shape, DType dtype = DType::Float32(), const RandOptions& opts = {});
  // Standard normal (Box-Muller), float dtypes only.
  static Tensor Randn(Shape shape, DType dtype = DType::Float32(), const RandOptions& opts = {});
  // Uniform integers in [low, high), integer dtypes only.
  static Tensor RandInt(Shape shape, int64_t low, int64_t high, DType dtype = DType::Int32(),
                        const RandOptions& opts = {});
  // Zeroes each element with probability p and scales the rest by 1 / (1 - p).
  Tensor Dropout(double p, const RandOptions& opts = {}) const;

  // -------------------------------------------------------------- properties
  bool ok() const { return status_.ok(); }
  // OK, or the first error of the chain that built this tensor.
  const absl::Status& status() const { return status_; }
  const Shape& shape() const;  // empty for error tensors
  int64_t ndim() const { return static_cast<int64_t>(shape().size()); }
  int64_t numel() const;
  DType dtype() const;
  const std::string& device() const { return device_; }
  // Graph access for the layers above (gradient, ONNX import, scheduler).
  const UOpPtr& uop() const { return uop_; }
  const StorageRefs& storages() const { return refs_; }
  // A tensor of `uop` (which must have a tensor-level shape) on `device`,
  // keeping `refs` alive.
  static Tensor FromUOp(UOpPtr uop, std::string device, StorageRefs refs = {});
  static Tensor Error(absl::Status status);

  // ----------------------------------------------------------- realization
  // Computes the tensor into its own buffer (see the header comment).
  absl::Status Realize();
  // Realizes several tensors in one SINK (shared work is computed once).
  static absl::Status RealizeAll(absl::Span<Tensor* const> tensors);
  // Realizes (a copy of) the tensor and reads it back; T must match dtype().
  template <typename Elem>
  absl::StatusOr<std::vector<Elem>> ToVector() const;
  absl::StatusOr<std::vector<uint8_t>> ToBytes() const;
  // The one element of a numel() == 1 tensor.
  template <typename Elem>
  absl::StatusOr<Elem> Item() const;

  // The process-wide realizer; nullptr restores the reference realizer.
  static void SetRealizer(std::shared_ptr<Realizer> realizer);
  static std::shared_ptr<Realizer> GetRealizer();

  // In-place update (see the header comment). `value` broadcasts to this
  // shape and must have this dtype. On success this tensor becomes the
  // ASSIGN, which is also returned; on error this tensor is unchanged and the
  // error tensor is returned.
  Tensor Assign(const Tensor& value);
  Tensor Assign(Number value);
  // -------------------------------------------------------------- gradients
  // Gradient(loss, targets) (gradient.h) needs none of this; it is the state
  // behind Backward(loss), which fills `grad` on marked tensors.
  // RequiresGrad marks this tensor; its copies share the mark and the grad
  // (a parameter held by a module and by an optimizer is one tensor), while
  // tensors computed from it by ops are not marked.
  Tensor& RequiresGrad(bool on = true);
  bool requires_grad() const { return grad_slot_ != nullptr; }
  // The gradient Backward() accumulated (a lazy tensor), or nullopt.
  std::optional<Tensor> grad() const;
  // Replaces the accumulated gradient; nullopt clears it (zero_grad).
  void SetGrad(std::optional<Tensor> grad);
  // The slots of every live marked tensor (for Backward).
  static std::vector<std::shared_ptr<GradSlot>> LiveGradSlots();

  Tensor Contiguous() const;                   // CONTIGUOUS: a scheduling hint to materialize
  Tensor Detach() const;                       // DETACH: stops gradients, same values
  Tensor To(const std::string& device) const;  // COPY (this tensor if already there)

  // ------------------------------------------------------------ elementwise
  // Binary ops broadcast like numpy and promote dtypes.
  Tensor Add(const Tensor& y) const;
  Tensor Add(Number y) const;
  Tensor Sub(const Tensor& y) const;
  Tensor Sub(Number y) const;
  Tensor Mul(const Tensor& y) const;
  Tensor Mul(Number y) const;
  // True division: always a float result (int inputs become float32).
  Tensor Div(const Tensor& y) const;
  Tensor Div(Number y) const;
  // Integer division truncating toward zero (C, ONNX Div); integer dtypes only.
  Tensor IntDiv(const Tensor& y) const;
  Tensor IntDiv(Number y) const;
  // Floor division (Python //), any number dtype.
  Tensor FloorDiv(const Tensor& y) const;
  Tensor FloorDiv(Number y) const;
  // Remainder with the divisor's sign (Python %, numpy.mod, ONNX Mod fmod=0).
  Tensor Mod(const Tensor& y) const;
  Tensor Mod(Number y) const;
  // Remainder with the dividend's sign (C fmod, ONNX Mod fmod=1).
  Tensor Fmod(const Tensor& y) const;
  Tensor Fmod(Number y) const;
  // Integer base with an integer number exponent: exact repeated
  // multiplication (wrapping); a negative exponent is an error. Float base
  // with a small integer exponent: repeated multiplication (and a reciprocal
  // for negative exponents). Otherwise exp2(y * log2|x|) with the sign of
  // odd integer powers of negative bases, NaN for negative bases with
  // non-integer exponents, x^0 = 1, 0^-y = inf. Integer tensors raised to
  // integer tensors use exact square-and-multiply (negative exponents give
  // 1 / x^|y| truncated).
  Tensor Pow(const Tensor& y) const;
  Tensor Pow(Number y) const;
  Tensor Maximum(const Tensor& y) const;  // NaN propagates
  Tensor Maximum(Number y) const;
  Tensor Minimum(const Tensor& y) const;
  Tensor Minimum(Number y) const;
  Tensor Clip(std::optional<Number> lo, std::optional<Number> hi) const;
  // this ? x : y, with this cast to bool.
  Tensor Where(const Tensor& x, const Tensor& y) const;
  Tensor Where(const Tensor& x, Number y) const;
  Tensor Where(Number x, const Tensor& y) const;
  Tensor Where(Number x, Number y) const;

  // Comparisons (bool result). NaN compares unequal and unordered.
  Tensor Lt(const Tensor& y) const;
  Tensor Lt(Number y) const;
  Tensor Le(const Tensor& y) const;
  Tensor Le(Number y) const;
  Tensor Gt(const Tensor& y) const;
  Tensor Gt(Number y) const;
  Tensor Ge(const Tensor& y) const;
  Tensor Ge(Number y) const;
  Tensor Eq(const Tensor& y) const;
  Tensor Eq(Number y) const;
  Tensor Ne(const Tensor& y) const;
  Tensor Ne(Number y) const;

  // Logical ops treat inputs as bools (x != 0) and return bool.
  Tensor LogicalNot() const;
  Tensor LogicalAnd(const Tensor& y) const;
  Tensor LogicalOr(const Tensor& y) const;
  Tensor LogicalXor(const Tensor& y) const;
  // Bitwise ops: integer and bool dtypes only.
  Tensor BitwiseAnd(const Tensor& y) const;
  Tensor BitwiseAnd(Number y) const;
  Tensor BitwiseOr(const Tensor& y) const;
  Tensor BitwiseOr(Number y) const;
  Tensor BitwiseXor(const Tensor& y) const;
  Tensor BitwiseXor(Number y) const;
  Tensor BitwiseNot() const;
  // Shifts: integer dtypes only; amounts outside [0, bits) are undefined.
  // RShift is arithmetic for signed types.
  Tensor LShift(const Tensor& y) const;
  Tensor LShift(Number y) const;
  Tensor RShift(const Tensor& y) const;
  Tensor RShift(Number y) const;

  Tensor Neg() const;  // bool: logical not
  Tensor Cast(DType dtype) const;
  // Reinterprets the bits; dtype must have the same item size (not bool).
  Tensor Bitcast(DType dtype) const;

  // Float math (int/bool inputs compute as float32).
  Tensor Exp() const;
  Tensor Exp2() const;
  Tensor Log() const;
  Tensor Log2() const;
  Tensor Sqrt() const;
  Tensor Rsqrt() const;
  Tensor Reciprocal() const;
  Tensor Sin() const;
  Tensor Cos() const;
  Tensor Tan() const;
  Tensor Erf() const;  // Abramowitz-Stegun 7.1.26, |error| < 1.5e-7
  // Number-preserving math (same dtype).
  Tensor Abs() const;
  Tensor Sign() const;  // -1, 0 or 1 (NaN stays NaN)
  Tensor Square() const { return Mul(*this); }
  Tensor Floor() const;
  Tensor Ceil() const;
  Tensor Round() const;  // half to even, like numpy and ONNX
  Tensor Trunc() const;
  Tensor IsNan() const;
  Tensor IsInf(bool detect_positive = true, bool detect_negative = true) const;

  // Activations (float; int inputs compute as float32).
  Tensor Relu() const;  // max(x, 0), NaN propagates
  Tensor LeakyRelu(double alpha = 0.01) const;
  // 1 / (1 + exp(-x)): exact limits at +-inf, never NaN for large |x|.
  Tensor Sigmoid() const;
  Tensor Tanh() const;  // 2 * sigmoid(2x) - 1
  // Exact (erf) by default; tanh_approx uses the tanh formula.
  Tensor Gelu(bool tanh_approx = false) const;
  Tensor Silu() const;  // x * sigmoid(x)
  // log(1 + exp(beta x)) / beta in the overflow-free form.
  Tensor Softplus(double beta = 1.0) const;
  Tensor Elu(double alpha = 1.0) const;
  Tensor Selu() const;
  Tensor HardSigmoid(double alpha = 1.0 / 6.0, double beta = 0.5) const;
  Tensor HardSwish() const;  // x * hardsigmoid(x)
  Tensor Mish() const;       // x * tanh(softplus(x))

  // ------------------------------------------------------------- reductions
  // Axes may be negative; duplicates are an error. The no-argument forms
  // reduce every axis. An empty axis list reduces nothing.
  // Sum accumulates bool/int8/int16/int32 in int32, unsigned types in at
  // least uint32, float16/bfloat16 in float32 (cast back); `dtype` overrides
  // the accumulation and result dtype.
  Tensor Sum(const std::vector<int64_t>& axes, bool keepdim = false,
             std::optional<DType> dtype = std::nullopt) const;
  Tensor Sum() const;
  Tensor Prod(const std::vector<int64_t>& axes, bool keepdim = false) const;
  Tensor Prod() const;
  Tensor Max(const std::vector<int64_t>& axes, bool keepdim = false) const;
  Tensor Max() const;
  Tensor Min(const std::vector<int64_t>& axes, bool keepdim = false) const;
  Tensor Min() const;
  // Float result (int inputs become float32).
  Tensor Mean(const std::vector<int64_t>& axes, bool keepdim = false) const;
  Tensor Mean() const;
  // Variance with Bessel-style correction (divides by max(0, N - correction)).
  Tensor Var(const std::vector<int64_t>& axes, bool keepdim = false, double correction = 1.0) const;
  Tensor Std(const std::vector<int64_t>& axes, bool keepdim = false, double correction = 1.0) const;
  Tensor Any(const std::vector<int64_t>& axes, bool keepdim = false) const;
  Tensor Any() const;
  Tensor All(const std::vector<int64_t>& axes, bool keepdim = false) const;
  Tensor All() const;
  // int32 index of the first maximum / minimum along `axis` (like numpy).
  Tensor ArgMax(int64_t axis, bool keepdim = false) const;
  Tensor ArgMin(int64_t axis, bool keepdim = false) const;
  // log(sum(exp(x))) with the max subtracted first (all -inf gives -inf).
  Tensor LogSumExp(const std::vector<int64_t>& axes, bool keepdim = false) const;
  // Running sum along `axis` (a pooled view summed by a reduce, as tinygrad).
  // exclusive: each output excludes its own element; reverse: from the end.
  Tensor CumSum(int64_t axis, bool exclusive = false, bool reverse = false) const;

  // --------------------------------------------------------------- movement
  // All free views. Reshape accepts one -1 (inferred size).
  Tensor Reshape(const Shape& shape) const;
  Tensor Permute(const std::vector<int64_t>& order) const;
  Tensor Transpose(int64_t a = -2, int64_t b = -1) const;
  Tensor T() const { return Transpose(); }
  // numpy broadcast_to: may add leading axes; -1 keeps a size.
  Tensor Expand(const Shape& shape) const;
  // One (before, after) pair per axis. Negative amounts crop. `value` is
  // converted to this dtype. Reflect needs pads < size, wrap pads <= size,
  // edge a non-empty axis.
  Tensor Pad(const PairList& pads, Number value = 0, PadMode mode = PadMode::kConstant) const;
  // One (begin, end) per axis, 0 <= begin <= end <= size.
  Tensor Shrink(const PairList& bounds) const;
  Tensor Flip(const std::vector<int64_t>& axes) const;
  // One spec per leading axis (missing trailing axes are whole).
  Tensor Slice(const std::vector<SliceSpec>& specs) const;
  Tensor Slice(int64_t axis, std::optional<int64_t> start, std::optional<int64_t> stop,
               int64_t step = 1) const;
  // x[index] along `axis`, removing the axis (negative index counts back).
  Tensor Select(int64_t axis, int64_t index) const;
  Tensor Squeeze(const std::vector<int64_t>& axes) const;  // those must be size 1
  Tensor Squeeze() const;                                  // every size-1 axis
  Tensor Unsqueeze(int64_t axis) const;                    // axis in [-ndim-1, ndim]
  Tensor Flatten(int64_t start = 0, int64_t end = -1) const;
  Tensor Unflatten(int64_t axis, const Shape& sizes) const;
  // np.tile: repeats.size() >= ndim (leading repeats add axes).
  Tensor Repeat(const std::vector<int64_t>& repeats) const;
  // Joins along an existing axis (sizes must match elsewhere); dtypes promote.
  static Tensor Cat(const std::vector<Tensor>& tensors, int64_t axis = 0);
  // Joins along a new axis (shapes must match).
  static Tensor Stack(const std::vector<Tensor>& tensors, int64_t axis = 0);
  // Pieces of the given sizes (summing to the axis size) along `axis`. On
  // error the result is one error tensor.
  std::vector<Tensor> Split(const std::vector<int64_t>& sizes, int64_t axis = 0) const;
  // `chunks` near-equal pieces (the last may be smaller), like torch.chunk.
  std::vector<Tensor> Chunk(int64_t chunks, int64_t axis = 0) const;

  // --------------------------------------------------------------- indexing
  // Out-of-range indices are not checked (they are data): Gather/Take give 0
  // there and Scatter ignores them. Negative indices count from the end.
  // torch.gather / ONNX GatherElements: out[i][j] = x[index[i][j]][j] for
  // axis 0; index has this rank and sizes <= ours off `axis`.
  Tensor Gather(int64_t axis, const Tensor& index) const;
  // numpy.take / ONNX Gather: out shape = shape[:axis] + index.shape + shape[axis+1:].
  Tensor Take(int64_t axis, const Tensor& index) const;
  // torch.scatter / ONNX ScatterElements: a copy of this tensor with
  // out[index[i][j]][j] = src[i][j] (axis 0). Duplicate indices: undefined
  // (here: their sum).
  Tensor Scatter(int64_t axis, const Tensor& index, const Tensor& src) const;
  Tensor Scatter(int64_t axis, const Tensor& index, Number src) const;
  // Combines every src element scattered to a position with `reduction`,
  // including the existing value when include_self.
  Tensor ScatterReduce(int64_t axis, const Tensor& index, const Tensor& src,
                       ScatterReduction reduction, bool include_self = true) const;
  // (..., num_classes) of `dtype`, 1 where the class equals this int tensor.
  Tensor OneHot(int64_t num_classes, DType dtype = DType::Int32()) const;
  // This tensor is a (vocab, dim) weight; rows picked by integer `indices`.
  Tensor Embedding(const Tensor& indices) const;

  // --------------------------------------------------------------------- nn
  // numpy.matmul: 1-D operands, batch broadcasting; result dtype promotes
  // (or acc_dtype, which also sets the accumulation).
  Tensor Matmul(const Tensor& w, std::optional<DType> acc_dtype = std::nullopt) const;
  Tensor Dot(const Tensor& w, std::optional<DType> acc_dtype = std::nullopt) const {
    return Matmul(w, acc_dtype);
  }
  // x @ weight.T + bias with weight (out, in), like torch.nn.Linear.
  Tensor Linear(const Tensor& weight, const std::optional<Tensor>& bias = std::nullopt) const;
  // N-d convolution (cross-correlation) of (batch, cin, *spatial) with
  // weight (cout, cin / groups, *kernel).
  Tensor Conv(const Tensor& weight, const std::optional<Tensor>& bias = std::nullopt,
              const ConvOptions& opts = {}) const;
  Tensor Conv2d(const Tensor& weight, const std::optional<Tensor>& bias = std::nullopt,
                const ConvOptions& opts = {}) const {
    return Conv(weight, bias, opts);
  }
  // Transposed convolution with weight (cin, cout / groups, *kernel), like
  // torch.nn.functional.conv_transpose*d.
  Tensor ConvTranspose(const Tensor& weight, const std::optional<Tensor>& bias = std::nullopt,
                       const ConvOptions& opts = {}) const;
  Tensor ConvTranspose2d(const Tensor& weight, const std::optional<Tensor>& bias = std::nullopt,
                         const ConvOptions& opts = {}) const {
    return ConvTranspose(weight, bias, opts);
  }
  Tensor MaxPool(const PoolOptions& opts) const;
  Tensor AvgPool(const PoolOptions& opts) const;
  Tensor MaxPool2d(const PoolOptions& opts) const { return MaxPool(opts); }
  Tensor AvgPool2d(const PoolOptions& opts) const { return AvgPool(opts); }
  // The max is subtracted first, so large inputs do not overflow.
  Tensor Softmax(int64_t axis = -1) const;
  Tensor LogSoftmax(int64_t axis = -1) const;
  // Normalizes over the axes from `axis` to the end; weight/bias broadcast
  // against those axes.
  Tensor LayerNorm(int64_t axis = -1, const std::optional<Tensor>& weight = std::nullopt,
                   const std::optional<Tensor>& bias = std::nullopt, double eps = 1e-5) const;
  // Inference batch norm over axis 1 with per-channel (C,) tensors.
  Tensor BatchNorm(const Tensor& scale, const Tensor& bias, const Tensor& mean, const Tensor& var,
                   double eps = 1e-5) const;

 private:
  Tensor(UOpPtr uop, std::string device, StorageRefs refs);

  // A tensor on this device keeping this (and `other`'s) storages alive.
  Tensor Derive(UOpPtr uop) const;
  Tensor Derive(UOpPtr uop, const Tensor& other) const;
  friend struct TensorOps;  // the op implementations (tensor_*.cc)

  // Keeps a marked tensor's slot pointing at its current node.
  void SyncGradSlot() const;

  UOpPtr uop_;
  absl::Status status_;
  std::string device_;
  StorageRefs refs_;
  std::shared_ptr<GradSlot> grad_slot_;  // set by RequiresGrad
};

// The gradient state of a tensor marked with RequiresGrad (shared by its
// copies). `node` follows the tensor through Realize and Assign, so Backward
// can find the tensor in a loss graph.
struct GradSlot {
  std::mutex mu;
  UOpPtr node;
  std::optional<Tensor> grad;
};

// Arithmetic sugar, numbers on either side.
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Number b);
Tensor operator-(const Tensor& a, Number b);
Tensor operator*(const Tensor& a, Number b);
Tensor operator/(const Tensor& a, Number b);
Tensor operator+(Number a, const Tensor& b);
Tensor operator-(Number a, const Tensor& b);
Tensor operator*(Number a, const Tensor& b);
Tensor operator/(Number a, const Tensor& b);
Tensor operator-(const Tensor& a);

// "(2, 3)", "(4,)", "()".
std::string ShapeToString(const Shape& shape);

// The dtype of a C++ element type (bool, int8_t, ..., float, double).
template <typename T>
constexpr std::optional<DType> DTypeOf() {
  if constexpr (std::is_same_v<T, bool>) return DType::Bool();
  if constexpr (std::is_same_v<T, int8_t>) return DType::Int8();
  if constexpr (std::is_same_v<T, int16_t>) return DType::Int16();
  if constexpr (std::is_same_v<T, int32_t>) return DType::Int32();
  if constexpr (std::is_same_v<T, int64_t>) return DType::Int64();
  if constexpr (std::is_same_v<T, uint8_t>) return DType::UInt8();
  if constexpr (std::is_same_v<T, uint16_t>) return DType::UInt16();
  if constexpr (std::is_same_v<T, uint32_t>) return DType::UInt32();
  if constexpr (std::is_same_v<T, uint64_t>) return DType::UInt64();
  if constexpr (std::is_same_v<T, float>) return DType::Float32();
  if constexpr (std::is_same_v<T, double>) return DType::Float64();
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Template definitions.

template <typename Elem>
Tensor Tensor::FromVector(const std::vector<Elem>& data, Shape shape, std::string device) {
  constexpr std::optional<DType> dtype = DTypeOf<Elem>();
  static_assert(dtype.has_value(), "FromVector: unsupported element type");
  std::vector<uint8_t> bytes(data.size() * sizeof(Elem));
  for (size_t i = 0; i < data.size(); ++i) {
    Elem v = data[i];  // vector<bool> yields proxies: copy each element out
    std::memcpy(&bytes[i * sizeof(Elem)], &v, sizeof(Elem));
  }
  return FromBytes(bytes, *dtype, std::move(shape), std::move(device));
}

template <typename Elem>
absl::StatusOr<std::vector<Elem>> Tensor::ToVector() const {
  constexpr std::optional<DType> want = DTypeOf<Elem>();
  static_assert(want.has_value(), "ToVector: unsupported element type");
  if (!ok()) return status_;
  if (dtype() != *want)
    return absl::InvalidArgumentError(
        absl::StrCat("ToVector: tensor is ", dtype().ToString(), ", asked for ", want->ToString()));
  absl::StatusOr<std::vector<uint8_t>> bytes = ToBytes();
  if (!bytes.ok()) return bytes.status();
  std::vector<Elem> out(bytes->size() / sizeof(Elem));
  for (size_t i = 0; i < out.size(); ++i) {
    Elem v;
    std::memcpy(&v, bytes->data() + i * sizeof(Elem), sizeof(Elem));
    out[i] = v;
  }
  return out;
}

template <typename Elem>
absl::StatusOr<Elem> Tensor::Item() const {
  if (!ok()) return status_;
  if (numel() != 1)
    return absl::InvalidArgumentError(absl::StrCat("Item: tensor of shape ", ShapeToString(shape()),
                                                   " has ", numel(), " elements, not 1"));
  absl::StatusOr<std::vector<Elem>> v = ToVector<Elem>();
  if (!v.ok()) return v.status();
  return (*v)[0];
}

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_TENSOR_H_

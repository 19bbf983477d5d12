// Random numbers from THREEFRY over element counters: the same seed gives the
// same numbers on every backend, and the graph is ordinary ops.
#include <cmath>
#include <mutex>
#include <numbers>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

struct RandState {
  std::mutex mu;
  uint64_t seed = 0;
  uint64_t counter = 0;
};

RandState& State() {
  static auto* state = new RandState();
  return *state;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The THREEFRY key of one call: stream `n` of `seed`. A call with an
// explicit seed uses stream 0, so it equals the first call after
// ManualSeed(seed).
uint64_t KeyFor(const RandOptions& opts) {
  uint64_t seed, stream;
  if (opts.seed) {
    seed = *opts.seed;
    stream = 0;
  } else {
    RandState& st = State();
    std::lock_guard<std::mutex> lock(st.mu);
    seed = st.seed;
    stream = st.counter++;
  }
  return SplitMix64(seed ^ SplitMix64(stream));
}

// n uint64 words: THREEFRY(i, key) for i in [0, n).
Tensor RandomBits(int64_t n, uint64_t key, const std::string& device) {
  Tensor counter = Tensor::Arange(0, n, 1, DType::UInt64(), device);
  Tensor k = Tensor::Full({n}, key, DType::UInt64(), device);
  return TensorOps::Alu(Op::kThreefry, {&counter, &k});
}

// Uniform [0, 1) of a float dtype from the top mantissa bits of each word:
// (1.m - 1) is exact, every value a multiple of 2^-mantissa_bits.
Tensor UniformFromBits(const Tensor& bits, DType dtype) {
  int mantissa;
  DType uint_dtype;
  uint64_t one_bits;
  switch (dtype.scalar_type()) {
    case ScalarType::kFloat16:
      mantissa = 10, uint_dtype = DType::UInt16(), one_bits = 0x3c00;
      break;
    case ScalarType::kBFloat16:
      mantissa = 7, uint_dtype = DType::UInt16(), one_bits = 0x3f80;
      break;
    case ScalarType::kFloat32:
      mantissa = 23, uint_dtype = DType::UInt32(), one_bits = 0x3f800000;
      break;
    default:
      mantissa = 52, uint_dtype = DType::UInt64(), one_bits = 0x3ff0000000000000ull;
      break;
  }
  Tensor m = bits.RShift(64 - mantissa).Cast(uint_dtype).BitwiseOr(one_bits);
  return m.Bitcast(dtype).Sub(1);
}

}  // namespace

void Tensor::ManualSeed(uint64_t seed) {
  RandState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  st.seed = seed;
  st.counter = 0;
}

Tensor Tensor::Rand(Shape shape, DType dtype, const RandOptions& opts) {
  if (!dtype.is_float() || dtype.count() != 1)
    return TensorOps::Fail("Rand", "needs a float dtype, got ", dtype.ToString());
  Tensor zeros = Zeros(shape, dtype, opts.device);  // validates shape and device
  if (!zeros.ok() || zeros.numel() == 0) return zeros;
  Tensor bits = RandomBits(zeros.numel(), KeyFor(opts), opts.device);
  return UniformFromBits(bits, dtype).Reshape(shape);
}

Tensor Tensor::Randn(Shape shape, DType dtype, const RandOptions& opts) {
  if (!dtype.is_float() || dtype.count() != 1)
    return TensorOps::Fail("Randn", "needs a float dtype, got ", dtype.ToString());
  Shape two = shape;
  two.insert(two.begin(), 2);
  Tensor u = Rand(two, DType::Float32(), opts);
  if (!u.ok() || u.numel() == 0) return Zeros(shape, dtype, opts.device);
  // Box-Muller; 1 - u is in (0, 1], so the log is finite.
  Tensor angle = u.Select(0, 0).Mul(2 * std::numbers::pi).Cos();
  Tensor r = (1 - u.Select(0, 1)).Log().Mul(-2).Sqrt();
  return angle.Mul(r).Cast(dtype);
}

Tensor Tensor::RandInt(Shape shape, int64_t low, int64_t high, DType dtype,
                       const RandOptions& opts) {
  if (!dtype.is_int() || dtype.count() != 1 || dtype.scalar_type() == ScalarType::kIndex)
    return TensorOps::Fail("RandInt", "needs an integer dtype, got ", dtype.ToString());
  if (high <= low) return TensorOps::Fail("RandInt", "empty range [", low, ", ", high, ")");
  if (!dtype.is_unsigned() ? low < dtype.min_int() : low < 0)
    return TensorOps::Fail("RandInt", "low ", low, " does not fit ", dtype.ToString());
  if (static_cast<uint64_t>(high - 1) > dtype.max_uint())
    return TensorOps::Fail("RandInt", "high ", high, " does not fit ", dtype.ToString());
  Tensor zeros = Zeros(shape, dtype, opts.device);
  if (!zeros.ok() || zeros.numel() == 0) return zeros;
  Tensor bits = RandomBits(zeros.numel(), KeyFor(opts), opts.device);
  // bits mod range, in uint64 (the bias is below 2^-32 for ranges under 2^32).
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  Tensor r = TensorOps::Const(range, DType::UInt64(), bits.shape(), opts.device);
  Tensor offset = TensorOps::Alu(Op::kMod, {&bits, &r}).Add(static_cast<uint64_t>(low));
  return offset.Bitcast(DType::Int64()).Cast(dtype).Reshape(shape);
}

Tensor Tensor::Dropout(double p, const RandOptions& opts) const {
  if (!ok()) return *this;
  if (!(p >= 0.0 && p <= 1.0)) return TensorOps::Fail("Dropout", "p = ", p, " is not in [0, 1]");
  if (p == 0.0) return *this;
  if (p == 1.0) return ZerosLike();
  RandOptions here = opts;
  here.device = device_;
  Tensor keep = Rand(shape(), DType::Float32(), here).Ge(p);
  Tensor scaled = Mul(1.0 / (1.0 - p));
  return keep.Where(scaled, 0);
}

}  // namespace uop

#include "runtime/nn/dropout.h"

#include "absl/strings/str_cat.h"

namespace uop::nn {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform float32 in [0, 1) from the top 23 bits of 64 random bits.
Tensor Uniform(const Tensor& bits) {
  return bits.RShift(64 - 23)
      .Cast(DType::UInt32())
      .BitwiseOr(0x3f800000)
      .Bitcast(DType::Float32())
      .Sub(1);
}

}  // namespace

Dropout::Dropout(double p, uint64_t seed, const std::string& device) : p_(p) {
  key = Tensor::FromVector<uint64_t>({SplitMix64(seed)}, Shape{1}, device);
}

Tensor Dropout::operator()(const Tensor& x, bool training) {
  if (!x.ok()) return x;
  if (!(p_ >= 0 && p_ <= 1))
    return Tensor::Error(
        absl::InvalidArgumentError(absl::StrCat("Dropout: p = ", p_, " is outside [0, 1]")));
  if (!training || p_ == 0) return x;
  if (p_ == 1) return x.ZerosLike();
  const int64_t n = x.numel();
  Tensor counter = Tensor::Arange(0, n, 1, DType::UInt64(), x.device());
  Tensor k = key.Expand({n});
  Tensor bits = Tensor::FromUOp(UOp::Alu(Op::kThreefry, {counter.uop(), k.uop()}), x.device(),
                                StorageRefs::Merge(counter.storages(), k.storages()));
  Tensor keep = Uniform(bits).Ge(p_).Reshape(x.shape());
  Tensor y = keep.Where(x.Mul(1.0 / (1.0 - p_)), 0).Cast(x.dtype());
  key.Assign(key.Add(uint64_t{1}));
  return y;
}

void Dropout::Collect(const std::string& prefix, std::vector<NamedTensor>*,
                      std::vector<NamedTensor>* buffers) {
  buffers->push_back({prefix + "key", &key});
}

}  // namespace uop::nn

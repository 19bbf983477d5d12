#include "drivers/cuda/cuda_op_cases.h"

#include <cmath>
#include <cstring>
#include <random>

namespace uop::cuda::testing {
namespace {

using T = std::vector<Tensor>;
const DType kF32 = DType::Float32();
const DType kF16 = DType::Float16();
const DType kBF16 = DType::BFloat16();
const DType kI32 = DType::Int32();
const DType kU8 = DType::UInt8();

template <typename V>
void Append(std::vector<uint8_t>& out, V v) {
  uint8_t b[sizeof(V)];
  std::memcpy(b, &v, sizeof(V));
  out.insert(out.end(), b, b + sizeof(V));
}

std::vector<OpCase> BuildCases() {
  std::vector<OpCase> c;
  auto add = [&](std::string name, std::vector<OpInput> in, std::function<Tensor(const T&)> fn,
                 double tol = 1e-4) {
    c.push_back(OpCase{std::move(name), std::move(in), std::move(fn), tol, tol});
  };
  const OpInput v1k{{1000}}, m{{33, 47}}, m2{{33, 47}}, big{{256, 1024}};
  // Elementwise float.
  add("add_broadcast", {m, {{47}}}, [](const T& x) { return x[0].Add(x[1]); });
  add("sub_mul_div", {m, m2}, [](const T& x) { return x[0].Sub(x[1]).Mul(x[0]).Div(x[1].Add(3)); });
  add("neg_abs_sign", {v1k}, [](const T& x) { return x[0].Neg().Abs().Add(x[0].Sign()); });
  add("exp_log", {{{1000}, kF32, 0.1, 4}}, [](const T& x) { return x[0].Exp().Add(x[0].Log()); });
  add("sin_cos_tan", {v1k}, [](const T& x) { return x[0].Sin().Add(x[0].Cos()).Add(x[0].Tan()); });
  add("sqrt_rsqrt_recip", {{{1000}, kF32, 0.5, 9}},
      [](const T& x) { return x[0].Sqrt().Add(x[0].Rsqrt()).Add(x[0].Reciprocal()); });
  add("activations", {v1k}, [](const T& x) {
    return x[0].Relu().Add(x[0].Sigmoid()).Add(x[0].Tanh()).Add(x[0].Gelu()).Add(x[0].Silu());
  });
  add("erf_softplus_mish", {v1k},
      [](const T& x) { return x[0].Erf().Add(x[0].Softplus()).Add(x[0].Mish()); });
  add("pow_max_min_clip", {{{1000}, kF32, 0.2, 3}, v1k}, [](const T& x) {
    return x[0].Pow(x[1]).Add(x[0].Maximum(x[1])).Add(x[0].Minimum(x[1])).Add(x[1].Clip(-0.5, 0.5));
  });
  add("floor_ceil_round_trunc", {{{1000}, kF32, -20, 20}},
      [](const T& x) { return x[0].Floor().Add(x[0].Ceil()).Add(x[0].Round()).Add(x[0].Trunc()); });
  add("where_compare", {m, m2},
      [](const T& x) { return x[0].Lt(x[1]).Where(x[0], x[1].Mul(2)).Add(x[0].Ge(0).Cast(kF32)); });
  add("fmod_floordiv", {{{1000}, kF32, -9, 9}, {{1000}, kF32, 0.5, 3}},
      [](const T& x) { return x[0].Fmod(x[1]).Add(x[0].FloorDiv(x[1])); });
  add("isnan_isinf", {v1k}, [](const T& x) {
    Tensor y = x[0].Div(x[0].Add(0.5).Round());  // some inf and nan
    return y.IsNan().Cast(kF32).Add(y.IsInf().Cast(kF32));
  });
  // Integers and bools.
  add("int_arith", {{{997}, kI32, -1000, 1000}, {{997}, kI32, -50, 50, true}}, [](const T& x) {
    return x[0].Add(x[1]).Mul(x[1]).Sub(x[0].IntDiv(x[1])).Add(x[0].Mod(x[1]));
  });
  add("int_bitwise_shift", {{{997}, kI32, 0, 100000}, {{997}, kI32, 0, 12}}, [](const T& x) {
    return x[0].BitwiseAnd(x[1]).BitwiseOr(x[0].RShift(x[1])).BitwiseXor(x[1].LShift(x[1]));
  });
  add("int_max_compare", {{{997}, kI32, -100, 100}, {{997}, kI32, -100, 100}},
      [](const T& x) { return x[0].Maximum(x[1]).Add(x[0].Eq(x[1]).Cast(kI32)); });
  add("uint8_wraps", {{{512}, kU8, 0, 255}},
      [](const T& x) { return x[0].Add(x[0]).Mul(3).Cast(kI32); });
  add("bool_logic", {m, m2}, [](const T& x) {
    Tensor a = x[0].Gt(0), b = x[1].Gt(0);
    return a.LogicalAnd(b).LogicalOr(a.LogicalXor(b).LogicalNot()).Cast(kF32);
  });
  add("casts", {{{1000}, kF32, -300, 300}}, [](const T& x) {
    return x[0]
        .Cast(kI32)
        .Cast(kF32)
        .Add(x[0].Cast(DType::Int8()).Cast(kF32))
        .Add(x[0].Cast(DType::Float64()).Mul(1.5).Cast(kF32));
  });
  add("bitcast", {v1k},
      [](const T& x) { return x[0].Bitcast(kI32).BitwiseAnd(0x7fffffff).Bitcast(kF32); });
  // 16-bit floats.
  add(
      "half_elementwise", {{{1024}, kF16}, {{1024}, kF16}},
      [](const T& x) { return x[0].Mul(x[1]).Add(x[0].Exp()).Cast(kF32); }, 1e-2);
  add(
      "bf16_elementwise", {{{1024}, kBF16}, {{1024}, kBF16}},
      [](const T& x) { return x[0].Mul(x[1]).Sub(x[1].Sigmoid()).Cast(kF32); }, 2e-2);
  add("float_to_half_roundtrip", {v1k}, [](const T& x) { return x[0].Cast(kF16).Cast(kF32); });
  add("float_to_bf16_roundtrip", {v1k}, [](const T& x) { return x[0].Cast(kBF16).Cast(kF32); });
  // Reductions.
  add("sum_rows", {big}, [](const T& x) { return x[0].Sum({1}); });
  add("sum_cols", {big}, [](const T& x) { return x[0].Sum({0}); });
  add(
      "sum_all", {big}, [](const T& x) { return x[0].Sum(); }, 1e-3);
  add("max_min_prod", {{{7, 33, 5}}}, [](const T& x) {
    return x[0].Max({1}).Add(x[0].Min({1})).Add(x[0].Mul(0.3).Add(1).Prod({1}));
  });
  add("mean_var_std", {{{64, 300}}},
      [](const T& x) { return x[0].Mean({1}).Add(x[0].Var({1})).Add(x[0].Std({1})); });
  add("argmax_argmin", {{{37, 61}}},
      [](const T& x) { return x[0].ArgMax(1).Add(x[0].ArgMin(0).Sum()); });
  add("softmax_logsumexp", {{{16, 1000}}},
      [](const T& x) { return x[0].Softmax(1).Add(x[0].LogSumExp({1}, true)); });
  add(
      "layernorm", {{{32, 768}}}, [](const T& x) { return x[0].LayerNorm(); }, 1e-3);
  add("any_all", {m}, [](const T& x) {
    return x[0].Gt(1.5).Any({1}).Cast(kF32).Add(x[0].Gt(-1.9).All({1}).Cast(kF32));
  });
  add(
      "cumsum", {{{5, 300}}}, [](const T& x) { return x[0].CumSum(1); }, 1e-3);
  add(
      "half_sum", {{{64, 512}, kF16}}, [](const T& x) { return x[0].Sum({1}).Cast(kF32); }, 3e-2);
  // Movement.
  add("permute_pad_shrink", {{{6, 7, 8}}}, [](const T& x) {
    return x[0]
        .Permute({2, 0, 1})
        .Pad({{1, 2}, {0, 3}, {2, 0}}, 0.5)
        .Shrink({{1, 9}, {2, 8}, {0, 6}});
  });
  add("flip_expand", {{{9, 1, 5}}}, [](const T& x) {
    return x[0].Flip({0, 2}).Expand({9, 4, 5}).Add(1);
  });
  add("slice_step_cat", {{{10, 12}}, {{10, 5}}}, [](const T& x) {
    return Tensor::Cat({x[0].Slice(1, 1, 11, 2), x[1], x[0].Flip({1}).Slice(1, 0, 3, 1)}, 1);
  });
  add("pad_modes", {{{5, 6}}}, [](const T& x) {
    return x[0]
        .Pad({{2, 2}, {3, 1}}, 0, PadMode::kReflect)
        .Add(x[0].Pad({{2, 2}, {3, 1}}, 0, PadMode::kEdge));
  });
  add("gather_onehot", {{{20, 30}}, {{20, 4}, kI32, 0, 29}},
      [](const T& x) { return x[0].Gather(1, x[1]); });
  add("arange_eye", {{{16, 16}}}, [](const T& x) {
    return x[0]
        .Add(Tensor::Eye(16, 16, kF32, x[0].device()))
        .Add(Tensor::Arange(0, 16, 1, kF32, x[0].device()));
  });
  // Matmul and convolution.
  add("matmul_odd", {{{13, 17}}, {{17, 19}}}, [](const T& x) { return x[0].Matmul(x[1]); });
  add("matmul_128", {{{128, 96}}, {{96, 128}}}, [](const T& x) { return x[0].Matmul(x[1]); });
  add("matmul_batched", {{{3, 40, 24}}, {{3, 24, 36}}},
      [](const T& x) { return x[0].Matmul(x[1]); });
  add("matmul_bias_relu", {{{64, 64}}, {{64, 64}}, {{64}}},
      [](const T& x) { return x[0].Matmul(x[1]).Add(x[2]).Relu(); });
  // The graph rounds each product to the input type before the float32 sum;
  // tensor cores multiply exactly, so the tolerance covers that rounding.
  add(
      "matmul_half", {{{64, 128}, kF16}, {{128, 64}, kF16}},
      [](const T& x) { return x[0].Matmul(x[1], kF32); }, 5e-2);
  add(
      "matmul_bf16_256", {{{256, 256}, kBF16}, {{256, 256}, kBF16}},
      [](const T& x) { return x[0].Matmul(x[1], kF32); }, 0.3);
  add(
      "matmul_half_out_256", {{{256, 512}, kF16}, {{512, 128}, kF16}},
      [](const T& x) { return x[0].Matmul(x[1], kF32).Cast(kF16); }, 0.3);
  add(
      "matmul_fp32_256_bias", {{{256, 128}}, {{128, 256}}, {{256}}},
      [](const T& x) { return x[0].Matmul(x[1]).Add(x[2]); }, 1e-3);
  add(
      "matmul_fp32_transposed_b", {{{128, 64}}, {{256, 64}}},
      [](const T& x) { return x[0].Matmul(x[1].T()); }, 1e-3);
  add("conv2d", {{{2, 3, 12, 12}}, {{8, 3, 3, 3}}, {{8}}}, [](const T& x) {
    ConvOptions o;
    o.padding = {{1, 1}, {1, 1}};
    return x[0].Conv(x[1], x[2], o);
  });
  add("conv2d_strided_grouped", {{{1, 4, 11, 11}}, {{4, 2, 3, 3}}}, [](const T& x) {
    ConvOptions o;
    o.groups = 2;
    o.stride = {2};
    return x[0].Conv(x[1], std::nullopt, o);
  });
  add("pooling", {{{2, 3, 10, 10}}}, [](const T& x) {
    PoolOptions p;
    p.kernel = {3, 3};
    p.stride = {2, 2};
    return x[0].MaxPool(p).Add(x[0].AvgPool(p));
  });
  // Random numbers (threefry) must match bit for bit.
  add(
      "rand", {{{4}}},
      [](const T& x) {
        RandOptions o;
        o.seed = 42;
        o.device = x[0].device();
        return Tensor::Rand({4096}, kF32, o).Add(x[0].Sum());
      },
      1e-5);
  return c;
}

}  // namespace

const std::vector<OpCase>& OpCases() {
  static const std::vector<OpCase>* const cases = new std::vector<OpCase>(BuildCases());
  return *cases;
}

std::vector<Tensor> MakeInputs(const OpCase& c, const std::string& device) {
  std::vector<Tensor> out;
  uint32_t seed = 0;
  for (char ch : c.name) seed = seed * 131 + static_cast<uint8_t>(ch);
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const OpInput& in = c.inputs[i];
    std::mt19937 gen(seed + static_cast<uint32_t>(i) * 7919);
    std::uniform_real_distribution<double> dist(in.lo, in.hi);
    int64_t n = 1;
    for (int64_t d : in.shape) n *= d;
    std::vector<uint8_t> bytes;
    for (int64_t e = 0; e < n; ++e) {
      double v = dist(gen);
      if (!in.dtype.is_float()) {
        v = std::round(v);
        if (in.nonzero && v == 0) v = 1;
      }
      switch (in.dtype.scalar_type()) {
        case ScalarType::kFloat32:
          Append(bytes, static_cast<float>(v));
          break;
        case ScalarType::kFloat64:
          Append(bytes, v);
          break;
        case ScalarType::kFloat16:
          Append(bytes, FloatToHalf(static_cast<float>(v)));
          break;
        case ScalarType::kBFloat16:
          Append(bytes, FloatToBFloat16(static_cast<float>(v)));
          break;
        case ScalarType::kInt32:
          Append(bytes, static_cast<int32_t>(v));
          break;
        case ScalarType::kUInt8:
          Append(bytes, static_cast<uint8_t>(v));
          break;
        default:
          Append(bytes, static_cast<int64_t>(v));
          break;
      }
    }
    out.push_back(Tensor::FromBytes(bytes, in.dtype, in.shape, device));
  }
  return out;
}

}  // namespace uop::cuda::testing

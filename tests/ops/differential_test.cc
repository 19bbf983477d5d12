// One differential harness for every op of the Tensor API on every backend:
// each case builds a graph from seeded inputs, realizes it with the float64
// reference (runtime/tensor/reference_eval.h) and with the Engine on each
// device, and compares. A failure prints the case (op, shapes, dtypes) and
// the first differing element.
//
// Devices: UOP_DIFF_DEVICES (comma separated, default "CPU"); a device that
// is not available here is skipped.
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"
#include "runtime/codegen/compile.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

// Every kernel these tests compile is checked by the IR validity rules between passes.
const bool kVerifyPasses = (SetVerifyPasses(true), true);

struct Input {
  Shape shape;
  DType dtype = DType::Float32();
  double lo = -2, hi = 2;  // value range (integers: inclusive)
};

struct OpCase {
  std::string name;
  std::vector<Input> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  double rtol = 1e-4;
  double atol = 1e-5;
};

std::string Describe(const OpCase& c);
// gtest prints a parameter with this instead of its bytes.
void PrintTo(const OpCase& c, std::ostream* os) { *os << Describe(c); }

std::string Describe(const OpCase& c) {
  std::vector<std::string> ins;
  for (const Input& i : c.inputs) {
    std::vector<std::string> dims;
    for (int64_t d : i.shape) dims.push_back(absl::StrCat(d));
    ins.push_back(absl::StrCat(i.dtype.ToString(), "(", absl::StrJoin(dims, ","), ")"));
  }
  return absl::StrCat(c.name, " [", absl::StrJoin(ins, " "), "]");
}

std::vector<uint8_t> Data(const Input& in, uint32_t seed) {
  std::mt19937 rng(seed);
  int64_t n = 1;
  for (int64_t d : in.shape) n *= d;
  std::vector<uint8_t> bytes(n * in.dtype.itemsize());
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = bytes.data() + i * in.dtype.itemsize();
    if (in.dtype.is_float()) {
      double v = std::uniform_real_distribution<double>(in.lo, in.hi)(rng);
      switch (in.dtype.scalar_type()) {
        case ScalarType::kFloat32: {
          float f = static_cast<float>(v);
          std::memcpy(p, &f, 4);
          break;
        }
        case ScalarType::kFloat64:
          std::memcpy(p, &v, 8);
          break;
        case ScalarType::kFloat16: {
          uint16_t h = FloatToHalf(static_cast<float>(v));
          std::memcpy(p, &h, 2);
          break;
        }
        case ScalarType::kBFloat16: {
          uint16_t h = FloatToBFloat16(static_cast<float>(v));
          std::memcpy(p, &h, 2);
          break;
        }
        default:
          break;
      }
    } else {
      int64_t v = in.dtype.is_bool()
                      ? std::uniform_int_distribution<int>(0, 1)(rng)
                      : std::uniform_int_distribution<int64_t>(static_cast<int64_t>(in.lo),
                                                               static_cast<int64_t>(in.hi))(rng);
      std::memcpy(p, &v, in.dtype.itemsize());  // little endian: low bytes
    }
  }
  return bytes;
}

double ElementAt(const std::vector<uint8_t>& b, DType d, int64_t i) {
  const uint8_t* p = b.data() + i * d.itemsize();
  switch (d.scalar_type()) {
    case ScalarType::kFloat32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case ScalarType::kFloat64: {
      double f;
      std::memcpy(&f, p, 8);
      return f;
    }
    case ScalarType::kFloat16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return HalfToFloat(h);
    }
    case ScalarType::kBFloat16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return BFloat16ToFloat(h);
    }
    case ScalarType::kBool:
      return *p != 0;
    case ScalarType::kInt8:
      return static_cast<int8_t>(*p);
    case ScalarType::kUInt8:
      return *p;
    case ScalarType::kInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case ScalarType::kUInt16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case ScalarType::kInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case ScalarType::kUInt32: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case ScalarType::kInt64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case ScalarType::kUInt64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    default:
      return 0;
  }
}

absl::StatusOr<std::vector<uint8_t>> RunCase(const OpCase& c, const std::string& device) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::vector<uint8_t> d = Data(c.inputs[i], 1234 + 17 * static_cast<uint32_t>(i));
    inputs.push_back(Tensor::FromBytes(d, c.inputs[i].dtype, c.inputs[i].shape, device));
  }
  Tensor out = c.fn(inputs);
  if (!out.ok()) return out.status();
  return out.ToBytes();
}

// ---------------------------------------------------------------------------
// The cases

std::vector<OpCase> Cases() {
  std::vector<OpCase> cases;
  auto add = [&](std::string name, std::vector<Input> in,
                 std::function<Tensor(const std::vector<Tensor>&)> fn, double rtol = 1e-4,
                 double atol = 1e-5) {
    cases.push_back({std::move(name), std::move(in), std::move(fn), rtol, atol});
  };
  const DType f32 = DType::Float32(), f16 = DType::Float16(), bf16 = DType::BFloat16(),
              f64 = DType::Float64();
  const DType i32 = DType::Int32(), i8 = DType::Int8(), u8 = DType::UInt8(), i64 = DType::Int64(),
              b = DType::Bool();

  // Unary elementwise over float dtypes; odd shapes exercise loop tails.
  struct Un {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
    double lo, hi;
  };
  std::vector<Un> unary = {
      {"Neg", [](const Tensor& x) { return x.Neg(); }, -3, 3},
      {"Exp", [](const Tensor& x) { return x.Exp(); }, -10, 10},
      {"Exp2", [](const Tensor& x) { return x.Exp2(); }, -10, 10},
      {"Log", [](const Tensor& x) { return x.Log(); }, 0.01, 100},
      {"Log2", [](const Tensor& x) { return x.Log2(); }, 0.01, 100},
      {"Sqrt", [](const Tensor& x) { return x.Sqrt(); }, 0, 100},
      {"Rsqrt", [](const Tensor& x) { return x.Rsqrt(); }, 0.1, 100},
      {"Reciprocal", [](const Tensor& x) { return x.Reciprocal(); }, 0.5, 4},
      {"Sin", [](const Tensor& x) { return x.Sin(); }, -20, 20},
      {"Cos", [](const Tensor& x) { return x.Cos(); }, -20, 20},
      {"Tan", [](const Tensor& x) { return x.Tan(); }, -1.2, 1.2},
      {"Erf", [](const Tensor& x) { return x.Erf(); }, -3, 3},
      {"Abs", [](const Tensor& x) { return x.Abs(); }, -3, 3},
      {"Sign", [](const Tensor& x) { return x.Sign(); }, -3, 3},
      {"Floor", [](const Tensor& x) { return x.Floor(); }, -5, 5},
      {"Ceil", [](const Tensor& x) { return x.Ceil(); }, -5, 5},
      {"Round", [](const Tensor& x) { return x.Round(); }, -5, 5},
      {"Trunc", [](const Tensor& x) { return x.Trunc(); }, -5, 5},
      {"Relu", [](const Tensor& x) { return x.Relu(); }, -3, 3},
      {"LeakyRelu", [](const Tensor& x) { return x.LeakyRelu(0.1); }, -3, 3},
      {"Sigmoid", [](const Tensor& x) { return x.Sigmoid(); }, -30, 30},
      {"Tanh", [](const Tensor& x) { return x.Tanh(); }, -5, 5},
      {"Gelu", [](const Tensor& x) { return x.Gelu(); }, -4, 4},
      {"GeluTanh", [](const Tensor& x) { return x.Gelu(true); }, -4, 4},
      {"Silu", [](const Tensor& x) { return x.Silu(); }, -6, 6},
      {"Softplus", [](const Tensor& x) { return x.Softplus(); }, -10, 10},
      {"Elu", [](const Tensor& x) { return x.Elu(); }, -3, 3},
      {"Selu", [](const Tensor& x) { return x.Selu(); }, -3, 3},
      {"HardSigmoid", [](const Tensor& x) { return x.HardSigmoid(); }, -4, 4},
      {"HardSwish", [](const Tensor& x) { return x.HardSwish(); }, -4, 4},
      {"Mish", [](const Tensor& x) { return x.Mish(); }, -4, 4},
      {"IsNan", [](const Tensor& x) { return x.Div(x).IsNan(); }, -1, 1},
      {"IsInf", [](const Tensor& x) { return x.Reciprocal().IsInf(); }, -1, 1},
      {"Square", [](const Tensor& x) { return x.Square(); }, -3, 3},
  };
  for (const Un& u : unary) {
    add(
        absl::StrCat(u.name, "_f32"), {{{3, 37}, f32, u.lo, u.hi}},
        [f = u.f](auto& in) { return f(in[0]); }, 2e-4, 1e-5);
    add(
        absl::StrCat(u.name, "_f64"), {{{5, 7}, f64, u.lo, u.hi}},
        [f = u.f](auto& in) { return f(in[0]); }, 1e-6, 1e-9);
  }
  for (const char* n : {"Exp", "Relu", "Sigmoid", "Sqrt"}) {
    for (Un& u : unary) {
      if (std::string(u.name) != n) continue;
      add(
          absl::StrCat(u.name, "_f16"), {{{4, 33}, f16, u.lo, u.hi}},
          [f = u.f](auto& in) { return f(in[0]); }, 2e-3, 1e-3);
      add(
          absl::StrCat(u.name, "_bf16"), {{{4, 33}, bf16, u.lo, u.hi}},
          [f = u.f](auto& in) { return f(in[0]); }, 1e-2, 1e-2);
    }
  }

  // Binary elementwise with broadcasting and promotion.
  struct Bin {
    const char* name;
    std::function<Tensor(const Tensor&, const Tensor&)> f;
  };
  std::vector<Bin> binary = {
      {"Add", [](const Tensor& a, const Tensor& b) { return a.Add(b); }},
      {"Sub", [](const Tensor& a, const Tensor& b) { return a.Sub(b); }},
      {"Mul", [](const Tensor& a, const Tensor& b) { return a.Mul(b); }},
      {"Maximum", [](const Tensor& a, const Tensor& b) { return a.Maximum(b); }},
      {"Minimum", [](const Tensor& a, const Tensor& b) { return a.Minimum(b); }},
      {"Lt", [](const Tensor& a, const Tensor& b) { return a.Lt(b); }},
      {"Le", [](const Tensor& a, const Tensor& b) { return a.Le(b); }},
      {"Gt", [](const Tensor& a, const Tensor& b) { return a.Gt(b); }},
      {"Eq", [](const Tensor& a, const Tensor& b) { return a.Eq(b); }},
      {"Ne", [](const Tensor& a, const Tensor& b) { return a.Ne(b); }},
  };
  for (const Bin& bn : binary) {
    add(absl::StrCat(bn.name, "_f32_broadcast"), {{{4, 1, 5}, f32}, {{3, 1}, f32}},
        [f = bn.f](auto& in) { return f(in[0], in[1]); });
    add(absl::StrCat(bn.name, "_i32"), {{{6, 10}, i32, -50, 50}, {{6, 10}, i32, -50, 50}},
        [f = bn.f](auto& in) { return f(in[0], in[1]); });
    add(absl::StrCat(bn.name, "_i8_u8_promote"), {{{33}, i8, -100, 100}, {{33}, u8, 0, 255}},
        [f = bn.f](auto& in) { return f(in[0], in[1]); });
  }
  add("Div_f32", {{{5, 9}, f32}, {{5, 9}, f32, 0.5, 3}}, [](auto& in) { return in[0].Div(in[1]); });
  add("Div_int_to_float", {{{5, 9}, i32, -20, 20}, {{5, 9}, i32, 1, 7}},
      [](auto& in) { return in[0].Div(in[1]); });
  add("IntDiv_i32", {{{5, 9}, i32, -20, 20}, {{5, 9}, i32, 1, 7}},
      [](auto& in) { return in[0].IntDiv(in[1]); });
  add("FloorDiv_i32", {{{5, 9}, i32, -20, 20}, {{5, 9}, i32, 1, 7}},
      [](auto& in) { return in[0].FloorDiv(in[1]); });
  add("Mod_i32", {{{5, 9}, i32, -20, 20}, {{5, 9}, i32, 1, 7}},
      [](auto& in) { return in[0].Mod(in[1]); });
  add("Mod_f32", {{{5, 9}, f32, -20, 20}, {{5, 9}, f32, 1, 7}},
      [](auto& in) { return in[0].Mod(in[1]); });
  add("Fmod_f32", {{{5, 9}, f32, -20, 20}, {{5, 9}, f32, 1, 7}},
      [](auto& in) { return in[0].Fmod(in[1]); });
  add(
      "Pow_f32", {{{4, 8}, f32, 0.1, 4}, {{4, 8}, f32, -2, 2}},
      [](auto& in) { return in[0].Pow(in[1]); }, 1e-3, 1e-5);
  add("Pow_int_exponent", {{{4, 8}, f32, -3, 3}}, [](auto& in) { return in[0].Pow(3); });
  add("Pow_i32_exact", {{{4, 8}, i32, -9, 9}}, [](auto& in) { return in[0].Pow(5); });
  add("Bitwise_i32", {{{40}, i32, -1000, 1000}, {{40}, i32, -1000, 1000}},
      [](auto& in) { return in[0].BitwiseAnd(in[1]).BitwiseXor(in[1].BitwiseOr(7)).BitwiseNot(); });
  add("Shifts_u8", {{{40}, u8, 0, 255}},
      [](auto& in) { return in[0].LShift(3).BitwiseOr(in[0].RShift(2)); });
  add("Logical_bool", {{{7, 7}, b}, {{7, 7}, b}}, [](auto& in) {
    return in[0].LogicalAnd(in[1]).LogicalOr(in[0].LogicalNot()).LogicalXor(in[1]);
  });
  add("Where_f32", {{{6, 6}, b}, {{6, 6}, f32}, {{6}, f32}},
      [](auto& in) { return in[0].Where(in[1], in[2]); });
  add("Clip_f32", {{{50}, f32, -5, 5}}, [](auto& in) { return in[0].Clip(-1.5, 2.0); });
  add("ZeroTimesInf_is_nan", {{{8}, f32, -1, 1}},
      [](auto& in) { return in[0].Mul(0).Mul(in[0].Reciprocal().Mul(1e38).Mul(1e38)); });

  // Casts between every pair of a representative set.
  std::vector<DType> cast_types = {f32, f16, bf16, f64, i32, i8, u8, i64, b};
  for (DType from : cast_types) {
    for (DType to : cast_types) {
      if (from == to) continue;
      double lo = from.is_float() ? -100 : (from.is_unsigned() ? 0 : -100), hi = 100;
      add(
          absl::StrCat("Cast_", from.ToString(), "_to_", to.ToString()), {{{3, 11}, from, lo, hi}},
          [to](auto& in) { return in[0].Cast(to); }, 1e-2, 1e-2);
    }
  }
  add("Bitcast_f32_i32", {{{16}, f32}}, [](auto& in) { return in[0].Bitcast(DType::Int32()); });
  add("Bitcast_i16_f16", {{{16}, DType::Int16(), -30000, 30000}},
      [](auto& in) { return in[0].Bitcast(DType::Float16()).IsNan(); });

  // Reductions.
  add("Sum_all", {{{7, 13}, f32}}, [](auto& in) { return in[0].Sum(); });
  add("Sum_axis0", {{{7, 13}, f32}}, [](auto& in) { return in[0].Sum({0}); });
  add("Sum_axis1_keepdim", {{{7, 13}, f32}}, [](auto& in) { return in[0].Sum({1}, true); });
  add("Sum_middle_axis", {{{3, 5, 17}, f32}}, [](auto& in) { return in[0].Sum({1}); });
  add("Sum_two_axes", {{{4, 5, 6}, f32}}, [](auto& in) { return in[0].Sum({0, 2}); });
  add("Sum_i8_accumulates_wide", {{{64, 20}, i8, -128, 127}},
      [](auto& in) { return in[0].Sum({1}); });
  add("Sum_bool", {{{9, 9}, b}}, [](auto& in) { return in[0].Sum({0}); });
  add(
      "Sum_large", {{{2, 40000}, f32}}, [](auto& in) { return in[0].Sum({1}); }, 1e-4, 1e-3);
  add("Prod", {{{5, 6}, f32, 0.5, 1.5}}, [](auto& in) { return in[0].Prod({1}); });
  add("Max_axis", {{{5, 19}, f32}}, [](auto& in) { return in[0].Max({1}); });
  add("Min_axis_i32", {{{5, 19}, i32, -1000, 1000}}, [](auto& in) { return in[0].Min({0}); });
  add("Max_u8", {{{5, 19}, u8, 0, 255}}, [](auto& in) { return in[0].Max({1}); });
  add("Mean", {{{6, 10}, f32}}, [](auto& in) { return in[0].Mean({1}); });
  add("Var", {{{6, 10}, f32}}, [](auto& in) { return in[0].Var({1}); });
  add("Std_keepdim", {{{6, 10}, f32}}, [](auto& in) { return in[0].Std({0}, true); });
  add("Any_All", {{{6, 10}, b}},
      [](auto& in) { return in[0].Any({1}).LogicalAnd(in[0].All({1}).LogicalNot()); });
  add("ArgMax", {{{6, 17}, f32}}, [](auto& in) { return in[0].ArgMax(1); });
  add("ArgMin_axis0", {{{6, 17}, f32}}, [](auto& in) { return in[0].ArgMin(0); });
  add("ArgMax_ties", {{{6, 17}, i32, 0, 2}}, [](auto& in) { return in[0].ArgMax(1); });
  add("LogSumExp", {{{4, 30}, f32, -50, 50}}, [](auto& in) { return in[0].LogSumExp({1}); });
  add("CumSum", {{{3, 20}, f32}}, [](auto& in) { return in[0].CumSum(1); });
  add("CumSum_exclusive_reverse", {{{3, 20}, f32}},
      [](auto& in) { return in[0].CumSum(1, true, true); });
  add(
      "CumSum_long", {{{1, 1500}, f32}}, [](auto& in) { return in[0].CumSum(1); }, 1e-4, 1e-3);

  // Movement (free views, then a computation so the view is read).
  add("Reshape", {{{6, 4}, f32}}, [](auto& in) { return in[0].Reshape({3, 8}).Add(1); });
  add("Permute", {{{2, 3, 5}, f32}}, [](auto& in) { return in[0].Permute({2, 0, 1}).Mul(2); });
  add("Transpose_then_reshape", {{{4, 6}, f32}},
      [](auto& in) { return in[0].T().Reshape({24}).Add(0.5); });
  add("Expand", {{{3, 1}, f32}}, [](auto& in) { return in[0].Expand({3, 5}).Add(1); });
  add("Pad_constant", {{{3, 4}, f32}}, [](auto& in) {
    return in[0].Pad({{1, 2}, {0, 3}}, 7.0).Add(1);
  });
  add("Pad_reflect", {{{3, 5}, f32}}, [](auto& in) {
    return in[0].Pad({{1, 1}, {2, 2}}, 0, PadMode::kReflect);
  });
  add("Pad_edge", {{{3, 5}, f32}}, [](auto& in) {
    return in[0].Pad({{2, 0}, {1, 3}}, 0, PadMode::kEdge);
  });
  add("Pad_over_exp", {{{4, 4}, f32}}, [](auto& in) {
    return in[0].Exp().Pad({{1, 1}, {1, 1}}).Sum({1});
  });
  add("Shrink", {{{6, 7}, f32}}, [](auto& in) { return in[0].Shrink({{1, 4}, {2, 7}}).Mul(3); });
  add("Flip", {{{4, 5}, f32}}, [](auto& in) { return in[0].Flip({0, 1}).Sub(1); });
  add("Slice_steps", {{{9, 10}, f32}}, [](auto& in) {
    return in[0].Slice({{1, 8, 2}, {std::nullopt, std::nullopt, -3}}).Add(0);
  });
  add("Select_Squeeze_Unsqueeze", {{{4, 1, 5}, f32}},
      [](auto& in) { return in[0].Squeeze().Select(0, 2).Unsqueeze(0).Mul(2); });
  add("Cat", {{{2, 3}, f32}, {{4, 3}, f32}}, [](auto& in) {
    return Tensor::Cat({in[0], in[1]}, 0).Add(1);
  });
  add("Stack", {{{2, 3}, f32}, {{2, 3}, f32}}, [](auto& in) {
    return Tensor::Stack({in[0], in[1]}, 1).Mul(2);
  });
  add("Repeat", {{{2, 3}, f32}}, [](auto& in) { return in[0].Repeat({2, 3}).Add(0); });
  add("Split_recombine", {{{7, 4}, f32}}, [](auto& in) {
    std::vector<Tensor> parts = in[0].Split({3, 4}, 0);
    return parts[1].Shrink({{0, 3}, {0, 4}}).Mul(parts[0]);
  });
  add("Gather", {{{5, 6}, f32}, {{5, 3}, i32, 0, 5}},
      [](auto& in) { return in[0].Gather(1, in[1]); });
  add("Take", {{{7, 4}, f32}, {{5}, i64, 0, 6}}, [](auto& in) { return in[0].Take(0, in[1]); });
  add("Scatter", {{{4, 6}, f32}, {{4, 2}, i32, 0, 5}, {{4, 2}, f32}},
      [](auto& in) { return in[0].Scatter(1, in[1], in[2]); });
  add("ScatterReduce_amax", {{{4, 6}, f32}, {{4, 3}, i32, 0, 5}, {{4, 3}, f32}},
      [](auto& in) { return in[0].ScatterReduce(1, in[1], in[2], ScatterReduction::kAmax); });
  add("OneHot", {{{9}, i32, 0, 4}}, [](auto& in) { return in[0].OneHot(5); });
  add("Embedding", {{{10, 4}, f32}, {{3, 2}, i32, 0, 9}},
      [](auto& in) { return in[0].Embedding(in[1]); });

  // Linear algebra and nn.
  add("Matmul", {{{5, 7}, f32}, {{7, 3}, f32}}, [](auto& in) { return in[0].Matmul(in[1]); });
  add(
      "Matmul_big", {{{64, 96}, f32}, {{96, 80}, f32}},
      [](auto& in) { return in[0].Matmul(in[1]); }, 1e-4, 1e-4);
  add(
      "Matmul_packed_panels", {{{64, 128}, f32}, {{128, 256}, f32}},
      [](auto& in) { return in[0].Matmul(in[1]); }, 1e-4, 1e-4);
  add(
      "Matmul_packed_bias_relu", {{{40, 256}, f32}, {{256, 512}, f32}, {{512}, f32}},
      [](auto& in) { return in[0].Matmul(in[1]).Add(in[2]).Relu(); }, 1e-4, 1e-4);
  add("Matmul_batched_broadcast", {{{2, 1, 4, 6}, f32}, {{3, 6, 5}, f32}},
      [](auto& in) { return in[0].Matmul(in[1]); });
  add("Matmul_vector", {{{6}, f32}, {{6, 4}, f32}}, [](auto& in) { return in[0].Matmul(in[1]); });
  add(
      "Matmul_f16", {{{8, 16}, f16}, {{16, 8}, f16}}, [](auto& in) { return in[0].Matmul(in[1]); },
      1e-2, 1e-2);
  add("Matmul_i32", {{{4, 5}, i32, -9, 9}, {{5, 3}, i32, -9, 9}},
      [](auto& in) { return in[0].Matmul(in[1]); });
  add("Linear_bias_relu", {{{3, 10}, f32}, {{4, 10}, f32}, {{4}, f32}},
      [](auto& in) { return in[0].Linear(in[1], in[2]).Relu(); });
  ConvOptions pad1;
  pad1.padding = {{1, 1}, {1, 1}};
  add("Conv2d_pad", {{{1, 3, 9, 11}, f32}, {{4, 3, 3, 3}, f32}, {{4}, f32}},
      [pad1](auto& in) { return in[0].Conv2d(in[1], in[2], pad1); });
  ConvOptions strided;
  strided.stride = {2, 2};
  strided.dilation = {2, 1};
  strided.padding = {{2, 1}, {0, 2}};
  add("Conv2d_stride_dilation_asym_pad", {{{2, 2, 10, 9}, f32}, {{3, 2, 3, 2}, f32}},
      [strided](auto& in) { return in[0].Conv2d(in[1], std::nullopt, strided); });
  ConvOptions grouped;
  grouped.groups = 2;
  add("Conv2d_groups", {{{1, 4, 6, 6}, f32}, {{6, 2, 3, 3}, f32}},
      [grouped](auto& in) { return in[0].Conv2d(in[1], std::nullopt, grouped); });
  ConvOptions dw;
  dw.groups = 4;
  dw.padding = {{1, 1}, {1, 1}};
  add("Conv2d_depthwise", {{{1, 4, 7, 7}, f32}, {{4, 1, 3, 3}, f32}},
      [dw](auto& in) { return in[0].Conv2d(in[1], std::nullopt, dw); });
  ConvOptions tr;
  tr.stride = {2, 2};
  tr.padding = {{1, 1}, {1, 1}};
  tr.output_padding = {1, 1};
  add("ConvTranspose2d", {{{1, 3, 5, 4}, f32}, {{3, 2, 3, 3}, f32}, {{2}, f32}},
      [tr](auto& in) { return in[0].ConvTranspose2d(in[1], in[2], tr); });
  add("Conv1d", {{{2, 3, 20}, f32}, {{5, 3, 4}, f32}}, [](auto& in) { return in[0].Conv(in[1]); });
  PoolOptions mp{.kernel = {3, 3}, .stride = {2, 2}, .padding = {{1, 1}, {1, 1}}};
  add("MaxPool2d", {{{1, 2, 9, 8}, f32}}, [mp](auto& in) { return in[0].MaxPool2d(mp); });
  PoolOptions ceil{.kernel = {2, 2}, .stride = {2, 2}, .ceil_mode = true};
  add("MaxPool2d_ceil", {{{1, 2, 7, 7}, f32}}, [ceil](auto& in) { return in[0].MaxPool2d(ceil); });
  PoolOptions ap{
      .kernel = {3, 3}, .stride = {1, 1}, .padding = {{1, 1}, {1, 1}}, .count_include_pad = false};
  add("AvgPool2d_exclude_pad", {{{1, 2, 6, 5}, f32}},
      [ap](auto& in) { return in[0].AvgPool2d(ap); });
  add("Softmax", {{{4, 33}, f32, -20, 20}}, [](auto& in) { return in[0].Softmax(-1); });
  add("Softmax_axis0", {{{9, 5}, f32, -20, 20}}, [](auto& in) { return in[0].Softmax(0); });
  add("LogSoftmax", {{{4, 33}, f32, -20, 20}}, [](auto& in) { return in[0].LogSoftmax(-1); });
  add(
      "LayerNorm", {{{3, 4, 16}, f32}, {{16}, f32}, {{16}, f32}},
      [](auto& in) { return in[0].LayerNorm(-1, in[1], in[2]); }, 1e-4, 1e-4);
  add("BatchNorm", {{{2, 3, 4, 4}, f32}, {{3}, f32}, {{3}, f32}, {{3}, f32}, {{3}, f32, 0.5, 2}},
      [](auto& in) { return in[0].BatchNorm(in[1], in[2], in[3], in[4]); });

  // Creation and random (graphs with no input buffers).
  add("Arange_Eye_Full", {}, [](auto&) {
    return Tensor::Arange(0, 12)
        .Reshape({3, 4})
        .Cast(DType::Float32())
        .Add(Tensor::Eye(3, 4))
        .Add(Tensor::Full({3, 4}, 0.5));
  });
  add("Arange_long", {}, [](auto&) { return Tensor::Arange(0, 3000, 3); });
  add("Rand_seeded", {}, [](auto&) {
    RandOptions o;
    o.seed = 42;
    return Tensor::Rand({4, 50}, DType::Float32(), o);
  });
  add(
      "Randn_seeded", {},
      [](auto&) {
        RandOptions o;
        o.seed = 7;
        return Tensor::Randn({3, 40}, DType::Float32(), o);
      },
      1e-3, 1e-4);
  add("RandInt_seeded", {}, [](auto&) {
    RandOptions o;
    o.seed = 9;
    return Tensor::RandInt({30}, -5, 5, DType::Int32(), o);
  });
  add("Dropout_seeded", {{{6, 20}, f32}}, [](auto& in) {
    RandOptions o;
    o.seed = 3;
    return in[0].Dropout(0.3, o);
  });

  // Fusion patterns the scheduler must get right.
  add("Reduce_then_broadcast_back", {{{5, 12}, f32}},
      [](auto& in) { return in[0].Sub(in[0].Max({1}, true)).Exp().Mul(in[0].Mean({1}, true)); });
  add("Shared_subexpression", {{{8, 8}, f32}}, [](auto& in) {
    Tensor s = in[0].Exp().Add(1);
    return s.Mul(s).Add(s.Sum({0}, true));
  });
  add("Contiguous_chain", {{{6, 6}, f32}},
      [](auto& in) { return in[0].Add(1).Contiguous().T().Mul(2).Contiguous().Sum({1}); });
  add("Assign_chain", {{{5}, f32}}, [](auto& in) {
    Tensor t = in[0].Add(0).Contiguous();
    (void)t.Realize();
    t.Assign(t.Mul(2));
    return t.Add(1);
  });
  return cases;
}

std::vector<std::string> Devices() {
  const char* e = std::getenv("UOP_DIFF_DEVICES");
  std::vector<std::string> out = absl::StrSplit(e ? e : "CPU", ',', absl::SkipEmpty());
  return out;
}

class Differential : public ::testing::TestWithParam<OpCase> {};

TEST_P(Differential, MatchesReference) {
  const OpCase& c = GetParam();
  Tensor::SetRealizer(nullptr);  // the reference
  absl::StatusOr<std::vector<uint8_t>> want = RunCase(c, "CPU");
  ASSERT_TRUE(want.ok()) << Describe(c) << ": reference failed: " << want.status();
  static auto engine = std::make_shared<Engine>(EngineOptions{.cache_dir = "-"});
  for (const std::string& device : Devices()) {
    if (!DeviceRegistry::Global().Get(device).ok()) {
      GTEST_LOG_(INFO) << "device " << device << " not available: skipped";
      continue;
    }
    Tensor::SetRealizer(engine);
    absl::StatusOr<std::vector<uint8_t>> got = RunCase(c, device);
    Tensor::SetRealizer(nullptr);
    ASSERT_TRUE(got.ok()) << Describe(c) << " on " << device << ": " << got.status();
    ASSERT_EQ(got->size(), want->size()) << Describe(c) << " on " << device;
    // The output dtype is that of the graph; recover it from the case.
    Tensor::SetRealizer(nullptr);
    std::vector<Tensor> probe;
    for (size_t i = 0; i < c.inputs.size(); ++i)
      probe.push_back(Tensor::Empty(c.inputs[i].shape, c.inputs[i].dtype));
    DType d = c.fn(probe).dtype();
    int64_t n = static_cast<int64_t>(want->size()) / std::max(1, d.itemsize());
    for (int64_t i = 0; i < n; ++i) {
      double w = ElementAt(*want, d, i), g = ElementAt(*got, d, i);
      if (std::isnan(w) && std::isnan(g)) continue;
      if (std::isinf(w) && g == w) continue;
      double tol = d.is_float() ? c.atol + c.rtol * std::abs(w) : 0;
      ASSERT_LE(std::abs(g - w), tol) << Describe(c) << " on " << device << ": element " << i
                                      << " is " << g << ", reference " << w;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, Differential, ::testing::ValuesIn(Cases()), [](const auto& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
});

}  // namespace
}  // namespace uop

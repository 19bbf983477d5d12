#include "runtime/codegen/test_kernels.h"

namespace uop::testing {
namespace {

UOpPtr Global(int slot, DType elem, int64_t size) {
  return UOp::Create(Op::kDefineGlobal, elem.Ptr(AddrSpace::kGlobal, size), {}, Arg(int64_t{slot}));
}
UOpPtr Range(int64_t end, int id) {
  return UOp::Create(Op::kRange, DType::Index(), {UOp::Index(end)}, Arg(int64_t{id}));
}
UOpPtr Index(const UOpPtr& buf, const UOpPtr& idx) {
  return UOp::Create(Op::kIndex, buf->dtype(), {buf, idx});
}
UOpPtr Load(DType d, const UOpPtr& index) { return UOp::Create(Op::kLoad, d, {index}); }
UOpPtr Store(const UOpPtr& index, const UOpPtr& v) {
  return UOp::Create(Op::kStore, DType::Void(), {index, v});
}
UOpPtr Sink(std::initializer_list<UOpPtr> srcs) {
  return UOp::Create(Op::kSink, DType::Void(), srcs);
}

}  // namespace

UOpPtr ElementwiseAdd(int64_t n) {
  DType f = DType::Float32();
  UOpPtr out = Global(0, f, n), a = Global(1, f, n), b = Global(2, f, n);
  UOpPtr i = Range(n, 0);
  UOpPtr sum = Load(f, Index(a, i)) + Load(f, Index(b, i));
  return Sink({Store(Index(out, i), sum)});
}

UOpPtr RowSum(int64_t rows, int64_t cols) {
  DType f = DType::Float32();
  UOpPtr out = Global(0, f, rows), in = Global(1, f, rows * cols);
  UOpPtr r = Range(rows, 0), c = Range(cols, 1);
  UOpPtr reg = UOp::Create(Op::kDefineReg, f.Ptr(AddrSpace::kReg, 1), {}, Arg(int64_t{0}));
  UOpPtr acc_ptr = Index(reg, UOp::Index(0));
  UOpPtr init = UOp::Create(Op::kStore, DType::Void(), {acc_ptr, UOp::Const(f, 0.0), r});
  UOpPtr acc = UOp::Create(Op::kLoad, f, {acc_ptr, init, c});
  UOpPtr update = Store(acc_ptr, acc + Load(f, Index(in, r * cols + c)));
  UOpPtr end = UOp::Create(Op::kEndRange, DType::Void(), {c, update});
  UOpPtr total = UOp::Create(Op::kLoad, f, {acc_ptr, end});
  return Sink({Store(Index(out, r), total)});
}

UOpPtr VectorRelu(int64_t n, int width, int cores) {
  DType f = DType::Float32(), v = f.Vec(width);
  UOpPtr out = Global(0, f, n), a = Global(1, f, n);
  UOpPtr core = UOp::Create(Op::kSpecial, DType::Index(), {UOp::Index(cores)}, Arg("core_id"));
  int64_t per_core = n / cores / width;
  UOpPtr j = Range(per_core, 0);
  UOpPtr base = (core * per_core + j) * width;
  UOpPtr x = Load(v, Index(a, base));
  return Sink({Store(Index(out, base), Max(x, UOp::Const(v, 0.0)))});
}

UOpPtr GatedCopy(int64_t n, int64_t n_valid) {
  DType f = DType::Float32();
  UOpPtr out = Global(0, f, n), a = Global(1, f, n_valid);
  UOpPtr i = Range(n, 0);
  UOpPtr valid = Lt(i, n_valid);
  UOpPtr gated = UOp::Create(Op::kIndex, a->dtype(), {a, i, valid});
  UOpPtr x = UOp::Create(Op::kLoad, f, {gated, UOp::Const(f, -1.0)});
  return Sink({Store(Index(out, i), x)});
}

}  // namespace uop::testing

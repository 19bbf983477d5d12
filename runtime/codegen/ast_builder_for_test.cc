#include "runtime/codegen/ast_builder_for_test.h"

namespace uop::testing {

UOpPtr Buf(int slot, DType elem, int64_t size) {
  return UOp::Create(Op::kDefineGlobal, elem.Ptr(AddrSpace::kGlobal, size), {}, Arg(int64_t{slot}));
}
UOpPtr ViewOf(const ShapeTracker& st) {
  return MakeViewUOp(std::make_shared<const ShapeTracker>(st));
}
UOpPtr LoadAst(const UOpPtr& buf, const ShapeTracker& st) {
  return UOp::Create(Op::kLoad, buf->dtype().Base().Scalar(), {buf, ViewOf(st)});
}
UOpPtr StoreAst(const UOpPtr& buf, const ShapeTracker& st, const UOpPtr& value) {
  return UOp::Create(Op::kStore, DType::Void(), {buf, ViewOf(st), value});
}
UOpPtr SumAxes(const UOpPtr& v, std::vector<int64_t> axes, Op op) {
  return UOp::Create(Op::kReduceAxis, v->dtype(), {v}, ReduceArg{op, std::move(axes)});
}
UOpPtr SinkOf(std::initializer_list<UOpPtr> stores) {
  return UOp::Create(Op::kSink, DType::Void(), stores);
}

UOpPtr MatmulAst(int64_t m, int64_t n, int64_t k) {
  DType f = DType::Float32();
  UOpPtr out = Buf(0, f, m * n), a = Buf(1, f, m * k), b = Buf(2, f, k * n);
  ShapeTracker sa =
      ShapeTracker::FromShape({m, k}).Reshape({m, 1, k}).value().Expand({m, n, k}).value();
  ShapeTracker sb = ShapeTracker::FromShape({k, n})
                        .Permute({1, 0})
                        .value()
                        .Reshape({1, n, k})
                        .value()
                        .Expand({m, n, k})
                        .value();
  UOpPtr prod = LoadAst(a, sa) * LoadAst(b, sb);
  return SinkOf({StoreAst(out, ShapeTracker::FromShape({m, n, 1}), SumAxes(prod, {2}))});
}

UOpPtr AddAst(int64_t r, int64_t c) {
  DType f = DType::Float32();
  UOpPtr out = Buf(0, f, r * c), a = Buf(1, f, r * c), b = Buf(2, f, r * c);
  ShapeTracker st = ShapeTracker::FromShape({r, c});
  return SinkOf({StoreAst(out, st, LoadAst(a, st) + LoadAst(b, st))});
}

UOpPtr RowSumAst(int64_t r, int64_t c) {
  DType f = DType::Float32();
  UOpPtr out = Buf(0, f, r), a = Buf(1, f, r * c);
  return SinkOf({StoreAst(out, ShapeTracker::FromShape({r, 1}),
                          SumAxes(LoadAst(a, ShapeTracker::FromShape({r, c})), {1}))});
}

UOpPtr InnerProductAst(int64_t m, int64_t n, int64_t k) {
  DType f = DType::Float32();
  UOpPtr out = Buf(0, f, m * n), a = Buf(1, f, m * k), b = Buf(2, f, n * k);
  ShapeTracker sa =
      ShapeTracker::FromShape({m, k}).Reshape({m, 1, k}).value().Expand({m, n, k}).value();
  ShapeTracker sb =
      ShapeTracker::FromShape({n, k}).Reshape({1, n, k}).value().Expand({m, n, k}).value();
  UOpPtr prod = LoadAst(a, sa) * LoadAst(b, sb);
  return SinkOf({StoreAst(out, ShapeTracker::FromShape({m, n, 1}), SumAxes(prod, {2}))});
}

}  // namespace uop::testing

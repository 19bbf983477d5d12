#include "runtime/schedule/pack_panels.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "runtime/base/status_macros.h"
#include "runtime/shape/shapetracker.h"

namespace uop {
namespace {

const ShapeTracker* StOf(const UOp* view) { return view->arg().object<ShapeTracker>(); }

UOpPtr ViewNode(ShapeTracker st) {
  return MakeViewUOp(std::make_shared<const ShapeTracker>(std::move(st)));
}

UOpPtr Global(int64_t slot, DType elem, int64_t size) {
  return UOp::Create(Op::kDefineGlobal, elem.Ptr(AddrSpace::kGlobal, size), {}, Arg(slot));
}

}  // namespace

std::optional<PackedKernel> PackKernel(const UOpPtr& ast, const PackPanelsOptions& o) {
  if (ast->op() != Op::kSink || ast->num_srcs() != 1) return std::nullopt;
  const UOp* store = ast->src(0).get();
  if (store->op() != Op::kStore) return std::nullopt;
  const UOp* reduce = nullptr;
  int reduces = 0;
  std::vector<const UOp*> loads;
  for (const UOp* u : ast->Toposort()) {
    if (u->op() == Op::kReduceAxis) reduce = u, ++reduces;
    if (u->op() == Op::kLoad) loads.push_back(u);
  }
  if (reduces != 1) return std::nullopt;
  const ReduceArg& ra = reduce->arg().get<ReduceArg>();
  if (ra.op != Op::kAdd || ra.axes.size() != 1) return std::nullopt;
  const UOp* mul = reduce->src(0).get();
  if (mul->op() != Op::kMul || mul->src(0)->op() != Op::kLoad || mul->src(1)->op() != Op::kLoad)
    return std::nullopt;
  const int k = static_cast<int>(ra.axes[0]);
  const ShapeTracker* out = StOf(store->src(1).get());
  const int rank = out->rank();
  std::vector<int64_t> full(rank, 1);
  for (const UOp* l : loads)
    for (int a = 0; a < rank; ++a) full[a] = std::max(full[a], StOf(l->src(1).get())->shape()[a]);
  // n: the output's contiguous axis.
  std::vector<std::optional<int64_t>> out_strides = out->RealStrides();
  int n = -1;
  for (int a = rank - 1; a >= 0; --a)
    if (a != k && out_strides[a] && *out_strides[a] == 1 && out->shape()[a] > 1) {
      n = a;
      break;
    }
  if (n < 0 || full[n] % o.panel != 0 || full[n] < 2 * o.panel || full[k] < 64) return std::nullopt;
  // B: the load constant along some other loop axis (m), varying only along n and k.
  for (int which = 0; which < 2; ++which) {
    const UOp* b = mul->src(which).get();
    const ShapeTracker* bst = StOf(b->src(1).get());
    if (bst->views().size() != 1 || bst->views()[0].has_mask()) continue;
    const auto& v = bst->views()[0];
    if (v.strides()[n] != 1 || v.strides()[k] * b->dtype().itemsize() < o.min_row_bytes) continue;
    bool only_nk = true, broadcast_m = false;
    int64_t macs = full[n] * full[k];
    for (int a = 0; a < rank; ++a) {
      if (a == n || a == k) continue;
      only_nk &= v.strides()[a] == 0;
      if (full[a] > 1 && v.strides()[a] == 0) broadcast_m = true, macs *= full[a];
    }
    if (!only_nk || !broadcast_m || macs < o.min_macs) continue;
    // B's slot must feed only this load.
    int64_t slot = b->src(0)->arg().get<int64_t>();
    int uses = 0;
    for (const UOp* l : loads) uses += l->src(0)->arg().get<int64_t>() == slot;
    if (uses != 1) continue;

    const int64_t N = full[n], K = full[k], P = o.panel, NB = N / P;
    DType elem = b->dtype();
    // B's view: the panels, [NB][K][P] contiguous.
    std::vector<int64_t> bshape(bst->shape().begin(), bst->shape().end());
    bshape[n] = NB;
    bshape.insert(bshape.begin() + n + 1, P);
    std::vector<int64_t> bstrides(rank + 1, 0);
    bstrides[n] = K * P;
    bstrides[n + 1] = 1;
    bstrides[k > n ? k + 1 : k] = P;
    UOpPtr packed_load = UOp::Create(
        Op::kLoad, elem,
        {Global(slot, elem, N * K), ViewNode(ShapeTracker({View::Create(bshape, bstrides)}))});
    // Rebuild the AST: every view splits axis n into (n / P, P), B's load
    // reads the panels, the reduce axis is renumbered.
    absl::flat_hash_map<const UOp*, UOpPtr> done;
    UOpPtr final_ast;
    for (const UOp* u : ast->Toposort()) {
      UOpPtr out;
      if (u == b) {
        out = packed_load;
      } else if (u->op() == Op::kView) {
        const ShapeTracker* st = StOf(u);
        std::vector<int64_t> shape(st->shape().begin(), st->shape().end());
        bool full_n = shape[n] == N;
        shape[n] = full_n ? NB : 1;
        shape.insert(shape.begin() + n + 1, full_n ? P : 1);
        absl::StatusOr<ShapeTracker> split = st->Reshape(shape);
        if (!split.ok()) return std::nullopt;
        out = ViewNode(*split);
      } else {
        UOpList srcs;
        for (const UOpPtr& s : u->src()) srcs.push_back(done.at(s.get()));
        if (u->op() == Op::kReduceAxis) {
          ReduceArg nr = u->arg().get<ReduceArg>();
          for (int64_t& ax : nr.axes)
            if (ax > n) ++ax;
          out = UOp::Create(Op::kReduceAxis, u->dtype(), srcs, nr);
        } else {
          out = u->Replace(srcs);
        }
      }
      done[u] = out;
      final_ast = out;
    }
    // The packing kernel: panels[nb][k][p] = B[offset + (nb * P + p) + k * row].
    ShapeTracker src({View::Create({NB, K, P}, {P, v.strides()[k], 1}, v.offset())});
    UOpPtr pack = UOp::Create(
        Op::kSink, DType::Void(),
        {UOp::Create(
            Op::kStore, DType::Void(),
            {Global(0, elem, N * K), ViewNode(ShapeTracker::FromShape({NB, K, P})),
             UOp::Create(Op::kLoad, elem,
                         {Global(1, elem, b->src(0)->dtype().ptr_size()), ViewNode(src)})})});
    return PackedKernel{final_ast, pack, static_cast<int>(slot), N * K};
  }
  return std::nullopt;
}

absl::StatusOr<int> PackPanels(Schedule& schedule, const PackPanelsOptions& options) {
  std::vector<ScheduleItem> items;
  std::vector<int> new_index(schedule.items.size());
  int packed = 0;
  for (size_t i = 0; i < schedule.items.size(); ++i) {
    ScheduleItem item = schedule.items[i];
    for (int& d : item.deps) d = new_index[d];
    std::optional<PackedKernel> pk;
    bool device_ok = true;
    if (options.device_filter && !item.bufs.empty() && item.bufs[0]->num_srcs() > 0) {
      const auto* dev = item.bufs[0]->src(0)->arg().get_if<std::string>();
      device_ok = dev && options.device_filter(*dev);
    }
    if (item.kind == ScheduleItem::Kind::kKernel && device_ok) pk = PackKernel(item.ast, options);
    if (pk) {
      const UOpPtr& b = item.bufs[pk->slot];
      const UOpPtr& device = b->src(0);
      UOpPtr panels = UOp::Create(Op::kBuffer, b->dtype(), {device},
                                  BufferArg{NextScheduledBufferId(), pk->panel_elements});
      ScheduleItem pack;
      pack.kind = ScheduleItem::Kind::kKernel;
      pack.ast = pk->pack_ast;
      pack.bufs = {panels, b};
      pack.root = item.root;
      pack.deps = item.deps;  // B is ready when the matmul's inputs are
      items.push_back(std::move(pack));
      item.ast = pk->ast;
      item.bufs[pk->slot] = panels;
      item.deps.push_back(static_cast<int>(items.size()) - 1);
      schedule.buffers.push_back({panels, BufferRole::kIntermediate});
      ++packed;
    }
    new_index[i] = static_cast<int>(items.size());
    items.push_back(std::move(item));
  }
  schedule.items = std::move(items);
  return packed;
}

}  // namespace uop

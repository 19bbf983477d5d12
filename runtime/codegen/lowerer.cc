// Kernel::Lower: loops, index math, loads and stores for one kernel.
//
// Loop and reduce axes become RANGEs (thread axes the core_id SPECIAL).
// Upcast and unroll axes are expanded: every value is computed once per
// "slot" (a combination of their indices). One expanded axis may be the
// vector axis: values then are W-lane vectors, and loads/stores along it are
// vector accesses where the view's real stride is 1, broadcasts where it is
// 0, and per-lane gathers otherwise.
//
// GPUs (caps.has_local): loop axes become SPECIAL gidx (the grid), local and
// group axes SPECIAL lidx (the block's threads), innermost axis on dimension
// 0; more than three axes (or a dimension past its limit) share one SPECIAL,
// decomposed with div/mod. A group axis splits the reduction over threads:
// each thread's partial result goes to shared memory (DEFINE_LOCAL), a tree
// of BARRIER-separated steps combines them, and only group thread 0 stores.
#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/gemm_lowering.h"
#include "runtime/codegen/kernel.h"
#include "runtime/uop/matcher.h"
#include "runtime/uop/symbolic.h"

namespace uop {

class Lowerer {
 public:
  explicit Lowerer(const Kernel& k) : k_(k), rank_(static_cast<int>(k.full_shape_.size())) {}
  absl::StatusOr<UOpPtr> Run();

 private:
  struct Access {
    UOpPtr idx;
    UOpPtr valid;  // nullptr when always valid
  };
  // kMasked: unit stride along the vector axis but validity varies per lane:
  // a masked vector access (lanes outside the mask are never touched).
  enum class LaneMode { kScalar, kVector, kBroadcast, kMasked, kGather };

  void SetUpAxes();
  std::vector<UOpPtr> Idxs(int slot, int64_t lane) const;
  Access Index(const ShapeTracker& st, int slot, int64_t lane) const;
  // The index of lane 0 and a per-lane validity vector (nullptr: all valid),
  // for unit-stride accesses whose mask depends on the lane.
  Access MaskedIndex(const ShapeTracker& st, int slot) const;
  // `e` (an index/bool expression of the lane variable) evaluated for every
  // lane at once: lane-dependent nodes become vector ops.
  UOpPtr OverLanes(const UOpPtr& e) const;
  LaneMode ModeFor(int view) const;
  int64_t SlotAxisValue(int slot, int axis) const;
  bool SlotIsCanonicalFor(const ShapeTracker& st, int slot) const;

  absl::StatusOr<const std::vector<UOpPtr>*> Val(const UOp* u);
  absl::StatusOr<std::vector<UOpPtr>> Load(const UOp* u);
  absl::StatusOr<std::vector<UOpPtr>> MaskedConst(const UOp* u);
  absl::Status Store(const UOp* u, std::vector<UOpPtr>* out);
  absl::Status LowerReduces();
  // GPU: SPECIALs for `axes` (outer to inner) named prefix0.., within limits.
  void MapToSpecials(const std::vector<int>& axes, const char* prefix,
                     const std::vector<int64_t>& limits);
  // Flat index over `axes` (outer to inner) from their SPECIAL indices.
  UOpPtr FlatIndex(const std::vector<int>& axes) const;
  // GPU: combines each thread's partial reductions across the group axes in
  // shared memory. totals[r][i]: reduce r's value for output slot i.
  void GroupCombine(const std::vector<Op>& ops, std::vector<std::vector<UOpPtr>>& totals);

  UOpPtr Vectorize(const std::vector<UOpPtr>& lanes) const;
  UOpPtr ScalarLoad(const UOpPtr& buf, DType d, const Access& a) const;
  UOpPtr Combine(Op op, const UOpPtr& a, const UOpPtr& b) const;
  UOpPtr Identity(Op op, DType d) const;
  UOpPtr HorizontalReduce(Op op, const UOpPtr& v) const;

  const Kernel& k_;
  int rank_;
  std::vector<UOpPtr> axis_idx_;      // RANGE/SPECIAL per loop axis
  std::vector<int> expanded_;         // upcast/unroll axes except the vector axis
  std::vector<int64_t> slot_stride_;  // mixed-radix stride per expanded_ entry
  int num_slots_ = 1;
  int vaxis_ = -1;
  int width_ = 1;
  std::vector<UOpPtr> loop_ranges_, reduce_ranges_;
  std::vector<LaneMode> modes_;
  UOpPtr lane_;  // index of a lane along the vector axis, for masked accesses
  // GPU: axes mapped to the grid / the block (locals, then groups).
  std::vector<int> global_axes_, local_axes_, group_axes_;
  UOpPtr group_gate_;  // group thread 0 (stores are gated by it)
  // node_hash_map: Val returns pointers into it across recursive insertions.
  absl::node_hash_map<const UOp*, std::vector<UOpPtr>> memo_;
  std::vector<const UOp*> reduces_in_progress_;
  int next_reg_ = 0;
};

void Lowerer::SetUpAxes() {
  const auto& full = k_.full_shape_;
  const auto& kinds = k_.kinds_;
  axis_idx_.assign(rank_, nullptr);
  // The vector axis: among upcast axes whose size is a power of two that fits
  // the vector registers, the one the output is contiguous along (else the
  // last); failing that, the unroll axis most inputs are contiguous along.
  int max_lanes = std::max(1, k_.caps_.max_vector_bytes / std::max(1, k_.output_dtype_.itemsize()));
  auto fits = [&](int a) { return full[a] <= max_lanes && (full[a] & (full[a] - 1)) == 0; };
  auto unit_stride = [&](const ShapeTracker& st, int a) {
    if (st.AxisIsMasked(a)) return false;
    std::optional<int64_t> s = st.RealStrides()[a];
    return s && *s == 1;
  };
  int best_score = -1;
  for (int a = 0; a < rank_; ++a) {
    if (kinds[a] != AxisKind::kUpcast || !fits(a)) continue;
    int score = unit_stride(k_.output_view(), a) ? 2 : 1;
    if (score >= best_score) best_score = score, vaxis_ = a;
  }
  if (vaxis_ < 0) {
    for (int a = 0; a < rank_; ++a) {
      if (kinds[a] != AxisKind::kUnroll || !fits(a)) continue;
      int score = 0;
      for (const ShapeTracker* st : k_.input_views()) score += unit_stride(*st, a);
      if (score >= best_score) best_score = score, vaxis_ = a;
    }
  }
  if (vaxis_ >= 0) width_ = static_cast<int>(full[vaxis_]);
  if (vaxis_ >= 0) lane_ = UOp::Var("lane", 0, width_ - 1);
  for (int a = 0; a < rank_; ++a) {
    switch (kinds[a]) {
      case AxisKind::kThread:
        axis_idx_[a] =
            UOp::Create(Op::kSpecial, DType::Index(), {UOp::Index(full[a])}, Arg("core_id"));
        break;
      case AxisKind::kLocal:
        local_axes_.push_back(a);
        break;
      case AxisKind::kGroupReduce:
        group_axes_.push_back(a);
        break;
      case AxisKind::kLoop:
        if (k_.caps_.has_local) {
          global_axes_.push_back(a);
          break;
        }
        [[fallthrough]];
      case AxisKind::kReduce: {
        UOpPtr r = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(full[a])}, Arg(int64_t{a}));
        axis_idx_[a] = r;
        (kinds[a] == AxisKind::kLoop ? loop_ranges_ : reduce_ranges_).push_back(r);
        break;
      }
      case AxisKind::kUpcast:
      case AxisKind::kUnroll:
        if (a != vaxis_) expanded_.push_back(a);
        break;
    }
  }
  if (k_.caps_.has_local) {
    MapToSpecials(global_axes_, "gidx", k_.caps_.global_max);
    std::vector<int> threads = local_axes_;
    threads.insert(threads.end(), group_axes_.begin(), group_axes_.end());
    MapToSpecials(threads, "lidx", k_.caps_.local_max);
    if (!group_axes_.empty()) group_gate_ = Eq(FlatIndex(group_axes_), UOp::Index(0));
  }
  slot_stride_.assign(expanded_.size(), 1);
  for (int i = static_cast<int>(expanded_.size()) - 1; i >= 0; --i) {
    slot_stride_[i] = num_slots_;
    num_slots_ *= static_cast<int>(full[expanded_[i]]);
  }
  for (int v = 0; v < k_.num_views(); ++v) modes_.push_back(ModeFor(v));
}

void Lowerer::MapToSpecials(const std::vector<int>& axes, const char* prefix,
                            const std::vector<int64_t>& limits) {
  if (axes.empty()) return;
  const auto& full = k_.full_shape_;
  const int n = static_cast<int>(axes.size());
  // dims[d]: axes (outer to inner) sharing SPECIAL d; the innermost axis on
  // dimension 0, the next on 1, every further one folded into 2.
  std::vector<std::vector<int>> dims;
  for (int i = n - 1; i >= 0; --i) {
    if (dims.size() < 3) dims.push_back({});
    dims.back().insert(dims.back().begin(), axes[i]);
  }
  auto product = [&](const std::vector<int>& g) {
    int64_t p = 1;
    for (int a : g) p *= full[a];
    return p;
  };
  bool fits = true;
  for (size_t d = 0; d < dims.size(); ++d)
    fits &= d < limits.size() && product(dims[d]) <= limits[d];
  if (!fits) dims = {axes};  // everything on dimension 0 (the largest)
  for (size_t d = 0; d < dims.size(); ++d) {
    UOpPtr sp = UOp::Create(Op::kSpecial, DType::Index(), {UOp::Index(product(dims[d]))},
                            Arg(absl::StrCat(prefix, d)));
    int64_t stride = 1;
    for (int i = static_cast<int>(dims[d].size()) - 1; i >= 0; --i) {
      const int a = dims[d][i];
      UOpPtr idx = stride == 1 ? sp : sp / stride;
      if (i > 0) idx = idx % full[a];
      axis_idx_[a] = dims[d].size() == 1 ? sp : Simplify(idx);
      stride *= full[a];
    }
  }
}

UOpPtr Lowerer::FlatIndex(const std::vector<int>& axes) const {
  UOpPtr flat = UOp::Index(0);
  for (int a : axes) flat = flat * k_.full_shape_[a] + axis_idx_[a];
  return Simplify(flat);
}

void Lowerer::GroupCombine(const std::vector<Op>& ops, std::vector<std::vector<UOpPtr>>& totals) {
  int64_t groups = 1, locals = 1;
  for (int a : group_axes_) groups *= k_.full_shape_[a];
  for (int a : local_axes_) locals *= k_.full_shape_[a];
  const UOpPtr t_group = FlatIndex(group_axes_);
  const UOpPtr t_local = FlatIndex(local_axes_);
  // temp[r]: [group thread][local thread][output slot][lane] of reduce r.
  struct Temp {
    UOpPtr buf;
    int64_t slots, width;
  };
  std::vector<Temp> temps;
  std::vector<UOpPtr> stores;
  for (size_t r = 0; r < totals.size(); ++r) {
    const DType vd = totals[r][0]->dtype();
    Temp t{nullptr, static_cast<int64_t>(totals[r].size()), vd.count()};
    t.buf = UOp::Create(Op::kDefineLocal,
                        vd.Scalar().Ptr(AddrSpace::kLocal, groups * locals * t.slots * t.width), {},
                        Arg(int64_t{static_cast<int64_t>(r)}));
    temps.push_back(t);
  }
  auto at = [&](const Temp& t, const UOpPtr& group, size_t slot) {
    return Simplify(((group * locals + t_local) * t.slots + static_cast<int64_t>(slot)) * t.width);
  };
  for (size_t r = 0; r < totals.size(); ++r) {
    for (size_t i = 0; i < totals[r].size(); ++i) {
      UOpPtr idx =
          UOp::Create(Op::kIndex, temps[r].buf->dtype(), {temps[r].buf, at(temps[r], t_group, i)});
      stores.push_back(UOp::Create(Op::kStore, DType::Void(), {idx, totals[r][i]}));
    }
  }
  UOpPtr barrier = UOp::Create(Op::kBarrier, DType::Void(), stores);
  // Tree steps: threads below `half` add the partial `half` above them.
  for (int64_t half = groups / 2; half >= 1; half /= 2) {
    const UOpPtr active = Lt(t_group, UOp::Index(half));
    stores.clear();
    for (size_t r = 0; r < totals.size(); ++r) {
      for (size_t i = 0; i < totals[r].size(); ++i) {
        const DType vd = totals[r][i]->dtype();
        const UOpPtr zero = UOp::Const(vd, int64_t{0});
        auto gated = [&](const UOpPtr& group) {
          return UOp::Create(Op::kIndex, temps[r].buf->dtype(),
                             {temps[r].buf, at(temps[r], group, i), active});
        };
        UOpPtr mine = UOp::Create(Op::kLoad, vd, {gated(t_group), zero, barrier});
        UOpPtr other = UOp::Create(Op::kLoad, vd, {gated(t_group + half), zero, barrier});
        stores.push_back(
            UOp::Create(Op::kStore, DType::Void(), {gated(t_group), Combine(ops[r], mine, other)}));
      }
    }
    barrier = UOp::Create(Op::kBarrier, DType::Void(), stores);
  }
  for (size_t r = 0; r < totals.size(); ++r) {
    for (size_t i = 0; i < totals[r].size(); ++i) {
      UOpPtr idx = UOp::Create(Op::kIndex, temps[r].buf->dtype(),
                               {temps[r].buf, at(temps[r], UOp::Index(0), i)});
      totals[r][i] = UOp::Create(Op::kLoad, totals[r][i]->dtype(), {idx, barrier});
    }
  }
}

int64_t Lowerer::SlotAxisValue(int slot, int axis) const {
  for (size_t i = 0; i < expanded_.size(); ++i)
    if (expanded_[i] == axis) return (slot / slot_stride_[i]) % k_.full_shape_[axis];
  return 0;
}

std::vector<UOpPtr> Lowerer::Idxs(int slot, int64_t lane) const {
  std::vector<UOpPtr> idxs(rank_);
  for (int a = 0; a < rank_; ++a) {
    if (axis_idx_[a]) {
      idxs[a] = axis_idx_[a];
    } else if (a == vaxis_) {
      idxs[a] = UOp::Index(lane);
    } else {
      idxs[a] = UOp::Index(SlotAxisValue(slot, a));
    }
  }
  return idxs;
}

Lowerer::Access Lowerer::Index(const ShapeTracker& st, int slot, int64_t lane) const {
  std::vector<UOpPtr> idxs = Idxs(slot, lane);
  // Axes where this view has size 1 always index 0.
  for (int a = 0; a < rank_; ++a)
    if (st.shape()[a] == 1) idxs[a] = UOp::Index(0);
  auto [idx, valid] = st.ToIndexed(idxs);
  if (valid->is_const() && valid->const_int() != 0) valid = nullptr;
  return {idx, valid};
}

UOpPtr Lowerer::OverLanes(const UOpPtr& e) const {
  absl::flat_hash_map<const UOp*, UOpPtr> vec;  // lane-dependent nodes only
  std::vector<int64_t> iota(width_);
  for (int l = 0; l < width_; ++l) iota[l] = l;
  for (const UOp* u : e->Toposort()) {
    if (u == lane_.get()) {
      vec[u] = UOp::Create(Op::kVConst, DType::Index().Vec(width_), {}, Arg(iota));
      continue;
    }
    bool depends = false;
    for (const UOpPtr& s : u->src()) depends |= vec.count(s.get()) > 0;
    if (!depends) continue;
    UOpList srcs;
    for (const UOpPtr& s : u->src()) {
      auto it = vec.find(s.get());
      srcs.push_back(it != vec.end() ? it->second : Vectorize(std::vector<UOpPtr>(width_, s)));
    }
    vec[u] = UOp::Create(u->op(), u->dtype().Vec(width_), srcs, u->arg());
  }
  auto it = vec.find(e.get());
  return it != vec.end() ? it->second : Vectorize(std::vector<UOpPtr>(width_, e));
}

Lowerer::Access Lowerer::MaskedIndex(const ShapeTracker& st, int slot) const {
  std::vector<UOpPtr> idxs = Idxs(slot, 0);
  idxs[vaxis_] = lane_;
  for (int a = 0; a < rank_; ++a)
    if (st.shape()[a] == 1) idxs[a] = UOp::Index(0);
  auto [idx, valid] = st.ToIndexed(idxs);
  UOpPtr idx0 = Simplify(Substitute(idx, {{lane_, UOp::Index(0)}}));
  if (valid->is_const()) return {idx0, valid->const_int() ? nullptr : valid};
  return {idx0, Simplify(OverLanes(Simplify(valid)))};
}

Lowerer::LaneMode Lowerer::ModeFor(int view) const {
  if (vaxis_ < 0) return LaneMode::kScalar;
  const ShapeTracker& st = k_.sts_[view];
  if (st.shape()[vaxis_] == 1) return LaneMode::kBroadcast;
  if (st.AxisIsMasked(vaxis_)) {
    std::optional<int64_t> s = st.RealStrides(/*ignore_valid=*/true)[vaxis_];
    return s && *s == 1 ? LaneMode::kMasked : LaneMode::kGather;
  }
  std::vector<std::optional<int64_t>> strides = st.RealStrides();
  if (!strides[vaxis_]) return LaneMode::kGather;
  if (*strides[vaxis_] == 1) return LaneMode::kVector;
  if (*strides[vaxis_] == 0) return LaneMode::kBroadcast;
  return LaneMode::kGather;
}

bool Lowerer::SlotIsCanonicalFor(const ShapeTracker& st, int slot) const {
  for (int a : expanded_)
    if (st.shape()[a] == 1 && SlotAxisValue(slot, a) != 0) return false;
  return true;
}

UOpPtr Lowerer::Vectorize(const std::vector<UOpPtr>& lanes) const {
  if (lanes.size() == 1) return lanes[0];
  UOpList srcs(lanes.begin(), lanes.end());
  return UOp::Create(Op::kVectorize, lanes[0]->dtype().Vec(static_cast<int>(lanes.size())), srcs);
}

UOpPtr Lowerer::ScalarLoad(const UOpPtr& buf, DType d, const Access& a) const {
  if (a.valid && a.valid->is_const()) return UOp::Const(d, int64_t{0});  // never valid
  if (!a.valid)
    return UOp::Create(Op::kLoad, d, {UOp::Create(Op::kIndex, buf->dtype(), {buf, a.idx})});
  UOpPtr index = UOp::Create(Op::kIndex, buf->dtype(), {buf, a.idx, a.valid});
  return UOp::Create(Op::kLoad, d, {index, UOp::Const(d, int64_t{0})});
}

absl::StatusOr<std::vector<UOpPtr>> Lowerer::Load(const UOp* u) {
  const UOpPtr& buf = u->src(0);
  int view = k_.view_index_.at(u->src(1).get());
  const ShapeTracker& st = k_.sts_[view];
  DType d = u->dtype();
  std::vector<UOpPtr> out(num_slots_);
  for (int s = 0; s < num_slots_; ++s) {
    switch (modes_[view]) {
      case LaneMode::kScalar:
        out[s] = ScalarLoad(buf, d, Index(st, s, 0));
        break;
      case LaneMode::kBroadcast:
        out[s] = Vectorize(std::vector<UOpPtr>(width_, ScalarLoad(buf, d, Index(st, s, 0))));
        break;
      case LaneMode::kVector: {
        Access a = Index(st, s, 0);
        DType vd = d.Vec(width_);
        if (a.valid && a.valid->is_const()) {
          out[s] = UOp::Const(vd, int64_t{0});
        } else if (!a.valid) {
          out[s] =
              UOp::Create(Op::kLoad, vd, {UOp::Create(Op::kIndex, buf->dtype(), {buf, a.idx})});
        } else {
          UOpPtr index = UOp::Create(Op::kIndex, buf->dtype(), {buf, a.idx, a.valid});
          out[s] = UOp::Create(Op::kLoad, vd, {index, UOp::Const(vd, int64_t{0})});
        }
        break;
      }
      case LaneMode::kMasked: {
        Access a = MaskedIndex(st, s);
        DType vd = d.Vec(width_);
        if (a.valid && a.valid->is_const()) {
          out[s] = UOp::Const(vd, int64_t{0});
        } else if (!a.valid) {
          out[s] =
              UOp::Create(Op::kLoad, vd, {UOp::Create(Op::kIndex, buf->dtype(), {buf, a.idx})});
        } else {
          UOpPtr index = UOp::Create(Op::kIndex, buf->dtype(), {buf, a.idx, a.valid});
          out[s] = UOp::Create(Op::kLoad, vd, {index, UOp::Const(vd, int64_t{0})});
        }
        break;
      }
      case LaneMode::kGather: {
        std::vector<UOpPtr> lanes;
        for (int l = 0; l < width_; ++l) lanes.push_back(ScalarLoad(buf, d, Index(st, s, l)));
        out[s] = Vectorize(lanes);
        break;
      }
    }
  }
  return out;
}

absl::StatusOr<std::vector<UOpPtr>> Lowerer::MaskedConst(const UOp* u) {
  int view = k_.view_index_.at(u->src(0).get());
  const ShapeTracker& st = k_.sts_[view];
  DType d = u->dtype();
  UOpPtr c = UOp::Create(Op::kConst, d, {}, u->arg());
  UOpPtr zero = UOp::Const(d, int64_t{0});
  std::vector<UOpPtr> out(num_slots_);
  for (int s = 0; s < num_slots_; ++s) {
    if (modes_[view] == LaneMode::kMasked) {
      Access a = MaskedIndex(st, s);
      UOpPtr cv = UOp::Create(Op::kConst, d.Vec(width_), {}, u->arg());
      out[s] = a.valid ? Where(a.valid, cv, UOp::Const(d.Vec(width_), int64_t{0})) : cv;
      continue;
    }
    std::vector<UOpPtr> lanes;
    int lanes_needed = modes_[view] == LaneMode::kGather ? width_ : 1;
    for (int l = 0; l < lanes_needed; ++l) {
      Access a = Index(st, s, l);
      lanes.push_back(a.valid ? Where(a.valid, c, zero) : c);
    }
    if (lanes_needed == 1 && width_ > 1) lanes.assign(width_, lanes[0]);
    out[s] = Vectorize(lanes);
  }
  return out;
}

absl::StatusOr<const std::vector<UOpPtr>*> Lowerer::Val(const UOp* u) {
  if (auto it = memo_.find(u); it != memo_.end()) return &it->second;
  std::vector<UOpPtr> out;
  DType vd = u->dtype().Vec(width_);
  switch (u->op()) {
    case Op::kLoad: {
      ASSIGN_OR_RETURN(out, Load(u));
      break;
    }
    case Op::kConst:
      if (u->num_srcs() == 1) {
        ASSIGN_OR_RETURN(out, MaskedConst(u));
      } else {
        out.assign(num_slots_, UOp::Create(Op::kConst, vd, {}, u->arg()));
      }
      break;
    case Op::kDefineVar: {
      UOpPtr var = UOpPtr::FromBorrowed(u);
      out.assign(num_slots_, Vectorize(std::vector<UOpPtr>(width_, var)));
      break;
    }
    case Op::kReduceAxis:
      return absl::UnimplementedError(
          "Kernel: a reduction whose input contains another reduction must be split by the "
          "scheduler");
    default: {
      if (!IsElementwise(u->op())) {
        return absl::UnimplementedError(absl::StrCat("Kernel: cannot lower ", u->ShortString()));
      }
      std::vector<const std::vector<UOpPtr>*> srcs;
      for (const UOpPtr& s : u->src()) {
        ASSIGN_OR_RETURN(const std::vector<UOpPtr>* v, Val(s.get()));
        srcs.push_back(v);
      }
      out.resize(num_slots_);
      for (int s = 0; s < num_slots_; ++s) {
        UOpList args;
        for (const auto* v : srcs) args.push_back((*v)[s]);
        out[s] = UOp::Create(u->op(), vd, args, u->arg());
      }
      break;
    }
  }
  auto [it, _] = memo_.emplace(u, std::move(out));
  return &it->second;
}

UOpPtr Lowerer::Combine(Op op, const UOpPtr& a, const UOpPtr& b) const {
  return UOp::Create(op, a->dtype(), {a, b});
}

UOpPtr Lowerer::Identity(Op op, DType d) const {
  if (op == Op::kAdd) return UOp::Const(d, int64_t{0});
  if (op == Op::kMul) return UOp::Const(d, int64_t{1});
  if (d.is_float()) return UOp::Const(d, -std::numeric_limits<double>::infinity());
  return UOp::Const(d, d.min_int());
}

UOpPtr Lowerer::HorizontalReduce(Op op, const UOpPtr& v) const {
  int n = v->dtype().count();
  if (n == 1) return v;
  DType s = v->dtype().Scalar();
  UOpPtr acc;
  for (int l = 0; l < n; ++l) {
    UOpPtr lane = UOp::Create(Op::kGep, s, {v}, Arg(std::vector<int64_t>{l}));
    acc = acc ? Combine(op, acc, lane) : lane;
  }
  return Vectorize(std::vector<UOpPtr>(n, acc));
}

absl::Status Lowerer::LowerReduces() {
  struct Pending {
    const UOp* node;
    Op op;
    std::vector<UOpPtr> acc_ptrs;  // per output slot (reduce-range case)
    std::vector<UOpPtr> totals;    // per output slot (no-range case)
    std::vector<int> out_slots;
  };
  std::vector<Pending> pending;
  std::vector<UOpPtr> updates;
  bool lanes_reduce = vaxis_ >= 0 && k_.kinds_[vaxis_] == AxisKind::kUnroll;
  std::vector<const UOp*> reduces;
  for (const UOp* u : k_.ast_->Toposort())
    if (u->op() == Op::kReduceAxis) reduces.push_back(u);
  for (const UOp* r : reduces) {
    Op op = r->arg().get<ReduceArg>().op;
    if (op != Op::kAdd && op != Op::kMul && op != Op::kMax) {
      return absl::InvalidArgumentError(absl::StrCat("Kernel: unsupported reduce op ", OpName(op)));
    }
    ASSIGN_OR_RETURN(const std::vector<UOpPtr>* vals, Val(r->src(0).get()));
    Pending p{r, op, {}, {}, {}};
    DType vd = r->dtype().Vec(width_);
    // Output slots: all unroll axes at 0; their group: every unroll value.
    for (int s = 0; s < num_slots_; ++s) {
      bool is_out = true;
      for (int a : expanded_)
        if (k_.kinds_[a] == AxisKind::kUnroll && SlotAxisValue(s, a) != 0) is_out = false;
      if (!is_out) continue;
      std::vector<UOpPtr> group;
      for (int t = 0; t < num_slots_; ++t) {
        bool same = true;
        for (int a : expanded_)
          if (k_.kinds_[a] == AxisKind::kUpcast && SlotAxisValue(t, a) != SlotAxisValue(s, a))
            same = false;
        if (same) group.push_back((*vals)[t]);
      }
      p.out_slots.push_back(s);
      if (reduce_ranges_.empty()) {
        UOpPtr total = group[0];
        for (size_t i = 1; i < group.size(); ++i) total = Combine(op, total, group[i]);
        p.totals.push_back(total);
        continue;
      }
      UOpPtr reg =
          UOp::Create(Op::kDefineReg, vd.Ptr(AddrSpace::kReg, 1), {}, Arg(int64_t{next_reg_++}));
      UOpPtr ptr = UOp::Create(Op::kIndex, reg->dtype(), {reg, UOp::Index(0)});
      UOpList init_srcs = {ptr, Identity(op, vd)};
      for (const UOpPtr& lr : loop_ranges_) init_srcs.push_back(lr);
      UOpPtr init = UOp::Create(Op::kStore, DType::Void(), init_srcs);
      UOpList acc_srcs = {ptr, init};
      for (const UOpPtr& rr : reduce_ranges_) acc_srcs.push_back(rr);
      UOpPtr acc = UOp::Create(Op::kLoad, vd, acc_srcs);
      // Accumulate the unrolled values one after another: with a multiply
      // feeding each add this becomes a chain of FMAs into the register.
      UOpPtr total = acc;
      for (const UOpPtr& v : group) total = Combine(op, total, v);
      updates.push_back(UOp::Create(Op::kStore, DType::Void(), {ptr, total}));
      p.acc_ptrs.push_back(ptr);
    }
    pending.push_back(std::move(p));
  }
  UOpPtr end;
  if (!reduce_ranges_.empty()) {
    for (int i = static_cast<int>(reduce_ranges_.size()) - 1; i >= 0; --i) {
      UOpList srcs = {reduce_ranges_[i]};
      if (end) {
        srcs.push_back(end);
      } else {
        for (const UOpPtr& u : updates) srcs.push_back(u);
      }
      end = UOp::Create(Op::kEndRange, DType::Void(), srcs);
    }
  }
  // Per reduce and output slot: the thread's result (then, on GPUs with
  // group axes, combined across the group).
  std::vector<std::vector<UOpPtr>> results;
  std::vector<Op> ops;
  for (Pending& p : pending) {
    DType vd = p.node->dtype().Vec(width_);
    std::vector<UOpPtr> r;
    for (size_t i = 0; i < p.out_slots.size(); ++i) {
      UOpPtr total = end ? UOp::Create(Op::kLoad, vd, {p.acc_ptrs[i], end}) : p.totals[i];
      // Lanes reduced horizontally hold one value: combine it as a scalar.
      if (lanes_reduce && !group_axes_.empty() && total->dtype().count() > 1) {
        total = UOp::Create(Op::kGep, total->dtype().Scalar(), {HorizontalReduce(p.op, total)},
                            Arg(std::vector<int64_t>{0}));
      }
      r.push_back(std::move(total));
    }
    results.push_back(std::move(r));
    ops.push_back(p.op);
  }
  if (!group_axes_.empty() && !pending.empty()) GroupCombine(ops, results);
  for (size_t pi = 0; pi < pending.size(); ++pi) {
    Pending& p = pending[pi];
    std::vector<UOpPtr> out(num_slots_);
    for (size_t i = 0; i < p.out_slots.size(); ++i) {
      UOpPtr total = results[pi][i];
      if (lanes_reduce) {
        total = total->dtype().count() == 1 && width_ > 1
                    ? Vectorize(std::vector<UOpPtr>(width_, total))
                    : HorizontalReduce(p.op, total);
      }
      int s = p.out_slots[i];
      for (int t = 0; t < num_slots_; ++t) {
        bool same = true;
        for (int a : expanded_)
          if (k_.kinds_[a] == AxisKind::kUpcast && SlotAxisValue(t, a) != SlotAxisValue(s, a))
            same = false;
        if (same) out[t] = total;
      }
    }
    memo_[p.node] = std::move(out);
  }
  return absl::OkStatus();
}

absl::Status Lowerer::Store(const UOp* u, std::vector<UOpPtr>* out) {
  const UOpPtr& buf = u->src(0);
  int view = k_.view_index_.at(u->src(1).get());
  const ShapeTracker& st = k_.sts_[view];
  ASSIGN_OR_RETURN(const std::vector<UOpPtr>* vals, Val(u->src(2).get()));
  auto store = [&](Access a, const UOpPtr& v) {
    if (a.valid && a.valid->is_const()) return;  // never valid
    if (group_gate_) {                           // only group thread 0 writes the combined result
      if (!a.valid) {
        a.valid = group_gate_;
      } else if (a.valid->dtype().count() == 1) {
        a.valid = LogicalAnd(a.valid, group_gate_);
      } else {
        const int n = a.valid->dtype().count();
        a.valid = UOp::Create(Op::kAnd, a.valid->dtype(),
                              {a.valid, Vectorize(std::vector<UOpPtr>(n, group_gate_))});
      }
    }
    UOpList idx_srcs = {buf, a.idx};
    if (a.valid) idx_srcs.push_back(a.valid);
    out->push_back(UOp::Create(Op::kStore, DType::Void(),
                               {UOp::Create(Op::kIndex, buf->dtype(), idx_srcs), v}));
  };
  for (int s = 0; s < num_slots_; ++s) {
    if (!SlotIsCanonicalFor(st, s)) continue;
    const UOpPtr& v = (*vals)[s];
    DType sd = v->dtype().Scalar();
    switch (modes_[view]) {
      case LaneMode::kScalar:
      case LaneMode::kVector:
        store(Index(st, s, 0), v);
        break;
      case LaneMode::kBroadcast:
        store(Index(st, s, 0),
              width_ > 1 ? UOp::Create(Op::kGep, sd, {v}, Arg(std::vector<int64_t>{0})) : v);
        break;
      case LaneMode::kMasked:
        store(MaskedIndex(st, s), v);
        break;
      case LaneMode::kGather:
        for (int l = 0; l < width_; ++l)
          store(Index(st, s, l), UOp::Create(Op::kGep, sd, {v}, Arg(std::vector<int64_t>{l})));
        break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<UOpPtr> Lowerer::Run() {
  SetUpAxes();
  RETURN_IF_ERROR(LowerReduces());
  std::vector<UOpPtr> stores;
  for (const UOpPtr& s : k_.ast_->src()) {
    if (s->op() != Op::kStore) {
      return absl::InvalidArgumentError(
          absl::StrCat("Kernel: SINK source is not a STORE: ", s->ShortString()));
    }
    RETURN_IF_ERROR(Store(s.get(), &stores));
  }
  return UOp::Create(Op::kSink, DType::Void(), stores);
}

absl::StatusOr<UOpPtr> Kernel::Lower() const {
  if (gemm_variant_ >= 0) return GemmLowering::Lower(*this);
  return Lowerer(*this).Run();
}

}  // namespace uop

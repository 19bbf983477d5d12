#include "runtime/codegen/gemm_lowering.h"

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/cuda_wmma.h"
#include "runtime/codegen/kernel.h"
#include "runtime/uop/matcher.h"
#include "runtime/uop/symbolic.h"

namespace uop {
namespace {

struct Tile {
  int64_t bm, bn, bk;  // output tile and K step
  int64_t lx, ly;      // workgroup (threads), lidx0 x lidx1
  int64_t pad;         // shared-memory row padding (elements), against bank conflicts
};
// kSimt: lidx0 = 16 column threads, lidx1 = 16 row threads, 8x8 each.
constexpr Tile kSimtTile{128, 128, 8, 16, 16, 4};
// kTensorCore: lidx0 = 32 lanes, lidx1 = 8 warps (2 x 4 of 64x32 each).
constexpr Tile kTcTile{128, 128, 32, 32, 8, 8};

absl::Status NotGemm(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("not a GEMM: ", why));
}

UOpPtr Special(const char* name, int64_t end) {
  return UOp::Create(Op::kSpecial, DType::Index(), {UOp::Index(end)}, Arg(name));
}

UOpPtr Gep(const UOpPtr& v, int64_t lane) {
  return UOp::Create(Op::kGep, v->dtype().Scalar(), {v}, Arg(std::vector<int64_t>{lane}));
}

UOpPtr Vectorize(const std::vector<UOpPtr>& lanes) {
  if (lanes.size() == 1) return lanes[0];
  UOpList srcs(lanes.begin(), lanes.end());
  return UOp::Create(Op::kVectorize, lanes[0]->dtype().Vec(static_cast<int>(lanes.size())), srcs);
}

UOpPtr Index(const UOpPtr& buf, const UOpPtr& idx) {
  return UOp::Create(Op::kIndex, buf->dtype(), {buf, Simplify(idx)});
}

// The two loads under an X of casts and one multiply (for tensor cores).
bool IsProductOfLoads(const UOp* x) {
  if (x->op() == Op::kCast) x = x->src(0).get();
  if (x->op() != Op::kMul) return false;
  for (const UOpPtr& s : x->src()) {
    const UOp* v = s.get();
    if (v->op() == Op::kCast) v = v->src(0).get();
    if (v->op() != Op::kLoad) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<GemmPlan> GemmLowering::MakePlan(const Kernel& k, int64_t variant) {
  const RendererCaps& caps = k.caps();
  if (!caps.has_local || !caps.has_shared) return NotGemm("the target has no shared memory");
  if (variant != kSimt && variant != kTensorCore) {
    return NotGemm(absl::StrCat("unknown variant ", variant));
  }
  if (variant == kTensorCore && caps.tensor_cores < 1)
    return NotGemm("the target has no tensor cores");
  const UOpPtr& sink = k.ast_;
  if (sink->num_srcs() != 1 || sink->src(0)->op() != Op::kStore) return NotGemm("not one STORE");
  GemmPlan p;
  p.variant = variant;
  p.store = sink->src(0).get();
  const UOp* value = p.store->src(2).get();
  for (const UOp* u : value->Toposort()) {
    if (u->op() == Op::kReduceAxis) {
      if (p.reduce != nullptr) return NotGemm("more than one reduction");
      p.reduce = u;
    } else if (u->op() == Op::kConst && u->num_srcs() > 0) {
      return NotGemm("a padded constant");
    }
  }
  if (p.reduce == nullptr || p.reduce->arg().get<ReduceArg>().op != Op::kAdd) {
    return NotGemm("no sum");
  }
  if (!p.reduce->dtype().is_float()) return NotGemm("the sum is not floating point");
  std::vector<const UOp*> loads;
  for (const UOp* u : p.reduce->src(0)->Toposort()) {
    if (u->op() == Op::kLoad) {
      loads.push_back(u);
    } else if (!IsElementwise(u->op()) && u->op() != Op::kConst && u->op() != Op::kView &&
               u->op() != Op::kDefineGlobal) {
      return NotGemm(absl::StrCat("the summed value contains ", OpName(u->op())));
    }
  }
  if (loads.size() != 2) return NotGemm("the summed value does not read exactly two buffers");
  const std::vector<AxisKind>& kinds = k.kinds_;
  std::vector<int> loop_axes;
  for (int a = 0; a < static_cast<int>(kinds.size()); ++a) {
    if (kinds[a] == AxisKind::kLoop) {
      loop_axes.push_back(a);
    } else if (kinds[a] == AxisKind::kReduce) {
      if (p.k_axis >= 0) return NotGemm("more than one reduce axis");
      p.k_axis = a;
    } else {
      return NotGemm("other opts were applied first");
    }
  }
  if (p.k_axis < 0 || loop_axes.size() < 2) return NotGemm("no M, N and K axes");
  std::vector<std::vector<std::optional<int64_t>>> strides;
  for (const UOp* l : loads) {
    const ShapeTracker& st = k.sts_[k.view_index_.at(l->src(1).get())];
    for (int a = 0; a < st.rank(); ++a)
      if (st.AxisIsMasked(a)) return NotGemm("a padded operand");
    strides.push_back(st.RealStrides());
  }
  auto stride = [&](int which, int axis) -> std::optional<int64_t> { return strides[which][axis]; };
  // N: constant in one operand (A), M: constant in the other (B). Prefer the
  // output's contiguous axis as N.
  std::vector<std::optional<int64_t>> out_strides = k.output_view().RealStrides();
  std::vector<int> n_order = loop_axes;
  std::stable_sort(n_order.begin(), n_order.end(), [&](int x, int y) {
    return (out_strides[x] == std::optional<int64_t>(1)) >
           (out_strides[y] == std::optional<int64_t>(1));
  });
  for (int n : n_order) {
    for (int m : loop_axes) {
      if (m == n || p.m_axis >= 0) continue;
      for (int a = 0; a < 2 && p.m_axis < 0; ++a) {
        const int b = 1 - a;
        if (stride(a, n) == std::optional<int64_t>(0) &&
            stride(a, m) != std::optional<int64_t>(0) &&
            stride(b, m) == std::optional<int64_t>(0) &&
            stride(b, n) != std::optional<int64_t>(0)) {
          p.m_axis = m, p.n_axis = n;
          p.a_load = loads[a], p.b_load = loads[b];
          p.a_k_contiguous = stride(a, p.k_axis) == std::optional<int64_t>(1);
          p.a_m_contiguous = stride(a, m) == std::optional<int64_t>(1);
          p.b_n_contiguous = stride(b, n) == std::optional<int64_t>(1);
          p.b_k_contiguous = stride(b, p.k_axis) == std::optional<int64_t>(1);
        }
      }
    }
  }
  if (p.m_axis < 0) return NotGemm("no pair of axes along which each operand is constant");
  for (int a : loop_axes) {
    if (a != p.m_axis && a != p.n_axis) {
      p.batch_axes.push_back(a);
      p.batch *= k.full_shape_[a];
    }
  }
  p.m = k.full_shape_[p.m_axis];
  p.n = k.full_shape_[p.n_axis];
  p.k = k.full_shape_[p.k_axis];
  const Tile& t = variant == kTensorCore ? kTcTile : kSimtTile;
  if (p.m % t.bm != 0 || p.n % t.bn != 0 || p.k % t.bk != 0) {
    return NotGemm(absl::StrCat("M, N, K = ", p.m, ", ", p.n, ", ", p.k,
                                " are not multiples of the tile ", t.bm, ", ", t.bn, ", ", t.bk));
  }
  if (p.batch > caps.global_max[2]) return NotGemm("too many batches");
  if (variant == kTensorCore) {
    const DType da = p.a_load->dtype(), db = p.b_load->dtype();
    const bool half = da == DType::Float16() && db == DType::Float16();
    const bool bf16 = da == DType::BFloat16() && db == DType::BFloat16();
    if (!half && !bf16) return NotGemm("tensor cores need float16 or bfloat16 operands");
    if (p.reduce->dtype() != DType::Float32()) return NotGemm("tensor cores sum in float32");
    if (!IsProductOfLoads(p.reduce->src(0).get())) {
      return NotGemm("tensor cores need the summed value to be a product of the operands");
    }
  }
  return p;
}

namespace {

// One operand's tile copy global -> shared memory.
struct Operand {
  const UOp* load;
  int view;
  bool is_a;          // rows are M (A) or N (B)
  int64_t rows;       // BM or BN
  bool k_contiguous;  // in global memory
  bool rows_contiguous;
  DType elem;
  UOpPtr buf;  // the DEFINE_GLOBAL
  UOpPtr smem;
  int64_t pitch;
  bool smem_k_contiguous;
  int64_t stage_elems;  // one pipeline stage's tile
};

// Stages of the cp.async pipeline (tensor cores): tiles in flight while one
// is multiplied.
constexpr int64_t kAsyncStages = 4;

}  // namespace

class GemmLowering::Builder {
 public:
  Builder(const Kernel& k, const GemmPlan& p)
      : k_(k), p_(p), t_(p.variant == kTensorCore ? kTcTile : kSimtTile) {}
  absl::StatusOr<UOpPtr> Run();

 private:
  // Per-axis indices for output element (m, n) at reduce index kk.
  std::vector<UOpPtr> Idxs(const UOpPtr& m, const UOpPtr& n, const UOpPtr& kk) const {
    std::vector<UOpPtr> idxs(k_.full_shape_.size());
    for (size_t i = 0; i < p_.batch_axes.size(); ++i) idxs[p_.batch_axes[i]] = batch_idx_[i];
    idxs[p_.m_axis] = m;
    idxs[p_.n_axis] = n;
    idxs[p_.k_axis] = kk;
    return idxs;
  }
  UOpPtr Address(int view, std::vector<UOpPtr> idxs) const {
    const ShapeTracker& st = k_.sts_[view];
    for (int a = 0; a < st.rank(); ++a)
      if (st.shape()[a] == 1) idxs[a] = UOp::Index(0);
    return Simplify(st.ToIndexed(idxs).first);
  }
  UOpPtr SmemIndex(const Operand& o, const UOpPtr& row, const UOpPtr& kk) const {
    UOpPtr i = o.smem_k_contiguous ? row * o.pitch + kk : kk * o.pitch + row;
    return stage_ ? stage_ * o.stage_elems + i : i;
  }
  // Whether the tile copies can be 16-byte cp.async (aligned, contiguous).
  bool CanCopyAsync(const Operand& o);
  // cp.async of this thread's part of the tile at K offset k0 into `stage`.
  std::vector<UOpPtr> CopyTileAsync(const Operand& o, const UOpPtr& k0, const UOpPtr& stage,
                                    const UOpPtr& dep);
  UOpPtr AsyncOp(AsyncCopyArg::Kind kind, int pending, const std::vector<UOpPtr>& deps) const {
    UOpList srcs(deps.begin(), deps.end());
    return UOp::Create(Op::kCustom, DType::Void(), srcs,
                       Arg(std::make_shared<const AsyncCopyArg>(kind, pending)));
  }

  // Loads this thread's part of the tile at K offset k0 into registers.
  std::vector<std::pair<UOpPtr, std::pair<UOpPtr, UOpPtr>>> LoadTile(const Operand& o,
                                                                     const UOpPtr& k0);
  // Stores loaded parts into shared memory (after `dep`, if any).
  std::vector<UOpPtr> StoreTile(
      const Operand& o, const std::vector<std::pair<UOpPtr, std::pair<UOpPtr, UOpPtr>>>& parts,
      const UOpPtr& dep);
  UOpPtr SmemLoad(const Operand& o, const UOpPtr& row, const UOpPtr& kk, int width) const {
    UOpList srcs = {Index(o.smem, SmemIndex(o, row, kk)), barrier0_, kt_};
    return UOp::Create(Op::kLoad, o.elem.Vec(width), srcs);
  }
  UOpPtr Epilogue(const UOpPtr& acc, const UOpPtr& m, const UOpPtr& n) const;
  absl::Status StoreOut(const std::vector<UOpPtr>& vals, const UOpPtr& m, const UOpPtr& n,
                        std::vector<UOpPtr>* stores) const;
  void Simt(std::vector<UOpPtr>* stores);
  void TensorCore(std::vector<UOpPtr>* stores);

  const Kernel& k_;
  const GemmPlan& p_;
  const Tile t_;
  std::vector<UOpPtr> batch_idx_;
  UOpPtr stage_;  // the pipeline stage compute reads (nullptr: one stage)
  UOpPtr m0_, n0_, tid_, kt_, barrier0_;
  Operand a_, b_;
  int64_t kt_end_ = 0;
  // Accumulator registers, their init stores, and the loop's end.
  std::vector<UOpPtr> regs_, inits_;
};

std::vector<std::pair<UOpPtr, std::pair<UOpPtr, UOpPtr>>> GemmLowering::Builder::LoadTile(
    const Operand& o, const UOpPtr& k0) {
  const int64_t threads = t_.lx * t_.ly;
  const int64_t per_thread = o.rows * t_.bk / threads;
  int64_t v = std::min<int64_t>(std::max(1, 16 / o.elem.itemsize()), per_thread);
  const bool along_k = o.k_contiguous && t_.bk % v == 0;
  const bool along_rows = !along_k && o.rows_contiguous && o.rows % v == 0;
  if (!along_k && !along_rows) v = 1;
  std::vector<std::pair<UOpPtr, std::pair<UOpPtr, UOpPtr>>> parts;
  for (int64_t i = 0; i < per_thread / v; ++i) {
    UOpPtr e = tid_ + i * threads;
    UOpPtr row, kk;
    if (along_k) {
      row = e / (t_.bk / v), kk = (e % (t_.bk / v)) * v;
    } else if (along_rows) {
      kk = e / (o.rows / v), row = (e % (o.rows / v)) * v;
    } else {
      kk = e / o.rows, row = e % o.rows;
    }
    row = Simplify(row), kk = Simplify(kk);
    UOpPtr g_row = (o.is_a ? m0_ : n0_) + row;
    UOpPtr idx = o.is_a ? Address(o.view, Idxs(g_row, UOp::Index(0), k0 + kk))
                        : Address(o.view, Idxs(UOp::Index(0), g_row, k0 + kk));
    UOpPtr val = UOp::Create(Op::kLoad, o.elem.Vec(static_cast<int>(v)), {Index(o.buf, idx)});
    parts.push_back({val, {row, kk}});
  }
  return parts;
}

std::vector<UOpPtr> GemmLowering::Builder::StoreTile(
    const Operand& o, const std::vector<std::pair<UOpPtr, std::pair<UOpPtr, UOpPtr>>>& parts,
    const UOpPtr& dep) {
  std::vector<UOpPtr> stores;
  auto store = [&](const UOpPtr& idx, const UOpPtr& val) {
    UOpList srcs = {Index(o.smem, idx), val};
    if (dep) srcs.push_back(dep);
    stores.push_back(UOp::Create(Op::kStore, DType::Void(), srcs));
  };
  for (const auto& [val, at] : parts) {
    const int v = val->dtype().count();
    const bool along_k = v > 1 && o.k_contiguous && t_.bk % v == 0;
    if (v == 1 || along_k == o.smem_k_contiguous) {
      store(SmemIndex(o, at.first, at.second), val);
      continue;
    }
    for (int j = 0; j < v; ++j) {
      UOpPtr row = along_k ? at.first : at.first + j;
      UOpPtr kk = along_k ? at.second + j : at.second;
      store(SmemIndex(o, row, kk), Gep(val, j));
    }
  }
  return stores;
}

bool GemmLowering::Builder::CanCopyAsync(const Operand& o) {
  const int64_t v = 16 / o.elem.itemsize();
  const bool along_k = o.k_contiguous && t_.bk % v == 0;
  const bool along_rows = !along_k && o.rows_contiguous && o.rows % v == 0;
  if (!along_k && !along_rows) return false;
  if (o.rows * t_.bk % (v * t_.lx * t_.ly) != 0) return false;
  // Both ends of every copy 16-byte aligned: the global index of a chunk
  // start is a multiple of v (checked on the first chunk's expression).
  std::vector<UOpPtr> parts;
  for (const auto& [val, at] : LoadTile(o, kt_ * t_.bk)) {
    const UOp* index = val->src(0).get();
    UOpPtr rem = Simplify(index->src(1) % v);
    if (!rem->is_const() || rem->const_int() != 0) return false;
  }
  return true;
}

std::vector<UOpPtr> GemmLowering::Builder::CopyTileAsync(const Operand& o, const UOpPtr& k0,
                                                         const UOpPtr& stage, const UOpPtr& dep) {
  std::vector<UOpPtr> copies;
  UOpPtr saved = stage_;
  stage_ = stage;
  for (const auto& [val, at] : LoadTile(o, k0)) {
    UOpList srcs = {Index(o.smem, SmemIndex(o, at.first, at.second)), val->src(0)};
    if (dep) srcs.push_back(dep);
    copies.push_back(UOp::Create(Op::kCustom, DType::Void(), srcs,
                                 Arg(std::make_shared<const AsyncCopyArg>(AsyncCopyArg::kCopy16))));
  }
  stage_ = saved;
  return copies;
}

UOpPtr GemmLowering::Builder::Epilogue(const UOpPtr& acc, const UOpPtr& m, const UOpPtr& n) const {
  const UOp* value = p_.store->src(2).get();
  std::vector<std::pair<UOpPtr, UOpPtr>> repl = {{UOpPtr::FromBorrowed(p_.reduce), acc}};
  absl::flat_hash_set<const UOp*> in_x;
  for (const UOp* u : p_.reduce->Toposort()) in_x.insert(u);
  for (const UOp* u : value->Toposort()) {
    if (u->op() != Op::kLoad || in_x.contains(u)) continue;
    const int view = k_.view_index_.at(u->src(1).get());
    UOpPtr idx = Address(view, Idxs(m, n, UOp::Index(0)));
    repl.push_back(
        {UOpPtr::FromBorrowed(u), UOp::Create(Op::kLoad, u->dtype(), {Index(u->src(0), idx)})});
  }
  return Substitute(UOpPtr::FromBorrowed(value), repl);
}

absl::Status GemmLowering::Builder::StoreOut(const std::vector<UOpPtr>& vals, const UOpPtr& m,
                                             const UOpPtr& n, std::vector<UOpPtr>* stores) const {
  const UOpPtr& buf = p_.store->src(0);
  const int view = k_.view_index_.at(p_.store->src(1).get());
  const bool n_contiguous = k_.sts_[view].RealStrides()[p_.n_axis] == std::optional<int64_t>(1);
  if (n_contiguous) {
    UOpPtr idx = Address(view, Idxs(m, n, UOp::Index(0)));
    stores->push_back(UOp::Create(Op::kStore, DType::Void(), {Index(buf, idx), Vectorize(vals)}));
    return absl::OkStatus();
  }
  for (size_t j = 0; j < vals.size(); ++j) {
    UOpPtr idx = Address(view, Idxs(m, n + static_cast<int64_t>(j), UOp::Index(0)));
    stores->push_back(UOp::Create(Op::kStore, DType::Void(), {Index(buf, idx), vals[j]}));
  }
  return absl::OkStatus();
}

// 8x8 outputs per thread, rows tm*4 + {0..3} and +64, columns tn*4 + {0..3}
// and +64: the shared-memory reads of a warp are broadcasts or distinct
// 16-byte words.
void GemmLowering::Builder::Simt(std::vector<UOpPtr>* stores) {
  const UOpPtr tn = Special("lidx0", t_.lx), tm = Special("lidx1", t_.ly);
  const DType acc = p_.reduce->dtype();
  std::vector<UOpPtr> cur;
  for (int r = 0; r < 64; ++r) {
    UOpPtr reg = UOp::Create(Op::kDefineReg, acc.Ptr(AddrSpace::kReg, 1), {}, Arg(int64_t{r}));
    UOpPtr ptr = UOp::Create(Op::kIndex, reg->dtype(), {reg, UOp::Index(0)});
    UOpPtr init = UOp::Create(Op::kStore, DType::Void(), {ptr, UOp::Const(acc, int64_t{0})});
    regs_.push_back(ptr);
    inits_.push_back(init);
    cur.push_back(UOp::Create(Op::kLoad, acc, {ptr, init, kt_}));
  }
  const UOpPtr x = UOpPtr::FromBorrowed(p_.reduce->src(0).get());
  const UOpPtr la = UOpPtr::FromBorrowed(p_.a_load), lb = UOpPtr::FromBorrowed(p_.b_load);
  for (int64_t kk = 0; kk < t_.bk; ++kk) {
    std::vector<UOpPtr> av, bv;
    for (int h = 0; h < 2; ++h) {
      UOpPtr a4 = SmemLoad(a_, tm * 4 + 64 * h, UOp::Index(kk), 4);
      UOpPtr b4 = SmemLoad(b_, tn * 4 + 64 * h, UOp::Index(kk), 4);
      for (int j = 0; j < 4; ++j) av.push_back(Gep(a4, j)), bv.push_back(Gep(b4, j));
    }
    for (int i = 0; i < 8; ++i) {
      for (int j = 0; j < 8; ++j) {
        UOpPtr term = Substitute(x, {{la, av[i]}, {lb, bv[j]}});
        cur[i * 8 + j] = UOp::Create(Op::kAdd, acc, {cur[i * 8 + j], term});
      }
    }
  }
  for (int r = 0; r < 64; ++r) {
    stores->push_back(UOp::Create(Op::kStore, DType::Void(), {regs_[r], cur[r]}));
  }
}

// Warp (wm, wn) of 2 x 4 computes rows wm*64 .. +64 and columns wn*32 .. +32
// as 4 x 4 mma tiles of 16 x 8, fragments loaded with ldmatrix (cuda_wmma.h
// layouts).
void GemmLowering::Builder::TensorCore(std::vector<UOpPtr>* stores) {
  const UOpPtr lane = Special("lidx0", t_.lx), warp = Special("lidx1", t_.ly);
  const UOpPtr wm = Simplify(warp / 4), wn = Simplify(warp % 4);
  const DType f4 = DType::Float32().Vec(4);
  auto wmma_arg = std::make_shared<const WmmaArg>(WmmaArg::M16N8K16(a_.elem));
  std::vector<UOpPtr> cur;
  for (int r = 0; r < 16; ++r) {
    UOpPtr reg = UOp::Create(Op::kDefineReg, f4.Ptr(AddrSpace::kReg, 1), {}, Arg(int64_t{r}));
    UOpPtr ptr = UOp::Create(Op::kIndex, reg->dtype(), {reg, UOp::Index(0)});
    UOpPtr init = UOp::Create(Op::kStore, DType::Void(), {ptr, UOp::Const(f4, int64_t{0})});
    regs_.push_back(ptr);
    inits_.push_back(init);
    cur.push_back(UOp::Create(Op::kLoad, f4, {ptr, init, kt_}));
  }
  // ldmatrix.x4: lane L gives the row address of matrix q = L / 8, row r = L % 8.
  const UOpPtr q = Simplify(lane / 8), r = Simplify(lane % 8);
  auto ldmatrix = [&](const Operand& o, const UOpPtr& row0, const UOpPtr& k0, bool k_pairs_first) {
    // Matrices in fragment order. A: (rows 0-7, k 0-7), (rows 8-15, k 0-7),
    // (rows 0-7, k 8-15), (rows 8-15, k 8-15). B (two n tiles): (k 0-7,
    // n 0-7), (k 8-15, n 0-7), (k 0-7, n 8-15), (k 8-15, n 8-15).
    UOpPtr row_off = k_pairs_first ? (q % 2) * 8 : (q / 2) * 8;
    UOpPtr k_off = k_pairs_first ? (q / 2) * 8 : (q % 2) * 8;
    // Each lane points at one row of its matrix: a row of the tile's rows
    // ([rows][K] layout) or of K ([K][rows], read transposed).
    UOpPtr idx = o.smem_k_contiguous ? SmemIndex(o, row0 + row_off + r, k0 + k_off)
                                     : SmemIndex(o, row0 + row_off, k0 + k_off + r);
    auto arg = std::make_shared<const LdMatrixArg>(4, !o.smem_k_contiguous);
    UOpList srcs = {Index(o.smem, idx), barrier0_, kt_};
    return UOp::Create(Op::kCustom, o.elem.Vec(8), srcs, Arg(arg));
  };
  for (int64_t ks = 0; ks < t_.bk / 16; ++ks) {
    std::vector<UOpPtr> afrag, bfrag;
    for (int mi = 0; mi < 4; ++mi) {
      afrag.push_back(ldmatrix(a_, wm * 64 + mi * 16, UOp::Index(ks * 16), true));
    }
    for (int nj = 0; nj < 2; ++nj) {
      UOpPtr x = ldmatrix(b_, wn * 32 + nj * 16, UOp::Index(ks * 16), false);
      for (int half = 0; half < 2; ++half) {
        std::vector<int64_t> lanes = {4 * half, 4 * half + 1, 4 * half + 2, 4 * half + 3};
        bfrag.push_back(UOp::Create(Op::kGep, b_.elem.Vec(4), {x}, Arg(lanes)));
      }
    }
    for (int mi = 0; mi < 4; ++mi) {
      for (int ni = 0; ni < 4; ++ni) {
        UOpPtr& c = cur[mi * 4 + ni];
        c = UOp::Create(Op::kWmma, f4, {afrag[mi], bfrag[ni], c}, Arg(wmma_arg));
      }
    }
  }
  for (int r = 0; r < 16; ++r) {
    stores->push_back(UOp::Create(Op::kStore, DType::Void(), {regs_[r], cur[r]}));
  }
}

absl::StatusOr<UOpPtr> GemmLowering::Builder::Run() {
  // Grid: N tiles, M tiles, batches; block: lidx0 x lidx1 threads.
  const UOpPtr gn = Special("gidx0", p_.n / t_.bn), gm = Special("gidx1", p_.m / t_.bm);
  if (p_.batch > 1) {
    UOpPtr gb = Special("gidx2", p_.batch);
    int64_t stride = 1;
    batch_idx_.assign(p_.batch_axes.size(), nullptr);
    for (int i = static_cast<int>(p_.batch_axes.size()) - 1; i >= 0; --i) {
      const int64_t size = k_.full_shape_[p_.batch_axes[i]];
      UOpPtr idx = stride == 1 ? gb : gb / stride;
      batch_idx_[i] = Simplify(i > 0 ? idx % size : idx);
      stride *= size;
    }
  } else {
    batch_idx_.assign(p_.batch_axes.size(), UOp::Index(0));
  }
  m0_ = gm * t_.bm;
  n0_ = gn * t_.bn;
  tid_ = Simplify(Special("lidx1", t_.ly) * t_.lx + Special("lidx0", t_.lx));
  const bool tc = p_.variant == kTensorCore;
  auto operand = [&](const UOp* load, bool is_a) {
    Operand o;
    o.load = load;
    o.view = k_.view_index_.at(load->src(1).get());
    o.is_a = is_a;
    o.rows = is_a ? t_.bm : t_.bn;
    o.k_contiguous = is_a ? p_.a_k_contiguous : p_.b_k_contiguous;
    o.rows_contiguous = is_a ? p_.a_m_contiguous : p_.b_n_contiguous;
    o.elem = load->dtype();
    o.buf = load->src(0);
    // SIMT reads rows of M (N) per K step: [K][rows]. Tensor cores read
    // with ldmatrix, which transposes if needed: keep the layout global
    // memory has, so the tile copy is straight 16-byte stores.
    o.smem_k_contiguous = tc && (o.k_contiguous || !o.rows_contiguous);
    o.pitch = (o.smem_k_contiguous ? t_.bk : o.rows) + t_.pad;
    o.stage_elems = o.smem_k_contiguous ? o.rows * o.pitch : t_.bk * o.pitch;
    return o;
  };
  a_ = operand(p_.a_load, true);
  b_ = operand(p_.b_load, false);
  kt_end_ = p_.k / t_.bk;
  kt_ = UOp::Create(Op::kRange, DType::Index(), {UOp::Index(kt_end_)}, Arg(int64_t{0}));
  const bool pipelined = tc && CanCopyAsync(a_) && CanCopyAsync(b_);
  const int64_t stages = pipelined ? kAsyncStages : 1;
  for (Operand* o : {&a_, &b_}) {
    o->smem = UOp::Create(Op::kDefineLocal, o->elem.Ptr(AddrSpace::kLocal, stages * o->stage_elems),
                          {}, Arg(int64_t{o->is_a ? 0 : 1}));
  }
  UOpPtr end, drained;
  std::vector<UOpPtr> acc_stores;
  if (pipelined) {
    // cp.async pipeline: tiles 0 .. S-2 in flight before the loop; step kt
    // waits for tile kt, barriers (everyone's copies landed and everyone is
    // done with tile kt-1), issues tile kt+S-1 into kt-1's stage, and
    // multiplies tile kt. One barrier per step, no registers for staging.
    UOpPtr commit;
    for (int64_t st = 0; st < stages - 1; ++st) {
      UOpPtr k0 = UOp::Index((st % kt_end_) * t_.bk), stage = UOp::Index(st);
      std::vector<UOpPtr> group = CopyTileAsync(a_, k0, stage, commit);
      for (const UOpPtr& c : CopyTileAsync(b_, k0, stage, commit)) group.push_back(c);
      commit = AsyncOp(AsyncCopyArg::kCommit, 0, group);
    }
    UOpPtr landed = AsyncOp(AsyncCopyArg::kWait, static_cast<int>(stages - 2), {kt_, commit});
    barrier0_ = UOp::Create(Op::kBarrier, DType::Void(), {landed});
    UOpPtr ahead = kt_ + (stages - 1);
    UOpPtr k0 = Simplify((ahead % kt_end_) * t_.bk), stage = Simplify(ahead % stages);
    std::vector<UOpPtr> group = CopyTileAsync(a_, k0, stage, barrier0_);
    for (const UOpPtr& c : CopyTileAsync(b_, k0, stage, barrier0_)) group.push_back(c);
    UOpPtr issued = AsyncOp(AsyncCopyArg::kCommit, 0, group);
    stage_ = Simplify(kt_ % stages);
    TensorCore(&acc_stores);
    stage_ = nullptr;
    UOpList end_srcs = {kt_, issued};
    for (const UOpPtr& st : acc_stores) end_srcs.push_back(st);
    end = UOp::Create(Op::kEndRange, DType::Void(), end_srcs);
    drained = AsyncOp(AsyncCopyArg::kWait, 0, {end});  // nothing in flight at exit
  } else {
    // Prologue: the first K tile into shared memory.
    std::vector<UOpPtr> first = StoreTile(a_, LoadTile(a_, UOp::Index(0)), nullptr);
    for (const UOpPtr& st : StoreTile(b_, LoadTile(b_, UOp::Index(0)), nullptr)) {
      first.push_back(st);
    }
    barrier0_ = UOp::Create(Op::kBarrier, DType::Void(), first);
    // The next tile's loads go out before this tile's math (the last
    // iteration reloads tile 0, harmlessly).
    UOpPtr next_k0 = Simplify(((kt_ + 1) % kt_end_) * t_.bk);
    auto next_a = LoadTile(a_, next_k0);
    auto next_b = LoadTile(b_, next_k0);
    if (tc) {
      TensorCore(&acc_stores);
    } else {
      Simt(&acc_stores);
    }
    UOpPtr computed = UOp::Create(Op::kBarrier, DType::Void(), acc_stores);
    std::vector<UOpPtr> refill = StoreTile(a_, next_a, computed);
    for (const UOpPtr& st : StoreTile(b_, next_b, computed)) refill.push_back(st);
    UOpPtr refilled = UOp::Create(Op::kBarrier, DType::Void(), refill);
    end = UOp::Create(Op::kEndRange, DType::Void(), {kt_, refilled});
  }
  // Epilogue: each thread's outputs, vectorized along N.
  std::vector<UOpPtr> out;
  const DType acc_dtype = tc ? DType::Float32().Vec(4) : p_.reduce->dtype();
  std::vector<UOpPtr> total;
  for (const UOpPtr& r : regs_) {
    UOpList srcs = {r, end};
    if (drained) srcs.push_back(drained);
    total.push_back(UOp::Create(Op::kLoad, acc_dtype, srcs));
  }
  if (tc) {
    const UOpPtr lane = Special("lidx0", t_.lx), warp = Special("lidx1", t_.ly);
    const UOpPtr g = Simplify(lane / 4), t = Simplify(lane % 4);
    const UOpPtr wm = Simplify(warp / 4), wn = Simplify(warp % 4);
    for (int mi = 0; mi < 4; ++mi) {
      for (int ni = 0; ni < 4; ++ni) {
        for (int half = 0; half < 2; ++half) {
          UOpPtr m = m0_ + wm * 64 + mi * 16 + g + 8 * half;
          UOpPtr n = n0_ + wn * 32 + ni * 8 + t * 2;
          const UOpPtr& acc = total[mi * 4 + ni];
          std::vector<UOpPtr> vals = {Epilogue(Gep(acc, 2 * half), m, n),
                                      Epilogue(Gep(acc, 2 * half + 1), m, n + 1)};
          RETURN_IF_ERROR(StoreOut(vals, m, n, &out));
        }
      }
    }
  } else {
    const UOpPtr tn = Special("lidx0", t_.lx), tm = Special("lidx1", t_.ly);
    for (int i = 0; i < 8; ++i) {
      UOpPtr m = m0_ + tm * 4 + (i % 4) + 64 * (i / 4);
      for (int h = 0; h < 2; ++h) {
        UOpPtr n = n0_ + tn * 4 + 64 * h;
        std::vector<UOpPtr> vals;
        for (int j = 0; j < 4; ++j) vals.push_back(Epilogue(total[i * 8 + h * 4 + j], m, n + j));
        RETURN_IF_ERROR(StoreOut(vals, m, n, &out));
      }
    }
  }
  return UOp::Create(Op::kSink, DType::Void(), out);
}

absl::StatusOr<UOpPtr> GemmLowering::Lower(const Kernel& k) {
  ASSIGN_OR_RETURN(GemmPlan plan, MakePlan(k, k.gemm_variant_));
  return Builder(k, plan).Run();
}

}  // namespace uop

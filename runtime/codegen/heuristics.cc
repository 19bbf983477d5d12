#include "runtime/codegen/heuristics.h"

#include <algorithm>
#include <optional>

#include "runtime/codegen/gemm_lowering.h"

namespace uop {
namespace {

// Below this many output elements a kernel is not worth waking other cores.
constexpr int64_t kMinElementsPerThreadSplit = 1 << 15;

int64_t Product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

bool TryApply(Kernel& k, const Opt& opt, std::vector<Opt>& applied) {
  if (!k.Apply(opt).ok()) return false;
  applied.push_back(opt);
  return true;
}

// Largest power of two <= limit dividing n (1 if none).
int64_t Pow2Divisor(int64_t n, int64_t limit) {
  int64_t best = 1;
  for (int64_t p = 2; p <= limit; p *= 2)
    if (n % p == 0) best = p;
  return best;
}

std::optional<int64_t> Stride(const ShapeTracker& st, int axis) {
  if (st.AxisIsMasked(axis)) return std::nullopt;
  return st.RealStrides()[axis];
}

// Largest divisor of n that is <= limit.
int64_t LargestDivisor(int64_t n, int64_t limit) {
  for (int64_t d = std::min(n, limit); d > 1; --d)
    if (n % d == 0) return d;
  return 1;
}

// Threads per workgroup the GPU heuristics aim for.
constexpr int64_t kGpuThreads = 256;
// Below this many outputs a reduction is spread over a workgroup's threads.
constexpr int64_t kGpuGroupBelowOutputs = 1 << 16;

// GPU: loop axes are the grid. Vectorize the contiguous output axis,
// register-tile matmuls (4x4 per thread, 16x16 threads), split long
// reductions with few outputs over a workgroup (GROUP), and give every
// kernel a workgroup of up to 256 threads along its contiguous output axis.
std::vector<Opt> ApplyGpuOpts(Kernel& k) {
  std::vector<Opt> applied;
  const int lanes =
      std::max(1, k.caps().max_vector_bytes / std::max(1, k.output_dtype().itemsize()));
  const int rank = static_cast<int>(k.kinds().size());
  auto loop_axes = [&] {
    std::vector<int> v;
    for (int a = 0; a < static_cast<int>(k.kinds().size()); ++a)
      if (k.kinds()[a] == AxisKind::kLoop) v.push_back(a);
    return v;
  };
  int out_axis = -1;
  for (int a = rank - 1; a >= 0 && out_axis < 0; --a) {
    std::optional<int64_t> s = Stride(k.output_view(), a);
    if (k.kinds()[a] == AxisKind::kLoop && s && *s == 1) out_axis = a;
  }
  int m_axis = -1;
  if (k.has_reduce() && out_axis >= 0) {
    bool broadcast_on_n = false;
    for (const ShapeTracker* st : k.input_views()) {
      std::optional<int64_t> s = Stride(*st, out_axis);
      broadcast_on_n |= s && *s == 0;
    }
    for (int a = out_axis - 1; broadcast_on_n && a >= 0 && m_axis < 0; --a) {
      if (k.kinds()[a] != AxisKind::kLoop) continue;
      for (const ShapeTracker* st : k.input_views()) {
        std::optional<int64_t> s = Stride(*st, a);
        if (s && *s == 0) m_axis = a;
      }
    }
  }
  if (m_axis >= 0) {
    // Matmul: a tiled GEMM through shared memory when the shape allows
    // (tensor cores for 16-bit floats), else 4x4 outputs per thread in
    // registers on 16x16 threads.
    if (k.caps().tensor_cores > 0 && TryApply(k, {OptOp::kGemm, 0, kTensorCore}, applied)) {
      return applied;
    }
    if (TryApply(k, {OptOp::kGemm, 0, kSimt}, applied)) return applied;
    if (k.full_shape()[m_axis] % 64 == 0 && k.full_shape()[out_axis] % 64 == 0) {
      TryApply(k, {OptOp::kUpcast, m_axis, 4}, applied);
      TryApply(k, {OptOp::kUpcast, out_axis, 4}, applied);
      int r = k.FirstOf(AxisKind::kReduce);
      if (r >= 0 && k.full_shape()[r] % 4 == 0) TryApply(k, {OptOp::kUnroll, r, 4}, applied);
      TryApply(k, {OptOp::kLocal, m_axis, 16}, applied);
      TryApply(k, {OptOp::kLocal, out_axis, 16}, applied);
      return applied;
    }
  }
  int64_t outputs = 1;
  for (int a : loop_axes()) outputs *= k.full_shape()[a];
  int64_t group = 1;
  if (k.has_reduce() && outputs < kGpuGroupBelowOutputs) {
    // The reduce axis contiguous in an input (coalesced partial sums), else the last.
    int r = -1;
    for (int a = rank - 1; a >= 0 && r < 0; --a) {
      if (k.kinds()[a] != AxisKind::kReduce) continue;
      for (const ShapeTracker* st : k.input_views()) {
        std::optional<int64_t> s = Stride(*st, a);
        if (s && *s == 1) r = a;
      }
    }
    if (r < 0) {
      for (int a = rank - 1; a >= 0 && r < 0; --a)
        if (k.kinds()[a] == AxisKind::kReduce) r = a;
    }
    int64_t want = outputs >= 1024 ? 32 : kGpuThreads;
    int64_t g = r >= 0 ? Pow2Divisor(k.full_shape()[r], want) : 1;
    if (g >= 8 && TryApply(k, {OptOp::kGroup, r, g}, applied)) group = g;
  }
  if (out_axis >= 0 && group == 1) {
    int64_t up = Pow2Divisor(k.full_shape()[out_axis], std::min(lanes, 4));
    if (up > 1 && k.full_shape()[out_axis] / up >= 32)
      TryApply(k, {OptOp::kUpcast, out_axis, up}, applied);
  }
  // Threads: along the contiguous output axis first, then the others.
  int64_t threads = group;
  std::vector<int> order = loop_axes();
  if (out_axis >= 0) {
    order.erase(std::remove(order.begin(), order.end(), out_axis), order.end());
    order.push_back(out_axis);
  }
  for (auto it = order.rbegin(); it != order.rend() && threads < kGpuThreads; ++it) {
    int64_t d = LargestDivisor(k.full_shape()[*it], kGpuThreads / threads);
    if (d > 1 && TryApply(k, {OptOp::kLocal, *it, d}, applied)) threads *= d;
  }
  return applied;
}

// A reduction whose output cannot be vectorized (odd output extents, or the
// output contiguous along no loop axis): vector partial sums along the reduce
// axis an input is contiguous along, plus a few outputs per iteration from a
// small loop axis so the FMA chains are independent (one chain is bound by
// FMA latency: 4 cycles per step instead of two FMAs per cycle). False when
// no input is contiguous along a reduce axis (nothing applied).
bool VectorizeReduce(Kernel& k, int lanes, std::vector<Opt>& applied) {
  const int rank = static_cast<int>(k.kinds().size());
  int r = -1;
  for (int a = rank - 1; a >= 0 && r < 0; --a) {
    if (k.kinds()[a] != AxisKind::kReduce) continue;
    for (const ShapeTracker* st : k.input_views()) {
      std::optional<int64_t> s = Stride(*st, a);
      if (s && *s == 1) {
        r = a;
        break;
      }
    }
  }
  if (r < 0) return false;
  const int64_t reduce = k.full_shape()[r];
  int64_t up = Pow2Divisor(reduce, lanes);
  if (up <= 1 || !TryApply(k, {OptOp::kUnroll, r, up}, applied)) return false;
  if (reduce / up < 16) return true;  // short chains: latency does not matter
  constexpr int64_t kMaxAccumulators = 8;
  int best = -1;
  int64_t best_size = 1;
  for (int a = 0; a < static_cast<int>(k.kinds().size()); ++a) {
    if (k.kinds()[a] != AxisKind::kLoop) continue;
    int64_t d = LargestDivisor(k.full_shape()[a], kMaxAccumulators);
    if (d > best_size) best = a, best_size = d;
  }
  if (best >= 0) TryApply(k, {OptOp::kUpcast, best, best_size}, applied);
  return true;
}
}  // namespace

std::vector<Opt> ApplyHandCodedOpts(Kernel& k) {
  if (k.caps().has_local) return ApplyGpuOpts(k);
  std::vector<Opt> applied;
  int lanes = std::max(1, k.caps().max_vector_bytes / std::max(1, k.output_dtype().itemsize()));
  const auto& kinds = k.kinds();
  int rank = static_cast<int>(kinds.size());

  // The output's contiguous loop axis.
  int out_axis = -1;
  for (int a = rank - 1; a >= 0; --a) {
    if (kinds[a] != AxisKind::kLoop) continue;
    std::optional<int64_t> s = Stride(k.output_view(), a);
    if (s && *s == 1) {
      out_axis = a;
      break;
    }
  }

  if (k.has_reduce()) {
    // Matmul-like: along the output's contiguous axis some input is constant
    // (it broadcasts), and along another loop axis another input is constant.
    // Tile both: registers hold an (m x n) block of accumulators.
    // `x` is an input constant along n (it broadcasts across the output's
    // contiguous axis); m is a loop axis x varies along while another input
    // is constant along it. Tiling m x n reuses each loaded x value across n
    // and each loaded vector of the other input across m.
    int m_axis = -1;
    if (out_axis >= 0) {
      std::vector<const ShapeTracker*> inputs = k.input_views();
      for (const ShapeTracker* x : inputs) {
        std::optional<int64_t> xn = Stride(*x, out_axis);
        if (!xn || *xn != 0) continue;
        for (int a = out_axis - 1; a >= 0 && m_axis < 0; --a) {
          if (kinds[a] != AxisKind::kLoop) continue;
          std::optional<int64_t> xs = Stride(*x, a);
          if (xs && *xs == 0) continue;
          for (const ShapeTracker* y : inputs) {
            std::optional<int64_t> ys = Stride(*y, a);
            if (y != x && ys && *ys == 0) {
              m_axis = a;
              break;
            }
          }
        }
        if (m_axis >= 0) break;
      }
    }
    int64_t n_up = 1, m_up = 1;
    if (m_axis >= 0) {
      n_up = Pow2Divisor(k.full_shape()[out_axis], 2 * lanes);
      m_up = Pow2Divisor(k.full_shape()[m_axis], 4);
    }
    const bool tile = m_axis >= 0 && (n_up > 1 || m_up > 1);
    // Only m would tile (the output's contiguous extent is odd): its lanes
    // would be gathered from rows far apart; partial sums along a reduce
    // axis the inputs are contiguous along vectorize without gathers (an
    // STFT as a convolution: 258 channels x 3 frames, 256 taps).
    const bool reduced = tile && n_up == 1 && VectorizeReduce(k, lanes, applied);
    if (tile && !reduced) {
      // Upcast m first (it keeps the axis numbering of n), then n last so it
      // becomes the vector axis.
      if (m_up > 1) TryApply(k, {OptOp::kUpcast, m_axis, m_up}, applied);
      if (n_up > 1) {
        // The contiguous lanes first (they become the vector axis), then the
        // rest of the tile's n extent from the remaining loop axis.
        int64_t vec = std::min<int64_t>(n_up, lanes);
        if (TryApply(k, {OptOp::kUpcast, out_axis, vec}, applied) && n_up > vec) {
          TryApply(k, {OptOp::kUpcast, out_axis, n_up / vec}, applied);
        }
      }
      int r = k.FirstOf(AxisKind::kReduce);
      // When the input constant along m is laid out in panels (its step
      // along the reduce axis is the tile's n extent), loop over the panels
      // outside m: each panel then stays in L2 while every m tile reads it.
      if (r >= 0 && m_up > 1 && n_up > 1) {
        for (const ShapeTracker* y : k.input_views()) {
          std::optional<int64_t> ym = Stride(*y, m_axis), yr = Stride(*y, r);
          if (!ym || *ym != 0 || !yr || *yr != n_up) continue;
          for (int a = 0; a < static_cast<int>(k.kinds().size()); ++a) {
            std::optional<int64_t> ya = Stride(*y, a);
            if (a > m_axis && k.kinds()[a] == AxisKind::kLoop && ya && *ya != 0) {
              TryApply(k, {OptOp::kSwap, m_axis, a}, applied);
              break;
            }
          }
          break;
        }
      }
      if (r >= 0 && k.full_shape()[r] % 4 == 0) TryApply(k, {OptOp::kUnroll, r, 4}, applied);
    } else if (!reduced) {
      int64_t up = out_axis >= 0 ? Pow2Divisor(k.full_shape()[out_axis], lanes) : 1;
      if (up > 1) {
        TryApply(k, {OptOp::kUpcast, out_axis, up}, applied);
      } else {
        VectorizeReduce(k, lanes, applied);
      }
    }
  } else if (out_axis >= 0) {
    int64_t up = Pow2Divisor(k.full_shape()[out_axis], lanes);
    if (up > 1) TryApply(k, {OptOp::kUpcast, out_axis, up}, applied);
  }

  // Threads: split the first loop axis the core count divides.
  int threads = k.caps().max_threads;
  if (k.caps().has_threads && threads > 1 &&
      Product(k.full_shape()) >= kMinElementsPerThreadSplit) {
    for (size_t a = 0; a < k.kinds().size(); ++a) {
      if (k.kinds()[a] == AxisKind::kLoop && k.full_shape()[a] % threads == 0) {
        if (TryApply(k, {OptOp::kThread, static_cast<int>(a), threads}, applied)) break;
      }
    }
  }
  return applied;
}

}  // namespace uop

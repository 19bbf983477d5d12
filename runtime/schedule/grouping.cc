#include "runtime/schedule/grouping.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace uop::schedule_internal {

// ---------------------------------------------------------------------------
// PathTable

size_t PathTable::KeyHash::operator()(const Key& k) const {
  return absl::HashOf(static_cast<uint8_t>(k.mov->op()), k.mov->arg().Hash(), k.prev);
}

// Equal op, arg and source shape: the same move of the same data.
bool PathTable::KeyEq::operator()(const Key& a, const Key& b) const {
  return a.prev == b.prev && a.mov->op() == b.mov->op() && a.mov->arg() == b.mov->arg() &&
         *a.mov->src(0)->shape() == *b.mov->src(0)->shape();
}

const PathStep* PathTable::Push(const UOp* mov, const PathStep* prev) {
  auto [it, inserted] = index_.try_emplace(Key{mov, prev}, nullptr);
  if (inserted) {
    steps_.push_back(PathStep{mov, prev, prev ? prev->length + 1 : 1});
    it->second = &steps_.back();
  }
  return it->second;
}

void PathTable::Clear() {
  index_.clear();
  steps_.clear();
}

bool PreservesZero(Op op) {
  switch (op) {
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kNeg:
    case Op::kMax:
    case Op::kAnd:
    case Op::kOr:
    case Op::kXor:
    case Op::kShl:
    case Op::kShr:
    case Op::kSqrt:
    case Op::kSin:
    case Op::kTrunc:
    case Op::kCmpLt:  // 0 < 0 is false
    case Op::kCmpNe:  // 0 != 0 is false
    case Op::kWhere:  // where(false, 0, 0) is 0
    case Op::kCast:   // 0 casts to 0 (false for bool)
    case Op::kBitcast:
      return true;
    default:  // EXP2, LOG2, RECIP, FDIV, IDIV, MOD, POW, CMPEQ, THREEFRY
      return false;
  }
}

namespace {

bool IsMoveBetweenReduceAndRoot(Op op) {
  return op == Op::kReshape || op == Op::kPermute || op == Op::kDetach;
}

class Grouper {
 public:
  Grouper(const SchedGraph& g, const ScheduleOptions& options, Grouping* out)
      : g_(g), options_(options), out_(*out) {
    const int n = g.size();
    out_.realize.assign(n, RealizeReason::kNone);
    out_.root_reduce.assign(n, kNoNode);
    out_.root_path.assign(n, nullptr);
    out_.paths = std::make_unique<PathTable>();
    stamp_.assign(n, 0);
    path_.assign(n, nullptr);
  }

  void Run(absl::Span<const NodeId> forced) {
    MarkRequired(forced);
    MarkUnsafePads();
    FuseReduces();
    if (MarkShared()) {
      // Stored shared nodes end some reduces' paths early: decide again.
      for (RealizeReason& r : out_.realize)
        if (r == RealizeReason::kReduce) r = RealizeReason::kNone;
      FuseReduces();
    }
  }

 private:
  bool R(NodeId n) const { return out_.realize[n] != RealizeReason::kNone; }
  void Mark(NodeId n, RealizeReason why) {
    if (!R(n)) out_.realize[n] = why;
  }

  // A chain of RESHAPEs (and DETACHes) over a whole, contiguous buffer.
  bool IsWholeBuffer(NodeId n) const {
    while (g_.is_view(n) && (g_.op(n) == Op::kReshape || g_.op(n) == Op::kDetach)) n = g_.src(n, 0);
    switch (g_.op(n)) {
      case Op::kBuffer:
      case Op::kContiguous:
      case Op::kCopy:
        return true;
      case Op::kAssign:
        return IsWholeBuffer(g_.src(n, 0));
      default:
        return R(n) && out_.realize[n] != RealizeReason::kBuffer;
    }
  }

  void MarkRequired(absl::Span<const NodeId> forced) {
    for (NodeId n = 0; n < g_.size(); ++n) {
      switch (g_.op(n)) {
        case Op::kBuffer:
          Mark(n, RealizeReason::kBuffer);
          break;
        case Op::kContiguous:
          Mark(n, RealizeReason::kContiguous);
          break;
        case Op::kCopy:
          Mark(n, RealizeReason::kCopy);
          break;
        case Op::kAssign:
          Mark(n, RealizeReason::kAssign);
          break;
        default:
          break;
      }
    }
    for (NodeId s : g_.outputs()) {
      Op base = g_.op(g_.base(s));
      if (base == Op::kBuffer || base == Op::kContiguous || base == Op::kCopy ||
          base == Op::kAssign)
        continue;  // a view of a buffer: nothing to compute
      Mark(s, RealizeReason::kOutput);
    }
    for (NodeId n : forced) Mark(n, RealizeReason::kForced);
    for (NodeId n = 0; n < g_.size(); ++n) {
      if (g_.op(n) == Op::kCopy && !IsWholeBuffer(g_.src(n, 0)))
        Mark(g_.src(n, 0), RealizeReason::kCopySource);
    }
  }

  // Padding reads as zero only if every op between the PAD and the loads
  // maps zeros to zero (loads and constants under a PAD read 0 in the
  // padding). One forward pass; a view's answer is its base's.
  void MarkUnsafePads() {
    std::vector<uint8_t> zero(g_.size(), 1);
    for (NodeId n = 0; n < g_.size(); ++n) {
      const Op o = g_.op(n);
      if (R(n) || g_.is_view(n) || o == Op::kReduceAxis || !IsElementwise(o)) {
        // Realized nodes and constants are loads; a reduce under a PAD is
        // stored before it (its path crosses the PAD, rule 3).
      } else {
        bool z = PreservesZero(o);
        for (NodeId s : g_.srcs(n)) z = z && zero[g_.base(s)];
        zero[n] = z;
      }
      if (o == Op::kPad) {
        NodeId b = g_.base(g_.src(n, 0));
        if (!zero[b]) {
          Mark(b, RealizeReason::kUnsafePad);
          zero[b] = 1;
        }
      }
    }
  }

  // Follows r's users to the realized nodes it reaches. True when it reaches
  // exactly one, only through elementwise ops, RESHAPE and PERMUTE, with the
  // same movement path on every route; *root and *path say which and how.
  bool Walk(NodeId r, NodeId* root, const PathStep** path) {
    const int stamp = ++walk_;
    stack_.clear();
    stack_.push_back(r);
    stamp_[r] = stamp;
    path_[r] = nullptr;
    *root = kNoNode;
    *path = nullptr;
    while (!stack_.empty()) {
      NodeId n = stack_.back();
      stack_.pop_back();
      for (NodeId u : g_.users(n)) {
        const Op o = g_.op(u);
        const PathStep* p = path_[n];
        if (u == g_.sink() || o == Op::kReduceAxis || o == Op::kCopy) return false;
        if (g_.is_view(u)) {
          if (!IsMoveBetweenReduceAndRoot(o)) return false;
          if (o != Op::kDetach) p = out_.paths->Push(g_.node(u), p);
        }
        if (R(u)) {
          if (*root == kNoNode) {
            *root = u;
            *path = p;
          } else if (*root != u || *path != p) {
            return false;
          }
          continue;
        }
        if (stamp_[u] == stamp) {
          if (path_[u] != p) return false;
          continue;
        }
        stamp_[u] = stamp;
        path_[u] = p;
        stack_.push_back(u);
      }
    }
    return *root != kNoNode;
  }

  // The last node of r's single-consumer chain of elementwise ops (through
  // RESHAPE/PERMUTE): storing there costs no more than storing r, and keeps
  // the chain out of the consumers' kernels (conv + bias + relu is one kernel
  // even when the next conv reads it through a PAD). A widening CAST at the
  // end is left to the consumers (store the narrower value).
  NodeId Chase(NodeId r) const {
    NodeId t = r;
    while (g_.users(t).size() == 1) {
      NodeId u = g_.users(t)[0];
      while (g_.is_view(u) && !R(u) && IsMoveBetweenReduceAndRoot(g_.op(u)) &&
             g_.users(u).size() == 1)
        u = g_.users(u)[0];
      if (u == g_.sink() || R(u) || g_.is_view(u) || !IsElementwise(g_.op(u))) break;
      t = u;
    }
    if (t != r && g_.op(t) == Op::kCast &&
        g_.node(t)->dtype().itemsize() > g_.node(g_.src(t, 0))->dtype().itemsize())
      t = g_.base(g_.src(t, 0));
    return t;
  }

  void FuseReduces() {
    std::vector<NodeId> reduces;
    for (NodeId n = 0; n < g_.size(); ++n)
      if (g_.op(n) == Op::kReduceAxis) reduces.push_back(n);
    NodeId root;
    const PathStep* path;
    // Storing one reduce ends other reduces' walks earlier, so repeat until
    // nothing changes (realizations only grow: this terminates).
    for (bool changed = true; changed;) {
      changed = false;
      for (NodeId r : reduces) {
        if (R(r) || Walk(r, &root, &path)) continue;
        NodeId t = Chase(r);
        Mark(t, RealizeReason::kReduce);
        if (t != r && !Walk(r, &root, &path)) Mark(r, RealizeReason::kReduce);
        changed = true;
      }
    }
    std::fill(out_.root_reduce.begin(), out_.root_reduce.end(), kNoNode);
    std::fill(out_.root_path.begin(), out_.root_path.end(), nullptr);
    for (NodeId r : reduces) {
      if (R(r)) continue;
      if (!Walk(r, &root, &path)) {  // cannot happen after the loop above
        Mark(r, RealizeReason::kReduce);
        continue;
      }
      NodeId first = out_.root_reduce[root];
      if (first == kNoNode) {
        out_.root_reduce[root] = r;
        out_.root_path[root] = path;
      } else if (!SameSpace(first, r) || out_.root_path[root] != path) {
        Mark(r, RealizeReason::kReduce);  // one reduce space per kernel
      }
    }
  }

  bool SameSpace(NodeId a, NodeId b) const {
    const UOp* x = g_.node(a);
    const UOp* y = g_.node(b);
    if (*x->src(0)->shape() != *y->src(0)->shape()) return false;
    std::vector<int64_t> ax = x->arg().get<ReduceArg>().axes, ay = y->arg().get<ReduceArg>().axes;
    std::sort(ax.begin(), ax.end());
    std::sort(ay.begin(), ay.end());
    return ax == ay;
  }

  static int Weight(Op op) {
    switch (op) {
      case Op::kExp2:
      case Op::kLog2:
      case Op::kSin:
      case Op::kPow:
      case Op::kThreefry:
        return 8;  // lowered to polynomials / rounds of integer ops
      default:
        return 1;
    }
  }

  // Realizes shared elementwise nodes whose recompute cost is too high.
  // Returns whether it realized any.
  bool MarkShared() {
    const int n = g_.size();
    const int cap = options_.max_recompute_cost + 1;
    std::vector<int> cost(n, 0);
    for (NodeId i = 0; i < n; ++i) {
      const Op o = g_.op(i);
      if (R(i) || o == Op::kConst || o == Op::kDevice || i == g_.sink()) continue;
      if (g_.is_view(i)) {
        cost[i] = cost[g_.src(i, 0)];
        continue;
      }
      // A reduce is never worth recomputing.
      int c = o == Op::kReduceAxis ? cap : Weight(o);
      for (NodeId s : g_.srcs(i)) c = std::min(cap, c + cost[s]);
      cost[i] = c;
    }
    constexpr NodeId kUnset = -1, kMany = -2;
    std::vector<NodeId> owner(n, kUnset);
    bool any = false;
    for (NodeId i = n - 2; i >= 0; --i) {
      if (R(i)) continue;
      NodeId o = kUnset;
      for (NodeId u : g_.users(i)) {
        NodeId uo = R(u) ? u : owner[u];
        if (u == g_.sink() || uo == kUnset) continue;
        if (uo == kMany || (o != kUnset && o != uo)) {
          o = kMany;
          break;
        }
        o = uo;
      }
      owner[i] = o;
      if (o == kMany && IsElementwise(g_.op(i)) && cost[i] >= cap) {
        Mark(i, RealizeReason::kShared);
        any = true;
      }
    }
    return any;
  }

  const SchedGraph& g_;
  const ScheduleOptions& options_;
  Grouping& out_;
  // Walk scratch, stamped so nothing is cleared between walks.
  int walk_ = 0;
  std::vector<int> stamp_;
  std::vector<const PathStep*> path_;
  std::vector<NodeId> stack_;
};

}  // namespace

Grouping GroupKernels(const SchedGraph& g, absl::Span<const NodeId> forced,
                      const ScheduleOptions& options) {
  Grouping out;
  Grouper(g, options, &out).Run(forced);
  return out;
}

}  // namespace uop::schedule_internal

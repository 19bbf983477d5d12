#include "runtime/schedule/schedule.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/schedule/graph.h"
#include "runtime/schedule/grouping.h"
#include "runtime/schedule/item_order.h"
#include "runtime/schedule/kernel_builder.h"
#include "runtime/shape/view.h"
#include "runtime/uop/spec.h"

namespace uop {

int64_t NextScheduledBufferId() {
  static std::atomic<int64_t> next{kScheduledBufferIdBase};
  return next.fetch_add(1, std::memory_order_relaxed);
}

namespace schedule_internal {
namespace {

// A buffer the scheduler makes. Its BUFFER UOp is provisional (negative id)
// until the schedule is final, so a retried attempt allocates no real ids.
struct FreshBuffer {
  DType dtype;
  int64_t size;
  int device;
  bool output = false;
};

struct PendingItem {
  ScheduleItem::Kind kind;
  UOpPtr ast;
  std::vector<UOpPtr> bufs;
  NodeId root;
  std::vector<KernelRead> reads;
  bool snapshot = false;  // copies its leaf's own value (not the snapshot of it)
};

// One attempt at a schedule for a fixed grouping: places buffers, builds
// items, orders them. Read/write hazards come back as nodes to force.
class Assembler {
 public:
  Assembler(const SchedGraph& g, const Grouping& grp, const std::vector<bool>& forced,
            const ScheduleOptions& options)
      : g_(g), grp_(grp), forced_(forced), options_(options), builder_(g, grp) {}

  absl::Status Run(const UOpPtr& sink, Schedule* out, std::vector<NodeId>* force) {
    RETURN_IF_ERROR(PlaceBuffers());
    RETURN_IF_ERROR(BuildItems(force));
    if (!force->empty()) return absl::OkStatus();
    std::vector<int> order;
    RETURN_IF_ERROR(Order(&order, force));
    if (!force->empty()) return absl::OkStatus();
    Finish(sink, order, out);
    return absl::OkStatus();
  }

 private:
  bool realized(NodeId n) const { return grp_.realized(n); }

  // The realized node under a chain of unrealized views.
  NodeId Stop(NodeId n) const {
    while (!realized(n) && g_.is_view(n)) n = g_.src(n, 0);
    return n;
  }

  static int64_t BufferSize(const UOpPtr& b) { return b->arg().get<BufferArg>().size; }

  // The buffer view of view chain `n` over a realized node: that node's view
  // (as readers see it, or its own value) moved by the chain.
  absl::StatusOr<BufferView> ViewThrough(NodeId n, bool for_read) const {
    std::vector<const UOp*> movs;
    NodeId x = n;
    while (!realized(x) && g_.is_view(x)) {
      if (g_.op(x) != Op::kDetach) movs.push_back(g_.node(x));
      x = g_.src(x, 0);
    }
    if (!realized(x))
      return absl::InternalError(
          absl::StrCat(NodeName(g_.node(n), n), " is not a view of a buffer"));
    const BufferView& base = for_read ? *read_view_[x] : value_view_[x];
    ShapeTracker st = *base.st;
    for (auto it = movs.rbegin(); it != movs.rend(); ++it) {
      ASSIGN_OR_RETURN(st, ApplyMovement(st, (*it)->op(), (*it)->arg()));
    }
    return BufferView{base.buffer, std::make_shared<const ShapeTracker>(std::move(st))};
  }

  BufferView NewBuffer(NodeId n, int device) {
    const UOp* u = g_.node(n);
    const int64_t size = Prod(*u->shape());
    const int idx = static_cast<int>(fresh_.size());
    fresh_.push_back(FreshBuffer{u->dtype(), size, device});
    UOpPtr dev = UOp::Create(Op::kDevice, DType::Void(), {}, Arg(g_.devices()[device]));
    UOpPtr buf = UOp::Create(Op::kBuffer, u->dtype(), {dev}, Arg(BufferArg{-(idx + 1), size}));
    fresh_index_[buf.get()] = idx;
    return BufferView{std::move(buf),
                      std::make_shared<const ShapeTracker>(ShapeTracker::FromShape(*u->shape()))};
  }

  absl::Status PlaceBuffers() {
    const int n = g_.size();
    value_view_.resize(n);
    read_view_.assign(n, nullptr);
    alias_.assign(n, false);
    for (NodeId i = 0; i < n; ++i) {
      if (!realized(i)) continue;
      const UOp* u = g_.node(i);
      read_view_[i] = &value_view_[i];
      switch (u->op()) {
        case Op::kBuffer:
          value_view_[i] = BufferView{UOpPtr::FromBorrowed(u),
                                      std::make_shared<const ShapeTracker>(ShapeTracker::FromShape(
                                          {BufferSize(UOpPtr::FromBorrowed(u))}))};
          continue;
        case Op::kAssign: {
          ASSIGN_OR_RETURN(value_view_[i], ViewThrough(g_.src(i, 0), /*for_read=*/false));
          continue;
        }
        case Op::kContiguous: {
          // CONTIGUOUS of something already stored whole and in order is that buffer.
          NodeId src = g_.src(i, 0);
          if (!forced_[i] && realized(Stop(src))) {
            ASSIGN_OR_RETURN(BufferView v, ViewThrough(src, /*for_read=*/false));
            if (v.st->contiguous() && v.st->size() == BufferSize(v.buffer)) {
              value_view_[i] = std::move(v);
              alias_[i] = true;
              continue;
            }
          }
          break;
        }
        default:
          break;
      }
      value_view_[i] = NewBuffer(i, u->op() == Op::kCopy ? g_.device(i) : g_.device_or_default(i));
    }
    return absl::OkStatus();
  }

  // The item that produces what readers of realized `n` see, and the
  // version of an external buffer they read (kNoNode for fresh buffers).
  int Producer(NodeId n, bool snapshot_reader) const {
    if (!snapshot_reader && snapshot_item_[n] >= 0) return snapshot_item_[n];
    return producer_[n];
  }
  NodeId Version(NodeId n, bool snapshot_reader) const {
    if (!snapshot_reader && snapshot_item_[n] >= 0) return kNoNode;
    return version_[n];
  }

  int AddItem(PendingItem item) {
    items_.push_back(std::move(item));
    return static_cast<int>(items_.size() - 1);
  }

  absl::Status BuildItems(std::vector<NodeId>* force) {
    const int n = g_.size();
    producer_.assign(n, -1);
    snapshot_item_.assign(n, -1);
    version_.assign(n, kNoNode);
    for (NodeId i = 0; i < n; ++i) {
      if (!realized(i)) continue;
      const UOp* u = g_.node(i);
      const Op o = u->op();
      if (o == Op::kBuffer) {
        version_[i] = i;
      } else if (alias_[i]) {
        NodeId s = Stop(g_.src(i, 0));
        producer_[i] = Producer(s, false);
        version_[i] = Version(s, false);
      } else if (o == Op::kCopy) {
        NodeId src = g_.src(i, 0);
        ASSIGN_OR_RETURN(BufferView sv, ViewThrough(src, /*for_read=*/true));
        if (!sv.st->contiguous() || sv.st->size() != BufferSize(sv.buffer)) {
          force->push_back(src);  // copy a whole contiguous buffer only
          continue;
        }
        producer_[i] = AddItem({ScheduleItem::Kind::kCopy,
                                nullptr,
                                {value_view_[i].buffer, sv.buffer},
                                i,
                                {KernelRead{Stop(src), src}}});
      } else if (Prod(*u->shape()) != 0) {
        ASSIGN_OR_RETURN(BuiltKernel k, builder_.Build(i, value_view_[i], read_view_));
#ifndef NDEBUG
        // Debug builds check every AST against the IR spec where it is built.
        if (absl::Status s = VerifyKernelAst(k.ast); !s.ok())
          return absl::InternalError(absl::StrCat(NodeName(u, i), ": ", s.message()));
#endif
        for (const KernelRead& h : k.hazards) force->push_back(h.chain_top);
        producer_[i] = AddItem({ScheduleItem::Kind::kKernel, std::move(k.ast), std::move(k.bufs), i,
                                std::move(k.reads)});
        if (o == Op::kAssign) {
          version_[i] = i;
          NodeId buffer = g_.base(g_.src(i, 0));
          writers_[buffer].push_back(i);
          write_rank_[i] = static_cast<int>(writers_[buffer].size());
        }
      }
      if (forced_[i] && (o == Op::kBuffer || o == Op::kAssign)) {
        // A snapshot: later readers see this value even after the buffer is
        // written again.
        snapshots_.push_back(NewBuffer(i, g_.device(i)));
        BuiltKernel k = KernelBuilder::CopyKernel(i, snapshots_.back(), value_view_[i]);
        PendingItem item{ScheduleItem::Kind::kKernel, std::move(k.ast), std::move(k.bufs), i,
                         std::move(k.reads)};
        item.snapshot = true;
        snapshot_item_[i] = AddItem(std::move(item));
        read_view_[i] = &snapshots_.back();
      }
    }
    return absl::OkStatus();
  }

  // Orders the items (item_order.h). A cycle means an item must read a
  // version of a buffer that is overwritten before it can run: its reads of
  // that version are forced into snapshot copies.
  absl::Status Order(std::vector<int>* order, std::vector<NodeId>* force) {
    const int m = static_cast<int>(items_.size());
    std::vector<OrderEdge> edges, anti;
    std::vector<NodeId> anti_version;
    for (int i = 0; i < m; ++i) {
      for (const KernelRead& r : items_[i].reads) {
        edges.push_back({Producer(r.leaf, items_[i].snapshot), i});
        NodeId v = Version(r.leaf, items_[i].snapshot);
        if (v == kNoNode) continue;
        // The ASSIGN that overwrites version v (the k-th write of its buffer).
        NodeId buffer = g_.op(v) == Op::kBuffer ? v : g_.base(g_.src(v, 0));
        int k = g_.op(v) == Op::kBuffer ? 0 : write_rank_.at(v);
        auto it = writers_.find(buffer);
        if (it == writers_.end() || k >= static_cast<int>(it->second.size())) continue;
        int w = producer_[it->second[k]];
        if (w == i) continue;  // an ASSIGN reading what it overwrites, in place
        anti.push_back({i, w});
        anti_version.push_back(v);
      }
    }
    for (const auto& [buffer, ws] : writers_)
      for (size_t k = 1; k < ws.size(); ++k)
        edges.push_back({producer_[ws[k - 1]], producer_[ws[k]]});

    ItemOrder o = OrderItems(m, edges, anti);
    if (!o.has_cycle) {
      *order = std::move(o.order);
      deps_ = std::move(o.preds);
      return absl::OkStatus();
    }
    for (int a : o.cyclic_anti) {
      const PendingItem& reader = items_[anti[a].before];
      for (const KernelRead& r : reader.reads)
        if (Version(r.leaf, reader.snapshot) == anti_version[a]) force->push_back(r.chain_top);
    }
    if (force->empty())
      return absl::InternalError("CreateSchedule: dependency cycle between items");
    return absl::OkStatus();
  }

  void Finish(const UOpPtr& sink, const std::vector<int>& order, Schedule* out) {
    for (NodeId s : g_.outputs()) {
      NodeId x = Stop(s);
      while (alias_[x]) x = Stop(g_.src(x, 0));
      if (auto it = fresh_index_.find(value_view_[x].buffer.get()); it != fresh_index_.end())
        fresh_[it->second].output = true;
    }
    // Real ids, in order of creation.
    std::vector<UOpPtr> real(fresh_.size());
    for (size_t i = 0; i < fresh_.size(); ++i) {
      const FreshBuffer& f = fresh_[i];
      const std::string& device = g_.devices()[f.device];
      int64_t id = options_.new_buffer_id ? options_.new_buffer_id(f.dtype, f.size, device)
                                          : NextScheduledBufferId();
      UOpPtr dev = UOp::Create(Op::kDevice, DType::Void(), {}, Arg(device));
      real[i] = UOp::Create(Op::kBuffer, f.dtype, {dev}, Arg(BufferArg{id, f.size}));
    }
    auto resolve = [&](const UOpPtr& b) -> const UOpPtr& {
      auto it = fresh_index_.find(b.get());
      return it == fresh_index_.end() ? b : real[it->second];
    };
    std::vector<int> position(items_.size());
    for (size_t p = 0; p < order.size(); ++p) position[order[p]] = static_cast<int>(p);
    absl::flat_hash_set<const UOp*> listed;
    out->items.reserve(order.size());
    for (int i : order) {
      PendingItem& pi = items_[i];
      ScheduleItem item;
      item.kind = pi.kind;
      item.ast = std::move(pi.ast);
      item.root = UOpPtr::FromBorrowed(g_.node(pi.root));
      for (const UOpPtr& b : pi.bufs) {
        const UOpPtr& r = resolve(b);
        item.bufs.push_back(r);
        if (!listed.insert(r.get()).second) continue;
        auto it = fresh_index_.find(b.get());
        BufferRole role = it == fresh_index_.end()    ? BufferRole::kExternal
                          : fresh_[it->second].output ? BufferRole::kOutput
                                                      : BufferRole::kIntermediate;
        out->buffers.push_back({r, role});
      }
      for (int d : deps_[i]) item.deps.push_back(position[d]);
      std::sort(item.deps.begin(), item.deps.end());
      out->items.push_back(std::move(item));
    }
    for (size_t i = 0; i < fresh_.size(); ++i)  // outputs of empty kernels
      if (fresh_[i].output && listed.insert(real[i].get()).second)
        out->buffers.push_back({real[i], BufferRole::kOutput});

    // becomes: what each output and ASSIGN is now.
    absl::flat_hash_map<NodeId, UOpPtr> memo;
    std::function<UOpPtr(NodeId)> now = [&](NodeId n) -> UOpPtr {
      if (auto it = memo.find(n); it != memo.end()) return it->second;
      const UOp* u = g_.node(n);
      UOpPtr r;
      if (realized(n)) {
        if (u->op() == Op::kBuffer) {
          r = UOpPtr::FromBorrowed(u);
        } else if (u->op() == Op::kAssign) {
          r = u->src(0);
        } else if (alias_[n]) {
          r = now(g_.src(n, 0));
        } else {
          r = resolve(value_view_[n].buffer);
          if (*u->shape() != Shape{BufferSize(r)})
            r = UOp::Create(Op::kReshape, u->dtype(), {r}, Arg(*u->shape()));
        }
      } else if (g_.is_view(n)) {
        UOpPtr s = now(g_.src(n, 0));
        r = u->op() == Op::kDetach ? s
                                   : (s == u->src(0) ? UOpPtr::FromBorrowed(u) : u->Replace({s}));
      }
      memo[n] = r;
      return r;
    };
    for (NodeId s : g_.outputs()) {
      UOpPtr v = now(s);
      if (v && v.get() != g_.node(s)) out->becomes[g_.node(s)] = v;
      NodeId b = Stop(s);
      if (b != s && g_.op(b) != Op::kBuffer) out->becomes[g_.node(b)] = now(b);
    }
    for (NodeId i = 0; i < g_.size(); ++i)
      if (g_.op(i) == Op::kAssign) out->becomes[g_.node(i)] = g_.node(i)->src(0);
    out->sink = sink;
  }

  const SchedGraph& g_;
  const Grouping& grp_;
  const std::vector<bool>& forced_;
  const ScheduleOptions& options_;
  KernelBuilder builder_;

  std::vector<BufferView> value_view_;        // where each realized node's value lives
  std::vector<const BufferView*> read_view_;  // what its readers load (maybe a snapshot)
  std::deque<BufferView> snapshots_;
  std::vector<bool> alias_;  // CONTIGUOUS that is its source's buffer
  std::vector<FreshBuffer> fresh_;
  absl::flat_hash_map<const UOp*, int> fresh_index_;

  std::vector<PendingItem> items_;
  std::vector<std::vector<int>> deps_;
  std::vector<int> producer_, snapshot_item_;
  std::vector<NodeId> version_;
  absl::flat_hash_map<NodeId, std::vector<NodeId>> writers_;  // BUFFER -> its ASSIGNs in order
  absl::flat_hash_map<NodeId, int> write_rank_;               // ASSIGN -> 1-based position
};

}  // namespace
}  // namespace schedule_internal

absl::StatusOr<Schedule> CreateSchedule(const UOpPtr& sink, const ScheduleOptions& options) {
  using namespace schedule_internal;  // NOLINT: the implementation's own namespace
  ASSIGN_OR_RETURN(SchedGraph g, SchedGraph::Build(sink, options));
  std::vector<NodeId> forced;
  std::vector<bool> is_forced(g.size(), false);
  // Each retry forces at least one more node, so this ends; the bound only
  // guards against a bug.
  for (int attempt = 0; attempt <= g.size(); ++attempt) {
    Grouping grouping = GroupKernels(g, forced, options);
    Schedule out;
    std::vector<NodeId> force;
    RETURN_IF_ERROR(Assembler(g, grouping, is_forced, options).Run(sink, &out, &force));
    if (force.empty()) return out;
    bool added = false;
    for (NodeId n : force) {
      if (is_forced[n]) continue;
      is_forced[n] = true;
      forced.push_back(n);
      added = true;
    }
    if (!added) break;
  }
  return absl::InternalError("CreateSchedule: could not resolve a read/write hazard");
}

}  // namespace uop

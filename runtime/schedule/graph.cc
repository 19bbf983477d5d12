#include "runtime/schedule/graph.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"
#include "runtime/shape/format.h"
#include "runtime/shape/view.h"

namespace uop::schedule_internal {
namespace {

const Shape kScalarShape = {};

// The shape a source contributes: its own, or () for a shapeless CONST.
const Shape* ValueShape(const UOp* u) {
  if (u->shape()) return u->shape();
  return u->op() == Op::kConst ? &kScalarShape : nullptr;
}

int Arity(Op op) {
  if (HasTrait(op, kUnary) || HasTrait(op, kElementwise)) return 1;
  if (HasTrait(op, kBinary)) return 2;
  return 3;
}

bool IsValueDType(DType d) { return d.count() == 1 && !d.is_ptr() && !d.is_void(); }

// RESHAPE/PERMUTE/SHRINK/FLIP chains over a BUFFER: views a write can go through.
bool IsWritableView(const UOp* u) {
  while (u->op() == Op::kReshape || u->op() == Op::kPermute || u->op() == Op::kShrink ||
         u->op() == Op::kFlip) {
    u = u->src(0).get();
  }
  return u->op() == Op::kBuffer;
}

absl::Status CheckMovement(const UOp* u, const Shape& in) {
  const size_t rank = in.size();
  switch (u->op()) {
    case Op::kReshape:
    case Op::kExpand: {
      const auto* s = u->arg().get_if<std::vector<int64_t>>();
      if (s == nullptr) return absl::InvalidArgumentError("arg is not a shape");
      RETURN_IF_ERROR(CheckShape(*s));
      if (u->op() == Op::kReshape) {
        if (Prod(*s) != Prod(in))
          return absl::InvalidArgumentError(absl::StrCat(
              "cannot reshape ", FormatDims(in), " (", Prod(in), " elements) to ", FormatDims(*s)));
        return absl::OkStatus();
      }
      if (s->size() != rank)
        return absl::InvalidArgumentError(absl::StrCat("cannot expand ", FormatDims(in), " to ",
                                                       FormatDims(*s), ": ranks differ"));
      for (size_t i = 0; i < rank; ++i) {
        if (in[i] != (*s)[i] && in[i] != 1)
          return absl::InvalidArgumentError(
              absl::StrCat("cannot expand ", FormatDims(in), " to ", FormatDims(*s), ": axis ", i));
      }
      return absl::OkStatus();
    }
    case Op::kPermute: {
      const auto* order = u->arg().get_if<std::vector<int64_t>>();
      if (order == nullptr || order->size() != rank)
        return absl::InvalidArgumentError(
            absl::StrCat("permutation does not fit ", FormatDims(in)));
      std::vector<bool> seen(rank, false);
      for (int64_t a : *order) {
        if (a < 0 || a >= static_cast<int64_t>(rank) || seen[a])
          return absl::InvalidArgumentError(
              absl::StrCat("not a permutation of ", rank, " axes: ", FormatDims(*order)));
        seen[a] = true;
      }
      return absl::OkStatus();
    }
    case Op::kPad:
    case Op::kShrink: {
      const auto* pairs = u->arg().get_if<PairList>();
      if (pairs == nullptr || pairs->size() != rank)
        return absl::InvalidArgumentError(
            absl::StrCat("needs one pair per axis of ", FormatDims(in)));
      for (size_t i = 0; i < rank; ++i) {
        auto [a, b] = (*pairs)[i];
        bool ok = u->op() == Op::kPad ? (a >= 0 && b >= 0) : (0 <= a && a <= b && b <= in[i]);
        if (!ok)
          return absl::InvalidArgumentError(
              absl::StrCat("bad pair ", FormatIntervals(*pairs), " for shape ", FormatDims(in)));
      }
      if (u->op() == Op::kPad) {
        std::vector<int64_t> out = in;
        for (size_t i = 0; i < rank; ++i) out[i] += (*pairs)[i].first + (*pairs)[i].second;
        RETURN_IF_ERROR(CheckShape(out));
      }
      return absl::OkStatus();
    }
    case Op::kFlip: {
      const auto* flags = u->arg().get_if<std::vector<int64_t>>();
      if (flags == nullptr || flags->size() != rank)
        return absl::InvalidArgumentError(
            absl::StrCat("needs one flag per axis of ", FormatDims(in)));
      for (int64_t f : *flags)
        if (f != 0 && f != 1) return absl::InvalidArgumentError("flip flags must be 0 or 1");
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

}  // namespace

std::string NodeName(const UOp* u, NodeId n) {
  return absl::StrCat(u->ShortString(), " (node ", n, ")");
}

NodeId SchedGraph::id(const UOp* u) const {
  auto it = ids_.find(u);
  return it == ids_.end() ? kNoNode : it->second;
}

absl::StatusOr<SchedGraph> SchedGraph::Build(const UOpPtr& sink, const ScheduleOptions& options) {
  if (!sink || sink->op() != Op::kSink) {
    return absl::InvalidArgumentError(
        absl::StrCat("CreateSchedule: expected a SINK, got ", sink ? sink->ShortString() : "null"));
  }
  SchedGraph g;
  RETURN_IF_ERROR(g.Index(sink.get()));
  RETURN_IF_ERROR(g.Validate(options));
  return g;
}

absl::Status SchedGraph::Index(const UOp* sink) {
  nodes_ = sink->Toposort();
  const int n = size();
  ids_.reserve(n);
  for (NodeId i = 0; i < n; ++i) ids_.emplace(nodes_[i], i);

  src_begin_.resize(n + 1);
  user_begin_.assign(n + 1, 0);
  src_begin_[0] = 0;
  for (NodeId i = 0; i < n; ++i) src_begin_[i + 1] = src_begin_[i] + nodes_[i]->num_srcs();
  src_ids_.resize(src_begin_[n]);
  for (NodeId i = 0; i < n; ++i) {
    int k = src_begin_[i];
    for (const UOpPtr& s : nodes_[i]->src()) src_ids_[k++] = ids_.at(s.get());
  }
  // Distinct users: a source repeated in one node (x * x) counts once.
  auto for_each_distinct_src = [&](NodeId i, auto&& fn) {
    absl::Span<const NodeId> s = srcs(i);
    for (size_t a = 0; a < s.size(); ++a) {
      bool repeat = false;
      for (size_t b = 0; b < a && !repeat; ++b) repeat = s[b] == s[a];
      if (!repeat) fn(s[a]);
    }
  };
  for (NodeId i = 0; i < n; ++i) for_each_distinct_src(i, [&](NodeId s) { ++user_begin_[s + 1]; });
  for (NodeId i = 0; i < n; ++i) user_begin_[i + 1] += user_begin_[i];
  user_ids_.resize(user_begin_[n]);
  std::vector<int32_t> fill(user_begin_.begin(), user_begin_.end() - 1);
  for (NodeId i = 0; i < n; ++i)
    for_each_distinct_src(i, [&](NodeId s) { user_ids_[fill[s]++] = i; });

  is_view_.resize(n);
  base_.resize(n);
  for (NodeId i = 0; i < n; ++i) {
    is_view_[i] = (IsMovement(op(i)) || op(i) == Op::kDetach) && nodes_[i]->num_srcs() == 1;
    base_[i] = is_view_[i] ? base_[src(i, 0)] : i;
  }
  for (NodeId s : srcs(size() - 1))
    if (std::find(outputs_.begin(), outputs_.end(), s) == outputs_.end()) outputs_.push_back(s);
  return absl::OkStatus();
}

absl::StatusOr<int> SchedGraph::DeviceIndex(NodeId n, const UOp* device_node,
                                            const ScheduleOptions& options) {
  const std::string* name =
      device_node->op() == Op::kDevice ? device_node->arg().get_if<std::string>() : nullptr;
  if (name == nullptr || name->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        NodeName(node(n), n), ": expected a DEVICE with a name, got ", device_node->ShortString()));
  }
  if (!options.known_devices.empty() &&
      std::find(options.known_devices.begin(), options.known_devices.end(), *name) ==
          options.known_devices.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(NodeName(node(n), n), ": unknown device '", *name,
                     "' (known: ", absl::StrJoin(options.known_devices, ", "), ")"));
  }
  for (size_t i = 0; i < devices_.size(); ++i)
    if (devices_[i] == *name) return static_cast<int>(i);
  devices_.push_back(*name);
  return static_cast<int>(devices_.size() - 1);
}

absl::Status SchedGraph::Validate(const ScheduleOptions& options) {
  const int n = size();
  device_.assign(n, -1);
  auto fail = [&](NodeId i, auto&&... msg) {
    return absl::InvalidArgumentError(absl::StrCat(NodeName(node(i), i), ": ", msg...));
  };
  for (NodeId i = 0; i < n; ++i) {
    const UOp* u = node(i);
    const Op o = u->op();
    absl::Span<const NodeId> s = srcs(i);
    auto need_srcs = [&](size_t k) -> absl::Status {
      if (s.size() != k) return fail(i, "expected ", k, " sources, got ", s.size());
      return absl::OkStatus();
    };
    auto need_value = [&](NodeId v) -> absl::Status {
      if (ValueShape(node(v)) == nullptr || op(v) == Op::kDevice || op(v) == Op::kSink)
        return fail(i, "source ", NodeName(node(v), v), " is not a tensor value");
      return absl::OkStatus();
    };
    switch (o) {
      case Op::kSink:
        if (i != n - 1) return fail(i, "SINK inside a tensor graph");
        for (NodeId v : s) {
          RETURN_IF_ERROR(need_value(v));
          if (node(v)->shape() == nullptr)
            return fail(i, "output ", NodeName(node(v), v), " has no shape");
        }
        continue;
      case Op::kDevice:
        if (!s.empty()) return fail(i, "DEVICE takes no sources");
        continue;
      case Op::kBuffer: {
        RETURN_IF_ERROR(need_srcs(1));
        const auto* b = u->arg().get_if<BufferArg>();
        if (b == nullptr || b->size < 0) return fail(i, "BUFFER needs a BufferArg with size >= 0");
        // Negative ids name the scheduler's own buffers while it works.
        if (b->id < 0) return fail(i, "buffer id ", b->id, " is negative");
        if (!IsValueDType(u->dtype())) return fail(i, "bad buffer dtype ", u->dtype().ToString());
        ASSIGN_OR_RETURN(device_[i], DeviceIndex(i, node(s[0]), options));
        continue;
      }
      case Op::kConst:
        if (!s.empty()) return fail(i, "tensor-level CONST takes no sources");
        if (!IsValueDType(u->dtype())) return fail(i, "bad constant dtype ", u->dtype().ToString());
        continue;
      default:
        break;
    }
    if (IsMovement(o) || o == Op::kDetach || o == Op::kContiguous || o == Op::kReduceAxis) {
      RETURN_IF_ERROR(need_srcs(1));
      RETURN_IF_ERROR(need_value(s[0]));
      const Shape& in = *ValueShape(node(s[0]));
      if (absl::Status st = CheckMovement(u, in); !st.ok()) return fail(i, st.message());
      if (o == Op::kReduceAxis) {
        const auto* r = u->arg().get_if<ReduceArg>();
        if (r == nullptr || (r->op != Op::kAdd && r->op != Op::kMul && r->op != Op::kMax))
          return fail(i, "REDUCE_AXIS needs a ReduceArg of ADD, MUL or MAX");
        std::vector<bool> seen(in.size(), false);
        for (int64_t a : r->axes) {
          if (a < 0 || a >= static_cast<int64_t>(in.size()) || seen[a])
            return fail(i, "bad reduce axes ", FormatDims(r->axes), " for shape ", FormatDims(in));
          seen[a] = true;
        }
      }
      if (u->dtype() != node(s[0])->dtype())
        return fail(i, "dtype differs from its source's ", node(s[0])->dtype().ToString());
      device_[i] = device_[s[0]];
    } else if (o == Op::kCopy) {
      RETURN_IF_ERROR(need_srcs(2));
      RETURN_IF_ERROR(need_value(s[0]));
      if (node(s[0])->shape() == nullptr) return fail(i, "COPY of a value without a shape");
      ASSIGN_OR_RETURN(device_[i], DeviceIndex(i, node(s[1]), options));
    } else if (o == Op::kAssign) {
      RETURN_IF_ERROR(need_srcs(2));
      RETURN_IF_ERROR(need_value(s[1]));
      const UOp* target = node(s[0]);
      if (!IsWritableView(target))
        return fail(i, "target must be a BUFFER seen through RESHAPE/PERMUTE/SHRINK/FLIP, got ",
                    target->ShortString());
      const Shape* vs = ValueShape(node(s[1]));
      if (*vs != *target->shape())
        return fail(i, "value shape ", FormatDims(*vs), " differs from target shape ",
                    FormatDims(*target->shape()));
      if (node(s[1])->dtype() != target->dtype() || u->dtype() != target->dtype())
        return fail(i, "value dtype ", node(s[1])->dtype().ToString(), " differs from target ",
                    target->dtype().ToString());
      device_[i] = device_[s[0]];
      if (device_[s[1]] >= 0 && device_[s[1]] != device_[i])
        return fail(i, "value on ", devices_[device_[s[1]]], ", target on ", devices_[device_[i]]);
    } else if (IsElementwise(o)) {
      if (static_cast<int>(s.size()) != Arity(o))
        return fail(i, "expected ", Arity(o), " sources, got ", s.size());
      if (u->shape() == nullptr)
        return fail(i, "elementwise op without a shape (constants must be reshaped and expanded)");
      if (!IsValueDType(u->dtype())) return fail(i, "bad dtype ", u->dtype().ToString());
      for (NodeId v : s) {
        RETURN_IF_ERROR(need_value(v));
        const Shape* vs = node(v)->shape();
        if (vs != nullptr && *vs != *u->shape())
          return fail(i, "source shapes ", FormatDims(*u->shape()), " and ", FormatDims(*vs),
                      " differ");
        if (device_[v] < 0) continue;
        if (device_[i] >= 0 && device_[i] != device_[v])
          return fail(i, "sources on devices ", devices_[device_[i]], " and ",
                      devices_[device_[v]]);
        device_[i] = device_[v];
      }
    } else {
      return absl::UnimplementedError(absl::StrCat(
          NodeName(u, i), ": the scheduler does not handle ", OpName(o),
          o == Op::kDefineVar || o == Op::kBind ? " (symbolic values)" : "", " in tensor graphs"));
    }
    if (u->shape() == nullptr) return fail(i, "has no shape");
  }
  ASSIGN_OR_RETURN(default_device_, [&]() -> absl::StatusOr<int> {
    for (size_t d = 0; d < devices_.size(); ++d)
      if (devices_[d] == options.default_device) return static_cast<int>(d);
    devices_.push_back(options.default_device);
    return static_cast<int>(devices_.size() - 1);
  }());
  return absl::OkStatus();
}

}  // namespace uop::schedule_internal

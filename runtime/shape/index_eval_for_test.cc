#include "runtime/shape/index_eval_for_test.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace uop {

IndexEvaluator::IndexEvaluator(std::vector<UOpPtr> roots, std::vector<UOpPtr> inputs)
    : roots_(std::move(roots)) {
  absl::flat_hash_map<const UOp*, int> slot;
  for (const UOpPtr& root : roots_) {
    for (const UOp* u : root->Toposort()) {
      if (slot.contains(u)) continue;
      Step s{u->op(), 0, {-1, -1, -1}, -1};
      for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].get() == u) s.input = static_cast<int>(i);
      if (s.input < 0) {
        if (u->op() == Op::kConst) {
          s.constant = u->const_int();
        } else if (u->num_srcs() == 0 || u->num_srcs() > 3) {
          status_ = absl::InvalidArgumentError(absl::StrCat("unbound leaf ", u->ShortString()));
          return;
        }
        for (size_t i = 0; i < u->num_srcs(); ++i) s.src[i] = slot.at(u->src(i).get());
      }
      slot[u] = static_cast<int>(steps_.size());
      steps_.push_back(s);
    }
    root_slots_.push_back(slot.at(root.get()));
  }
  values_.resize(steps_.size());
}

absl::StatusOr<std::vector<int64_t>> IndexEvaluator::Run(absl::Span<const int64_t> input_values) {
  if (!status_.ok()) return status_;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    if (s.input >= 0) {
      values_[i] = input_values[s.input];
      continue;
    }
    const int64_t a = s.src[0] >= 0 ? values_[s.src[0]] : 0;
    const int64_t b = s.src[1] >= 0 ? values_[s.src[1]] : 0;
    int64_t v;
    switch (s.op) {
      case Op::kConst:
        v = s.constant;
        break;
      case Op::kAdd:
        v = a + b;
        break;
      case Op::kSub:
        v = a - b;
        break;
      case Op::kMul:
        v = a * b;
        break;
      case Op::kNeg:
        v = -a;
        break;
      case Op::kIdiv:
      case Op::kMod:
        if (b == 0) return absl::InvalidArgumentError("division by zero");
        v = s.op == Op::kIdiv ? a / b : a % b;
        break;
      case Op::kMax:
        v = a > b ? a : b;
        break;
      case Op::kCmpLt:
        v = a < b;
        break;
      case Op::kCmpNe:
        v = a != b;
        break;
      case Op::kCmpEq:
        v = a == b;
        break;
      case Op::kAnd:
        v = a & b;
        break;
      case Op::kOr:
        v = a | b;
        break;
      case Op::kXor:
        v = a ^ b;
        break;
      case Op::kWhere:
        v = a ? b : values_[s.src[2]];
        break;
      case Op::kCast:
        v = a;
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat("cannot evaluate ", OpName(s.op)));
    }
    values_[i] = v;
  }
  std::vector<int64_t> out;
  out.reserve(root_slots_.size());
  for (int slot : root_slots_) out.push_back(values_[slot]);
  return out;
}

}  // namespace uop

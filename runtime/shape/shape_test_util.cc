#include "runtime/shape/shape_test_util.h"

#include <numeric>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/shape/index_eval_for_test.h"

namespace uop {
namespace testing_util {

namespace {

// Rebuilds `r` for `new_shape`: `source(coords)` is the old flat position an
// element reads, or -1 for padding.
template <typename F>
Reference Remap(const Reference& r, const Shape& new_shape, F source) {
  Reference out{new_shape, std::vector<int64_t>(Prod(new_shape))};
  Shape coords(new_shape.size(), 0);
  for (size_t flat = 0; flat < out.data.size(); ++flat) {
    const int64_t from = source(coords);
    out.data[flat] = from < 0 ? -1 : r.data[from];
    for (int d = static_cast<int>(coords.size()) - 1; d >= 0; --d) {
      if (++coords[d] < new_shape[d]) break;
      coords[d] = 0;
    }
  }
  return out;
}

// Advances row-major coordinates; false after the last element.
bool Next(Shape& coords, const Shape& shape) {
  for (int d = static_cast<int>(coords.size()) - 1; d >= 0; --d) {
    if (++coords[d] < shape[d]) return true;
    coords[d] = 0;
  }
  return false;
}

absl::StatusOr<Shape> ParseInts(absl::string_view s) {
  Shape out;
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipWhitespace())) {
    int64_t v;
    if (!absl::SimpleAtoi(p, &v)) return absl::InvalidArgumentError(absl::StrCat("bad int ", p));
    out.push_back(v);
  }
  return out;
}

absl::StatusOr<Intervals> ParsePairs(absl::string_view s) {
  Intervals out;
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> ab = absl::StrSplit(p, ':');
    int64_t a, b;
    if (ab.size() != 2 || !absl::SimpleAtoi(ab[0], &a) || !absl::SimpleAtoi(ab[1], &b)) {
      return absl::InvalidArgumentError(absl::StrCat("bad pair ", p));
    }
    out.push_back({a, b});
  }
  return out;
}

std::vector<UOpPtr> AxisIndices(const Shape& shape, bool use_ranges) {
  std::vector<UOpPtr> idxs;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (use_ranges) {
      idxs.push_back(UOp::Create(Op::kRange, DType::Index(), {UOp::Index(shape[i])},
                                 Arg(static_cast<int64_t>(i))));
    } else {
      idxs.push_back(UOp::Var(absl::StrCat("test_axis", i), 0, shape[i] - 1));
    }
  }
  return idxs;
}

// A node that simplification should never leave: x*1, x*0, x+0, x AND true.
const UOp* TrivialNode(const UOpPtr& root) {
  for (const UOp* u : root->Toposort()) {
    for (const UOpPtr& s : u->src()) {
      if (!s->is_const()) continue;
      const int64_t v = s->const_int();
      if ((u->op() == Op::kMul && (v == 0 || v == 1)) || (u->op() == Op::kAdd && v == 0) ||
          (u->op() == Op::kAnd && v == 1)) {
        return u;
      }
    }
  }
  return nullptr;
}

}  // namespace

Reference Reference::Contiguous(const Shape& shape) {
  Reference r{shape, std::vector<int64_t>(Prod(shape))};
  std::iota(r.data.begin(), r.data.end(), 0);
  return r;
}

int64_t Reference::Flat(const Shape& coords) const {
  int64_t f = 0;
  for (size_t d = 0; d < coords.size(); ++d) f = f * shape[d] + coords[d];
  return f;
}

std::string MovementOp::ToString() const {
  static const char kNames[] = {'R', 'P', 'E', 'D', 'S', 'F'};
  if (kind == kPad || kind == kShrink) {
    return absl::StrCat(std::string(1, kNames[kind]), " ",
                        absl::StrJoin(pairs, ",", [](std::string* o, const Interval& p) {
                          absl::StrAppend(o, p.first, ":", p.second);
                        }));
  }
  return absl::StrCat(std::string(1, kNames[kind]), " ", absl::StrJoin(arg, ","));
}

absl::StatusOr<ShapeTracker> MovementOp::Apply(const ShapeTracker& st) const {
  switch (kind) {
    case kReshape:
      return st.Reshape(arg);
    case kPermute:
      return st.Permute(arg);
    case kExpand:
      return st.Expand(arg);
    case kPad:
      return st.Pad(pairs);
    case kShrink:
      return st.Shrink(pairs);
    case kFlip:
      return st.Flip(arg);
  }
  return absl::InternalError("unknown op");
}

Reference MovementOp::Apply(const Reference& r) const {
  const Shape& old = r.shape;
  const size_t n = old.size();
  switch (kind) {
    case kReshape:
      return Reference{arg, r.data};
    case kPermute: {
      Shape ns(n);
      for (size_t i = 0; i < n; ++i) ns[i] = old[arg[i]];
      return Remap(r, ns, [&](const Shape& c) {
        Shape o(n);
        for (size_t i = 0; i < n; ++i) o[arg[i]] = c[i];
        return r.Flat(o);
      });
    }
    case kExpand:
      return Remap(r, arg, [&](const Shape& c) {
        Shape o(n);
        for (size_t i = 0; i < n; ++i) o[i] = old[i] == arg[i] ? c[i] : 0;
        return r.Flat(o);
      });
    case kPad: {
      Shape ns(n);
      for (size_t i = 0; i < n; ++i) ns[i] = old[i] + pairs[i].first + pairs[i].second;
      return Remap(r, ns, [&](const Shape& c) -> int64_t {
        Shape o(n);
        for (size_t i = 0; i < n; ++i) {
          o[i] = c[i] - pairs[i].first;
          if (o[i] < 0 || o[i] >= old[i]) return -1;
        }
        return r.Flat(o);
      });
    }
    case kShrink: {
      Shape ns(n);
      for (size_t i = 0; i < n; ++i) ns[i] = pairs[i].second - pairs[i].first;
      return Remap(r, ns, [&](const Shape& c) {
        Shape o(n);
        for (size_t i = 0; i < n; ++i) o[i] = c[i] + pairs[i].first;
        return r.Flat(o);
      });
    }
    case kFlip:
      return Remap(r, old, [&](const Shape& c) {
        Shape o(n);
        for (size_t i = 0; i < n; ++i) o[i] = arg[i] ? old[i] - 1 - c[i] : c[i];
        return r.Flat(o);
      });
  }
  return r;
}

std::string OpSequence::ToString() const {
  std::string s = absl::StrCat("B ", absl::StrJoin(base, ","));
  for (const MovementOp& op : ops) absl::StrAppend(&s, " | ", op.ToString());
  return s;
}

absl::StatusOr<OpSequence> ParseOpSequence(absl::string_view text) {
  OpSequence seq;
  bool first = true;
  for (absl::string_view part : absl::StrSplit(text, '|')) {
    part = absl::StripAsciiWhitespace(part);
    if (part.empty()) return absl::InvalidArgumentError("empty op");
    const char kind = part[0];
    absl::string_view args = absl::StripAsciiWhitespace(part.substr(1));
    if (first != (kind == 'B')) return absl::InvalidArgumentError("sequence must start with B");
    first = false;
    MovementOp op{MovementOp::kReshape, {}, {}};
    switch (kind) {
      case 'B': {
        absl::StatusOr<Shape> s = ParseInts(args);
        if (!s.ok()) return s.status();
        seq.base = *s;
        continue;
      }
      case 'R':
        op.kind = MovementOp::kReshape;
        break;
      case 'P':
        op.kind = MovementOp::kPermute;
        break;
      case 'E':
        op.kind = MovementOp::kExpand;
        break;
      case 'F':
        op.kind = MovementOp::kFlip;
        break;
      case 'D':
        op.kind = MovementOp::kPad;
        break;
      case 'S':
        op.kind = MovementOp::kShrink;
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat("unknown op ", part));
    }
    if (kind == 'D' || kind == 'S') {
      absl::StatusOr<Intervals> p = ParsePairs(args);
      if (!p.ok()) return p.status();
      op.pairs = *p;
    } else {
      absl::StatusOr<Shape> a = ParseInts(args);
      if (!a.ok()) return a.status();
      op.arg = *a;
    }
    seq.ops.push_back(op);
  }
  return seq;
}

absl::StatusOr<Applied> ApplyAll(const OpSequence& seq) {
  Applied a{ShapeTracker::FromShape(seq.base), Reference::Contiguous(seq.base)};
  for (const MovementOp& op : seq.ops) {
    absl::StatusOr<ShapeTracker> next = op.Apply(a.st);
    if (!next.ok()) return next.status();
    a.st = *std::move(next);
    a.ref = op.Apply(a.ref);
  }
  return a;
}

::testing::AssertionResult IndexesMatch(const ShapeTracker& st, const Reference& ref,
                                        bool use_ranges) {
  if (st.shape() != ref.shape) {
    return ::testing::AssertionFailure() << "shape " << absl::StrJoin(st.shape(), ",")
                                         << " != reference " << absl::StrJoin(ref.shape, ",");
  }
  if (ref.data.empty()) return ::testing::AssertionSuccess();
  const std::vector<UOpPtr> idxs = AxisIndices(ref.shape, use_ranges);
  auto [idx, valid] = st.ToIndexed(idxs);
  if (idx->dtype() != DType::Index() || valid->dtype() != DType::Bool()) {
    return ::testing::AssertionFailure()
           << "dtypes " << idx->dtype().ToString() << ", " << valid->dtype().ToString();
  }
  for (const UOpPtr& root : {idx, valid}) {
    if (const UOp* t = TrivialNode(root)) {
      return ::testing::AssertionFailure() << "trivial arithmetic " << t->ShortString() << " in\n"
                                           << root->ToString();
    }
  }
  IndexEvaluator eval({idx, valid}, idxs);
  if (!eval.status().ok()) return ::testing::AssertionFailure() << eval.status();
  Shape coords(ref.shape.size(), 0);
  for (size_t flat = 0; flat < ref.data.size(); ++flat, Next(coords, ref.shape)) {
    absl::StatusOr<std::vector<int64_t>> out = eval.Run(coords);
    if (!out.ok()) return ::testing::AssertionFailure() << out.status();
    const int64_t want = ref.data[flat];
    if (((*out)[1] != 0) != (want >= 0) || (want >= 0 && (*out)[0] != want)) {
      return ::testing::AssertionFailure()
             << "element (" << absl::StrJoin(coords, ",") << "): got index " << (*out)[0]
             << " valid " << (*out)[1] << ", want " << want << "\n"
             << st.ToString() << "\nidx:\n"
             << idx->ToString() << "valid:\n"
             << valid->ToString();
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RealStridesHold(const ShapeTracker& st, const Reference& ref,
                                           bool ignore_valid) {
  const std::vector<std::optional<int64_t>> strides = st.RealStrides(ignore_valid);
  const size_t n = ref.shape.size();
  if (strides.size() != n) return ::testing::AssertionFailure() << "rank of RealStrides";
  Shape coords(n, 0);
  for (size_t flat = 0; flat < ref.data.size(); ++flat, Next(coords, ref.shape)) {
    for (size_t axis = 0; axis < n; ++axis) {
      if (!strides[axis] || coords[axis] + 1 >= ref.shape[axis]) continue;
      Shape next = coords;
      ++next[axis];
      const int64_t a = ref.data[flat], b = ref.data[ref.Flat(next)];
      if ((!ignore_valid && (a >= 0) != (b >= 0)) ||
          (a >= 0 && b >= 0 && b - a != *strides[axis])) {
        return ::testing::AssertionFailure()
               << "axis " << axis << " claimed stride " << *strides[axis] << " but element ("
               << absl::StrJoin(coords, ",") << ") reads " << a << " and the next reads " << b
               << "\n"
               << st.ToString();
      }
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ViewsCanonical(const ShapeTracker& st) {
  for (const View& v : st.views()) {
    View again = View::Create(v.shape(), v.strides(), v.offset(), v.mask());
    if (again != v || again.contiguous() != v.contiguous()) {
      return ::testing::AssertionFailure()
             << "not canonical: " << v.ToString() << " vs " << again.ToString();
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace testing_util
}  // namespace uop

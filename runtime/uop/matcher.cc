#include "runtime/uop/matcher.h"

#include <cstdlib>
#include <iostream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop {

// ---------------------------------------------------------------------------
// Captures

bool Captures::Bind(const char* name, const UOp* node) {
  for (int i = 0; i < size_; ++i) {
    if (entries_[i].name == name || std::strcmp(entries_[i].name, name) == 0)
      return entries_[i].node == node;
  }
  if (size_ == kMaxNames) {
    std::cerr << "uop: pattern binds more than " << kMaxNames << " names\n";
    std::abort();
  }
  entries_[size_++] = {name, node};
  return true;
}

const UOp* Captures::Get(const char* name) const {
  for (int i = 0; i < size_; ++i)
    if (entries_[i].name == name || std::strcmp(entries_[i].name, name) == 0)
      return entries_[i].node;
  return nullptr;
}

UOpPtr Captures::operator[](const char* name) const {
  const UOp* u = Get(name);
  if (u == nullptr) {
    std::cerr << "uop: rule asked for unbound pattern name '" << name << "'\n";
    std::abort();
  }
  return UOpPtr::FromBorrowed(u);
}

// ---------------------------------------------------------------------------
// UPat

UPat::UPat(Op op) { ops_.reset().set(static_cast<int>(op)); }

UPat::UPat(std::initializer_list<Op> ops) {
  ops_.reset();
  for (Op op : ops) ops_.set(static_cast<int>(op));
}

UPat UPat::Var(const char* name) { return UPat().Named(name); }
UPat UPat::Var(const char* name, DType dtype) { return UPat().Named(name).WithDType(dtype); }
UPat UPat::Cvar(const char* name) { return UPat(Op::kConst).Named(name); }

UPat UPat::Const(double v) {
  UPat p(Op::kConst);
  p.const_value_ = v;
  return p;
}

UPat UPat::OpSrcs(Op op, std::vector<UPat> srcs) { return UPat(op).WithSrcs(std::move(srcs)); }

UPat UPat::AnyOf(std::vector<UPat> alternatives) {
  UPat p;
  p.ops_.reset();
  for (const UPat& a : alternatives) p.ops_ |= a.ops_;
  p.alternatives_ = std::make_shared<const std::vector<UPat>>(std::move(alternatives));
  return p;
}

UPat UPat::Named(const char* name) const {
  UPat p = *this;
  p.name_ = name;
  return p;
}
UPat UPat::WithDType(DType dtype) const { return WithDTypes({dtype}); }
UPat UPat::WithDTypes(std::vector<DType> dtypes) const {
  UPat p = *this;
  p.dtypes_ = std::make_shared<const std::vector<DType>>(std::move(dtypes));
  return p;
}
UPat UPat::WithScalarType(ScalarType s) const {
  UPat p = *this;
  p.scalar_filter_ = static_cast<int>(s);
  return p;
}
UPat UPat::IntLike() const {
  UPat p = *this;
  p.scalar_filter_ = -2;
  return p;
}
UPat UPat::FloatLike() const {
  UPat p = *this;
  p.scalar_filter_ = -3;
  return p;
}
UPat UPat::WithSrcs(std::vector<UPat> srcs) const {
  UPat p = *this;
  p.srcs_ = std::make_shared<const std::vector<UPat>>(std::move(srcs));
  p.src_mode_ = SrcMode::kOrdered;
  return p;
}
UPat UPat::WithPermSrcs(std::vector<UPat> srcs) const {
  UPat p = *this;
  p.src_mode_ = srcs.size() == 2 ? SrcMode::kPermuted : SrcMode::kOrdered;
  p.srcs_ = std::make_shared<const std::vector<UPat>>(std::move(srcs));
  return p;
}
UPat UPat::WithEachSrc(UPat src) const {
  UPat p = *this;
  p.srcs_ = std::make_shared<const std::vector<UPat>>(std::vector<UPat>{std::move(src)});
  p.src_mode_ = SrcMode::kEach;
  return p;
}
UPat UPat::AnyLen() const {
  UPat p = *this;
  p.any_len_ = true;
  return p;
}
UPat UPat::WithArg(Arg arg) const {
  UPat p = *this;
  p.arg_ = std::make_shared<const Arg>(std::move(arg));
  return p;
}
UPat UPat::Where(std::function<bool(const UOp&)> predicate) const {
  UPat p = *this;
  p.predicate_ = std::make_shared<const std::function<bool(const UOp&)>>(std::move(predicate));
  return p;
}

bool UPat::MatchSelf(const UOp* u) const {
  if (!ops_.test(static_cast<int>(u->op()))) return false;
  if (dtypes_) {
    bool any = false;
    for (const DType& d : *dtypes_) any |= d == u->dtype();
    if (!any) return false;
  }
  if (scalar_filter_ != -1) {
    DType d = u->dtype();
    if (scalar_filter_ == -2) {
      if (!(d.is_int() || d.is_bool()) || d.is_ptr()) return false;
    } else if (scalar_filter_ == -3) {
      if (!d.is_float() || d.is_ptr()) return false;
    } else if (static_cast<int>(d.scalar_type()) != scalar_filter_) {
      return false;
    }
  }
  if (const_value_ && !u->IsConstValue(*const_value_)) return false;
  if (arg_ && u->arg() != *arg_) return false;
  if (predicate_ && !(*predicate_)(*u)) return false;
  return true;
}

bool UPat::MatchSeq(const UOp* u, Captures& caps, const int* order, size_t i,
                    absl::FunctionRef<bool()> k) const {
  size_t n = src_mode_ == SrcMode::kEach ? u->num_srcs() : srcs_->size();
  if (i == n) return k();
  const UPat& p = src_mode_ == SrcMode::kEach ? (*srcs_)[0] : (*srcs_)[order ? order[i] : i];
  return p.MatchK(u->src(i).get(), caps, [&] { return MatchSeq(u, caps, order, i + 1, k); });
}

bool UPat::MatchK(const UOp* u, Captures& caps, absl::FunctionRef<bool()> k) const {
  int saved = caps.size_;
  if (alternatives_) {
    for (const UPat& alt : *alternatives_) {
      bool ok = alt.MatchK(u, caps, [&] {
        if (name_ && !caps.Bind(name_, u)) return false;
        return k();
      });
      if (ok) return true;
      caps.size_ = saved;
    }
    return false;
  }
  if (!MatchSelf(u)) return false;
  if (name_ && !caps.Bind(name_, u)) {
    caps.size_ = saved;
    return false;
  }
  bool ok = false;
  switch (src_mode_) {
    case SrcMode::kAny:
      ok = k();
      break;
    case SrcMode::kOrdered: {
      size_t n = srcs_->size();
      if (any_len_ ? u->num_srcs() < n : u->num_srcs() != n) break;
      ok = MatchSeq(u, caps, nullptr, 0, k);
      break;
    }
    case SrcMode::kPermuted: {
      if (u->num_srcs() != 2) break;
      static constexpr int kForward[2] = {0, 1}, kBackward[2] = {1, 0};
      int inner = caps.size_;
      ok = MatchSeq(u, caps, kForward, 0, k);
      if (!ok) {
        caps.size_ = inner;
        ok = MatchSeq(u, caps, kBackward, 0, k);
      }
      break;
    }
    case SrcMode::kEach:
      ok = MatchSeq(u, caps, nullptr, 0, k);
      break;
  }
  if (!ok) caps.size_ = saved;
  return ok;
}

bool UPat::Match(const UOp* u, Captures& caps) const {
  return MatchK(u, caps, [] { return true; });
}

std::string UPat::ToString() const {
  std::string s;
  if (alternatives_) {
    s = absl::StrCat(
        "any(",
        absl::StrJoin(*alternatives_, ", ",
                      [](std::string* o, const UPat& p) { absl::StrAppend(o, p.ToString()); }),
        ")");
  } else if (ops_.all()) {
    s = "*";
  } else {
    std::vector<std::string> names;
    for (int i = 0; i < kNumOps; ++i)
      if (ops_.test(i)) names.emplace_back(OpName(static_cast<Op>(i)));
    s = absl::StrJoin(names, "|");
  }
  if (name_) absl::StrAppend(&s, ":", name_);
  if (const_value_) absl::StrAppend(&s, "=", *const_value_);
  if (srcs_) {
    absl::StrAppend(
        &s, src_mode_ == SrcMode::kPermuted ? "{" : "(",
        absl::StrJoin(*srcs_, ", ",
                      [](std::string* o, const UPat& p) { absl::StrAppend(o, p.ToString()); }),
        src_mode_ == SrcMode::kEach ? "..." : "", any_len_ ? ", ..." : "",
        src_mode_ == SrcMode::kPermuted ? "}" : ")");
  }
  return s;
}

UPat AluPat(Op op, std::vector<UPat> srcs) {
  UPat p(op);
  return HasTrait(op, kCommutative) ? p.WithPermSrcs(std::move(srcs)) : p.WithSrcs(std::move(srcs));
}
UPat operator+(const UPat& a, const UPat& b) { return AluPat(Op::kAdd, {a, b}); }
UPat operator-(const UPat& a, const UPat& b) { return AluPat(Op::kSub, {a, b}); }
UPat operator*(const UPat& a, const UPat& b) { return AluPat(Op::kMul, {a, b}); }
UPat operator/(const UPat& a, const UPat& b) { return AluPat(Op::kIdiv, {a, b}); }
UPat operator%(const UPat& a, const UPat& b) { return AluPat(Op::kMod, {a, b}); }
UPat operator-(const UPat& a) { return AluPat(Op::kNeg, {a}); }

// ---------------------------------------------------------------------------
// PatternMatcher

namespace {
std::atomic<bool>& StatsFlag() {
  static std::atomic<bool> flag{[] {
    const char* e = std::getenv("UOP_MATCH_STATS");
    return e != nullptr && e[0] == '1';
  }()};
  return flag;
}
}  // namespace

void PatternMatcher::EnableStats(bool on) { StatsFlag().store(on); }
bool PatternMatcher::StatsEnabled() { return StatsFlag().load(std::memory_order_relaxed); }

PatternMatcher::PatternMatcher(std::vector<Rule> rules) {
  for (Rule& r : rules) rules_->push_back(std::make_unique<Entry>(std::move(r)));
  BuildIndex();
}

void PatternMatcher::BuildIndex() {
  for (auto& list : by_op_) list.clear();
  for (const auto& e : *rules_) {
    const auto& ops = e->rule.pattern.ops();
    for (int op = 0; op < kNumOps; ++op)
      if (ops.test(op)) by_op_[op].push_back(e.get());
  }
}

PatternMatcher operator+(const PatternMatcher& a, const PatternMatcher& b) {
  PatternMatcher out;
  for (const auto* src : {&a, &b})
    for (const auto& e : *src->rules_)
      out.rules_->push_back(std::make_unique<PatternMatcher::Entry>(e->rule));
  out.BuildIndex();
  return out;
}

UOpPtr PatternMatcher::Rewrite(const UOp* u, void* ctx) const {
  const auto& candidates = by_op_[static_cast<int>(u->op())];
  if (candidates.empty()) return nullptr;
  bool stats = StatsEnabled();
  Captures caps;
  caps.root_ = u;
  caps.ctx_ = ctx;
  for (const Entry* e : candidates) {
    caps.size_ = 0;
    if (stats) e->tries.fetch_add(1, std::memory_order_relaxed);
    if (!e->rule.pattern.Match(u, caps)) continue;
    if (stats) e->matches.fetch_add(1, std::memory_order_relaxed);
    UOpPtr out = e->rule.fn(caps);
    if (out && out.get() != u) {
      if (stats) e->rewrites.fetch_add(1, std::memory_order_relaxed);
      return out;
    }
  }
  return nullptr;
}

std::vector<RuleStats> PatternMatcher::Stats() const {
  std::vector<RuleStats> out;
  for (const auto& e : *rules_)
    out.push_back({e->rule.name.empty() ? e->rule.pattern.ToString() : e->rule.name,
                   e->tries.load(), e->matches.load(), e->rewrites.load()});
  return out;
}

void PatternMatcher::ResetStats() const {
  for (const auto& e : *rules_) e->tries = e->matches = e->rewrites = 0;
}

// ---------------------------------------------------------------------------
// GraphRewrite

namespace {

// A rule set that keeps producing new nodes would loop forever; this bound is
// far above any legitimate chain of rewrites of one node.
constexpr int kMaxRewritesPerNode = 100000;

class Rewriter {
 public:
  Rewriter(const PatternMatcher& pm, void* ctx, RewriteOrder order)
      : pm_(pm), ctx_(ctx), order_(order) {}

  UOpPtr Run(const UOpPtr& root) {
    Push(root.get());
    while (!stack_.empty()) Step();
    return memo_.at(root.get());
  }

 private:
  struct Frame {
    const UOp* key;  // the node whose result this frame computes
    UOpPtr current;  // the node being processed (key or a rewrite of it)
    size_t next_src = 0;
    UOpList new_srcs;
    bool top_done = false;  // top-down: fixed point before sources reached
    int rewrites = 0;
  };

  void Push(const UOp* u) {
    Frame f;
    f.key = u;
    f.current = UOpPtr::FromBorrowed(u);
    stack_.push_back(std::move(f));
  }

  void Finish(Frame& f, UOpPtr result) {
    if (f.current.get() != f.key) memo_[f.current.get()] = result, keep_.push_back(f.current);
    memo_[f.key] = std::move(result);
    stack_.pop_back();
  }

  // Restarts the frame on a new node `next` (a rewrite result).
  // Returns false when the frame finished instead.
  bool Restart(Frame& f, UOpPtr next) {
    if (++f.rewrites > kMaxRewritesPerNode) {
      std::cerr << "uop: GraphRewrite gave up on a node rewritten " << kMaxRewritesPerNode
                << " times (rules cycle?): " << f.current->ShortString() << "\n";
      std::abort();
    }
    if (auto it = memo_.find(next.get()); it != memo_.end()) {
      UOpPtr r = it->second;
      Finish(f, std::move(r));
      return false;
    }
    if (f.current.get() != f.key) keep_.push_back(f.current);
    f.current = std::move(next);
    f.next_src = 0;
    f.new_srcs.clear();
    f.top_done = false;
    return true;
  }

  void Step() {
    Frame& f = stack_.back();
    if (f.next_src == 0 && f.new_srcs.empty() && memo_.count(f.key) && f.current.get() == f.key) {
      stack_.pop_back();
      return;
    }
    if (order_ == RewriteOrder::kTopDown && !f.top_done) {
      if (UOpPtr r = pm_.Rewrite(f.current.get(), ctx_)) {
        Restart(f, std::move(r));
        return;
      }
      f.top_done = true;
    }
    // Sources first.
    const UOp* cur = f.current.get();
    while (f.next_src < cur->num_srcs()) {
      const UOp* s = cur->src(f.next_src).get();
      auto it = memo_.find(s);
      if (it == memo_.end()) {
        Push(s);  // invalidates f; resume this frame later
        return;
      }
      f.new_srcs.push_back(it->second);
      ++f.next_src;
    }
    bool changed = false;
    for (size_t i = 0; i < cur->num_srcs(); ++i) changed |= f.new_srcs[i] != cur->src(i);
    if (changed) {
      UOpPtr rebuilt = cur->Replace(f.new_srcs);
      if (order_ == RewriteOrder::kTopDown) {
        Restart(f, std::move(rebuilt));
        return;
      }
      if (auto it = memo_.find(rebuilt.get()); it != memo_.end()) {
        UOpPtr r = it->second;
        Finish(f, std::move(r));
        return;
      }
      keep_.push_back(f.current);
      f.current = std::move(rebuilt);
    }
    if (order_ == RewriteOrder::kBottomUp) {
      if (UOpPtr r = pm_.Rewrite(f.current.get(), ctx_)) {
        Restart(f, std::move(r));
        return;
      }
    }
    UOpPtr result = f.current;
    Finish(f, std::move(result));
  }

  const PatternMatcher& pm_;
  void* ctx_;
  RewriteOrder order_;
  std::vector<Frame> stack_;
  absl::flat_hash_map<const UOp*, UOpPtr> memo_;
  std::vector<UOpPtr> keep_;  // intermediates used as memo keys stay alive
};

}  // namespace

UOpPtr GraphRewrite(const UOpPtr& root, const PatternMatcher& pm, void* ctx, RewriteOrder order) {
  return Rewriter(pm, ctx, order).Run(root);
}

UOpPtr Substitute(const UOpPtr& root, const std::vector<std::pair<UOpPtr, UOpPtr>>& replacements) {
  absl::flat_hash_map<const UOp*, UOpPtr> map;
  for (const auto& [from, to] : replacements) map[from.get()] = to;
  for (const UOp* u : root->Toposort()) {
    if (map.count(u)) continue;
    UOpList srcs;
    bool changed = false;
    for (const UOpPtr& s : u->src()) {
      auto it = map.find(s.get());
      srcs.push_back(it == map.end() ? s : it->second);
      changed |= srcs.back() != s;
    }
    if (changed) map[u] = u->Replace(srcs);
  }
  auto it = map.find(root.get());
  return it == map.end() ? root : it->second;
}

}  // namespace uop

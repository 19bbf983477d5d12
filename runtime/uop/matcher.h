// Pattern matching and graph rewriting over UOps.
//
// A rule is data: a pattern (UPat) and a callback that returns the
// replacement node, or nullptr for "no rewrite". Rules live in a
// PatternMatcher that indexes them by the root op, so a node only meets the
// rules that can match its op. GraphRewrite applies a matcher to a whole DAG
// until nothing changes.
//
//   UPat x = UPat::Var("x"), c = UPat::Cvar("c");
//   PatternMatcher pm({
//       // x + 0 -> x
//       {x + UPat::Const(0), [](const Captures& m) { return m["x"]; }, "add_zero"},
//       // x * 1 -> x
//       {x * UPat::Const(1), [](const Captures& m) { return m["x"]; }, "mul_one"},
//   });
//   UOpPtr simplified = GraphRewrite(root, pm);
//
// Commutative ops (ADD, MUL, MAX, ...) built with the operators below match
// their two sources in either order. A name bound twice must bind the same
// node (`x + x` matches ADD(a, a) only).
#ifndef UOP_RUNTIME_UOP_MATCHER_H_
#define UOP_RUNTIME_UOP_MATCHER_H_

#include <array>
#include <atomic>
#include <bitset>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "runtime/uop/uop.h"

namespace uop {

// Names bound by a successful match, plus the matched root and an optional
// caller context.
class Captures {
 public:
  static constexpr int kMaxNames = 12;

  // The node bound to `name`. NOTE: the name must be bound by the pattern;
  // asking for an unbound name is a programmer error (CHECK-fails).
  UOpPtr operator[](const char* name) const;
  const UOp* Get(const char* name) const;  // nullptr when unbound
  UOpPtr root() const { return UOpPtr::FromBorrowed(root_); }
  template <typename T>
  T* ctx() const {
    return static_cast<T*>(ctx_);
  }

 private:
  friend class UPat;
  friend class PatternMatcher;
  // Raw pointers: binding happens on every match attempt and must not touch
  // reference counts; the matched graph keeps the nodes alive.
  struct Entry {
    const char* name;
    const UOp* node;
  };
  bool Bind(const char* name, const UOp* node);
  std::array<Entry, kMaxNames> entries_;
  int size_ = 0;
  const UOp* root_ = nullptr;
  void* ctx_ = nullptr;
};

class UPat {
 public:
  // Matches any node.
  UPat() = default;
  explicit UPat(Op op);
  UPat(std::initializer_list<Op> ops);

  // Any node, bound to `name`.
  static UPat Var(const char* name);
  static UPat Var(const char* name, DType dtype);
  // A CONST, bound to `name`.
  static UPat Cvar(const char* name);
  // A CONST equal to v (compared as a number, any dtype).
  static UPat Const(double v);
  // An op with exactly these sources in this order.
  static UPat OpSrcs(Op op, std::vector<UPat> srcs);
  // Matches if any alternative matches (first match wins).
  static UPat AnyOf(std::vector<UPat> alternatives);

  // Builders; each returns a modified copy.
  UPat Named(const char* name) const;
  UPat WithDType(DType dtype) const;                 // exact dtype
  UPat WithDTypes(std::vector<DType> dtypes) const;  // one of
  UPat WithScalarType(ScalarType s) const;           // scalar type, any vector width
  UPat IntLike() const;                              // int, index or bool dtype
  UPat FloatLike() const;                            // float dtype
  UPat WithSrcs(std::vector<UPat> srcs) const;       // in order
  UPat WithPermSrcs(std::vector<UPat> srcs) const;   // two sources, either order
  UPat WithEachSrc(UPat src) const;                  // every source matches `src`
  UPat AnyLen() const;                               // leading sources match, more may follow
  UPat WithArg(Arg arg) const;
  UPat Where(std::function<bool(const UOp&)> predicate) const;

  // Ops this pattern's root can match; all bits set for a wildcard.
  const std::bitset<kNumOps>& ops() const { return ops_; }
  bool Match(const UOp* u, Captures& caps) const;
  std::string ToString() const;

 private:
  enum class SrcMode : uint8_t { kAny, kOrdered, kPermuted, kEach };
  bool MatchSelf(const UOp* u) const;
  bool MatchK(const UOp* u, Captures& caps, absl::FunctionRef<bool()> k) const;
  bool MatchSeq(const UOp* u, Captures& caps, const int* order, size_t i,
                absl::FunctionRef<bool()> k) const;

  std::bitset<kNumOps> ops_ = std::bitset<kNumOps>().set();
  const char* name_ = nullptr;
  std::shared_ptr<const std::vector<DType>> dtypes_;
  int scalar_filter_ = -1;  // ScalarType, or -2 int-like, -3 float-like
  std::shared_ptr<const std::vector<UPat>> srcs_;
  SrcMode src_mode_ = SrcMode::kAny;
  bool any_len_ = false;
  std::shared_ptr<const Arg> arg_;
  std::optional<double> const_value_;
  std::shared_ptr<const std::vector<UPat>> alternatives_;
  std::shared_ptr<const std::function<bool(const UOp&)>> predicate_;
};

// Pattern sugar: ALU patterns. Commutative ops match either source order.
UPat operator+(const UPat& a, const UPat& b);
UPat operator-(const UPat& a, const UPat& b);
UPat operator*(const UPat& a, const UPat& b);
UPat operator/(const UPat& a, const UPat& b);  // IDIV
UPat operator%(const UPat& a, const UPat& b);
UPat operator-(const UPat& a);
UPat AluPat(Op op, std::vector<UPat> srcs);

using RewriteFn = std::function<UOpPtr(const Captures&)>;

struct Rule {
  UPat pattern;
  RewriteFn fn;
  std::string name;
};

// Per-rule counters, collected only while match statistics are enabled.
struct RuleStats {
  std::string name;
  uint64_t tries;
  uint64_t matches;
  uint64_t rewrites;
};

class PatternMatcher {
 public:
  PatternMatcher() = default;
  explicit PatternMatcher(std::vector<Rule> rules);
  // Rules of `a` first, then `b`.
  friend PatternMatcher operator+(const PatternMatcher& a, const PatternMatcher& b);

  // Applies the first rule that matches `u` and returns its result, or
  // nullptr when no rule rewrites it.
  UOpPtr Rewrite(const UOp* u, void* ctx = nullptr) const;

  size_t size() const { return rules_->size(); }
  std::vector<RuleStats> Stats() const;
  void ResetStats() const;

  // Statistics cost a few atomic increments per match attempt; off by default
  // (UOP_MATCH_STATS=1 turns them on at start).
  static void EnableStats(bool on);
  static bool StatsEnabled();

 private:
  struct Entry {
    Rule rule;
    mutable std::atomic<uint64_t> tries{0};
    mutable std::atomic<uint64_t> matches{0};
    mutable std::atomic<uint64_t> rewrites{0};
    explicit Entry(Rule r) : rule(std::move(r)) {}
  };
  void BuildIndex();
  std::shared_ptr<std::vector<std::unique_ptr<Entry>>> rules_ =
      std::make_shared<std::vector<std::unique_ptr<Entry>>>();
  std::array<std::vector<const Entry*>, kNumOps> by_op_;
};

enum class RewriteOrder {
  // Sources first, then the node; a rewritten node is rewritten again (with
  // its new sources) until no rule applies.
  kBottomUp,
  // The node first (to a fixed point), then its sources, then the node again
  // if its sources changed.
  kTopDown,
};

// Rewrites the DAG under `root` to a fixed point of `pm`. Shared nodes are
// rewritten once. `ctx` is passed to every callback.
UOpPtr GraphRewrite(const UOpPtr& root, const PatternMatcher& pm, void* ctx = nullptr,
                    RewriteOrder order = RewriteOrder::kBottomUp);

// Replaces nodes by identity (no pattern matching): every occurrence of a key
// in `replacements` becomes its value, and users are rebuilt.
UOpPtr Substitute(const UOpPtr& root, const std::vector<std::pair<UOpPtr, UOpPtr>>& replacements);

}  // namespace uop

#endif  // UOP_RUNTIME_UOP_MATCHER_H_

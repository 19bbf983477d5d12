// Randomized differential test of Simplify(): random integer expression trees
// over a few variables with random bounds (negative ranges, magnitudes past
// 2^31 and 2^40), simplified, then evaluated before and after at the corners
// of the bounds and at random points by a brute-force evaluator with exact
// int64 C semantics. Samples where the original overflows are skipped; the
// simplified tree must then agree, must not overflow or divide by zero, and
// every node of both trees must lie within its vmin/vmax.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/uop/symbolic.h"

namespace uop {
namespace {

using i128 = __int128;
constexpr i128 kMin = std::numeric_limits<int64_t>::min();
constexpr i128 kMax = std::numeric_limits<int64_t>::max();

std::string Str(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : v;
  std::string s;
  while (u != 0) s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10))), u /= 10;
  return neg ? "-" + s : s;
}

// A tree flattened for repeated evaluation: nodes in topological order with
// source indices.
class Program {
 public:
  explicit Program(const UOpPtr& root) : root_(root) {
    std::vector<const UOp*> order = root->Toposort();
    absl::flat_hash_map<const UOp*, int> index;
    for (const UOp* u : order) {
      Node n{u, {}, -1};
      for (const UOpPtr& s : u->src()) n.srcs.push_back(index.at(s.get()));
      if (u->op() == Op::kDefineVar) n.var = VarIndex(u->arg().get<VarArg>().name);
      index[u] = static_cast<int>(nodes_.size());
      nodes_.push_back(std::move(n));
    }
  }

  static int VarIndex(const std::string& name) { return name[1] - '0'; }

  // Evaluates every node; a node that overflows int64 or divides by zero is
  // poison, and so is every user of a poison value except a WHERE whose
  // taken side is fine (WHERE selects). Returns an error string when a node
  // the result depends on is poison, or an op is unexpected.
  std::string Run(const std::vector<int64_t>& vars) {
    const size_t n = nodes_.size();
    values_.assign(n, 0);
    poison_.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Node& node = nodes_[i];
      const UOp& u = *node.u;
      auto s = [&](int k) { return values_[node.srcs[k]]; };
      auto bad = [&](int k) { return poison_[node.srcs[k]] != 0; };
      bool poison = false;
      for (size_t k = 0; k < node.srcs.size(); ++k) poison |= bad(k);
      i128 v = 0;
      switch (u.op()) {
        case Op::kConst:
          v = u.const_int();
          break;
        case Op::kDefineVar:
          v = vars[node.var];
          break;
        case Op::kAdd:
          v = s(0) + s(1);
          break;
        case Op::kSub:
          v = s(0) - s(1);
          break;
        case Op::kMul:
          v = s(0) * s(1);
          break;
        case Op::kNeg:
          v = -s(0);
          break;
        case Op::kIdiv:
        case Op::kMod:
          if (s(1) == 0) {
            poison = true;
            break;
          }
          v = u.op() == Op::kIdiv ? s(0) / s(1) : s(0) % s(1);  // C truncation
          break;
        case Op::kMax:
          v = std::max(s(0), s(1));
          break;
        case Op::kCmpLt:
          v = s(0) < s(1);
          break;
        case Op::kCmpNe:
          v = s(0) != s(1);
          break;
        case Op::kCmpEq:
          v = s(0) == s(1);
          break;
        case Op::kAnd:
          v = s(0) & s(1);
          break;
        case Op::kOr:
          v = s(0) | s(1);
          break;
        case Op::kXor:
          v = s(0) ^ s(1);
          break;
        case Op::kWhere: {
          int taken = s(0) != 0 ? 1 : 2;
          poison = bad(0) || bad(taken);
          v = s(taken);
          break;
        }
        default:
          return absl::StrCat("unexpected op ", u.ShortString());
      }
      if (v < kMin || v > kMax) poison = true;
      values_[i] = poison ? 0 : v;
      poison_[i] = poison;
    }
    // The nodes the result depends on: everything below the root except
    // the side a WHERE does not take.
    std::vector<char> needed(n, 0);
    needed[n - 1] = 1;
    for (size_t i = n; i-- > 0;) {
      if (!needed[i]) continue;
      const Node& node = nodes_[i];
      if (poison_[i]) {
        return absl::StrCat("int64 overflow or division by zero at ", node.u->ShortString());
      }
      if (node.u->op() == Op::kWhere) {
        needed[node.srcs[0]] = 1;
        needed[node.srcs[values_[node.srcs[0]] != 0 ? 1 : 2]] = 1;
      } else {
        for (int k : node.srcs) needed[k] = 1;
      }
    }
    return "";
  }

  i128 result() const { return values_.back(); }

  // The first node whose value lies outside its vmin/vmax, or "".
  std::string CheckBounds() const {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const UOp& u = *nodes_[i].u;
      if (poison_[i]) continue;
      if (values_[i] < u.vmin() || values_[i] > u.vmax())
        return absl::StrCat(u.ShortString(), " = ", Str(values_[i]), " outside [", u.vmin(), ", ",
                            u.vmax(), "]");
    }
    return "";
  }
  size_t size() const { return nodes_.size(); }

 private:
  struct Node {
    const UOp* u;
    std::vector<int> srcs;
    int var;
  };
  UOpPtr root_;
  std::vector<Node> nodes_;
  std::vector<i128> values_;
  std::vector<char> poison_;
};

struct Var {
  UOpPtr node;
  int64_t lo, hi;
};

class TreeGen {
 public:
  explicit TreeGen(uint64_t seed) : rng_(seed) {}

  std::vector<Var> MakeVars(int n) {
    std::vector<Var> vars;
    for (int i = 0; i < n; ++i) {
      auto [lo, hi] = RandomBounds();
      vars.push_back({UOp::Var(absl::StrCat("v", i), lo, hi), lo, hi});
    }
    return vars;
  }

  // Divisor variables: ranges that exclude zero.
  std::vector<Var> MakeDivisors(int first_index) {
    std::vector<Var> vars;
    std::pair<int64_t, int64_t> options[] = {{1, Uniform(1, 16)},
                                             {Uniform(-12, -2), -1},
                                             {Uniform(2, 9), Uniform(10, 40)},
                                             {int64_t{1} << 31, (int64_t{1} << 31) + 7}};
    for (int i = 0; i < 2; ++i) {
      auto [lo, hi] = options[Uniform(0, 3)];
      vars.push_back({UOp::Var(absl::StrCat("v", first_index + i), lo, hi), lo, hi});
    }
    return vars;
  }

  UOpPtr Int(int depth) {
    if (depth == 0 || Uniform(0, 9) == 0) return Leaf();
    switch (Uniform(0, 10)) {
      case 0:
      case 1:
        return Int(depth - 1) + Int(depth - 1);
      case 2:
        return Int(depth - 1) - Int(depth - 1);
      case 3:
      case 4:
        return Uniform(0, 3) == 0 ? Int(depth - 1) * Int(depth - 1) : Int(depth - 1) * Const();
      case 5:
        return Int(depth - 1) / Divisor();
      case 6:
        return Int(depth - 1) % Divisor();
      case 7:
        return Max(Int(depth - 1), Int(depth - 1));
      case 8:
        if (Uniform(0, 1)) return Where(ValidCond(), Int(depth - 1), Int(depth - 1));
        return Where(Cond(depth - 1), Int(depth - 1), Int(depth - 1));
      case 9:
        return -Int(depth - 1);
      default:
        return Int(depth - 1) + Const();
    }
  }

  // A padding-style validity condition: c1 < X and X < c2 for X a variable
  // or a sum of two, with c1 and c2 inside X's range.
  UOpPtr ValidCond() {
    UOpPtr x = vars_[Uniform(0, vars_.size() - 1)].node;
    if (Uniform(0, 2) == 0) x = x + vars_[Uniform(0, vars_.size() - 1)].node;
    int64_t lo = x->vmin(), hi = x->vmax();
    int64_t a = lo + Uniform(-1, 3), b = hi - Uniform(-1, 3);
    if (Uniform(0, 3) == 0) return Lt(x, UOp::Index(b));
    return LogicalAnd(Lt(UOp::Index(a), x), Lt(x, UOp::Index(b)));
  }

  UOpPtr Cond(int depth) {
    return Uniform(0, 1) ? Lt(Int(depth), Int(depth)) : Lt(Int(depth), Const());
  }

  // An index expression of the kind view lowering produces:
  // sum(v_i * stride_i) + offset, then a few of %, //, * and + by constants.
  UOpPtr IndexExpr() {
    UOpPtr e = UOp::Index(Uniform(-4, 4));
    // A padded axis: the first variable shifted by the padding, valid
    // strictly inside its range.
    bool padded = Uniform(0, 2) == 0;
    for (const Var& v : vars_) {
      UOpPtr axis = padded && &v == &vars_[0] ? v.node - UOp::Index(Uniform(1, 2)) : v.node;
      e = e + axis * SmallConst(1, 64);
    }
    int steps = Uniform(1, 4);
    for (int i = 0; i < steps; ++i) {
      switch (Uniform(0, 4)) {
        case 0:
          e = e % SmallConst(2, 48);
          break;
        case 1:
          e = e / SmallConst(2, 48);
          break;
        case 2:
          e = e * SmallConst(1, 16) + vars_[Uniform(0, vars_.size() - 1)].node;
          break;
        case 3:
          e = e + UOp::Index(Uniform(-30, 30));
          break;
        default:
          e = Where(Lt(e, UOp::Index(Uniform(-10, 200))), e, UOp::Index(0));
          break;
      }
    }
    if (padded) {
      const Var& v = vars_[0];
      UOpPtr valid = LogicalAnd(Lt(UOp::Index(v.lo + Uniform(0, 2)), v.node),
                                Lt(v.node, UOp::Index(v.hi - Uniform(0, 2))));
      e = Where(valid, e, UOp::Index(0));
    }
    return e;
  }

  void SetVars(std::vector<Var> vars, std::vector<Var> divisors) {
    vars_ = std::move(vars);
    divisors_ = std::move(divisors);
  }

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::pair<int64_t, int64_t> RandomBounds() {
    constexpr int64_t k31 = int64_t{1} << 31, k40 = int64_t{1} << 40;
    switch (Uniform(0, 7)) {
      case 0:
        return {0, Uniform(1, 64)};
      case 1:
        return {Uniform(-50, 0), Uniform(0, 50)};
      case 2:
        return {Uniform(-100, -2), -1};
      case 3:
        return {0, k31 + Uniform(0, 1000)};
      case 4:
        return {-k40 + Uniform(0, 1000), k40 - Uniform(0, 1000)};
      case 5:
        return {k31 - Uniform(1, 10), k31 + Uniform(1, 100)};
      case 6:
        return {0, 1};
      default: {
        int64_t lo = k40 + Uniform(-1000, 1000);
        return {lo, lo + Uniform(1, 1000)};
      }
    }
  }

  UOpPtr Leaf() {
    if (Uniform(0, 9) < 7) return vars_[Uniform(0, vars_.size() - 1)].node;
    return Const();
  }
  UOpPtr SmallConst(int64_t lo, int64_t hi) { return UOp::Index(Uniform(lo, hi)); }
  UOpPtr Const() {
    switch (Uniform(0, 9)) {
      case 0:
        return UOp::Index((int64_t{1} << 31) + Uniform(-3, 3));
      case 1:
        return UOp::Index((int64_t{1} << 40) * (Uniform(0, 1) ? 1 : -1) + Uniform(-3, 3));
      case 2:
        return UOp::Index(int64_t{1} << Uniform(0, 10));
      default:
        return UOp::Index(Uniform(-20, 20));
    }
  }
  UOpPtr Divisor() {
    if (Uniform(0, 3) == 0) return divisors_[Uniform(0, divisors_.size() - 1)].node;
    int64_t d = Uniform(0, 4) == 0 ? -Uniform(1, 12) : Uniform(1, 48);
    if (Uniform(0, 19) == 0) d = (int64_t{1} << 31) + 1;
    return UOp::Index(d);
  }

  std::mt19937_64 rng_;
  std::vector<Var> vars_, divisors_;
};

struct FuzzStats {
  int trees = 0;
  int64_t samples = 0, skipped = 0;
  int64_t nodes_before = 0, nodes_after = 0;
  int failures = 0;
};

// All corners of the variables' bounds plus random points (and the values
// next to the corners and zero). Returns false after reporting a failure.
bool CheckTree(const UOpPtr& original, const std::vector<Var>& vars, TreeGen& gen,
               FuzzStats& stats) {
  UOpPtr simplified = Simplify(original);
  Program before(original), after(simplified);
  ++stats.trees;
  stats.nodes_before += before.size();
  stats.nodes_after += after.size();
  std::vector<std::vector<int64_t>> points;
  size_t n = vars.size();
  for (size_t mask = 0; mask < (size_t{1} << n); ++mask) {
    std::vector<int64_t> p(n);
    for (size_t i = 0; i < n; ++i) p[i] = (mask >> i) & 1 ? vars[i].hi : vars[i].lo;
    points.push_back(p);
  }
  for (int k = 0; k < 24; ++k) {
    std::vector<int64_t> p(n);
    for (size_t i = 0; i < n; ++i) {
      const Var& v = vars[i];
      switch (gen.Uniform(0, 3)) {
        case 0:
          p[i] = std::min(v.hi, v.lo + gen.Uniform(0, 3));
          break;
        case 1:
          p[i] = std::max(v.lo, v.hi - gen.Uniform(0, 3));
          break;
        case 2:
          p[i] = std::clamp<int64_t>(gen.Uniform(-3, 3), v.lo, v.hi);
          break;
        default:
          p[i] = gen.Uniform(v.lo, v.hi);
      }
    }
    points.push_back(p);
  }
  for (const auto& p : points) {
    ++stats.samples;
    if (!before.Run(p).empty()) {
      ++stats.skipped;
      continue;
    }
    std::string where;
    for (size_t i = 0; i < n; ++i) absl::StrAppend(&where, "v", i, "=", p[i], " ");
    std::string err = after.Run(p);
    std::string bad;
    if (!err.empty()) {
      bad = "simplified tree fails: " + err;
    } else if (before.result() != after.result()) {
      bad = absl::StrCat("value ", Str(before.result()), " became ", Str(after.result()));
    } else if (std::string b = before.CheckBounds(); !b.empty()) {
      bad = "original node out of bounds: " + b;
    } else if (std::string b = after.CheckBounds(); !b.empty()) {
      bad = "simplified node out of bounds: " + b;
    }
    if (!bad.empty()) {
      ADD_FAILURE() << bad << "\nat " << where << "\noriginal:\n"
                    << original->ToString() << "simplified:\n"
                    << simplified->ToString();
      ++stats.failures;
      return false;
    }
  }
  return true;
}

void Report(const char* name, const FuzzStats& s, double seconds) {
  std::cout << name << ": " << s.trees << " trees, " << s.samples << " samples (" << s.skipped
            << " skipped: original overflows), nodes " << s.nodes_before << " -> " << s.nodes_after
            << ", " << seconds << " s\n";
}

TEST(SymbolicFuzz, RandomTreesMatchBruteForce) {
  TreeGen gen(0x5eed1234);
  FuzzStats stats;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < 10000 && stats.failures < 3; ++t) {
    int nvars = static_cast<int>(gen.Uniform(2, 3));
    std::vector<Var> vars = gen.MakeVars(nvars);
    std::vector<Var> divisors = gen.MakeDivisors(nvars);
    gen.SetVars(vars, divisors);
    UOpPtr tree =
        gen.Uniform(0, 4) == 0 ? gen.Cond(3) : gen.Int(static_cast<int>(gen.Uniform(2, 4)));
    std::vector<Var> all = vars;
    all.insert(all.end(), divisors.begin(), divisors.end());
    CheckTree(tree, all, gen, stats);
  }
  Report("random trees", stats,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_GT(stats.samples - stats.skipped, stats.samples / 2);
}

TEST(SymbolicFuzz, IndexExpressionsMatchBruteForce) {
  TreeGen gen(0xfeed5678);
  FuzzStats stats;
  PatternMatcher::EnableStats(true);
  Symbolic().ResetStats();
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < 10000 && stats.failures < 3; ++t) {
    int nvars = static_cast<int>(gen.Uniform(2, 3));
    std::vector<Var> vars = gen.MakeVars(nvars);
    gen.SetVars(vars, gen.MakeDivisors(nvars));
    CheckTree(gen.IndexExpr(), vars, gen, stats);
  }
  Report("index expressions", stats,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  PatternMatcher::EnableStats(false);
  std::vector<RuleStats> rules = Symbolic().Stats();
  std::sort(rules.begin(), rules.end(),
            [](const RuleStats& a, const RuleStats& b) { return a.rewrites > b.rewrites; });
  std::cout << "rule rewrites (tries) on index expressions:\n";
  for (const RuleStats& r : rules)
    if (r.rewrites > 0)
      std::cout << "  " << r.name << " " << r.rewrites << " (" << r.tries << ")\n";
  // The folders must actually fire on index math, not just stay correct.
  EXPECT_LT(stats.nodes_after, stats.nodes_before);
}

}  // namespace
}  // namespace uop

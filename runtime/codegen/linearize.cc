#include "runtime/codegen/linearize.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace uop {
namespace {

struct NodeInfo {
  uint64_t open = 0;    // loops (bit = position in the chain) the op is inside
  uint64_t closed = 0;  // loops whose end the op depends on
  int block = -1;       // chain position of its innermost loop, -1 = top level
};

}  // namespace

absl::StatusOr<std::vector<UOpPtr>> Linearize(const UOpPtr& sink) {
  std::vector<const UOp*> topo = sink->Toposort();

  // The loop chain: RANGEs ordered by loop id.
  std::vector<const UOp*> chain;
  for (const UOp* u : topo)
    if (u->op() == Op::kRange) chain.push_back(u);
  if (chain.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("Linearize: ", chain.size(), " loops, at most 64 are supported"));
  }
  std::sort(chain.begin(), chain.end(), [](const UOp* a, const UOp* b) {
    return a->arg().get<int64_t>() < b->arg().get<int64_t>();
  });
  absl::flat_hash_map<const UOp*, int> position;
  for (size_t i = 0; i < chain.size(); ++i) {
    if (i > 0 && chain[i]->arg() == chain[i - 1]->arg()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Linearize: two RANGEs share loop id ", chain[i]->arg().ToString()));
    }
    position[chain[i]] = static_cast<int>(i);
  }

  absl::flat_hash_map<const UOp*, NodeInfo> info;
  info.reserve(topo.size());
  for (const UOp* u : topo) {
    NodeInfo n;
    for (const UOpPtr& s : u->src()) {
      const NodeInfo& si = info[s.get()];
      if (s->op() == Op::kEndRange) {
        uint64_t bit = uint64_t{1} << position.at(s->src(0).get());
        n.open |= si.open & ~bit;
        n.closed |= si.closed | bit;
      } else {
        n.open |= si.open;
        n.closed |= si.closed;
      }
    }
    if (u->op() == Op::kRange) n.open |= uint64_t{1} << position.at(u);
    if (n.open & n.closed) {
      return absl::InvalidArgumentError(
          absl::StrCat("Linearize: ", u->ShortString(), " is inside a loop it also comes after"));
    }
    n.block = n.open ? 63 - std::countl_zero(n.open) : -1;
    info[u] = n;
  }

  // Bucket ops by block, keeping topological order. ENDRANGEs and the SINK
  // are placed by the emitter itself.
  std::vector<std::vector<const UOp*>> blocks(chain.size() + 1);
  absl::flat_hash_map<const UOp*, const UOp*> end_of;  // RANGE -> its ENDRANGE
  for (const UOp* u : topo) {
    if (u->op() == Op::kEndRange) {
      const UOp* r = u->src(0).get();
      if (end_of.count(r)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Linearize: loop ", r->arg().ToString(), " has two ENDRANGEs"));
      }
      end_of[r] = u;
      continue;
    }
    if (u == sink.get()) continue;
    blocks[info[u].block + 1].push_back(u);
  }

  std::vector<UOpPtr> out;
  out.reserve(topo.size() + chain.size());
  struct Emitter {
    const std::vector<const UOp*>& chain;
    const std::vector<std::vector<const UOp*>>& blocks;
    absl::flat_hash_map<const UOp*, NodeInfo>& info;
    absl::flat_hash_map<const UOp*, const UOp*>& end_of;
    std::vector<UOpPtr>& out;

    void Emit(int b) {
      int child = b + 1;
      bool has_child = child < static_cast<int>(chain.size());
      uint64_t child_bit = has_child ? uint64_t{1} << child : 0;
      const auto& ops = blocks[b + 1];
      for (const UOp* u : ops)
        if (!(info[u].closed & child_bit)) out.push_back(UOpPtr::FromBorrowed(u));
      if (has_child) {
        Emit(child);
        const UOp* range = chain[child];
        auto it = end_of.find(range);
        out.push_back(it != end_of.end() ? UOpPtr::FromBorrowed(it->second)
                                         : UOp::Create(Op::kEndRange, DType::Void(),
                                                       {UOpPtr::FromBorrowed(range)}));
      }
      for (const UOp* u : ops)
        if (info[u].closed & child_bit) out.push_back(UOpPtr::FromBorrowed(u));
    }
  };
  Emitter{chain, blocks, info, end_of, out}.Emit(-1);
  out.push_back(sink);
  return out;
}

}  // namespace uop

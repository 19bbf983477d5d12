#include "runtime/schedule/memory_planner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace uop {
namespace {

struct Lifetime {
  const UOp* buffer;
  int64_t nbytes;
  int arena;
  int first = -1;  // first writer
  int last = -1;   // last user
};

}  // namespace

int64_t MemoryPlan::arena_bytes() const {
  int64_t total = 0;
  for (const MemoryArena& a : arenas) total += a.size;
  return total;
}

absl::StatusOr<MemoryPlan> PlanMemory(const Schedule& schedule, const MemoryPlanOptions& options) {
  const int64_t align = options.alignment;
  if (align <= 0 || (align & (align - 1)) != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("PlanMemory: alignment ", align, " is not a power of two"));
  MemoryPlan plan;
  absl::flat_hash_map<const UOp*, int> index;  // intermediate BUFFER -> lifetimes slot
  std::vector<Lifetime> lives;
  for (const ScheduleBuffer& b : schedule.buffers) {
    if (b.role != BufferRole::kIntermediate) continue;
    const UOp* u = b.buffer.get();
    const std::string* device =
        u->num_srcs() == 1 ? u->src(0)->arg().get_if<std::string>() : nullptr;
    if (device == nullptr)
      return absl::InvalidArgumentError(
          absl::StrCat("PlanMemory: buffer without a DEVICE: ", u->ShortString()));
    int arena = -1;
    for (size_t a = 0; a < plan.arenas.size(); ++a)
      if (plan.arenas[a].device == *device) arena = static_cast<int>(a);
    if (arena < 0) {
      arena = static_cast<int>(plan.arenas.size());
      plan.arenas.push_back(MemoryArena{*device, 0});
    }
    const int64_t bytes = u->arg().get<BufferArg>().size * u->dtype().itemsize();
    const int64_t nbytes = (bytes + align - 1) / align * align;
    index[u] = static_cast<int>(lives.size());
    lives.push_back(Lifetime{u, nbytes, arena});
    plan.unplanned_bytes += nbytes;
  }

  const int num_items = static_cast<int>(schedule.items.size());
  for (int i = 0; i < num_items; ++i) {
    const ScheduleItem& item = schedule.items[i];
    for (size_t slot = 0; slot < item.bufs.size(); ++slot) {
      auto it = index.find(item.bufs[slot].get());
      if (it == index.end()) continue;
      Lifetime& l = lives[it->second];
      const bool writes = static_cast<int>(slot) < item.num_outputs;
      if (l.first < 0 && !writes)
        return absl::InvalidArgumentError(absl::StrCat("PlanMemory: item ", i, " reads ",
                                                       l.buffer->ShortString(),
                                                       " before any item writes it"));
      if (l.first < 0) l.first = i;
      l.last = i;
    }
  }

  // Peak: live bytes after each item's writes are placed, before its dead
  // inputs go.
  std::vector<int64_t> delta(num_items + 1, 0);
  for (const Lifetime& l : lives) {
    if (l.first < 0) continue;  // listed but unused
    delta[l.first] += l.nbytes;
    delta[l.last + 1] -= l.nbytes;
  }
  int64_t live = 0;
  for (int i = 0; i < num_items; ++i) plan.peak_bytes = std::max(plan.peak_bytes, live += delta[i]);

  // Greedy by size: largest first, each at the best-fitting gap between the
  // already placed buffers whose lifetimes overlap its own.
  std::vector<int> order;
  for (int l = 0; l < static_cast<int>(lives.size()); ++l)
    if (lives[l].first >= 0) order.push_back(l);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (lives[a].nbytes != lives[b].nbytes) return lives[a].nbytes > lives[b].nbytes;
    return lives[a].first < lives[b].first;
  });
  std::vector<int> placed;
  std::vector<int64_t> offset(lives.size(), 0);
  std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of conflicting buffers
  for (int l : order) {
    const Lifetime& me = lives[l];
    busy.clear();
    for (int o : placed) {
      const Lifetime& other = lives[o];
      if (other.arena == me.arena && other.first <= me.last && me.first <= other.last)
        busy.push_back({offset[o], offset[o] + other.nbytes});
    }
    std::sort(busy.begin(), busy.end());
    int64_t best = -1, best_gap = 0, cursor = 0;
    for (const auto& [begin, end] : busy) {
      const int64_t gap = begin - cursor;
      if (gap >= me.nbytes && (best < 0 || gap < best_gap)) best = cursor, best_gap = gap;
      cursor = std::max(cursor, end);
    }
    offset[l] = best >= 0 ? best : cursor;
    placed.push_back(l);
    MemoryArena& arena = plan.arenas[me.arena];
    arena.size = std::max(arena.size, offset[l] + me.nbytes);
    plan.placements[me.buffer->arg().get<BufferArg>().id] =
        BufferPlacement{me.arena, offset[l], me.nbytes, me.first, me.last};
  }
  return plan;
}

}  // namespace uop

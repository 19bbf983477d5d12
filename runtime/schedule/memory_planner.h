// Memory planner: places a schedule's intermediate buffers in one arena per
// device, reusing memory by lifetime.
//
// An intermediate (BufferRole::kIntermediate: made by the scheduler, not a
// SINK output, not an existing buffer or ASSIGN target) is live from the
// item that first writes it to the last item that reads it, in schedule
// order (inclusive: a kernel never writes over what it reads). Lifetimes
// are all known up front, so placement is offline, greedy by size (as in
// TFLite's arena planner): largest buffer first, each at the best-fitting
// gap (the smallest that fits, 64-byte aligned) among the already placed
// buffers whose lifetimes overlap its own, else above them. The arena then
// comes close to the peak live set, not the sum of all intermediates.
//
//   ASSIGN_OR_RETURN(Schedule s, CreateSchedule(sink));
//   ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(s));
//   const BufferPlacement& p = plan.placements.at(buffer_id);
//   // buffer_id lives at arenas[p.arena] + p.offset, p.nbytes long
#ifndef UOP_RUNTIME_SCHEDULE_MEMORY_PLANNER_H_
#define UOP_RUNTIME_SCHEDULE_MEMORY_PLANNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "runtime/schedule/schedule.h"

namespace uop {

struct BufferPlacement {
  int arena;       // index into MemoryPlan::arenas
  int64_t offset;  // bytes, a multiple of the alignment
  int64_t nbytes;  // the buffer's size rounded up to the alignment
  int first_item;  // lifetime in schedule item indices, inclusive
  int last_item;
};

struct MemoryArena {
  std::string device;
  int64_t size = 0;  // bytes
};

struct MemoryPlan {
  // BufferArg::id of each intermediate -> where it lives.
  absl::flat_hash_map<int64_t, BufferPlacement> placements;
  std::vector<MemoryArena> arenas;
  // Largest sum of live (aligned) intermediate bytes at any item, over all
  // devices: what a perfect packing would need.
  int64_t peak_bytes = 0;
  // Sum of all (aligned) intermediates: what one allocation each would need.
  int64_t unplanned_bytes = 0;
  // Sum of arena sizes: what this plan needs.
  int64_t arena_bytes() const;
};

struct MemoryPlanOptions {
  int64_t alignment = 64;  // bytes, a power of two
};

// InvalidArgument for a bad alignment or a schedule whose intermediate is
// read before it is written.
absl::StatusOr<MemoryPlan> PlanMemory(const Schedule& schedule,
                                      const MemoryPlanOptions& options = {});

}  // namespace uop

#endif  // UOP_RUNTIME_SCHEDULE_MEMORY_PLANNER_H_

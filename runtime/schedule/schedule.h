// The scheduler: turns a lazy tensor graph (docs/compiler.md "Tensor-level
// graph") into kernels (docs/compiler.md "Kernel AST") and copies, decides
// which tensors get buffers, and orders the work.
//
//   UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), {relu_out});
//   ASSIGN_OR_RETURN(Schedule s, CreateSchedule(sink));
//   for (const ScheduleItem& item : s.items) {
//     // item.ast: SINK(STORE(DEFINE_GLOBAL[0], VIEW, value)), slots = item.bufs
//   }
//   UOpPtr now = s.becomes.at(relu_out.get());   // RESHAPE(BUFFER) of the result
//
// The rules (which nodes get buffers, what fuses, how ASTs are built, how
// items are ordered) are specified in docs/scheduler.md. In short: SINK
// sources, CONTIGUOUS, COPY and ASSIGN get buffers; a reduce fuses with its
// elementwise inputs and with elementwise consumers across RESHAPE/PERMUTE;
// movement ops are ShapeTrackers on the loads; a reduce that cannot fuse
// forward is stored at the last node of its single-consumer chain; unsafe
// PADs realize their source; shared elementwise subtrees are recomputed
// unless large. Errors (bad shapes, movement args, devices, unsupported ops)
// are absl::Status values naming the node; a malformed graph never crashes.
//
// Thread safety: CreateSchedule is reentrant; the default buffer-id
// allocator is atomic.
#ifndef UOP_RUNTIME_SCHEDULE_SCHEDULE_H_
#define UOP_RUNTIME_SCHEDULE_SCHEDULE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/dtype/dtype.h"
#include "runtime/uop/uop.h"

namespace uop {

// One unit of work, in execution order.
struct ScheduleItem {
  enum class Kind : uint8_t {
    kKernel,  // run `ast` with `bufs` as its DEFINE_GLOBAL slots
    kCopy,    // copy all of bufs[1] into bufs[0] (same size and dtype, maybe another device)
  };
  Kind kind = Kind::kKernel;
  // kKernel: SINK(STORE(DEFINE_GLOBAL[0], VIEW(st), value)); kCopy: null.
  UOpPtr ast;
  // BUFFER UOps by slot: the output first, then the inputs in order of first
  // use. A buffer read and written (ASSIGN) or read twice has one slot.
  std::vector<UOpPtr> bufs;
  // Slots [0, num_outputs) are written.
  int num_outputs = 1;
  // The tensor-level node whose value this item stores (for messages/tests).
  UOpPtr root;
  // Items (indices into Schedule::items, all smaller) that must finish first.
  std::vector<int> deps;
};

// Who owns a buffer that items use.
enum class BufferRole : uint8_t {
  kExternal,      // existed before (an input BUFFER or an ASSIGN target): never planned
  kOutput,        // made by the scheduler for a SINK result: must outlive the schedule
  kIntermediate,  // made by the scheduler, dead after its last reader: memory-planned
};

struct ScheduleBuffer {
  UOpPtr buffer;  // the BUFFER UOp (dtype, BufferArg{id, size}, DEVICE)
  BufferRole role;
};

struct Schedule {
  std::vector<ScheduleItem> items;
  // Tensor node -> the tensor-level UOp that now stands for it: every SINK
  // source (and its realized base) and every ASSIGN, mapped to a view of the
  // buffer holding its value (RESHAPE(BUFFER) for a new buffer, the target
  // view for an ASSIGN). Pure views of existing buffers are left out.
  // Intermediates are not listed: their memory is reused (memory_planner.h).
  absl::flat_hash_map<const UOp*, UOpPtr> becomes;
  // Every buffer some item reads or writes, each once, in order of first use.
  std::vector<ScheduleBuffer> buffers;
  // The scheduled SINK, keeping the keys of `becomes` alive.
  UOpPtr sink;
};

struct ScheduleOptions {
  // Gives the id (BufferArg::id) of each buffer the scheduler creates, once
  // the schedule is final. Default: NextScheduledBufferId().
  std::function<int64_t(DType dtype, int64_t size, absl::string_view device)> new_buffer_id;
  // Device of computations that read no buffer (constants only).
  std::string default_device = "CPU";
  // When not empty, every DEVICE must be one of these (else InvalidArgument).
  std::vector<std::string> known_devices;
  // A shared elementwise subtree whose cost (one per op, 8 per
  // transcendental, see docs/scheduler.md) exceeds this is stored once
  // instead of being recomputed in each kernel that reads it.
  int max_recompute_cost = 64;
};

// Ids handed out by the default allocator start here, far above the ids the
// Tensor API's Storage table gives (which count from 1).
inline constexpr int64_t kScheduledBufferIdBase = int64_t{1} << 48;
// A fresh id >= kScheduledBufferIdBase (process-wide, atomic).
int64_t NextScheduledBufferId();

// Schedules the sources of `sink` (a SINK of tensor-level nodes).
absl::StatusOr<Schedule> CreateSchedule(const UOpPtr& sink, const ScheduleOptions& options = {});

}  // namespace uop

#endif  // UOP_RUNTIME_SCHEDULE_SCHEDULE_H_

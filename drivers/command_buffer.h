// CommandBuffer: a device-independent recording of queue work.
//
// Recorded once, submitted to a Queue (possibly many times: JIT replay). The
// host queue executes the commands in order on its own thread; GPU drivers
// translate them into their hardware packets. A CommandBuffer holds raw
// pointers: programs, buffers and signals must outlive every execution of it
// (Queue::Wait before destroying them).
//
//   auto cmds = std::make_shared<CommandBuffer>();
//   cmds->Wait(inputs_ready.get(), 1)
//       .Exec(conv.get(), {out, in, w}, {}, LaunchDims{2}, LaunchDims{})
//       .SignalValue(done.get(), 1);
//   RETURN_IF_ERROR(queue->Submit(cmds));
#ifndef UOP_DRIVERS_COMMAND_BUFFER_H_
#define UOP_DRIVERS_COMMAND_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "drivers/buffer.h"
#include "drivers/program.h"
#include "drivers/signal.h"

namespace uop {

struct ExecCommand {
  Program* program;
  absl::InlinedVector<DeviceBuffer*, 8> bufs;
  absl::InlinedVector<int64_t, 4> vars;
  LaunchDims global;
  LaunchDims local;
};

// Copies bytes between two buffers; both must belong to one allocator that
// supports CopyBetween, or both be host-visible.
struct CopyCommand {
  DeviceBuffer* dst;
  size_t dst_offset;
  const DeviceBuffer* src;
  size_t src_offset;
  size_t bytes;
};

// Blocks the queue until signal >= value; the timeout defaults to the queue's
// QueueOptions::wait_timeout. A timeout fails the queue.
struct WaitCommand {
  Signal* signal;
  uint64_t value;
  std::optional<absl::Duration> timeout;
};

// Sets signal to value once everything before it has completed.
struct SignalCommand {
  Signal* signal;
  uint64_t value;
};

using Command = std::variant<ExecCommand, CopyCommand, WaitCommand, SignalCommand>;

class CommandBuffer {
 public:
  CommandBuffer& Exec(Program* program, absl::Span<DeviceBuffer* const> bufs,
                      absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local);
  CommandBuffer& Copy(DeviceBuffer* dst, size_t dst_offset, const DeviceBuffer* src,
                      size_t src_offset, size_t bytes);
  CommandBuffer& Wait(Signal* signal, uint64_t value,
                      std::optional<absl::Duration> timeout = std::nullopt);
  CommandBuffer& SignalValue(Signal* signal, uint64_t value);

  const std::vector<Command>& commands() const { return commands_; }
  bool empty() const { return commands_.empty(); }

  // Checks every command's arguments (null pointers, launch signatures, copy
  // ranges, timeouts). Queues call it in Submit, so a bad recording is an
  // error for the submitter and never fails the queue.
  absl::Status Validate(absl::string_view queue) const;

 private:
  std::vector<Command> commands_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMAND_BUFFER_H_

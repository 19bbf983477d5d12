// Real-time scheduling for the loop: SCHED_FIFO priority, CPU pinning and
// locked memory, applied to threads by id. Each returns PermissionDenied
// with a reason a user can act on when the system does not allow it
// (uoprun then warns and runs without), and InvalidArgument for bad values.
//
//   for (pid_t tid : ProcessThreadIds()) RETURN_IF_ERROR(SetThreadAffinity(tid, {2, 3}));
//   absl::Status st = SetThreadRealtime(CurrentThreadId(), 50);   // may be PermissionDenied
#ifndef UOP_CLIENT_UOPRUN_REALTIME_H_
#define UOP_CLIENT_UOPRUN_REALTIME_H_

#include <sys/types.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::uoprun {

pid_t CurrentThreadId();
// Every thread of this process (from /proc/self/task).
std::vector<pid_t> ProcessThreadIds();

// SCHED_FIFO at `priority` (1..99) for thread `tid`.
absl::Status SetThreadRealtime(pid_t tid, int priority);
// The thread's scheduling policy is SCHED_FIFO (for tests and reports).
bool IsThreadRealtime(pid_t tid);
// Runs thread `tid` only on `cpus`.
absl::Status SetThreadAffinity(pid_t tid, const std::vector<int>& cpus);
// The CPUs thread `tid` may run on.
absl::StatusOr<std::vector<int>> ThreadAffinity(pid_t tid);
// A thread's scheduling policy, priority and CPUs, saved to be put back.
struct ThreadScheduling {
  pid_t tid = 0;
  int policy = 0;
  int priority = 0;
  std::vector<int> cpus;
};
absl::StatusOr<ThreadScheduling> SaveThreadScheduling(pid_t tid);
// Puts it back (lowering a priority and widening CPUs are always permitted).
absl::Status RestoreThreadScheduling(const ThreadScheduling& saved);

// mlockall(current and future): no page faults in the loop.
absl::Status LockAllMemory();

// "2,3,8-11" -> {2, 3, 8, 9, 10, 11}; InvalidArgument for anything else.
absl::StatusOr<std::vector<int>> ParseCpuList(absl::string_view list);

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_REALTIME_H_

#include "client/uoprun/realtime.h"

#include <dirent.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace uop::uoprun {

pid_t CurrentThreadId() { return static_cast<pid_t>(syscall(SYS_gettid)); }

std::vector<pid_t> ProcessThreadIds() {
  std::vector<pid_t> tids;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return {CurrentThreadId()};
  while (dirent* e = readdir(dir)) {
    int tid;
    if (absl::SimpleAtoi(e->d_name, &tid)) tids.push_back(tid);
  }
  closedir(dir);
  return tids;
}

absl::Status SetThreadRealtime(pid_t tid, int priority) {
  const int lo = sched_get_priority_min(SCHED_FIFO), hi = sched_get_priority_max(SCHED_FIFO);
  if (priority < lo || priority > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("real-time priority ", priority, " is outside ", lo, "..", hi));
  }
  sched_param p{};
  p.sched_priority = priority;
  if (sched_setscheduler(tid, SCHED_FIFO, &p) != 0) {
    const int err = errno;
    std::string msg = absl::StrCat("SCHED_FIFO priority ", priority, " for thread ", tid, ": ",
                                   std::strerror(err));
    if (err == EPERM) {
      return absl::PermissionDeniedError(
          absl::StrCat(msg, " (needs CAP_SYS_NICE or an rtprio limit: `ulimit -r ", priority,
                       "`, or limits.conf)"));
    }
    return absl::InternalError(msg);
  }
  return absl::OkStatus();
}

bool IsThreadRealtime(pid_t tid) { return sched_getscheduler(tid) == SCHED_FIFO; }

absl::Status SetThreadAffinity(pid_t tid, const std::vector<int>& cpus) {
  if (cpus.empty()) return absl::InvalidArgumentError("CPU list is empty");
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) {
    if (c < 0 || c >= CPU_SETSIZE) {
      return absl::InvalidArgumentError(absl::StrCat("CPU ", c, " is out of range"));
    }
    CPU_SET(c, &set);
  }
  if (sched_setaffinity(tid, sizeof(set), &set) != 0) {
    const int err = errno;
    std::string msg = absl::StrCat("pinning thread ", tid, " to CPUs ", absl::StrJoin(cpus, ","),
                                   ": ", std::strerror(err));
    if (err == EINVAL) {
      return absl::InvalidArgumentError(
          absl::StrCat(msg, " (none of them is online or allowed here)"));
    }
    if (err == EPERM) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> ThreadAffinity(pid_t tid) {
  cpu_set_t set;
  if (sched_getaffinity(tid, sizeof(set), &set) != 0) {
    return absl::InternalError(absl::StrCat("sched_getaffinity: ", std::strerror(errno)));
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

absl::StatusOr<ThreadScheduling> SaveThreadScheduling(pid_t tid) {
  ThreadScheduling s;
  s.tid = tid;
  s.policy = sched_getscheduler(tid);
  sched_param p{};
  if (s.policy < 0 || sched_getparam(tid, &p) != 0) {
    return absl::InternalError(
        absl::StrCat("scheduling of thread ", tid, ": ", std::strerror(errno)));
  }
  s.priority = p.sched_priority;
  absl::StatusOr<std::vector<int>> cpus = ThreadAffinity(tid);
  if (!cpus.ok()) return cpus.status();
  s.cpus = std::move(*cpus);
  return s;
}

absl::Status RestoreThreadScheduling(const ThreadScheduling& saved) {
  sched_param p{};
  p.sched_priority = saved.priority;
  if (sched_setscheduler(saved.tid, saved.policy, &p) != 0) {
    return absl::InternalError(
        absl::StrCat("restoring scheduling of thread ", saved.tid, ": ", std::strerror(errno)));
  }
  return SetThreadAffinity(saved.tid, saved.cpus);
}

absl::Status LockAllMemory() {
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    const int err = errno;
    std::string msg = absl::StrCat("mlockall: ", std::strerror(err));
    if (err == EPERM || err == ENOMEM) {
      return absl::PermissionDeniedError(
          absl::StrCat(msg, " (needs CAP_IPC_LOCK or a larger memlock limit: `ulimit -l`)"));
    }
    return absl::InternalError(msg);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> ParseCpuList(absl::string_view list) {
  std::vector<int> cpus;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    std::vector<absl::string_view> range = absl::StrSplit(part, absl::MaxSplits('-', 1));
    int lo, hi;
    if (!absl::SimpleAtoi(range[0], &lo) ||
        !absl::SimpleAtoi(range.size() == 2 ? range[1] : range[0], &hi) || lo < 0 || hi < lo ||
        hi >= CPU_SETSIZE) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad CPU list '", list, "' (expected e.g. 2,3 or 4-7)"));
    }
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  return cpus;
}

}  // namespace uop::uoprun

#include "client/uoprun/runner.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/uoprun/mapped_file.h"
#include "client/uoprun/realtime.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"

namespace uop::uoprun {
namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void SleepUntilNs(int64_t t, const std::atomic<bool>& stop) {
  timespec ts{static_cast<time_t>(t / 1000000000), static_cast<long>(t % 1000000000)};
  // EINTR (a signal, e.g. SIGINT asking to stop): sleep again unless stopping.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    if (stop.load(std::memory_order_relaxed)) return;
  }
}

void DefaultWarn(const std::string& msg) {
  std::fprintf(stderr, "uoprun: warning: %s\n", msg.c_str());
}

// Moves `t` off the CPU this thread runs on, if the process may use another:
// the scheduler tends to start a new thread beside its creator, where it
// would wait for it instead of running alongside (measured on 2 cores: half
// the loads ran the checksum after the rest, 1.5 instead of 0.95 ms).
void AvoidThisCpu(std::thread& t) {
  cpu_set_t allowed;
  const int here = sched_getcpu();
  if (here < 0 || sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return;
  if (CPU_COUNT(&allowed) < 2 || !CPU_ISSET(here, &allowed)) return;
  CPU_CLR(here, &allowed);
  pthread_setaffinity_np(t.native_handle(), sizeof(allowed), &allowed);  // a hint: errors ignored
}

}  // namespace

// Checks the running step a few times per limit; a step over the limit is
// reported once. Writes with write(2) from a stack buffer: nothing allocates
// while the loop runs.
class Runner::Watchdog {
 public:
  Watchdog(const std::atomic<int64_t>& started, int64_t limit_ns, bool abort)
      : started_(started), limit_ns_(limit_ns), abort_(abort) {
    std::unique_lock<std::mutex> lock(mu_);
    thread_ = std::thread([this] { Loop(); });
    cv_.wait(lock, [this] { return tid_ != 0; });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  pid_t tid() const { return tid_; }
  int64_t fires() const { return fires_.load(); }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    tid_ = CurrentThreadId();
    cv_.notify_all();
    const auto check = std::chrono::nanoseconds(std::max<int64_t>(limit_ns_ / 4, 100000));
    int64_t reported = 0;
    while (!cv_.wait_for(lock, check, [this] { return done_; })) {
      const int64_t s = started_.load(std::memory_order_relaxed);
      if (s == 0 || s == reported) continue;
      const int64_t running = NowNs() - s;
      if (running <= limit_ns_) continue;
      reported = s;
      fires_.fetch_add(1);
      char buf[200];
      const int n = std::snprintf(
          buf, sizeof(buf), "uoprun: watchdog: a step has run for %.1f ms (limit %.1f ms)%s\n",
          running / 1e6, limit_ns_ / 1e6, abort_ ? "; exiting" : "");
      if (n > 0) (void)!write(2, buf, static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
      if (abort_) _exit(kWatchdogExitCode);
    }
  }

  const std::atomic<int64_t>& started_;
  const int64_t limit_ns_;
  const bool abort_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  pid_t tid_ = 0;
  std::atomic<int64_t> fires_{0};
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<Runner>> Runner::Create(const Artifact& artifact, Device& device) {
  return Create(artifact, device, [] { return absl::OkStatus(); });
}

absl::StatusOr<std::unique_ptr<Runner>> Runner::Create(const Artifact& artifact, Device& device,
                                                       absl::FunctionRef<absl::Status()> gate) {
  std::unique_ptr<Runner> r(new Runner());
  ASSIGN_OR_RETURN(r->loaded_, LoadedArtifact::Load(artifact, device, gate));
  const LoadedArtifact& l = *r->loaded_;
  // Host staging exists only where the device memory is not host-visible.
  for (size_t i = 0; i < artifact.inputs.size(); ++i) {
    DeviceBuffer* b = l.input(static_cast<int>(i));
    const bool staged = b->host_ptr() == nullptr;
    r->input_staged_.push_back(staged);
    if (staged) {
      r->staging_.emplace_back(b->size());
      r->inputs_.push_back(absl::MakeSpan(r->staging_.back()));
    } else {
      r->inputs_.push_back({static_cast<uint8_t*>(b->host_ptr()), b->size()});
    }
  }
  for (size_t i = 0; i < artifact.outputs.size(); ++i) {
    DeviceBuffer* b = l.output(static_cast<int>(i));
    const bool staged = b->host_ptr() == nullptr;
    r->output_staged_.push_back(staged);
    if (staged) {
      r->staging_.emplace_back(b->size());
      r->outputs_.push_back(absl::MakeSpan(r->staging_.back()));
    } else {
      r->outputs_.push_back({static_cast<uint8_t*>(b->host_ptr()), b->size()});
    }
  }
  return r;
}

absl::StatusOr<std::unique_ptr<Runner>> Runner::Open(const std::string& path,
                                                     const std::string& device) {
  auto named = [&path](const absl::Status& st) {
    return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  };
  ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path));
  const absl::string_view bytes = file->bytes();
  absl::StatusOr<absl::string_view> payload = Artifact::CheckHeader(bytes);
  if (!payload.ok()) return named(payload.status());
  // The checksum of the whole file, the largest single cost of a load, runs
  // on a second thread while this one parses (safe on any bytes), creates
  // the device and copies the weights. Kernels reach the device only after
  // it matched (the gate), and a mismatch is the error reported whatever
  // else failed: it is the cause.
  absl::Status checksum;
  std::thread checker([&checksum, bytes] { checksum = Artifact::CheckChecksum(bytes); });
  AvoidThisCpu(checker);
  bool joined = false;
  auto wait = [&]() -> absl::Status {
    if (!joined) checker.join();
    joined = true;
    return checksum;
  };
  absl::StatusOr<Artifact> a = Artifact::ParsePayload(*payload, file);
  absl::StatusOr<Device*> d =
      a.ok() ? DeviceRegistry::Global().Get(device) : absl::StatusOr<Device*>(nullptr);
  absl::StatusOr<std::unique_ptr<Runner>> r = !a.ok()   ? a.status()
                                              : !d.ok() ? d.status()
                                                        : Create(*a, **d, wait);
  if (absl::Status st = wait(); !st.ok()) return named(st);
  if (!a.ok()) return named(a.status());
  if (!d.ok()) return d.status();
  if (!r.ok()) return named(r.status());
  return r;
}

Runner::~Runner() = default;

absl::StatusOr<int> Runner::InputIndex(const std::string& name) const {
  std::vector<std::string> names;
  for (size_t i = 0; i < artifact().inputs.size(); ++i) {
    if (artifact().inputs[i].name == name) return static_cast<int>(i);
    names.push_back(artifact().inputs[i].name);
  }
  return absl::NotFoundError(
      absl::StrCat("no input '", name, "' (inputs: ", absl::StrJoin(names, ", "), ")"));
}

absl::StatusOr<int> Runner::OutputIndex(const std::string& name) const {
  std::vector<std::string> names;
  for (size_t i = 0; i < artifact().outputs.size(); ++i) {
    if (artifact().outputs[i].name == name) return static_cast<int>(i);
    names.push_back(artifact().outputs[i].name);
  }
  return absl::NotFoundError(
      absl::StrCat("no output '", name, "' (outputs: ", absl::StrJoin(names, ", "), ")"));
}

absl::Status Runner::BindInput(int i, void* data, size_t bytes) {
  if (i < 0 || i >= num_inputs()) {
    return absl::InvalidArgumentError(absl::StrCat("no input ", i));
  }
  const std::string& name = artifact().inputs[i].name;
  if (reinterpret_cast<uintptr_t>(data) % kMinBufferAlignment != 0) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name, "': bound memory is not ",
                                                   kMinBufferAlignment, "-byte aligned"));
  }
  if (input_staged_[i]) {
    return absl::FailedPreconditionError(
        absl::StrCat("input '", name, "': device memory is not host-visible; write input(", i,
                     ") instead of binding memory"));
  }
  RETURN_IF_ERROR(loaded_->BindInputMemory(i, data, bytes));
  inputs_[i] = {static_cast<uint8_t*>(data), loaded_->input(i)->size()};
  return absl::OkStatus();
}

absl::Status Runner::Step() {
  for (int i = 0; i < num_inputs(); ++i) {
    if (input_staged_[i]) RETURN_IF_ERROR(loaded_->SetInput(i, inputs_[i]));
  }
  RETURN_IF_ERROR(loaded_->Run());
  for (int i = 0; i < num_outputs(); ++i) {
    if (!output_staged_[i]) continue;
    DeviceBuffer* b = loaded_->output(i);
    RETURN_IF_ERROR(b->owner()->CopyOut(*b, 0, outputs_[i]));
  }
  return absl::OkStatus();
}

std::vector<ThreadScheduling> Runner::ApplyScheduling(const LoopOptions& o, pid_t watchdog_tid) {
  std::vector<ThreadScheduling> saved;
  if (o.cpus.empty() && o.rt_priority == 0) return saved;
  auto warn = o.warn ? o.warn : DefaultWarn;
  const std::vector<pid_t> tids = ProcessThreadIds();
  for (pid_t tid : tids) {
    if (absl::StatusOr<ThreadScheduling> s = SaveThreadScheduling(tid); s.ok()) {
      saved.push_back(std::move(*s));
    }
  }
  if (!o.cpus.empty()) {
    for (pid_t tid : tids) {
      absl::Status st = SetThreadAffinity(tid, o.cpus);
      if (!st.ok()) {
        warn(absl::StrCat(st.message(), "; running unpinned"));
        break;
      }
    }
  }
  if (o.rt_priority > 0) {
    if (absl::Status st = LockAllMemory(); !st.ok()) warn(std::string(st.message()));
    for (pid_t tid : tids) {
      // The watchdog outranks the loop, so it can act on a step that spins.
      const int prio = tid == watchdog_tid ? std::min(o.rt_priority + 1, 99) : o.rt_priority;
      absl::Status st = SetThreadRealtime(tid, prio);
      if (!st.ok()) {
        warn(absl::StrCat(st.message(), "; running with normal scheduling"));
        break;
      }
    }
  }
  return saved;
}

absl::StatusOr<LoopStats> Runner::Run(const LoopOptions& o) {
  if (!(o.hz > 0) || o.hz > 1e6) {
    return absl::InvalidArgumentError(absl::StrCat("rate ", o.hz, " Hz is out of range (0, 1e6]"));
  }
  if (o.iterations < 0 || o.warmup_steps < 0 || o.max_samples <= 0) {
    return absl::InvalidArgumentError("iterations, warm-up steps and samples must be >= 0");
  }
  if (o.rt_priority < 0 || o.rt_priority > 99) {
    return absl::InvalidArgumentError(
        absl::StrCat("real-time priority ", o.rt_priority, " is outside 1..99"));
  }
  const int64_t period = static_cast<int64_t>(1e9 / o.hz);
  const int64_t deadline =
      o.deadline > absl::ZeroDuration() ? absl::ToInt64Nanoseconds(o.deadline) : period;
  LoopRecorder rec(o.iterations > 0 ? std::min(o.iterations, o.max_samples) : o.max_samples,
                   deadline);
  std::unique_ptr<Watchdog> watchdog;
  if (o.watchdog > absl::ZeroDuration()) {
    watchdog = std::make_unique<Watchdog>(step_started_ns_, absl::ToInt64Nanoseconds(o.watchdog),
                                          o.watchdog_abort);
  }
  const std::vector<ThreadScheduling> saved = ApplyScheduling(o, watchdog ? watchdog->tid() : 0);
  absl::Cleanup restore = [&saved] {
    for (const ThreadScheduling& s : saved) RestoreThreadScheduling(s).IgnoreError();
  };
  for (int w = 0; w < o.warmup_steps; ++w) RETURN_IF_ERROR(Step());

  // The loop: no allocation from here to its end.
  const int64_t t0 = NowNs();
  int64_t scheduled = t0;
  absl::Status error;
  for (int64_t k = 0; o.iterations == 0 || k < o.iterations; ++k) {
    SleepUntilNs(scheduled, stop_);
    if (stop_.load(std::memory_order_relaxed)) break;
    const int64_t started = NowNs();
    step_started_ns_.store(started, std::memory_order_relaxed);
    error = Step();
    const int64_t finished = NowNs();
    step_started_ns_.store(0, std::memory_order_relaxed);
    rec.Record(scheduled, started, finished);
    if (!error.ok()) break;
    if (o.after_step) o.after_step(k);
    scheduled += period;
    if (finished >= scheduled) {
      // Overran into later periods: skip them and keep the phase.
      const int64_t behind = (finished - scheduled) / period + 1;
      rec.RecordSkipped(behind);
      scheduled += behind * period;
    }
  }
  const double seconds = (NowNs() - t0) / 1e9;
  stop_.store(false, std::memory_order_relaxed);  // a later Run starts afresh
  RETURN_IF_ERROR(error);
  LoopStats s = rec.Summarize();
  s.hz = o.hz;
  s.seconds = seconds;
  s.watchdog_fires = watchdog ? watchdog->fires() : 0;
  return s;
}

}  // namespace uop::uoprun

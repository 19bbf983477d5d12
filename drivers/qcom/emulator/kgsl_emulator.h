// KgslEmulator: a model of the KGSL kernel driver and an Adreno 6xx GPU
// behind /dev/kgsl-3d0, as an EmulatedNode for EmulatedKernelIo.
//
// It implements the ioctls the QCOM driver uses with their kernel semantics
// and argument checks (sizes, ids, flags; EINVAL/ENOTTY/ENOENT/ENOMEM/
// ETIMEDOUT/EDEADLK as KGSL returns them):
//   DEVICE_GETPROPERTY(DEVICE_INFO), SETPROPERTY(PWR_CONSTRAINT),
//   DRAWCTXT_CREATE/DESTROY, GPUOBJ_ALLOC/FREE/INFO, mmap of an object at
//   id << 12 (with USE_CPU_MAP the GPU address is the CPU address, assigned
//   at mmap), GPU_COMMAND (indirect buffers; returns the context's next
//   timestamp), CMDSTREAM_READTIMESTAMP_CTXTID and
//   DEVICE_WAITTIMESTAMP_CTXTID (sleeps on a condition variable until the
//   timestamp retires or the millisecond timeout passes: ETIMEDOUT).
// A GPU thread executes submissions in order through AdrenoCp and retires
// their timestamps. A GPU fault invalidates the context: its waits and
// submissions fail with EDEADLK, and fault() says what happened.
//
// For tests that need control over timing (the wait fuzzer): Pause/Resume
// hold the GPU before its next submission, and set_latency makes every
// submission take a random time in [min, max] before it retires.
//
//   auto kgsl = std::make_shared<KgslEmulator>(KgslEmulator::Options{});
//   io->AddNode("/dev/kgsl-3d0", kgsl);
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_QCOM_EMULATOR_KGSL_EMULATOR_H_
#define UOP_DRIVERS_QCOM_EMULATOR_KGSL_EMULATOR_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "drivers/common/emu_memory.h"
#include "drivers/common/emulated_kernel_io.h"
#include "drivers/common/host_twin.h"
#include "drivers/qcom/emulator/adreno_cp.h"

namespace uop {

class KgslEmulator final : public EmulatedNode {
 public:
  struct Options {
    uint32_t chip_id = 0x06030001;  // Adreno 630v2 (core 6, major 3)
    uint32_t gpu_id = 630;
    uint64_t memory_bytes = uint64_t{2} << 30;
    uint32_t seed = 1;
  };
  struct Stats {
    uint64_t submissions = 0;
    uint64_t retired = 0;
    AdrenoCpStats cp;
  };

  explicit KgslEmulator(const Options& options);
  ~KgslEmulator() override;

  int OnOpen(int fd, int flags) override;
  void OnClose(int fd) override;
  int OnIoctl(int fd, unsigned long request, void* arg) override;
  int OnMmap(int fd, void* addr, size_t length, int prot, int flags, uint64_t offset,
             void** out) override;

  void Pause();
  void Resume();
  void set_latency(absl::Duration min, absl::Duration max);
  // The first GPU fault (empty while none).
  std::string fault() const;
  Stats stats() const;
  EmuMemory& memory() { return memory_; }

 private:
  struct Context {
    uint32_t queued = 0;
    uint32_t retired = 0;
    bool faulted = false;
    bool destroyed = false;
  };
  struct Submission {
    uint32_t context;
    uint32_t timestamp;
    std::vector<std::pair<uint64_t, uint64_t>> ibs;  // gpu address, bytes
  };

  int GetProperty(void* arg);
  int SetProperty(void* arg);
  int CreateContext(void* arg);
  int DestroyContext(void* arg);
  int Alloc(void* arg);
  int Free(void* arg);
  int Info(void* arg);
  int GpuCommand(void* arg);
  int ReadTimestamp(void* arg);
  int WaitTimestamp(void* arg);
  void GpuLoop();

  const Options options_;
  EmuMemory memory_;
  HostTwinCache twins_;
  AdrenoCp cp_;  // GPU thread only

  mutable std::mutex mu_;
  std::condition_variable gpu_cv_;     // work arrived, resumed, or stopping
  std::condition_variable retire_cv_;  // a timestamp retired or a context faulted
  // Guarded by mu_:
  std::map<uint32_t, Context> contexts_;
  uint32_t next_context_ = 1;
  std::map<uint32_t, uint64_t> objects_;  // KGSL object id -> EmuMemory Bo id
  std::map<uint32_t, bool> cpu_map_;      // object id -> USE_CPU_MAP
  uint32_t next_object_ = 1;
  uint64_t next_gpu_va_ = uint64_t{1} << 40;  // for objects without USE_CPU_MAP
  std::deque<Submission> pending_;
  bool paused_ = false;
  bool stop_ = false;
  absl::Duration latency_min_ = absl::ZeroDuration(), latency_max_ = absl::ZeroDuration();
  std::mt19937 rng_;
  std::string fault_;
  Stats stats_;
  std::thread gpu_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_EMULATOR_KGSL_EMULATOR_H_

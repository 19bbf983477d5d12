// KfdEmulator: a model of the amdgpu/KFD kernel driver and an AMD GPU behind
// /dev/kfd, the render node and the KFD topology in sysfs, for
// EmulatedKernelIo.
//
// Ioctls (with KFD's argument checks and errno): GET_VERSION, ACQUIRE_VM
// (the fd must be the emulated render node), RUNTIME_ENABLE, ALLOC/FREE/
// MAP/UNMAP_MEMORY_OF_GPU (VRAM or GTT at the caller's address; VRAM is
// CPU-mappable only with the PUBLIC flag), CREATE/DESTROY_QUEUE (AQL compute
// and SDMA), CREATE/DESTROY/SET/RESET_EVENT and WAIT_EVENTS (a condition
// variable, bounded by the millisecond timeout; signal events post to the
// caller's event page; memory-fault events carry the faulting address).
// mmap: the render node maps an allocation at its own address (MAP_FIXED);
// /dev/kfd maps the doorbell page. A GPU thread runs the queues through
// AmdCp; since doorbells are plain memory here, it checks them every
// kIdlePoll when idle (the device's latency, not a driver's sleep).
//
// Test hooks: Pause/Resume and set_latency (per AQL packet) shape timing;
// Unplug makes the device vanish: every CPU mapping of VRAM reads all 0xFF
// from then on and the queues stop, as on a surprise removal.
//
//   auto kfd = std::make_shared<KfdEmulator>(KfdEmulator::Options{});
//   kfd->Install(*io);   // /dev/kfd, /dev/dri/renderD128, topology
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_AM_EMULATOR_KFD_EMULATOR_H_
#define UOP_DRIVERS_AM_EMULATOR_KFD_EMULATOR_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "drivers/am/abi/kfd.h"
#include "drivers/am/emulator/amd_cp.h"
#include "drivers/common/emu_memory.h"
#include "drivers/common/emulated_kernel_io.h"
#include "drivers/common/host_twin.h"

namespace uop {

class KfdEmulator {
 public:
  struct Options {
    uint32_t gpu_id = 0xB0A7;
    uint64_t gfx_target_version = 110000;  // gfx1100
    uint32_t device_id = 0x744C;
    uint32_t compute_units = 48;
    uint64_t vram_bytes = uint64_t{2} << 30;
    uint64_t gtt_bytes = uint64_t{2} << 30;
    uint32_t render_minor = 128;
    uint32_t kfd_minor = 14;
    uint32_t seed = 1;
  };
  static constexpr absl::Duration kIdlePoll = absl::Microseconds(100);

  explicit KfdEmulator(const Options& options);
  ~KfdEmulator();

  // Adds /dev/kfd, the render node and the sysfs topology to `io`.
  void Install(EmulatedKernelIo& io);

  void Pause();
  void Resume();
  void set_latency(absl::Duration min, absl::Duration max);
  void Unplug();
  std::string fault() const;
  AmdCpStats stats() const;
  EmuMemory& memory() { return memory_; }
  const Options& options() const { return options_; }

 private:
  class KfdNode;
  class RenderNode;
  struct Allocation {
    std::shared_ptr<EmuMemory::Bo> bo;
    uint64_t va = 0;
    uint32_t flags = 0;
    uint64_t mmap_offset = 0;
  };
  struct Event {
    uint32_t type = 0;
    bool auto_reset = true;
    bool signaled = false;
    uint64_t fault_va = 0;
  };
  struct Queue {
    AmdQueueState state;
    std::vector<std::shared_ptr<EmuMemory::Bo>> holds;  // ring and pointers stay alive
  };

  int Ioctl(unsigned long request, void* arg);
  int Alloc(void* arg);
  int CreateQueue(void* arg);
  int CreateEvent(void* arg);
  int WaitEvents(void* arg);
  int MmapRender(void* addr, size_t length, int prot, int flags, uint64_t offset, void** out);
  int MmapKfd(void* addr, size_t length, int prot, int flags, uint64_t offset, void** out);
  void SignalEvent(uint32_t id);                                         // mu_ held
  void FaultQueue(uint32_t id, const absl::Status& fault, uint64_t va);  // mu_ held
  void GpuLoop();

  const Options options_;
  EmuMemory memory_;
  const EmuMemoryAddressSpace address_space_{&memory_, kfd::kAllocExecutable};
  HostTwinCache twins_;
  std::shared_ptr<KfdNode> kfd_node_;
  std::shared_ptr<RenderNode> render_node_;
  std::shared_ptr<EmuMemory::Bo> doorbells_;

  mutable std::mutex mu_;
  std::condition_variable gpu_cv_;    // queues changed, resumed, stopping
  std::condition_variable event_cv_;  // an event was signaled
  // Guarded by mu_:
  std::set<int> render_fds_;
  bool vm_acquired_ = false;
  std::map<uint64_t, Allocation> allocations_;  // by handle
  uint64_t next_handle_ = 1;
  std::map<uint32_t, Event> events_;
  uint32_t next_event_ = 1, next_slot_ = 0;
  std::shared_ptr<EmuMemory::Bo> event_page_;
  std::map<uint32_t, Queue> queues_;
  uint32_t next_queue_ = 1;
  std::vector<std::pair<void*, size_t>> vram_user_maps_;
  bool paused_ = false, unplugged_ = false, stop_ = false;
  absl::Duration latency_min_ = absl::ZeroDuration(), latency_max_ = absl::ZeroDuration();
  std::mt19937 rng_;
  std::string fault_;
  std::unique_ptr<AmdCp> cp_;  // GPU thread only
  std::thread gpu_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_KFD_EMULATOR_H_

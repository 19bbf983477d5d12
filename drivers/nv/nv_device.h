// NvDevice: an NVIDIA Hopper GPU driven through the kernel driver's own
// interfaces (/dev/nvidiactl, /dev/nvidia<N>, /dev/nvidia-uvm), without
// libcuda ("NV:<i>").
//
// Pieces: NvRm/NvUvm (nv_rm.h: the RM client and UVM), NvVmm + NvAllocator
// (nv_memory.h: video and pinned memory at fixed GPU addresses), NvProgram
// (nv_program.h: cubins from NVRTC uploaded with a QMD template), NvEngine
// (nv_queue.h: GPFIFO channels with pushbuffers, a semaphore timeline and
// interrupt-driven waits) under DeviceQueue for Queues, HostSignal as the
// Signal. Program::Run and the allocator's copies use the device's own
// engine directly (no thread hop): submit, then wait on the semaphore,
// bounded by Options::run_timeout.
//
// Kernels are the CUDA backend's: language "cuda", compiled by NVRTC for
// the GPU's architecture (sm_90a on an H100) into the packed cubin format
// of drivers/cuda/cuda_binary.h, so the kernel cache is shared with CUDA.
// The description reads "<GPU name> (sm_90, <n> SMs, ..., NV direct)" so
// the CUDA renderer finds the architecture.
//
//   ASSIGN_OR_RETURN(Device* gpu, DeviceRegistry::Global().Get("NV"));
//
// Registered as backend "NV": one device per GPU when /dev/nvidiactl and
// /dev/nvidia-uvm open and NVRTC loads; none otherwise. The emulated GPU
// (emulator/) is "NV_EMU".
#ifndef UOP_DRIVERS_NV_NV_DEVICE_H_
#define UOP_DRIVERS_NV_NV_DEVICE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "drivers/common/kernel_io.h"
#include "drivers/device.h"
#include "drivers/nv/nv_memory.h"
#include "drivers/nv/nv_queue.h"
#include "drivers/nv/nv_rm.h"

namespace uop {

class NvProgram;

// What the RM says about the GPU.
struct NvGpuInfo {
  std::string name;            // "NVIDIA H100 80GB HBM3"
  std::string driver_version;  // "580.159.04"
  int sm = 0;                  // 90
  int gpcs = 0, tpcs_per_gpc = 0, sms_per_tpc = 0, max_warps_per_sm = 0;
  int sm_count = 0;
  uint64_t memory_bytes = 0;
  uint32_t gpfifo_class = 0, compute_class = 0, dma_class = 0, usermode_class = 0;
};

class NvDevice final : public Device {
 public:
  struct Options {
    KernelIo* io = nullptr;            // default: KernelIo::Real()
    std::shared_ptr<void> keep_alive;  // e.g. the emulated seam and its models
    std::string ctl_path = "/dev/nvidiactl";
    std::string uvm_path = "/dev/nvidia-uvm";
    std::string node_prefix = "/dev/nvidia";  // + minor number
    int index = 0;                            // among the driver's valid cards
    std::string name = "NV:0";
    std::unique_ptr<Compiler> compiler;  // default: NVRTC for the GPU's arch
    NvAllocator::Options memory;
    absl::Duration run_timeout = absl::Seconds(60);
    absl::Duration wait_timeout = absl::Seconds(30);  // ring space, copies
    size_t ring_bytes = size_t{4} << 20;              // pushbuffers + launch data per engine
    uint32_t gpfifo_entries = 1024;
    // How long a host wait spins reading the semaphore before it sleeps on
    // the GPU's interrupt: short batches finish within it, so their waits
    // cost no interrupt and no wake-up (env UOP_NV_SPIN_US).
    absl::Duration spin = absl::Microseconds(200);
    // How consecutive launches of a batch are kept from overlapping (grids
    // of one channel otherwise run at once), env UOP_NV_LAUNCH_ORDER:
    //  kChain ("chain"): each QMD names the next as its dependent, so the
    //    GPU schedules it when the previous grid completed; the last QMD's
    //    release semaphore bumps the engine's chain counter, which the
    //    segment's end acquires before it releases the timeline. No host
    //    wait-for-idle between launches.
    //  kWfi ("wfi"): a host wait-for-idle between launches (the fallback).
    //  kNone ("none"): neither; dependent kernels race (a measurement only).
    enum class LaunchOrder { kChain, kWfi, kNone };
    LaunchOrder launch_order = LaunchOrder::kChain;
    // Ask the RM to boost the GPU's clocks to the maximum while the device
    // lives (NV2080_CTRL_CMD_PERF_BOOST, as CUDA does); a refusal is not an
    // error (perf_boosted() says), env UOP_NV_PERF_BOOST=0 turns it off.
    bool perf_boost = true;
  };

  // Number of GPUs the kernel driver offers on this machine (0 without it).
  static int Count();
  static absl::StatusOr<std::unique_ptr<NvDevice>> Create(Options options);
  ~NvDevice() override;

  const DeviceInfo& info() const override { return info_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc& desc,
                                                       absl::string_view binary) override;
  absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view name,
                                                     const QueueOptions& options = {}) override;
  absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view name,
                                                       uint64_t initial = 0) override;

  // --- internals for programs, engines and tests ---
  const NvGpuInfo& gpu() const { return gpu_; }
  const Options& options() const { return options_; }
  NvRm& rm() { return *rm_; }
  NvUvm& uvm() { return *uvm_; }
  NvVmm& vmm() { return *vmm_; }
  NvAllocator& nv_allocator() { return *allocator_; }
  nvrm::Handle device_handle() const { return device_; }
  nvrm::Handle subdevice_handle() const { return subdevice_; }
  nvrm::Handle vaspace_handle() const { return vaspace_; }
  const nvrm::NvUuid& uuid() const { return uuid_; }
  volatile uint32_t* doorbell() const { return doorbell_; }
  // Windows the compute engine maps shared and local memory at.
  static constexpr uint64_t kSharedWindow = 0x729400000000;
  static constexpr uint64_t kLocalWindow = 0x729300000000;
  // Local memory the device provides per thread (0 until a program needs
  // some); generation changes whenever it grows (engines re-emit it).
  struct LocalMemory {
    uint64_t va = 0;
    uint64_t bytes_per_tpc = 0;
    uint32_t per_thread = 0;
    uint64_t generation = 0;
  };
  LocalMemory local_memory() const;
  // Grows local memory to at least `per_thread` bytes per thread.
  absl::Status EnsureLocalMemory(uint32_t per_thread);
  // Bumped whenever code is uploaded (engines invalidate instruction caches).
  uint64_t program_generation() const { return program_generation_.load(); }
  void NoteProgramUploaded() { program_generation_.fetch_add(1); }
  // Whether the RM granted the performance boost at bring-up.
  bool perf_boosted() const { return perf_boosted_; }
  // The description's wait mode: whether host waits sleep on interrupts.
  bool interrupt_waits() const { return interrupt_waits_; }
  void set_interrupt_waits(bool on) { interrupt_waits_ = on; }

  // Runs one launch on the device's engine and waits (bounded).
  absl::Status RunSync(NvProgram* program, absl::Span<DeviceBuffer* const> bufs,
                       absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local,
                       RunTiming* timing);
  // Copies bytes between allocations on the copy engine and waits.
  absl::Status CopySync(const NvAllocation& dst, uint64_t dst_off, const NvAllocation& src,
                        uint64_t src_off, uint64_t bytes);
  // InvalidArgument naming the program unless the launch fits the GPU.
  absl::Status CheckLaunchDims(absl::string_view program, LaunchDims global, LaunchDims local,
                               uint32_t shared_bytes) const;

 private:
  explicit NvDevice(Options options) : options_(std::move(options)) {}
  absl::Status Init(KernelIo& io);
  absl::Status QueryGpu();
  // SMs enabled after floorsweeping (GPC mask, then each GPC's TPC mask).
  absl::StatusOr<int> CountEnabledSms();

  Options options_;
  std::unique_ptr<NvRm> rm_;
  std::unique_ptr<NvUvm> uvm_;
  std::unique_ptr<NvVmm> vmm_;
  std::unique_ptr<NvAllocator> allocator_;
  std::unique_ptr<Compiler> compiler_;
  NvGpuInfo gpu_;
  DeviceInfo info_;
  int gpu_fd_ = -1;
  std::string gpu_node_;
  nvrm::Handle device_ = 0, subdevice_ = 0, virtmem_ = 0, vaspace_ = 0, usermode_ = 0;
  nvrm::NvUuid uuid_{};
  bool uvm_registered_ = false;
  void* usermode_map_ = nullptr;
  volatile uint32_t* doorbell_ = nullptr;
  bool interrupt_waits_ = false;
  bool perf_boosted_ = false;

  mutable std::mutex local_mu_;
  LocalMemory local_;
  NvAllocation local_alloc_;
  std::vector<NvAllocation> old_local_;  // kept until the device goes (in-flight kernels)
  std::atomic<uint64_t> program_generation_{1};

  std::mutex sync_mu_;  // one synchronous run or copy at a time
  std::unique_ptr<NvEngine> sync_engine_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_NV_NV_DEVICE_H_

// AmDevice: an AMD GPU driven from user space ("AM:<i>"), through KFD by
// default or over any AmGpuInterface (am_interface.h: the direct PCI path).
//
// Pieces: an AmGpuInterface (Kfd: the ioctls, through the KernelIo seam;
// or the PCI path), AmAllocator (VRAM through the BAR, all-0xFF reads
// detected), AmProgram (AMDGPU code objects from AmdgpuCompiler, uploaded to
// VRAM), AmEngine under DeviceQueue (an AQL
// compute queue per uop queue, whose completion signal counts batches and
// posts an event the watcher sleeps on in WaitEvents; an SDMA queue for
// copies), HostSignal as the Signal. Device-wide memory-fault and hardware
// exception events are part of every wait, so a GPU fault fails the queues
// at once instead of leaving their waits to time out. Program::Run goes
// through the device's own queue and waits at most Options::run_timeout.
//
// The language is "amdgcn" (LLVM IR from runtime/codegen's AmdRenderer);
// DeviceInfo.description names the architecture ("... (gfx1100, ...)"),
// which the engine's renderer reads.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<AmDevice> gpu, AmDevice::Create({}));
//   // Over another interface, with the GPU's topology facts:
//   ASSIGN_OR_RETURN(gpu, AmDevice::Create(std::move(iface), node, {}));
//
// Registered as backend "AM" (the KFD GPUs here); the emulated one is
// "AM_EMU" (emulator/). The direct PCI path (no kernel driver) has no
// AmGpuInterface yet (drivers/am/pci/, docs/am_qcom.md).
#ifndef UOP_DRIVERS_AM_AM_DEVICE_H_
#define UOP_DRIVERS_AM_AM_DEVICE_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "drivers/am/am_interface.h"
#include "drivers/am/am_memory.h"
#include "drivers/am/am_topology.h"
#include "drivers/common/device_queue.h"
#include "drivers/device.h"

namespace uop {

class AmProgram;

class AmDevice final : public Device {
 public:
  struct Options {
    KernelIo* io = nullptr;              // KFD path; default: KernelIo::Real()
    std::shared_ptr<void> keep_alive;    // e.g. the emulated seam and its models
    int index = 0;                       // KFD path: which KFD GPU
    std::string name;                    // default "AM:<index>" (KFD), the interface's device()
    std::unique_ptr<Compiler> compiler;  // default: AmdgpuCompiler for the GPU's arch
    AmAllocator::Options memory;
    absl::Duration run_timeout = absl::Seconds(60);
    size_t aql_packets = 4096;               // AQL ring entries per queue
    size_t kernarg_bytes = size_t{1} << 20;  // kernel-argument ring per queue
    // Most scratch (private segment) memory per queue, in VRAM; kernels
    // needing more slots than fit run fewer waves at once (am_scratch.h).
    uint64_t max_scratch_bytes = uint64_t{256} << 20;
  };

  // The KFD GPU options.index, seen through options.io: FindKfdGpus and
  // Kfd::Open, then the Create below.
  static absl::StatusOr<std::unique_ptr<AmDevice>> Create(Options options);
  // Over `gpu` (the PCI path, a test's fake). `node` has the facts KFD's
  // topology would give (am_topology.h): gfx_target_version and simd_count
  // are required (InvalidArgument naming the missing one); local_mem_size
  // (DeviceInfo.total_memory), simd_per_cu, max_waves_per_simd, array_count,
  // simd_arrays_per_engine, num_xcc, lds_size_in_kb, max_slots_scratch_cu
  // and device_id should be there (the code has KFD-like defaults); an empty
  // `arch` comes from gfx_target_version. options.io and options.index are
  // not used.
  static absl::StatusOr<std::unique_ptr<AmDevice>> Create(std::unique_ptr<AmGpuInterface> gpu,
                                                          AmGpuNode node, Options options);
  ~AmDevice() override;

  const DeviceInfo& info() const override { return info_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc& desc,
                                                       absl::string_view binary) override;
  absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view name,
                                                     const QueueOptions& options = {}) override;
  absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view name,
                                                       uint64_t initial = 0) override;

  // Internals for programs and queues.
  AmGpuInterface& gpu_interface() { return *gpu_; }
  AmAllocator& am_allocator() { return *allocator_; }
  const AmGpuNode& node() const { return node_; }
  const Options& options() const { return options_; }
  // The device-wide memory-fault and hardware-exception events.
  uint32_t memory_event() const { return memory_event_; }
  uint32_t hw_event() const { return hw_event_; }
  absl::Status RunSync(AmProgram* program, absl::Span<DeviceBuffer* const> bufs,
                       absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local,
                       RunTiming* timing);

 private:
  explicit AmDevice(Options options) : options_(std::move(options)) {}
  // Both Creates end here: the allocator, fault events, sync queue, info.
  static absl::StatusOr<std::unique_ptr<AmDevice>> Build(std::unique_ptr<AmGpuInterface> gpu,
                                                         AmGpuNode node, Options options);

  Options options_;
  AmGpuNode node_;
  std::unique_ptr<AmGpuInterface> gpu_;
  std::unique_ptr<Compiler> compiler_;
  std::unique_ptr<AmAllocator> allocator_;
  uint32_t memory_event_ = 0, hw_event_ = 0;
  DeviceInfo info_;
  std::unique_ptr<DeviceQueue> sync_queue_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AM_DEVICE_H_

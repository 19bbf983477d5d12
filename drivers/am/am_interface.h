// AmGpuInterface: what AmDevice (and its AmAllocator, AmEngine, AmProgram)
// needs from whatever drives one AMD GPU: memory both the CPU and the GPU
// address, events the command processor posts, and user-mode queues.
//
// Two implementations, as tinygrad's AMDDevice runs over KFDIface or
// PCIIface: Kfd (kfd.h: the /dev/kfd ioctls) and the direct PCI path
// (drivers/am/pci/: no kernel driver; BARs through sysfs, the driver brings
// up GMC/PSP/SMU/GFX/SDMA itself). No KFD structure appears here; the
// allocation flag bits equal KFD's (kfd.cc checks) only so that Kfd passes
// them on unchanged.
//
// Contract the device logic relies on:
//  - Memory: Alloc gives one address `va` that the GPU uses and, with
//    `cpu_map`, this process uses too (`cpu` == va as a pointer for Kfd; a
//    PCI implementation may map elsewhere: AmDevice uses `cpu` for the CPU
//    and `va` for the GPU). Sizes are page-rounded. kAmMemVram with
//    kAmMemPublic must be CPU-mappable (through the BAR); kAmMemGtt is host
//    memory the GPU reaches coherently (rings, signals, kernel arguments).
//    Out of memory is ResourceExhausted (the allocator then drops its cache
//    and retries once).
//  - Events: a signal event owns 8-byte mailbox `slot` of the event page
//    (event_page().va + 8 * slot). AmEngine puts that address and the event
//    id into an AQL completion signal (amd_signal.event_mailbox_ptr /
//    event_id): when the CP decrements the signal it writes the event id to
//    the mailbox and raises an interrupt. SDMA copies end with a TRAP packet
//    carrying the event id (an interrupt only, no mailbox write).
//    WaitEvents sleeps until one of `events` fired or `timeout_ms` passed;
//    callers always reset the event, re-read their own condition in memory
//    (the signal value, the SDMA fence word) and wait again in bounded
//    slices, so an early or spurious return is harmless, but a wait must
//    never outlast its timeout. A memory-fault or hardware-exception event
//    that fired reports its details, which AmEngine turns into Unavailable.
//  - Queues: CreateQueue maps the ring and pointers the caller allocated;
//    the doorbell it returns is written with the new write pointer (AQL: the
//    last packet's index; SDMA: bytes written).
//
// Errors name the device (device()). Thread safety: every method may be
// called from any thread.
#ifndef UOP_DRIVERS_AM_AM_INTERFACE_H_
#define UOP_DRIVERS_AM_AM_INTERFACE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace uop {

// AmGpuInterface::Alloc's flags.
inline constexpr uint32_t kAmMemVram = 1u << 0;           // device memory
inline constexpr uint32_t kAmMemGtt = 1u << 1;            // host memory the GPU maps
inline constexpr uint32_t kAmMemWritable = 1u << 31;      // the GPU may write it
inline constexpr uint32_t kAmMemExecutable = 1u << 30;    // the GPU may run code from it
inline constexpr uint32_t kAmMemPublic = 1u << 29;        // VRAM the CPU reaches (the BAR)
inline constexpr uint32_t kAmMemNoSubstitute = 1u << 28;  // no fallback to another domain
inline constexpr uint32_t kAmMemCoherent = 1u << 26;      // CPU and GPU coherent
inline constexpr uint32_t kAmMemUncached = 1u << 25;      // not cached by the GPU

struct AmMemory {
  uint64_t handle = 0;  // nonzero for a live allocation
  uint64_t va = 0;      // the GPU's address
  size_t size = 0;      // page-rounded
  uint32_t flags = 0;
  uint8_t* cpu = nullptr;  // null unless CPU-mapped
};

enum class AmEventType {
  kSignal,       // posted by a queue (AQL completion signal, SDMA TRAP)
  kMemoryFault,  // a GPU page fault in this process's memory
  kHwException,  // a GPU reset or hang
};

struct AmEvent {
  uint32_t id = 0;    // nonzero
  uint32_t slot = 0;  // the mailbox in event_page() (signal events)
};

struct AmMemoryFault {
  uint64_t va = 0;
  bool not_present = false, read_only = false, no_execute = false, imprecise = false;
};
struct AmHwException {
  uint32_t reset_type = 0, reset_cause = 0;
  bool memory_lost = false;
};

// One waited event after a wake-up. Whether a signal event fired is not
// reported (callers re-read their condition); fault events that fired carry
// their details.
struct AmEventData {
  uint32_t id = 0;
  std::optional<AmMemoryFault> memory_fault;
  std::optional<AmHwException> hw_exception;
};

enum class AmQueueType { kComputeAql, kSdma };

// A user-mode queue over memory the caller allocated (GPU addresses).
struct AmQueueSpec {
  AmQueueType type = AmQueueType::kComputeAql;
  uint64_t ring_va = 0;
  uint32_t ring_bytes = 0;
  uint64_t read_pointer_va = 0;   // AQL: amd_queue.read_dispatch_id
  uint64_t write_pointer_va = 0;  // AQL: amd_queue.write_dispatch_id
  // Compute queues only: the CP's end-of-pipe buffer and the context
  // save/restore area (CwsrSizesFor in am_queue.h).
  uint64_t eop_va = 0;
  uint64_t eop_bytes = 0;
  uint64_t ctx_save_restore_va = 0;
  uint32_t ctx_save_restore_bytes = 0;
  uint32_t ctl_stack_bytes = 0;
  uint32_t percentage = 100;  // 0..100
  uint32_t priority = 7;      // 0..15
};

struct AmQueueInfo {
  uint32_t queue_id = 0;
  volatile uint64_t* doorbell = nullptr;
};

class AmGpuInterface {
 public:
  virtual ~AmGpuInterface() = default;

  // The device's name ("AM:0"), which errors start with.
  virtual const std::string& device() const = 0;
  // How the GPU is driven, for DeviceInfo.description: "KFD 1.16",
  // "KFD 1.16, emulated", a PCI path's own words.
  virtual std::string Describe() const = 0;

  // `flags`: kAmMem*; `cpu_map` maps it into this process too.
  virtual absl::StatusOr<AmMemory> Alloc(size_t bytes, uint32_t flags, bool cpu_map) = 0;
  virtual absl::Status Free(const AmMemory& m) = 0;

  virtual absl::StatusOr<AmEvent> CreateEvent(AmEventType type, bool auto_reset) = 0;
  virtual absl::Status DestroyEvent(uint32_t event) = 0;
  // Clears a manual-reset event (waiters read their condition after it).
  virtual absl::Status ResetEvent(uint32_t event) = 0;
  // One AmEventData per event, in order, once any fired; empty when
  // `timeout_ms` passed first.
  virtual absl::StatusOr<std::vector<AmEventData>> WaitEvents(const std::vector<uint32_t>& events,
                                                              uint32_t timeout_ms) = 0;
  // CPU-mapped GTT memory whose 8-byte slot i is event mailbox i.
  virtual const AmMemory& event_page() const = 0;

  virtual absl::StatusOr<AmQueueInfo> CreateQueue(const AmQueueSpec& spec) = 0;
  virtual absl::Status DestroyQueue(uint32_t queue_id) = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AM_INTERFACE_H_

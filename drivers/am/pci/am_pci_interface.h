// AmPciInterface: AmDevice's AmGpuInterface on a GPU this process brought up
// itself (AmPciGpu), with no kernel driver: what KFD's ioctls do in the
// kernel is done here.
//
//  * Memory: every allocation is physically contiguous VRAM from the
//    runtime allocator, mapped at a fresh VA in the device's VMID (AmVm),
//    followed by an unmapped guard page;
//    the CPU reaches it through BAR0 (`cpu` = BAR base + physical address),
//    so `va` and `cpu` differ. kAmMemGtt (host memory the GPU maps): with
//    VFIO, pinned host pages mapped through the IOMMU (AmVfio::AllocHost)
//    and into the VMID as SYSTEM|SNOOPED pages; through sysfs there are no
//    DMA addresses for host memory, so it is placed in VRAM too (what
//    tinygrad's AM driver uses for its rings).
//  * Events: without interrupts delivered to a process, WaitEvents polls —
//    the event page's mailboxes (the CP writes a signal's event id there),
//    and the IH ring (CP end-of-pipe and SDMA trap vectors carry the event
//    id in src_data[0]; VMC/UTCL2 vectors are page faults, reported on every
//    memory-fault event from then on, as KFD does). Through sysfs, polls
//    back off from a spin to 50 µs sleeps and never sleep past the timeout.
//    Through VFIO with MSI on (AmPciGpuOptions::vfio_msi), a wait sleeps in
//    poll() on the interrupt eventfd (AmVfio::WaitInterrupt) for at most
//    what is left of the timeout, and drains the IH and reads the
//    mailboxes after every wake-up (the CP writes a mailbox before its
//    vector; spurious wake-ups only cost a drain). One waiter at a time
//    sleeps on the eventfd; the others wait on a condition variable it
//    notifies after each wake-up, so no wake-up is lost between waiters.
//  * Queues: an AQL queue is an HQD on the MEC (AmGfx::MapAqlQueue: ME1,
//    pipes round-robin, a CP save area allocated here); an SDMA queue is
//    QUEUE0 of a free SDMA engine. Doorbells follow Linux's Navi10 layout.
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_AM_PCI_AM_PCI_INTERFACE_H_
#define UOP_DRIVERS_AM_PCI_AM_PCI_INTERFACE_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drivers/am/am_interface.h"
#include "drivers/am/am_topology.h"
#include "drivers/am/pci/am_pci_gpu.h"

namespace uop {

class AmPciInterface final : public AmGpuInterface {
 public:
  static constexpr uint32_t kEventSlots = 512;       // one 4 KiB event page of 8-byte mailboxes
  static constexpr uint32_t kMaxComputeQueues = 32;  // ME1: 4 pipes x 8 queues

  // `emulated`: the GPU is a model behind an emulated KernelIo (said in
  // Describe(), as every emulated device does).
  static absl::StatusOr<std::unique_ptr<AmPciInterface>> Create(std::unique_ptr<AmPciGpu> gpu,
                                                                std::string device,
                                                                bool emulated = false);
  ~AmPciInterface() override;

  // The topology AmDevice needs, from the chip's discovery table (GC version
  // and GC info table, AmPciGpuNode in am_pci_chip.h), the PCI device id and
  // the VRAM size; Create fails for a chip it cannot be built for.
  AmGpuNode Node() const { return node_; }
  AmPciGpu& gpu() { return *gpu_; }

  const std::string& device() const override { return device_; }
  std::string Describe() const override;
  absl::StatusOr<AmMemory> Alloc(size_t bytes, uint32_t flags, bool cpu_map) override;
  absl::Status Free(const AmMemory& m) override;
  absl::StatusOr<AmEvent> CreateEvent(AmEventType type, bool auto_reset) override;
  absl::Status DestroyEvent(uint32_t event) override;
  absl::Status ResetEvent(uint32_t event) override;
  absl::StatusOr<std::vector<AmEventData>> WaitEvents(const std::vector<uint32_t>& events,
                                                      uint32_t timeout_ms) override;
  const AmMemory& event_page() const override { return event_page_; }
  absl::StatusOr<AmQueueInfo> CreateQueue(const AmQueueSpec& spec) override;
  absl::Status DestroyQueue(uint32_t queue_id) override;

  // Vectors seen on the IH ring so far (tests, diagnostics).
  uint64_t interrupts_seen() const;

  // How WaitEvents' sleeps ended (tests, diagnostics). With MSI through
  // VFIO: poll() on the eventfd returned for an interrupt, or at the
  // timeout. Without: naps of the polling back-off.
  struct WaitStats {
    uint64_t interrupt_wakeups = 0;
    uint64_t timeout_wakeups = 0;
    uint64_t naps = 0;
  };
  WaitStats wait_stats() const;
  // Whether waits sleep on the GPU's interrupt (VFIO with MSI enabled).
  bool interrupt_driven() const;

 private:
  struct Allocation {
    uint64_t va = 0, pa = 0, size = 0;
    std::optional<AmDmaBuffer> host;  // kAmMemGtt through VFIO: pinned host pages
  };
  struct Event {
    AmEventType type = AmEventType::kSignal;
    bool auto_reset = false;
    uint32_t slot = 0;
    bool fired = false;  // by an IH vector
  };
  struct Queue {
    AmQueueType type = AmQueueType::kComputeAql;
    std::optional<AmHqd> hqd;
    std::optional<AmSdmaQueue> sdma;
    AmMemory mqd;  // compute: the CP's save area
  };

  AmPciInterface(std::unique_ptr<AmPciGpu> gpu, std::string device, bool emulated)
      : gpu_(std::move(gpu)), device_(std::move(device)), emulated_(emulated) {}
  absl::Status Error(absl::StatusCode code, const std::string& what) const;
  // Drains the IH ring into the events' state. mu_ held.
  absl::Status PumpInterrupts();
  // Whether `id` has fired; clears it for auto-reset events. mu_ held.
  bool Fired(uint32_t id, AmEventData* data);

  std::unique_ptr<AmPciGpu> gpu_;
  const std::string device_;
  const bool emulated_;
  AmGpuNode node_;
  AmMemory event_page_;
  mutable std::mutex mu_;
  uint64_t next_handle_ = 1;                        // guarded by mu_
  std::map<uint64_t, Allocation> allocations_;      // by handle; guarded by mu_
  std::map<uint32_t, Event> events_;                // by id; guarded by mu_
  std::set<uint32_t> free_slots_;                   // guarded by mu_
  uint32_t next_fault_event_ = kEventSlots + 1;     // guarded by mu_
  std::optional<AmMemoryFault> fault_;              // sticky; guarded by mu_
  std::map<uint32_t, Queue> queues_;                // guarded by mu_
  uint32_t next_queue_ = 1;                         // guarded by mu_
  bool compute_slot_used_[kMaxComputeQueues] = {};  // guarded by mu_
  bool sdma_used_[2] = {};                          // guarded by mu_
  uint64_t interrupts_ = 0;                         // guarded by mu_
  WaitStats wait_stats_;                            // guarded by mu_
  bool poller_active_ = false;     // a waiter sleeps on the eventfd; guarded by mu_
  std::condition_variable woken_;  // the poller woke up
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_AM_PCI_INTERFACE_H_

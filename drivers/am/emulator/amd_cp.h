// AmdCp: the emulated command processors of an AMD GPU behind the KFD
// emulator: the AQL packet processor of compute queues and the SDMA engine.
// They read only GPU memory (through a GpuAddressSpace: an address outside
// every GPU mapping is a fault) and follow the hardware protocol:
//
// AQL: packets from the queue's read id up to both the write id and the
// doorbell (the index of the last published packet); a packet whose header
// is still INVALID stops the queue until it is published. A kernel dispatch
// reads the kernel descriptor at kernel_object (in executable memory), finds
// the host twin embedded in the code object's allocation
// (drivers/common/host_twin.h), reads its arguments from the kernarg segment
// (8 bytes per buffer address and variable; the segment size must match the
// descriptor's), runs it over the grid (whole workgroups only), then
// decrements the completion signal and, with a mailbox, writes the event id
// there and posts the event. A barrier-AND packet waits until its dependency
// signals reach 0. A kernel with a private segment (scratch) needs the
// packet's private_segment_size to cover the descriptor's and the queue's
// amd_queue_t (found, as the CP does, from the read pointer and
// read_dispatch_id_field_base_byte_offset) to describe mapped scratch with a
// wave slot and wave count (COMPUTE_TMPRING_SIZE, by generation) that fit
// the backing; the twin itself keeps private data on the host stack.
// Processed packets get an INVALID header and the read id
// advances.
//
// SDMA: COPY_LINEAR, FENCE, TRAP (posts the event in int_context),
// POLL_REGMEM (greater-or-equal on memory) and NOP, from the read to the
// write pointer (bytes), wrapping around the ring.
//
// What it cannot check: GPU ISA, register and LDS budgets, the scratch
// resource descriptor's bits and per-wave scratch addressing, caches
// and memory ordering beyond in-order execution, partial workgroups.
//
// Thread safety: one thread (the emulator's) calls Step at a time.
#ifndef UOP_DRIVERS_AM_EMULATOR_AMD_CP_H_
#define UOP_DRIVERS_AM_EMULATOR_AMD_CP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "drivers/am/emulator/gpu_address_space.h"
#include "drivers/common/host_twin.h"

namespace uop {

struct AmdQueueState {
  bool aql = true;
  uint64_t ring = 0;  // GPU address
  uint64_t ring_bytes = 0;
  uint64_t read_ptr = 0;   // GPU address of the read pointer (AQL: read_dispatch_id)
  uint64_t write_ptr = 0;  // GPU address of the write pointer
  const volatile uint64_t* doorbell = nullptr;
  bool faulted = false;
};

struct AmdCpStats {
  uint64_t dispatches = 0;
  uint64_t scratch_dispatches = 0;  // of kernels with a private segment
  uint64_t work_items = 0;
  uint64_t sdma_packets = 0;
  uint64_t copied_bytes = 0;
};

// What the CP knows of its GPU.
struct AmdCpConfig {
  uint32_t gfx_major = 11;      // COMPUTE_TMPRING_SIZE's layout
  uint32_t shader_engines = 1;  // gfx11+: tmpring WAVES counts per engine
};

class AmdCp {
 public:
  // `signal_event(id)` posts a KFD event.
  AmdCp(const GpuAddressSpace* memory, HostTwinCache* twins,
        std::function<void(uint32_t)> signal_event, AmdCpConfig config = {})
      : memory_(memory), twins_(twins), signal_event_(std::move(signal_event)), config_(config) {}

  // Runs what the queue has ready; sets *progress when anything ran. A
  // non-OK status is the fault the queue hit (the caller marks it faulted).
  // Each AQL packet takes `latency` (slept before it completes) when given.
  absl::Status Step(AmdQueueState& q, bool* progress, int max_packets = 64,
                    absl::Duration latency = absl::ZeroDuration());
  // A snapshot (any thread: the counters are atomic, and each is counted
  // before the work's completion becomes visible).
  AmdCpStats stats() const {
    return AmdCpStats{stats_.dispatches.load(), stats_.scratch_dispatches.load(),
                      stats_.work_items.load(), stats_.sdma_packets.load(),
                      stats_.copied_bytes.load()};
  }
  // The GPU address the last fault was about.
  uint64_t last_fault_address() const { return fault_address_; }

 private:
  absl::Status StepAql(AmdQueueState& q, bool* progress, int max_packets, absl::Duration latency);
  absl::Status StepSdma(AmdQueueState& q, bool* progress, int max_packets);
  absl::Status Dispatch(const AmdQueueState& q, const uint8_t* packet, uint64_t at);
  absl::Status CheckScratch(const AmdQueueState& q, uint32_t packet_bytes, uint32_t kernel_bytes,
                            bool wave32, uint64_t at);
  absl::Status Complete(uint64_t signal, uint64_t at);
  absl::StatusOr<const HostTwin*> TwinFor(uint64_t kernel_object, uint64_t at);
  absl::Status Fault(uint64_t at, const std::string& what);

  const GpuAddressSpace* const memory_;
  HostTwinCache* const twins_;
  const std::function<void(uint32_t)> signal_event_;
  const AmdCpConfig config_;
  // Code object Allocation::id -> its twin, with the blob's bytes as they
  // were: an id may come back for other code once its memory is freed and
  // reused (the PCI path's ids are physical addresses), so a hit is checked
  // against the bytes now there.
  struct CachedTwin {
    const HostTwin* twin = nullptr;
    size_t pos = 0;
    std::vector<uint8_t> blob;
  };
  std::map<uint64_t, CachedTwin> twin_by_bo_;
  struct {
    std::atomic<uint64_t> dispatches{0}, scratch_dispatches{0}, work_items{0}, sdma_packets{0},
        copied_bytes{0};
  } stats_;
  uint64_t fault_address_ = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_AMD_CP_H_

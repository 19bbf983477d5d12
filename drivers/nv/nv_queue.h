// NvEngine: the QueueEngine (drivers/common/device_queue.h) of one NV queue.
//
// An engine owns a channel group (TSG) with two GPFIFO channels sharing one
// subcontext: compute (HOPPER_COMPUTE_A on subchannel 1) and copy
// (HOPPER_DMA_COPY_A on subchannel 4), a command ring in host-visible video
// memory (pushbuffers, constant buffers, QMDs; reused only once the batch
// that used a piece retired, drivers/common/fenced_ring.h) and a 64-bit
// timeline semaphore in pinned host memory: the queue's fence.
//
// Flush encodes the batch as segments, one per run of same-channel work:
//   [acquire timeline >= last value, when the other channel ran last]
//   work: launches: constant buffers + QMDs in the ring; the first QMD goes
//         by SEND_PCAS_A + SEND_SIGNALING_PCAS2_B, and each QMD names the
//         next as its dependent (the GPU starts it when the grid before it
//         completed), the last one's release semaphore adds 1 to the chain
//         counter, and the segment acquires that count (Options::
//         launch_order; kWfi sends every QMD with a host WFI between);
//         copies: OFFSET_IN/OUT, LINE_LENGTH_IN, LAUNCH_DMA;
//   release timeline = ++value (after WFI) + NON_STALL_INTERRUPT
// and submits each with a GPFIFO entry, GP_PUT in USERD and the doorbell.
//
// JIT replay: a launch-only batch seen twice (same programs, dims, buffers,
// values) is recorded into memory of its own: constant buffers, QMDs and a
// pushbuffer of its launches alone, never written again. Each replay then
// costs three GPFIFO entries and one doorbell: [acquire, when the copy
// channel ran last] from the ring, the recorded pushbuffer (one SEND_PCAS;
// the QMDs are chained inside the recording), [acquire the chain counter,
// release + interrupt] from the ring. The semaphore values live outside the recording,
// so a replay never waits for the previous one: twenty submissions of one
// batch are twenty back-to-back GPU runs, ordered by the channel.
//
// Waits: CompletedFence reads the semaphore; WaitFence spins (Options::
// spin), then sleeps in poll() on the engine's own OS-event fd, which the
// kernel driver wakes on the channels' non-stall interrupts. poll()
// consumes the pending event, so only one thread of the engine sleeps in the
// kernel at a time; others (the queue's watcher and an executor waiting for
// ring space, say) wait for that sleeper's wake-up on a condition variable.
// Two threads in poll() on one fd would lose wake-ups: the loser slept into
// its timeout (the 100 ms watch slice). Without events (a driver that
// refused them) WaitFence naps at most 100 us at a time, still bounded by
// its caller.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<NvEngine> e, NvEngine::Create(dev, "NV:0/compute", t));
//   DeviceQueue q("NV:0", "NV:0/compute", options, std::move(e));
//
// Thread safety: as QueueEngine: AddExec/AddCopy/Flush from one thread at a
// time, CompletedFence/WaitFence from any.
#ifndef UOP_DRIVERS_NV_NV_QUEUE_H_
#define UOP_DRIVERS_NV_NV_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "drivers/common/device_queue.h"
#include "drivers/common/fenced_ring.h"
#include "drivers/nv/nv_memory.h"

namespace uop {

class NvDevice;
class NvProgram;

struct NvEngineStats {
  uint64_t launches = 0;
  uint64_t copies = 0;
  uint64_t segments = 0;         // GPFIFO entries submitted
  uint64_t replays = 0;          // batches submitted from the replay cache
  uint64_t interrupt_waits = 0;  // WaitFence calls that slept on the event fd
  uint64_t shared_waits = 0;     // ... that waited for another thread's sleep
};

class NvEngine final : public QueueEngine {
 public:
  static absl::StatusOr<std::unique_ptr<NvEngine>> Create(NvDevice* device, std::string queue,
                                                          absl::Duration wait_timeout);
  ~NvEngine() override;

  absl::Status AddExec(const ExecCommand& c) override;
  absl::Status AddCopy(const CopyCommand& c) override;
  bool HasWork() const override { return !items_.empty(); }
  absl::StatusOr<uint64_t> Flush() override;
  absl::StatusOr<uint64_t> CompletedFence() override;
  absl::Status WaitFence(uint64_t fence, absl::Duration timeout) override;

  // A copy between allocations (the allocator's staging path).
  absl::Status AddRawCopy(uint64_t dst_va, uint64_t src_va, uint64_t bytes);
  // Blocks until `fence` completed, at most `timeout`; DeadlineExceeded names
  // the device, the queue, the semaphore, the value expected and the one seen.
  absl::Status AwaitFence(uint64_t fence, absl::Duration timeout, absl::string_view why);
  NvEngineStats stats() const { return stats_; }
  const std::string& queue() const { return queue_; }
  uint64_t semaphore_va() const { return sem_.va; }

 private:
  struct Channel {
    nvrm::Handle gpfifo = 0, object = 0;
    NvAllocation area;      // GPFIFO entries + USERD
    NvAllocation notifier;  // error notifier (system memory)
    uint64_t channel_range = 0;
    uint32_t entries = 0, token = 0, put = 0;
    bool used = false;  // ran work since the engine started
  };
  struct Launch {
    NvProgram* program;
    absl::InlinedVector<uint64_t, 8> addrs;
    absl::InlinedVector<int64_t, 4> vars;
    LaunchDims global, local;
  };
  struct RawCopy {
    uint64_t dst, src, bytes;
  };
  struct Item {
    bool is_copy;
    Launch launch;
    RawCopy copy;
  };
  // A batch recorded once for replay: its launch data and its launches'
  // pushbuffer live in `mem` and are never written again.
  struct Cached {
    NvAllocation mem;
    uint32_t pb_offset = 0, pb_dwords = 0;
    uint64_t last_fence = 0;  // freed only once this completed
    bool chained = false;     // its last QMD bumps the chain counter
    int uses = 0;
  };

  NvEngine(NvDevice* device, std::string queue, absl::Duration wait_timeout);
  absl::Status CreateChannels();
  absl::Status CreateChannel(Channel& ch, uint32_t object_class);
  void DestroyChannel(Channel& ch);
  absl::Status SetupEvents();
  // Encodes the current items into segments and submits them.
  absl::StatusOr<uint64_t> SubmitItems();
  // Writes the constant buffers and QMDs of launches [begin, end) of items_
  // at data + *data_off (GPU address data_va + ...) and their methods to
  // `pb`, ordered as Options::launch_order says. True when they form a QMD
  // chain whose end the segment must acquire (EmitChainAcquire).
  bool EncodeLaunches(size_t begin, size_t end, std::vector<uint32_t>& pb, uint8_t* data,
                      uint64_t data_va, size_t* data_off);
  // Acquire: the chain counter reached the chains submitted so far (+1).
  void EmitChainAcquire(std::vector<uint32_t>& pb);
  void EncodeCopy(const RawCopy& c, std::vector<uint32_t>& pb, bool last) const;
  // Acquire/release around a segment; returns the dword indices of the values.
  uint32_t EmitAcquire(std::vector<uint32_t>& pb, uint64_t value) const;
  uint32_t EmitRelease(std::vector<uint32_t>& pb, uint64_t value) const;
  absl::Status SubmitSegment(Channel& ch, uint64_t pb_va, uint32_t dwords);
  // Writes one GPFIFO entry; Kick makes the entries so far visible (GP_PUT,
  // doorbell).
  absl::Status PushEntry(Channel& ch, uint64_t pb_va, uint32_t dwords);
  void Kick(Channel& ch);
  // Submits a recording between an acquire (if needed) and a release.
  absl::StatusOr<uint64_t> SubmitCached(Cached& c);
  // Bytes of ring space one launch needs.
  static size_t LaunchDataBytes(const NvProgram& p);
  uint64_t BatchKey() const;
  absl::StatusOr<uint64_t> Replay();
  absl::Status RecordForReplay(uint64_t key);

  NvDevice* const device_;
  const std::string queue_;
  const absl::Duration wait_timeout_;
  nvrm::Handle group_ = 0, ctxshare_ = 0;
  Channel compute_, copy_;
  NvAllocation cmd_;  // the command ring
  NvAllocation sem_;  // timeline semaphore: uint64 at offset 0
  // Chain counter: uint32 at offset 0 the last QMD of each chain adds 1 to
  // (video memory: the GPU's reduction stays on the GPU).
  NvAllocation chain_;
  std::unique_ptr<FencedRing> ring_;
  int event_fd_ = -1;
  std::vector<nvrm::Handle> events_;
  bool os_event_ = false;
  // The one thread sleeping in poll() on event_fd_ (see the header comment).
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  bool sleeping_ = false;  // guarded by sleep_mu_
  uint64_t wakeups_ = 0;   // guarded by sleep_mu_: the sleeper's returns

  // Executor only:
  std::vector<Item> items_;
  uint64_t released_ = 0;  // the last value a submitted segment releases
  uint32_t chains_ = 0;    // chains submitted (wraps; acquired circularly)
  Channel* last_channel_ = nullptr;
  uint64_t local_generation_ = 0;  // local memory setup this engine emitted
  uint64_t program_generation_ = 0;
  absl::flat_hash_map<uint64_t, int> seen_;       // batch key -> submissions
  std::list<std::pair<uint64_t, Cached>> cache_;  // most recently used first
  std::vector<uint32_t> pre_, post_;              // a replay's acquire and release
  NvEngineStats stats_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_NV_NV_QUEUE_H_

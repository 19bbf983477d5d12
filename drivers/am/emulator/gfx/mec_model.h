// EmulatedMec: the RLC autoload status and the compute micro-engine (RS64
// MEC, 4 pipes x 8 queues) of an emulated GC 11.0 (Navi31) on the trapped
// register file of EmulatedPciGpu, running the AQL queues the driver maps by
// programming HQD registers through the existing AQL command processor
// (AmdCp).
//
// Registers it models:
//  * RLC_RLCS_BOOTLOAD_STATUS: BOOTLOAD_COMPLETE once CompleteAutoload() ran
//    (the PSP model calls it after AUTOLOAD_RLC; tests may also Set the
//    register directly); CP_STAT reads what is stored (0: idle);
//  * GRBM_GFX_CNTL: the selection (ME, pipe, queue, VMID). CP_HQD_* and
//    CP_MQD_* (CP_MQD_BASE_ADDR .. CP_HQD_PQ_WPTR_HI) are banked per
//    ME 1/pipe/queue; SH_MEM_CONFIG/BASES per VMID; CP_MEC_RS64_PRGRM_CNTR_
//    START/_HI per pipe;
//  * CP_MEC_RS64_CNTL: halt (set at reset: assumed), pipe resets and pipe
//    active bits;
//  * CP_HQD_ACTIVE = 1: the queue's HQD becomes an AmdQueueState (AQL, ring =
//    PQ_BASE << 8, 4 * 2^(QUEUE_SIZE+1) bytes, read pointer = the report
//    address, write pointer = the poll address, doorbell = the doorbell page +
//    DOORBELL_OFFSET dwords) in the address space the factory gives for
//    CP_HQD_VMID;
//  * CP_HQD_DEQUEUE_REQUEST: the queue stops after the packet it is running;
//    CP_HQD_ACTIVE then reads 0 (after `dequeue_after_reads` reads; never
//    with `never_dequeue`).
// A GPU thread steps every active queue with AmdCp::Step (one AmdCp per
// VMID), polling doorbells like the KFD emulator's GpuLoop; a fault marks the
// queue faulted and records the address. Completion signals with a mailbox
// post their event id: events() lists them and `on_event` forwards them (the
// integrator turns them into IH vectors; this model injects nothing into the
// IH itself).
//
// Violations (register_file.h): CP_HQD_* accessed with no MEC queue selected
// (GRBM_GFX_CNTL ME != 1, or VMID != 0 as well); CP_HQD_ACTIVE = 1 while
// the MEC is halted, its pipe not active or in reset, before the RLC autoload
// completed, before PQ_BASE/PQ_BASE_HI/PQ_CONTROL/RPTR_REPORT/WPTR_POLL/
// DOORBELL_CONTROL were written for this mapping, without DOORBELL_EN or AQL
// CONTROL0, with a doorbell outside CP_MEC_DOORBELL_RANGE_LOWER/UPPER or the
// doorbell BAR or not 64-bit aligned, a VMID whose SH_MEM_CONFIG was never
// programmed or that has no address space, a ring or pointer not mapped in
// it, or on a queue already active; HQD registers written while the queue
// runs or its dequeue was not waited for; PRGRM_CNTR_START written with ME !=
// 1; FinishChecks: GRBM selection left non-zero, a dequeue never waited for
// (CP_HQD_ACTIVE never read 0 after the request).
//
// Thread safety: the register hooks run under the register file's lock and
// take this model's mutex; the GPU thread takes only this model's mutex
// (never the register file's), so the two never wait on each other. The
// address-space factory runs inside a register hook (keep it cheap, no
// register access); `on_event` runs on the GPU thread with no lock held (it
// may inject an IH vector through the register file).
#ifndef UOP_DRIVERS_AM_EMULATOR_GFX_MEC_MODEL_H_
#define UOP_DRIVERS_AM_EMULATOR_GFX_MEC_MODEL_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/emulator/amd_cp.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gpu_address_space.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/gfx/gfx_regs.h"
#include "drivers/common/host_twin.h"

namespace uop {

struct EmulatedMecConfig {
  // The GPU address space of each VMID (nullptr: none). Called when a queue
  // is activated; the returned space must outlive the model.
  std::function<const GpuAddressSpace*(uint32_t vmid)> address_space;
  // Called on the GPU thread for every event a completion signal posts.
  std::function<void(uint32_t event_id)> on_event;
  // Called on the GPU thread, no lock held, when a queue faults: the VMID
  // and the GPU address the fault was about (the integrator raises the VMC
  // interrupt a real hub would).
  std::function<void(uint32_t vmid, uint64_t address, const std::string& what)> on_fault;
  // Whether NBIO delivers host doorbell writes at this dword index of the
  // doorbell BAR to the GC (EmulatedNbio::Route); unset: every doorbell is.
  // Activating a queue whose doorbell is not routed is a violation: on
  // hardware its doorbells would be dropped and the queue never run.
  std::function<bool(uint32_t dword)> doorbell_routed;
  int dequeue_after_reads = 2;
  bool never_dequeue = false;  // a hung CP: CP_HQD_ACTIVE stays 1
  absl::Duration packet_latency = absl::ZeroDuration();
};

class EmulatedMec {
 public:
  struct QueueId {
    uint32_t pipe = 0, queue = 0;
    friend bool operator<(const QueueId& a, const QueueId& b) {
      return a.pipe != b.pipe ? a.pipe < b.pipe : a.queue < b.queue;
    }
    friend bool operator==(const QueueId& a, const QueueId& b) {
      return a.pipe == b.pipe && a.queue == b.queue;
    }
  };
  struct Fault {
    QueueId queue;
    uint32_t vmid = 0;
    uint64_t address = 0;  // the GPU address the fault was about
    std::string message;
  };
  // What the model built from the HQD registers at activation.
  struct ActiveQueue {
    QueueId id;
    uint32_t vmid = 0;
    uint32_t doorbell_dword = 0;
    AmdQueueState state;
  };

  // The GPU must serve a discovery table AmRegisterMap accepts (Navi31Ips).
  static absl::StatusOr<std::unique_ptr<EmulatedMec>> Attach(EmulatedPciGpu& gpu,
                                                             EmulatedMecConfig config);
  ~EmulatedMec();

  // The RLC autoload finished: BOOTLOAD_COMPLETE reads 1 from now on.
  void CompleteAutoload();
  bool halted() const;
  // The queues currently active (snapshot).
  std::vector<ActiveQueue> active_queues() const;
  bool IsActive(QueueId q) const;
  bool IsFaulted(QueueId q) const;
  std::vector<Fault> faults() const;
  std::vector<uint32_t> events() const;
  // The program counter start the driver gave `pipe` (PRGRM_CNTR_START/_HI
  // as one 64-bit register value pair, lo | hi << 32).
  uint64_t program_start(uint32_t pipe) const;
  AmdCpStats stats() const;
  // End-of-test checks (violations recorded into the register file).
  void FinishChecks();
  // A MODE1 reset: every HQD inactive (queues stop between packets), the MEC
  // halted, pipes' program counters and the VMIDs' SH_MEM settings cleared.
  // Faults and events are history and kept; the registers (the RLC autoload
  // status with them) are the caller's to restore. Runs under the register
  // file's lock, as the hooks do.
  void ChipReset();

 private:
  struct Hqd {
    std::array<uint32_t, kHqdLastOffset - kHqdFirstOffset + 1> regs{};
    uint32_t written = 0;  // kWrote* bits since the last activation
    bool active = false;
    bool faulted = false;
    bool dequeue_pending = false;   // request seen, the GPU thread has not stopped it yet
    bool dequeue_unwaited = false;  // requested, ACTIVE not yet read as 0
    int dequeue_reads = 0;
    uint64_t generation = 0;  // bumps at each activation
    ActiveQueue queue;
  };

  EmulatedMec(EmulatedPciGpu& gpu, AmRegisterMap map, EmulatedMecConfig config);
  uint32_t D(const AmReg& r) const { return map_.Dword(r); }
  // The selected HQD, or nullptr after recording why the selection is bad.
  Hqd* SelectedHqd(const char* reg);
  void OnHqdWrite(uint32_t offset, uint32_t value);
  uint32_t OnHqdRead(uint32_t offset, uint32_t stored);
  void Activate(Hqd& h, QueueId id);
  void GpuLoop();

  EmulatedPciGpu& gpu_;
  EmulatedRegisterFile& regs_;
  const AmRegisterMap map_;
  const EmulatedMecConfig config_;
  uint32_t shader_engines_ = 0;  // the GC info table's num_se (set by Attach)
  HostTwinCache twins_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint32_t grbm_ = 0;  // GRBM_GFX_CNTL as last written
  uint32_t mec_cntl_ = gfx11::kMecHalt;
  std::array<uint64_t, kGfx11MecPipes> pc_start_{};
  std::array<bool, kGfx11Vmids> sh_mem_config_written_{};
  std::array<uint32_t, kGfx11Vmids> sh_mem_config_{}, sh_mem_bases_{};
  std::map<QueueId, Hqd> hqds_;
  std::map<uint32_t, std::unique_ptr<AmdCp>> cps_;  // by VMID
  std::vector<Fault> faults_;
  std::vector<uint32_t> events_;
  std::thread gpu_thread_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_GFX_MEC_MODEL_H_

// NvEmulator: a model of the NVIDIA kernel driver (RM + UVM) and a Hopper
// GPU's host, compute and copy engines behind /dev/nvidiactl, /dev/nvidia0
// and /dev/nvidia-uvm, as EmulatedNodes for EmulatedKernelIo.
//
// What it checks (each violation is an errno or an RM status, as the kernel
// returns them, or a channel error that stops the channel and is written to
// its error notifier, with fault() saying what happened):
//  * escapes: the request number encodes the argument size the driver's
//    structs have (the same check nvidia.ko makes); RM_ALLOC/FREE/CONTROL on
//    the control fd only; CARD_INFO; REGISTER_FD of a control fd; OS events.
//  * the RM object tree: a client first; every parent exists and has the
//    right class (device under the client, subdevice/VA space/virtual
//    memory/memory/channel group under the device, context share and GPFIFO
//    channels under the channel group, engine objects under a channel,
//    events and usermode under the subdevice); classes the emulated GPU has
//    (its class list); parameter sizes and contents (device instance, VA
//    space flags, channel parameters: entries, memory handles, USERD inside
//    the buffer; memory sizes, alignment, page-size and location attributes);
//    controls by command with their parameter sizes.
//  * memory: CPU mappings only after NV_ESC_RM_MAP_MEMORY names the fd; GPU
//    mappings only inside a UVM external range, of a registered GPU, of RM
//    memory at least as large; GPU accesses (pushbuffers, QMDs, constant
//    buffers, copies, semaphores, kernel buffers) translate through the
//    mapped ranges, else the channel faults (an MMU fault).
//  * the GPU: a thread fetches GPFIFO entries between GP_GET and the GP_PUT
//    the driver wrote to USERD, decodes the pushbuffer (incrementing,
//    non-incrementing, immediate and one-increment methods) and executes:
//    host SET_OBJECT (the class must be allocated on the channel),
//    semaphore release/acquire (64- or 32-bit; an unmet acquire stalls the
//    channel until the value arrives; a 64-bit release below the value there
//    is counted: timelines only grow), WFI (counted), NON_STALL_INTERRUPT (wakes every
//    OS event registered for non-stall interrupts); compute local/shared
//    memory setup, cache invalidation and SEND_PCAS_A + SEND_SIGNALING_PCAS2_B
//    launches of a version-4 QMD (type, version, code address, register
//    count, shared memory size and carve-outs, grid and block, constant
//    buffer 0 holding blockDim/gridDim/windows/stack top as the driver area
//    requires); copy engine pitch copies (OFFSET_IN/OUT, LINE_LENGTH_IN,
//    LAUNCH_DMA) and its semaphore. Unknown methods fault the channel.
//    Grid order: a grid's completion writes its QMD release semaphores
//    (one word; 32-bit RED_ADD) and schedules its dependent QMD, which the
//    GPU thread runs a step later while the pushbuffer goes on; a WFI waits
//    for SEND_PCAS grids only. Counted: grids sent while the previous grid
//    or chain of the channel may still run (overlapping_launches) and
//    timeline releases while a chain still runs (early_releases).
//    NV2080_CTRL_CMD_PERF_BOOST is accepted (flags and duration checked).
//  * kernels: where the code at the QMD's program address is a host twin
//    (drivers/common/host_twin.h) the launch runs it over the grid with the
//    buffer addresses and values read from the constant buffer's parameter
//    area (8 bytes each from 0x210); other code is validated and counted.
//
//   auto emu = std::make_shared<NvEmulator>(NvEmulator::Options{});
//   emu->Install(*io);  // /dev/nvidiactl, /dev/nvidia0, /dev/nvidia-uvm
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_NV_EMULATOR_NV_EMULATOR_H_
#define UOP_DRIVERS_NV_EMULATOR_NV_EMULATOR_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/common/emu_memory.h"
#include "drivers/common/emulated_kernel_io.h"
#include "drivers/common/host_twin.h"
#include "drivers/nv/nv_qmd.h"

namespace uop {

class NvEmulator {
 public:
  struct Options {
    std::string gpu_name = "NVIDIA H100 80GB HBM3 (emulated)";
    uint32_t sm_version = 0x0900;  // GR SM_VERSION: sm_90
    uint64_t memory_bytes = uint64_t{1} << 30;
    bool hopper_compute = true;  // offer HOPPER_COMPUTE_A (else Ada's)
    bool os_events = true;       // accept NV01_EVENT_OS_EVENT
    // Floorsweeping: of 2 GPCs x 2 TPCs x 2 SMs, the TPCs enabled per GPC.
    uint32_t gpc_mask = 0x3;
    uint32_t tpc_mask[2] = {0x3, 0x3};
  };
  struct Stats {
    uint64_t rm_allocs = 0, rm_frees = 0, controls = 0;
    uint64_t gpfifo_entries = 0, methods = 0;
    uint64_t launches = 0, twin_launches = 0, copies = 0, copy_bytes = 0;
    uint64_t releases = 0, acquire_stalls = 0, interrupts = 0;
    uint64_t wfis = 0;               // host WAIT_FOR_IDLE methods executed
    uint64_t releases_backward = 0;  // 64-bit releases below the value already there
    // Grids sent (SEND_PCAS) while the channel's previous grid or chain may
    // still run: no WFI since, or dependents pending. Zero for a driver that
    // orders its launches.
    uint64_t overlapping_launches = 0;
    uint64_t chained_launches = 0;  // grids started as a completed QMD's dependent
    uint64_t qmd_releases = 0;      // QMD release semaphores written at grid completion
    // 64-bit host releases while a chain of the channel was still running.
    uint64_t early_releases = 0;
    uint64_t perf_boosts = 0;  // NV2080_CTRL_CMD_PERF_BOOST accepted
  };
  struct LaunchRecord {
    uint64_t code_va;
    uint32_t grid[3], block[3];
    uint32_t registers, shared_bytes;
  };

  explicit NvEmulator(Options options);
  ~NvEmulator();
  NvEmulator(const NvEmulator&) = delete;
  NvEmulator& operator=(const NvEmulator&) = delete;

  // Adds the three device nodes to `io`.
  void Install(EmulatedKernelIo& io);

  Stats stats() const;
  std::vector<LaunchRecord> launches() const;
  // Empty while no channel faulted, else what the first fault was.
  std::string fault() const;
  // Holds the GPU before its next method (tests of waits and timeouts).
  void Pause();
  void Resume();

  // Node entry points (per path).
  int CtlIoctl(int fd, unsigned long request, void* arg);
  int GpuIoctl(int fd, unsigned long request, void* arg);
  int UvmIoctl(int fd, unsigned long request, void* arg);
  int Mmap(int fd, void* addr, size_t length, int prot, int flags, void** out);
  int Poll(int fd, int64_t timeout_ns);
  void Close(int fd);

 private:
  struct Object;
  struct Channel;
  struct Mapping {
    uint64_t va, size;
    uint8_t* host;
    uint32_t memory;
    std::shared_ptr<EmuMemory::Bo> bo;  // keeps video memory alive
  };

  uint32_t NewHandle();
  int RmAlloc(void* arg);
  int RmFree(void* arg);
  int RmControl(void* arg);
  uint32_t AllocObject(uint32_t parent, uint32_t cls, const void* params, uint32_t size,
                       uint32_t* handle);
  uint32_t Control(uint32_t object, uint32_t cmd, void* params, uint32_t size);
  uint8_t* Translate(uint64_t va, uint64_t bytes);
  void GpuLoop();
  // Runs what the channel has; false when it stalls on an acquire.
  bool RunChannel(Channel& ch);
  bool Method(Channel& ch, uint32_t subc, uint32_t method, uint32_t data);
  bool Launch(Channel& ch, uint64_t qmd_va);
  // A grid completed: its release semaphores, then its dependent QMD is
  // scheduled (run by GpuLoop, one grid per step).
  bool Complete(Channel& ch, const Qmd4& m, uint64_t qmd_va);
  void Fault(Channel& ch, std::string what);
  void Interrupt();

  const Options options_;
  EmuMemory memory_;
  HostTwinCache twins_;

  mutable std::mutex mu_;
  std::condition_variable gpu_cv_, event_cv_;
  std::map<uint32_t, std::unique_ptr<Object>> objects_;
  uint32_t client_ = 0, next_handle_ = 0xc1d00000;
  std::map<int, int> ctl_fds_;          // control fds (value unused)
  std::map<int, bool> registered_fds_;  // /dev/nvidia0 fds registered with a control fd
  std::map<int, std::pair<uint32_t, uint64_t>> pending_maps_;  // fd -> (memory, length)
  std::map<int, bool> events_;  // OS-event fds -> an event is pending
  bool uvm_initialized_ = false, gpu_registered_ = false, vaspace_registered_ = false;
  std::map<uint64_t, uint64_t> ranges_;   // UVM external ranges: base -> length
  std::map<uint64_t, Mapping> mappings_;  // GPU VA -> mapping
  std::vector<Channel*> channels_;
  Stats stats_;
  std::vector<LaunchRecord> launches_;
  std::string fault_;
  bool paused_ = false, stop_ = false;
  std::thread gpu_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_NV_EMULATOR_NV_EMULATOR_H_

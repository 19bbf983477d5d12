// Device: one accelerator (or the CPU) as the runtime sees it.
//
// A backend is one folder (drivers/cpu, drivers/null, ...) implementing these
// small interfaces — Device, Allocator (allocator.h), Compiler (compiler.h),
// Program (program.h), Queue (queue.h), Signal (signal.h) — and registering
// itself with the DeviceRegistry (device_registry.h). The runtime knows
// devices only through them.
//
//   ASSIGN_OR_RETURN(Device* cpu, DeviceRegistry::Global().Get("CPU"));
//   cpu->info().language;                       // "llvm-ir": what codegen renders
//   ASSIGN_OR_RETURN(std::string bin, cpu->compiler().Compile(name, source));
//   ASSIGN_OR_RETURN(std::unique_ptr<Program> p, cpu->LoadProgram(desc, bin));
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_DEVICE_H_
#define UOP_DRIVERS_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "drivers/allocator.h"
#include "drivers/compiler.h"
#include "drivers/program.h"
#include "drivers/queue.h"
#include "drivers/signal.h"

namespace uop {

// Bumped whenever a method is added to or changes in these interfaces; a
// backend registers with the version it was written for.
inline constexpr int kDeviceInterfaceVersion = 1;

// What codegen and the scheduler need to know about a device.
struct DeviceInfo {
  std::string name;                // canonical "<BACKEND>:<index>", e.g. "CPU:0"
  std::string description;         // human-readable, e.g. "AMD EPYC (znver4), 2 cores"
  std::string language;            // source the Compiler takes: "llvm-ir", "c", "cuda"
  int compute_units = 1;           // CPU cores / SMs / CUs a kernel can spread over
  int max_vector_bytes = 16;       // widest efficient SIMD register (64 with AVX-512)
  bool has_local = false;          // workgroups with local ids (GPUs)
  bool has_shared = false;         // memory shared within a workgroup (GPUs)
  LaunchDims max_global{1, 1, 1};  // largest grid per launch
  LaunchDims max_local{1, 1, 1};   // largest workgroup per launch
  uint64_t total_memory = 0;       // bytes of device memory
};

struct MemoryInfo {
  uint64_t total_bytes = 0;
  uint64_t bytes_in_use = 0;
  uint64_t peak_bytes_in_use = 0;
  uint64_t cached_bytes = 0;
};

class Device {
 public:
  virtual ~Device() = default;

  virtual const DeviceInfo& info() const = 0;
  const std::string& name() const { return info().name; }

  virtual Allocator& allocator() = 0;
  virtual Compiler& compiler() = 0;

  // Loads bytes made by compiler() (now or earlier, from the KernelCache).
  // desc.name is the entry symbol. InvalidArgument for bytes that are not a
  // loadable program for this device, naming what is wrong.
  virtual absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc& desc,
                                                               absl::string_view binary) = 0;

  // A new in-order queue named "<device>/<name>".
  virtual absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view name,
                                                             const QueueOptions& options = {}) = 0;

  // A new timeline signal starting at `initial`.
  virtual absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view name,
                                                               uint64_t initial = 0) = 0;

  // Memory totals for metrics; derived from allocator().stats().
  MemoryInfo memory_info();
};

}  // namespace uop

#endif  // UOP_DRIVERS_DEVICE_H_

// CpuDevice: the host CPU as a uop device ("CPU:0").
//
// Compiler: LlvmCompiler (LLVM IR → object, in process, host CPU features).
// Programs: ElfObject-mapped kernels run over a ThreadPool with one thread
// per available core (the caller included). Memory: CpuAllocator. Queues and
// signals: HostQueue / HostSignal. Registered as backend "CPU" with one
// device; the registry's device reads UOP_CPU_THREADS (thread count),
// UOP_CPU_SPIN_US (how long idle pool workers spin before sleeping: lower it
// on machines where serving threads compete for the cores) and UOP_CPU_OPT
// (LLVM optimization level) if set.
//
//   ASSIGN_OR_RETURN(Device* cpu, DeviceRegistry::Global().Get("CPU"));
//   // or, with explicit options (tests, benchmarks):
//   ASSIGN_OR_RETURN(auto cpu, CpuDevice::Create({.threads = 2}));
#ifndef UOP_DRIVERS_CPU_CPU_DEVICE_H_
#define UOP_DRIVERS_CPU_CPU_DEVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/cpu/cpu_allocator.h"
#include "drivers/cpu/llvm_compiler.h"
#include "drivers/cpu/thread_pool.h"
#include "drivers/device.h"

namespace uop {

class CpuDevice final : public Device {
 public:
  struct Options {
    int threads = 0;  // kernel threads incl. the caller; 0: every available core
    absl::Duration spin = absl::Microseconds(50);  // pool workers spin this long before sleeping
    CpuAllocator::Options memory;
    LlvmCompiler::Options compiler;
  };

  static absl::StatusOr<std::unique_ptr<CpuDevice>> Create(const Options& options);
  static absl::StatusOr<std::unique_ptr<CpuDevice>> Create() { return Create(Options{}); }

  const DeviceInfo& info() const override { return info_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc& desc,
                                                       absl::string_view binary) override;
  absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view name,
                                                     const QueueOptions& options = {}) override;
  absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view name,
                                                       uint64_t initial = 0) override;

  ThreadPool& pool() { return *pool_; }

 private:
  CpuDevice() = default;

  DeviceInfo info_;
  std::unique_ptr<CpuAllocator> allocator_;
  std::unique_ptr<LlvmCompiler> compiler_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_CPU_CPU_DEVICE_H_

// CpuProgram: a kernel loaded from an ELF object, run on the thread pool.
//
// Run calls the kernel once per core_id in [0, global.x), following the CPU
// kernel ABI of docs/compiler.md:
//   void <name>(void* const* bufs, const int64_t* vars, int64_t core_id)
// global.x == 1 runs on the calling thread; otherwise core ids are spread
// over the pool (the caller takes part). Every other launch extent must be
// 1. Timing, when asked for, is the wall time of the whole launch.
//
//   ASSIGN_OR_RETURN(auto p, CpuProgram::Load("CPU:0", desc, object_bytes, &pool));
//   RETURN_IF_ERROR(p->Run(bufs, vars, LaunchDims{2}, LaunchDims{}));
#ifndef UOP_DRIVERS_CPU_CPU_PROGRAM_H_
#define UOP_DRIVERS_CPU_CPU_PROGRAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "drivers/cpu/elf_loader.h"
#include "drivers/cpu/thread_pool.h"
#include "drivers/program.h"

namespace uop {

class CpuProgram final : public Program {
 public:
  using KernelFn = void (*)(void* const* bufs, const int64_t* vars, int64_t core_id);

  // Maps the object and finds desc.name in it. `pool` must outlive the program.
  static absl::StatusOr<std::unique_ptr<CpuProgram>> Load(std::string device,
                                                          const ProgramDesc& desc,
                                                          absl::string_view object,
                                                          ThreadPool* pool);

  const ProgramDesc& desc() const override { return desc_; }
  absl::Status Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                   LaunchDims global, LaunchDims local, RunTiming* timing = nullptr) override;

 private:
  CpuProgram(std::string device, ProgramDesc desc, std::unique_ptr<ElfObject> object, KernelFn fn,
             ThreadPool* pool)
      : device_(std::move(device)),
        desc_(std::move(desc)),
        object_(std::move(object)),
        fn_(fn),
        pool_(pool) {}

  const std::string device_;
  const ProgramDesc desc_;
  const std::unique_ptr<ElfObject> object_;
  const KernelFn fn_;
  ThreadPool* const pool_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_CPU_CPU_PROGRAM_H_

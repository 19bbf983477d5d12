// CudaProgram: a kernel loaded from a packed cubin (cuda_binary.h).
//
// Launch follows the CUDA kernel ABI of docs/gpu.md: `global` is the grid
// (blocks), `local` the block (threads); parameters are the first
// `abi.globals` buffers' device addresses, then `abi.vars` int64 values.
// Run launches on the device's sync stream and waits (bounded by the
// device's run timeout); with `timing` it measures the kernel with CUDA
// events. Enqueue only launches, on a caller's stream (queues, graphs).
//
//   ASSIGN_OR_RETURN(auto p, device->LoadProgram({"E_4", {16, 16}, 0}, binary));
//   RETURN_IF_ERROR(p->Run(bufs, {}, LaunchDims{4}, LaunchDims{32}));
//
// Thread safety: Run and Enqueue may be called from several threads.
#ifndef UOP_DRIVERS_CUDA_CUDA_PROGRAM_H_
#define UOP_DRIVERS_CUDA_CUDA_PROGRAM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "drivers/cuda/cuda_binary.h"
#include "drivers/cuda/cuda_stream.h"
#include "drivers/program.h"

namespace uop::cuda {

class CudaDevice;

// Kernel parameters for one launch: storage for the values and the pointer
// array cuLaunchKernel reads.
struct LaunchParams {
  absl::InlinedVector<uint64_t, 12> values;
  absl::InlinedVector<void*, 12> pointers;
  void Finish() {
    pointers.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) pointers[i] = &values[i];
  }
};

class CudaProgram final : public Program {
 public:
  static absl::StatusOr<std::unique_ptr<CudaProgram>> Load(CudaDevice* device,
                                                           const ProgramDesc& desc,
                                                           absl::string_view binary);
  ~CudaProgram() override;

  const ProgramDesc& desc() const override { return desc_; }
  absl::Status Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                   LaunchDims global, LaunchDims local, RunTiming* timing = nullptr) override;

  // Validates and launches on `stream` without waiting.
  absl::Status Enqueue(CUstream stream, absl::Span<DeviceBuffer* const> bufs,
                       absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local);
  // Validates a launch and fills its parameters (for graph nodes).
  absl::Status Prepare(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                       LaunchDims global, LaunchDims local, LaunchParams* params) const;

  CUfunction function() const { return function_; }
  // Unique per process (never reused, unlike addresses): graph cache keys.
  uint64_t serial() const { return serial_; }
  const KernelAbi& abi() const { return abi_; }
  CudaDevice* device() const { return device_; }

 private:
  CudaProgram(CudaDevice* device, ProgramDesc desc, KernelAbi abi, CUmodule module,
              CUfunction function)
      : device_(device), desc_(std::move(desc)), abi_(abi), module_(module), function_(function) {}

  CudaDevice* const device_;
  const ProgramDesc desc_;
  const KernelAbi abi_;
  CUmodule module_;
  CUfunction function_;
  const uint64_t serial_ = NextSerial();
  static uint64_t NextSerial();
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_CUDA_PROGRAM_H_

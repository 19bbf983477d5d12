// CudaDevice: one NVIDIA GPU through the CUDA driver API ("CUDA:<i>").
//
// Everything CUDA is loaded at run time (cuda_api.h, nvrtc_api.h): on a
// machine without the driver or a GPU, Count() is 0 and the registry offers
// no CUDA device; Create() says why (Availability()).
//
// Pieces: NvrtcCompiler for the device's architecture (sm_90 for an H100),
// CudaAllocator (caching pool, pinned staging), CudaProgram (cubin modules),
// CudaQueue (streams with host-bounded timeline signals, CUDA graphs for
// repeated command buffers), HostSignal as the Signal. Programs run on the
// device's own sync stream; Run waits at most Options::run_timeout and then
// fails with DeadlineExceeded (a kernel that never finishes cannot hang the
// caller).
//
// DeviceInfo.description starts with the GPU's name, then "(sm_XY, ...)":
// the CUDA renderer reads the architecture from it (ParseSmArch).
//
//   ASSIGN_OR_RETURN(Device* gpu, DeviceRegistry::Global().Get("CUDA"));
//   // or directly, with options:
//   ASSIGN_OR_RETURN(auto gpu, CudaDevice::Create(0, {.run_timeout = absl::Seconds(5)}));
#ifndef UOP_DRIVERS_CUDA_CUDA_DEVICE_H_
#define UOP_DRIVERS_CUDA_CUDA_DEVICE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/cuda/cuda_allocator.h"
#include "drivers/cuda/cuda_stream.h"
#include "drivers/cuda/nvrtc_compiler.h"
#include "drivers/device.h"

namespace uop::cuda {

class CudaProgram;

class CudaDevice final : public Device {
 public:
  struct Options {
    CudaAllocator::Options memory;
    // Bound of Program::Run (launch to completion).
    absl::Duration run_timeout = absl::Seconds(60);
    // Extra NVRTC flags (part of the compiler's cache key).
    std::vector<std::string> compiler_flags;
  };

  // Number of CUDA devices here; 0 without a driver, GPU or NVRTC.
  static int Count();
  // OK when CUDA devices can be created, else why not (driver missing, too
  // old, no GPU, NVRTC missing).
  static absl::Status Availability();

  static absl::StatusOr<std::unique_ptr<CudaDevice>> Create(int ordinal, const Options& options);
  static absl::StatusOr<std::unique_ptr<CudaDevice>> Create(int ordinal) {
    return Create(ordinal, Options{});
  }
  ~CudaDevice() override;

  const DeviceInfo& info() const override { return info_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc& desc,
                                                       absl::string_view binary) override;
  absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view name,
                                                     const QueueOptions& options = {}) override;
  absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view name,
                                                       uint64_t initial = 0) override;

  // Backend internals used by programs and queues.
  const CudaContext& context() const { return ctx_; }
  CudaAllocator& cuda_allocator() { return *allocator_; }
  int sm_arch() const { return sm_arch_; }  // 90 for sm_90
  int max_shared_optin() const { return max_shared_optin_; }
  absl::Duration run_timeout() const { return options_.run_timeout; }
  // Launches (kernel, dims) under the sync stream's lock and waits; with
  // `timing`, measures the kernel alone with events.
  absl::Status RunOnSyncStream(const CudaProgram& program, LaunchDims global, LaunchDims local,
                               void** params, RunTiming* timing);
  // InvalidArgument naming the program unless the dims fit the GPU's limits.
  absl::Status CheckLaunchDims(absl::string_view program, LaunchDims global, LaunchDims local,
                               int shared_bytes) const;

 private:
  CudaDevice() = default;

  Options options_;
  CudaContext ctx_;
  DeviceInfo info_;
  int sm_arch_ = 0;
  int max_shared_optin_ = 48 * 1024;
  LaunchDims grid_max_, block_max_;
  int max_threads_per_block_ = 1024;
  std::unique_ptr<NvrtcCompiler> compiler_;
  std::unique_ptr<CudaAllocator> allocator_;

  std::mutex run_mu_;  // one Run at a time on the sync stream (clean timings)
  std::unique_ptr<CudaStream> sync_stream_;
  CUevent start_event_ = nullptr, end_event_ = nullptr;
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_CUDA_DEVICE_H_

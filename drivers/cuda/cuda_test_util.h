// Shared pieces of the GPU tests: the device (or a clean skip without one)
// and small hand-written kernels in the renderer's ABI.
#ifndef UOP_DRIVERS_CUDA_CUDA_TEST_UTIL_H_
#define UOP_DRIVERS_CUDA_CUDA_TEST_UTIL_H_

#include <memory>
#include <string>

#include "drivers/cuda/cuda_device.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"

namespace uop::cuda::testing {

// The registry's CUDA:0, or nullptr when this machine has none.
inline CudaDevice* GpuOrNull() {
  if (!CudaDevice::Availability().ok()) return nullptr;
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("CUDA");
  return d.ok() ? static_cast<CudaDevice*>(*d) : nullptr;
}

#define UOP_GPU_OR_SKIP(var)                                                    \
  ::uop::cuda::CudaDevice* var = ::uop::cuda::testing::GpuOrNull();             \
  if (var == nullptr) {                                                         \
    GTEST_SKIP() << "no CUDA GPU: " << ::uop::cuda::CudaDevice::Availability(); \
  }

// out[i] = a[i] * 2 + i for i < n (n a variable).
inline constexpr char kScaleKernel[] = R"(// uop-abi: globals=2 vars=1 shared=0
extern "C" __global__ void scale(float* out, const float* a, long long var_n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < var_n) out[i] = a[i] * 2.0f + (float)i;
}
)";

// Spins until *flag (host memory mapped into the GPU) becomes non-zero: a
// kernel that "never finishes" until the test releases it.
inline constexpr char kSpinKernel[] = R"(// uop-abi: globals=1 vars=0 shared=0
extern "C" __global__ void spin(const volatile int* flag) {
  while (*flag == 0) __nanosleep(1000);
}
)";

// Loads `source` (entry `name`) for buffers of the given sizes.
inline absl::StatusOr<std::unique_ptr<Program>> LoadKernel(Device& d, const std::string& name,
                                                           const std::string& source,
                                                           std::vector<uint64_t> buffer_bytes,
                                                           int vars) {
  absl::StatusOr<std::string> bin = d.compiler().Compile(name, source);
  if (!bin.ok()) return bin.status();
  return d.LoadProgram(ProgramDesc{name, std::move(buffer_bytes), vars}, *bin);
}

}  // namespace uop::cuda::testing

#endif  // UOP_DRIVERS_CUDA_CUDA_TEST_UTIL_H_

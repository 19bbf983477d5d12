// Compiles a ProgramSpec on a device and runs it on host arrays: the shortest
// path from codegen to numbers, for tests and benchmarks of codegen alone.
#ifndef UOP_RUNTIME_CODEGEN_DEVICE_RUNNER_FOR_TEST_H_
#define UOP_RUNTIME_CODEGEN_DEVICE_RUNNER_FOR_TEST_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/device.h"
#include "runtime/codegen/program_spec.h"

namespace uop::testing {

class LoadedKernel {
 public:
  // Compiles spec.source with the device's compiler and loads it; allocates
  // one device buffer per slot.
  static absl::StatusOr<LoadedKernel> Load(Device& device, const ProgramSpec& spec);
  // Copies `inputs[slot]` into every slot that has data (empty = leave), runs,
  // and returns the contents of every buffer.
  absl::Status SetInput(int slot, const std::vector<uint8_t>& bytes);
  absl::Status Run(RunTiming* timing = nullptr);
  absl::StatusOr<std::vector<uint8_t>> Read(int slot);

  LoadedKernel(LoadedKernel&&) = default;
  LoadedKernel& operator=(LoadedKernel&&) = default;
  ~LoadedKernel();

 private:
  LoadedKernel() = default;
  Device* device_ = nullptr;
  ProgramSpec spec_;
  std::unique_ptr<Program> program_;
  std::vector<DeviceBuffer*> bufs_;
};

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  return std::vector<uint8_t>(p, p + v.size() * sizeof(T));
}
template <typename T>
std::vector<T> FromBytes(const std::vector<uint8_t>& b) {
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
  return v;
}

}  // namespace uop::testing

#endif  // UOP_RUNTIME_CODEGEN_DEVICE_RUNNER_FOR_TEST_H_

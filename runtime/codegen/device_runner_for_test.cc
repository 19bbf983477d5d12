#include "runtime/codegen/device_runner_for_test.h"

#include <cstring>

#include "runtime/base/status_macros.h"

namespace uop::testing {

absl::StatusOr<LoadedKernel> LoadedKernel::Load(Device& device, const ProgramSpec& spec) {
  LoadedKernel k;
  k.device_ = &device;
  k.spec_ = spec;
  ASSIGN_OR_RETURN(std::string binary, device.compiler().Compile(spec.name, spec.source));
  ProgramDesc desc;
  desc.name = spec.name;
  for (const ProgramBuffer& b : spec.buffers) {
    uint64_t bytes = static_cast<uint64_t>(std::max<int64_t>(b.size, 1)) * b.dtype.itemsize();
    desc.buffer_bytes.push_back(bytes);
    ASSIGN_OR_RETURN(DeviceBuffer * buf, device.allocator().Alloc(bytes));
    k.bufs_.push_back(buf);
  }
  desc.num_vars = static_cast<int>(spec.vars.size());
  ASSIGN_OR_RETURN(k.program_, device.LoadProgram(desc, binary));
  return k;
}

LoadedKernel::~LoadedKernel() {
  for (DeviceBuffer* b : bufs_)
    if (b) device_->allocator().Free(b);
}

absl::Status LoadedKernel::SetInput(int slot, const std::vector<uint8_t>& bytes) {
  return device_->allocator().CopyIn(*bufs_.at(slot), 0, bytes);
}

absl::Status LoadedKernel::Run(RunTiming* timing) {
  LaunchDims global{spec_.global_size[0], spec_.global_size[1], spec_.global_size[2]};
  LaunchDims local{spec_.local_size[0], spec_.local_size[1], spec_.local_size[2]};
  return program_->Run(bufs_, {}, global, local, timing);
}

absl::StatusOr<std::vector<uint8_t>> LoadedKernel::Read(int slot) {
  std::vector<uint8_t> out(bufs_.at(slot)->size());
  RETURN_IF_ERROR(device_->allocator().CopyOut(*bufs_[slot], 0, absl::MakeSpan(out)));
  return out;
}

}  // namespace uop::testing

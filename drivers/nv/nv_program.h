// NvProgram: a kernel of the NV device, loaded from the packed cubin the
// CUDA backend's NVRTC compiler makes (drivers/cuda/cuda_binary.h).
//
// Load parses the cubin (nv_cubin.h), checks it against the program's
// signature and the GPU (SM version, shared memory, launch bounds), uploads
// the code and any constant banks besides bank 0 into video memory (with
// relocations applied), makes sure the device provides the local memory the
// kernel's stack needs, and builds the QMD template (nv_qmd.h). A launch
// writes constant bank 0 (the driver area: block and grid dimensions,
// shared and local windows, the stack top; then the parameters: buffer
// addresses and int64 values at the offsets the cubin lists) next to a QMD
// copy in the engine's ring. Run goes through the device's own engine and
// waits, bounded by the device's run timeout; with `timing` it reports the
// wall time from submission to completion.
//
//   ASSIGN_OR_RETURN(auto p, device->LoadProgram({"E_4", {16, 16}, 0}, binary));
//   RETURN_IF_ERROR(p->Run(bufs, {}, LaunchDims{4}, LaunchDims{32}));
//
// Thread safety: Run may be called from several threads.
#ifndef UOP_DRIVERS_NV_NV_PROGRAM_H_
#define UOP_DRIVERS_NV_NV_PROGRAM_H_

#include <memory>
#include <string>

#include "absl/types/span.h"
#include "drivers/nv/nv_cubin.h"
#include "drivers/nv/nv_memory.h"
#include "drivers/nv/nv_qmd.h"
#include "drivers/program.h"

namespace uop {

class NvDevice;

class NvProgram final : public Program {
 public:
  // The per-thread local memory the CUDA ABI reserves under the stack.
  static constexpr uint32_t kStackReserve = 0x240;
  // Constant bank 0 offset of the stack top (c[0x0][0x28]) and its value.
  static constexpr uint32_t kStackTopOffset = 0x28;
  static constexpr uint32_t kStackTop = 0xfffdc0;

  static absl::StatusOr<std::unique_ptr<NvProgram>> Load(NvDevice* device, const ProgramDesc& desc,
                                                         absl::string_view binary);
  ~NvProgram() override;

  const ProgramDesc& desc() const override { return desc_; }
  absl::Status Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                   LaunchDims global, LaunchDims local, RunTiming* timing = nullptr) override;

  // Validates a launch (signature, ownership, GPU limits) and returns the
  // buffers' GPU addresses in slot order.
  absl::Status Prepare(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                       LaunchDims global, LaunchDims local,
                       absl::InlinedVector<uint64_t, 8>* addrs) const;
  // Writes constant bank 0 of one launch (cbank0_bytes() bytes) to `out`.
  void WriteConstants(uint8_t* out, absl::Span<const uint64_t> addrs,
                      absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local) const;
  uint32_t cbank0_bytes() const { return cbank0_bytes_; }
  const Qmd4& qmd_template() const { return qmd_; }
  const CubinKernel& kernel() const { return kernel_; }
  NvDevice* device() const { return device_; }
  // Unique per process (never reused): replay cache keys.
  uint64_t serial() const { return serial_; }

 private:
  NvProgram(NvDevice* device, ProgramDesc desc) : device_(device), desc_(std::move(desc)) {}

  NvDevice* const device_;
  const ProgramDesc desc_;
  CubinKernel kernel_;
  int globals_ = 0, vars_ = 0;
  uint32_t shared_bytes_ = 0;  // static + dynamic
  uint32_t cbank0_bytes_ = 0;  // rounded to 16
  NvAllocation image_;         // code, then the other constant banks
  Qmd4 qmd_;
  uint64_t serial_ = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_NV_NV_PROGRAM_H_

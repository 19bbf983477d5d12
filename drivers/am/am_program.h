// AmProgram: an AMDGPU kernel loaded on an AmDevice.
//
// Load lays out the code object (code_object.h), checks it against the
// ProgramDesc (the kernarg segment must be 8 bytes per buffer and variable:
// the AmdRenderer ABI with no implicit arguments), refuses what this driver
// cannot set up (LDS beyond the GPU's, scratch beyond
// Options::max_scratch_bytes: the queues set scratch up at dispatch,
// am_scratch.h), and uploads the
// image to executable VRAM. The dispatch's kernel_object is the uploaded
// kernel descriptor.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<AmProgram> p, AmProgram::Load(dev, desc, binary));
//   RETURN_IF_ERROR(p->Run(bufs, vars, LaunchDims{64}, LaunchDims{256}));
#ifndef UOP_DRIVERS_AM_AM_PROGRAM_H_
#define UOP_DRIVERS_AM_AM_PROGRAM_H_

#include <memory>

#include "absl/status/statusor.h"
#include "drivers/am/abi/hsa.h"
#include "drivers/am/am_interface.h"
#include "drivers/program.h"

namespace uop {

class AmDevice;

class AmProgram final : public Program {
 public:
  static absl::StatusOr<std::unique_ptr<AmProgram>> Load(AmDevice* device, const ProgramDesc& desc,
                                                         absl::string_view binary);
  ~AmProgram() override;

  const ProgramDesc& desc() const override { return desc_; }
  absl::Status Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                   LaunchDims global, LaunchDims local, RunTiming* timing = nullptr) override;

  AmDevice* device() const { return device_; }
  uint64_t kernel_object() const { return kernel_object_; }
  const hsa::kernel_descriptor& kd() const { return kd_; }
  // InvalidArgument naming the program unless the launch fits AQL's fields.
  absl::Status CheckLaunch(LaunchDims global, LaunchDims local) const;

 private:
  AmProgram(AmDevice* device, ProgramDesc desc) : device_(device), desc_(std::move(desc)) {}

  AmDevice* const device_;
  const ProgramDesc desc_;
  AmMemory image_;
  uint64_t kernel_object_ = 0;
  hsa::kernel_descriptor kd_{};
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AM_PROGRAM_H_

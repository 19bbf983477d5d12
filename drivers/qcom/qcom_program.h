// QcomProgram: an Adreno kernel loaded on a QcomDevice.
//
// Load parses the Adreno binary (adreno_binary.h), refuses what this driver
// does not bind (texture and image arguments, samplers, an argument count
// that differs from the ProgramDesc, a private-memory need above the device's
// stack) and uploads the instruction image into a read-only GPU object.
// Launches are encoded by QcomEngine from kernel(); Run launches on the
// device's own queue and waits (bounded by the device's run timeout).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<QcomProgram> p, QcomProgram::Load(dev, desc, binary));
//   RETURN_IF_ERROR(p->Run(bufs, vars, LaunchDims{64}, LaunchDims{128}));
#ifndef UOP_DRIVERS_QCOM_QCOM_PROGRAM_H_
#define UOP_DRIVERS_QCOM_QCOM_PROGRAM_H_

#include <memory>

#include "absl/status/statusor.h"
#include "drivers/program.h"
#include "drivers/qcom/kgsl.h"
#include "drivers/qcom/qcom_pm4.h"

namespace uop {

class QcomDevice;

class QcomProgram final : public Program {
 public:
  static absl::StatusOr<std::unique_ptr<QcomProgram>> Load(QcomDevice* device,
                                                           const ProgramDesc& desc,
                                                           absl::string_view binary);
  ~QcomProgram() override;

  const ProgramDesc& desc() const override { return desc_; }
  absl::Status Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                   LaunchDims global, LaunchDims local, RunTiming* timing = nullptr) override;

  QcomDevice* device() const { return device_; }
  const QcomKernel& kernel() const { return kernel_; }
  // InvalidArgument naming the program unless `local` fits the kernel and
  // the hardware's workgroup limits.
  absl::Status CheckLaunch(LaunchDims global, LaunchDims local) const;

 private:
  QcomProgram(QcomDevice* device, ProgramDesc desc) : device_(device), desc_(std::move(desc)) {}

  QcomDevice* const device_;
  const ProgramDesc desc_;
  QcomKernel kernel_;
  Kgsl::Memory image_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_QCOM_PROGRAM_H_

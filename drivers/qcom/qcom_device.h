// QcomDevice: a Qualcomm Adreno 6xx GPU driven through KGSL, without the
// vendor's OpenCL runtime ("QCOM:0").
//
// Pieces: Kgsl (the ioctls, through the KernelIo seam), QcomAllocator (KGSL
// GPU objects, host-visible), QcomProgram (Adreno binaries, uploaded
// instruction images), QcomEngine under DeviceQueue (one KGSL context per
// queue, PM4 indirect buffers, context timestamps as the fence; waits sleep
// in WAITTIMESTAMP_CTXTID, never in a loop), HostSignal as the Signal.
// Program::Run goes through the device's own queue and waits at most
// Options::run_timeout.
//
// The compiler is given: on a device, Qualcomm's OpenCL compiler
// (QcomClCompiler, dlopen'ed); under emulation the emulated compiler
// (drivers/qcom/emulator), which builds the same binary layout around a host
// twin. The language is "opencl" (OpenCL C from runtime/codegen's
// OpenClRenderer).
//
//   QcomDevice::Options o;
//   o.compiler = std::move(compiler);
//   ASSIGN_OR_RETURN(std::unique_ptr<QcomDevice> gpu, QcomDevice::Create(std::move(o)));
//
// Registered as backend "QCOM" (one device when /dev/kgsl-3d0 opens and the
// OpenCL library loads); the emulated one is "QCOM_EMU" (emulator/).
#ifndef UOP_DRIVERS_QCOM_QCOM_DEVICE_H_
#define UOP_DRIVERS_QCOM_QCOM_DEVICE_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "drivers/common/device_queue.h"
#include "drivers/common/kernel_io.h"
#include "drivers/device.h"
#include "drivers/qcom/kgsl.h"
#include "drivers/qcom/qcom_memory.h"

namespace uop {

class QcomProgram;

class QcomDevice final : public Device {
 public:
  struct Options {
    KernelIo* io = nullptr;            // default: KernelIo::Real()
    std::shared_ptr<void> keep_alive;  // e.g. the emulated seam and its models
    std::string path = "/dev/kgsl-3d0";
    std::string name = "QCOM:0";
    std::unique_ptr<Compiler> compiler;  // required
    QcomAllocator::Options memory;
    absl::Duration run_timeout = absl::Seconds(60);
    absl::Duration wait_timeout = absl::Seconds(30);  // default queue wait bound
    size_t ring_bytes = size_t{4} << 20;              // command ring per queue
    size_t stack_bytes = size_t{1} << 20;             // private memory for all kernels
  };

  static absl::StatusOr<std::unique_ptr<QcomDevice>> Create(Options options);
  ~QcomDevice() override;

  const DeviceInfo& info() const override { return info_; }
  Allocator& allocator() override { return *allocator_; }
  Compiler& compiler() override { return *compiler_; }
  absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc& desc,
                                                       absl::string_view binary) override;
  absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view name,
                                                     const QueueOptions& options = {}) override;
  absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view name,
                                                       uint64_t initial = 0) override;

  // Internals for programs and queues.
  Kgsl& kgsl() { return *kgsl_; }
  QcomAllocator& qcom_allocator() { return *allocator_; }
  uint64_t stack_gpu() const { return stack_.gpu; }
  size_t stack_bytes() const { return stack_.size; }
  uint64_t flush_gpu() const { return flush_.gpu; }
  size_t ring_bytes() const { return options_.ring_bytes; }
  uint32_t chip_id() const { return chip_id_; }
  // Runs one launch on the device's own queue and waits for it.
  absl::Status RunSync(QcomProgram* program, absl::Span<DeviceBuffer* const> bufs,
                       absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local,
                       RunTiming* timing);

 private:
  explicit QcomDevice(Options options) : options_(std::move(options)) {}

  Options options_;
  std::unique_ptr<Kgsl> kgsl_;
  std::unique_ptr<Compiler> compiler_;
  std::unique_ptr<QcomAllocator> allocator_;
  Kgsl::Memory stack_, flush_;
  uint32_t chip_id_ = 0;
  DeviceInfo info_;
  std::unique_ptr<DeviceQueue> sync_queue_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_QCOM_DEVICE_H_

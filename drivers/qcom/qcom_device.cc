#include "drivers/qcom/qcom_device.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/host_signal.h"
#include "drivers/qcom/abi/adreno_a6xx.h"
#include "drivers/qcom/qcom_program.h"
#include "drivers/qcom/qcom_queue.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<std::unique_ptr<QcomDevice>> QcomDevice::Create(Options options) {
  if (options.compiler == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.name,
                     ": no OpenCL compiler for Adreno (Qualcomm's libOpenCL.so is needed to "
                     "turn kernels into Adreno binaries)"));
  }
  KernelIo& io = options.io != nullptr ? *options.io : KernelIo::Real();
  std::unique_ptr<QcomDevice> d(new QcomDevice(std::move(options)));
  const std::string& name = d->options_.name;
  ASSIGN_OR_RETURN(d->kgsl_, Kgsl::Open(io, d->options_.path, name));
  ASSIGN_OR_RETURN(kgsl::kgsl_devinfo dev, d->kgsl_->DeviceInfo());
  d->chip_id_ = dev.chip_id;
  if (a6xx::ChipCore(dev.chip_id) != 6) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: Adreno chip 0x%08x (gpu %u) is not a 6xx: this driver emits a6xx command streams only",
        name, dev.chip_id, dev.gpu_id));
  }
  d->compiler_ = std::move(d->options_.compiler);
  d->allocator_ = std::make_unique<QcomAllocator>(d->kgsl_.get(), name, d->options_.memory);
  ASSIGN_OR_RETURN(d->stack_, d->allocator_->AllocInternal(d->options_.stack_bytes, 0));
  ASSIGN_OR_RETURN(d->flush_, d->allocator_->AllocInternal(4096, 0));
  ASSIGN_OR_RETURN(std::unique_ptr<QcomEngine> engine,
                   QcomEngine::Create(d.get(), name + "/sync", d->options_.run_timeout));
  d->sync_queue_ = std::make_unique<DeviceQueue>(
      name, name + "/sync", QueueOptions{.wait_timeout = d->options_.run_timeout},
      std::move(engine));
  const uint64_t ram = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGESIZE));
  d->info_ = DeviceInfo{
      .name = name,
      .description = absl::StrFormat("Adreno %u (a%u%u%u, chip 0x%08x, KGSL%s)", dev.gpu_id,
                                     a6xx::ChipCore(dev.chip_id), a6xx::ChipMajor(dev.chip_id),
                                     a6xx::ChipMinor(dev.chip_id), dev.chip_id,
                                     io.emulated() ? ", emulated" : ""),
      .language = "opencl",
      .compute_units = 2,
      .max_vector_bytes = 16,
      .has_local = true,
      .has_shared = false,
      .max_global = LaunchDims{65535, 65535, 65535},
      .max_local = LaunchDims{1024, 1024, 1024},
      .total_memory = d->options_.memory.memory_limit != 0
                          ? std::min(ram, d->options_.memory.memory_limit)
                          : ram,
  };
  return d;
}

QcomDevice::~QcomDevice() {
  sync_queue_.reset();  // drains (bounded) before the memory it uses goes
  if (allocator_ != nullptr) {
    if (stack_.cpu != nullptr) allocator_->FreeInternal(stack_);
    if (flush_.cpu != nullptr) allocator_->FreeInternal(flush_);
    allocator_->ReleaseCached();
  }
}

absl::StatusOr<std::unique_ptr<Program>> QcomDevice::LoadProgram(const ProgramDesc& desc,
                                                                 absl::string_view binary) {
  ASSIGN_OR_RETURN(std::unique_ptr<QcomProgram> p, QcomProgram::Load(this, desc, binary));
  return std::unique_ptr<Program>(std::move(p));
}

absl::StatusOr<std::unique_ptr<Queue>> QcomDevice::CreateQueue(absl::string_view name,
                                                               const QueueOptions& options) {
  const std::string full = absl::StrCat(info_.name, "/", name);
  RETURN_IF_ERROR(ValidateWaitTimeout(options.wait_timeout, absl::StrCat("queue '", full, "'")));
  ASSIGN_OR_RETURN(std::unique_ptr<QcomEngine> engine,
                   QcomEngine::Create(this, full, options.wait_timeout));
  return std::unique_ptr<Queue>(new DeviceQueue(info_.name, full, options, std::move(engine)));
}

absl::StatusOr<std::unique_ptr<Signal>> QcomDevice::CreateSignal(absl::string_view name,
                                                                 uint64_t initial) {
  return std::unique_ptr<Signal>(new HostSignal(info_.name, std::string(name), initial));
}

absl::Status QcomDevice::RunSync(QcomProgram* program, absl::Span<DeviceBuffer* const> bufs,
                                 absl::Span<const int64_t> vars, LaunchDims global,
                                 LaunchDims local, RunTiming* timing) {
  auto cb = std::make_shared<CommandBuffer>();
  cb->Exec(program, bufs, vars, global, local);
  const absl::Time t0 = absl::Now();
  RETURN_IF_ERROR(sync_queue_->Submit(std::move(cb)));
  RETURN_IF_ERROR(sync_queue_->Wait(options_.run_timeout));
  if (timing != nullptr) timing->seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  return absl::OkStatus();
}

}  // namespace uop

#include "drivers/am/am_device.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/am_program.h"
#include "drivers/am/am_queue.h"
#include "drivers/am/amdgpu_compiler.h"
#include "drivers/device_registry.h"
#include "drivers/host_signal.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<std::unique_ptr<AmDevice>> AmDevice::Create(Options options) {
  KernelIo& io = options.io != nullptr ? *options.io : KernelIo::Real();
  if (options.name.empty()) options.name = absl::StrCat("AM:", options.index);
  std::unique_ptr<AmDevice> d(new AmDevice(std::move(options)));
  const std::string& name = d->options_.name;
  ASSIGN_OR_RETURN(std::vector<AmGpuNode> gpus, FindKfdGpus(io));
  if (d->options_.index < 0 || d->options_.index >= static_cast<int>(gpus.size())) {
    return absl::NotFoundError(absl::StrCat(name, ": KFD reports ", gpus.size(), " AMD GPUs"));
  }
  d->node_ = gpus[d->options_.index];
  ASSIGN_OR_RETURN(d->kfd_, Kfd::Open(io, d->node_, name));
  if (d->options_.compiler != nullptr) {
    d->compiler_ = std::move(d->options_.compiler);
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<AmdgpuCompiler> cc,
                     AmdgpuCompiler::Create({.arch = d->node_.arch}));
    d->compiler_ = std::move(cc);
  }
  ASSIGN_OR_RETURN(d->allocator_, AmAllocator::Create(d->kfd_.get(), name, d->options_.memory));
  ASSIGN_OR_RETURN(d->memory_event_, d->kfd_->CreateEvent(kfd::kEventMemory, false, nullptr));
  ASSIGN_OR_RETURN(d->hw_event_, d->kfd_->CreateEvent(kfd::kEventHwException, false, nullptr));
  ASSIGN_OR_RETURN(std::unique_ptr<AmEngine> engine,
                   AmEngine::Create(d.get(), name + "/sync", d->options_.run_timeout));
  d->sync_queue_ = std::make_unique<DeviceQueue>(
      name, name + "/sync", QueueOptions{.wait_timeout = d->options_.run_timeout},
      std::move(engine));
  const uint64_t vram = d->node_.property("local_mem_size", 0);
  d->info_ = DeviceInfo{
      .name = name,
      .description = absl::StrFormat("AMD GPU %04x (%s, %d CUs, %u MiB, KFD %u.%u%s)",
                                     static_cast<unsigned>(d->node_.property("device_id")),
                                     d->node_.arch, d->node_.compute_units(),
                                     static_cast<unsigned>(vram >> 20), d->kfd_->version_major(),
                                     d->kfd_->version_minor(), io.emulated() ? ", emulated" : ""),
      .language = "amdgcn",
      .compute_units = d->node_.compute_units(),
      .max_vector_bytes = 16,
      .has_local = true,
      .has_shared = false,
      .max_global = LaunchDims{(int64_t{1} << 31) - 1, 65535, 65535},
      .max_local = LaunchDims{1024, 1024, 1024},
      .total_memory = d->options_.memory.memory_limit != 0
                          ? std::min(vram, d->options_.memory.memory_limit)
                          : vram,
  };
  return d;
}

AmDevice::~AmDevice() {
  sync_queue_.reset();  // drains (bounded) before what it uses goes
  if (kfd_ != nullptr) {
    if (memory_event_ != 0) (void)kfd_->DestroyEvent(memory_event_);
    if (hw_event_ != 0) (void)kfd_->DestroyEvent(hw_event_);
  }
  allocator_.reset();
  compiler_.reset();
  kfd_.reset();
}

absl::StatusOr<std::unique_ptr<Program>> AmDevice::LoadProgram(const ProgramDesc& desc,
                                                               absl::string_view binary) {
  ASSIGN_OR_RETURN(std::unique_ptr<AmProgram> p, AmProgram::Load(this, desc, binary));
  return std::unique_ptr<Program>(std::move(p));
}

absl::StatusOr<std::unique_ptr<Queue>> AmDevice::CreateQueue(absl::string_view name,
                                                             const QueueOptions& options) {
  const std::string full = absl::StrCat(info_.name, "/", name);
  RETURN_IF_ERROR(ValidateWaitTimeout(options.wait_timeout, absl::StrCat("queue '", full, "'")));
  ASSIGN_OR_RETURN(std::unique_ptr<AmEngine> engine,
                   AmEngine::Create(this, full, options.wait_timeout));
  return std::unique_ptr<Queue>(new DeviceQueue(info_.name, full, options, std::move(engine)));
}

absl::StatusOr<std::unique_ptr<Signal>> AmDevice::CreateSignal(absl::string_view name,
                                                               uint64_t initial) {
  return std::unique_ptr<Signal>(new HostSignal(info_.name, std::string(name), initial));
}

absl::Status AmDevice::RunSync(AmProgram* program, absl::Span<DeviceBuffer* const> bufs,
                               absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local,
                               RunTiming* timing) {
  auto cb = std::make_shared<CommandBuffer>();
  cb->Exec(program, bufs, vars, global, local);
  const absl::Time t0 = absl::Now();
  RETURN_IF_ERROR(sync_queue_->Submit(std::move(cb)));
  RETURN_IF_ERROR(sync_queue_->Wait(options_.run_timeout));
  if (timing != nullptr) timing->seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  return absl::OkStatus();
}

namespace {

int CountKfdGpus() {
  static const int count = [] {
    absl::StatusOr<std::vector<AmGpuNode>> gpus = FindKfdGpus(KernelIo::Real());
    return gpus.ok() ? static_cast<int>(gpus->size()) : 0;
  }();
  return count;
}

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int index) {
  AmDevice::Options o;
  o.index = index;
  ASSIGN_OR_RETURN(std::unique_ptr<AmDevice> d, AmDevice::Create(std::move(o)));
  return std::unique_ptr<Device>(std::move(d));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(am, "AM", CountKfdGpus, CreateRegistered);

}  // namespace uop

#include "drivers/am/am_device.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/am_program.h"
#include "drivers/am/am_queue.h"
#include "drivers/am/amdgpu_compiler.h"
#include "drivers/am/kfd.h"
#include "drivers/device_registry.h"
#include "drivers/host_signal.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<std::unique_ptr<AmDevice>> AmDevice::Create(Options options) {
  KernelIo& io = options.io != nullptr ? *options.io : KernelIo::Real();
  if (options.name.empty()) options.name = absl::StrCat("AM:", options.index);
  const std::string& name = options.name;
  ASSIGN_OR_RETURN(std::vector<AmGpuNode> gpus, FindKfdGpus(io));
  if (options.index < 0 || options.index >= static_cast<int>(gpus.size())) {
    return absl::NotFoundError(absl::StrCat(name, ": KFD reports ", gpus.size(), " AMD GPUs"));
  }
  AmGpuNode node = gpus[options.index];
  ASSIGN_OR_RETURN(std::unique_ptr<Kfd> kfd, Kfd::Open(io, node, name));
  return Build(std::move(kfd), std::move(node), std::move(options));
}

absl::StatusOr<std::unique_ptr<AmDevice>> AmDevice::Create(std::unique_ptr<AmGpuInterface> gpu,
                                                           AmGpuNode node, Options options) {
  if (options.name.empty() && gpu != nullptr) options.name = gpu->device();
  if (gpu == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.name.empty() ? "AM" : options.name, ": no GPU interface given"));
  }
  for (const char* key : {"gfx_target_version", "simd_count"}) {
    if (node.property(key) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.name, ": the GPU's topology lacks '", key, "'"));
    }
  }
  if (node.arch.empty()) node.arch = GfxArchFromTargetVersion(node.property("gfx_target_version"));
  return Build(std::move(gpu), std::move(node), std::move(options));
}

absl::StatusOr<std::unique_ptr<AmDevice>> AmDevice::Build(std::unique_ptr<AmGpuInterface> gpu,
                                                          AmGpuNode node, Options options) {
  std::unique_ptr<AmDevice> d(new AmDevice(std::move(options)));
  const std::string& name = d->options_.name;
  d->node_ = std::move(node);
  d->gpu_ = std::move(gpu);
  if (d->options_.compiler != nullptr) {
    d->compiler_ = std::move(d->options_.compiler);
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<AmdgpuCompiler> cc,
                     AmdgpuCompiler::Create({.arch = d->node_.arch}));
    d->compiler_ = std::move(cc);
  }
  ASSIGN_OR_RETURN(d->allocator_, AmAllocator::Create(d->gpu_.get(), name, d->options_.memory));
  ASSIGN_OR_RETURN(AmEvent memory_event,
                   d->gpu_->CreateEvent(AmEventType::kMemoryFault, /*auto_reset=*/false));
  d->memory_event_ = memory_event.id;
  ASSIGN_OR_RETURN(AmEvent hw_event,
                   d->gpu_->CreateEvent(AmEventType::kHwException, /*auto_reset=*/false));
  d->hw_event_ = hw_event.id;
  ASSIGN_OR_RETURN(std::unique_ptr<AmEngine> engine,
                   AmEngine::Create(d.get(), name + "/sync", d->options_.run_timeout));
  d->sync_queue_ = std::make_unique<DeviceQueue>(
      name, name + "/sync", QueueOptions{.wait_timeout = d->options_.run_timeout},
      std::move(engine));
  const uint64_t vram = d->node_.property("local_mem_size", 0);
  d->info_ = DeviceInfo{
      .name = name,
      .description = absl::StrFormat("AMD GPU %04x (%s, %d CUs, %u MiB, %s)",
                                     static_cast<unsigned>(d->node_.property("device_id")),
                                     d->node_.arch, d->node_.compute_units(),
                                     static_cast<unsigned>(vram >> 20), d->gpu_->Describe()),
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
  if (gpu_ != nullptr) {
    if (memory_event_ != 0) (void)gpu_->DestroyEvent(memory_event_);
    if (hw_event_ != 0) (void)gpu_->DestroyEvent(hw_event_);
  }
  allocator_.reset();
  compiler_.reset();
  gpu_.reset();
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

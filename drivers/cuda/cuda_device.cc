#include "drivers/cuda/cuda_device.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "drivers/cuda/cuda_program.h"
#include "drivers/cuda/cuda_queue.h"
#include "drivers/device_registry.h"
#include "drivers/host_signal.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

// cuInit once per process; its result (with the device count) is kept.
struct Probe {
  absl::Status status;
  int count = 0;
};

const Probe& GetProbe() {
  static const Probe* const probe = [] {
    auto* p = new Probe();
    absl::StatusOr<const CudaApi*> api = CudaApi::Get();
    if (!api.ok()) {
      p->status = api.status();
      return p;
    }
    const CudaApi& cu = **api;
    p->status = cu.Check(cu.cuInit(0), "cuInit", "CUDA");
    if (p->status.ok())
      p->status = cu.Check(cu.cuDeviceGetCount(&p->count), "cuDeviceGetCount", "CUDA");
    if (p->status.ok() && p->count == 0) {
      p->status = absl::FailedPreconditionError("CUDA: the driver reports no GPU");
    }
    if (p->status.ok()) {
      absl::StatusOr<const NvrtcApi*> nvrtc = NvrtcApi::Get();
      if (!nvrtc.ok()) p->status = nvrtc.status();
    }
    if (!p->status.ok()) p->count = 0;
    return p;
  }();
  return *probe;
}

}  // namespace

int CudaDevice::Count() { return GetProbe().count; }
absl::Status CudaDevice::Availability() { return GetProbe().status; }

absl::StatusOr<std::unique_ptr<CudaDevice>> CudaDevice::Create(int ordinal,
                                                               const Options& options) {
  RETURN_IF_ERROR(Availability());
  if (ordinal < 0 || ordinal >= Count()) {
    return absl::NotFoundError(
        absl::StrCat("CUDA: no device ", ordinal, " (", Count(), " present)"));
  }
  ASSIGN_OR_RETURN(const CudaApi* cu, CudaApi::Get());
  std::unique_ptr<CudaDevice> d(new CudaDevice());
  d->options_ = options;
  CudaContext& ctx = d->ctx_;
  ctx.api = cu;
  ctx.name = absl::StrCat("CUDA:", ordinal);
  RETURN_IF_ERROR(ctx.Check(cu->cuDeviceGet(&ctx.device, ordinal), "cuDeviceGet"));
  RETURN_IF_ERROR(
      ctx.Check(cu->cuDevicePrimaryCtxRetain(&ctx.ctx, ctx.device), "cuDevicePrimaryCtxRetain"));
  RETURN_IF_ERROR(ctx.MakeCurrent());

  auto attr = [&](int a) -> absl::StatusOr<int> {
    int v = 0;
    RETURN_IF_ERROR(ctx.Check(cu->cuDeviceGetAttribute(&v, a, ctx.device), "cuDeviceGetAttribute"));
    return v;
  };
  ASSIGN_OR_RETURN(int major, attr(kAttrComputeCapabilityMajor));
  ASSIGN_OR_RETURN(int minor, attr(kAttrComputeCapabilityMinor));
  ASSIGN_OR_RETURN(int sms, attr(kAttrMultiprocessorCount));
  ASSIGN_OR_RETURN(d->max_threads_per_block_, attr(kAttrMaxThreadsPerBlock));
  ASSIGN_OR_RETURN(d->max_shared_optin_, attr(kAttrMaxSharedMemoryPerBlockOptin));
  ASSIGN_OR_RETURN(int bx, attr(kAttrMaxBlockDimX));
  ASSIGN_OR_RETURN(int by, attr(kAttrMaxBlockDimY));
  ASSIGN_OR_RETURN(int bz, attr(kAttrMaxBlockDimZ));
  ASSIGN_OR_RETURN(int gx, attr(kAttrMaxGridDimX));
  ASSIGN_OR_RETURN(int gy, attr(kAttrMaxGridDimY));
  ASSIGN_OR_RETURN(int gz, attr(kAttrMaxGridDimZ));
  d->block_max_ = LaunchDims{bx, by, bz};
  d->grid_max_ = LaunchDims{gx, gy, gz};
  d->sm_arch_ = major * 10 + minor;
  char name[256] = {};
  RETURN_IF_ERROR(
      ctx.Check(cu->cuDeviceGetName(name, sizeof(name) - 1, ctx.device), "cuDeviceGetName"));
  size_t total = 0;
  RETURN_IF_ERROR(ctx.Check(cu->cuDeviceTotalMem(&total, ctx.device), "cuDeviceTotalMem"));

  // Hopper-only instructions (wgmma) need the "a" target; it runs only on
  // that exact architecture, which is what this device is.
  NvrtcCompiler::Options copts;
  copts.arch = absl::StrCat("sm_", d->sm_arch_, d->sm_arch_ == 90 ? "a" : "");
  copts.flags = options.compiler_flags;
  ASSIGN_OR_RETURN(d->compiler_, NvrtcCompiler::Create(copts));
  ASSIGN_OR_RETURN(d->allocator_, CudaAllocator::Create(ctx, options.memory));
  d->sync_stream_ = std::make_unique<CudaStream>(ctx, ctx.name + "/sync");
  RETURN_IF_ERROR(d->sync_stream_->Init());
  RETURN_IF_ERROR(ctx.Check(cu->cuEventCreate(&d->start_event_, 0), "cuEventCreate"));
  RETURN_IF_ERROR(ctx.Check(cu->cuEventCreate(&d->end_event_, 0), "cuEventCreate"));

  d->info_ = DeviceInfo{
      .name = ctx.name,
      .description = absl::StrCat(name, " (sm_", d->sm_arch_, ", ", sms, " SMs, ", total >> 20,
                                  " MiB, driver ", cu->driver_version / 1000, ".",
                                  (cu->driver_version % 1000) / 10, ")"),
      .language = "cuda",
      .compute_units = sms,
      .max_vector_bytes = 16,
      .has_local = true,
      .has_shared = true,
      .max_global = d->grid_max_,
      .max_local = d->block_max_,
      .total_memory = total,
  };
  return d;
}

CudaDevice::~CudaDevice() {
  if (ctx_.api == nullptr) return;
  (void)ctx_.MakeCurrent();
  sync_stream_.reset();
  if (start_event_ != nullptr) ctx_.api->cuEventDestroy(start_event_);
  if (end_event_ != nullptr) ctx_.api->cuEventDestroy(end_event_);
  allocator_.reset();
  if (ctx_.ctx != nullptr) ctx_.api->cuDevicePrimaryCtxRelease(ctx_.device);
}

absl::Status CudaDevice::CheckLaunchDims(absl::string_view program, LaunchDims global,
                                         LaunchDims local, int shared_bytes) const {
  const bool grid_ok =
      global.x <= grid_max_.x && global.y <= grid_max_.y && global.z <= grid_max_.z;
  const bool block_ok = local.x <= block_max_.x && local.y <= block_max_.y &&
                        local.z <= block_max_.z && local.total() <= max_threads_per_block_;
  if (grid_ok && block_ok && shared_bytes <= max_shared_optin_) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      ctx_.name, ": program '", program, "': launch grid (", global.x, ", ", global.y, ", ",
      global.z, ") block (", local.x, ", ", local.y, ", ", local.z, ") shared ", shared_bytes,
      " exceeds the GPU's limits: grid (", grid_max_.x, ", ", grid_max_.y, ", ", grid_max_.z,
      "), block (", block_max_.x, ", ", block_max_.y, ", ", block_max_.z, ") of at most ",
      max_threads_per_block_, " threads, ", max_shared_optin_, " bytes shared"));
}

absl::Status CudaDevice::RunOnSyncStream(const CudaProgram& program, LaunchDims global,
                                         LaunchDims local, void** params, RunTiming* timing) {
  std::lock_guard<std::mutex> lock(run_mu_);
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  CUstream s = sync_stream_->get();
  if (timing != nullptr) {
    RETURN_IF_ERROR(ctx_.Check(ctx_.api->cuEventRecord(start_event_, s), "cuEventRecord"));
  }
  RETURN_IF_ERROR(ctx_.Check(
      ctx_.api->cuLaunchKernel(
          program.function(), static_cast<unsigned>(global.x), static_cast<unsigned>(global.y),
          static_cast<unsigned>(global.z), static_cast<unsigned>(local.x),
          static_cast<unsigned>(local.y), static_cast<unsigned>(local.z),
          static_cast<unsigned>(program.abi().shared_bytes), s, params, nullptr),
      "cuLaunchKernel"));
  if (timing != nullptr) {
    RETURN_IF_ERROR(ctx_.Check(ctx_.api->cuEventRecord(end_event_, s), "cuEventRecord"));
  }
  RETURN_IF_ERROR(sync_stream_->Synchronize(
      options_.run_timeout, absl::StrCat("Run of program '", program.desc().name, "'")));
  if (timing != nullptr) {
    float ms = 0;
    RETURN_IF_ERROR(ctx_.Check(ctx_.api->cuEventElapsedTime(&ms, start_event_, end_event_),
                               "cuEventElapsedTime"));
    timing->seconds = ms * 1e-3;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Program>> CudaDevice::LoadProgram(const ProgramDesc& desc,
                                                                 absl::string_view binary) {
  ASSIGN_OR_RETURN(std::unique_ptr<CudaProgram> p, CudaProgram::Load(this, desc, binary));
  return std::unique_ptr<Program>(std::move(p));
}

absl::StatusOr<std::unique_ptr<Queue>> CudaDevice::CreateQueue(absl::string_view name,
                                                               const QueueOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<CudaQueue> q,
                   CudaQueue::Create(this, absl::StrCat(ctx_.name, "/", name), options));
  return std::unique_ptr<Queue>(std::move(q));
}

absl::StatusOr<std::unique_ptr<Signal>> CudaDevice::CreateSignal(absl::string_view name,
                                                                 uint64_t initial) {
  return std::unique_ptr<Signal>(new HostSignal(ctx_.name, std::string(name), initial));
}

namespace {

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int index) {
  CudaDevice::Options options;
  if (const char* t = std::getenv("UOP_CUDA_RUN_TIMEOUT_MS"); t != nullptr && *t != '\0') {
    int64_t ms;
    if (!absl::SimpleAtoi(t, &ms) || ms < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "UOP_CUDA_RUN_TIMEOUT_MS must be a positive number of milliseconds, got '", t, "'"));
    }
    options.run_timeout = absl::Milliseconds(ms);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<CudaDevice> d, CudaDevice::Create(index, options));
  return std::unique_ptr<Device>(std::move(d));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(cuda, "CUDA", CudaDevice::Count, CreateRegistered);

}  // namespace uop::cuda

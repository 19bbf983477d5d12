#include "drivers/cuda/cuda_program.h"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/cuda/cuda_device.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

constexpr int kDefaultSharedLimit = 48 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<CudaProgram>> CudaProgram::Load(CudaDevice* device,
                                                               const ProgramDesc& desc,
                                                               absl::string_view binary) {
  const CudaContext& ctx = device->context();
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(ctx.name, ": loading kernel '", desc.name, "': ", why));
  };
  absl::StatusOr<UnpackedBinary> unpacked = UnpackBinary(binary);
  if (!unpacked.ok()) return bad(unpacked.status().message());
  const KernelAbi abi = unpacked->abi;
  if (abi.globals > static_cast<int>(desc.buffer_bytes.size())) {
    return bad(absl::StrCat("the kernel takes ", abi.globals, " buffers, the program has ",
                            desc.buffer_bytes.size()));
  }
  if (abi.vars != 0 && abi.vars != desc.num_vars) {
    return bad(
        absl::StrCat("the kernel takes ", abi.vars, " variables, the program has ", desc.num_vars));
  }
  if (abi.shared_bytes > device->max_shared_optin()) {
    return bad(absl::StrCat("needs ", abi.shared_bytes, " bytes of shared memory, the GPU has ",
                            device->max_shared_optin()));
  }
  RETURN_IF_ERROR(ctx.MakeCurrent());
  // cuModuleLoadData reads the image from memory it may keep pointing at
  // until it returns; the driver copies what it needs.
  std::string image(unpacked->cubin);
  CUmodule module = nullptr;
  CUresult r = ctx.api->cuModuleLoadData(&module, image.data());
  if (r == kCudaErrorOutOfMemory) return ctx.Check(r, "cuModuleLoadData");
  if (r != kCudaSuccess) return bad(ctx.api->ErrorText(r));
  CUfunction fn = nullptr;
  r = ctx.api->cuModuleGetFunction(&fn, module, desc.name.c_str());
  if (r != kCudaSuccess) {
    ctx.api->cuModuleUnload(module);
    return bad(absl::StrCat("no kernel of that name in the module (", ctx.api->ErrorText(r), ")"));
  }
  if (abi.shared_bytes > kDefaultSharedLimit) {
    r = ctx.api->cuFuncSetAttribute(fn, kFuncAttrMaxDynamicSharedBytes, abi.shared_bytes);
    if (r != kCudaSuccess) {
      ctx.api->cuModuleUnload(module);
      return ctx.Check(r, "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
    }
  }
  return std::unique_ptr<CudaProgram>(new CudaProgram(device, desc, abi, module, fn));
}

uint64_t CudaProgram::NextSerial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

CudaProgram::~CudaProgram() {
  const CudaContext& ctx = device_->context();
  (void)ctx.MakeCurrent();
  ctx.api->cuModuleUnload(module_);
}

absl::Status CudaProgram::Prepare(absl::Span<DeviceBuffer* const> bufs,
                                  absl::Span<const int64_t> vars, LaunchDims global,
                                  LaunchDims local, LaunchParams* params) const {
  const std::string& dev = device_->context().name;
  RETURN_IF_ERROR(ValidateLaunch(desc_, dev, bufs, vars, global, local));
  RETURN_IF_ERROR(device_->CheckLaunchDims(desc_.name, global, local, abi_.shared_bytes));
  params->values.clear();
  for (int i = 0; i < abi_.globals; ++i) {
    if (bufs[i]->owner() != &device_->allocator()) {
      return absl::InvalidArgumentError(absl::StrCat(dev, ": program '", desc_.name,
                                                     "': buffer slot ", i, " (#", bufs[i]->id(),
                                                     ") belongs to another device"));
    }
    params->values.push_back(bufs[i]->device_address());
  }
  if (abi_.vars != 0) {
    for (int64_t v : vars) {
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof(bits));
      params->values.push_back(bits);
    }
  }
  params->Finish();
  return absl::OkStatus();
}

absl::Status CudaProgram::Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                              LaunchDims global, LaunchDims local, RunTiming* timing) {
  LaunchParams params;
  RETURN_IF_ERROR(Prepare(bufs, vars, global, local, &params));
  return device_->RunOnSyncStream(*this, global, local, params.pointers.data(), timing);
}

absl::Status CudaProgram::Enqueue(CUstream stream, absl::Span<DeviceBuffer* const> bufs,
                                  absl::Span<const int64_t> vars, LaunchDims global,
                                  LaunchDims local) {
  LaunchParams params;
  RETURN_IF_ERROR(Prepare(bufs, vars, global, local, &params));
  const CudaContext& ctx = device_->context();
  RETURN_IF_ERROR(ctx.MakeCurrent());
  return ctx.Check(
      ctx.api->cuLaunchKernel(
          function_, static_cast<unsigned>(global.x), static_cast<unsigned>(global.y),
          static_cast<unsigned>(global.z), static_cast<unsigned>(local.x),
          static_cast<unsigned>(local.y), static_cast<unsigned>(local.z),
          static_cast<unsigned>(abi_.shared_bytes), stream, params.pointers.data(), nullptr),
      "cuLaunchKernel");
}

}  // namespace uop::cuda

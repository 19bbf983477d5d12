#include "drivers/nv/nv_program.h"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/cuda/cuda_binary.h"
#include "drivers/nv/nv_device.h"
#include "drivers/nv/nv_queue.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

std::atomic<uint64_t> next_serial{1};

// Bytes after the code the instruction prefetcher may touch.
constexpr uint64_t kPrefetchPad = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<NvProgram>> NvProgram::Load(NvDevice* device,
                                                           const ProgramDesc& desc,
                                                           absl::string_view binary) {
  const std::string& dev = device->name();
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(dev, ": loading kernel '", desc.name, "': ", why));
  };
  absl::StatusOr<cuda::UnpackedBinary> unpacked = cuda::UnpackBinary(binary);
  if (!unpacked.ok()) return bad(unpacked.status().message());
  const cuda::KernelAbi abi = unpacked->abi;
  if (abi.globals > static_cast<int>(desc.buffer_bytes.size())) {
    return bad(absl::StrCat("the kernel takes ", abi.globals, " buffers, the program has ",
                            desc.buffer_bytes.size()));
  }
  if (abi.vars != 0 && abi.vars != desc.num_vars) {
    return bad(
        absl::StrCat("the kernel takes ", abi.vars, " variables, the program has ", desc.num_vars));
  }
  absl::StatusOr<CubinKernel> k = ParseCubin(unpacked->cubin, desc.name);
  if (!k.ok()) return bad(k.status().message());
  std::unique_ptr<NvProgram> p(new NvProgram(device, desc));
  p->kernel_ = std::move(*k);
  p->globals_ = abi.globals;
  p->vars_ = abi.vars;
  p->serial_ = next_serial.fetch_add(1);
  const CubinKernel& kernel = p->kernel_;
  const int sm = device->gpu().sm;
  if (kernel.sm != 0 && kernel.sm != sm) {
    return bad(absl::StrCat("the cubin is for sm_", kernel.sm, ", the GPU is sm_", sm));
  }
  if (kernel.params.size() != static_cast<size_t>(abi.globals + abi.vars)) {
    return bad(absl::StrCat("the cubin lists ", kernel.params.size(), " parameters, the ABI ",
                            abi.globals + abi.vars));
  }
  for (const CubinParam& prm : kernel.params) {
    if (prm.size != 8 || prm.offset + 8 > kernel.param_bytes) {
      return bad(absl::StrCat("parameter ", prm.ordinal, " is ", prm.size, " bytes at offset ",
                              prm.offset, " (want 8-byte pointers and int64 values)"));
    }
  }
  // The system's 1 KiB per CTA is part of the static shared section on
  // sm_90; dynamic shared memory follows it.
  p->shared_bytes_ = std::max<uint32_t>(kernel.shared_bytes, 1024) + abi.shared_bytes;
  if (p->shared_bytes_ > kMaxSharedPerCta) {
    return bad(absl::StrCat("needs ", p->shared_bytes_, " bytes of shared memory, a CTA gets ",
                            kMaxSharedPerCta));
  }
  p->cbank0_bytes_ = static_cast<uint32_t>(RoundUp(kernel.cbank0_bytes, 16));
  if (p->cbank0_bytes_ < kStackTopOffset + 4) return bad("constant bank 0 is too small");

  // Code (256-byte aligned, prefetch padding after it), then the other banks.
  uint64_t size = RoundUp(kernel.code.size(), 256) + kPrefetchPad;
  std::vector<uint64_t> bank_offsets;
  for (const CubinConstBank& b : kernel.banks) {
    bank_offsets.push_back(size);
    size += RoundUp(std::max<size_t>(b.bytes.size(), 16), 256);
  }
  ASSIGN_OR_RETURN(p->image_, device->nv_allocator().AllocInternal(size, NvMemKind::kDeviceHost));
  std::string code = kernel.code;
  auto bank_va = [&](int bank) -> uint64_t {
    for (size_t i = 0; i < kernel.banks.size(); ++i) {
      if (kernel.banks[i].index == bank) return p->image_.va + bank_offsets[i];
    }
    return 0;
  };
  for (const CubinReloc& r : kernel.relocs) {
    const uint64_t base = r.target_bank < 0 ? p->image_.va : bank_va(r.target_bank);
    if (base == 0) return bad(absl::StrCat("relocation against missing bank ", r.target_bank));
    const uint64_t v = base + r.addend;
    if (r.type == CubinReloc::kAbs64) {
      std::memcpy(&code[r.offset], &v, 8);
    } else {
      const uint32_t half = r.type == CubinReloc::kAbs32Lo ? static_cast<uint32_t>(v)
                                                           : static_cast<uint32_t>(v >> 32);
      std::memcpy(&code[r.offset + 4], &half, 4);
    }
  }
  std::memcpy(p->image_.cpu, code.data(), code.size());
  std::memset(p->image_.cpu + code.size(), 0,
              RoundUp(code.size(), 256) + kPrefetchPad - code.size());
  for (size_t i = 0; i < kernel.banks.size(); ++i) {
    std::memcpy(p->image_.cpu + bank_offsets[i], kernel.banks[i].bytes.data(),
                kernel.banks[i].bytes.size());
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  device->NoteProgramUploaded();
  RETURN_IF_ERROR(device->EnsureLocalMemory(kernel.stack_bytes + kStackReserve));

  QmdProgram qp;
  qp.code_va = p->image_.va;
  qp.code_bytes = static_cast<uint32_t>(kernel.code.size());
  qp.registers = kernel.registers;
  qp.shared_bytes = p->shared_bytes_;
  qp.slm_bytes = device->local_memory().per_thread;
  qp.sm = sm;
  p->qmd_ = MakeQmdTemplate(qp);
  for (size_t i = 0; i < kernel.banks.size(); ++i) {
    SetQmdConstantBuffer(p->qmd_, kernel.banks[i].index, p->image_.va + bank_offsets[i],
                         static_cast<uint32_t>(kernel.banks[i].bytes.size()));
  }
  return p;
}

NvProgram::~NvProgram() { device_->nv_allocator().FreeInternal(image_); }

absl::Status NvProgram::Prepare(absl::Span<DeviceBuffer* const> bufs,
                                absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local,
                                absl::InlinedVector<uint64_t, 8>* addrs) const {
  const std::string& dev = device_->name();
  RETURN_IF_ERROR(ValidateLaunch(desc_, dev, bufs, vars, global, local));
  RETURN_IF_ERROR(device_->CheckLaunchDims(desc_.name, global, local, shared_bytes_));
  addrs->clear();
  for (int i = 0; i < globals_; ++i) {
    if (bufs[i]->owner() != &device_->allocator()) {
      return absl::InvalidArgumentError(absl::StrCat(dev, ": program '", desc_.name,
                                                     "': buffer slot ", i, " (#", bufs[i]->id(),
                                                     ") belongs to another device"));
    }
    addrs->push_back(bufs[i]->device_address());
  }
  return absl::OkStatus();
}

void NvProgram::WriteConstants(uint8_t* out, absl::Span<const uint64_t> addrs,
                               absl::Span<const int64_t> vars, LaunchDims global,
                               LaunchDims local) const {
  std::memset(out, 0, cbank0_bytes_);
  const uint32_t dims[6] = {static_cast<uint32_t>(local.x),  static_cast<uint32_t>(local.y),
                            static_cast<uint32_t>(local.z),  static_cast<uint32_t>(global.x),
                            static_cast<uint32_t>(global.y), static_cast<uint32_t>(global.z)};
  std::memcpy(out, dims, sizeof(dims));  // blockDim at 0x0, gridDim at 0xc
  const uint64_t shared_window = NvDevice::kSharedWindow, local_window = NvDevice::kLocalWindow;
  std::memcpy(out + 0x18, &shared_window, 8);
  std::memcpy(out + 0x20, &local_window, 8);
  const uint32_t stack_top = kStackTop;
  std::memcpy(out + kStackTopOffset, &stack_top, 4);
  uint8_t* params = out + kernel_.param_base;
  for (size_t i = 0; i < addrs.size(); ++i) {
    std::memcpy(params + kernel_.params[i].offset, &addrs[i], 8);
  }
  if (vars_ != 0) {
    for (size_t i = 0; i < vars.size(); ++i) {
      std::memcpy(params + kernel_.params[globals_ + i].offset, &vars[i], 8);
    }
  }
}

absl::Status NvProgram::Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                            LaunchDims global, LaunchDims local, RunTiming* timing) {
  return device_->RunSync(this, bufs, vars, global, local, timing);
}

}  // namespace uop

#include "drivers/qcom/qcom_pm4.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/qcom/abi/adreno_a6xx.h"

namespace uop {
namespace {

using namespace a6xx;  // NOLINT: the register names read best unqualified

constexpr uint32_t RoundUp(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }
uint32_t Lo(uint64_t v) { return static_cast<uint32_t>(v); }
uint32_t Hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
uint32_t NextPow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

uint32_t PvtPerItem(const QcomKernel& k) { return RoundUp(k.private_bytes, 512) >> 9; }
uint32_t HwStackOffset(const QcomKernel& k) {
  return RoundUp(NextPow2(RoundUp(k.private_bytes, 512)) * 128 * 16, 0x1000);
}

}  // namespace

void Pm4Writer::Reg(uint32_t reg, std::initializer_list<uint32_t> values) {
  dwords_.push_back(Pkt4(reg, static_cast<uint32_t>(values.size())));
  dwords_.insert(dwords_.end(), values.begin(), values.end());
}

void Pm4Writer::Cmd(uint32_t opcode, std::initializer_list<uint32_t> payload) {
  dwords_.push_back(Pkt7(opcode, static_cast<uint32_t>(payload.size())));
  dwords_.insert(dwords_.end(), payload.begin(), payload.end());
}

QcomKernel KernelFromBinary(const std::string& name, const AdrenoProgramInfo& info) {
  QcomKernel k;
  k.name = name;
  k.image_bytes = RoundUp(static_cast<uint32_t>(info.image.size()), kShaderUnitBytes);
  k.first_exec_offset = info.first_exec_offset;
  k.branch_stack = info.branch_stack;
  k.full_regs = info.full_regs;
  k.half_regs = info.half_regs;
  k.shared_bytes = info.shared_bytes;
  k.private_bytes = info.private_bytes;
  k.arg_offsets = info.arg_offsets;
  k.constants = info.constants;
  // Registers bound the threads per workgroup (384 x 32 register file,
  // allocated per 128 threads).
  const uint32_t regs = std::max<uint32_t>(1, k.full_regs + RoundUp(k.half_regs, 2) / 2);
  k.max_threads = std::min<uint32_t>(1024, (384 * 32 / (regs * 128)) * 128);
  return k;
}

uint32_t StackBytesFor(const QcomKernel& k) { return HwStackOffset(k) * 4; }

absl::Status WriteLaunchArgs(const QcomKernel& k, absl::Span<DeviceBuffer* const> bufs,
                             absl::Span<const int64_t> vars, uint8_t* block, size_t block_bytes) {
  if (k.arg_offsets.size() != bufs.size() + vars.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel '", k.name, "' has ", k.arg_offsets.size(), " arguments, launch has ",
                     bufs.size(), " buffers and ", vars.size(), " variables"));
  }
  std::memset(block, 0, block_bytes);
  auto put = [&](uint32_t off, const void* p, size_t n, const char* what) -> absl::Status {
    if (off > block_bytes || n > block_bytes - off) {
      return absl::InvalidArgumentError(
          absl::StrCat("kernel '", k.name, "': ", what, " at constant offset ", off,
                       " lies outside the ", block_bytes, "-byte argument block"));
    }
    std::memcpy(block + off, p, n);
    return absl::OkStatus();
  };
  for (const AdrenoConstant& c : k.constants) {
    absl::Status st = put(c.offset_bytes, &c.value, c.size_bytes, "compiler constant");
    if (!st.ok()) return st;
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    const uint64_t addr = bufs[i]->device_address();
    absl::Status st = put(k.arg_offsets[i], &addr, 8, "buffer address");
    if (!st.ok()) return st;
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    absl::Status st = put(k.arg_offsets[bufs.size() + i], &vars[i], 8, "variable");
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

void EmitLaunch(Pm4Writer& w, const QcomKernel& k, uint64_t args_gpu, uint64_t stack_gpu,
                uint64_t flush_gpu, LaunchDims groups, LaunchDims local) {
  const auto u = [](int64_t v) { return static_cast<uint32_t>(v); };
  const uint32_t pvt_per_item = PvtPerItem(k);
  const uint32_t shared_size =
      std::max<uint32_t>(1, (k.shared_bytes > 0 ? k.shared_bytes - 1 : 0) / 1024);
  w.Cmd(kCpSetMarker, {kRenderModeCompute});
  w.Reg(kHlsqInvalidateCmd, {0x60});  // cs_state | cs_ibo
  w.Reg(kHlsqInvalidateCmd, {0});
  w.Cmd(kCpWaitForIdle, {});
  w.Reg(kHlsqCsNdrange0, {Ndrange0(3, u(local.x), u(local.y), u(local.z)), u(groups.x * local.x), 0,
                          u(groups.y * local.y), 0, u(groups.z * local.z), 0, 0xccc0cf, 0xfc,
                          u(groups.x), u(groups.y), u(groups.z)});
  const uint32_t ctrl0 = (kThreadSize64 << 20) | ((k.branch_stack & 0x3F) << 14) |
                         ((k.full_regs & 0x3F) << 7) | ((k.half_regs & 0x3F) << 1);
  w.Reg(kSpCsCtrlReg0,
        {ctrl0, shared_size, 0, k.first_exec_offset, Lo(k.image_gpu), Hi(k.image_gpu), pvt_per_item,
         Lo(stack_gpu), Hi(stack_gpu), pvt_per_item * 128 * 2});
  w.Cmd(kCpLoadState6Frag, {LoadState6(kStateTypeConstants, kStateSrcIndirect, kStateBlockCsShader,
                                       kQcomArgsBytes / kConstUnitBytes),
                            Lo(args_gpu), Hi(args_gpu)});
  w.Cmd(kCpLoadState6Frag, {LoadState6(kStateTypeShader, kStateSrcIndirect, kStateBlockCsShader,
                                       k.image_bytes / kShaderUnitBytes),
                            Lo(k.image_gpu), Hi(k.image_gpu)});
  // HLSQ_CONTROL_2..5 (no special registers) and HLSQ_CS_CNTL: 1024 constant
  // dwords (constlen is in vec4 / 4).
  const uint32_t constlen = kQcomArgsBytes / kConstUnitBytes;
  w.Reg(kHlsqControl2Reg,
        {0xfcfcfcfc, 0xfcfcfcfc, 0xfcfcfcfc, 0xfc, ((constlen >> 2) & 0xFF) | kHlsqCsCntlEnabled});
  w.Reg(kSpCsPvtMemHwStackOffset, {HwStackOffset(k)});
  w.Reg(kSpCsInstrLen, {k.image_bytes / 4});
  w.Reg(kSpCsConfig, {kSpCsConfigEnabled});
  w.Cmd(kCpRunOpencl, {0});
  w.Cmd(kCpEventWrite, {kEventCacheFlushTs, Lo(flush_gpu), Hi(flush_gpu), 0});
}

}  // namespace uop

#include "drivers/qcom/emulator/adreno_cp.h"

#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "drivers/qcom/abi/adreno_a6xx.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

using namespace a6xx;  // NOLINT

absl::Status Fault(uint64_t at, const std::string& what) {
  return absl::UnavailableError(absl::StrFormat("GPU fault at IB address 0x%x: %s", at, what));
}

}  // namespace

uint32_t AdrenoCp::reg(uint32_t r) const {
  auto it = regs_.find(r);
  return it == regs_.end() ? 0 : it->second;
}

uint64_t AdrenoCp::Reg64(uint32_t lo) const {
  return uint64_t{reg(lo)} | (uint64_t{reg(lo + 1)} << 32);
}

absl::Status AdrenoCp::Execute(uint64_t ib, uint64_t bytes) {
  if (bytes % 4 != 0) return Fault(ib, absl::StrFormat("IB size %u is not whole dwords", bytes));
  std::shared_ptr<EmuMemory::Bo> hold;
  const uint8_t* p = memory_->Translate(ib, bytes, &hold);
  if (p == nullptr) {
    return Fault(ib, absl::StrFormat("the %u-byte indirect buffer is not mapped", bytes));
  }
  // The CP reads the IB as it was at submission: copy it out.
  std::vector<uint32_t> dw(bytes / 4);
  std::memcpy(dw.data(), p, bytes);
  for (size_t i = 0; i < dw.size();) {
    const uint32_t h = dw[i];
    const uint64_t at = ib + 4 * i;
    ++stats_.packets;
    if (PacketType(h) == 4) {
      if (!Pkt4ParityOk(h)) return Fault(at, absl::StrFormat("bad type-4 header 0x%08x", h));
      const uint32_t n = Pkt4Count(h);
      if (i + 1 + n > dw.size()) return Fault(at, "type-4 payload runs past the IB end");
      for (uint32_t k = 0; k < n; ++k) regs_[Pkt4Reg(h) + k] = dw[i + 1 + k];
      i += 1 + n;
    } else if (PacketType(h) == 7) {
      if (!Pkt7ParityOk(h)) return Fault(at, absl::StrFormat("bad type-7 header 0x%08x", h));
      const uint32_t n = Pkt7Count(h);
      if (i + 1 + n > dw.size()) return Fault(at, "type-7 payload runs past the IB end");
      RETURN_IF_ERROR(Type7(Pkt7Opcode(h), dw.data() + i + 1, n, at));
      i += 1 + n;
    } else {
      return Fault(at, absl::StrFormat("packet type %u (header 0x%08x)", PacketType(h), h));
    }
  }
  return absl::OkStatus();
}

absl::Status AdrenoCp::Type7(uint32_t opcode, const uint32_t* d, uint32_t n, uint64_t at) {
  auto need = [&](uint32_t k) -> absl::Status {
    if (n >= k) return absl::OkStatus();
    return Fault(at,
                 absl::StrFormat("opcode 0x%02x has %u payload dwords, needs %u", opcode, n, k));
  };
  switch (opcode) {
    case kCpNop:
    case kCpWaitForIdle:  // in-order execution: always idle between packets
    case kCpWaitMemWrites:
      return absl::OkStatus();
    case kCpSetMarker:
      RETURN_IF_ERROR(need(1));
      mode_ = d[0] & 0xF;
      return absl::OkStatus();
    case kCpLoadState6Frag: {
      RETURN_IF_ERROR(need(3));
      if (LoadState6Src(d[0]) != kStateSrcIndirect ||
          LoadState6Block(d[0]) != kStateBlockCsShader) {
        return Fault(at, absl::StrFormat("CP_LOAD_STATE6 0x%08x: only indirect compute-shader "
                                         "state is emulated",
                                         d[0]));
      }
      const uint64_t va = uint64_t{d[1]} | (uint64_t{d[2]} << 32);
      const uint32_t units = LoadState6Units(d[0]);
      if (LoadState6Type(d[0]) == kStateTypeConstants) {
        consts_va_ = va;
        consts_units_ = units;
      } else if (LoadState6Type(d[0]) == kStateTypeShader) {
        shader_va_ = va;
        shader_units_ = units;
      } else {
        return Fault(at, absl::StrFormat("CP_LOAD_STATE6 state type %u", LoadState6Type(d[0])));
      }
      return absl::OkStatus();
    }
    case kCpMemWrite: {
      RETURN_IF_ERROR(need(3));
      const uint64_t va = uint64_t{d[0]} | (uint64_t{d[1]} << 32);
      uint8_t* dst = memory_->Translate(va, 4 * (n - 2));
      if (dst == nullptr) return Fault(at, absl::StrFormat("CP_MEM_WRITE to unmapped 0x%x", va));
      std::memcpy(dst, d + 2, 4 * (n - 2));
      return absl::OkStatus();
    }
    case kCpEventWrite: {
      RETURN_IF_ERROR(need(1));
      if ((d[0] & 0xFF) != kEventCacheFlushTs) return absl::OkStatus();  // plain event
      RETURN_IF_ERROR(need(4));
      const uint64_t va = uint64_t{d[1]} | (uint64_t{d[2]} << 32);
      uint8_t* dst = memory_->Translate(va, 4);
      if (dst == nullptr) {
        return Fault(at, absl::StrFormat("CACHE_FLUSH_TS write to unmapped 0x%x", va));
      }
      std::memcpy(dst, &d[3], 4);
      return absl::OkStatus();
    }
    case kCpRunOpencl:
      return RunOpencl(at);
    default:
      return Fault(at, absl::StrFormat("opcode 0x%02x is not emulated", opcode));
  }
}

absl::Status AdrenoCp::RunOpencl(uint64_t at) {
  if (mode_ != kRenderModeCompute) return Fault(at, "CP_RUN_OPENCL outside compute mode");
  if ((reg(kSpCsConfig) & kSpCsConfigEnabled) == 0) return Fault(at, "SP_CS_CONFIG not enabled");
  if ((reg(kHlsqCsCntl) & kHlsqCsCntlEnabled) == 0) return Fault(at, "HLSQ_CS_CNTL not enabled");
  const uint64_t obj = Reg64(kSpCsObjStartLo);
  const uint64_t image_bytes = uint64_t{reg(kSpCsInstrLen)} * 4;
  if (obj != shader_va_ || image_bytes == 0 ||
      image_bytes > uint64_t{shader_units_} * kShaderUnitBytes) {
    return Fault(at, absl::StrFormat("shader at SP_CS_OBJ_START 0x%x (%u bytes) is not the one "
                                     "CP_LOAD_STATE6 loaded (0x%x, %u units)",
                                     obj, image_bytes, shader_va_, shader_units_));
  }
  const uint32_t nd0 = reg(kHlsqCsNdrange0);
  const LaunchDims local{NdrangeLocalX(nd0), NdrangeLocalY(nd0), NdrangeLocalZ(nd0)};
  const LaunchDims groups{reg(kHlsqCsGroupX), reg(kHlsqCsGroupX + 1), reg(kHlsqCsGroupX + 2)};
  const LaunchDims global{reg(kHlsqCsNdrange0 + 1), reg(kHlsqCsNdrange0 + 3),
                          reg(kHlsqCsNdrange0 + 5)};
  if (global.x != groups.x * local.x || global.y != groups.y * local.y ||
      global.z != groups.z * local.z) {
    return Fault(at, absl::StrFormat("ND-range (%d, %d, %d) is not workgroups (%d, %d, %d) x "
                                     "workgroup (%d, %d, %d)",
                                     global.x, global.y, global.z, groups.x, groups.y, groups.z,
                                     local.x, local.y, local.z));
  }
  const uint8_t* image = memory_->Translate(obj, image_bytes);
  if (image == nullptr) return Fault(at, absl::StrFormat("shader at 0x%x is not mapped", obj));
  absl::StatusOr<const HostTwin*> twin = twins_->Get(absl::MakeConstSpan(image, image_bytes));
  if (!twin.ok()) {
    return Fault(at, absl::StrFormat("the shader at 0x%x is no program the emulator can run: %s",
                                     obj, std::string(twin.status().message())));
  }
  const TwinHeader& th = (*twin)->header();
  const uint64_t nargs = uint64_t{th.num_buffers} + th.num_vars;
  const uint64_t need_units = (nargs * 8 + kConstUnitBytes - 1) / kConstUnitBytes;
  const uint32_t constlen_units = (reg(kHlsqCsCntl) & 0xFF) * 4;
  if (consts_units_ < need_units || constlen_units < need_units) {
    return Fault(at, absl::StrFormat("%u arguments need %u constant units; %u loaded, HLSQ_CS_CNTL "
                                     "declares %u",
                                     nargs, need_units, consts_units_, constlen_units));
  }
  const uint8_t* consts = memory_->Translate(consts_va_, nargs * 8);
  if (consts == nullptr) {
    return Fault(at, absl::StrFormat("constants at 0x%x are not mapped", consts_va_));
  }
  absl::InlinedVector<void*, 8> bufs(th.num_buffers);
  std::vector<std::shared_ptr<EmuMemory::Bo>> holds(th.num_buffers);
  for (uint32_t i = 0; i < th.num_buffers; ++i) {
    uint64_t va;
    std::memcpy(&va, consts + 8 * i, 8);
    bufs[i] = memory_->Translate(va, 1, &holds[i]);
    if (bufs[i] == nullptr) {
      return Fault(at, absl::StrFormat("argument %u: buffer address 0x%x is not mapped", i, va));
    }
  }
  absl::InlinedVector<int64_t, 4> vars(th.num_vars);
  if (th.num_vars > 0) std::memcpy(vars.data(), consts + 8 * th.num_buffers, 8 * th.num_vars);
  RETURN_IF_ERROR((*twin)->RunGrid(bufs.data(), vars, groups, local));
  ++stats_.dispatches;
  stats_.work_items += static_cast<uint64_t>(global.total());
  return absl::OkStatus();
}

}  // namespace uop

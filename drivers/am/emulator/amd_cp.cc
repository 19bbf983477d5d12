#include "drivers/am/emulator/amd_cp.h"

#include <cstring>
#include <thread>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "drivers/am/abi/hsa.h"
#include "drivers/am/abi/kfd.h"
#include "drivers/am/abi/sdma.h"
#include "runtime/base/status_macros.h"

namespace uop {
absl::Status AmdCp::Fault(uint64_t at, const std::string& what) {
  fault_address_ = at;
  return absl::UnavailableError(absl::StrFormat("GPU fault at 0x%x: %s", at, what));
}

absl::Status AmdCp::Step(AmdQueueState& q, bool* progress, int max_packets,
                         absl::Duration latency) {
  if (q.faulted) return absl::OkStatus();
  return q.aql ? StepAql(q, progress, max_packets, latency) : StepSdma(q, progress, max_packets);
}

absl::StatusOr<const HostTwin*> AmdCp::TwinFor(uint64_t kernel_object, uint64_t at) {
  const std::optional<GpuAddressSpace::Allocation> bo = memory_->AllocationAt(kernel_object);
  if (!bo.has_value()) {
    return Fault(at, absl::StrFormat("kernel object 0x%x is not mapped", kernel_object));
  }
  if (!bo->executable) {
    return Fault(at, absl::StrFormat("kernel object 0x%x lies in memory not mapped executable",
                                     kernel_object));
  }
  const absl::Span<const uint8_t> all(bo->host, bo->size);
  auto it = twin_by_bo_.find(bo->id);
  if (it != twin_by_bo_.end()) {
    const CachedTwin& c = it->second;
    if (c.pos + c.blob.size() <= all.size() &&
        std::memcmp(all.data() + c.pos, c.blob.data(), c.blob.size()) == 0) {
      return c.twin;
    }
    twin_by_bo_.erase(it);  // other code now lives there
  }
  const size_t pos = FindTwin(all, 16);
  if (pos == std::string::npos) {
    return Fault(at, absl::StrFormat("the code object at 0x%x carries no host twin: the emulator "
                                     "cannot run its AMDGPU instructions",
                                     bo->va));
  }
  absl::StatusOr<const HostTwin*> twin = twins_->Get(all.subspan(pos));
  if (!twin.ok()) return Fault(at, std::string(twin.status().message()));
  absl::StatusOr<TwinHeader> header = ParseTwinHeader(all.subspan(pos));
  if (!header.ok()) return Fault(at, std::string(header.status().message()));
  const size_t blob_bytes =
      std::min<size_t>(all.size() - pos, sizeof(TwinHeader) + 64 + header->object_bytes);
  twin_by_bo_[bo->id] = CachedTwin{
      *twin, pos, std::vector<uint8_t>(all.begin() + pos, all.begin() + pos + blob_bytes)};
  return *twin;
}

absl::Status AmdCp::CheckScratch(const AmdQueueState& q, uint32_t packet_bytes,
                                 uint32_t kernel_bytes, bool wave32, uint64_t at) {
  if (packet_bytes < kernel_bytes) {
    return Fault(at, absl::StrFormat("the dispatch gives %u bytes of private segment per "
                                     "work-item, the kernel needs %u",
                                     packet_bytes, kernel_bytes));
  }
  // The amd_queue_t, from the read pointer as the CP finds it.
  const uint8_t* offset_word = memory_->Translate(q.read_ptr + 8, 4);
  if (offset_word == nullptr) return Fault(at, "the queue's read pointer is not mapped");
  uint32_t offset;
  std::memcpy(&offset, offset_word, 4);
  const uint8_t* qb = memory_->Translate(q.read_ptr - offset, sizeof(hsa::amd_queue));
  if (offset > q.read_ptr || qb == nullptr) {
    return Fault(at, absl::StrFormat("the amd_queue_t at read pointer 0x%x - %u is not mapped",
                                     q.read_ptr, offset));
  }
  hsa::amd_queue amdq;
  std::memcpy(&amdq, qb, sizeof(amdq));
  const uint64_t base = amdq.scratch_backing_memory_location;
  const uint64_t size = amdq.scratch_backing_memory_byte_size;
  if (base == 0 || size == 0 || memory_->Translate(base, size) == nullptr) {
    return Fault(at, absl::StrFormat("the kernel needs %u bytes of scratch per work-item; the "
                                     "queue's scratch (0x%x, %u bytes) is not mapped GPU memory",
                                     kernel_bytes, base, size));
  }
  const uint32_t lanes = wave32 ? 32 : 64;
  const uint32_t unit = config_.gfx_major < 11 ? 1024 : 256;
  const uint64_t slot = uint64_t{amdq.compute_tmpring_size >> 12} * unit;
  uint64_t waves = amdq.compute_tmpring_size & 0xFFF;
  if (config_.gfx_major >= 11) waves *= config_.shader_engines;
  if (slot < uint64_t{packet_bytes} * lanes || waves == 0 || waves * slot > size) {
    return Fault(
        at, absl::StrFormat("COMPUTE_TMPRING_SIZE 0x%x (%u waves of %u bytes) does not "
                            "give %u-lane waves of %u bytes per work-item room in the "
                            "queue's %u bytes of scratch",
                            amdq.compute_tmpring_size, waves, slot, lanes, packet_bytes, size));
  }
  ++stats_.scratch_dispatches;
  return absl::OkStatus();
}

absl::Status AmdCp::Dispatch(const AmdQueueState& q, const uint8_t* packet, uint64_t at) {
  hsa::kernel_dispatch_packet p;
  std::memcpy(&p, packet, sizeof(p));
  const uint8_t* kd_bytes = memory_->Translate(p.kernel_object, sizeof(hsa::kernel_descriptor));
  if (kd_bytes == nullptr) {
    return Fault(at, absl::StrFormat("kernel descriptor 0x%x is not mapped", p.kernel_object));
  }
  hsa::kernel_descriptor kd;
  std::memcpy(&kd, kd_bytes, sizeof(kd));
  const uint64_t code = p.kernel_object + static_cast<uint64_t>(kd.kernel_code_entry_byte_offset);
  if (memory_->Translate(code, 4) == nullptr) {
    return Fault(at, absl::StrFormat("kernel code 0x%x is not mapped", code));
  }
  if (kd.private_segment_fixed_size != 0) {
    RETURN_IF_ERROR(CheckScratch(q, p.private_segment_size, kd.private_segment_fixed_size,
                                 (kd.kernel_code_properties & (1u << 10)) != 0, at));
  }
  ASSIGN_OR_RETURN(const HostTwin* twin, TwinFor(p.kernel_object, at));
  const TwinHeader& th = twin->header();
  const uint64_t args = 8 * (uint64_t{th.num_buffers} + th.num_vars);
  if (kd.kernarg_size != args) {
    return Fault(at, absl::StrFormat("kernel descriptor declares %u bytes of kernel arguments, "
                                     "the kernel takes %u",
                                     kd.kernarg_size, args));
  }
  const uint8_t* ka = memory_->Translate(p.kernarg_address, std::max<uint64_t>(args, 1));
  if (ka == nullptr) {
    return Fault(at, absl::StrFormat("kernarg segment 0x%x is not mapped", p.kernarg_address));
  }
  const LaunchDims local{p.workgroup_size_x, p.workgroup_size_y, p.workgroup_size_z};
  if (local.total() == 0 || p.grid_size_x % local.x != 0 || p.grid_size_y % local.y != 0 ||
      p.grid_size_z % local.z != 0 || (p.setup & 3) == 0) {
    return Fault(at, absl::StrFormat("grid (%u, %u, %u) is not whole workgroups of (%d, %d, %d)",
                                     p.grid_size_x, p.grid_size_y, p.grid_size_z, local.x, local.y,
                                     local.z));
  }
  const LaunchDims groups{p.grid_size_x / local.x, p.grid_size_y / local.y,
                          p.grid_size_z / local.z};
  absl::InlinedVector<void*, 8> bufs(th.num_buffers);
  std::vector<std::shared_ptr<void>> holds(th.num_buffers);
  for (uint32_t i = 0; i < th.num_buffers; ++i) {
    uint64_t va;
    std::memcpy(&va, ka + 8 * i, 8);
    bufs[i] = memory_->Translate(va, 1, &holds[i]);
    if (bufs[i] == nullptr) {
      return Fault(at, absl::StrFormat("argument %u: buffer 0x%x is not mapped", i, va));
    }
  }
  absl::InlinedVector<int64_t, 4> vars(th.num_vars);
  if (th.num_vars > 0) std::memcpy(vars.data(), ka + 8 * th.num_buffers, 8 * th.num_vars);
  absl::Status run = twin->RunGrid(bufs.data(), vars, groups, local);
  if (!run.ok()) return Fault(at, std::string(run.message()));
  ++stats_.dispatches;
  stats_.work_items += static_cast<uint64_t>(groups.total() * local.total());
  return Complete(p.completion_signal, at);
}

absl::Status AmdCp::Complete(uint64_t signal, uint64_t at) {
  if (signal == 0) return absl::OkStatus();
  uint8_t* s = memory_->Translate(signal, sizeof(hsa::amd_signal));
  if (s == nullptr)
    return Fault(at, absl::StrFormat("completion signal 0x%x is not mapped", signal));
  auto* sig = reinterpret_cast<hsa::amd_signal*>(s);
  __atomic_fetch_sub(&sig->value, 1, __ATOMIC_ACQ_REL);
  const uint64_t mailbox = __atomic_load_n(&sig->event_mailbox_ptr, __ATOMIC_ACQUIRE);
  if (mailbox != 0) {
    uint8_t* m = memory_->Translate(mailbox, 8);
    if (m == nullptr)
      return Fault(at, absl::StrFormat("event mailbox 0x%x is not mapped", mailbox));
    const uint64_t id = sig->event_id;
    __atomic_store_n(reinterpret_cast<uint64_t*>(m), id, __ATOMIC_RELEASE);
    signal_event_(sig->event_id);
  }
  return absl::OkStatus();
}

absl::Status AmdCp::StepAql(AmdQueueState& q, bool* progress, int max_packets,
                            absl::Duration latency) {
  const uint64_t n = q.ring_bytes / sizeof(hsa::kernel_dispatch_packet);
  uint8_t* ring = memory_->Translate(q.ring, q.ring_bytes);
  auto* rptr = reinterpret_cast<uint64_t*>(memory_->Translate(q.read_ptr, 8));
  auto* wptr = reinterpret_cast<uint64_t*>(memory_->Translate(q.write_ptr, 8));
  if (ring == nullptr || rptr == nullptr || wptr == nullptr) {
    return Fault(q.ring, "the queue's ring or pointers are no longer mapped");
  }
  const uint64_t doorbell = __atomic_load_n(q.doorbell, __ATOMIC_ACQUIRE);
  const uint64_t write = __atomic_load_n(wptr, __ATOMIC_ACQUIRE);
  uint64_t read = __atomic_load_n(rptr, __ATOMIC_ACQUIRE);
  // The CP runs what is both written and announced by the doorbell.
  const uint64_t limit = write == 0 ? 0 : std::min(write, doorbell + 1);
  for (int k = 0; k < max_packets && read < limit; ++k) {
    uint8_t* slot = ring + (read % n) * sizeof(hsa::kernel_dispatch_packet);
    const uint64_t at = q.ring + (read % n) * sizeof(hsa::kernel_dispatch_packet);
    const uint16_t header = __atomic_load_n(reinterpret_cast<uint16_t*>(slot), __ATOMIC_ACQUIRE);
    const uint16_t type = header & hsa::kHeaderTypeMask;
    if (type == hsa::kPacketInvalid) break;  // not published yet
    // The packet's execution time (the emulated GPU's, not a driver's).
    if (latency > absl::ZeroDuration())
      std::this_thread::sleep_for(absl::ToChronoNanoseconds(latency));
    if (type == hsa::kPacketKernelDispatch) {
      RETURN_IF_ERROR(Dispatch(q, slot, at));
    } else if (type == hsa::kPacketBarrierAnd) {
      hsa::barrier_and_packet b;
      std::memcpy(&b, slot, sizeof(b));
      bool ready = true;
      for (uint64_t dep : b.dep_signal) {
        if (dep == 0) continue;
        uint8_t* s = memory_->Translate(dep, sizeof(hsa::amd_signal));
        if (s == nullptr) return Fault(at, absl::StrFormat("barrier signal 0x%x not mapped", dep));
        ready &=
            __atomic_load_n(&reinterpret_cast<hsa::amd_signal*>(s)->value, __ATOMIC_ACQUIRE) == 0;
      }
      if (!ready) break;  // try again later
      RETURN_IF_ERROR(Complete(b.completion_signal, at));
    } else {
      return Fault(at, absl::StrFormat("AQL packet type %u is not emulated", type));
    }
    __atomic_store_n(reinterpret_cast<uint16_t*>(slot), hsa::kPacketInvalid, __ATOMIC_RELEASE);
    ++read;
    __atomic_store_n(rptr, read, __ATOMIC_RELEASE);
    *progress = true;
  }
  return absl::OkStatus();
}

absl::Status AmdCp::StepSdma(AmdQueueState& q, bool* progress, int max_packets) {
  auto* ring = reinterpret_cast<uint32_t*>(memory_->Translate(q.ring, q.ring_bytes));
  auto* rptr = reinterpret_cast<uint64_t*>(memory_->Translate(q.read_ptr, 8));
  if (ring == nullptr || rptr == nullptr) return Fault(q.ring, "SDMA ring is no longer mapped");
  const uint64_t dwords = q.ring_bytes / 4;
  const uint64_t write = __atomic_load_n(q.doorbell, __ATOMIC_ACQUIRE);
  uint64_t read = __atomic_load_n(rptr, __ATOMIC_ACQUIRE);
  auto dw = [&](uint64_t byte_at, int i) { return ring[(byte_at / 4 + i) % dwords]; };
  auto addr = [&](uint64_t byte_at, int i) {
    return uint64_t{dw(byte_at, i)} | (uint64_t{dw(byte_at, i + 1)} << 32);
  };
  for (int k = 0; k < max_packets && read < write; ++k) {
    const uint32_t h = dw(read, 0);
    const uint64_t at = q.ring + read % q.ring_bytes;
    uint32_t size;
    switch (sdma::HeaderOp(h)) {
      case sdma::kOpNop:
        size = 1 + ((h >> 16) & 0x3FFF);
        break;
      case sdma::kOpCopy: {
        if (sdma::HeaderSubOp(h) != sdma::kSubOpCopyLinear) {
          return Fault(at, absl::StrFormat("SDMA copy sub-op %u", sdma::HeaderSubOp(h)));
        }
        const uint64_t bytes = uint64_t{dw(read, 1) & 0x3FFFFFFF} + 1;
        const uint64_t src = addr(read, 3), dst = addr(read, 5);
        uint8_t* s = memory_->Translate(src, bytes);
        uint8_t* d = memory_->Translate(dst, bytes);
        if (s == nullptr || d == nullptr) {
          return Fault(at, absl::StrFormat("SDMA copy of %u bytes 0x%x -> 0x%x touches unmapped "
                                           "memory",
                                           bytes, src, dst));
        }
        std::memmove(d, s, bytes);
        stats_.copied_bytes += bytes;
        size = sdma::kCopyLinearDwords;
        break;
      }
      case sdma::kOpFence: {
        uint8_t* d = memory_->Translate(addr(read, 1), 4);
        if (d == nullptr) return Fault(at, "SDMA fence to unmapped memory");
        __atomic_store_n(reinterpret_cast<uint32_t*>(d), dw(read, 3), __ATOMIC_RELEASE);
        size = sdma::kFenceDwords;
        break;
      }
      case sdma::kOpTrap:
        signal_event_(dw(read, 1));
        size = sdma::kTrapDwords;
        break;
      case sdma::kOpPollRegmem: {
        uint8_t* m = memory_->Translate(addr(read, 1), 4);
        if (m == nullptr) return Fault(at, "SDMA poll of unmapped memory");
        const uint32_t v = __atomic_load_n(reinterpret_cast<uint32_t*>(m), __ATOMIC_ACQUIRE);
        if (((h >> 28) & 7) != sdma::kPollFunctionGreaterEqual) {
          return Fault(at, "SDMA poll function is not emulated");
        }
        if ((v & dw(read, 4)) < dw(read, 3)) return absl::OkStatus();  // not yet
        size = sdma::kPollRegmemDwords;
        break;
      }
      default:
        return Fault(at, absl::StrFormat("SDMA opcode %u is not emulated", sdma::HeaderOp(h)));
    }
    read += 4 * size;
    __atomic_store_n(rptr, read, __ATOMIC_RELEASE);
    ++stats_.sdma_packets;
    *progress = true;
  }
  return absl::OkStatus();
}

}  // namespace uop

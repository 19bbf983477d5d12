// Kgsl: the KGSL calls the QCOM driver makes, typed, on one open
// /dev/kgsl-3d0, through the KernelIo seam (real or emulated).
//
// Memory: GPUOBJ_ALLOC with KGSL_MEMFLAGS_USE_CPU_MAP, then mmap at the
// object's offset (id << 12): KGSL assigns the GPU address at mmap, which
// GPUOBJ_INFO reports. Work: one draw context per queue; GPU_COMMAND submits
// an indirect buffer and returns the context's next timestamp; timestamps
// retire in order; WAITTIMESTAMP_CTXTID sleeps in the kernel until one
// retires (interrupt-driven) or its millisecond timeout passes.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Kgsl> k, Kgsl::Open(io, "/dev/kgsl-3d0", "QCOM:0"));
//   ASSIGN_OR_RETURN(uint32_t ctx, k->CreateContext(flags));
//   ASSIGN_OR_RETURN(Kgsl::Memory m, k->Alloc(4096, 0));
//   ASSIGN_OR_RETURN(uint32_t ts, k->Submit(ctx, ib_gpuaddr, ib_bytes));
//   ASSIGN_OR_RETURN(bool retired, k->WaitTimestamp(ctx, ts, 100));
//
// Thread safety: every method may be called from any thread (KGSL serializes).
#ifndef UOP_DRIVERS_QCOM_KGSL_H_
#define UOP_DRIVERS_QCOM_KGSL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "drivers/common/kernel_io.h"
#include "drivers/qcom/abi/kgsl.h"

namespace uop {

class Kgsl {
 public:
  struct Memory {
    uint32_t id = 0;
    size_t size = 0;    // what was asked
    size_t mapped = 0;  // mmap size
    uint8_t* cpu = nullptr;
    uint64_t gpu = 0;
  };

  static absl::StatusOr<std::unique_ptr<Kgsl>> Open(KernelIo& io, const std::string& path,
                                                    std::string device);
  ~Kgsl();
  Kgsl(const Kgsl&) = delete;
  Kgsl& operator=(const Kgsl&) = delete;

  KernelIo& io() const { return io_; }
  const std::string& device() const { return device_; }

  absl::StatusOr<kgsl::kgsl_devinfo> DeviceInfo();
  absl::StatusOr<uint32_t> CreateContext(uint32_t flags);
  absl::Status DestroyContext(uint32_t context);
  // Asks for the highest power level while `context` has work (best effort).
  absl::Status SetMaxPower(uint32_t context);

  // `flags`: KGSL_MEMFLAGS_* besides USE_CPU_MAP and the 4 KiB alignment.
  absl::StatusOr<Memory> Alloc(size_t bytes, uint64_t flags);
  absl::Status Free(const Memory& m);

  // Submits one indirect buffer; the context's timestamp for it.
  absl::StatusOr<uint32_t> Submit(uint32_t context, uint64_t ib_gpu, uint64_t ib_bytes);
  absl::StatusOr<uint32_t> RetiredTimestamp(uint32_t context);
  // True when `timestamp` retired, false when `timeout_ms` passed first;
  // errors (a faulted, invalidated context) otherwise.
  absl::StatusOr<bool> WaitTimestamp(uint32_t context, uint32_t timestamp, uint32_t timeout_ms);

 private:
  Kgsl(KernelIo& io, int fd, std::string device) : io_(io), fd_(fd), device_(std::move(device)) {}
  absl::Status Call(unsigned long request, void* arg, const char* name);

  KernelIo& io_;
  const int fd_;
  const std::string device_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_KGSL_H_

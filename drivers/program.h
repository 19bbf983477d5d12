// Program: a loaded, runnable kernel.
//
// Device::LoadProgram turns compiler bytes into a Program. Run launches it
// with the kernel ABI of docs/compiler.md: buffers by slot, symbolic variable
// values in the kernel's var order, and launch dimensions. Run validates its
// arguments against the ProgramDesc it was loaded with, so a wrong call is an
// error, never a kernel writing out of bounds.
//
//   ProgramDesc desc{.name = "E_4", .buffer_bytes = {16, 16, 16}, .num_vars = 0};
//   ASSIGN_OR_RETURN(std::unique_ptr<Program> p, device->LoadProgram(desc, binary));
//   DeviceBuffer* bufs[] = {out, a, b};
//   RETURN_IF_ERROR(p->Run(bufs, {}, LaunchDims{2}, LaunchDims{}));
//
// Thread safety: Run may be called from several threads at once.
#ifndef UOP_DRIVERS_PROGRAM_H_
#define UOP_DRIVERS_PROGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "drivers/buffer.h"

namespace uop {

// Grid or workgroup extent. On the CPU only global.x is used (number of
// core_id values); every other extent must be 1.
struct LaunchDims {
  int64_t x = 1;
  int64_t y = 1;
  int64_t z = 1;
  int64_t total() const { return x * y * z; }
  friend bool operator==(const LaunchDims& a, const LaunchDims& b) {
    return a.x == b.x && a.y == b.y && a.z == b.z;
  }
};

// What a loader needs besides the bytes: the entry symbol and the signature
// Run checks. Codegen's ProgramSpec maps onto it one to one.
struct ProgramDesc {
  std::string name;
  // Minimum size in bytes of each buffer slot (outputs first, then inputs).
  // Run requires exactly this many buffers, each at least this large.
  std::vector<uint64_t> buffer_bytes;
  // Number of symbolic variable values Run requires.
  int num_vars = 0;
};

struct RunTiming {
  double seconds = 0;  // wall time from launch to completion of every core/thread
};

class Program {
 public:
  virtual ~Program() = default;

  virtual const ProgramDesc& desc() const = 0;

  // Runs the kernel to completion (synchronously). `timing`, when not null,
  // receives the measured execution time (OPTIONAL for a backend: one that
  // cannot time leaves it untouched and says so in its header).
  // Errors: InvalidArgument naming the program and the wrong argument.
  virtual absl::Status Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                           LaunchDims global, LaunchDims local, RunTiming* timing = nullptr) = 0;
};

// Checks bufs/vars against desc (count, non-null, sizes) and that every
// extent is >= 1; the common half of every backend's Run validation.
absl::Status ValidateLaunch(const ProgramDesc& desc, absl::string_view device,
                            absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                            LaunchDims global, LaunchDims local);

}  // namespace uop

#endif  // UOP_DRIVERS_PROGRAM_H_

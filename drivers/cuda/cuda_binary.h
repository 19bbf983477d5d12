// The CUDA backend's compiled-kernel format: a small header describing the
// kernel's parameters, then the cubin NVRTC produced.
//
// The CUDA C renderer (runtime/codegen/cuda_renderer.h) writes one line
//   // uop-abi: globals=<G> vars=<V> shared=<S>
// into every kernel: the kernel takes G buffer pointers (slots 0..G-1, in
// slot order), then V int64 variable values (in the kernel's var order),
// and needs S bytes of dynamic shared memory. The compiler copies it into
// the binary so the loader knows how to launch the kernel without the source:
//
//   "UOPCUBIN" | u32 format version | u32 globals | u32 vars | u32 shared | cubin
//
//   ASSIGN_OR_RETURN(KernelAbi abi, ParseKernelAbi(source));
//   std::string bin = PackBinary(abi, cubin);
//   ASSIGN_OR_RETURN(UnpackedBinary u, UnpackBinary(bin));  // u.abi, u.cubin
#ifndef UOP_DRIVERS_CUDA_CUDA_BINARY_H_
#define UOP_DRIVERS_CUDA_CUDA_BINARY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::cuda {

struct KernelAbi {
  int globals = 0;
  int vars = 0;
  int shared_bytes = 0;  // dynamic shared memory per block
  friend bool operator==(const KernelAbi& a, const KernelAbi& b) {
    return a.globals == b.globals && a.vars == b.vars && a.shared_bytes == b.shared_bytes;
  }
};

struct UnpackedBinary {
  KernelAbi abi;
  absl::string_view cubin;  // points into the packed bytes
};

inline constexpr uint32_t kBinaryFormatVersion = 1;

// InvalidArgument when the source has no (or a malformed) uop-abi line.
absl::StatusOr<KernelAbi> ParseKernelAbi(absl::string_view source);

std::string PackBinary(const KernelAbi& abi, absl::string_view cubin);

// InvalidArgument naming what is wrong for bytes that are not a packed
// kernel (bad magic, version, sizes, or no ELF cubin after the header).
absl::StatusOr<UnpackedBinary> UnpackBinary(absl::string_view binary);

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_CUDA_BINARY_H_

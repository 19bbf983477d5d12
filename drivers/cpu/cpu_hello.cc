// The smallest program using the CPU backend, for measuring cold start
// (exec → exit) with shared vs static LLVM: finds the CPU device, compiles
// and runs one kernel, prints its result.
//
//   bazel build //drivers/cpu:cpu_hello && time bazel-bin/drivers/cpu/cpu_hello
//   cpu_hello --no-compile   # stop after creating the device
#include <cstdio>
#include <cstring>

#include "drivers/cpu/test_kernels.h"
#include "drivers/device_registry.h"

int main(int argc, char** argv) {
  absl::StatusOr<uop::Device*> dev = uop::DeviceRegistry::Global().Get("CPU");
  if (!dev.ok()) {
    std::fprintf(stderr, "%s\n", std::string(dev.status().message()).c_str());
    return 1;
  }
  if (argc > 1 && std::strcmp(argv[1], "--no-compile") == 0) return 0;
  uop::Device& d = **dev;
  absl::StatusOr<std::string> bin = d.compiler().Compile("vec16", uop::test_kernels::kVec16);
  if (!bin.ok()) {
    std::fprintf(stderr, "%s\n", std::string(bin.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<uop::Program>> p = d.LoadProgram({"vec16", {64, 64}, 1}, *bin);
  if (!p.ok()) return 1;
  uop::ScopedBuffer out(*d.allocator().Alloc(64)), in(*d.allocator().Alloc(64));
  float x[16];
  for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i);
  if (!d.allocator().CopyIn(*in, 0, uop::AsBytes(absl::MakeConstSpan(x))).ok()) return 1;
  uop::DeviceBuffer* bufs[] = {out.get(), in.get()};
  const int64_t n = 1;
  if (!(*p)->Run(bufs, {&n, 1}, {}, {}).ok()) return 1;
  if (!d.allocator().CopyOut(*out, 0, uop::AsWritableBytes(absl::MakeSpan(x))).ok()) return 1;
  std::printf("%g\n", x[15]);  // 15 * 2 + 1 = 31
  return x[15] == 31.0f ? 0 : 1;
}

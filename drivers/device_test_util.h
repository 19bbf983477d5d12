// Test helpers for driver tests that run programs on a Device: compile and
// load a kernel, upload a vector, read one back. Failures are recorded as
// GoogleTest failures at the caller's test (EXPECT), and the helpers return
// a null program or an empty buffer rather than crashing.
//
//   std::unique_ptr<Program> p = LoadForTest(d, "axpy", kAxpy, {32, 32, 32}, 1);
//   ScopedBuffer a = UploadForTest<float>(d, {1, 2, 3});
//   EXPECT_EQ(ReadForTest<float>(d, *a, 3), (std::vector<float>{1, 2, 3}));
#ifndef UOP_DRIVERS_DEVICE_TEST_UTIL_H_
#define UOP_DRIVERS_DEVICE_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "drivers/device.h"
#include "gtest/gtest.h"

namespace uop {

inline std::unique_ptr<Program> LoadForTest(Device& d, const char* name, const char* source,
                                            std::vector<uint64_t> buffer_bytes, int vars) {
  absl::StatusOr<std::string> bin = d.compiler().Compile(name, source);
  EXPECT_TRUE(bin.ok()) << name << ": " << bin.status();
  if (!bin.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<Program>> p = d.LoadProgram(
      {.name = name, .buffer_bytes = std::move(buffer_bytes), .num_vars = vars}, *bin);
  EXPECT_TRUE(p.ok()) << name << ": " << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

template <typename T>
ScopedBuffer UploadForTest(Device& d, const std::vector<T>& v) {
  absl::StatusOr<DeviceBuffer*> b = d.allocator().Alloc(v.size() * sizeof(T));
  EXPECT_TRUE(b.ok()) << b.status();
  if (!b.ok()) return ScopedBuffer(nullptr);
  absl::Status st = d.allocator().CopyIn(**b, 0, AsBytes(absl::MakeConstSpan(v)));
  EXPECT_TRUE(st.ok()) << st;
  return ScopedBuffer(*b);
}

template <typename T>
std::vector<T> ReadForTest(Device& d, const DeviceBuffer& b, size_t n) {
  std::vector<T> out(n);
  absl::Status st = d.allocator().CopyOut(b, 0, AsWritableBytes(absl::MakeSpan(out)));
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

}  // namespace uop

#endif  // UOP_DRIVERS_DEVICE_TEST_UTIL_H_

// Tests of the shared validation helpers of the device interface.
#include <vector>

#include "drivers/allocator.h"
#include "drivers/command_buffer.h"
#include "drivers/program.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

DeviceBuffer MakeBuffer(uint64_t id, size_t size) {
  return DeviceBuffer(nullptr, id, size, BufferOptions{}, nullptr, 0);
}

TEST(CheckBufferRange, AcceptsInsideAndRejectsOutsideWithoutOverflow) {
  DeviceBuffer b = MakeBuffer(7, 100);
  EXPECT_TRUE(CheckBufferRange(b, 0, 100, "CopyIn", "CPU:0").ok());
  EXPECT_TRUE(CheckBufferRange(b, 100, 0, "CopyIn", "CPU:0").ok());
  absl::Status st = CheckBufferRange(b, 50, 51, "CopyIn", "CPU:0");
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(st.message().find("buffer #7 of 100 bytes"), std::string::npos) << st;
  EXPECT_NE(st.message().find("CPU:0"), std::string::npos) << st;
  // offset + bytes would wrap around to a small number.
  EXPECT_FALSE(CheckBufferRange(b, 10, SIZE_MAX - 5, "CopyOut", "CPU:0").ok());
  EXPECT_FALSE(CheckBufferRange(b, 101, 0, "CopyOut", "CPU:0").ok());
}

TEST(MakeSubBuffer, ViewsShareMemoryAndNestWithOffsets) {
  uint8_t memory[256];
  DeviceBuffer arena(nullptr, 9, 256, BufferOptions{.host_visible = true}, memory, 0x1000);
  absl::StatusOr<std::unique_ptr<DeviceBuffer>> v = MakeSubBuffer(arena, 64, 128);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->size(), 128u);
  EXPECT_EQ((*v)->host_ptr(), memory + 64);
  EXPECT_EQ((*v)->device_address(), 0x1040u);
  EXPECT_EQ((*v)->id(), 9u);
  EXPECT_EQ((*v)->parent(), &arena);
  EXPECT_EQ((*v)->offset(), 64u);
  absl::StatusOr<std::unique_ptr<DeviceBuffer>> w = MakeSubBuffer(**v, 32, 16);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->parent(), &arena) << "a view of a view points at the allocation";
  EXPECT_EQ((*w)->offset(), 96u);
  EXPECT_EQ((*w)->host_ptr(), memory + 96);
  EXPECT_EQ(MakeSubBuffer(**v, 120, 16).status().code(), absl::StatusCode::kOutOfRange);
  // Without host memory (a GPU or the null device) only the address moves.
  DeviceBuffer remote(nullptr, 3, 100, BufferOptions{}, nullptr, 0x2000);
  EXPECT_EQ((*MakeSubBuffer(remote, 10, 10))->host_ptr(), nullptr);
  EXPECT_EQ((*MakeSubBuffer(remote, 10, 10))->device_address(), 0x200au);
}

TEST(EffectiveAlignment, RaisesSmallAndRejectsNonPowerOfTwo) {
  EXPECT_EQ(*EffectiveAlignment(BufferOptions{.alignment = 8}, "X"), kMinBufferAlignment);
  EXPECT_EQ(*EffectiveAlignment(BufferOptions{.alignment = 4096}, "X"), 4096u);
  EXPECT_EQ(EffectiveAlignment(BufferOptions{.alignment = 96}, "X").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EffectiveAlignment(BufferOptions{.alignment = 0}, "X").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValidateLaunch, ChecksCountsSizesAndDims) {
  ProgramDesc desc{.name = "E_4", .buffer_bytes = {16, 8}, .num_vars = 1};
  DeviceBuffer a = MakeBuffer(1, 16), b = MakeBuffer(2, 4);
  DeviceBuffer* ok_bufs[] = {&a, &a};
  int64_t var = 3;
  EXPECT_TRUE(ValidateLaunch(desc, "CPU:0", ok_bufs, {&var, 1}, {2}, {}).ok());

  DeviceBuffer* small[] = {&a, &b};
  absl::Status st = ValidateLaunch(desc, "CPU:0", small, {&var, 1}, {2}, {});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("slot 1 (#2) has 4 bytes, the kernel needs 8"), std::string::npos)
      << st;

  DeviceBuffer* one[] = {&a};
  EXPECT_NE(
      ValidateLaunch(desc, "CPU:0", one, {&var, 1}, {2}, {}).message().find("takes 2 buffers"),
      std::string::npos);
  DeviceBuffer* with_null[] = {&a, nullptr};
  EXPECT_FALSE(ValidateLaunch(desc, "CPU:0", with_null, {&var, 1}, {2}, {}).ok());
  EXPECT_FALSE(ValidateLaunch(desc, "CPU:0", ok_bufs, {}, {2}, {}).ok());
  EXPECT_FALSE(ValidateLaunch(desc, "CPU:0", ok_bufs, {&var, 1}, {0}, {}).ok());
  EXPECT_FALSE(ValidateLaunch(desc, "CPU:0", ok_bufs, {&var, 1}, {1}, {1, -1, 1}).ok());
}

TEST(CommandBuffer, ValidateRejectsBadCommandsAndNamesTheirIndex) {
  DeviceBuffer a = MakeBuffer(1, 16), b = MakeBuffer(2, 16);
  CommandBuffer ok;
  ok.Copy(&a, 0, &b, 8, 8);
  // Same owner: the allocator's CopyBetween does it.
  EXPECT_TRUE(ok.Validate("q").ok()) << ok.Validate("q");

  CommandBuffer null_signal;
  null_signal.Copy(&a, 0, &b, 0, 4).SignalValue(nullptr, 1);
  EXPECT_NE(null_signal.Validate("q").message().find("command #1"), std::string::npos);

  DeviceBuffer other(reinterpret_cast<Allocator*>(&a), 3, 16, BufferOptions{}, nullptr, 0);
  CommandBuffer cross;
  cross.Copy(&a, 0, &other, 0, 4);
  EXPECT_EQ(cross.Validate("q").code(), absl::StatusCode::kInvalidArgument);

  CommandBuffer bad_timeout;
  bad_timeout.Wait(reinterpret_cast<Signal*>(&a), 1, absl::InfiniteDuration());
  EXPECT_EQ(bad_timeout.Validate("q").code(), absl::StatusCode::kInvalidArgument);

  CommandBuffer copy;
  copy.Copy(&a, 0, &b, 9, 8);
  absl::Status st = copy.Validate("q");
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange) << st;

  CommandBuffer exec;
  exec.Exec(nullptr, {}, {}, {}, {});
  EXPECT_EQ(exec.Validate("q").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop

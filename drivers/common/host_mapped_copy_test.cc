#include "drivers/common/host_mapped_copy.h"

#include <memory>
#include <vector>

#include "drivers/allocator.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// A buffer over host bytes the test owns (no allocator behind it).
struct HostBuffer {
  explicit HostBuffer(size_t size, uint8_t fill = 0, uint64_t id = 7)
      : bytes(size, fill), buffer(nullptr, id, size, {}, bytes.data(), 0x1000) {}
  std::vector<uint8_t> bytes;
  DeviceBuffer buffer;
};

// A probe that counts its calls and answers `status`.
struct CountingProbe {
  absl::Status status;
  int calls = 0;
  LivenessProbe Get() {
    return [this] {
      ++calls;
      return status;
    };
  }
};

TEST(HostMappedCopier, CopiesInAndOutAtOffsets) {
  HostMappedCopier copier("TEST:0");
  HostBuffer b(16);
  const std::vector<uint8_t> in = {1, 2, 3, 4};
  ASSERT_TRUE(copier.CopyIn(b.buffer, 10, in).ok());
  EXPECT_EQ(std::vector<uint8_t>(b.bytes.begin() + 10, b.bytes.begin() + 14), in);
  EXPECT_EQ(b.bytes[9], 0);
  std::vector<uint8_t> out(5, 0xAA);
  ASSERT_TRUE(copier.CopyOut(b.buffer, 9, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 1, 2, 3, 4}));
}

TEST(HostMappedCopier, RefusesRangesOutsideTheBufferAndTouchesNothing) {
  HostMappedCopier copier("TEST:0");
  HostBuffer b(16, 5);
  const std::vector<uint8_t> in(8, 1);
  absl::Status st = copier.CopyIn(b.buffer, 9, in);
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(st.message(), "TEST:0: CopyIn of 8 bytes at offset 9 is outside buffer #7 of 16 bytes");
  EXPECT_EQ(b.bytes, std::vector<uint8_t>(16, 5));

  std::vector<uint8_t> out(4, 0xAA);
  EXPECT_EQ(copier.CopyOut(b.buffer, 13, absl::MakeSpan(out)).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(copier.CopyOut(b.buffer, ~size_t{0}, absl::MakeSpan(out)).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(out, std::vector<uint8_t>(4, 0xAA));

  HostBuffer other(4, 9);
  st = copier.CopyBetween(other.buffer, 0, b.buffer, 14, 4);
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(st.message().find("CopyBetween (src)"), absl::string_view::npos) << st;
  st = copier.CopyBetween(other.buffer, 1, b.buffer, 0, 4);
  EXPECT_NE(st.message().find("CopyBetween (dst)"), absl::string_view::npos) << st;
  EXPECT_EQ(other.bytes, std::vector<uint8_t>(4, 9));
}

TEST(HostMappedCopier, EmptyCopiesAreFineEvenWithoutMemory) {
  HostMappedCopier copier("TEST:0");
  DeviceBuffer empty(nullptr, 1, 0, {}, nullptr, 0);
  EXPECT_TRUE(copier.CopyIn(empty, 0, {}).ok());
  EXPECT_TRUE(copier.CopyOut(empty, 0, {}).ok());
  EXPECT_TRUE(copier.CopyBetween(empty, 0, empty, 0, 0).ok());
}

TEST(HostMappedCopier, CopyBetweenHandlesOverlapAndViews) {
  HostMappedCopier copier("TEST:0");
  HostBuffer b(8);
  for (int i = 0; i < 8; ++i) b.bytes[i] = i;
  ASSERT_TRUE(copier.CopyBetween(b.buffer, 2, b.buffer, 0, 6).ok());  // a memmove
  EXPECT_EQ(b.bytes, (std::vector<uint8_t>{0, 1, 0, 1, 2, 3, 4, 5}));

  absl::StatusOr<std::unique_ptr<DeviceBuffer>> view = MakeSubBuffer(b.buffer, 4, 4);
  ASSERT_TRUE(view.ok());
  std::vector<uint8_t> out(4);
  ASSERT_TRUE(copier.CopyOut(**view, 0, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{2, 3, 4, 5}));
  EXPECT_EQ(copier.CopyOut(**view, 1, absl::MakeSpan(out)).code(), absl::StatusCode::kOutOfRange);
}

TEST(HostMappedCopier, AllOnesFromALiveDeviceIsData) {
  CountingProbe probe;
  HostMappedCopier copier("TEST:0", "VRAM through the BAR", probe.Get());
  HostBuffer b(8192, 0xFF);
  b.bytes[100] = 0;  // the first page is not all ones; the second is
  std::vector<uint8_t> out(8192);
  ASSERT_TRUE(copier.CopyOut(b.buffer, 0, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out, b.bytes);
  EXPECT_EQ(probe.calls, 1);
}

TEST(HostMappedCopier, DataThatIsNotAllOnesNeverRunsTheProbe) {
  CountingProbe probe{absl::InternalError("would fail")};
  HostMappedCopier copier("TEST:0", "VRAM through the BAR", probe.Get());
  HostBuffer b(4096, 0x12);
  std::vector<uint8_t> out(4096);
  EXPECT_TRUE(copier.CopyOut(b.buffer, 0, absl::MakeSpan(out)).ok());
  HostBuffer dst(4096);
  EXPECT_TRUE(copier.CopyBetween(dst.buffer, 0, b.buffer, 0, 4096).ok());
  EXPECT_EQ(probe.calls, 0);
}

TEST(HostMappedCopier, AllOnesFromAGoneDeviceIsUnavailable) {
  CountingProbe probe{absl::DataLossError("canary reads 0xffffffffffffffff")};
  HostMappedCopier copier("TEST:0", "VRAM through the BAR", probe.Get());
  HostBuffer b(64, 0xFF, /*id=*/42);
  std::vector<uint8_t> out(32);
  absl::Status st = copier.CopyOut(b.buffer, 16, absl::MakeSpan(out));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("TEST:0"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("buffer #42 (VRAM through the BAR)"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("canary reads"), absl::string_view::npos) << st;

  HostBuffer dst(64);
  st = copier.CopyBetween(dst.buffer, 0, b.buffer, 0, 64);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_EQ(probe.calls, 2);
}

TEST(HostMappedCopier, WithoutAProbeNothingIsChecked) {
  HostMappedCopier copier("TEST:0");
  HostBuffer b(4096, 0xFF);
  std::vector<uint8_t> out(4096);
  EXPECT_TRUE(copier.CopyOut(b.buffer, 0, absl::MakeSpan(out)).ok());
  EXPECT_EQ(out, b.bytes);
}

}  // namespace
}  // namespace uop

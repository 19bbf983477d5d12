#include "drivers/common/host_twin.h"

#include <vector>

#include "drivers/cpu/llvm_compiler.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// out[i] = in[i] * vars[0], i = group.x * local_size.x + local.x.
constexpr char kScaleIr[] = R"(
define void @uop_emu_entry(ptr noalias %bufs, ptr noalias %vars, i64 %unused) {
entry:
  %out = load ptr, ptr %bufs
  %p1 = getelementptr ptr, ptr %bufs, i64 1
  %in = load ptr, ptr %p1
  %scale = load i64, ptr %vars
  %gp = getelementptr i64, ptr %vars, i64 1
  %g = load i64, ptr %gp
  %lp = getelementptr i64, ptr %vars, i64 4
  %l = load i64, ptr %lp
  %sp = getelementptr i64, ptr %vars, i64 7
  %s = load i64, ptr %sp
  %gs = mul i64 %g, %s
  %i = add i64 %gs, %l
  %ip = getelementptr float, ptr %in, i64 %i
  %v = load float, ptr %ip
  %sf = sitofp i64 %scale to float
  %w = fmul float %v, %sf
  %op = getelementptr float, ptr %out, i64 %i
  store float %w, ptr %op
  ret void
}
)";

std::string ScaleObject() {
  absl::StatusOr<std::unique_ptr<LlvmCompiler>> cc = LlvmCompiler::Create();
  EXPECT_TRUE(cc.ok()) << cc.status();
  absl::StatusOr<std::string> obj = (*cc)->Compile("uop_emu_entry", kScaleIr);
  EXPECT_TRUE(obj.ok()) << obj.status();
  return *obj;
}

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(HostTwin, BlobRoundTripsAndRunsEveryWorkItem) {
  const std::string blob = MakeTwinBlob(ScaleObject(), 2, 1);
  absl::StatusOr<TwinHeader> h = ParseTwinHeader(Bytes(blob));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->num_buffers, 2u);
  EXPECT_EQ(h->num_vars, 1u);

  HostTwinCache cache;
  absl::StatusOr<const HostTwin*> twin = cache.Get(Bytes(blob));
  ASSERT_TRUE(twin.ok()) << twin.status();
  EXPECT_EQ(*cache.Get(Bytes(blob)), *twin);  // loaded once per content
  EXPECT_EQ(cache.size(), 1u);

  std::vector<float> in(24), out(24, -1);
  for (int i = 0; i < 24; ++i) in[i] = static_cast<float>(i);
  void* bufs[] = {out.data(), in.data()};
  const int64_t vars[] = {3};
  ASSERT_TRUE((*twin)->RunGrid(bufs, vars, LaunchDims{6}, LaunchDims{4}).ok());
  for (int i = 0; i < 24; ++i) EXPECT_EQ(out[i], 3.0f * i) << i;

  EXPECT_EQ((*twin)->RunGrid(bufs, {}, LaunchDims{6}, LaunchDims{4}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*twin)->RunGrid(bufs, vars, LaunchDims{0}, LaunchDims{4}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HostTwin, FindsTheBlobInsideLargerMemory) {
  std::string image(1024, '\0');
  const std::string blob = MakeTwinBlob("not an object", 0, 0);
  image.replace(256, blob.size(), blob);
  EXPECT_EQ(FindTwin(Bytes(image), 16), 256u);
  EXPECT_EQ(FindTwin(Bytes(image), 512), std::string::npos);
  EXPECT_EQ(FindTwin(Bytes(std::string(64, 'x')), 1), std::string::npos);
}

TEST(HostTwin, RejectsMalformedBlobs) {
  EXPECT_EQ(ParseTwinHeader(Bytes("UOPTWIN1")).status().code(), absl::StatusCode::kInvalidArgument);
  std::string blob = MakeTwinBlob("0123456789", 1, 0);
  EXPECT_EQ(ParseTwinHeader(Bytes(blob.substr(0, blob.size() - 1))).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string bad = blob;
  bad[0] = 'X';
  EXPECT_EQ(ParseTwinHeader(Bytes(bad)).status().code(), absl::StatusCode::kInvalidArgument);
  HostTwinCache cache;
  absl::StatusOr<const HostTwin*> twin = cache.Get(Bytes(blob));  // not an ELF object
  EXPECT_EQ(twin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(twin.status().message().find("host twin"), absl::string_view::npos);
}

}  // namespace
}  // namespace uop

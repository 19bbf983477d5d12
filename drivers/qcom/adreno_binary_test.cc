#include "drivers/qcom/adreno_binary.h"

#include <cstring>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(AdrenoBinary, BuiltBinaryParsesBack) {
  const std::string image(300, 'I');
  const std::string b = BuildAdrenoBinary(image, "kernel_one", {0, 8, 16, 40}, 12, 3);
  absl::StatusOr<AdrenoProgramInfo> info = ParseAdrenoBinary(b, "kernel_one");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->image.size(), 384u);  // padded to whole 128-byte units
  EXPECT_EQ(info->image.substr(0, 300), image);
  EXPECT_EQ(info->arg_offsets, (std::vector<uint32_t>{0, 8, 16, 40}));
  EXPECT_EQ(info->full_regs, 12u);
  EXPECT_EQ(info->half_regs, 3u);
  EXPECT_EQ(info->textures, 0u);
  EXPECT_EQ(info->images, 0u);
  EXPECT_EQ(info->samplers, 0u);
  EXPECT_TRUE(info->constants.empty());
}

TEST(AdrenoBinary, CountsTexturesAndImagesApart) {
  std::string b = BuildAdrenoBinary("img", "k", {0, 8, 16}, 1, 0);
  // Make the second argument a texture and the third an image.
  const size_t args = (0x300 + 0x158 + 1 + 3) / 4 * 4;
  const uint32_t tex = kAdrenoArgTexture, img = kAdrenoArgImage;
  std::memcpy(b.data() + args + 32 + 28, &tex, 4);
  std::memcpy(b.data() + args + 64 + 28, &img, 4);
  absl::StatusOr<AdrenoProgramInfo> info = ParseAdrenoBinary(b, "k");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->arg_offsets, std::vector<uint32_t>{0});
  EXPECT_EQ(info->textures, 1u);
  EXPECT_EQ(info->images, 1u);
}

TEST(AdrenoBinary, RejectsTruncatedAndInconsistentBinaries) {
  const std::string b = BuildAdrenoBinary(std::string(128, 'I'), "k", {0}, 1, 0);
  for (size_t n : {size_t{0}, size_t{0x40}, size_t{0x110}, b.size() - 1}) {
    absl::StatusOr<AdrenoProgramInfo> info = ParseAdrenoBinary(b.substr(0, n), "k");
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_NE(info.status().message().find("kernel 'k'"), absl::string_view::npos);
  }
  std::string bad = b;
  const uint32_t odd = 6;  // not whole dwords
  std::memcpy(bad.data() + 0x100, &odd, 4);
  EXPECT_EQ(ParseAdrenoBinary(bad, "k").status().code(), absl::StatusCode::kInvalidArgument);
  bad = b;
  const uint32_t huge = 0x7fffffff;
  std::memcpy(bad.data() + 0x110, &huge, 4);  // image descriptor far away
  EXPECT_EQ(ParseAdrenoBinary(bad, "k").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop

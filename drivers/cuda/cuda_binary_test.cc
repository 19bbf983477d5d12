#include "drivers/cuda/cuda_binary.h"

#include "gtest/gtest.h"

namespace uop::cuda {
namespace {

const char kElf[] =
    "\x7f"
    "ELF-not-really-a-cubin";

TEST(KernelAbi, ParsesTheRendererLine) {
  absl::StatusOr<KernelAbi> abi =
      ParseKernelAbi("// header\n// uop-abi: globals=3 vars=1 shared=4096\nextern \"C\" ...");
  ASSERT_TRUE(abi.ok()) << abi.status();
  EXPECT_EQ(*abi, (KernelAbi{3, 1, 4096}));
}

TEST(KernelAbi, RejectsMissingOrMalformedLines) {
  EXPECT_EQ(ParseKernelAbi("__global__ void k() {}").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status st = ParseKernelAbi("// uop-abi: globals=3 vars=1").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("lacks one of"), std::string::npos) << st;
  EXPECT_EQ(ParseKernelAbi("// uop-abi: globals=x vars=1 shared=0").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKernelAbi("// uop-abi: globals=-1 vars=1 shared=0").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKernelAbi("// uop-abi: globals=1 vars=1 shared=0 colour=3").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKernelAbi("// uop-abi: globals=99999 vars=0 shared=0").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PackedBinary, RoundTrips) {
  std::string packed = PackBinary(KernelAbi{2, 0, 128}, kElf);
  absl::StatusOr<UnpackedBinary> u = UnpackBinary(packed);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->abi, (KernelAbi{2, 0, 128}));
  EXPECT_EQ(u->cubin, absl::string_view(kElf));
}

TEST(PackedBinary, RejectsForeignBytes) {
  EXPECT_EQ(UnpackBinary("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UnpackBinary("\x7f"
                         "ELF garbage")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  std::string packed = PackBinary(KernelAbi{2, 0, 0}, kElf);
  std::string wrong_version = packed;
  wrong_version[8] = 9;
  absl::Status st = UnpackBinary(wrong_version).status();
  EXPECT_NE(st.message().find("format version 9"), std::string::npos) << st;
  std::string no_elf = PackBinary(KernelAbi{2, 0, 0}, "not an elf");
  EXPECT_EQ(UnpackBinary(no_elf).status().code(), absl::StatusCode::kInvalidArgument);
  std::string truncated = packed.substr(0, 20);
  EXPECT_EQ(UnpackBinary(truncated).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop::cuda

#include "drivers/qcom/qcom_pm4.h"

#include <cstring>
#include <map>
#include <vector>

#include "drivers/qcom/abi/adreno_a6xx.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

using namespace a6xx;  // NOLINT

TEST(Pm4, HeadersCarryOddParity) {
  EXPECT_EQ(Pkt7(kCpWaitForIdle, 0), 0x70268000u);
  for (uint32_t count : {0u, 1u, 3u, 12u, 127u}) {
    for (uint32_t reg : {0xa9b0u, 0xb990u, 0xbb08u}) {
      const uint32_t h = Pkt4(reg, count);
      EXPECT_EQ(PacketType(h), 4u);
      EXPECT_EQ(Pkt4Reg(h), reg);
      EXPECT_EQ(Pkt4Count(h), count);
      EXPECT_TRUE(Pkt4ParityOk(h));
      EXPECT_FALSE(Pkt4ParityOk(h ^ (1u << 7)));
    }
  }
  const uint32_t h = Pkt7(kCpRunOpencl, 1);
  EXPECT_EQ(Pkt7Opcode(h), kCpRunOpencl);
  EXPECT_EQ(Pkt7Count(h), 1u);
  EXPECT_TRUE(Pkt7ParityOk(h));
  EXPECT_FALSE(Pkt7ParityOk(h ^ (1u << 23)));
}

// Decodes a stream into its register writes and opcodes.
struct Decoded {
  std::map<uint32_t, uint32_t> regs;
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> cmds;
};
Decoded Decode(const std::vector<uint32_t>& dw) {
  Decoded d;
  for (size_t i = 0; i < dw.size();) {
    const uint32_t h = dw[i];
    if (PacketType(h) == 4) {
      for (uint32_t k = 0; k < Pkt4Count(h); ++k) d.regs[Pkt4Reg(h) + k] = dw[i + 1 + k];
      i += 1 + Pkt4Count(h);
    } else {
      d.cmds.push_back({Pkt7Opcode(h), std::vector<uint32_t>(dw.begin() + i + 1,
                                                             dw.begin() + i + 1 + Pkt7Count(h))});
      i += 1 + Pkt7Count(h);
    }
  }
  return d;
}

QcomKernel TestKernel() {
  AdrenoProgramInfo info;
  static const std::string image(200, 'x');
  info.image = image;
  info.full_regs = 20;
  info.half_regs = 4;
  info.arg_offsets = {0, 8, 16};
  QcomKernel k = KernelFromBinary("k", info);
  k.image_gpu = 0x1234567000;
  return k;
}

TEST(Pm4, LaunchProgramsTheDispatchRegisters) {
  QcomKernel k = TestKernel();
  EXPECT_EQ(k.image_bytes, 256u);
  EXPECT_EQ(k.max_threads, 512u);  // 384*32 / (22*128) = 4 blocks of 128 threads
  Pm4Writer w;
  EmitLaunch(w, k, 0xA000, 0xB000, 0xC000, LaunchDims{5, 3, 2}, LaunchDims{64, 2, 1});
  Decoded d = Decode(w.dwords());
  EXPECT_EQ(NdrangeLocalX(d.regs[kHlsqCsNdrange0]), 64u);
  EXPECT_EQ(NdrangeLocalY(d.regs[kHlsqCsNdrange0]), 2u);
  EXPECT_EQ(NdrangeLocalZ(d.regs[kHlsqCsNdrange0]), 1u);
  EXPECT_EQ(d.regs[kHlsqCsNdrange0 + 1], 320u);  // work-items x
  EXPECT_EQ(d.regs[kHlsqCsNdrange0 + 3], 6u);
  EXPECT_EQ(d.regs[kHlsqCsNdrange0 + 5], 2u);
  EXPECT_EQ(d.regs[kHlsqCsGroupX], 5u);
  EXPECT_EQ(d.regs[kHlsqCsGroupX + 1], 3u);
  EXPECT_EQ(d.regs[kHlsqCsGroupX + 2], 2u);
  EXPECT_EQ(d.regs[kSpCsObjStartLo], 0x34567000u);
  EXPECT_EQ(d.regs[kSpCsObjStartLo + 1], 0x12u);
  EXPECT_EQ(d.regs[kSpCsInstrLen], 64u);
  EXPECT_EQ(d.regs[kSpCsConfig] & kSpCsConfigEnabled, kSpCsConfigEnabled);
  EXPECT_EQ(d.regs[kHlsqCsCntl], 0x140u);  // 256 constant units, enabled
  EXPECT_EQ(d.regs[kSpCsPvtMemAddrLo], 0xB000u);
  // Loads: constants from the args block, then the shader image.
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> loads;
  for (const auto& c : d.cmds)
    if (c.first == kCpLoadState6Frag) loads.push_back(c);
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(LoadState6Type(loads[0].second[0]), kStateTypeConstants);
  EXPECT_EQ(LoadState6Units(loads[0].second[0]), kQcomArgsBytes / kConstUnitBytes);
  EXPECT_EQ(loads[0].second[1], 0xA000u);
  EXPECT_EQ(LoadState6Type(loads[1].second[0]), kStateTypeShader);
  EXPECT_EQ(LoadState6Units(loads[1].second[0]), 2u);
  EXPECT_EQ(d.cmds[d.cmds.size() - 2].first, kCpRunOpencl);
  EXPECT_EQ(d.cmds.back().first, kCpEventWrite);
  EXPECT_EQ(d.cmds.back().second[1], 0xC000u);
}

TEST(Pm4, LaunchArgsGoWhereTheBinarySays) {
  QcomKernel k = TestKernel();
  DeviceBuffer a(nullptr, 1, 64, {}, nullptr, 0x1000), b(nullptr, 2, 64, {}, nullptr, 0x2000);
  DeviceBuffer* bufs[] = {&a, &b};
  const int64_t vars[] = {-7};
  std::vector<uint8_t> block(kQcomArgsBytes, 0xAA);
  ASSERT_TRUE(WriteLaunchArgs(k, bufs, vars, block.data(), block.size()).ok());
  uint64_t v;
  std::memcpy(&v, block.data(), 8);
  EXPECT_EQ(v, 0x1000u);
  std::memcpy(&v, block.data() + 8, 8);
  EXPECT_EQ(v, 0x2000u);
  int64_t s;
  std::memcpy(&s, block.data() + 16, 8);
  EXPECT_EQ(s, -7);
  EXPECT_EQ(block[100], 0);  // the rest is cleared

  EXPECT_EQ(WriteLaunchArgs(k, bufs, {}, block.data(), block.size()).code(),
            absl::StatusCode::kInvalidArgument);
  k.arg_offsets[2] = kQcomArgsBytes - 4;  // an offset the block cannot hold
  absl::Status st = WriteLaunchArgs(k, bufs, vars, block.data(), block.size());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("outside"), absl::string_view::npos) << st;
}

}  // namespace
}  // namespace uop

#include "drivers/am/am_scratch.h"

#include "gtest/gtest.h"

namespace uop {
namespace {

// A gfx1100 like the emulator's: 48 CUs, 6 shader engines, 32 scratch slots a CU.
AmGpuNode Gfx(uint64_t version, uint64_t cus = 48) {
  AmGpuNode g;
  g.properties = {{"gfx_target_version", version},
                  {"simd_count", 2 * cus},
                  {"simd_per_cu", 2},
                  {"array_count", 12},
                  {"simd_arrays_per_engine", 2},
                  {"max_slots_scratch_cu", 32}};
  return g;
}

TEST(AmScratchTest, Gfx11Wave32Layout) {
  const AmGpuNode g = Gfx(110000);
  absl::StatusOr<ScratchLayout> s = PlanScratch(g, 452, /*wave32=*/true, uint64_t{1} << 30);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->lanes, 32u);
  EXPECT_EQ(s->item_bytes, 480u);        // 452 aligned to 1024 / 32
  EXPECT_EQ(s->wave_bytes, 480u * 32u);  // a multiple of 256 already
  EXPECT_EQ(s->waves, 48u * 32u);        // every slot of every CU
  EXPECT_EQ(s->total_bytes, uint64_t{480} * 32 * 48 * 32);
  // gfx11: WAVESIZE in 256-byte units, WAVES per shader engine.
  EXPECT_EQ(ComputeTmpringSize(g, *s), (48u * 32u / 6u) | ((480u * 32u / 256u) << 12));
}

TEST(AmScratchTest, Gfx9Wave64TmpringInKilobytes) {
  const AmGpuNode g = Gfx(90010);
  absl::StatusOr<ScratchLayout> s = PlanScratch(g, 4, /*wave32=*/false, uint64_t{1} << 30);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->item_bytes, 16u);    // aligned to 1024 / 64
  EXPECT_EQ(s->wave_bytes, 1024u);  // 16 * 64: one 1 KiB unit
  EXPECT_EQ(ComputeTmpringSize(g, *s), s->waves | (1u << 12));
}

TEST(AmScratchTest, LimitTrimsWavesToShaderEngines) {
  const AmGpuNode g = Gfx(110000);
  // Room for 100 slots of 16 KiB: trimmed to 96 (a multiple of 6 engines).
  absl::StatusOr<ScratchLayout> s = PlanScratch(g, 512, true, 100 * 16384);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->wave_bytes, 16384u);
  EXPECT_EQ(s->waves, 96u);
  EXPECT_EQ(s->total_bytes, 96u * 16384u);
}

TEST(AmScratchTest, RefusesZeroAndTooLittleRoom) {
  const AmGpuNode g = Gfx(110000);
  EXPECT_EQ(PlanScratch(g, 0, true, 1 << 30).status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status st = PlanScratch(g, 1024, true, 5 * 32768).status();  // 5 slots, 6 engines
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("shader engine"), absl::string_view::npos) << st;
  // A slot wider than WAVESIZE can say (15 bits of 256 bytes on gfx11).
  EXPECT_EQ(PlanScratch(g, 1u << 20, false, uint64_t{1} << 40).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(AmScratchTest, FillsQueueFields) {
  const AmGpuNode g = Gfx(110000);
  absl::StatusOr<ScratchLayout> s = PlanScratch(g, 100, true, uint64_t{1} << 30);
  ASSERT_TRUE(s.ok());
  hsa::amd_queue q{};
  const uint64_t va = 0x0000123456789000;
  FillScratchFields(g, *s, va, &q);
  EXPECT_EQ(q.scratch_backing_memory_location, va);
  EXPECT_EQ(q.scratch_backing_memory_byte_size, s->total_bytes);
  EXPECT_EQ(q.scratch_resource_descriptor[0], 0x56789000u);
  EXPECT_EQ(q.scratch_resource_descriptor[1] & 0xFFFF, 0x1234u);
  EXPECT_EQ(q.scratch_resource_descriptor[2], static_cast<uint32_t>(s->total_bytes));
  EXPECT_EQ(q.scratch_workitem_byte_size, s->wave_bytes / 64);
  EXPECT_EQ(q.compute_tmpring_size, ComputeTmpringSize(g, *s));
}

}  // namespace
}  // namespace uop

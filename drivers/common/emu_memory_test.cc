#include "drivers/common/emu_memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(EmuMemory, UserMappingsShareTheEmulatorsView) {
  EmuMemory mem(1 << 20);
  absl::StatusOr<std::shared_ptr<EmuMemory::Bo>> bo = mem.Create(100);
  ASSERT_TRUE(bo.ok()) << bo.status();
  EXPECT_EQ((*bo)->size, 4096u);
  void* user = nullptr;
  ASSERT_EQ(mem.MapUser(**bo, 0, nullptr, 4096, PROT_READ | PROT_WRITE, 0, &user), 0);
  static_cast<uint8_t*>(user)[17] = 0x5a;
  EXPECT_EQ((*bo)->view[17], 0x5a);
  (*bo)->view[18] = 0x7c;
  EXPECT_EQ(static_cast<uint8_t*>(user)[18], 0x7c);
  ::munmap(user, 4096);
  EXPECT_EQ(mem.MapUser(**bo, 0, nullptr, 8192, PROT_READ, 0, &user), -EINVAL);
}

TEST(EmuMemory, TranslatesOnlyBoundRanges) {
  EmuMemory mem(1 << 20);
  std::shared_ptr<EmuMemory::Bo> a = *mem.Create(8192);
  std::shared_ptr<EmuMemory::Bo> b = *mem.Create(4096);
  ASSERT_EQ(mem.Bind(a, 0x10000), 0);
  EXPECT_EQ(mem.Bind(b, 0x11000), -EINVAL);  // overlaps a
  EXPECT_EQ(mem.Bind(b, 0x0), -EINVAL);
  ASSERT_EQ(mem.Bind(b, 0x20000), 0);
  EXPECT_EQ(mem.Translate(0x10010, 16), a->view + 0x10);
  EXPECT_EQ(mem.Translate(0x11ff0, 16), a->view + 0x1ff0);
  EXPECT_EQ(mem.Translate(0x11ff8, 16), nullptr);  // crosses a's end
  EXPECT_EQ(mem.Translate(0x12000, 4), nullptr);   // a hole
  EXPECT_EQ(mem.Translate(0xffff, 4), nullptr);
  EXPECT_EQ(mem.Translate(0x20000, 4096), b->view);
  EXPECT_EQ(mem.BoAt(0x20fff), b);
  ASSERT_EQ(mem.Unbind(b->id), 0);
  EXPECT_EQ(mem.Translate(0x20000, 4), nullptr);
}

TEST(EmuMemory, BudgetAndDestroy) {
  EmuMemory mem(3 * 4096);
  std::shared_ptr<EmuMemory::Bo> a = *mem.Create(8192);
  EXPECT_EQ(mem.Create(8192).status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_EQ(mem.Bind(a, 0x1000), 0);
  std::shared_ptr<EmuMemory::Bo> held;
  uint8_t* p = mem.Translate(0x1000, 4, &held);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(mem.Destroy(a->id), 0);
  EXPECT_EQ(mem.Destroy(a->id), -ENOENT);
  EXPECT_EQ(mem.Translate(0x1000, 4), nullptr);
  p[0] = 1;  // still alive through `held`
  EXPECT_EQ(mem.bytes_in_use(), 0u);
  EXPECT_TRUE(mem.Create(8192).ok());
}

}  // namespace
}  // namespace uop

#include "runtime/engine/beam.h"

#include <filesystem>
#include <fstream>

#include "drivers/cpu/cpu_device.h"
#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"

namespace uop {
namespace {

CpuDevice& Cpu() {
  static CpuDevice* cpu = CpuDevice::Create({.threads = 2}).value().release();
  return *cpu;
}

std::string TempDir() {
  std::string dir = ::testing::TempDir() + "/beam_test_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(Beam, ActionsRespectKindsAndDivisors) {
  KernelCompiler compiler("");
  const Renderer* r = *compiler.RendererFor(Cpu());
  Kernel k = *Kernel::Create(testing::MatmulAst(12, 16, 8), r->caps());
  for (const Opt& o : BeamActions(k)) {
    Kernel copy = k;
    EXPECT_TRUE(copy.Apply(o).ok()) << o.ToString();
  }
  bool has_unroll = false, has_thread = false;
  for (const Opt& o : BeamActions(k))
    has_unroll |= o.op == OptOp::kUnroll, has_thread |= o.op == OptOp::kThread;
  EXPECT_TRUE(has_unroll);
  EXPECT_TRUE(has_thread);
}

TEST(Beam, FindsAKernelNoSlowerThanHeuristicsAndCachesIt) {
  std::string dir = TempDir();
  KernelCompiler compiler("");
  UOpPtr ast = testing::MatmulAst(64, 64, 64);
  BeamOptions o{.width = 2, .budget = absl::Seconds(3), .cache_dir = dir};
  absl::StatusOr<BeamResult> r = BeamSearch(ast, Cpu(), compiler, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->from_cache);
  EXPECT_GT(r->candidates_timed, 2);
  EXPECT_LE(r->seconds, r->baseline_seconds);
  // The chosen opts apply to the kernel.
  Kernel k = *Kernel::Create(ast, (*compiler.RendererFor(Cpu()))->caps());
  for (const Opt& opt : r->opts) EXPECT_TRUE(k.Apply(opt).ok()) << opt.ToString();
  // Second search: from the cache, same opts, nothing timed.
  absl::StatusOr<BeamResult> again = BeamSearch(ast, Cpu(), compiler, o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(again->opts, r->opts);
  EXPECT_EQ(again->candidates_timed, 0);
}

TEST(Beam, CorruptCacheEntryIsIgnored) {
  std::string dir = TempDir() + "_corrupt";
  KernelCompiler compiler("");
  UOpPtr ast = testing::AddAst(8, 8);
  BeamOptions o{.width = 1, .budget = absl::Seconds(1), .cache_dir = dir};
  ASSERT_TRUE(BeamSearch(ast, Cpu(), compiler, o).ok());
  for (const auto& e : std::filesystem::directory_iterator(dir + "/beam")) {
    std::ofstream(e.path()) << "garbage";
  }
  absl::StatusOr<BeamResult> r = BeamSearch(ast, Cpu(), compiler, o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->from_cache);
}

TEST(Beam, StaysWithinItsBudget) {
  KernelCompiler compiler("");
  absl::Time t0 = absl::Now();
  BeamOptions o{.width = 8, .budget = absl::Milliseconds(300), .cache_dir = ""};
  ASSERT_TRUE(BeamSearch(testing::MatmulAst(32, 32, 32), Cpu(), compiler, o).ok());
  // The budget bounds the search loop; one candidate may finish after it.
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
}

}  // namespace
}  // namespace uop

#include "runtime/engine/compiled_kernel.h"

#include <atomic>
#include <thread>
#include <vector>

#include "drivers/device_registry.h"
#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"

namespace uop {
namespace {

TEST(KernelCompiler, IdenticalKernelsRequestedAtOnceBuildOnce) {
  Device* cpu = *DeviceRegistry::Global().Get("CPU");
  KernelCompiler compiler("");  // no disk cache: every build compiles
  UOpPtr ast = testing::MatmulAst(48, 48, 48);
  constexpr int kThreads = 4;
  std::atomic<int> ready{0};
  std::vector<std::shared_ptr<CompiledKernel>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) {
      }
      absl::StatusOr<std::shared_ptr<CompiledKernel>> k = compiler.Get(ast, *cpu);
      if (k.ok()) got[t] = *k;
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_NE(got[t], nullptr) << t;
    EXPECT_EQ(got[t], got[0]);
  }
  KernelCompilerStats stats = compiler.stats();
  EXPECT_EQ(stats.compiled, 1u);
  EXPECT_EQ(stats.memory_hits + stats.joined_builds, kThreads - 1u);
}

TEST(KernelCompiler, AFailedBuildIsReportedToEveryWaiterAndNotCached) {
  Device* cpu = *DeviceRegistry::Global().Get("CPU");
  KernelCompiler compiler("");
  UOpPtr ast = testing::MatmulAst(8, 8, 8);
  // Opts that cannot apply (upcast by 3 of an axis of 8) fail in codegen.
  std::vector<Opt> bad = {{OptOp::kUpcast, 0, 3}};
  absl::StatusOr<std::shared_ptr<CompiledKernel>> a = compiler.Get(ast, *cpu, bad);
  absl::StatusOr<std::shared_ptr<CompiledKernel>> b = compiler.Get(ast, *cpu, bad);
  EXPECT_FALSE(a.ok());
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(compiler.stats().memory_hits, 0u);
  EXPECT_TRUE(compiler.Get(ast, *cpu).ok());  // the heuristics' kernel still builds
}

}  // namespace
}  // namespace uop

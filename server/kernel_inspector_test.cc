#include "server/kernel_inspector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/c_renderer.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/llvm_renderer.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Names(const std::vector<PipelineStep>& steps) {
  std::vector<std::string> names;
  for (const PipelineStep& s : steps) names.push_back(s.name);
  return names;
}

TEST(InspectKernel, StepsEndInTheProgramRenderKernelCompiles) {
  const UOpPtr ast = testing::MatmulAst(16, 32, 64);
  LlvmRenderer renderer(/*threads=*/2);
  absl::StatusOr<std::vector<PipelineStep>> steps = InspectKernel(ast, renderer, std::nullopt);
  ASSERT_TRUE(steps.ok()) << steps.status();
  EXPECT_THAT(Names(*steps),
              ::testing::ElementsAre("kernel AST (scheduler)", "axes after canonicalization",
                                     "opts (hand-coded heuristics)", "lowered (index math, loops)",
                                     "decompositions (transcendentals to polynomials)",
                                     "symbolic simplification", "linearized program",
                                     "rendered (llvm-ir)"));
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, renderer);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(steps->back().text, spec->source);
  EXPECT_THAT(steps->front().text, HasSubstr("REDUCE_AXIS"));
  EXPECT_THAT((*steps)[3].text, HasSubstr("RANGE"));
  EXPECT_GT((*steps)[3].nodes, (*steps)[0].nodes / 2);
  // A matmul has no transcendental to decompose: that step changes nothing.
  EXPECT_FALSE((*steps)[4].changed);
}

TEST(InspectKernel, ExplicitOptsAreReplayedAsGiven) {
  const UOpPtr ast = testing::AddAst(8, 32);
  CRenderer renderer;
  absl::StatusOr<std::vector<PipelineStep>> steps =
      InspectKernel(ast, renderer, std::vector<Opt>{});
  ASSERT_TRUE(steps.ok()) << steps.status();
  EXPECT_EQ((*steps)[2].name, "opts (as requested)");
  EXPECT_THAT((*steps)[2].text, HasSubstr("(none)"));
  EXPECT_FALSE((*steps)[2].changed);
  absl::StatusOr<ProgramSpec> spec = RenderKernel(ast, renderer, std::vector<Opt>{});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(steps->back().name, "rendered (c)");
  EXPECT_EQ(steps->back().text, spec->source);
}

TEST(InspectKernel, AnOptThatDoesNotApplyIsAnError) {
  LlvmRenderer renderer;
  absl::StatusOr<std::vector<PipelineStep>> steps =
      InspectKernel(testing::AddAst(8, 32), renderer, std::vector<Opt>{{OptOp::kUpcast, 7, 4}});
  EXPECT_EQ(steps.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(InspectKernel, NoAstIsAFailedPrecondition) {
  LlvmRenderer renderer;
  absl::StatusOr<std::vector<PipelineStep>> steps = InspectKernel(nullptr, renderer, std::nullopt);
  EXPECT_EQ(steps.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(steps.status().message(), HasSubstr("artifact"));
}

}  // namespace
}  // namespace uop::server

// Every kernel the differential op catalog schedules, rendered as CUDA C and
// compiled to an sm_90a cubin by NVRTC: the renderer's output is valid CUDA
// on machines without a GPU. Needs only the toolkit's libnvrtc (skips
// without it).
#include <memory>
#include <string>
#include <vector>

#include "drivers/cuda/cuda_op_cases.h"
#include "drivers/cuda/nvrtc_compiler.h"
#include "gtest/gtest.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/cuda_renderer.h"
#include "runtime/schedule/schedule.h"
#include "runtime/tensor/reference_eval.h"

namespace uop::cuda {
namespace {

// Every kernel these tests compile is checked by the IR validity rules between passes.
const bool kVerifyPasses = (SetVerifyPasses(true), true);

// Renders and compiles every kernel of each realize, then lets the
// reference interpreter compute the values (so later realizes see data).
class CompileOnlyRealizer final : public Realizer {
 public:
  explicit CompileOnlyRealizer(NvrtcCompiler* cc) : cc_(cc) {}
  absl::string_view name() const override { return "cuda-compile-only"; }
  absl::Status Realize(const UOpPtr& sink) override {
    absl::StatusOr<Schedule> schedule = CreateSchedule(sink);
    if (!schedule.ok()) return schedule.status();
    for (const ScheduleItem& item : schedule->items) {
      if (item.kind != ScheduleItem::Kind::kKernel) continue;
      for (bool heuristics : {true, false}) {
        std::optional<std::vector<Opt>> opts;
        if (!heuristics) opts = std::vector<Opt>{};
        absl::StatusOr<ProgramSpec> spec = RenderKernel(item.ast, renderer_, opts);
        if (!spec.ok()) {
          errors.push_back(absl::StrCat("render ", item.ast->ToString().substr(0, 200), ": ",
                                        spec.status().message()));
          continue;
        }
        absl::StatusOr<std::string> bin = cc_->Compile(spec->name, spec->source);
        if (!bin.ok()) {
          errors.push_back(absl::StrCat("compile: ", bin.status().message(), "\n", spec->source));
          continue;
        }
        ++kernels;
      }
    }
    return reference_.Realize(sink);
  }
  absl::Status CopyToHost(Storage& s) override { return reference_.CopyToHost(s); }

  std::vector<std::string> errors;
  int kernels = 0;

 private:
  NvrtcCompiler* cc_;
  CudaRenderer renderer_;
  ReferenceRealizer reference_;
};

TEST(CudaCodegen, EveryCatalogKernelRendersAndCompiles) {
  absl::StatusOr<std::unique_ptr<NvrtcCompiler>> cc = NvrtcCompiler::Create({.arch = "sm_90a"});
  if (!cc.ok()) GTEST_SKIP() << "NVRTC not available: " << cc.status();
  auto realizer = std::make_shared<CompileOnlyRealizer>(cc->get());
  Tensor::SetRealizer(realizer);
  for (const testing::OpCase& c : testing::OpCases()) {
    SCOPED_TRACE(c.name);
    const size_t errors_before = realizer->errors.size();
    Tensor out = c.fn(testing::MakeInputs(c, "CUDA"));
    EXPECT_TRUE(out.ok()) << out.status();
    absl::Status st = out.Realize();
    EXPECT_TRUE(st.ok()) << st;
    for (size_t i = errors_before; i < realizer->errors.size(); ++i) {
      ADD_FAILURE() << c.name << ": " << realizer->errors[i];
    }
  }
  Tensor::SetRealizer(nullptr);
  EXPECT_GT(realizer->kernels, 2 * static_cast<int>(testing::OpCases().size()) - 10);
}

}  // namespace
}  // namespace uop::cuda

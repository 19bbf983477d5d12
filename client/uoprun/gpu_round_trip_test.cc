// The artifact round trip on an NVIDIA GPU (tag gpu: not in ./uop test;
// skips without a CUDA device): compile for CUDA, serialize, parse, load,
// run single steps and a bounded loop through host staging buffers, and
// compare with the reference.
#include <cmath>
#include <cstring>

#include "client/uoprun/runner.h"
#include "client/uoprun/test_models.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"

namespace uop::uoprun {
namespace {

std::vector<float> Floats(absl::Span<const uint8_t> b) {
  std::vector<float> f(b.size() / 4);
  std::memcpy(f.data(), b.data(), b.size());
  return f;
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-3) << i;
}

TEST(GpuArtifact, RoundTripAndLoopOnCuda) {
  absl::StatusOr<Device*> cuda = DeviceRegistry::Global().Get("CUDA");
  if (!cuda.ok()) GTEST_SKIP() << "no CUDA device: " << cuda.status();
  TestModel m = MlpModel(4, 32, 64, 8, "CUDA");
  CompileOptions o;
  o.device = "CUDA";
  absl::StatusOr<Artifact> a = CompileFunction(m.fn, m.inputs, m.outputs, o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->device, (*cuda)->name());
  absl::StatusOr<std::string> bytes = a->Serialize();
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<Artifact> parsed = Artifact::Parse(*bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Create(*parsed, **cuda);
  ASSERT_TRUE(r.ok()) << r.status();

  std::vector<float> x(4 * 32);
  for (float scale : {1.0f, -0.5f}) {
    for (size_t i = 0; i < x.size(); ++i) x[i] = scale * std::sin(0.1f * static_cast<float>(i));
    std::memcpy((*r)->input(0).data(), x.data(), x.size() * 4);
    ASSERT_TRUE((*r)->Step().ok());
    std::vector<std::vector<float>> want = m.reference(x);
    ExpectNear(Floats((*r)->output(0)), want[0]);
    ExpectNear(Floats((*r)->output(1)), want[1]);
  }
  absl::StatusOr<LoopStats> s = (*r)->Run({.hz = 200, .iterations = 20});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->iterations, 20);
  ExpectNear(Floats((*r)->output(1)), m.reference(x)[1]);
  // GPU memory is not host-visible: binding caller memory is refused.
  EXPECT_EQ((*r)->BindInput(0, (*r)->input(0).data(), 4096).code(),
            absl::StatusCode::kFailedPrecondition);
  // And the CUDA artifact does not load on the CPU.
  absl::StatusOr<Device*> cpu = DeviceRegistry::Global().Get("CPU");
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(Runner::Create(*parsed, **cpu).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace uop::uoprun

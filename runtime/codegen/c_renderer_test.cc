// The C renderer against the LLVM IR renderer: the same kernel ASTs (from
// the scheduler, for a spread of Tensor ops), the same opts, compiled by cc
// and by LLVM, run on the same inputs, must agree.
#include "runtime/codegen/c_renderer.h"

#include <random>

#include "drivers/cpu/cc_compiler.h"
#include "drivers/cpu/cpu_device.h"
#include "gtest/gtest.h"
#include "runtime/codegen/ast_builder_for_test.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/device_runner_for_test.h"
#include "runtime/codegen/llvm_renderer.h"
#include "runtime/schedule/schedule.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

// Every kernel these tests compile is checked by the IR validity rules between passes.
const bool kVerifyPasses = (SetVerifyPasses(true), true);

CpuDevice& Cpu() {
  static CpuDevice* cpu = CpuDevice::Create({.threads = 2}).value().release();
  return *cpu;
}

// Kernel ASTs of a graph.
std::vector<UOpPtr> Kernels(const Tensor& t) {
  absl::StatusOr<Schedule> s = CreateSchedule(UOp::Create(Op::kSink, DType::Void(), {t.uop()}));
  EXPECT_TRUE(s.ok()) << s.status();
  std::vector<UOpPtr> out;
  if (s.ok())
    for (const ScheduleItem& item : s->items)
      if (item.kind == ScheduleItem::Kind::kKernel) out.push_back(item.ast);
  return out;
}

std::vector<uint8_t> RandomBytes(DType d, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n * d.itemsize());
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = b.data() + i * d.itemsize();
    if (d == DType::Float32()) {
      float f = std::uniform_real_distribution<float>(-2, 2)(rng);
      std::memcpy(p, &f, 4);
    } else if (d == DType::Float64()) {
      double f = std::uniform_real_distribution<double>(-2, 2)(rng);
      std::memcpy(p, &f, 8);
    } else if (d == DType::Float16()) {
      uint16_t h = FloatToHalf(std::uniform_real_distribution<float>(-2, 2)(rng));
      std::memcpy(p, &h, 2);
    } else if (d == DType::BFloat16()) {
      uint16_t h = FloatToBFloat16(std::uniform_real_distribution<float>(-2, 2)(rng));
      std::memcpy(p, &h, 2);
    } else if (d.is_bool()) {
      *p = rng() & 1;
    } else {
      int64_t v = std::uniform_int_distribution<int64_t>(-3, 5)(rng);
      std::memcpy(p, &v, d.itemsize());
    }
  }
  return b;
}

double At(const std::vector<uint8_t>& b, DType d, int64_t i) {
  const uint8_t* p = b.data() + i * d.itemsize();
  if (d == DType::Float32()) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (d == DType::Float64()) {
    double f;
    std::memcpy(&f, p, 8);
    return f;
  }
  if (d == DType::Float16()) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return HalfToFloat(h);
  }
  if (d == DType::BFloat16()) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return BFloat16ToFloat(h);
  }
  int64_t v = 0;
  std::memcpy(&v, p, d.itemsize());
  if (!d.is_unsigned() && d.itemsize() < 8)
    v = (v << (64 - 8 * d.itemsize())) >> (64 - 8 * d.itemsize());
  return static_cast<double>(v);
}

void CompareBackends(const UOpPtr& ast, CcCompiler& cc) {
  LlvmRenderer llvm(2, 64);
  CRenderer c(2, 64);
  absl::StatusOr<ProgramSpec> a = RenderKernel(ast, llvm), b = RenderKernel(ast, c);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<testing::LoadedKernel> ka = testing::LoadedKernel::Load(Cpu(), *a);
  ASSERT_TRUE(ka.ok()) << ka.status();
  absl::StatusOr<std::string> obj = cc.Compile(b->name, b->source);
  ASSERT_TRUE(obj.ok()) << obj.status() << "\n" << b->source;
  ProgramDesc desc{b->name, {}, 0};
  std::vector<DeviceBuffer*> bufs;
  for (const ProgramBuffer& pb : b->buffers) {
    desc.buffer_bytes.push_back(static_cast<uint64_t>(pb.size) * pb.dtype.itemsize());
    bufs.push_back(*Cpu().allocator().Alloc(std::max<int64_t>(pb.size * pb.dtype.itemsize(), 1)));
  }
  absl::StatusOr<std::unique_ptr<Program>> prog = Cpu().LoadProgram(desc, *obj);
  ASSERT_TRUE(prog.ok()) << prog.status();
  for (size_t s = 0; s < a->buffers.size(); ++s) {
    if (a->buffers[s].is_output) continue;
    std::vector<uint8_t> in = RandomBytes(a->buffers[s].dtype, a->buffers[s].size, 77 + s);
    ASSERT_TRUE(ka->SetInput(s, in).ok());
    ASSERT_TRUE(Cpu().allocator().CopyIn(*bufs[s], 0, in).ok());
  }
  ASSERT_TRUE(ka->Run().ok());
  ASSERT_TRUE((*prog)->Run(bufs, {}, LaunchDims{b->global_size[0]}, LaunchDims{}).ok());
  for (size_t s = 0; s < a->buffers.size(); ++s) {
    if (!a->buffers[s].is_output) continue;
    std::vector<uint8_t> want = *ka->Read(s), got(want.size());
    ASSERT_TRUE(Cpu().allocator().CopyOut(*bufs[s], 0, absl::MakeSpan(got)).ok());
    DType d = a->buffers[s].dtype;
    for (int64_t i = 0; i < a->buffers[s].size; ++i) {
      double w = At(want, d, i), g = At(got, d, i);
      if (std::isnan(w) && std::isnan(g)) continue;
      ASSERT_NEAR(g, w, 1e-4 * (1 + std::abs(w))) << a->name << " element " << i << "\n"
                                                  << b->source;
    }
  }
  for (DeviceBuffer* buf : bufs) Cpu().allocator().Free(buf);
}

class CRendererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<CcCompiler>> cc =
        CcCompiler::Create({.cc = "cc", .flags = {"-O2", "-march=native", "-fno-math-errno"}});
    if (!cc.ok()) GTEST_SKIP() << "no C compiler: " << cc.status();
    cc_ = *std::move(cc);
  }
  std::unique_ptr<CcCompiler> cc_;
};

TEST_F(CRendererTest, AgreesWithLlvmOnHandBuiltKernels) {
  for (const UOpPtr& ast :
       {testing::AddAst(33, 17), testing::MatmulAst(16, 48, 40), testing::RowSumAst(9, 100)}) {
    CompareBackends(ast, *cc_);
  }
}

TEST_F(CRendererTest, AgreesWithLlvmOnScheduledGraphs) {
  Tensor x = Tensor::Empty({2, 3, 12, 10}), w = Tensor::Empty({4, 3, 3, 3}),
         v = Tensor::Empty({8, 20});
  ConvOptions pad;
  pad.padding = {{1, 1}, {1, 1}};
  std::vector<Tensor> graphs = {
      x.Conv2d(w, std::nullopt, pad).Relu(),
      x.MaxPool2d(PoolOptions{.kernel = {2, 2}}),
      v.Softmax(-1),
      v.Exp().Log().Sin().Sqrt(),
      v.Cast(DType::Float16()).Mul(3).Cast(DType::BFloat16()).Add(1).Cast(DType::Float32()),
      v.Cast(DType::Int32()).IntDiv(v.Cast(DType::Int32()).Add(2)).Mod(3),
      v.Gt(0.5).Where(v, v.Neg()).Max({1}),
      v.Pad({{1, 2}, {3, 0}}, 1.5).Flip({1}).Sum({0}),
      v.Cast(DType::Float64()).Mul(v.Cast(DType::Float64())).Sum({1}),
      v.Bitcast(DType::Int32()).BitwiseAnd(0x7fffff).RShift(3),
  };
  for (const Tensor& g : graphs) {
    ASSERT_TRUE(g.ok()) << g.status();
    for (const UOpPtr& ast : Kernels(g)) CompareBackends(ast, *cc_);
  }
}

TEST(CRenderer, UnknownSpecialIsAnError) {
  DType f = DType::Float32();
  UOpPtr buf = UOp::Create(Op::kDefineGlobal, f.Ptr(), {}, Arg(int64_t{0}));
  UOpPtr g = UOp::Create(Op::kSpecial, DType::Index(), {UOp::Index(4)}, Arg("gidx0"));
  UOpPtr st = UOp::Create(Op::kStore, DType::Void(),
                          {UOp::Create(Op::kIndex, buf->dtype(), {buf, g}), UOp::Const(f, 1.0)});
  std::vector<UOpPtr> prog = {buf, g, st, UOp::Create(Op::kSink, DType::Void(), {st})};
  absl::StatusOr<std::string> src = CRenderer().Render("k", prog);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("gidx0"), std::string::npos);
}

}  // namespace
}  // namespace uop

// OnnxModel::RunBorrowed: borrowed inputs, outputs into the caller's spans,
// and the copy counters that show a warm replay stages nothing on the host.
#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/test_model_builder.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
constexpr int kFloat = onnx::TensorProto::FLOAT;

// Writes every output into one caller-owned arena, back to back, and
// remembers where; `limit` caps the arena (an output past it is refused).
class ArenaSink final : public OutputSink {
 public:
  explicit ArenaSink(size_t limit = 1 << 20) : arena(limit) {}
  absl::StatusOr<absl::Span<uint8_t>> Allocate(size_t index, DType dtype, const Shape& shape,
                                               size_t nbytes) override {
    if (used + nbytes > arena.size())
      return absl::InvalidArgumentError(absl::StrCat("output ", index, " does not fit"));
    shapes.push_back(shape);
    dtypes.push_back(dtype);
    offsets.push_back(used);
    sizes.push_back(nbytes);
    used += nbytes;
    return absl::MakeSpan(arena).subspan(offsets.back(), nbytes);
  }
  absl::Status TakeValue(size_t index, HostValue value) override {
    taken.push_back(std::move(value));
    return absl::OkStatus();
  }
  std::vector<float> Floats(size_t i) const {
    std::vector<float> out(sizes[i] / 4);
    std::memcpy(out.data(), arena.data() + offsets[i], sizes[i]);
    return out;
  }

  std::vector<uint8_t> arena;
  size_t used = 0;
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  std::vector<size_t> offsets, sizes;
  std::vector<HostValue> taken;
};

// A sink that answers every output with a span of the wrong size.
class ShortSink final : public OutputSink {
 public:
  absl::StatusOr<absl::Span<uint8_t>> Allocate(size_t, DType, const Shape&,
                                               size_t nbytes) override {
    buf.resize(nbytes);
    return absl::MakeSpan(buf).subspan(0, nbytes / 2);
  }
  std::vector<uint8_t> buf;
};

class OnnxModelBorrowedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }

  static std::unique_ptr<OnnxModel> Load(const TestModelBuilder& b) {
    absl::StatusOr<std::unique_ptr<OnnxModel>> m = OnnxModel::FromBytes(b.Bytes());
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *std::move(m) : nullptr;
  }
  static absl::Span<const uint8_t> Bytes(const std::vector<float>& v) {
    return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4);
  }
  static InputView View(absl::string_view name, const std::vector<float>& v,
                        const std::vector<int64_t>& shape) {
    return InputView{name, DType::Float32(), shape, Bytes(v)};
  }

  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
};

// y = relu(x + b) with x of shape (N, 3).
TestModelBuilder AddRelu() {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {-1, 3}, {"N"});
  b.Initializer("b", HostTensor::FromVector<float>({1, -1, 0.5f}, {3}));
  b.Node("Add", {"x", "b"}, {"s"});
  b.Node("Relu", {"s"}, {"y"});
  b.Output("y");
  return b;
}

TEST_F(OnnxModelBorrowedTest, WarmReplayCopiesEachTensorOnceAndNothingOnTheHost) {
  std::unique_ptr<OnnxModel> m = Load(AddRelu());
  ASSERT_NE(m, nullptr);
  const std::vector<int64_t> shape = {2, 3};
  std::vector<float> x = {1, 2, 3, -5, 0, 1};
  ArenaSink first;
  ASSERT_TRUE(m->RunBorrowed({View("x", x, shape)}, first).ok());
  EXPECT_EQ(first.Floats(0), (std::vector<float>{2, 1, 3.5f, 0, 0, 1.5f}));
  EXPECT_EQ(first.shapes[0], (Shape{2, 3}));
  EXPECT_EQ(first.dtypes[0], DType::Float32());
  // The building run staged the input and handed the output over on the host.
  OnnxModelStats built = m->stats();
  EXPECT_EQ(built.captures, 1u);
  EXPECT_EQ(built.host_copy_bytes, 24u + 24u);

  x = {0, 0, 0, 1, 1, 1};
  ArenaSink second;
  second.used = 8;  // the output lands where the sink says, not at the start
  ASSERT_TRUE(m->RunBorrowed({View("x", x, shape)}, second).ok());
  EXPECT_EQ(second.offsets[0], 8u);
  EXPECT_EQ(second.Floats(0), (std::vector<float>{1, 0, 0.5f, 2, 0, 1.5f}));
  OnnxModelStats warm = m->stats();
  EXPECT_EQ(warm.replays, built.replays + 1);
  EXPECT_EQ(warm.bytes_to_device, built.bytes_to_device + 24);
  EXPECT_EQ(warm.bytes_from_device, built.bytes_from_device + 24);
  EXPECT_EQ(warm.host_copy_bytes, built.host_copy_bytes);  // nothing staged
}

TEST_F(OnnxModelBorrowedTest, OwnedAndBorrowedRunsShareThePlan) {
  std::unique_ptr<OnnxModel> m = Load(AddRelu());
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(
      m->Run({{"x", HostValue::Tensor(HostTensor::FromVector<float>({1, 1, 1}, {1, 3}))}}).ok());
  std::vector<float> x = {-1, 3, 0};
  ArenaSink sink;
  ASSERT_TRUE(m->RunBorrowed({View("x", x, {1, 3})}, sink).ok());
  EXPECT_EQ(sink.Floats(0), (std::vector<float>{0, 2, 0.5f}));
  EXPECT_EQ(m->stats().replays, 1u);
  EXPECT_EQ(m->stats().captures, 1u);
  // And an owned run replays a plan a borrowed run recorded.
  std::unique_ptr<OnnxModel> m2 = Load(AddRelu());
  ASSERT_NE(m2, nullptr);
  ArenaSink build;
  ASSERT_TRUE(m2->RunBorrowed({View("x", x, {1, 3})}, build).ok());
  absl::StatusOr<std::vector<HostValue>> out =
      m2->Run({{"x", HostValue::Tensor(HostTensor::FromVector<float>({0, 0, 0}, {1, 3}))}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].tensor().bytes.size(), 12u);
  EXPECT_EQ(m2->stats().replays, 1u);
}

TEST_F(OnnxModelBorrowedTest, InputErrorsAreTheOwnedRunsErrors) {
  std::unique_ptr<OnnxModel> m = Load(AddRelu());
  ASSERT_NE(m, nullptr);
  std::vector<float> three = {1, 2, 3};
  ArenaSink sink;
  EXPECT_THAT(m->RunBorrowed({View("z", three, {1, 3})}, sink).message(),
              AllOf(HasSubstr("unknown input 'z'"), HasSubstr("x")));
  EXPECT_THAT(m->RunBorrowed({}, sink).message(), HasSubstr("input 'x' is missing"));
  EXPECT_THAT(m->RunBorrowed({View("x", three, {1, 3}), View("x", three, {1, 3})}, sink).message(),
              HasSubstr("input 'x' is given twice"));
  EXPECT_THAT(m->RunBorrowed({View("x", three, {3, 1})}, sink).message(),
              AllOf(HasSubstr("input 'x'"), HasSubstr("FLOAT[N, 3]"), HasSubstr("float32[3, 1]")));
  std::vector<int64_t> ints = {1, 2, 3};
  const std::vector<int64_t> shape = {1, 3};
  InputView wrong_type{"x", DType::Int64(), shape,
                       absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(ints.data()), 24)};
  EXPECT_THAT(m->RunBorrowed({wrong_type}, sink).message(), HasSubstr("int64[1, 3]"));
  InputView short_data{"x", DType::Float32(), shape, Bytes(three).subspan(0, 8)};
  EXPECT_THAT(
      m->RunBorrowed({short_data}, sink).message(),
      AllOf(HasSubstr("input 'x': 8 bytes of data for float32[1, 3]"), HasSubstr("12 expected")));
  EXPECT_EQ(m->stats().captures, 0u);  // nothing ran
}

TEST_F(OnnxModelBorrowedTest, SymbolicDimsMustAgreeAcrossBorrowedInputs) {
  TestModelBuilder b(13);
  b.Input("a", kFloat, {-1}, {"N"});
  b.Input("c", kFloat, {-1}, {"N"});
  b.Node("Add", {"a", "c"}, {"y"});
  b.Output("y");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  std::vector<float> two = {1, 2}, three = {1, 2, 3};
  ArenaSink sink;
  EXPECT_THAT(m->RunBorrowed({View("a", two, {2}), View("c", three, {3})}, sink).message(),
              HasSubstr("dimension 'N' is 3 but input 'a' has it 2"));
  ASSERT_TRUE(m->RunBorrowed({View("c", three, {3}), View("a", three, {3})}, sink).ok());
  EXPECT_EQ(sink.Floats(0), (std::vector<float>{2, 4, 6}));
}

TEST_F(OnnxModelBorrowedTest, SinkErrorsFailTheRunAndNameTheOutput) {
  std::unique_ptr<OnnxModel> m = Load(AddRelu());
  ASSERT_NE(m, nullptr);
  std::vector<float> x = {1, 2, 3};
  ArenaSink tiny(8);  // the 12-byte output does not fit
  EXPECT_THAT(m->RunBorrowed({View("x", x, {1, 3})}, tiny).message(),
              HasSubstr("output 0 does not fit"));
  ArenaSink ok;
  ASSERT_TRUE(m->RunBorrowed({View("x", x, {1, 3})}, ok).ok());
  // Warm: the replay refuses a span of the wrong size rather than writing
  // past it.
  ShortSink short_sink;
  absl::Status st = m->RunBorrowed({View("x", x, {1, 3})}, short_sink);
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(st.message(), AllOf(HasSubstr("output 'y'"), HasSubstr("6 bytes for 12")));
  EXPECT_TRUE(m->RunBorrowed({View("x", x, {1, 3})}, tiny).code() ==
              absl::StatusCode::kInvalidArgument);
}

TEST_F(OnnxModelBorrowedTest, PassedThroughOutputIsCopiedFromTheCallersBytes) {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {2});
  b.Node("Identity", {"x"}, {"y"});
  b.Node("Neg", {"x"}, {"z"});
  b.Output("y");
  b.Output("z");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  std::vector<float> x = {1, 2};
  ArenaSink build;
  ASSERT_TRUE(m->RunBorrowed({View("x", x, {2})}, build).ok());
  x = {5, 6};
  const uint64_t before = m->stats().host_copy_bytes;
  ArenaSink sink;
  ASSERT_TRUE(m->RunBorrowed({View("x", x, {2})}, sink).ok());
  EXPECT_EQ(sink.Floats(0), (std::vector<float>{5, 6}));
  EXPECT_EQ(sink.Floats(1), (std::vector<float>{-5, -6}));
  EXPECT_EQ(m->stats().replays, 1u);
  EXPECT_EQ(m->stats().host_copy_bytes, before + 8);  // y is x: copied on the host
}

TEST_F(OnnxModelBorrowedTest, NonTensorOutputsReachTakeValue) {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {2});
  b.Node("SequenceConstruct", {"x", "x"}, {"s"});
  b.Output("s");
  std::unique_ptr<OnnxModel> m = Load(b);
  ASSERT_NE(m, nullptr);
  std::vector<float> x = {1, 2};
  ArenaSink sink;
  ASSERT_TRUE(m->RunBorrowed({View("x", x, {2})}, sink).ok());
  ASSERT_EQ(sink.taken.size(), 1u);
  EXPECT_EQ(sink.taken[0].Describe(), "sequence(2)");
  ShortSink no_take;  // the default TakeValue refuses
  EXPECT_THAT(m->RunBorrowed({View("x", x, {2})}, no_take).message(),
              HasSubstr("output 0 is a sequence(2), which this caller cannot take"));
}

}  // namespace
}  // namespace uop::onnx_import

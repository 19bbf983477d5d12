#include "runtime/onnx/tensor_proto.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace uop::onnx_import {
namespace {

using ::testing::HasSubstr;

onnx::TensorProto Proto(int type, std::vector<int64_t> dims, const std::string& name = "t") {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(type);
  for (int64_t d : dims) p.add_dims(d);
  return p;
}

TEST(TensorFromProto, RawFloatData) {
  onnx::TensorProto p = Proto(onnx::TensorProto::FLOAT, {2, 2});
  std::vector<float> v = {1, 2.5f, -3, 4};
  p.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), 16));
  absl::StatusOr<HostTensor> t = TensorFromProto(p, nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype, DType::Float32());
  EXPECT_EQ(t->shape, (Shape{2, 2}));
  EXPECT_EQ(t->AsDouble(1), 2.5);
  EXPECT_EQ(t->AsDouble(2), -3);
}

TEST(TensorFromProto, TypedDataOfSmallIntegersAndHalves) {
  onnx::TensorProto i8 = Proto(onnx::TensorProto::INT8, {3});
  for (int v : {-128, 0, 127}) i8.add_int32_data(v);
  absl::StatusOr<HostTensor> a = TensorFromProto(i8, nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->bytes.size(), 3u);
  EXPECT_EQ(a->AsInt(0), -128);
  EXPECT_EQ(a->AsInt(2), 127);

  onnx::TensorProto h = Proto(onnx::TensorProto::FLOAT16, {2});
  h.add_int32_data(FloatToHalf(1.5f));
  h.add_int32_data(FloatToHalf(-2.0f));
  absl::StatusOr<HostTensor> b = TensorFromProto(h, nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype, DType::Float16());
  EXPECT_EQ(b->AsDouble(0), 1.5);
  EXPECT_EQ(b->AsDouble(1), -2.0);

  onnx::TensorProto bf = Proto(onnx::TensorProto::BFLOAT16, {1});
  bf.add_int32_data(FloatToBFloat16(3.0f));
  absl::StatusOr<HostTensor> c = TensorFromProto(bf, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dtype, DType::BFloat16());
  EXPECT_EQ(c->AsDouble(0), 3.0);

  onnx::TensorProto u64 = Proto(onnx::TensorProto::UINT64, {1});
  u64.add_uint64_data(~uint64_t{0});
  absl::StatusOr<HostTensor> d = TensorFromProto(u64, nullptr);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(static_cast<uint64_t>(d->AsInt(0)), ~uint64_t{0});
}

TEST(TensorFromProto, BoolRawDataIsNormalized) {
  onnx::TensorProto p = Proto(onnx::TensorProto::BOOL, {2});
  p.set_raw_data(std::string("\x00\x07", 2));
  absl::StatusOr<HostTensor> t = TensorFromProto(p, nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->bytes, (std::vector<uint8_t>{0, 1}));
}

TEST(TensorFromProto, StringsAndRoundTrip) {
  onnx::TensorProto p = Proto(onnx::TensorProto::STRING, {2});
  p.add_string_data("a");
  p.add_string_data("bc");
  absl::StatusOr<HostTensor> t = TensorFromProto(p, nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->is_string);
  EXPECT_EQ(t->strings, (std::vector<std::string>{"a", "bc"}));
  absl::StatusOr<HostTensor> back = TensorFromProto(TensorToProto(*t), nullptr);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->strings, t->strings);

  HostTensor f = HostTensor::FromVector<int64_t>({5, -6}, {2});
  absl::StatusOr<HostTensor> g = TensorFromProto(TensorToProto(f, "g"), nullptr);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->bytes, f.bytes);
  EXPECT_EQ(g->dtype, DType::Int64());
}

TEST(TensorFromProto, CountMismatchNamesTheTensor) {
  onnx::TensorProto p = Proto(onnx::TensorProto::FLOAT, {2, 3}, "weights");
  p.add_float_data(1);
  absl::StatusOr<HostTensor> t = TensorFromProto(p, nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("weights"));
  EXPECT_THAT(t.status().message(), HasSubstr("1 values"));

  onnx::TensorProto raw = Proto(onnx::TensorProto::FLOAT, {4}, "short");
  raw.set_raw_data("abc");
  EXPECT_THAT(TensorFromProto(raw, nullptr).status().message(), HasSubstr("raw_data has 3 bytes"));
}

TEST(TensorFromProto, RejectsNegativeDimsAndUnknownTypes) {
  onnx::TensorProto neg = Proto(onnx::TensorProto::FLOAT, {-1});
  EXPECT_THAT(TensorFromProto(neg, nullptr).status().message(), HasSubstr("negative dimension"));
  onnx::TensorProto huge = Proto(onnx::TensorProto::FLOAT, {1 << 30, 1 << 30, 1 << 30});
  EXPECT_THAT(TensorFromProto(huge, nullptr).status().message(), HasSubstr("overflows"));
  onnx::TensorProto complex = Proto(onnx::TensorProto::COMPLEX64, {1});
  EXPECT_THAT(TensorFromProto(complex, nullptr).status().message(), HasSubstr("COMPLEX64"));
}

class ExternalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/uop_ext_XXXXXX";
    root_ = mkdtemp(tmpl);
    dir_ = root_ + "/model";
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    std::vector<float> v = {0, 1, 2, 3, 4, 5};
    std::ofstream(dir_ + "/weights.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(v.data()), 24);
    std::ofstream(root_ + "/secret.bin", std::ios::binary) << std::string(24, 'x');
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  onnx::TensorProto External(const std::string& location, int64_t offset, int64_t length) {
    onnx::TensorProto p = Proto(onnx::TensorProto::FLOAT, {length / 4}, "w");
    p.set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](const std::string& k, const std::string& v) {
      auto* e = p.add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    add("location", location);
    add("offset", std::to_string(offset));
    add("length", std::to_string(length));
    return p;
  }

  std::string root_, dir_;
};

TEST_F(ExternalDataTest, ReadsARangeOfAFileInTheModelFolder) {
  ExternalDataDir ext{.dir = dir_};
  absl::StatusOr<HostTensor> t = TensorFromProto(External("weights.bin", 8, 12), &ext);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape, (Shape{3}));
  EXPECT_EQ(t->AsDouble(0), 2);
  EXPECT_EQ(t->AsDouble(2), 4);
}

TEST_F(ExternalDataTest, RefusesPathsOutsideTheModelFolder) {
  ExternalDataDir ext{.dir = dir_};
  EXPECT_THAT(TensorFromProto(External("../secret.bin", 0, 24), &ext).status().message(),
              HasSubstr("leaves the model's folder"));
  EXPECT_THAT(TensorFromProto(External(root_ + "/secret.bin", 0, 24), &ext).status().message(),
              HasSubstr("must be relative"));
  ASSERT_EQ(symlink((root_ + "/secret.bin").c_str(), (dir_ + "/link.bin").c_str()), 0);
  EXPECT_THAT(TensorFromProto(External("link.bin", 0, 24), &ext).status().message(),
              HasSubstr("outside the model's folder"));
  EXPECT_THAT(TensorFromProto(External("missing.bin", 0, 4), &ext).status().message(),
              HasSubstr("not found"));
}

TEST_F(ExternalDataTest, RefusesRangesPastTheEndAndModelsFromBytes) {
  ExternalDataDir ext{.dir = dir_};
  EXPECT_THAT(TensorFromProto(External("weights.bin", 16, 12), &ext).status().message(),
              HasSubstr("past the end"));
  EXPECT_THAT(TensorFromProto(External("weights.bin", 0, 8), nullptr).status().message(),
              HasSubstr("not allowed"));
}

TEST(ParseValueFile, SequenceAndOptional) {
  onnx::SequenceProto s;
  s.set_elem_type(onnx::SequenceProto::TENSOR);
  *s.add_tensor_values() = TensorToProto(HostTensor::FromVector<float>({1}, {1}));
  *s.add_tensor_values() = TensorToProto(HostTensor::FromVector<float>({2, 3}, {2}));
  absl::StatusOr<HostValue> v = ParseValueFile(s.SerializeAsString(), ValueFileKind::kSequence);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->sequence().size(), 2u);
  EXPECT_EQ(v->sequence()[1].tensor().numel(), 2);

  onnx::OptionalProto empty;
  empty.set_elem_type(onnx::OptionalProto::TENSOR);
  absl::StatusOr<HostValue> none =
      ParseValueFile(empty.SerializeAsString(), ValueFileKind::kOptional);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->kind(), HostValue::Kind::kNone);

  EXPECT_FALSE(ParseValueFile("\xff\xff\xff", ValueFileKind::kTensor).ok());
}

}  // namespace
}  // namespace uop::onnx_import

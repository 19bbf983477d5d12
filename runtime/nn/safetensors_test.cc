#include "runtime/nn/safetensors.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop::nn {
namespace {

// A file from a header string and data bytes, as the format lays it out.
std::vector<uint8_t> File(const std::string& header, std::vector<uint8_t> data = {}) {
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string ParseError(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<SafetensorsFile> f = ParseSafetensors(bytes);
  EXPECT_FALSE(f.ok()) << "parsed a malformed file";
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(f.status().message());
}

TEST(Safetensors, ReadsAHandWrittenFile) {
  std::vector<uint8_t> data = {0, 0, 128, 63, 0, 0, 0, 64, 7, 0};  // F32 1, 2 then I16 7
  absl::StatusOr<SafetensorsFile> f =
      ParseSafetensors(File(R"({"b":{"dtype":"I16","shape":[],"data_offsets":[8,10]},)"
                            R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("__metadata__":{"format":"pt"}})",
                            data));
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->tensors.size(), 2u);
  EXPECT_EQ(f->tensors[0].name, "b");
  EXPECT_EQ(f->tensors[0].shape, Shape{});
  EXPECT_EQ(*f->tensors[0].ToTensor().Item<int16_t>(), 7);
  EXPECT_EQ(*f->tensors[1].ToTensor().ToVector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(f->metadata.at("format"), "pt");
}

TEST(Safetensors, RoundTripsEveryDTypeWithMetadata) {
  std::vector<std::pair<std::string, Tensor>> ts = {
      {"f32", Tensor::FromVector<float>({1.5f, -2, 3, 4, 5, 6}, {2, 3})},
      {"f64", Tensor::FromVector<double>({3.25})},
      {"i64", Tensor::FromVector<int64_t>({-1, int64_t{1} << 40})},
      {"u8", Tensor::FromVector<uint8_t>({0, 255})},
      {"bool", Tensor::FromVector<bool>({true, false, true})},
      {"f16", Tensor::FromVector<float>({0.5f, -8}).Cast(DType::Float16())},
      {"bf16", Tensor::FromVector<float>({1, 3}).Cast(DType::BFloat16())},
      {"lazy", Tensor::Arange(4).Mul(3)},
      {"empty", Tensor::Zeros({0, 3})},
  };
  absl::StatusOr<std::vector<uint8_t>> bytes = SerializeSafetensors(ts, {{"step", "12"}});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | (*bytes)[i];
  EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes";
  absl::StatusOr<SafetensorsFile> f = ParseSafetensors(*bytes);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->tensors.size(), ts.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    SCOPED_TRACE(ts[i].first);
    EXPECT_EQ(f->tensors[i].name, ts[i].first);
    EXPECT_EQ(f->tensors[i].dtype, ts[i].second.dtype());
    EXPECT_EQ(f->tensors[i].shape, ts[i].second.shape());
    EXPECT_EQ(f->tensors[i].data, *ts[i].second.ToBytes());
  }
  EXPECT_EQ(f->metadata.at("step"), "12");

  std::string path = ::testing::TempDir() + "/round_trip.safetensors";
  ASSERT_TRUE(SaveSafetensors(path, ts).ok());
  absl::StatusOr<SafetensorsFile> loaded = LoadSafetensors(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->tensors[0].data, f->tensors[0].data);
  std::remove(path.c_str());
}

TEST(Safetensors, RejectsMalformedFilesWithClearErrors) {
  const std::vector<uint8_t> four = {0, 0, 0, 0};
  EXPECT_EQ(ParseError({1, 2, 3}), "safetensors: file of 3 bytes has no 8-byte header length");
  EXPECT_EQ(ParseError({200, 0, 0, 0, 0, 0, 0, 0, '{', '}'}),
            "safetensors: header length 200 runs past the end of the file (2 bytes after the "
            "length)");
  EXPECT_EQ(ParseError({0, 0, 0, 0, 0, 1, 0, 0}),
            "safetensors: header length 1099511627776 is over 100 MB");
  EXPECT_EQ(ParseError(File("{\"a\":")),
            "safetensors: header: malformed JSON at byte 5: unexpected end of input");
  EXPECT_EQ(ParseError(File("[1]")), "safetensors: header is not a JSON object");
  EXPECT_EQ(ParseError(File(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", four)),
            "safetensors: tensor \"a\" has no string \"dtype\"");
  EXPECT_EQ(ParseError(File(R"({"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", four)),
            "safetensors: tensor \"a\" has unsupported dtype \"F8_E4M3\"");
  EXPECT_EQ(ParseError(File(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four)),
            "safetensors: tensor \"a\" has a shape entry that is not a non-negative integer");
  EXPECT_EQ(ParseError(File(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four)),
            "safetensors: tensor \"a\" is float32 (2,) (8 bytes) but data_offsets span 4");
  EXPECT_EQ(ParseError(File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", four)),
            "safetensors: tensor \"a\" has data_offsets that are not 0 <= begin <= end");
  EXPECT_EQ(ParseError(File(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four)),
            "safetensors: tensor \"a\" ends at byte 8 of a data section of 4");
  EXPECT_EQ(
      ParseError(File(
          R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
          four)),
      "safetensors: tensor \"b\" starts at byte 2, expected 3 (overlap)");
  EXPECT_EQ(ParseError(File(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", four)),
            "safetensors: tensor \"a\" starts at byte 2, expected 0 (hole in the data)");
  EXPECT_EQ(ParseError(File(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", four)),
            "safetensors: data section has 2 bytes after the last tensor");
  EXPECT_EQ(
      ParseError(File(
          R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
          four)),
      "safetensors: duplicate name \"a\"");
  EXPECT_EQ(ParseError(File(
                R"({"a":{"dtype":"U8","dtype":"F32","shape":[4],"data_offsets":[0,4]}})", four)),
            "safetensors: tensor \"a\" repeats the field \"dtype\"");
  EXPECT_EQ(ParseError(File(R"({"__metadata__":{"k":1}})")),
            "safetensors: __metadata__ value of \"k\" is not a string");
  EXPECT_EQ(
      ParseError(File(
          R"({"a":{"dtype":"U8","shape":[4611686018427387904,8],"data_offsets":[0,4]}})", four)),
      "safetensors: tensor \"a\" has a shape whose byte size overflows");
}

TEST(Safetensors, FileAndArgumentErrors) {
  EXPECT_EQ(LoadSafetensors("/nonexistent/x.safetensors").status().code(),
            absl::StatusCode::kNotFound);
  Tensor t = Tensor::FromVector<float>({1});
  EXPECT_FALSE(SaveSafetensors("/nonexistent/dir/x.safetensors", {{"t", t}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"t", t}, {"t", t}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"", t}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"e", Tensor::Error(absl::InternalError("x"))}}).ok());
  std::string path = ::testing::TempDir() + "/bad.safetensors";
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fputs("junk", f);
  fclose(f);
  absl::StatusOr<SafetensorsFile> bad = LoadSafetensors(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path + ": safetensors: file of 4 bytes"), std::string::npos)
      << bad.status();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace uop::nn

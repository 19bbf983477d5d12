#include "client/uopctl/tensor_text.h"

#include <cstring>

#include "gtest/gtest.h"

namespace uop::uopctl {
namespace {

using client::Datatype;

client::NpyArray FromJson(const std::string& text, Datatype d, std::vector<int64_t> declared) {
  absl::StatusOr<client::NpyArray> t = TensorFromJson(*ParseJson(text), d, declared);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status();
  return t.ok() ? *t : client::NpyArray{};
}

absl::Status JsonError(const std::string& text, Datatype d, std::vector<int64_t> declared) {
  return TensorFromJson(*ParseJson(text), d, declared).status();
}

template <typename T>
std::vector<T> Values(const client::NpyArray& a) {
  std::vector<T> v(a.data.size() / sizeof(T));
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

TEST(TensorFromJson, NestedArraysGiveTheShape) {
  client::NpyArray t = FromJson("[[1, 2.5], [3, -4]]", Datatype::kFp32, {-1, 2});
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Values<float>(t), (std::vector<float>{1, 2.5f, 3, -4}));
  // int64 exactly, past 2^53.
  t = FromJson("[9007199254740993]", Datatype::kInt64, {1});
  EXPECT_EQ(Values<int64_t>(t)[0], 9007199254740993LL);
  t = FromJson("[true, 0, 1]", Datatype::kBool, {3});
  EXPECT_EQ(t.data, std::string("\1\0\1", 3));
  t = FromJson(R"(["ab", ""])", Datatype::kBytes, {2});
  EXPECT_EQ(t.data, std::string("\2\0\0\0ab\0\0\0\0", 10));
  t = FromJson("[1.0]", Datatype::kFp16, {1});
  EXPECT_EQ(Values<uint16_t>(t)[0], 0x3c00);
}

TEST(TensorFromJson, KServeObjectsAndFlatLists) {
  client::NpyArray t = FromJson(R"({"datatype": "INT32", "shape": [2, 2], "data": [1, 2, 3, 4]})",
                                Datatype::kInt32, {-1, 2});
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Values<int32_t>(t), (std::vector<int32_t>{1, 2, 3, 4}));
  // A flat list for a fixed-shape 2-D input takes the declared shape.
  t = FromJson("[1, 2, 3, 4, 5, 6]", Datatype::kFp32, {2, 3});
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
}

TEST(TensorFromJson, MismatchesAreNamed) {
  EXPECT_NE(JsonError("[[1, 2], [3]]", Datatype::kFp32, {2, 2}).message().find("ragged"),
            std::string::npos);
  EXPECT_NE(JsonError("[1, [2]]", Datatype::kFp32, {2}).message().find("ragged"),
            std::string::npos);
  EXPECT_NE(JsonError("[300]", Datatype::kUint8, {1}).message().find("300 does not fit UINT8"),
            std::string::npos);
  EXPECT_NE(JsonError("[1.5]", Datatype::kInt32, {1}).message().find("does not fit"),
            std::string::npos);
  EXPECT_NE(JsonError("[\"a\"]", Datatype::kFp32, {1}).message().find("takes numbers"),
            std::string::npos);
  EXPECT_NE(
      JsonError("[1, 2, 3]", Datatype::kFp32, {4}).message().find("shape [3], the model takes [4]"),
      std::string::npos);
  EXPECT_NE(JsonError(R"({"datatype": "FP64", "data": [1]})", Datatype::kFp32, {1})
                .message()
                .find("JSON says FP64"),
            std::string::npos);
  EXPECT_NE(JsonError(R"({"shape": [3], "data": [1, 2]})", Datatype::kFp32, {-1})
                .message()
                .find("holds 3 values"),
            std::string::npos);
  EXPECT_FALSE(JsonError(R"({"shape": [2]})", Datatype::kFp32, {-1}).ok());
}

TEST(FormatTensor, PrintsValuesSummarizedAndAsJson) {
  std::vector<float> v = {1, 2.5f, -3, 4};
  client::OutputTensor t{"C",
                         Datatype::kFp32,
                         {2, 2},
                         std::string(reinterpret_cast<char*>(v.data()), 16),
                         std::nullopt};
  EXPECT_EQ(FormatTensor(t, 0), "C FP32[2, 2] = [1, 2.5, -3, 4]");
  EXPECT_EQ(FormatTensor(t, 2), "C FP32[2, 2] = [1, ..., 4]");
  EXPECT_EQ(TensorJson(t),
            R"({"name": "C", "datatype": "FP32", "shape": [2, 2], "data": [1, 2.5, -3, 4]})");
  client::OutputTensor s{
      "S", Datatype::kBytes, {2}, client::EncodeBytesElements({"a\"", "b"}), std::nullopt};
  EXPECT_EQ(FormatTensor(s, 0), R"(S BYTES[2] = ["a\"", "b"])");
  client::OutputTensor shm{"Y", Datatype::kFp32, {4}, "", client::SharedMemoryRef{"out", 0, 16}};
  EXPECT_EQ(FormatTensor(shm, 0), "Y FP32[4] in shared memory region 'out'");
  const float nan = std::nanf("");
  client::OutputTensor n{
      "N", Datatype::kFp32, {1}, std::string(reinterpret_cast<const char*>(&nan), 4), std::nullopt};
  EXPECT_NE(TensorJson(n).find("\"nan\""), std::string::npos) << TensorJson(n);
  EXPECT_EQ(ElementText(Datatype::kInt64, std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8), 0),
            "-1");
}

}  // namespace
}  // namespace uop::uopctl

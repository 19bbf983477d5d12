#include "client/uopctl/tensor_input.h"

#include <cstring>
#include <fstream>

#include "gtest/gtest.h"

namespace uop::uopctl {
namespace {

using client::Datatype;

TensorMetadata Meta(const std::string& name, const std::string& dt, std::vector<int64_t> shape) {
  TensorMetadata m;
  m.set_name(name);
  m.set_datatype(dt);
  for (int64_t d : shape) m.add_shape(d);
  return m;
}

std::string Temp(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(LoadInput, EveryKindOfSpec) {
  const TensorMetadata a = Meta("A", "FP32", {4});
  absl::StatusOr<client::NpyArray> t = LoadInput(a, "[1, 2, 3, 4]", nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape, (std::vector<int64_t>{4}));
  t = LoadInput(a, "zeros", nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->data, std::string(16, '\0'));
  t = LoadInput(a, "random", nullptr);
  ASSERT_TRUE(t.ok());
  for (int i = 0; i < 4; ++i) {
    float f;
    std::memcpy(&f, t->data.data() + 4 * i, 4);
    EXPECT_GE(f, 0);
    EXPECT_LT(f, 1);
  }
  const float raw[4] = {1, 2, 3, 4};
  t = LoadInput(a, Temp("a.bin", std::string(reinterpret_cast<const char*>(raw), 16)), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(std::memcmp(t->data.data(), raw, 16), 0);
  t = LoadInput(a, Temp("a.json", R"({"data": [[1, 2], [3, 4]], "shape": [4]})"), nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(client::WriteNpyFile(::testing::TempDir() + "/a.npy",
                                   {Datatype::kFp32, {4}, std::string(16, '\1')})
                  .ok());
  t = LoadInput(a, ::testing::TempDir() + "/a.npy", nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
}

TEST(LoadInput, DynamicShapesNeedTheShapeFromDataOrFlag) {
  const TensorMetadata x = Meta("x", "INT64", {-1, 2});
  absl::Status st = LoadInput(x, "zeros", nullptr).status();
  EXPECT_EQ(st.message(), "input 'x' has shape [-1, 2]: give --shape x=D0,D1,...");
  const std::vector<int64_t> shape = {3, 2};
  absl::StatusOr<client::NpyArray> t = LoadInput(x, "zeros", &shape);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->data.size(), 48u);
  t = LoadInput(x, "[[1, 2], [3, 4], [5, 6]]", nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->shape, shape);
  const std::vector<int64_t> wrong = {3, 3};
  EXPECT_NE(LoadInput(x, "zeros", &wrong).status().message().find("does not fit input 'x'"),
            std::string::npos);
}

TEST(LoadInput, MismatchesNameTheInputAndFile) {
  const TensorMetadata a = Meta("A", "FP32", {4});
  ASSERT_TRUE(client::WriteNpyFile(::testing::TempDir() + "/d.npy",
                                   {Datatype::kFp64, {4}, std::string(32, '\0')})
                  .ok());
  absl::Status st = LoadInput(a, ::testing::TempDir() + "/d.npy", nullptr).status();
  EXPECT_NE(st.message().find("input 'A' is FP32[4], "), std::string::npos) << st;
  EXPECT_NE(st.message().find("holds FP64[4]"), std::string::npos) << st;
  st = LoadInput(a, Temp("short.bin", "abc"), nullptr).status();
  EXPECT_NE(st.message().find("takes 16 bytes, the data has 3"), std::string::npos) << st;
  st = LoadInput(a, ::testing::TempDir() + "/missing.npy", nullptr).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(st.message().find("input 'A': cannot read"), std::string::npos) << st;
  st = LoadInput(a, "[1, 2", nullptr).status();
  EXPECT_NE(st.message().find("input 'A': malformed JSON at byte 5"), std::string::npos) << st;
  EXPECT_FALSE(LoadInput(Meta("s", "BYTES", {1}), "zeros", nullptr).ok());
  EXPECT_FALSE(LoadInput(Meta("q", "FLOAT", {1}), "zeros", nullptr).ok());
}

}  // namespace
}  // namespace uop::uopctl

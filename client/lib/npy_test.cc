#include "client/lib/npy.h"

#include <cstring>

#include "gtest/gtest.h"

namespace uop::client {
namespace {

// A file laid out as np.save writes it: magic, version, header length, the
// dict padded with spaces to a 64-byte boundary and ended by '\n', the data.
std::string NumpyFile(absl::string_view dict, absl::string_view data, char major = 1) {
  std::string header(dict);
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(major);
  out.push_back(0);
  out.push_back(static_cast<char>(header.size()));
  out.push_back(static_cast<char>(header.size() >> 8));
  if (major != 1) out.append(2, '\0');
  return out + header + std::string(data);
}

std::string Floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(v.begin()), v.size() * 4);
}

TEST(Npy, ReadsWhatNumpyWrites) {
  std::string f = NumpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                            Floats({0, 1, 2, 3, 4, 5}));
  absl::StatusOr<NpyArray> a = ParseNpy(f);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->datatype, Datatype::kFp32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->data, Floats({0, 1, 2, 3, 4, 5}));
  // Keys in another order, version 2, a scalar, double quotes.
  a = ParseNpy(NumpyFile(R"({"shape": (), "fortran_order": False, "descr": "<i8"})",
                         std::string("\x07\0\0\0\0\0\0\0", 8), 2));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->datatype, Datatype::kInt64);
  EXPECT_TRUE(a->shape.empty());
}

TEST(Npy, ConvertsFortranOrderAndBigEndian) {
  // [[0, 1, 2], [3, 4, 5]] stored column-major: 0 3 1 4 2 5.
  absl::StatusOr<NpyArray> a = ParseNpy(NumpyFile(
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", Floats({0, 3, 1, 4, 2, 5})));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->data, Floats({0, 1, 2, 3, 4, 5}));
  a = ParseNpy(NumpyFile("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }",
                         std::string("\x01\x02\x00\x05", 4)));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->data, std::string("\x02\x01\x05\x00", 4));
}

TEST(Npy, RoundTripsEveryDatatype) {
  for (Datatype d : {Datatype::kBool, Datatype::kUint8, Datatype::kUint16, Datatype::kUint32,
                     Datatype::kUint64, Datatype::kInt8, Datatype::kInt16, Datatype::kInt32,
                     Datatype::kInt64, Datatype::kFp16, Datatype::kFp32, Datatype::kFp64}) {
    NpyArray a{d, {3, 1}, std::string(3 * DatatypeSize(d), '\x01')};
    absl::StatusOr<std::string> bytes = SerializeNpy(a);
    ASSERT_TRUE(bytes.ok()) << DatatypeName(d) << bytes.status();
    EXPECT_EQ((bytes->size() - a.data.size()) % 64, 0u);  // data 64-byte aligned
    absl::StatusOr<NpyArray> back = ParseNpy(*bytes);
    ASSERT_TRUE(back.ok()) << DatatypeName(d) << back.status();
    EXPECT_EQ(back->datatype, d);
    EXPECT_EQ(back->shape, a.shape);
    EXPECT_EQ(back->data, a.data);
  }
  EXPECT_NE(SerializeNpy({Datatype::kFp32, {5}, std::string(20, 0)})->find("'shape': (5,)"),
            std::string::npos);
}

TEST(Npy, RejectsMalformedFilesWithAReason) {
  const std::string good =
      NumpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Floats({1, 2}));
  // Every truncation is an error, never a crash.
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(ParseNpy(absl::string_view(good).substr(0, cut)).ok()) << cut;
  }
  auto message = [](const std::string& f) { return std::string(ParseNpy(f).status().message()); };
  EXPECT_NE(message("not numpy at all").find("magic"), std::string::npos);
  EXPECT_NE(message(good + "xx").find("needs 8 data bytes, the file has 10"), std::string::npos);
  EXPECT_NE(message(NumpyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                              std::string(8, 0)))
                .find("unsupported dtype '<c8'"),
            std::string::npos);
  EXPECT_NE(
      message(NumpyFile("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", Floats({1})))
          .find("fortran_order"),
      std::string::npos);
  EXPECT_NE(message(NumpyFile("{'descr': '<f4', 'shape': (1,), }", Floats({1}))).find("lacks"),
            std::string::npos);
  EXPECT_NE(
      message(NumpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", Floats({1})))
          .find("dimension"),
      std::string::npos);
  EXPECT_NE(message(NumpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                              Floats({1})))
                .find("unknown key 'x'"),
            std::string::npos);
  std::string v9 = good;
  v9[6] = 9;
  EXPECT_NE(message(v9).find("version 9"), std::string::npos);
  // Huge shapes do not overflow into a small size.
  EXPECT_FALSE(ParseNpy(NumpyFile("{'descr': '<f4', 'fortran_order': False, "
                                  "'shape': (4611686018427387904, 4), }",
                                  Floats({1})))
                   .ok());
}

TEST(Npy, WritesFilesAtomicallyAndReadsThemBack) {
  const std::string path = ::testing::TempDir() + "/a.npy";
  ASSERT_TRUE(WriteNpyFile(path, {Datatype::kInt32, {2}, std::string(8, '\x02')}).ok());
  absl::StatusOr<NpyArray> a = ReadNpyFile(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->datatype, Datatype::kInt32);
  absl::Status missing = ReadNpyFile(::testing::TempDir() + "/missing.npy").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("missing.npy"), std::string::npos);
  EXPECT_FALSE(WriteNpyFile(path, {Datatype::kBytes, {1}, "x"}).ok());
  EXPECT_FALSE(WriteNpyFile("/nonexistent-dir/a.npy", {Datatype::kInt32, {0}, ""}).ok());
}

TEST(Npy, FileNamesForTensorNames) {
  EXPECT_EQ(NpyFileName("y"), "y.npy");
  EXPECT_EQ(NpyFileName("sigmoid_0.tmp_0"), "sigmoid_0.tmp_0.npy");
  EXPECT_EQ(NpyFileName("a/b:0"), "a_b_0.npy");
}

}  // namespace
}  // namespace uop::client

#include "client/uoprun/mapped_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "client/uoprun/artifact_file.h"
#include "gtest/gtest.h"

namespace uop::uoprun {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A hand-made artifact (no compiler needed): one weight buffer, one kernel.
std::string SmallArtifact() {
  static const std::string* const kBinary = new std::string(
      "\x7f"
      "ELF pretend machine code");
  static const std::vector<uint8_t>* const kWeights = new std::vector<uint8_t>{1, 2, 3, 4, 5, 6};
  Artifact a;
  a.device = "CPU:0";
  a.compiler_key = "test-key";
  ArtifactBuffer w{ArtifactBuffer::Kind::kState, 6};
  w.data = *kWeights;
  a.buffers.push_back(w);
  a.buffers.push_back({ArtifactBuffer::Kind::kInput, 6});
  a.inputs.push_back({"x", DType(ScalarType::kUInt8), {6}, 1});
  ArtifactKernel k;
  k.name = "E_6";
  k.binary = *kBinary;
  k.buffer_bytes = {6, 6};
  a.kernels.push_back(k);
  a.launches.push_back({false, 0, {1, 0}});
  return *a.Serialize();
}

TEST(MappedFileTest, MapsTheWholeFile) {
  const std::string path = TempPath("mapped_whole");
  WriteFile(path, "hello mapping");
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->bytes(), "hello mapping");
  // The mapping keeps the old contents when the file is replaced by rename
  // (as WriteWholeFile does) or removed.
  const std::string next = TempPath("mapped_whole.next");
  WriteFile(next, "other contents");
  ASSERT_EQ(rename(next.c_str(), path.c_str()), 0);
  EXPECT_EQ((*f)->bytes(), "hello mapping");
  unlink(path.c_str());
  EXPECT_EQ((*f)->bytes(), "hello mapping");
}

TEST(MappedFileTest, EmptyFileIsEmptyBytes) {
  const std::string path = TempPath("mapped_empty");
  WriteFile(path, "");
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE((*f)->bytes().empty());
}

TEST(MappedFileTest, MissingFileIsNotFound) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(TempPath("no_such"));
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(f.status().message().find("no_such"), std::string::npos) << f.status();
}

TEST(MappedFileTest, DirectoryFifoAndDeviceAreRefused) {
  const std::string fifo = TempPath("mapped_fifo");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {TempPath(""), fifo, std::string("/dev/zero")}) {
    absl::StatusOr<std::shared_ptr<const MappedFile>> f = MappedFile::Open(path);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_NE(f.status().message().find("not a regular file"), std::string::npos) << f.status();
  }
  unlink(fifo.c_str());
}

TEST(ArtifactFileTest, ParsesWithViewsIntoTheMapping) {
  const std::string path = TempPath("small.uop");
  ASSERT_TRUE(WriteArtifactFile(path, *Artifact::Parse(SmallArtifact())).ok());
  absl::StatusOr<Artifact> a = ReadArtifactFile(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->kernels[0].binary,
            "\x7f"
            "ELF pretend machine code");
  EXPECT_EQ(std::vector<uint8_t>(a->buffers[0].data.begin(), a->buffers[0].data.end()),
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  // Zero copy: the views point into the mapping the artifact keeps alive.
  const auto* file = static_cast<const MappedFile*>(a->storage.get());
  ASSERT_NE(file, nullptr);
  const char* begin = file->bytes().data();
  const char* end = begin + file->bytes().size();
  const char* bin = a->kernels[0].binary.data();
  const char* weights = reinterpret_cast<const char*>(a->buffers[0].data.data());
  EXPECT_TRUE(bin >= begin && bin < end);
  EXPECT_TRUE(weights >= begin && weights < end);
  // The artifact outlives the file's name.
  unlink(path.c_str());
  EXPECT_EQ(a->kernels[0].binary,
            "\x7f"
            "ELF pretend machine code");
}

TEST(ArtifactFileTest, ShortTruncatedPaddedAndCorruptFilesNameTheProblem) {
  const std::string good = SmallArtifact();
  const std::string path = TempPath("bad.uop");
  struct Case {
    std::string bytes, want;
  };
  std::string flipped = good;
  flipped[good.size() - 3] ^= 0x40;
  const Case cases[] = {
      {"", "shorter than its 56-byte header: 0 bytes"},
      {good.substr(0, 20), "shorter than its 56-byte header: 20 bytes"},
      {good.substr(0, good.size() - 1), "truncated or padded"},
      {good + "x", "truncated or padded"},
      {flipped, "checksum mismatch"},
  };
  for (const Case& c : cases) {
    WriteFile(path, c.bytes);
    absl::StatusOr<Artifact> a = ReadArtifactFile(path);
    ASSERT_FALSE(a.ok()) << c.want;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << a.status();
    EXPECT_NE(a.status().message().find(c.want), std::string::npos) << a.status();
    EXPECT_NE(a.status().message().find(path), std::string::npos) << a.status();
  }
  EXPECT_EQ(ReadArtifactFile(TempPath("missing.uop")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace uop::uoprun

#include "client/lib/shared_memory.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace uop::client {
namespace {

std::string UniqueKey(const char* tag) {
  return absl::StrCat("/uop_shm_test_", tag, "_", getpid());
}

TEST(SharedMemoryRegion, CreateOpenShareBytesAndUnlinkOnDestruction) {
  const std::string key = UniqueKey("share");
  {
    auto owner = SharedMemoryRegion::Create(key, 4096);
    ASSERT_TRUE(owner.ok()) << owner.status();
    EXPECT_EQ((*owner)->size(), 4096u);
    std::memcpy((*owner)->data(), "hello", 5);
    auto reader = SharedMemoryRegion::Open(key, /*writable=*/false);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(std::memcmp((*reader)->data(), "hello", 5), 0);
    // A second Create of the same key is refused.
    EXPECT_EQ(SharedMemoryRegion::Create(key, 16).status().code(),
              absl::StatusCode::kAlreadyExists);
  }
  auto gone = SharedMemoryRegion::Open(key, false);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find(key), std::string::npos);
}

TEST(SharedMemoryRegion, BadKeysAndSizesAreErrors) {
  EXPECT_EQ(SharedMemoryRegion::Create("noslash", 16).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedMemoryRegion::Create("/a/b", 16).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedMemoryRegion::Create(UniqueKey("zero"), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SharedMemoryRegion, MapsFilesAndRefusesEmptyOrMissingOnes) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/mapped.bin";
  std::ofstream(path, std::ios::binary) << "abcdefgh";
  auto m = SharedMemoryRegion::MapFile(path, /*writable=*/true);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->size(), 8u);
  static_cast<char*>((*m)->data())[0] = 'X';
  m->reset();
  std::ifstream in(path, std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(back, "Xbcdefgh");

  const std::string empty = dir + "/empty.bin";
  std::ofstream(empty, std::ios::binary).flush();
  EXPECT_EQ(SharedMemoryRegion::MapFile(empty, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedMemoryRegion::MapFile(dir + "/missing.bin", false).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace uop::client

#include "server/shm_registry.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;

// A POSIX shm object of `size` bytes filled with 0, 1, 2, ...; removed at exit.
class ShmObject {
 public:
  explicit ShmObject(size_t size) : key_(absl::StrCat("/uop_shm_test_", getpid(), "_", ++n_)) {
    int fd = shm_open(key_.c_str(), O_CREAT | O_RDWR, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    for (size_t i = 0; i < size; ++i) static_cast<unsigned char*>(p)[i] = i & 0xFF;
    base_ = static_cast<unsigned char*>(p);
    size_ = size;
  }
  ~ShmObject() {
    munmap(base_, size_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  unsigned char* base() const { return base_; }

 private:
  static inline int n_ = 0;
  std::string key_;
  unsigned char* base_;
  size_t size_;
};

TEST(ShmRegistry, RegisterViewStatusUnregister) {
  ShmObject obj(3 * 4096);
  ShmRegistry shm;
  ASSERT_TRUE(shm.Register("r", obj.key(), /*offset=*/4097, /*byte_size=*/100).ok());
  absl::StatusOr<ShmView> v = shm.View("r", 3, 10);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(static_cast<unsigned char>(v->data[0]), (4097 + 3) & 0xFF);
  // Zero-copy: writes by the client are visible through the view.
  obj.base()[4100] = 0xAB;
  EXPECT_EQ(static_cast<unsigned char>(v->data[0]), 0xAB);
  auto status = shm.Status("");
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 1u);
  EXPECT_EQ((*status)[0].key, obj.key());
  EXPECT_EQ((*status)[0].offset, 4097u);
  ASSERT_TRUE(shm.Unregister("r").ok());
  // The view keeps its mapping alive after unregistering.
  EXPECT_EQ(static_cast<unsigned char>(v->data[0]), 0xAB);
  EXPECT_EQ(shm.Status("r").status().code(), absl::StatusCode::kNotFound);
}

TEST(ShmRegistry, BadRegistrationsAreClearErrors) {
  ShmObject obj(4096);
  ShmRegistry shm;
  EXPECT_THAT(shm.Register("r", "/uop_no_such_key", 0, 10).message(),
              HasSubstr("cannot open shm key '/uop_no_such_key'"));
  EXPECT_THAT(shm.Register("r", obj.key(), 4000, 200).message(), HasSubstr("past the end"));
  EXPECT_THAT(shm.Register("r", "not/a/key", 0, 10).message(), HasSubstr("not a POSIX"));
  EXPECT_THAT(shm.Register("r", obj.key(), 0, 0).message(), HasSubstr("byte_size is 0"));
  ASSERT_TRUE(shm.Register("r", obj.key(), 0, 100).ok());
  EXPECT_EQ(shm.Register("r", obj.key(), 0, 100).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(shm.Unregister("other").code(), absl::StatusCode::kNotFound);
}

TEST(ShmRegistry, ViewsAreBoundsChecked) {
  ShmObject obj(4096);
  ShmRegistry shm;
  ASSERT_TRUE(shm.Register("r", obj.key(), 0, 100).ok());
  EXPECT_TRUE(shm.View("r", 0, 100).ok());
  EXPECT_TRUE(shm.View("r", 100, 0).ok());
  for (auto [offset, size] : {std::pair<uint64_t, uint64_t>{0, 101},
                              {50, 51},
                              {101, 0},
                              {UINT64_MAX, 2},
                              {1, UINT64_MAX}}) {
    absl::StatusOr<ShmView> v = shm.View("r", offset, size);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << offset << "+" << size;
    EXPECT_THAT(v.status().message(), HasSubstr("past its end (100 bytes)"));
  }
  EXPECT_THAT(shm.View("nope", 0, 1).status().message(), HasSubstr("'nope' is not registered"));
}

TEST(ShmRegistry, UnregisterAllClearsEverything) {
  ShmObject obj(4096);
  ShmRegistry shm;
  ASSERT_TRUE(shm.Register("a", obj.key(), 0, 10).ok());
  ASSERT_TRUE(shm.Register("b", obj.key(), 10, 10).ok());
  ASSERT_TRUE(shm.Unregister("").ok());
  EXPECT_TRUE(shm.Status("")->empty());
}

}  // namespace
}  // namespace uop::server

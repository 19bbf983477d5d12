#include "runtime/tensor/storage.h"

#include <set>
#include <thread>

#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(Storage, IdsAreUniqueAndLookupIsWeak) {
  auto a = Storage::Create(DType::Float32(), 4, "CPU");
  auto b = Storage::Create(DType::Int8(), 0, "CUDA");
  EXPECT_NE(a->id(), b->id());
  EXPECT_EQ(LookupStorage(a->id()), a);
  EXPECT_EQ(a->nbytes(), 16);
  EXPECT_EQ(b->device(), "CUDA");
  EXPECT_FALSE(a->realized());
  const int64_t id = a->id();
  a.reset();
  EXPECT_EQ(LookupStorage(id), nullptr);
}

TEST(Storage, HostBytesMarkRealizedAndInvalidateDevice) {
  auto s = Storage::Create(DType::UInt8(), 2, "CPU");
  s->device_valid = true;
  s->SetHostBytes({1, 2});
  EXPECT_TRUE(s->host_valid);
  EXPECT_FALSE(s->device_valid);
  EXPECT_TRUE(s->realized());
}

TEST(Storage, ConcurrentCreationGivesDistinctIds) {
  std::vector<std::shared_ptr<Storage>> made[4];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&made, t] {
      for (int i = 0; i < 500; ++i) made[t].push_back(Storage::Create(DType::Int32(), 1, "CPU"));
    });
  for (std::thread& t : threads) t.join();
  std::set<int64_t> ids;
  for (auto& v : made)
    for (auto& s : v) ids.insert(s->id());
  EXPECT_EQ(ids.size(), 2000u);
}

TEST(StorageRefs, MergeSharesSupersetsAndUnions) {
  auto a = Storage::Create(DType::Int32(), 1, "CPU");
  auto b = Storage::Create(DType::Int32(), 1, "CPU");
  StorageRefs ra(a), rb(b), none;
  StorageRefs ab = StorageRefs::Merge(ra, rb);
  EXPECT_EQ(ab.storages().size(), 2u);
  // Merging a subset returns the superset itself (no new allocation).
  EXPECT_EQ(StorageRefs::Merge(ab, ra).storages().data(), ab.storages().data());
  EXPECT_EQ(StorageRefs::Merge(ra, ab).storages().data(), ab.storages().data());
  EXPECT_EQ(StorageRefs::Merge(none, ra).storages().data(), ra.storages().data());
  EXPECT_TRUE(StorageRefs::Merge(none, none).empty());
  const int64_t id = a->id();
  a.reset();
  EXPECT_NE(LookupStorage(id), nullptr);  // ra and ab keep it alive
}

}  // namespace
}  // namespace uop

#include "runtime/tensor/storage.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace uop {
namespace {

struct StorageTable {
  std::mutex mu;
  absl::flat_hash_map<int64_t, std::weak_ptr<Storage>> by_id;
  std::atomic<int64_t> next_id{1};

  static StorageTable& Get() {
    static auto* table = new StorageTable();  // never destroyed: storages may outlive statics
    return *table;
  }
};

}  // namespace

Storage::Storage(int64_t id, DType dtype, int64_t size, std::string device)
    : id_(id), dtype_(dtype), size_(size), device_(std::move(device)) {}

Storage::~Storage() {
  StorageTable& table = StorageTable::Get();
  std::lock_guard<std::mutex> lock(table.mu);
  table.by_id.erase(id_);
}

std::shared_ptr<Storage> Storage::Create(DType dtype, int64_t size, std::string device) {
  StorageTable& table = StorageTable::Get();
  int64_t id = table.next_id.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<Storage> s(new Storage(id, dtype, size, std::move(device)));
  std::lock_guard<std::mutex> lock(table.mu);
  table.by_id[id] = s;
  return s;
}

void Storage::SetHostBytes(std::vector<uint8_t> bytes) {
  host = std::move(bytes);
  host_valid = true;
  device_valid = false;
}

std::shared_ptr<Storage> LookupStorage(int64_t id) {
  StorageTable& table = StorageTable::Get();
  std::lock_guard<std::mutex> lock(table.mu);
  auto it = table.by_id.find(id);
  return it == table.by_id.end() ? nullptr : it->second.lock();
}

size_t LiveStorageCount() {
  StorageTable& table = StorageTable::Get();
  std::lock_guard<std::mutex> lock(table.mu);
  return table.by_id.size();
}

StorageRefs::StorageRefs(std::shared_ptr<Storage> storage)
    : set_(storage ? std::make_shared<const Set>(Set{std::move(storage)}) : nullptr) {}

absl::Span<const std::shared_ptr<Storage>> StorageRefs::storages() const {
  if (!set_) return {};
  return *set_;
}

StorageRefs StorageRefs::Merge(const StorageRefs& a, const StorageRefs& b) {
  if (a.set_ == b.set_ || b.empty()) return a;
  if (a.empty()) return b;
  const Set& x = *a.set_;
  const Set& y = *b.set_;
  auto less = [](const std::shared_ptr<Storage>& p, const std::shared_ptr<Storage>& q) {
    return p.get() < q.get();
  };
  // The common case is one set already containing the other (a weight joins
  // activations that saw it before): reuse the larger one, no allocation.
  if (x.size() >= y.size() && std::includes(x.begin(), x.end(), y.begin(), y.end(), less)) return a;
  if (y.size() >= x.size() && std::includes(y.begin(), y.end(), x.begin(), x.end(), less)) return b;
  auto merged = std::make_shared<Set>();
  merged->reserve(x.size() + y.size());
  std::set_union(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(*merged), less);
  return StorageRefs(std::shared_ptr<const Set>(std::move(merged)));
}

}  // namespace uop

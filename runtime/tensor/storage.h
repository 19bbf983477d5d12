// Storage: the memory behind a BUFFER node of a tensor graph.
//
// Every BUFFER UOp carries `BufferArg{id, size}`; the id names one Storage in
// a process-wide table. A Storage records what the buffer is (element dtype,
// size in elements, device name) and where its current contents live: in
// `host` bytes, in an opaque device allocation owned by the engine, or both.
//
//   std::shared_ptr<Storage> s = Storage::Create(DType::Float32(), 6, "CPU");
//   LookupStorage(s->id()) == s;                  // until the last owner drops it
//   s->SetHostBytes(bytes);                       // realized on the host
//
// Ownership: Tensors hold shared_ptrs to the storages their graphs read
// (StorageRefs below); the table holds only weak references, so a storage no
// tensor refers to is freed and its id disappears from the table.
//
// Thread safety: creation, lookup and destruction are safe from any thread.
// The content fields (host bytes, device handle, validity flags) are not
// synchronized: one realize at a time may touch a given storage (the engine
// serializes work per storage; the reference realizer holds a global lock).
#ifndef UOP_RUNTIME_TENSOR_STORAGE_H_
#define UOP_RUNTIME_TENSOR_STORAGE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "runtime/dtype/dtype.h"

namespace uop {

class Storage {
 public:
  // A new, unrealized storage with a fresh id, registered in the table.
  static std::shared_ptr<Storage> Create(DType dtype, int64_t size, std::string device);
  ~Storage();

  int64_t id() const { return id_; }
  DType dtype() const { return dtype_; }
  int64_t size() const { return size_; }  // elements
  int64_t nbytes() const { return size_ * dtype_.itemsize(); }
  const std::string& device() const { return device_; }

  // The contents exist somewhere: on the host, on the device, or both.
  bool realized() const { return host_valid || device_valid; }

  // Replaces the contents with `bytes` (exactly nbytes() long) on the host;
  // any device copy becomes stale.
  void SetHostBytes(std::vector<uint8_t> bytes);

  // Contents on the host; meaningful only while host_valid.
  std::vector<uint8_t> host;
  bool host_valid = false;
  // The engine's allocation on `device()`, whatever type the device uses;
  // meaningful only while device_valid. The engine sets host_valid = false
  // when a kernel writes the device copy, and fills `host` on read-back.
  std::shared_ptr<void> device_handle;
  bool device_valid = false;

  // The serial (ASSIGN arg) of the newest ASSIGN that has written this
  // storage; older ASSIGN nodes targeting it never run again (see tensor.h).
  std::atomic<int64_t> last_assign{0};

  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

 private:
  Storage(int64_t id, DType dtype, int64_t size, std::string device);
  const int64_t id_;
  const DType dtype_;
  const int64_t size_;
  const std::string device_;
};

// The live storage with `id`, or nullptr when none (never created or freed).
std::shared_ptr<Storage> LookupStorage(int64_t id);
// Number of live storages (for tests and leak checks).
size_t LiveStorageCount();

// An immutable set of storages kept alive together, shared between tensors
// by pointer. Merging two sets allocates only when neither contains the
// other, so chains of ops over the same inputs share one set.
class StorageRefs {
 public:
  StorageRefs() = default;
  explicit StorageRefs(std::shared_ptr<Storage> storage);

  static StorageRefs Merge(const StorageRefs& a, const StorageRefs& b);

  // Sorted by address, no duplicates.
  absl::Span<const std::shared_ptr<Storage>> storages() const;
  bool empty() const { return storages().empty(); }

 private:
  using Set = std::vector<std::shared_ptr<Storage>>;
  explicit StorageRefs(std::shared_ptr<const Set> set) : set_(std::move(set)) {}
  std::shared_ptr<const Set> set_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_STORAGE_H_

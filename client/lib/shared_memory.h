// Memory shared between processes: POSIX shared-memory objects (shm_open)
// and memory-mapped files. The client library puts inference inputs and
// outputs there (KServe's system shared-memory extension: the server maps the
// same object); uoprun reads a sensor producer's buffers from there without
// a copy.
//
//   ASSIGN_OR_RETURN(auto region, SharedMemoryRegion::Create("/cam0", 640 * 480 * 3));
//   std::memcpy(region->data(), frame, region->size());    // producer side
//   ASSIGN_OR_RETURN(auto view, SharedMemoryRegion::Open("/cam0", /*writable=*/false));
//
// A region made by Create removes its shm object when destroyed (it owns the
// name); Open and MapFile only unmap. Every failure names the key or path and
// the system error.
#ifndef UOP_CLIENT_LIB_SHARED_MEMORY_H_
#define UOP_CLIENT_LIB_SHARED_MEMORY_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace uop::client {

class SharedMemoryRegion {
 public:
  // A new shm object `key` ("/name": one leading slash, no other) of `bytes`
  // bytes, zero-filled, mapped read-write. AlreadyExists when the key is taken.
  static absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> Create(const std::string& key,
                                                                    size_t bytes);
  // An existing shm object, mapped whole.
  static absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> Open(const std::string& key,
                                                                  bool writable);
  // A file (e.g. in /dev/shm or a device's buffer file), mapped whole.
  static absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> MapFile(const std::string& path,
                                                                     bool writable);

  ~SharedMemoryRegion();
  SharedMemoryRegion(const SharedMemoryRegion&) = delete;
  SharedMemoryRegion& operator=(const SharedMemoryRegion&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& key() const { return key_; }  // shm key or file path

 private:
  SharedMemoryRegion(std::string key, void* data, size_t size, bool owns_key)
      : key_(std::move(key)), data_(data), size_(size), owns_key_(owns_key) {}
  static absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> MapFd(int fd, std::string key,
                                                                   bool writable, bool owns_key);

  std::string key_;
  void* data_;
  size_t size_;
  bool owns_key_;
};

// InvalidArgument unless `key` is a valid shm_open name ("/name").
absl::Status CheckShmKey(const std::string& key);

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_SHARED_MEMORY_H_

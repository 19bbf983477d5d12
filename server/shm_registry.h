// System (POSIX) shared-memory regions registered by clients, the KServe v2
// shared-memory extension: a request names a region, an offset and a byte
// size instead of carrying the tensor, and uopd reads it in place.
//
//   ShmRegistry shm;
//   RETURN_IF_ERROR(shm.Register("in0", "/my_shm_key", /*offset=*/0, /*byte_size=*/602112));
//   ASSIGN_OR_RETURN(ShmView v, shm.View("in0", 0, 602112));   // bounds-checked
//   v.data  // points into the mapping; v.region keeps it mapped while in use
//
// Unregistering while a request still reads a region is safe: the mapping
// lives until the last view of it is gone.
#ifndef UOP_SERVER_SHM_REGISTRY_H_
#define UOP_SERVER_SHM_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::server {

// One mapped region (unmapped when the last holder lets go).
struct ShmRegion {
  std::string name;
  std::string key;
  uint64_t offset = 0;     // of the mapping within the shm object
  uint64_t byte_size = 0;  // usable bytes from `offset`
  char* base = nullptr;    // mapping start (page aligned)
  size_t map_size = 0;
  char* data() const;  // base + offset within the page
  ~ShmRegion();
};

struct ShmView {
  std::shared_ptr<ShmRegion> region;
  char* data = nullptr;
  uint64_t size = 0;
};

struct ShmRegionStatus {
  std::string name;
  std::string key;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

class ShmRegistry {
 public:
  // Maps `key` (a POSIX shm name, e.g. "/input0") from `offset` for
  // `byte_size` bytes. AlreadyExists for a taken name, InvalidArgument for a
  // key that cannot be opened or a range past the object's end.
  absl::Status Register(const std::string& name, const std::string& key, uint64_t offset,
                        uint64_t byte_size);
  // NotFound for an unknown name; "" unregisters every region.
  absl::Status Unregister(const std::string& name);
  // All regions, or the one named (NotFound if unknown).
  absl::StatusOr<std::vector<ShmRegionStatus>> Status(const std::string& name) const;

  // [offset, offset + size) of region `name`; InvalidArgument naming the
  // region when it is unknown or the range does not fit.
  absl::StatusOr<ShmView> View(absl::string_view name, uint64_t offset, uint64_t size) const;

 private:
  mutable std::mutex mu_;  // guards regions_
  std::map<std::string, std::shared_ptr<ShmRegion>, std::less<>> regions_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_SHM_REGISTRY_H_

// A system shared-memory region that uopctl creates, registers with the
// server for one command and removes again (unregistered, unmapped and
// unlinked on destruction, also after errors). Tensors are placed in it at
// 64-byte aligned offsets.
//
//   ASSIGN_OR_RETURN(auto shm, ShmSession::Create(*client, total_bytes));
//   ASSIGN_OR_RETURN(SharedMemoryRef in, shm->Put(input_bytes));
//   ASSIGN_OR_RETURN(SharedMemoryRef out, shm->Reserve(output_bytes));
//   ... Infer with FromSharedMemory(..., in) and RequestedOutput{"y", out} ...
//   absl::string_view y = shm->Read(out);
#ifndef UOP_CLIENT_UOPCTL_SHM_SESSION_H_
#define UOP_CLIENT_UOPCTL_SHM_SESSION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/client.h"
#include "client/lib/npy.h"
#include "client/lib/shared_memory.h"

namespace uop::uopctl {

class ShmSession {
 public:
  static absl::StatusOr<std::unique_ptr<ShmSession>> Create(client::InferenceClient& client,
                                                            size_t bytes);
  ~ShmSession();

  // The padded size a tensor of `bytes` takes in a region.
  static size_t Aligned(size_t bytes) { return (bytes + 63) / 64 * 64; }

  absl::StatusOr<client::SharedMemoryRef> Put(absl::string_view bytes);
  absl::StatusOr<client::SharedMemoryRef> Reserve(size_t bytes);
  absl::string_view Read(const client::SharedMemoryRef& ref) const;
  // Puts each tensor in the region: request inputs that name their place
  // (`names[i]` for tensors[i]).
  absl::StatusOr<std::vector<client::InferInput>> PutInputs(
      const std::vector<std::string>& names, const std::vector<client::NpyArray>& tensors);
  const std::string& name() const { return name_; }

 private:
  ShmSession(client::InferenceClient& c, std::string name,
             std::unique_ptr<client::SharedMemoryRegion> region)
      : client_(c), name_(std::move(name)), region_(std::move(region)) {}

  client::InferenceClient& client_;
  std::string name_;
  std::unique_ptr<client::SharedMemoryRegion> region_;
  size_t used_ = 0;
};

}  // namespace uop::uopctl

#endif  // UOP_CLIENT_UOPCTL_SHM_SESSION_H_

#include "client/uopctl/shm_session.h"

#include <unistd.h>

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace uop::uopctl {

absl::StatusOr<std::unique_ptr<ShmSession>> ShmSession::Create(client::InferenceClient& c,
                                                               size_t bytes) {
  static std::atomic<int> counter{0};
  const std::string name = absl::StrCat("uopctl_", getpid(), "_", counter.fetch_add(1));
  absl::StatusOr<std::unique_ptr<client::SharedMemoryRegion>> region =
      client::SharedMemoryRegion::Create("/" + name, std::max<size_t>(bytes, 64));
  if (!region.ok()) return region.status();
  if (absl::Status st = c.RegisterSystemSharedMemory(name, "/" + name, (*region)->size());
      !st.ok()) {
    return st;
  }
  return std::unique_ptr<ShmSession>(new ShmSession(c, name, std::move(*region)));
}

ShmSession::~ShmSession() { client_.UnregisterSystemSharedMemory(name_).IgnoreError(); }

absl::StatusOr<client::SharedMemoryRef> ShmSession::Reserve(size_t bytes) {
  if (used_ + Aligned(bytes) > region_->size()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("shared memory region '", name_, "' is full (", region_->size(), " bytes)"));
  }
  client::SharedMemoryRef ref{name_, used_, bytes};
  used_ += Aligned(bytes);
  return ref;
}

absl::StatusOr<client::SharedMemoryRef> ShmSession::Put(absl::string_view bytes) {
  absl::StatusOr<client::SharedMemoryRef> ref = Reserve(bytes.size());
  if (!ref.ok()) return ref;
  if (!bytes.empty())
    std::memcpy(static_cast<char*>(region_->data()) + ref->offset, bytes.data(), bytes.size());
  return ref;
}

absl::string_view ShmSession::Read(const client::SharedMemoryRef& ref) const {
  return absl::string_view(static_cast<const char*>(region_->data()) + ref.offset, ref.byte_size);
}

absl::StatusOr<std::vector<client::InferInput>> ShmSession::PutInputs(
    const std::vector<std::string>& names, const std::vector<client::NpyArray>& tensors) {
  std::vector<client::InferInput> inputs;
  for (size_t i = 0; i < tensors.size(); ++i) {
    absl::StatusOr<client::SharedMemoryRef> ref = Put(tensors[i].data);
    if (!ref.ok()) return ref.status();
    absl::StatusOr<client::InferInput> in =
        client::InferInput::FromSharedMemory(names[i], tensors[i].datatype, tensors[i].shape, *ref);
    if (!in.ok()) return in.status();
    inputs.push_back(std::move(*in));
  }
  return inputs;
}

}  // namespace uop::uopctl

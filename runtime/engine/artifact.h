// Ahead-of-time artifacts: a captured JIT program (compiled kernels, launch
// list, buffer plan, weights) as one versioned, checksummed file, and its
// loaded, runnable form. `uoprun compile` writes them; `uoprun run` and
// embedders load them and run without any compiler work.
//
//   ASSIGN_OR_RETURN(Artifact a, Artifact::FromJit(jit, *engine, {"x"}, {"y"}));
//   ASSIGN_OR_RETURN(std::string bytes, a.Serialize());
//   ...
//   ASSIGN_OR_RETURN(Artifact b, Artifact::Parse(bytes));          // validates everything
//   ASSIGN_OR_RETURN(auto run, LoadedArtifact::Load(b, *device));  // device must match
//   RETURN_IF_ERROR(run->SetInput(0, input_bytes));
//   RETURN_IF_ERROR(run->Run());
//   ASSIGN_OR_RETURN(std::vector<uint8_t> y, run->ReadOutput(0));
//
// File layout (little endian): magic "UOPAOT" 0x00 0x01, u32 format version,
// u32 0, SHA-256 of the payload, u64 payload length, payload. A wrong magic,
// version, length or checksum, or a payload that does not parse, is an
// InvalidArgument naming what is wrong; loading on a device or compiler
// other than the one it was built for is FailedPrecondition.
//
// Zero copy: kernel binaries and weights are views (string_view / Span) into
// Artifact::storage, which keeps the bytes alive: a mapped file (uoprun's
// ReadArtifactFile), a copy of the serialized bytes (Parse(bytes)), or
// FromJit's own copies. Parsing copies only names and small tables; loading
// copies each weight once, into its device buffer, and keeps no reference to
// the storage afterwards (a LoadedArtifact never reads the file again).
#ifndef UOP_RUNTIME_ENGINE_ARTIFACT_H_
#define UOP_RUNTIME_ENGINE_ARTIFACT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "drivers/device.h"
#include "runtime/dtype/dtype.h"
#include "runtime/engine/jit.h"

namespace uop {

struct ArtifactTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  int buffer;  // index into Artifact::buffers
};

struct ArtifactBuffer {
  enum class Kind : uint8_t { kInput, kOutput, kState, kScratch };
  Kind kind;
  int64_t bytes;
  int arena = -1;                  // kScratch: index into arenas
  int64_t offset = 0;              // kScratch: byte offset in the arena
  absl::Span<const uint8_t> data;  // kState: initial contents (weights), in Artifact::storage
};

struct ArtifactKernel {
  std::string name;
  absl::string_view binary;  // in Artifact::storage
  std::vector<uint64_t> buffer_bytes;
  int num_vars = 0;
  std::array<int64_t, 3> global = {1, 1, 1};
  std::array<int64_t, 3> local = {1, 1, 1};
};

struct ArtifactLaunch {
  bool is_copy = false;
  int kernel = -1;
  std::vector<int> buffers;
};

struct Artifact {
  static constexpr uint32_t kFormatVersion = 1;

  std::string device;        // e.g. "CPU:0"
  std::string compiler_key;  // the device compiler's CacheKey at build time
  std::vector<ArtifactTensor> inputs, outputs;
  std::vector<int64_t> arenas;  // bytes
  std::vector<ArtifactBuffer> buffers;
  std::vector<ArtifactKernel> kernels;
  std::vector<ArtifactLaunch> launches;
  // Keeps the bytes that kernel binaries and state data view alive.
  std::shared_ptr<const void> storage;

  // From a captured Jit (jit.captured()): reads weights and state back to
  // the host. Names default to "input_<i>" / "output_<i>".
  static absl::StatusOr<Artifact> FromJit(const Jit& jit, Engine& engine,
                                          std::vector<std::string> input_names = {},
                                          std::vector<std::string> output_names = {});
  absl::StatusOr<std::string> Serialize() const;
  // Verify + ParsePayload over a private copy of `bytes`.
  static absl::StatusOr<Artifact> Parse(absl::string_view bytes);
  // Verify + ParsePayload with views into `bytes`, which `storage` keeps
  // alive (e.g. a file mapping): no copy of kernels or weights.
  static absl::StatusOr<Artifact> Parse(absl::string_view bytes,
                                        std::shared_ptr<const void> storage);
  // The steps of Parse, public so a loader can time them apart or overlap
  // the checksum with other work. Verify = CheckHeader + CheckChecksum.
  // CheckHeader checks magic, version and length and returns the payload (a
  // view into `bytes`); CheckChecksum the SHA-256 of the whole payload.
  static absl::StatusOr<absl::string_view> Verify(absl::string_view bytes);
  static absl::StatusOr<absl::string_view> CheckHeader(absl::string_view bytes);
  static absl::Status CheckChecksum(absl::string_view bytes);
  // Parses a payload Verify (or CheckHeader) returned and checks every index
  // and size in it: safe on any bytes, so it may run before the checksum is known.
  static absl::StatusOr<Artifact> ParsePayload(absl::string_view payload,
                                               std::shared_ptr<const void> storage);
};

class LoadedArtifact {
 public:
  static absl::StatusOr<std::unique_ptr<LoadedArtifact>> Load(const Artifact& artifact,
                                                              Device& device);
  // Allocates the buffers and copies the weights in, then calls `gate` and
  // loads the kernels only if it returns OK (its error fails the load). A
  // loader that checks the checksum on another thread passes the wait for
  // it: the weight copies overlap the checksum, and no device ever sees
  // kernel bytes that were not verified.
  static absl::StatusOr<std::unique_ptr<LoadedArtifact>> Load(
      const Artifact& artifact, Device& device, absl::FunctionRef<absl::Status()> gate);
  ~LoadedArtifact();

  // The artifact's description (device, tensors, buffers, launches). Kernel
  // binaries and weights are not kept: binary and data are empty and
  // storage is null, so nothing refers to the file after Load.
  const Artifact& artifact() const { return artifact_; }
  // Device buffers of inputs and outputs: on a host-visible device a caller
  // may write inputs / read outputs through host_ptr() with no copy.
  DeviceBuffer* input(int i) const { return bufs_[artifact_.inputs[i].buffer]; }
  DeviceBuffer* output(int i) const { return bufs_[artifact_.outputs[i].buffer]; }
  absl::Status SetInput(int i, absl::Span<const uint8_t> bytes);
  // Reads input `i` from caller memory from now on (zero copy). The memory
  // must stay valid and be at least the input's size; host-visible devices only.
  absl::Status BindInputMemory(int i, void* host_ptr, size_t bytes);
  absl::Status Run();
  absl::StatusOr<std::vector<uint8_t>> ReadOutput(int i) const;

 private:
  LoadedArtifact() = default;
  void Rebuild();

  Artifact artifact_;
  Device* device_ = nullptr;
  std::vector<std::unique_ptr<Program>> programs_;
  std::vector<DeviceBuffer*> owned_;                  // freed on destruction
  std::vector<std::unique_ptr<DeviceBuffer>> views_;  // scratch and bound memory
  std::vector<DeviceBuffer*> bufs_;                   // by artifact buffer index
  std::vector<std::vector<DeviceBuffer*>> launch_bufs_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_ENGINE_ARTIFACT_H_

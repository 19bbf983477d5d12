// HostTwin: a CPU copy of a GPU kernel that the emulators run in place of the
// GPU's instructions ("the emulator hands the kernel to the CPU").
//
// The emulated compilers (drivers/am/emulator, drivers/qcom/emulator) compile
// each kernel twice: for the GPU (where a compiler exists) and, from the same
// source, for the host. They embed the host object as a twin blob in the
// program the driver uploads to GPU memory: the Adreno binary's instruction
// image *is* the blob; the AMD code object carries it in .rodata. At dispatch
// the emulated command processor finds the blob in the memory the driver
// uploaded (so a driver that uploads the wrong bytes, or too few, fails
// there), loads it once per content and runs it once per work-item.
//
// Blob (little endian): "UOPTWIN1", u32 header_bytes, u32 object_bytes,
// u32 num_buffers, u32 num_vars, then the x86-64 relocatable object. Its
// entry point has the CPU kernel ABI (docs/compiler.md), so the CPU's own
// compiler checks and builds it:
//   void uop_emu_entry(void* const* bufs, const int64_t* vars, int64_t unused)
// where vars holds the kernel's num_vars values followed by the work-item's
// ids: {group x, y, z, local x, y, z, local size x, y, z}.
//
//   ASSIGN_OR_RETURN(std::string blob, MakeTwinBlob(object, 3, 0));
//   HostTwinCache cache;
//   ASSIGN_OR_RETURN(const HostTwin* twin, cache.Get(blob_bytes_in_gpu_memory));
//   RETURN_IF_ERROR(twin->RunGrid(bufs, vars, groups, local));
//
// Thread safety: HostTwinCache::Get may run concurrently; RunGrid runs one
// dispatch at a time per twin (the OpenCL twins keep the ids in a global).
#ifndef UOP_DRIVERS_COMMON_HOST_TWIN_H_
#define UOP_DRIVERS_COMMON_HOST_TWIN_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "drivers/program.h"

namespace uop {

class ElfObject;

inline constexpr char kTwinMagic[8] = {'U', 'O', 'P', 'T', 'W', 'I', 'N', '1'};
inline constexpr size_t kTwinHeaderBytes = 24;

struct TwinHeader {
  uint32_t object_bytes = 0;
  uint32_t num_buffers = 0;
  uint32_t num_vars = 0;
};

// The blob for `object` (a host ELF object with uop_emu_entry).
std::string MakeTwinBlob(absl::string_view object, uint32_t num_buffers, uint32_t num_vars);

// Parses the header at the start of `bytes`; InvalidArgument unless it is a
// whole blob (magic, sizes inside `bytes`).
absl::StatusOr<TwinHeader> ParseTwinHeader(absl::Span<const uint8_t> bytes);

// Where the twin magic first occurs in `bytes` (aligned to `align`), or npos.
size_t FindTwin(absl::Span<const uint8_t> bytes, size_t align);

class HostTwin {
 public:
  using Entry = void (*)(void* const* bufs, const int64_t* vars, int64_t unused);
  static constexpr int kIds = 9;
  ~HostTwin();

  const TwinHeader& header() const { return header_; }
  // Runs every work-item of the grid (`groups` workgroups of `local` items);
  // `vars` holds header().num_vars values.
  absl::Status RunGrid(void* const* bufs, absl::Span<const int64_t> vars, LaunchDims groups,
                       LaunchDims local) const;

 private:
  friend class HostTwinCache;
  HostTwin() = default;
  TwinHeader header_;
  std::string bytes_;  // the object, to tell twins with equal hashes apart
  std::unique_ptr<ElfObject> object_;
  Entry entry_ = nullptr;
  mutable std::mutex run_mu_;
};

class HostTwinCache {
 public:
  HostTwinCache();
  ~HostTwinCache();
  // The twin for the blob at the start of `bytes` (loaded on first use).
  absl::StatusOr<const HostTwin*> Get(absl::Span<const uint8_t> bytes);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  // By the hash of the object bytes (no copy per lookup).
  absl::flat_hash_map<size_t, std::vector<std::unique_ptr<HostTwin>>> twins_;
  size_t size_ = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_HOST_TWIN_H_

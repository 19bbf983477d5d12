// EmuMemory: the memory of an emulated GPU (for the device models behind
// EmulatedKernelIo).
//
// A buffer object (Bo) is backed by a memfd. The emulator reads and writes it
// through its own view; the driver gets further mappings of the same pages
// from mmap (MapUser), at an address of its choosing with MAP_FIXED (KFD) or
// anywhere (KGSL). A Bo is visible to the emulated GPU once bound at a GPU
// virtual address; the command processors translate every address a driver
// put into a packet through Translate, which fails (a GPU page fault) for an
// address outside every bound Bo, or a range crossing its end.
//
//   EmuMemory mem(64 << 20);                          // 64 MiB budget
//   ASSIGN_OR_RETURN(std::shared_ptr<EmuMemory::Bo> bo, mem.Create(4096));
//   mem.Bind(bo, 0x100000000);
//   uint8_t* p = mem.Translate(0x100000010, 16);      // bo->view + 0x10
//
// Thread safety: every method may be called from any thread. A Bo stays
// alive while a shared_ptr to it is held (a dispatch in flight holds its
// buffers), even after Destroy.
#ifndef UOP_DRIVERS_COMMON_EMU_MEMORY_H_
#define UOP_DRIVERS_COMMON_EMU_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"

namespace uop {

class EmuMemory {
 public:
  struct Bo {
    Bo() = default;
    ~Bo();
    Bo(const Bo&) = delete;
    Bo& operator=(const Bo&) = delete;

    uint64_t id = 0;
    size_t size = 0;  // page-rounded
    int memfd = -1;
    uint8_t* view = nullptr;  // the emulator's mapping
    uint64_t gpu_va = 0;      // 0 while unbound
    uint32_t flags = 0;       // the model's own flags (memory type, ...)
  };

  // `budget`: bytes all live Bos may hold together (ENOMEM past it).
  explicit EmuMemory(uint64_t budget) : budget_(budget) {}

  // A new zeroed Bo of at least `size` bytes: -ENOMEM past the budget.
  absl::StatusOr<std::shared_ptr<Bo>> Create(size_t size, uint32_t flags = 0);
  // Forgets the Bo (and its GPU binding); -ENOENT when unknown.
  int Destroy(uint64_t id);
  std::shared_ptr<Bo> Find(uint64_t id) const;
  // Maps [offset, offset + length) of the Bo into the driver's address space
  // (addr/flags as mmap: MAP_FIXED places it at addr). -errno on failure.
  int MapUser(const Bo& bo, uint64_t offset, void* addr, size_t length, int prot, int flags,
              void** out) const;

  // Makes the Bo visible to the GPU at `va`: -EINVAL if it overlaps a bound Bo.
  int Bind(const std::shared_ptr<Bo>& bo, uint64_t va);
  int Unbind(uint64_t id);
  // Host pointer for GPU range [va, va + length) inside one bound Bo, else
  // nullptr. With `hold`, also returns the Bo so it outlives a Destroy.
  uint8_t* Translate(uint64_t va, size_t length, std::shared_ptr<Bo>* hold = nullptr) const;
  // The bound Bo containing `va`, or nullptr.
  std::shared_ptr<Bo> BoAt(uint64_t va) const;

  uint64_t bytes_in_use() const;

 private:
  const uint64_t budget_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  uint64_t in_use_ = 0;
  std::map<uint64_t, std::shared_ptr<Bo>> bos_;    // by id
  std::map<uint64_t, std::shared_ptr<Bo>> by_va_;  // bound, by GPU address
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_EMU_MEMORY_H_

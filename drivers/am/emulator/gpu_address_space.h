// GpuAddressSpace: how an emulated AMD command processor (AmdCp) reaches the
// memory a GPU virtual address names. Two implementations exist because the
// two AM interfaces map memory differently:
//  * behind the KFD emulator, every allocation is an EmuMemory Bo bound at a
//    GPU address (EmuMemoryAddressSpace, below);
//  * on the PCI path without a kernel driver, addresses go through the page
//    tables the driver wrote into VRAM (the GMC model's walker).
// A failed translation is a GPU page fault: the CP reports it and stops the
// queue.
//
// Thread safety: implementations may be called from the CP's thread while the
// driver maps and unmaps memory on others.
#ifndef UOP_DRIVERS_AM_EMULATOR_GPU_ADDRESS_SPACE_H_
#define UOP_DRIVERS_AM_EMULATOR_GPU_ADDRESS_SPACE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "drivers/common/emu_memory.h"

namespace uop {

class GpuAddressSpace {
 public:
  // One mapping as the driver made it: the unit a code object is loaded in
  // (the CP searches its bytes for the host twin).
  struct Allocation {
    uint64_t id = 0;  // stable while the mapping lives
    uint64_t va = 0;  // first GPU address
    const uint8_t* host = nullptr;
    size_t size = 0;
    bool executable = false;
  };

  virtual ~GpuAddressSpace() = default;
  // Host pointer for GPU range [va, va + length), or nullptr when any byte is
  // unmapped or the range is not contiguous behind one mapping. With `hold`,
  // also returns what keeps the memory alive while a dispatch uses it.
  virtual uint8_t* Translate(uint64_t va, size_t length,
                             std::shared_ptr<void>* hold = nullptr) const = 0;
  // The mapping containing `va`, if any.
  virtual std::optional<Allocation> AllocationAt(uint64_t va) const = 0;
};

// The KFD emulator's memory: Bos bound at GPU addresses. A Bo is executable
// when its model flags carry `executable_flag`.
class EmuMemoryAddressSpace final : public GpuAddressSpace {
 public:
  EmuMemoryAddressSpace(const EmuMemory* memory, uint32_t executable_flag)
      : memory_(memory), executable_flag_(executable_flag) {}

  uint8_t* Translate(uint64_t va, size_t length, std::shared_ptr<void>* hold) const override {
    std::shared_ptr<EmuMemory::Bo> bo;
    uint8_t* p = memory_->Translate(va, length, hold != nullptr ? &bo : nullptr);
    if (hold != nullptr) *hold = std::move(bo);
    return p;
  }
  std::optional<Allocation> AllocationAt(uint64_t va) const override {
    std::shared_ptr<EmuMemory::Bo> bo = memory_->BoAt(va);
    if (bo == nullptr) return std::nullopt;
    return Allocation{bo->id, bo->gpu_va, bo->view, bo->size, (bo->flags & executable_flag_) != 0};
  }

 private:
  const EmuMemory* const memory_;
  const uint32_t executable_flag_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_GPU_ADDRESS_SPACE_H_

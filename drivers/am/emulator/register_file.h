// The register BAR of an emulated AMD GPU as a trapped register file: every
// driver access arrives here one at a time, in program order (through the
// MmioBackend seam of drivers/common/mmio.h), so device models can
//  * answer reads with values computed from state (request/ack handshakes,
//    semaphores, write pointers),
//  * react to writes as they happen (a TLB invalidation request, a ring
//    enable), and
//  * check the order and values of the driver's writes, recording every
//    breach as a violation the test asserts on.
// Registers with no model behave as plain storage. Every access is logged.
//
// Decoding off (PCI Command.Memory clear) and surprise removal make reads
// return all-ones and drop writes, as a real function does.
//
// Hooks run with the file's (recursive) lock held and may call Get/Set and
// Violation; they must not block on other threads that access the file.
//
// Extended register space: registers past the BAR, which the driver reaches
// through an index/data pair (NBIO's RSMU_INDEX/DATA, PCIE_INDEX2/DATA2/
// INDEX2_HI). ServeIndexPair makes a pair a window onto one map of 64-bit
// byte addresses (the SMN space) that every model can hook, so several
// models share a pair: writing the index selects an address, reading or
// writing the data reaches the register there. Addresses no model added are
// a violation (the driver reached for a register this chip model lacks);
// data accessed before any index write is one too. Extended accesses are
// logged separately (extended_log).
#ifndef UOP_DRIVERS_AM_EMULATOR_REGISTER_FILE_H_
#define UOP_DRIVERS_AM_EMULATOR_REGISTER_FILE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "drivers/common/mmio.h"

namespace uop {

class EmulatedRegisterFile final : public MmioBackend {
 public:
  struct Access {
    bool write = false;
    uint32_t dword = 0;
    uint32_t value = 0;  // written, or returned to the driver
  };
  // Returns what the driver reads; `stored` is the register's stored value.
  using ReadHook = std::function<uint32_t(uint32_t stored)>;
  // Runs after `value` was stored.
  using WriteHook = std::function<void(uint32_t value)>;

  explicit EmulatedRegisterFile(size_t bytes);

  size_t size() const { return words_.size() * 4; }
  // Whether the function decodes memory accesses now (PCI Command.Memory).
  void SetDecoding(std::function<bool()> decoding);
  void Remove();

  // Model-side access: no hooks, not logged.
  uint32_t Get(uint32_t dword) const;
  void Set(uint32_t dword, uint32_t value);

  // One hook per register and direction (a later one replaces it).
  void OnRead(uint32_t dword, ReadHook hook);
  void OnWrite(uint32_t dword, WriteHook hook);

  // An index/data pair (dwords of the BAR) and the names its violations use.
  struct IndexPair {
    const char* index_name;  // "RSMU_INDEX"
    const char* data_name;   // "RSMU_DATA"
    const char* space;       // "SMN"
    uint32_t index = 0, data = 0;
    std::optional<uint32_t> index_hi;  // address bits 39:32 (low 8 bits of it)
  };
  struct ExtendedAccess {
    bool write = false;
    uint64_t address = 0;
    uint32_t value = 0;
  };
  // Installs the pair's hooks (again for the same pair: no change of state).
  void ServeIndexPair(const IndexPair& pair);
  // An extended register: plain storage starting at `initial`, unless hooked.
  void AddExtended(uint64_t address, uint32_t initial = 0);
  // Hooks on an extended register (adding it if needed); one per direction.
  void OnExtendedRead(uint64_t address, ReadHook hook);
  void OnExtendedWrite(uint64_t address, WriteHook hook);
  // Model-side access: no hooks, not logged; 0 for an address never added.
  uint32_t GetExtended(uint64_t address) const;
  void SetExtended(uint64_t address, uint32_t value);
  std::vector<ExtendedAccess> extended_log() const;
  std::vector<uint32_t> ExtendedWritesOf(uint64_t address) const;

  void Violation(std::string what);
  std::vector<std::string> violations() const;
  // OK, or FailedPrecondition listing every violation in order.
  absl::Status CheckNoViolations() const;

  std::vector<Access> log() const;
  // Driver writes of `dword`, in order.
  std::vector<uint32_t> WritesOf(uint32_t dword) const;
  // Index in the log of the first driver write of `dword`, or -1.
  int FirstWriteOf(uint32_t dword) const;

  // MmioBackend: the driver's accesses.
  uint32_t Load32(uint64_t offset) override;
  void Store32(uint64_t offset, uint32_t value) override;

 private:
  bool LiveLocked() const;
  struct PairState {
    IndexPair pair;
    bool index_written = false;
  };
  struct Extended {
    uint32_t value = 0;
    ReadHook read;
    WriteHook write;
  };
  uint64_t PairAddressLocked(const PairState& p) const;
  uint32_t ReadExtendedLocked(uint32_t data_dword);
  void WriteExtendedLocked(uint32_t data_dword, uint32_t value);

  mutable std::recursive_mutex mu_;
  std::vector<uint32_t> words_;
  std::function<bool()> decoding_;
  bool removed_ = false;
  std::unordered_map<uint32_t, ReadHook> read_hooks_;
  std::unordered_map<uint32_t, WriteHook> write_hooks_;
  std::vector<Access> log_;
  std::vector<std::string> violations_;
  std::map<uint32_t, PairState> pairs_;  // by data dword
  std::map<uint64_t, Extended> extended_;
  std::vector<ExtendedAccess> extended_log_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_REGISTER_FILE_H_

// NullDevice: a device that accepts everything and runs nothing ("NULL:i").
//
// For tests of the layers above the drivers (engine, scheduler, server):
// allocations only track sizes (a small header each, no memory behind
// them), the compiler returns the source bytes unchanged, and programs
// "run" instantly, recording each launch (name, dims, buffers, vars) so a
// test can assert what would have run, in order. Argument checking is the
// same as on real devices (ValidateLaunch, CheckBufferRange), so a bad call
// fails here too. CopyOut fills the destination with zeros.
//
//   ASSIGN_OR_RETURN(Device* dev, DeviceRegistry::Global().Get("NULL"));
//   auto* null = static_cast<NullDevice*>(dev);
//   ... realize a graph on "NULL" ...
//   EXPECT_EQ(null->launches()[0].name, "E_4");
#ifndef UOP_DRIVERS_NULL_NULL_DEVICE_H_
#define UOP_DRIVERS_NULL_NULL_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "drivers/device.h"

namespace uop {

// One recorded Program::Run.
struct LaunchRecord {
  std::string name;    // the program's entry name
  std::string source;  // what the program was compiled from
  LaunchDims global, local;
  std::vector<uint64_t> buffer_ids;      // DeviceBuffer::id() per slot
  std::vector<uint64_t> buffer_sizes;    // DeviceBuffer::size() per slot
  std::vector<uint64_t> buffer_offsets;  // DeviceBuffer::offset() per slot (0 unless a view)
  std::vector<int64_t> vars;
};

class NullDevice final : public Device {
 public:
  struct Options {
    uint64_t memory_bytes = uint64_t{1} << 40;  // Alloc beyond this: ResourceExhausted
    int compute_units = 1;
    std::string language = "c";  // what it tells codegen to render
  };

  static std::unique_ptr<NullDevice> Create(int index, const Options& options);
  static std::unique_ptr<NullDevice> Create(int index) { return Create(index, Options{}); }
  ~NullDevice() override;

  const DeviceInfo& info() const override { return info_; }
  Allocator& allocator() override;
  Compiler& compiler() override;
  absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc& desc,
                                                       absl::string_view binary) override;
  absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view name,
                                                     const QueueOptions& options = {}) override;
  absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view name,
                                                       uint64_t initial = 0) override;

  // Every launch so far, in the order they ran.
  std::vector<LaunchRecord> launches() const;
  void ClearLaunches();
  // Number of Compile calls so far.
  uint64_t compile_count() const;

 private:
  class NullAllocator;
  class NullCompiler;
  class NullProgram;

  NullDevice() = default;
  void Record(LaunchRecord r);

  DeviceInfo info_;
  std::unique_ptr<NullAllocator> allocator_;
  std::unique_ptr<NullCompiler> compiler_;
  mutable absl::Mutex mu_;
  std::vector<LaunchRecord> launches_ ABSL_GUARDED_BY(mu_);
};

}  // namespace uop

#endif  // UOP_DRIVERS_NULL_NULL_DEVICE_H_

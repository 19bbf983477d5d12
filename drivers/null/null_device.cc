#include "drivers/null/null_device.h"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/device_registry.h"
#include "drivers/host_queue.h"
#include "drivers/host_signal.h"
#include "runtime/base/status_macros.h"

namespace uop {

class NullDevice::NullAllocator final : public Allocator {
 public:
  NullAllocator(std::string device, uint64_t limit) : device_(std::move(device)), limit_(limit) {}

  absl::StatusOr<DeviceBuffer*> Alloc(size_t bytes, const BufferOptions& options) override {
    ASSIGN_OR_RETURN(const size_t alignment, EffectiveAlignment(options, device_));
    absl::MutexLock lock(&mu_);
    if (bytes > limit_ - stats_.bytes_in_use) {
      return absl::ResourceExhaustedError(
          absl::StrCat(device_, ": allocating ", bytes, " bytes would exceed its ", limit_,
                       " bytes (", stats_.bytes_in_use, " in use)"));
    }
    stats_.bytes_in_use += bytes;
    stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
    ++stats_.num_allocs;
    // A plausible, unique, aligned fake address; nothing is mapped there.
    next_address_ = (next_address_ + alignment - 1) & ~uint64_t(alignment - 1);
    const uint64_t address = next_address_;
    next_address_ += bytes == 0 ? alignment : bytes;
    BufferOptions effective = options;
    effective.alignment = alignment;
    return new DeviceBuffer(this, next_id_++, bytes, effective, nullptr, address);
  }

  void Free(DeviceBuffer* buffer) override {
    if (buffer == nullptr) return;
    CheckFreeable(*buffer, this, device_);
    {
      absl::MutexLock lock(&mu_);
      stats_.bytes_in_use -= buffer->size();
      ++stats_.num_frees;
    }
    delete buffer;
  }

  absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset,
                      absl::Span<const uint8_t> src) override {
    return CheckBufferRange(dst, dst_offset, src.size(), "CopyIn", device_);
  }

  absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset,
                       absl::Span<uint8_t> dst) override {
    RETURN_IF_ERROR(CheckBufferRange(src, src_offset, dst.size(), "CopyOut", device_));
    if (!dst.empty()) std::memset(dst.data(), 0, dst.size());
    return absl::OkStatus();
  }

  absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                           size_t src_offset, size_t bytes) override {
    RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, bytes, "CopyBetween (dst)", device_));
    return CheckBufferRange(src, src_offset, bytes, "CopyBetween (src)", device_);
  }

  AllocatorStats stats() const override {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

 private:
  const std::string device_;
  const uint64_t limit_;
  mutable absl::Mutex mu_;
  AllocatorStats stats_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_address_ ABSL_GUARDED_BY(mu_) = uint64_t{1} << 44;
};

class NullDevice::NullCompiler final : public Compiler {
 public:
  const std::string& CacheKey() const override { return key_; }
  absl::StatusOr<std::string> Compile(absl::string_view, absl::string_view source) override {
    compiles_.fetch_add(1, std::memory_order_relaxed);
    return std::string(source);
  }
  uint64_t compiles() const { return compiles_.load(std::memory_order_relaxed); }

 private:
  const std::string key_ = "null-1";
  std::atomic<uint64_t> compiles_{0};
};

class NullDevice::NullProgram final : public Program {
 public:
  NullProgram(NullDevice* device, ProgramDesc desc, std::string source)
      : device_(device), desc_(std::move(desc)), source_(std::move(source)) {}

  const ProgramDesc& desc() const override { return desc_; }

  absl::Status Run(absl::Span<DeviceBuffer* const> bufs, absl::Span<const int64_t> vars,
                   LaunchDims global, LaunchDims local, RunTiming* timing) override {
    RETURN_IF_ERROR(ValidateLaunch(desc_, device_->name(), bufs, vars, global, local));
    LaunchRecord r{desc_.name, source_, global, local, {}, {}, {}, {vars.begin(), vars.end()}};
    for (const DeviceBuffer* b : bufs) {
      r.buffer_ids.push_back(b->id());
      r.buffer_sizes.push_back(b->size());
      r.buffer_offsets.push_back(b->offset());
    }
    device_->Record(std::move(r));
    if (timing != nullptr) timing->seconds = 0;
    return absl::OkStatus();
  }

 private:
  NullDevice* const device_;
  const ProgramDesc desc_;
  const std::string source_;
};

std::unique_ptr<NullDevice> NullDevice::Create(int index, const Options& options) {
  std::unique_ptr<NullDevice> d(new NullDevice());
  const std::string name = absl::StrCat("NULL:", index);
  d->info_ = DeviceInfo{
      .name = name,
      .description = "null device (records launches, runs nothing)",
      .language = options.language,
      .compute_units = options.compute_units,
      .max_vector_bytes = 16,
      .has_local = false,
      .has_shared = false,
      .max_global = LaunchDims{int64_t{1} << 31, 65535, 65535},
      .max_local = LaunchDims{1024, 1024, 64},
      .total_memory = options.memory_bytes,
  };
  d->allocator_ = std::make_unique<NullAllocator>(name, options.memory_bytes);
  d->compiler_ = std::make_unique<NullCompiler>();
  return d;
}

NullDevice::~NullDevice() = default;

Allocator& NullDevice::allocator() { return *allocator_; }
Compiler& NullDevice::compiler() { return *compiler_; }

absl::StatusOr<std::unique_ptr<Program>> NullDevice::LoadProgram(const ProgramDesc& desc,
                                                                 absl::string_view binary) {
  return std::unique_ptr<Program>(new NullProgram(this, desc, std::string(binary)));
}

absl::StatusOr<std::unique_ptr<Queue>> NullDevice::CreateQueue(absl::string_view name,
                                                               const QueueOptions& options) {
  RETURN_IF_ERROR(
      ValidateWaitTimeout(options.wait_timeout, absl::StrCat(info_.name, ": queue '", name, "'")));
  return std::unique_ptr<Queue>(
      new HostQueue(info_.name, absl::StrCat(info_.name, "/", name), options));
}

absl::StatusOr<std::unique_ptr<Signal>> NullDevice::CreateSignal(absl::string_view name,
                                                                 uint64_t initial) {
  return std::unique_ptr<Signal>(new HostSignal(info_.name, std::string(name), initial));
}

std::vector<LaunchRecord> NullDevice::launches() const {
  absl::MutexLock lock(&mu_);
  return launches_;
}

void NullDevice::ClearLaunches() {
  absl::MutexLock lock(&mu_);
  launches_.clear();
}

uint64_t NullDevice::compile_count() const { return compiler_->compiles(); }

void NullDevice::Record(LaunchRecord r) {
  absl::MutexLock lock(&mu_);
  launches_.push_back(std::move(r));
}

namespace {
constexpr int kNullDevices = 4;
}  // namespace

UOP_REGISTER_DEVICE_BACKEND(
    null, "NULL", [] { return kNullDevices; },
    [](int index) -> absl::StatusOr<std::unique_ptr<Device>> {
      return std::unique_ptr<Device>(NullDevice::Create(index));
    });

}  // namespace uop

#include "drivers/cpu/cpu_device.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "drivers/cpu/cpu_program.h"
#include "drivers/device_registry.h"
#include "drivers/host_queue.h"
#include "drivers/host_signal.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr char kName[] = "CPU:0";

std::string CpuModelName() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);) {
    absl::string_view l = line;
    if (absl::ConsumePrefix(&l, "model name")) {
      const size_t colon = l.find(':');
      if (colon != absl::string_view::npos)
        return std::string(absl::StripAsciiWhitespace(l.substr(colon + 1)));
    }
  }
  return "unknown CPU";
}

}  // namespace

absl::StatusOr<std::unique_ptr<CpuDevice>> CpuDevice::Create(const Options& options) {
  std::unique_ptr<CpuDevice> d(new CpuDevice());
  ASSIGN_OR_RETURN(d->compiler_, LlvmCompiler::Create(options.compiler));
  const int threads = options.threads > 0 ? options.threads : ThreadPool::AvailableCores();
  d->pool_ = std::make_unique<ThreadPool>(threads, options.spin);
  d->allocator_ = std::make_unique<CpuAllocator>(kName, options.memory);
  const uint64_t ram = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGESIZE));
  d->info_ = DeviceInfo{
      .name = kName,
      .description =
          absl::StrCat(CpuModelName(), " (", d->compiler_->cpu(), "), ", threads, " threads"),
      .language = "llvm-ir",
      .compute_units = threads,
      .max_vector_bytes = d->compiler_->max_vector_bytes(),
      .has_local = false,
      .has_shared = false,
      .max_global = LaunchDims{int64_t{1} << 20, 1, 1},
      .max_local = LaunchDims{1, 1, 1},
      .total_memory =
          options.memory.memory_limit != 0 ? std::min(ram, options.memory.memory_limit) : ram,
  };
  return d;
}

absl::StatusOr<std::unique_ptr<Program>> CpuDevice::LoadProgram(const ProgramDesc& desc,
                                                                absl::string_view binary) {
  ASSIGN_OR_RETURN(std::unique_ptr<CpuProgram> p,
                   CpuProgram::Load(info_.name, desc, binary, pool_.get()));
  return std::unique_ptr<Program>(std::move(p));
}

absl::StatusOr<std::unique_ptr<Queue>> CpuDevice::CreateQueue(absl::string_view name,
                                                              const QueueOptions& options) {
  RETURN_IF_ERROR(
      ValidateWaitTimeout(options.wait_timeout, absl::StrCat(info_.name, ": queue '", name, "'")));
  return std::unique_ptr<Queue>(
      new HostQueue(info_.name, absl::StrCat(info_.name, "/", name), options));
}

absl::StatusOr<std::unique_ptr<Signal>> CpuDevice::CreateSignal(absl::string_view name,
                                                                uint64_t initial) {
  return std::unique_ptr<Signal>(new HostSignal(info_.name, std::string(name), initial));
}

namespace {

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int) {
  CpuDevice::Options options;
  if (const char* t = std::getenv("UOP_CPU_THREADS"); t != nullptr && *t != '\0') {
    if (!absl::SimpleAtoi(t, &options.threads) || options.threads < 1 || options.threads > 4096) {
      return absl::InvalidArgumentError(
          absl::StrCat("UOP_CPU_THREADS must be a thread count in [1, 4096], got '", t, "'"));
    }
  }
  if (const char* sp = std::getenv("UOP_CPU_SPIN_US"); sp != nullptr && *sp != '\0') {
    int64_t us = 0;
    if (!absl::SimpleAtoi(sp, &us) || us < 0 || us > 1000000) {
      return absl::InvalidArgumentError(
          absl::StrCat("UOP_CPU_SPIN_US must be microseconds in [0, 1000000], got '", sp, "'"));
    }
    options.spin = absl::Microseconds(us);
  }
  if (const char* o = std::getenv("UOP_CPU_OPT"); o != nullptr && *o != '\0') {
    if (!absl::SimpleAtoi(o, &options.compiler.opt_level)) {
      return absl::InvalidArgumentError(
          absl::StrCat("UOP_CPU_OPT must be 1, 2 or 3, got '", o, "'"));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<CpuDevice> d, CpuDevice::Create(options));
  return std::unique_ptr<Device>(std::move(d));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(
    cpu, "CPU", [] { return 1; }, CreateRegistered);

}  // namespace uop

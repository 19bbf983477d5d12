#include "drivers/am/emulator/emulated_pci_gpu.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/am/pci/pci_sysfs.h"

namespace uop {

// One BAR: a memfd of the BAR's size, the emulator's own view of it, and the
// driver's mappings. Decoding off (Command.Memory clear at mmap time) gives
// the driver an all-0xFF private mapping instead.
//
// A trapped BAR (the register BAR) has no memory behind it: the driver gets
// an inaccessible (PROT_NONE) reservation, so any access that bypasses
// MmioRegion faults, and an MmioTrap sends the regions built on it to the
// register file.
class EmulatedPciGpu::BarNode final : public EmulatedNode {
 public:
  // `size` bytes of backing, the first `bar_size` of them mappable (VRAM
  // behind a BAR smaller than VRAM).
  BarNode(EmulatedPciGpu* gpu, int bar, uint64_t size, uint64_t bar_size,
          std::shared_ptr<EmulatedRegisterFile> trapped = nullptr)
      : gpu_(gpu), bar_(bar), size_(size), bar_size_(bar_size), trapped_(std::move(trapped)) {}
  ~BarNode() override {
    if (view_ != nullptr) ::munmap(view_, size_);
    if (memfd_ >= 0) ::close(memfd_);
  }

  absl::Status Init() {
    if (trapped_ != nullptr) return absl::OkStatus();
    memfd_ = ::memfd_create(absl::StrCat("emu-bar", bar_).c_str(), MFD_CLOEXEC);
    if (memfd_ < 0 || ::ftruncate(memfd_, static_cast<off_t>(size_)) != 0) {
      return absl::ResourceExhaustedError(absl::StrFormat("emulated BAR%d: a memfd of %u bytes: %s",
                                                          bar_, size_, std::strerror(errno)));
    }
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_, 0);
    if (p == MAP_FAILED) {
      return absl::ResourceExhaustedError(absl::StrFormat("emulated BAR%d: mapping %u bytes: %s",
                                                          bar_, size_, std::strerror(errno)));
    }
    view_ = static_cast<uint8_t*>(p);
    return absl::OkStatus();
  }

  int OnIoctl(int, unsigned long, void*) override { return -ENOTTY; }

  int OnMmap(int, void* addr, size_t length, int prot, int flags, uint64_t offset,
             void** out) override {
    if ((flags & MAP_SHARED) == 0 || offset % 4096 != 0 || offset > bar_size_ ||
        length > bar_size_ - offset || length == 0) {
      return -EINVAL;
    }
    void* p;
    if (trapped_ != nullptr) {
      p = ::mmap(addr, length, PROT_NONE,
                 (flags & MAP_FIXED) | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) return -errno;
      std::lock_guard<std::mutex> lock(traps_mu_);
      traps_[p] = std::make_unique<MmioTrap>(p, length, trapped_);
    } else if ((gpu_->Command() & kPciCommandMemory) == 0) {
      // Memory decoding off: the function answers nothing; reads complete
      // with all ones.
      p = ::mmap(addr, length, prot | PROT_WRITE, (flags & MAP_FIXED) | MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
      if (p == MAP_FAILED) return -errno;
      std::memset(p, 0xFF, length);
    } else if (bar_ == 2 && addr == nullptr && (flags & MAP_FIXED) == 0) {
      // Doorbells: the driver gets the device's own view. A doorbell is a
      // release store the engine models read with an acquire load; at one
      // address, ThreadSanitizer sees that edge (through two mappings of
      // the memfd it would not, and would report the rings' contents as
      // races).
      p = view_ + offset;
    } else {
      p = ::mmap(addr, length, prot, flags, memfd_, static_cast<off_t>(offset));
      if (p == MAP_FAILED) return -errno;
    }
    *out = p;
    mappings_.fetch_add(1);
    return 0;
  }

  int OnMunmap(void* addr, size_t length) override {
    mappings_.fetch_sub(1);
    auto* a = static_cast<uint8_t*>(addr);
    if (a >= view_ && a < view_ + size_) return 0;  // the shared doorbell view
    if (trapped_ != nullptr) {
      std::lock_guard<std::mutex> lock(traps_mu_);
      traps_.erase(addr);
    }
    return EmulatedNode::OnMunmap(addr, length);
  }

  uint8_t* view() const { return view_; }
  uint64_t size() const { return size_; }
  int mappings() const { return mappings_.load(); }

 private:
  EmulatedPciGpu* const gpu_;
  const int bar_;
  const uint64_t size_;
  const uint64_t bar_size_;
  const std::shared_ptr<EmulatedRegisterFile> trapped_;
  int memfd_ = -1;
  uint8_t* view_ = nullptr;
  std::atomic<int> mappings_{0};
  std::mutex traps_mu_;
  std::map<void*, std::unique_ptr<MmioTrap>> traps_;
};

namespace {

std::string ResourceLine(uint64_t start, uint64_t size, uint64_t flags) {
  if (size == 0) return "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
  return absl::StrFormat("0x%016x 0x%016x 0x%016x\n", start, start + size - 1, flags);
}

}  // namespace

absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> EmulatedPciGpu::Install(
    EmulatedKernelIo& io, EmulatedPciGpuConfig config) {
  if (config.vram_bar_size == 0) config.vram_bar_size = config.vram_size;
  if (config.discovery.empty()) config.discovery = BuildDiscoveryBinary(Navi24Ips());
  if (config.vram_size < kDiscoveryTmrOffset || config.vram_bar_size > config.vram_size ||
      config.vram_size % (1 << 20) != 0 || config.discovery.size() > kDiscoveryTmrOffset ||
      config.register_bar_size <= 4 * uint64_t{kRegMp0SmnC2pMsg33}) {
    return absl::InvalidArgumentError(
        "emulated PCI GPU: VRAM must be whole MiB holding the discovery binary, and the "
        "register BAR must reach MP0_SMN_C2PMSG_33");
  }
  std::shared_ptr<EmulatedPciGpu> gpu(new EmulatedPciGpu(io, std::move(config)));
  const EmulatedPciGpuConfig& c = gpu->config_;
  gpu->vram_ = std::make_shared<BarNode>(gpu.get(), 0, c.vram_size, c.vram_bar_size);
  gpu->doorbells_ =
      std::make_shared<BarNode>(gpu.get(), 2, c.doorbell_bar_size, c.doorbell_bar_size);
  gpu->registers_ = std::make_shared<EmulatedRegisterFile>(c.register_bar_size);
  EmulatedPciGpu* raw = gpu.get();
  gpu->registers_->SetDecoding([raw] { return (raw->Command() & kPciCommandMemory) != 0; });
  gpu->regs_ = std::make_shared<BarNode>(gpu.get(), 5, c.register_bar_size, c.register_bar_size,
                                         gpu->registers_);
  for (BarNode* n : {gpu->vram_.get(), gpu->doorbells_.get(), gpu->regs_.get()}) {
    if (absl::Status s = n->Init(); !s.ok()) return s;
  }

  // Registers and VRAM contents a freshly booted GPU has.
  gpu->SetRegister(kRegRccConfigMemsize, static_cast<uint32_t>(c.vram_size >> 20));
  gpu->SetRegister(kRegMp0SmnC2pMsg33, c.ifwi_done ? kIfwiInitDone : 0);
  gpu->WriteVram(c.vram_size - kDiscoveryTmrOffset, c.discovery);

  const std::string dir = gpu->dir();
  std::string cfg(256, '\0');
  const uint16_t ids[2] = {kPciVendorAmd, c.device_id};
  std::memcpy(cfg.data(), ids, 4);
  cfg[0x06] = 0x10;                     // Status: capabilities list
  cfg[0x08] = static_cast<char>(0xc1);  // revision
  cfg[0x0b] = 0x03;                     // base class: display controller
  io.AddFile(dir + "/config", cfg);
  io.AddFile(dir + "/vendor", "0x1002\n");
  io.AddFile(dir + "/device", absl::StrFormat("0x%04x\n", c.device_id));
  io.AddFile(dir + "/class", "0x030000\n");
  io.AddFile(dir + "/enable", "0\n");
  io.AddFile(dir + "/resource", ResourceLine(0x7800000000, c.vram_bar_size, 0x14220c) +
                                    ResourceLine(0, 0, 0) +
                                    ResourceLine(0x7c00000000, c.doorbell_bar_size, 0x14220c) +
                                    ResourceLine(0, 0, 0) + ResourceLine(0xe000, 0x100, 0x40101) +
                                    ResourceLine(0xfcd00000, c.register_bar_size, 0x40200) +
                                    ResourceLine(0xfce00000, 0x20000, 0x46200));  // expansion ROM
  io.AddNode(dir + "/resource0", gpu->vram_);
  io.AddNode(dir + "/resource2", gpu->doorbells_);
  io.AddNode(dir + "/resource5", gpu->regs_);
  return gpu;
}

EmulatedPciGpu::~EmulatedPciGpu() = default;

uint16_t EmulatedPciGpu::Command() const {
  std::optional<std::string> cfg = io_.FileContents(dir() + "/config");
  if (!cfg.has_value() || cfg->size() < 6) return 0;
  uint16_t cmd;
  std::memcpy(&cmd, cfg->data() + kPciConfigCommand, 2);
  return cmd;
}

uint32_t EmulatedPciGpu::Register(uint32_t dword) const { return registers_->Get(dword); }

void EmulatedPciGpu::SetRegister(uint32_t dword, uint32_t value) { registers_->Set(dword, value); }

void EmulatedPciGpu::WriteVram(uint64_t offset, absl::Span<const uint8_t> bytes) {
  std::memcpy(vram_->view() + offset, bytes.data(), bytes.size());
}

uint8_t* EmulatedPciGpu::vram_view() const { return vram_->view(); }

volatile uint64_t* EmulatedPciGpu::doorbell_view() const {
  return reinterpret_cast<volatile uint64_t*>(doorbells_->view());
}

void EmulatedPciGpu::ReadVram(uint64_t offset, absl::Span<uint8_t> out) const {
  std::memcpy(out.data(), vram_->view() + offset, out.size());
}

void EmulatedPciGpu::Remove() {
  io_.AddFile(dir() + "/config", std::string(256, '\xff'));
  io_.AddFile(dir() + "/vendor", "0xffff\n");
  for (BarNode* n : {vram_.get(), doorbells_.get()}) std::memset(n->view(), 0xFF, n->size());
  registers_->Remove();
}

absl::Status EmulatedPciGpu::CheckEnabled() const {
  std::optional<std::string> enable = io_.FileContents(dir() + "/enable");
  if (!enable.has_value() || enable->empty() || (*enable)[0] != '1') {
    return absl::FailedPreconditionError(absl::StrCat(
        config_.bdf, ": `enable` was not written 1 (reads \"", enable.value_or("<absent>"), "\")"));
  }
  const uint16_t cmd = Command();
  if ((cmd & (kPciCommandMemory | kPciCommandMaster)) != (kPciCommandMemory | kPciCommandMaster)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: PCI Command is 0x%04x: Memory Space and Bus Master must both be set",
                        config_.bdf, cmd));
  }
  return absl::OkStatus();
}

std::shared_ptr<EmulatedNode> EmulatedPciGpu::BarNodeOf(int bar) const {
  switch (bar) {
    case 0:
      return vram_;
    case 2:
      return doorbells_;
    case 5:
      return regs_;
    default:
      return nullptr;
  }
}

int EmulatedPciGpu::MappingsOf(int bar) const {
  switch (bar) {
    case 0:
      return vram_->mappings();
    case 2:
      return doorbells_->mappings();
    case 5:
      return regs_->mappings();
    default:
      return 0;
  }
}

}  // namespace uop

#include "drivers/nv/emulator/nv_emulator.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/common/ioctl.h"
#include "drivers/nv/include/nv_hopper.h"
#include "drivers/nv/include/nv_rm_abi.h"
#include "drivers/nv/nv_qmd.h"

namespace uop {
namespace {

namespace hw = nvhw;
using nvrm::Handle;

constexpr uint32_t kGpuId = 0x100;
constexpr uint8_t kUuid[16] = {0x4e, 0x56, 0x45, 0x4d, 0x55, 0x00, 0x11, 0x22,
                               0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa};
constexpr uint64_t kPage = 4096;
#ifndef MAP_FIXED_NOREPLACE
constexpr int MAP_FIXED_NOREPLACE = 0x100000;
#endif

bool IsMemoryClass(uint32_t c) {
  return c == nvrm::kMemoryLocalUser || c == nvrm::kMemorySystem ||
         c == nvrm::kMemorySystemOsDesc || c == nvrm::kHopperUsermodeA ||
         c == nvrm::kTuringUsermodeA;
}

// The node of one path: forwards to the emulator.
class Node final : public EmulatedNode {
 public:
  enum Kind { kCtl, kGpu, kUvm };
  Node(NvEmulator* emu, Kind kind) : emu_(emu), kind_(kind) {}
  int OnIoctl(int fd, unsigned long request, void* arg) override {
    switch (kind_) {
      case kCtl:
        return emu_->CtlIoctl(fd, request, arg);
      case kGpu:
        return emu_->GpuIoctl(fd, request, arg);
      case kUvm:
        return emu_->UvmIoctl(fd, request, arg);
    }
    return -ENOTTY;
  }
  int OnMmap(int fd, void* addr, size_t length, int prot, int flags, uint64_t offset,
             void** out) override {
    if (kind_ == kUvm || offset != 0) return -EINVAL;
    return emu_->Mmap(fd, addr, length, prot, flags, out);
  }
  int OnPoll(int fd, int64_t timeout_ns) override { return emu_->Poll(fd, timeout_ns); }
  void OnClose(int fd) override { emu_->Close(fd); }
  int OnOpen(int fd, int) override {
    if (kind_ == kCtl) emu_->CtlIoctl(fd, 0, nullptr);  // registers the control fd
    return 0;
  }

 private:
  NvEmulator* const emu_;
  const Kind kind_;
};

}  // namespace

struct NvEmulator::Channel {
  uint32_t handle = 0, group = 0;
  uint64_t ring_va = 0;
  uint32_t entries = 0;
  std::shared_ptr<EmuMemory::Bo> userd_bo;
  uint8_t* userd = nullptr;
  uint8_t* notifier = nullptr;
  uint32_t token = 0;
  uint32_t engine_class = 0;
  uint32_t subc_class[8] = {};
  uint32_t get = 0, pb_pos = 0;
  uint64_t sem_addr = 0, sem_payload = 0;
  uint64_t copy_in = 0, copy_out = 0, copy_sem = 0, copy_payload = 0;
  uint32_t line = 0;
  uint32_t pcas = 0;
  uint64_t shared_window = 0, local_window = 0, local_memory = 0;
  // A grid SEND_PCAS started that no wait-for-idle has waited for yet.
  bool grid_open = false;
  // QMDs completed grids scheduled (dependent QMDs), not yet run: the GPU
  // runs them one per step, alongside the channel's pushbuffer.
  std::deque<uint64_t> dependents;
  bool error = false;
};

struct NvEmulator::Object {
  uint32_t cls = 0, parent = 0;
  uint64_t size = 0;
  std::shared_ptr<EmuMemory::Bo> bo;  // video/system memory, usermode
  uint8_t* host = nullptr;            // the bytes (bo view or OS descriptor pages)
  std::unique_ptr<Channel> channel;
  bool scheduled = false;  // channel groups
  uint32_t vaspace = 0;    // context shares
};

NvEmulator::NvEmulator(Options options)
    : options_(std::move(options)), memory_(options_.memory_bytes) {
  gpu_ = std::thread([this] { GpuLoop(); });
}

NvEmulator::~NvEmulator() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  gpu_cv_.notify_all();
  event_cv_.notify_all();
  gpu_.join();
}

void NvEmulator::Install(EmulatedKernelIo& io) {
  io.AddNode("/dev/nvidiactl", std::make_shared<Node>(this, Node::kCtl));
  io.AddNode("/dev/nvidia0", std::make_shared<Node>(this, Node::kGpu));
  io.AddNode("/dev/nvidia-uvm", std::make_shared<Node>(this, Node::kUvm));
}

NvEmulator::Stats NvEmulator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::vector<NvEmulator::LaunchRecord> NvEmulator::launches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return launches_;
}

std::string NvEmulator::fault() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fault_;
}

void NvEmulator::Pause() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = true;
}

void NvEmulator::Resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
  }
  gpu_cv_.notify_all();
}

uint32_t NvEmulator::NewHandle() { return next_handle_++; }

void NvEmulator::Close(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  ctl_fds_.erase(fd);
  registered_fds_.erase(fd);
  pending_maps_.erase(fd);
  events_.erase(fd);
}

// --- /dev/nvidiactl ---

int NvEmulator::CtlIoctl(int fd, unsigned long request, void* arg) {
  if (request == 0 && arg == nullptr) {  // open
    std::lock_guard<std::mutex> lock(mu_);
    ctl_fds_[fd] = 1;
    return 0;
  }
  if (IocType(request) != nvrm::kIoctlMagic || IocDir(request) != (kIocRead | kIocWrite)) {
    return -ENOTTY;
  }
  const unsigned nr = IocNr(request);
  const unsigned long size = IocSize(request);
  auto sized = [&](unsigned long want) { return size == want; };
  switch (nr) {
    case nvrm::kEscRmAlloc:
      return sized(sizeof(nvrm::NVOS21_PARAMETERS)) ? RmAlloc(arg) : -EINVAL;
    case nvrm::kEscRmFree:
      return sized(sizeof(nvrm::NVOS00_PARAMETERS)) ? RmFree(arg) : -EINVAL;
    case nvrm::kEscRmControl:
      return sized(sizeof(nvrm::NVOS54_PARAMETERS)) ? RmControl(arg) : -EINVAL;
    case nvrm::kEscCardInfo: {
      if (size == 0 || size % sizeof(nvrm::nv_ioctl_card_info_t) != 0) return -EINVAL;
      auto* cards = static_cast<nvrm::nv_ioctl_card_info_t*>(arg);
      std::memset(cards, 0, size);
      cards[0].valid = 1;
      cards[0].pci_info.vendor_id = 0x10de;
      cards[0].pci_info.device_id = 0x2330;
      cards[0].gpu_id = kGpuId;
      cards[0].minor_number = 0;
      return 0;
    }
    case nvrm::kEscRmMapMemory: {
      if (!sized(sizeof(nvrm::nv_ioctl_nvos33_parameters_with_fd))) return -EINVAL;
      auto* p = static_cast<nvrm::nv_ioctl_nvos33_parameters_with_fd*>(arg);
      std::lock_guard<std::mutex> lock(mu_);
      auto it = objects_.find(p->params.hMemory);
      if (p->params.hClient != client_ || it == objects_.end() || !IsMemoryClass(it->second->cls) ||
          it->second->bo == nullptr) {
        p->params.status = nvrm::kErrInvalidObjectHandle;
        return 0;
      }
      const bool sys = it->second->cls == nvrm::kMemorySystem;
      const bool fd_ok = sys ? ctl_fds_.count(p->fd) > 0 : registered_fds_.count(p->fd) > 0;
      if (!fd_ok || p->params.length == 0 || p->params.length > it->second->size ||
          p->params.offset != 0) {
        p->params.status = nvrm::kErrInvalidArgument;
        return 0;
      }
      pending_maps_[p->fd] = {p->params.hMemory, p->params.length};
      p->params.status = nvrm::kOk;
      return 0;
    }
    case nvrm::kEscRmMapMemoryDma: {
      if (!sized(sizeof(nvrm::NVOS46_PARAMETERS))) return -EINVAL;
      auto* p = static_cast<nvrm::NVOS46_PARAMETERS*>(arg);
      std::lock_guard<std::mutex> lock(mu_);
      auto dma = objects_.find(p->hDma);
      auto mem = objects_.find(p->hMemory);
      if (dma == objects_.end() || dma->second->cls != nvrm::kMemoryVirtual ||
          mem == objects_.end() || !IsMemoryClass(mem->second->cls)) {
        p->status = nvrm::kErrInvalidObjectHandle;
      } else if ((p->flags & nvrm::kOs46DmaOffsetFixed) == 0 || p->dmaOffset % kPage != 0 ||
                 p->length > mem->second->size) {
        p->status = nvrm::kErrInvalidArgument;
      } else {
        p->status = nvrm::kOk;
      }
      return 0;
    }
    case nvrm::kEscRmUnmapMemoryDma:
      if (!sized(sizeof(nvrm::NVOS47_PARAMETERS))) return -EINVAL;
      static_cast<nvrm::NVOS47_PARAMETERS*>(arg)->status = nvrm::kOk;
      return 0;
    case nvrm::kEscAllocOsEvent:
    case nvrm::kEscFreeOsEvent: {
      if (!sized(sizeof(nvrm::nv_ioctl_alloc_os_event_t))) return -EINVAL;
      auto* p = static_cast<nvrm::nv_ioctl_alloc_os_event_t*>(arg);
      std::lock_guard<std::mutex> lock(mu_);
      if (p->hClient != client_) {
        p->Status = nvrm::kErrInvalidObjectHandle;
      } else if (nr == nvrm::kEscAllocOsEvent) {
        if (!options_.os_events || events_.count(static_cast<int>(p->fd)) != 0) {
          p->Status = nvrm::kErrInvalidArgument;  // one event per fd
        } else {
          events_[static_cast<int>(p->fd)] = false;
          p->Status = nvrm::kOk;
        }
      } else {
        p->Status = events_.erase(static_cast<int>(p->fd)) ? nvrm::kOk : nvrm::kErrInvalidArgument;
      }
      return 0;
    }
    default:
      return -EINVAL;
  }
}

int NvEmulator::RmAlloc(void* arg) {
  auto* p = static_cast<nvrm::NVOS21_PARAMETERS*>(arg);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.rm_allocs;
  if (p->hClass == nvrm::kRootClient) {
    if (client_ != 0) {
      p->status = nvrm::kErrInvalidState;  // one client is all the driver needs
      return 0;
    }
    client_ = p->hObjectNew != 0 ? p->hObjectNew : NewHandle();
    auto o = std::make_unique<Object>();
    o->cls = nvrm::kRootClient;
    objects_[client_] = std::move(o);
    p->hObjectNew = client_;
    p->status = nvrm::kOk;
    return 0;
  }
  if (p->hRoot != client_ || client_ == 0) {
    p->status = nvrm::kErrInvalidObjectHandle;
    return 0;
  }
  uint32_t handle = p->hObjectNew;
  p->status = AllocObject(p->hObjectParent, p->hClass,
                          reinterpret_cast<const void*>(p->pAllocParms), p->paramsSize, &handle);
  if (p->status == nvrm::kOk) p->hObjectNew = handle;
  return 0;
}

uint32_t NvEmulator::AllocObject(uint32_t parent, uint32_t cls, const void* params, uint32_t size,
                                 uint32_t* handle) {
  auto par = objects_.find(parent);
  if (par == objects_.end()) return nvrm::kErrInvalidObjectHandle;
  const uint32_t pcls = par->second->cls;
  auto want = [&](uint32_t parent_class, uint32_t params_size) {
    return pcls == parent_class && (params_size == 0 ? true : size == params_size && params);
  };
  auto o = std::make_unique<Object>();
  o->cls = cls;
  o->parent = parent;
  const bool hopper = options_.hopper_compute;
  switch (cls) {
    case nvrm::kDevice0: {
      if (!want(nvrm::kRootClient, sizeof(nvrm::NV0080_ALLOC_PARAMETERS)))
        return nvrm::kErrInvalidArgument;
      const auto* d = static_cast<const nvrm::NV0080_ALLOC_PARAMETERS*>(params);
      if (d->deviceId != 0) return nvrm::kErrInvalidArgument;
      break;
    }
    case nvrm::kSubdevice0:
      if (!want(nvrm::kDevice0, sizeof(nvrm::NV2080_ALLOC_PARAMETERS)))
        return nvrm::kErrInvalidArgument;
      break;
    case nvrm::kMemoryVirtual:
      if (!want(nvrm::kDevice0, sizeof(nvrm::NV_MEMORY_VIRTUAL_ALLOCATION_PARAMS)))
        return nvrm::kErrInvalidArgument;
      break;
    case nvrm::kFermiVaspaceA: {
      if (!want(nvrm::kDevice0, sizeof(nvrm::NV_VASPACE_ALLOCATION_PARAMETERS)))
        return nvrm::kErrInvalidArgument;
      const auto* v = static_cast<const nvrm::NV_VASPACE_ALLOCATION_PARAMETERS*>(params);
      // UVM manages an externally owned VA space only.
      if ((v->flags & nvrm::kVaspaceFlagIsExternallyOwned) == 0) return nvrm::kErrInvalidArgument;
      break;
    }
    case nvrm::kHopperUsermodeA:
    case nvrm::kTuringUsermodeA: {
      if (pcls != nvrm::kSubdevice0 || (cls == nvrm::kTuringUsermodeA)) {
        return nvrm::kErrInvalidClass;
      }
      absl::StatusOr<std::shared_ptr<EmuMemory::Bo>> bo = memory_.Create(hw::kUsermodeBytes);
      if (!bo.ok()) return nvrm::kErrNoMemory;
      o->bo = *bo;
      o->host = o->bo->view;
      o->size = hw::kUsermodeBytes;
      break;
    }
    case nvrm::kKeplerChannelGroupA: {
      if (!want(nvrm::kDevice0, sizeof(nvrm::NV_CHANNEL_GROUP_ALLOCATION_PARAMETERS)))
        return nvrm::kErrInvalidArgument;
      const auto* g = static_cast<const nvrm::NV_CHANNEL_GROUP_ALLOCATION_PARAMETERS*>(params);
      if (g->engineType != nvrm::kEngineTypeGraphics) return nvrm::kErrInvalidArgument;
      break;
    }
    case nvrm::kFermiContextShareA: {
      if (!want(nvrm::kKeplerChannelGroupA, sizeof(nvrm::NV_CTXSHARE_ALLOCATION_PARAMETERS)))
        return nvrm::kErrInvalidArgument;
      const auto* c = static_cast<const nvrm::NV_CTXSHARE_ALLOCATION_PARAMETERS*>(params);
      auto vs = objects_.find(c->hVASpace);
      if (vs == objects_.end() || vs->second->cls != nvrm::kFermiVaspaceA)
        return nvrm::kErrInvalidObjectHandle;
      o->vaspace = c->hVASpace;
      break;
    }
    case nvrm::kHopperChannelGpfifoA:
    case nvrm::kAmpereChannelGpfifoA: {
      if (!want(nvrm::kKeplerChannelGroupA, sizeof(nvrm::NV_CHANNEL_ALLOC_PARAMS)))
        return nvrm::kErrInvalidArgument;
      const auto* c = static_cast<const nvrm::NV_CHANNEL_ALLOC_PARAMS*>(params);
      auto find_mem = [&](uint32_t h) -> Object* {
        auto it = objects_.find(h);
        return it != objects_.end() && IsMemoryClass(it->second->cls) ? it->second.get() : nullptr;
      };
      Object* error = find_mem(c->hObjectError);
      Object* userd = find_mem(c->hUserdMemory[0]);
      auto share = objects_.find(c->hContextShare);
      if (error == nullptr || find_mem(c->hObjectBuffer) == nullptr || userd == nullptr ||
          userd->bo == nullptr || share == objects_.end() ||
          share->second->cls != nvrm::kFermiContextShareA || share->second->parent != parent) {
        return nvrm::kErrInvalidObjectHandle;
      }
      const uint32_t n = c->gpFifoEntries;
      if (n < 2 || (n & (n - 1)) != 0 || c->userdOffset[0] + hw::kUserdBytes > userd->size ||
          c->userdOffset[0] % 512 != 0 || c->gpFifoOffset % 8 != 0) {
        return nvrm::kErrInvalidArgument;
      }
      auto ch = std::make_unique<Channel>();
      ch->group = parent;
      ch->ring_va = c->gpFifoOffset;
      ch->entries = n;
      ch->userd_bo = userd->bo;
      ch->userd = userd->host + c->userdOffset[0];
      ch->notifier = error->host;
      ch->token = static_cast<uint32_t>(channels_.size()) + 1;
      channels_.push_back(ch.get());
      o->channel = std::move(ch);
      break;
    }
    case nvrm::kHopperComputeA:
    case nvrm::kAdaComputeA:
    case nvrm::kHopperDmaCopyA: {
      if (pcls != nvrm::kHopperChannelGpfifoA && pcls != nvrm::kAmpereChannelGpfifoA)
        return nvrm::kErrInvalidArgument;
      if ((cls == nvrm::kHopperComputeA) != hopper && cls != nvrm::kHopperDmaCopyA)
        return nvrm::kErrInvalidClass;
      Channel* ch = par->second->channel.get();
      if (ch->engine_class != 0) return nvrm::kErrInvalidState;  // one engine per channel
      ch->engine_class = cls;
      break;
    }
    case nvrm::kMemoryLocalUser:
    case nvrm::kMemorySystem: {
      if (!want(nvrm::kDevice0, sizeof(nvrm::NV_MEMORY_ALLOCATION_PARAMS)))
        return nvrm::kErrInvalidArgument;
      const auto* m = static_cast<const nvrm::NV_MEMORY_ALLOCATION_PARAMS*>(params);
      const uint64_t align = m->alignment;
      const bool pci = ((m->attr >> nvrm::kAttrLocationShift) & 3) == nvrm::kAttrLocationPci;
      if (m->size == 0 || align == 0 || (align & (align - 1)) != 0 || m->size % align != 0 ||
          m->limit != m->size - 1 || pci != (cls == nvrm::kMemorySystem)) {
        return nvrm::kErrInvalidArgument;
      }
      absl::StatusOr<std::shared_ptr<EmuMemory::Bo>> bo = memory_.Create(m->size);
      if (!bo.ok()) return nvrm::kErrNoMemory;
      o->bo = *bo;
      o->host = o->bo->view;
      o->size = m->size;
      break;
    }
    case nvrm::kEventOsEvent: {
      if (!want(nvrm::kSubdevice0, sizeof(nvrm::NV0005_ALLOC_PARAMETERS)))
        return nvrm::kErrInvalidArgument;
      const auto* e = static_cast<const nvrm::NV0005_ALLOC_PARAMETERS*>(params);
      if (e->hClass != nvrm::kEventOsEvent || e->hSrcResource != parent ||
          events_.count(static_cast<int>(e->data)) == 0) {
        return nvrm::kErrInvalidArgument;
      }
      const uint32_t index = e->notifyIndex & 0xffff;
      if (index != nvrm::kNotifierGraphics &&
          (index < nvrm::kNotifierCe0 || index > nvrm::kNotifierCe0 + 3)) {
        return nvrm::kErrInvalidArgument;  // the emulated GPU has 4 copy engines
      }
      o->size = static_cast<uint64_t>(e->data);
      break;
    }
    default:
      return nvrm::kErrInvalidClass;
  }
  if (*handle == 0) *handle = NewHandle();
  if (objects_.count(*handle) != 0) return nvrm::kErrInvalidArgument;
  objects_[*handle] = std::move(o);
  if (objects_[*handle]->channel != nullptr) objects_[*handle]->channel->handle = *handle;
  return nvrm::kOk;
}

int NvEmulator::RmFree(void* arg) {
  auto* p = static_cast<nvrm::NVOS00_PARAMETERS*>(arg);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.rm_frees;
  if (p->hRoot != client_ || objects_.count(p->hObjectOld) == 0) {
    p->status = nvrm::kErrInvalidObjectHandle;
    return 0;
  }
  // The object and everything under it.
  std::vector<uint32_t> doomed = {p->hObjectOld};
  for (size_t i = 0; i < doomed.size(); ++i) {
    for (const auto& [h, o] : objects_) {
      if (o->parent == doomed[i] && h != doomed[i]) doomed.push_back(h);
    }
  }
  for (uint32_t h : doomed) {
    auto it = objects_.find(h);
    if (it == objects_.end()) continue;
    if (it->second->channel != nullptr) {
      channels_.erase(std::find(channels_.begin(), channels_.end(), it->second->channel.get()));
    }
    if (it->second->bo != nullptr) memory_.Destroy(it->second->bo->id);
    objects_.erase(it);
  }
  if (p->hObjectOld == client_) client_ = 0;
  p->status = nvrm::kOk;
  return 0;
}

int NvEmulator::RmControl(void* arg) {
  auto* p = static_cast<nvrm::NVOS54_PARAMETERS*>(arg);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.controls;
  if (p->hClient != client_ || objects_.count(p->hObject) == 0) {
    p->status = nvrm::kErrInvalidObjectHandle;
    return 0;
  }
  p->status = Control(p->hObject, p->cmd, reinterpret_cast<void*>(p->params), p->paramsSize);
  return 0;
}

uint32_t NvEmulator::Control(uint32_t object, uint32_t cmd, void* params, uint32_t size) {
  Object& o = *objects_[object];
  auto check = [&](uint32_t cls, size_t want) { return o.cls == cls && size == want && params; };
  switch (cmd) {
    case nvrm::kCtrlSystemGetBuildVersionV2: {
      if (!check(nvrm::kRootClient, sizeof(nvrm::NV0000_CTRL_SYSTEM_GET_BUILD_VERSION_V2_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* b = static_cast<nvrm::NV0000_CTRL_SYSTEM_GET_BUILD_VERSION_V2_PARAMS*>(params);
      std::snprintf(b->driverVersionBuffer, sizeof(b->driverVersionBuffer), "580.159.04-emu");
      return nvrm::kOk;
    }
    case nvrm::kCtrlGpuGetIdInfoV2: {
      if (!check(nvrm::kRootClient, sizeof(nvrm::NV0000_CTRL_GPU_GET_ID_INFO_V2_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* i = static_cast<nvrm::NV0000_CTRL_GPU_GET_ID_INFO_V2_PARAMS*>(params);
      if (i->gpuId != kGpuId) return nvrm::kErrInvalidArgument;
      i->deviceInstance = 0;
      i->subDeviceInstance = 0;
      return nvrm::kOk;
    }
    case nvrm::kCtrlDeviceGetClasslistV2: {
      if (!check(nvrm::kDevice0, sizeof(nvrm::NV0080_CTRL_GPU_GET_CLASSLIST_V2_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* c = static_cast<nvrm::NV0080_CTRL_GPU_GET_CLASSLIST_V2_PARAMS*>(params);
      const uint32_t classes[] = {
          nvrm::kDevice0,
          nvrm::kSubdevice0,
          nvrm::kMemoryVirtual,
          nvrm::kMemoryLocalUser,
          nvrm::kMemorySystem,
          nvrm::kMemorySystemOsDesc,
          nvrm::kFermiVaspaceA,
          nvrm::kFermiContextShareA,
          nvrm::kKeplerChannelGroupA,
          nvrm::kHopperUsermodeA,
          nvrm::kAmpereChannelGpfifoA,
          nvrm::kHopperChannelGpfifoA,
          options_.hopper_compute ? nvrm::kHopperComputeA : nvrm::kAdaComputeA,
          nvrm::kHopperDmaCopyA,
          nvrm::kEventOsEvent};
      c->numClasses = std::size(classes);
      std::copy(std::begin(classes), std::end(classes), c->classList);
      return nvrm::kOk;
    }
    case nvrm::kCtrlGpuGetNameString: {
      if (!check(nvrm::kSubdevice0, sizeof(nvrm::NV2080_CTRL_GPU_GET_NAME_STRING_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* n = static_cast<nvrm::NV2080_CTRL_GPU_GET_NAME_STRING_PARAMS*>(params);
      if (n->gpuNameStringFlags != 0) return nvrm::kErrInvalidArgument;
      std::snprintf(reinterpret_cast<char*>(n->gpuNameString), 64, "%s", options_.gpu_name.c_str());
      return nvrm::kOk;
    }
    case nvrm::kCtrlGpuGetGidInfo: {
      if (!check(nvrm::kSubdevice0, sizeof(nvrm::NV2080_CTRL_GPU_GET_GID_INFO_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* g = static_cast<nvrm::NV2080_CTRL_GPU_GET_GID_INFO_PARAMS*>(params);
      if (g->flags != nvrm::kGidFlagsFormatBinary || g->length != 16) {
        return nvrm::kErrInvalidArgument;
      }
      std::memcpy(g->data, kUuid, 16);
      return nvrm::kOk;
    }
    case nvrm::kCtrlGrGetInfo: {
      if (!check(nvrm::kSubdevice0, sizeof(nvrm::NV2080_CTRL_GR_GET_INFO_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* g = static_cast<nvrm::NV2080_CTRL_GR_GET_INFO_PARAMS*>(params);
      if (g->grInfoListSize == 0 || g->grInfoListSize > 256 || g->grInfoList == 0) {
        return nvrm::kErrInvalidArgument;
      }
      auto* list = reinterpret_cast<nvrm::NV2080_CTRL_GR_INFO*>(g->grInfoList);
      for (uint32_t i = 0; i < g->grInfoListSize; ++i) {
        switch (list[i].index) {
          case nvrm::kGrInfoSmVersion:
            list[i].data = options_.sm_version;
            break;
          case nvrm::kGrInfoNumGpcs:
            list[i].data = 2;
            break;
          case nvrm::kGrInfoNumTpcPerGpc:
            list[i].data = 2;
            break;
          case nvrm::kGrInfoNumSmPerTpc:
            list[i].data = 2;
            break;
          case nvrm::kGrInfoMaxWarpsPerSm:
            list[i].data = 64;
            break;
          case nvrm::kGrInfoGpuCoreCount:
            list[i].data = 8 * 128;
            break;
          case nvrm::kGrInfoMaxSpPerSm:
            list[i].data = 128;
            break;
          default:
            return nvrm::kErrInvalidArgument;
        }
      }
      return nvrm::kOk;
    }
    case nvrm::kCtrlGrGetGpcMask: {
      if (!check(nvrm::kSubdevice0, sizeof(nvrm::NV2080_CTRL_GR_GET_GPC_MASK_PARAMS)))
        return nvrm::kErrInvalidArgument;
      static_cast<nvrm::NV2080_CTRL_GR_GET_GPC_MASK_PARAMS*>(params)->gpcMask = options_.gpc_mask;
      return nvrm::kOk;
    }
    case nvrm::kCtrlGrGetTpcMask: {
      if (!check(nvrm::kSubdevice0, sizeof(nvrm::NV2080_CTRL_GR_GET_TPC_MASK_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* t = static_cast<nvrm::NV2080_CTRL_GR_GET_TPC_MASK_PARAMS*>(params);
      // RM answers 0 for a GPC that is not enabled.
      t->tpcMask = t->gpcId < 2 && (options_.gpc_mask >> t->gpcId & 1) != 0
                       ? options_.tpc_mask[t->gpcId]
                       : 0;
      return nvrm::kOk;
    }
    case nvrm::kCtrlPerfBoost: {
      if (!check(nvrm::kSubdevice0, sizeof(nvrm::NV2080_CTRL_PERF_BOOST_PARAMS)))
        return nvrm::kErrInvalidArgument;
      const auto* b = static_cast<const nvrm::NV2080_CTRL_PERF_BOOST_PARAMS*>(params);
      // CMD 1:0 is CLEAR, 1LEVEL or TO_MAX; a duration is at most an hour or infinite.
      if ((b->flags & 3) == 3 || (b->duration > 3600 && b->duration != 0xffffffffu)) {
        return nvrm::kErrInvalidArgument;
      }
      ++stats_.perf_boosts;
      return nvrm::kOk;
    }
    case nvrm::kCtrlFbGetInfoV2: {
      if (!check(nvrm::kSubdevice0, sizeof(nvrm::NV2080_CTRL_FB_GET_INFO_V2_PARAMS)))
        return nvrm::kErrInvalidArgument;
      auto* f = static_cast<nvrm::NV2080_CTRL_FB_GET_INFO_V2_PARAMS*>(params);
      if (f->fbInfoListSize > 128) return nvrm::kErrInvalidArgument;
      for (uint32_t i = 0; i < f->fbInfoListSize; ++i) {
        f->fbInfoList[i].data = static_cast<uint32_t>(options_.memory_bytes >> 10);
      }
      return nvrm::kOk;
    }
    case nvrm::kCtrlChannelGroupSchedule: {
      if (!check(nvrm::kKeplerChannelGroupA, sizeof(nvrm::NVA06C_CTRL_GPFIFO_SCHEDULE_PARAMS)))
        return nvrm::kErrInvalidArgument;
      // Every channel of the group needs its engine object first.
      for (const auto& [h, c] : objects_) {
        if (c->channel != nullptr && c->parent == object && c->channel->engine_class == 0) {
          return nvrm::kErrInvalidState;
        }
      }
      o.scheduled = static_cast<const nvrm::NVA06C_CTRL_GPFIFO_SCHEDULE_PARAMS*>(params)->bEnable;
      gpu_cv_.notify_all();
      return nvrm::kOk;
    }
    case nvrm::kCtrlGetWorkSubmitToken: {
      if (o.channel == nullptr || size != 4 || params == nullptr) return nvrm::kErrInvalidArgument;
      static_cast<nvrm::NVC36F_CTRL_CMD_GPFIFO_GET_WORK_SUBMIT_TOKEN_PARAMS*>(params)
          ->workSubmitToken = o.channel->token;
      return nvrm::kOk;
    }
    default:
      return nvrm::kErrNotSupported;
  }
}

// --- /dev/nvidia0 ---

int NvEmulator::GpuIoctl(int fd, unsigned long request, void* arg) {
  if (IocType(request) != nvrm::kIoctlMagic) return -ENOTTY;
  std::lock_guard<std::mutex> lock(mu_);
  if (request == nvrm::kIoctlRegisterFd) {
    const int ctl = static_cast<nvrm::nv_ioctl_register_fd_t*>(arg)->ctl_fd;
    if (ctl_fds_.count(ctl) == 0 || registered_fds_.count(fd) != 0) return -EINVAL;
    registered_fds_[fd] = true;
    return 0;
  }
  if (registered_fds_.count(fd) == 0) return -EINVAL;  // every GPU fd is registered first
  if (request == nvrm::kIoctlRmAllocMemory) {
    auto* p = static_cast<nvrm::nv_ioctl_nvos02_parameters_with_fd*>(arg);
    auto dev = objects_.find(p->params.hObjectParent);
    const uint64_t bytes = p->params.limit + 1;
    if (p->params.hRoot != client_ || dev == objects_.end() || dev->second->cls != nvrm::kDevice0) {
      p->params.status = nvrm::kErrInvalidObjectHandle;
    } else if (p->params.hClass != nvrm::kMemorySystemOsDesc || p->params.pMemory % kPage != 0 ||
               bytes % kPage != 0 || p->params.hObjectNew == 0 ||
               objects_.count(p->params.hObjectNew) != 0) {
      p->params.status = nvrm::kErrInvalidArgument;
    } else {
      auto o = std::make_unique<Object>();
      o->cls = nvrm::kMemorySystemOsDesc;
      o->parent = p->params.hObjectParent;
      o->host = reinterpret_cast<uint8_t*>(p->params.pMemory);
      o->size = bytes;
      objects_[p->params.hObjectNew] = std::move(o);
      p->params.status = nvrm::kOk;
    }
    return 0;
  }
  return -EINVAL;
}

int NvEmulator::Mmap(int fd, void* addr, size_t length, int prot, int flags, void** out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto pending = pending_maps_.find(fd);
  if (pending == pending_maps_.end()) return -EINVAL;  // no RM_MAP_MEMORY named this fd
  auto it = objects_.find(pending->second.first);
  if (it == objects_.end() || it->second->bo == nullptr || length > pending->second.second) {
    return -EINVAL;
  }
  pending_maps_.erase(pending);
  void* p = ::mmap(addr, length, prot, (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) | MAP_SHARED,
                   it->second->bo->memfd, 0);
  if (p == MAP_FAILED) return -errno;
  *out = p;
  return 0;
}

int NvEmulator::Poll(int fd, int64_t timeout_ns) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = events_.find(fd);
  if (it == events_.end()) return -ENOSYS;
  gpu_cv_.notify_all();  // let the GPU look at its channels now
  event_cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] {
    auto e = events_.find(fd);
    return stop_ || e == events_.end() || e->second;
  });
  it = events_.find(fd);
  if (it == events_.end() || !it->second) return 0;
  it->second = false;
  return 1;
}

void NvEmulator::Interrupt() {
  ++stats_.interrupts;
  for (const auto& [h, o] : objects_) {
    if (o->cls != nvrm::kEventOsEvent) continue;
    auto e = events_.find(static_cast<int>(o->size));
    if (e != events_.end()) e->second = true;
  }
  event_cv_.notify_all();
}

// --- /dev/nvidia-uvm ---

int NvEmulator::UvmIoctl(int fd, unsigned long request, void* arg) {
  std::lock_guard<std::mutex> lock(mu_);
  auto uuid_ok = [](const nvrm::NvUuid& u) { return std::memcmp(u.uuid, kUuid, 16) == 0; };
  if (request == nvrm::kUvmInitialize) {
    auto* p = static_cast<nvrm::UVM_INITIALIZE_PARAMS*>(arg);
    p->rmStatus = uvm_initialized_ ? nvrm::kErrInvalidState : nvrm::kOk;
    uvm_initialized_ = true;
    return 0;
  }
  if (!uvm_initialized_) return -EBADF;
  switch (request) {
    case nvrm::kUvmMmInitialize:
      static_cast<nvrm::UVM_MM_INITIALIZE_PARAMS*>(arg)->rmStatus = nvrm::kOk;
      return 0;
    case nvrm::kUvmRegisterGpu: {
      auto* p = static_cast<nvrm::UVM_REGISTER_GPU_PARAMS*>(arg);
      p->rmStatus = !uuid_ok(p->gpu_uuid) ? nvrm::kErrInvalidArgument
                    : gpu_registered_     ? nvrm::kErrInvalidState
                                          : nvrm::kOk;
      gpu_registered_ = gpu_registered_ || p->rmStatus == nvrm::kOk;
      return 0;
    }
    case nvrm::kUvmUnregisterGpu: {
      auto* p = static_cast<nvrm::UVM_UNREGISTER_GPU_PARAMS*>(arg);
      p->rmStatus = gpu_registered_ && uuid_ok(p->gpu_uuid) ? nvrm::kOk : nvrm::kErrInvalidArgument;
      gpu_registered_ = false;
      return 0;
    }
    case nvrm::kUvmRegisterGpuVaspace: {
      auto* p = static_cast<nvrm::UVM_REGISTER_GPU_VASPACE_PARAMS*>(arg);
      auto vs = objects_.find(p->hVaSpace);
      p->rmStatus = gpu_registered_ && uuid_ok(p->gpuUuid) && ctl_fds_.count(p->rmCtrlFd) &&
                            p->hClient == client_ && vs != objects_.end() &&
                            vs->second->cls == nvrm::kFermiVaspaceA
                        ? nvrm::kOk
                        : nvrm::kErrInvalidArgument;
      vaspace_registered_ = vaspace_registered_ || p->rmStatus == nvrm::kOk;
      return 0;
    }
    case nvrm::kUvmRegisterChannel: {
      auto* p = static_cast<nvrm::UVM_REGISTER_CHANNEL_PARAMS*>(arg);
      auto ch = objects_.find(p->hChannel);
      p->rmStatus = vaspace_registered_ && ch != objects_.end() && ch->second->channel &&
                            p->length > 0 && p->base % kPage == 0
                        ? nvrm::kOk
                        : nvrm::kErrInvalidArgument;
      return 0;
    }
    case nvrm::kUvmCreateExternalRange: {
      auto* p = static_cast<nvrm::UVM_CREATE_EXTERNAL_RANGE_PARAMS*>(arg);
      bool overlap = false;
      for (const auto& [b, l] : ranges_) overlap |= b < p->base + p->length && p->base < b + l;
      p->rmStatus = vaspace_registered_ && p->base % kPage == 0 && p->length % kPage == 0 &&
                            p->length > 0 && !overlap
                        ? nvrm::kOk
                        : nvrm::kErrInvalidArgument;
      if (p->rmStatus == nvrm::kOk) ranges_[p->base] = p->length;
      return 0;
    }
    case nvrm::kUvmMapExternalAllocation: {
      auto* p = static_cast<nvrm::UVM_MAP_EXTERNAL_ALLOCATION_PARAMS*>(arg);
      auto r = ranges_.upper_bound(p->base);
      const bool in_range = r != ranges_.begin() && std::prev(r)->first <= p->base &&
                            p->base + p->length <= std::prev(r)->first + std::prev(r)->second;
      auto mem = objects_.find(p->hMemory);
      if (!in_range || mem == objects_.end() || !IsMemoryClass(mem->second->cls) ||
          p->length > mem->second->size || p->gpuAttributesCount != 1 ||
          !uuid_ok(p->perGpuAttributes[0].gpuUuid) || p->hClient != client_ ||
          ctl_fds_.count(p->rmCtrlFd) == 0 || mappings_.count(p->base) != 0) {
        p->rmStatus = nvrm::kErrInvalidArgument;
        return 0;
      }
      mappings_[p->base] =
          Mapping{p->base, p->length, mem->second->host, p->hMemory, mem->second->bo};
      p->rmStatus = nvrm::kOk;
      return 0;
    }
    case nvrm::kUvmFree: {
      auto* p = static_cast<nvrm::UVM_FREE_PARAMS*>(arg);
      auto r = ranges_.find(p->base);
      if (r == ranges_.end()) {
        p->rmStatus = nvrm::kErrInvalidArgument;
        return 0;
      }
      for (auto m = mappings_.lower_bound(r->first);
           m != mappings_.end() && m->first < r->first + r->second;) {
        m = mappings_.erase(m);
      }
      ranges_.erase(r);
      p->rmStatus = nvrm::kOk;
      return 0;
    }
    default:
      return -ENOTTY;
  }
}

// --- the GPU ---

uint8_t* NvEmulator::Translate(uint64_t va, uint64_t bytes) {
  auto it = mappings_.upper_bound(va);
  if (it == mappings_.begin()) return nullptr;
  --it;
  const Mapping& m = it->second;
  if (va < m.va || va - m.va > m.size || bytes > m.size - (va - m.va)) return nullptr;
  return m.host + (va - m.va);
}

void NvEmulator::Fault(Channel& ch, std::string what) {
  ch.error = true;
  if (fault_.empty()) fault_ = absl::StrFormat("channel %u: %s", ch.token, what);
  if (ch.notifier != nullptr) {
    const uint32_t info[4] = {0, 0, 0xe1, 0xffff};  // an error notification
    std::memcpy(ch.notifier, info, sizeof(info));
  }
}

void NvEmulator::GpuLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    gpu_cv_.wait_for(lock, std::chrono::microseconds(200));
    if (stop_) break;
    if (paused_) continue;
    bool progress = true;
    while (progress && !paused_ && !stop_) {
      progress = false;
      for (Channel* ch : channels_) {
        auto group = objects_.find(ch->group);
        if (ch->error || group == objects_.end() || !group->second->scheduled) continue;
        if (!ch->dependents.empty()) {
          // One dependent grid per step: the pushbuffer may run ahead of a
          // chain, as on the GPU, unless it waits for the chain's end.
          const uint64_t qmd = ch->dependents.front();
          ch->dependents.pop_front();
          ++stats_.chained_launches;
          Launch(*ch, qmd);
          progress = true;
        }
        const uint32_t before = ch->get;
        RunChannel(*ch);
        progress |= ch->get != before;
      }
    }
  }
}

bool NvEmulator::RunChannel(Channel& ch) {
  auto* gp_put = reinterpret_cast<volatile uint32_t*>(ch.userd + hw::kUserdGpPut);
  auto* gp_get = reinterpret_cast<volatile uint32_t*>(ch.userd + hw::kUserdGpGet);
  while (!ch.error && !paused_ && ch.get != *gp_put % ch.entries) {
    const uint8_t* e = Translate(ch.ring_va + uint64_t{ch.get} * 8, 8);
    if (e == nullptr) {
      Fault(ch, absl::StrFormat("MMU fault reading GPFIFO entry %u at 0x%x", ch.get,
                                ch.ring_va + uint64_t{ch.get} * 8));
      return false;
    }
    uint64_t entry;
    std::memcpy(&entry, e, 8);
    const uint64_t pb_va = entry & 0xfffffffffcull;
    const uint32_t dwords = static_cast<uint32_t>((entry >> 42) & 0x1fffff);
    const uint8_t* pbb = Translate(pb_va, uint64_t{dwords} * 4);
    if (pbb == nullptr || dwords == 0) {
      Fault(ch, absl::StrFormat("MMU fault fetching a %u-dword pushbuffer at 0x%x", dwords, pb_va));
      return false;
    }
    const uint32_t* pb = reinterpret_cast<const uint32_t*>(pbb);
    uint32_t i = ch.pb_pos;
    while (i < dwords) {
      const uint32_t h = pb[i];
      const uint32_t op = h >> hw::kSecOpShift, subc = (h >> 13) & 7, mthd = (h & 0xfff) << 2;
      const uint32_t count = (h >> 16) & 0x1fff;
      if (op == hw::kSecOpImmediate) {
        if (!Method(ch, subc, mthd, count)) {
          ch.pb_pos = i;
          return false;
        }
        ++i;
        continue;
      }
      if (op != hw::kSecOpIncMethod && op != hw::kSecOpNonIncMethod && op != hw::kSecOpOneInc) {
        Fault(ch, absl::StrFormat("pushbuffer word 0x%08x at 0x%x is no method header", h,
                                  pb_va + 4 * i));
        return false;
      }
      if (i + 1 + count > dwords) {
        Fault(ch,
              absl::StrFormat("method 0x%x with %u data words runs past the segment", mthd, count));
        return false;
      }
      for (uint32_t k = 0; k < count; ++k) {
        const uint32_t m = op == hw::kSecOpIncMethod ? mthd + 4 * k
                           : op == hw::kSecOpOneInc  ? mthd + (k > 0 ? 4 : 0)
                                                     : mthd;
        if (!Method(ch, subc, m, pb[i + 1 + k])) {
          if (ch.error) return false;
          ch.pb_pos = i;  // an unmet acquire: retry this method group later
          ++stats_.acquire_stalls;
          return false;
        }
      }
      i += 1 + count;
    }
    ch.pb_pos = 0;
    ch.get = (ch.get + 1) % ch.entries;
    *gp_get = ch.get;
    ++stats_.gpfifo_entries;
  }
  return !ch.error;
}

bool NvEmulator::Method(Channel& ch, uint32_t subc, uint32_t method, uint32_t data) {
  ++stats_.methods;
  if (method < hw::kHostMethodLimit) {
    switch (method) {
      case hw::kHostSetObject:
        if (data != ch.engine_class) {
          Fault(ch, absl::StrFormat("SET_OBJECT 0x%04x on subchannel %u: the channel's object "
                                    "is 0x%04x",
                                    data, subc, ch.engine_class));
          return false;
        }
        ch.subc_class[subc] = data;
        return true;
      case hw::kHostNonStallInterrupt:
        Interrupt();
        return true;
      case hw::kHostSemAddrLo:
        ch.sem_addr = (ch.sem_addr & ~0xffffffffull) | data;
        return true;
      case hw::kHostSemAddrHi:
        ch.sem_addr = (ch.sem_addr & 0xffffffffull) | (uint64_t{data} << 32);
        return true;
      case hw::kHostSemPayloadLo:
        ch.sem_payload = (ch.sem_payload & ~0xffffffffull) | data;
        return true;
      case hw::kHostSemPayloadHi:
        ch.sem_payload = (ch.sem_payload & 0xffffffffull) | (uint64_t{data} << 32);
        return true;
      case hw::kHostSemExecute: {
        const bool wide = (data & hw::kSemPayload64) != 0;
        uint8_t* p = Translate(ch.sem_addr, wide ? 8 : 4);
        if (p == nullptr || ch.sem_addr % (wide ? 8 : 4) != 0) {
          Fault(ch, absl::StrFormat("MMU fault at semaphore 0x%x", ch.sem_addr));
          return false;
        }
        const uint32_t op = data & hw::kSemOpMask;
        if (op == hw::kSemOpRelease) {
          if ((data & hw::kSemReleaseWfi) != 0) ch.grid_open = false;
          if (wide) {
            auto* sem = reinterpret_cast<std::atomic<uint64_t>*>(p);
            // A timeline only grows: a lower value means releases ran out of order.
            if (sem->load(std::memory_order_relaxed) > ch.sem_payload) ++stats_.releases_backward;
            // A WFI waits for the grid SEND_PCAS started, not for the grids
            // its dependents start after it: a timeline released now would
            // say work is done that is still to run.
            if (!ch.dependents.empty()) ++stats_.early_releases;
            sem->store(ch.sem_payload, std::memory_order_release);
          } else {
            reinterpret_cast<std::atomic<uint32_t>*>(p)->store(
                static_cast<uint32_t>(ch.sem_payload), std::memory_order_release);
          }
          ++stats_.releases;
          return true;
        }
        if (op == hw::kSemOpAcqCircGeq || op == hw::kSemOpAcquire) {
          uint64_t v;
          if (wide) {
            v = reinterpret_cast<std::atomic<uint64_t>*>(p)->load(std::memory_order_acquire);
          } else {
            v = reinterpret_cast<std::atomic<uint32_t>*>(p)->load(std::memory_order_acquire);
          }
          const uint64_t want = wide ? ch.sem_payload : static_cast<uint32_t>(ch.sem_payload);
          return op == hw::kSemOpAcquire ? v == want : v >= want;
        }
        Fault(ch, absl::StrFormat("SEM_EXECUTE operation %u is not modeled", op));
        return false;
      }
      case hw::kHostWfi:
        ++stats_.wfis;
        ch.grid_open = false;
        return true;  // the emulated engines finish each method before the next
      default:
        Fault(ch, absl::StrFormat("unknown host method 0x%03x", method));
        return false;
    }
  }
  const uint32_t cls = ch.subc_class[subc];
  if (cls == 0) {
    Fault(ch, absl::StrFormat("method 0x%04x on subchannel %u with no object bound", method, subc));
    return false;
  }
  if (cls == nvrm::kHopperComputeA || cls == nvrm::kAdaComputeA) {
    switch (method) {
      case hw::kComputeSetSharedMemoryWindowA:
        ch.shared_window = (ch.shared_window & 0xffffffffull) | (uint64_t{data} << 32);
        return true;
      case hw::kComputeSetSharedMemoryWindowA + 4:
        ch.shared_window = (ch.shared_window & ~0xffffffffull) | data;
        return true;
      case hw::kComputeSetLocalMemoryWindowA:
        ch.local_window = (ch.local_window & 0xffffffffull) | (uint64_t{data} << 32);
        return true;
      case hw::kComputeSetLocalMemoryWindowA + 4:
        ch.local_window = (ch.local_window & ~0xffffffffull) | data;
        return true;
      case hw::kComputeSetLocalMemoryA:
        ch.local_memory = (ch.local_memory & 0xffffffffull) | (uint64_t{data} << 32);
        return true;
      case hw::kComputeSetLocalMemoryA + 4:
        ch.local_memory = (ch.local_memory & ~0xffffffffull) | data;
        if (Translate(ch.local_memory, 1) == nullptr) {
          Fault(ch, absl::StrFormat("local memory at unmapped 0x%x", ch.local_memory));
          return false;
        }
        return true;
      case hw::kComputeSetLocalMemoryNonThrottledA:
      case hw::kComputeSetLocalMemoryNonThrottledA + 4:
      case hw::kComputeSetLocalMemoryNonThrottledA + 8:
      case hw::kComputeInvalidateShaderCaches:
        return true;
      case hw::kComputeWaitForIdle:
        ch.grid_open = false;
        return true;
      case hw::kComputeSendPcasA:
        ch.pcas = data;
        return true;
      case hw::kComputeSendSignalingPcas2B:
        if ((data & 0xf) != hw::kPcasActionInvalidateCopySchedule) {
          Fault(ch, absl::StrFormat("SEND_SIGNALING_PCAS2_B action %u does not schedule a copy "
                                    "of the QMD",
                                    data & 0xf));
          return false;
        }
        // Grids of one channel run at once unless something ordered them:
        // a grid sent while the last one (or a chain) may still run.
        if (ch.grid_open || !ch.dependents.empty()) ++stats_.overlapping_launches;
        ch.grid_open = true;
        return Launch(ch, uint64_t{ch.pcas} << 8);
      default:
        Fault(ch, absl::StrFormat("unknown compute method 0x%04x", method));
        return false;
    }
  }
  // The copy engine.
  switch (method) {
    case hw::kCopyOffsetInUpper:
      ch.copy_in = (ch.copy_in & 0xffffffffull) | (uint64_t{data} << 32);
      return true;
    case hw::kCopyOffsetInUpper + 4:
      ch.copy_in = (ch.copy_in & ~0xffffffffull) | data;
      return true;
    case hw::kCopyOffsetInUpper + 8:
      ch.copy_out = (ch.copy_out & 0xffffffffull) | (uint64_t{data} << 32);
      return true;
    case hw::kCopyOffsetInUpper + 12:
      ch.copy_out = (ch.copy_out & ~0xffffffffull) | data;
      return true;
    case hw::kCopyLineLengthIn:
      ch.line = data;
      return true;
    case hw::kCopySetSemaphoreA:
      ch.copy_sem = (ch.copy_sem & 0xffffffffull) | (uint64_t{data} << 32);
      return true;
    case hw::kCopySetSemaphoreA + 4:
      ch.copy_sem = (ch.copy_sem & ~0xffffffffull) | data;
      return true;
    case hw::kCopySetSemaphoreA + 8:
      ch.copy_payload = (ch.copy_payload & ~0xffffffffull) | data;
      return true;
    case hw::kCopySetSemaphoreA + 12:
      ch.copy_payload = (ch.copy_payload & 0xffffffffull) | (uint64_t{data} << 32);
      return true;
    case hw::kCopyLaunchDma: {
      if ((data & 3) == 0 || (data & hw::kDmaSrcPitch) == 0 || (data & hw::kDmaDstPitch) == 0) {
        Fault(ch,
              absl::StrFormat("LAUNCH_DMA 0x%08x: only pitch-linear transfers are modeled", data));
        return false;
      }
      uint8_t* dst = Translate(ch.copy_out, ch.line);
      const uint8_t* src = Translate(ch.copy_in, ch.line);
      if (dst == nullptr || src == nullptr) {
        Fault(ch, absl::StrFormat("MMU fault copying %u bytes from 0x%x to 0x%x", ch.line,
                                  ch.copy_in, ch.copy_out));
        return false;
      }
      std::memmove(dst, src, ch.line);
      ++stats_.copies;
      stats_.copy_bytes += ch.line;
      const uint32_t sem = (data >> 3) & 3;
      if (sem != 0) {
        const bool wide = (data & hw::kDmaSemaphorePayload64) != 0;
        uint8_t* p = Translate(ch.copy_sem, wide ? 8 : 4);
        if (p == nullptr) {
          Fault(ch, absl::StrFormat("MMU fault at copy semaphore 0x%x", ch.copy_sem));
          return false;
        }
        std::memcpy(p, &ch.copy_payload, wide ? 8 : 4);
      }
      return true;
    }
    default:
      Fault(ch, absl::StrFormat("unknown copy method 0x%04x", method));
      return false;
  }
}

bool NvEmulator::Launch(Channel& ch, uint64_t qmd_va) {
  namespace q = hw::qmd4;
  const uint8_t* raw = Translate(qmd_va, hw::kQmdBytes);
  if (raw == nullptr) {
    Fault(ch, absl::StrFormat("MMU fault reading the QMD at 0x%x", qmd_va));
    return false;
  }
  Qmd4 m;
  std::memcpy(m.words, raw, sizeof(m.words));
  auto bad = [&](const std::string& why) {
    Fault(ch, absl::StrFormat("QMD at 0x%x: %s", qmd_va, why));
    return false;
  };
  if (m.Get(q::kQmdMajorVersion) != 4 || m.Get(q::kQmdMinorVersion) != 0) {
    return bad(absl::StrCat("version ", m.Get(q::kQmdMajorVersion), ".", m.Get(q::kQmdMinorVersion),
                            " (Hopper reads 4.0)"));
  }
  if (m.Get(q::kQmdType) != q::kQmdTypeGridCta) return bad("QMD_TYPE is not GRID_CTA");
  const uint32_t grid[3] = {static_cast<uint32_t>(m.Get(q::kGridWidth)),
                            static_cast<uint32_t>(m.Get(q::kGridHeight)),
                            static_cast<uint32_t>(m.Get(q::kGridDepth))};
  const uint32_t block[3] = {static_cast<uint32_t>(m.Get(q::kCtaThreadDimension0)),
                             static_cast<uint32_t>(m.Get(q::kCtaThreadDimension1)),
                             static_cast<uint32_t>(m.Get(q::kCtaThreadDimension2))};
  if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0 || block[0] == 0 || block[1] == 0 ||
      block[2] == 0 || uint64_t{block[0]} * block[1] * block[2] > 1024) {
    return bad("empty grid or block, or more than 1024 threads");
  }
  const uint32_t regs = static_cast<uint32_t>(m.Get(q::kRegisterCount));
  const uint32_t shared = static_cast<uint32_t>(m.Get(q::kSharedMemorySize));
  const uint32_t target = static_cast<uint32_t>(m.Get(q::kTargetSmConfigSharedMemSize));
  if (regs == 0 || regs > 255) return bad(absl::StrCat("register count ", regs));
  if (shared % 256 != 0 || shared > kMaxSharedPerCta || target == 0 ||
      (target - 1) * 4096 < shared || m.Get(q::kMinSmConfigSharedMemSize) > target ||
      m.Get(q::kMaxSmConfigSharedMemSize) < target) {
    return bad(absl::StrCat("shared memory ", shared, " does not fit its carve-out ", target));
  }
  if (m.Get(q::ConstantBufferValid(0)) != 1) return bad("constant buffer 0 is not valid");
  const uint64_t cb_va = (m.Get(q::ConstantBufferAddrUpperShifted6(0)) << 38) |
                         (m.Get(q::ConstantBufferAddrLowerShifted6(0)) << 6);
  const uint32_t cb_bytes = static_cast<uint32_t>(m.Get(q::ConstantBufferSizeShifted4(0)) << 4);
  const uint8_t* cb = Translate(cb_va, cb_bytes);
  if (cb == nullptr || cb_bytes < 0x210) {
    return bad(
        absl::StrFormat("constant buffer 0 (%u bytes at 0x%x) is not mapped", cb_bytes, cb_va));
  }
  uint32_t dims[6];
  std::memcpy(dims, cb, sizeof(dims));
  uint64_t windows[2];
  std::memcpy(windows, cb + 0x18, sizeof(windows));
  uint32_t stack_top;
  std::memcpy(&stack_top, cb + 0x28, 4);
  if (dims[0] != block[0] || dims[1] != block[1] || dims[2] != block[2] || dims[3] != grid[0] ||
      dims[4] != grid[1] || dims[5] != grid[2]) {
    return bad("blockDim/gridDim in constant buffer 0 differ from the QMD's");
  }
  if (windows[0] != ch.shared_window || windows[1] != ch.local_window || ch.shared_window == 0 ||
      stack_top != 0xfffdc0) {
    return bad("the constant buffer's shared/local windows or stack top are not the channel's");
  }
  const uint64_t code_va = (m.Get(q::kProgramAddressUpper) << 32) | m.Get(q::kProgramAddressLower);
  const uint8_t* code = Translate(code_va, kTwinHeaderBytes);
  if (code == nullptr || code_va % 256 != 0) {
    return bad(absl::StrFormat("program address 0x%x is not mapped or aligned", code_va));
  }
  ++stats_.launches;
  launches_.push_back(
      {code_va, {grid[0], grid[1], grid[2]}, {block[0], block[1], block[2]}, regs, shared});
  if (std::memcmp(code, kTwinMagic, sizeof(kTwinMagic)) != 0) {
    return Complete(ch, m, qmd_va);  // validated only
  }
  uint32_t object_bytes;
  std::memcpy(&object_bytes, code + 12, 4);
  const uint8_t* whole = Translate(code_va, kTwinHeaderBytes + uint64_t{object_bytes});
  if (whole == nullptr) return bad("the host twin runs past its mapping");
  absl::StatusOr<const HostTwin*> twin =
      twins_.Get(absl::MakeConstSpan(whole, kTwinHeaderBytes + object_bytes));
  if (!twin.ok()) return bad(std::string(twin.status().message()));
  const TwinHeader& th = (*twin)->header();
  if (0x210 + 8 * (th.num_buffers + th.num_vars) > cb_bytes) {
    return bad("constant buffer 0 is smaller than the twin's parameters");
  }
  std::vector<void*> bufs(th.num_buffers);
  std::vector<int64_t> vars(th.num_vars);
  for (uint32_t i = 0; i < th.num_buffers; ++i) {
    uint64_t a;
    std::memcpy(&a, cb + 0x210 + 8 * i, 8);
    bufs[i] = Translate(a, 1);
    if (bufs[i] == nullptr) {
      return bad(absl::StrFormat("kernel buffer %u at 0x%x is not mapped", i, a));
    }
  }
  for (uint32_t i = 0; i < th.num_vars; ++i) {
    std::memcpy(&vars[i], cb + 0x210 + 8 * (th.num_buffers + i), 8);
  }
  absl::Status st = (*twin)->RunGrid(bufs.data(), vars, LaunchDims{grid[0], grid[1], grid[2]},
                                     LaunchDims{block[0], block[1], block[2]});
  if (!st.ok()) return bad(std::string(st.message()));
  ++stats_.twin_launches;
  return Complete(ch, m, qmd_va);
}

bool NvEmulator::Complete(Channel& ch, const Qmd4& m, uint64_t qmd_va) {
  namespace q = hw::qmd4;
  auto bad = [&](const std::string& why) {
    Fault(ch, absl::StrFormat("QMD at 0x%x: %s", qmd_va, why));
    return false;
  };
  for (int i = 0; i < 2; ++i) {
    if (m.Get(q::ReleaseEnable(i)) == 0) continue;
    if (m.Get(q::ReleaseStructureSize(i)) != q::kReleaseOneWord) {
      return bad(absl::StrCat("release ", i, ": only one-word semaphores are modeled"));
    }
    const bool wide = m.Get(q::ReleasePayload64(i)) != 0;
    const uint64_t va =
        (m.Get(q::ReleaseSemaphoreAddrUpper(i)) << 32) | m.Get(q::ReleaseSemaphoreAddrLower(i));
    const uint64_t payload = (m.Get(q::ReleaseSemaphorePayloadUpper(i)) << 32) |
                             m.Get(q::ReleaseSemaphorePayloadLower(i));
    uint8_t* p = Translate(va, wide ? 8 : 4);
    if (p == nullptr || va % (wide ? 8 : 4) != 0) {
      return bad(absl::StrFormat("release %d: MMU fault at semaphore 0x%x", i, va));
    }
    if (m.Get(q::ReleaseReductionEnable(i)) != 0) {
      if (wide || m.Get(q::ReleaseReductionOp(i)) != q::kReductionAdd ||
          m.Get(q::ReleaseReductionFormat(i)) != q::kReductionUnsigned32) {
        return bad(absl::StrCat("release ", i, ": only 32-bit unsigned RED_ADD is modeled"));
      }
      reinterpret_cast<std::atomic<uint32_t>*>(p)->fetch_add(static_cast<uint32_t>(payload),
                                                             std::memory_order_release);
    } else if (wide) {
      reinterpret_cast<std::atomic<uint64_t>*>(p)->store(payload, std::memory_order_release);
    } else {
      reinterpret_cast<std::atomic<uint32_t>*>(p)->store(static_cast<uint32_t>(payload),
                                                         std::memory_order_release);
    }
    ++stats_.qmd_releases;
  }
  if (m.Get(q::DependentQmdEnable(1)) != 0) return bad("dependent QMD 1 is not modeled");
  if (m.Get(q::DependentQmdEnable(0)) != 0) {
    if (m.Get(q::DependentQmdAction(0)) != q::kDependentActionSchedule) {
      return bad(absl::StrCat("dependent QMD action ", m.Get(q::DependentQmdAction(0)),
                              " (only QMD_SCHEDULE is modeled)"));
    }
    ch.dependents.push_back(m.Get(q::DependentQmdPointer(0)) << 8);
  }
  return true;
}

}  // namespace uop

#include "drivers/nv/nv_device.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/cuda/nvrtc_compiler.h"
#include "drivers/device_registry.h"
#include "drivers/host_signal.h"
#include "drivers/nv/include/nv_hopper.h"
#include "drivers/nv/nv_program.h"
#include "drivers/nv/nv_queue.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

bool Has(const std::vector<uint32_t>& classes, uint32_t c) {
  return std::find(classes.begin(), classes.end(), c) != classes.end();
}

}  // namespace

int NvDevice::Count() {
  static const int count = [] {
    if (access("/dev/nvidiactl", R_OK | W_OK) != 0 || access("/dev/nvidia-uvm", R_OK | W_OK) != 0) {
      return 0;
    }
    absl::StatusOr<std::unique_ptr<NvRm>> rm = NvRm::Open(KernelIo::Real(), "/dev/nvidiactl", "NV");
    if (!rm.ok()) return 0;
    absl::StatusOr<std::vector<nvrm::nv_ioctl_card_info_t>> cards = (*rm)->Cards();
    if (!cards.ok()) return 0;
    return static_cast<int>(cards->size());
  }();
  return count;
}

absl::StatusOr<std::unique_ptr<NvDevice>> NvDevice::Create(Options options) {
  KernelIo& io = options.io != nullptr ? *options.io : KernelIo::Real();
  std::unique_ptr<NvDevice> d(new NvDevice(std::move(options)));
  RETURN_IF_ERROR(d->Init(io));
  return d;
}

absl::Status NvDevice::Init(KernelIo& io) {
  const std::string& name = options_.name;
  ASSIGN_OR_RETURN(rm_, NvRm::Open(io, options_.ctl_path, name));
  ASSIGN_OR_RETURN(uvm_, NvUvm::Open(io, options_.uvm_path, name));
  ASSIGN_OR_RETURN(std::vector<nvrm::nv_ioctl_card_info_t> cards, rm_->Cards());
  if (options_.index < 0 || options_.index >= static_cast<int>(cards.size())) {
    return absl::NotFoundError(absl::StrCat(name, ": the NVIDIA driver has ", cards.size(),
                                            " GPUs, there is no GPU ", options_.index));
  }
  const nvrm::nv_ioctl_card_info_t card = cards[options_.index];
  gpu_node_ = absl::StrCat(options_.node_prefix, card.minor_number);
  ASSIGN_OR_RETURN(gpu_fd_, rm_->OpenGpuNode(gpu_node_));

  nvrm::NV0000_CTRL_GPU_GET_ID_INFO_V2_PARAMS id{};
  id.gpuId = card.gpu_id;
  RETURN_IF_ERROR(rm_->Control(rm_->root(), nvrm::kCtrlGpuGetIdInfoV2, &id, sizeof(id),
                               "NV0000_CTRL_CMD_GPU_GET_ID_INFO_V2"));
  nvrm::NV0080_ALLOC_PARAMETERS dp{};
  dp.deviceId = id.deviceInstance;
  dp.hClientShare = rm_->root();
  ASSIGN_OR_RETURN(device_, rm_->Alloc(rm_->root(), nvrm::kDevice0, &dp, sizeof(dp)));
  nvrm::NV2080_ALLOC_PARAMETERS sp{};
  ASSIGN_OR_RETURN(subdevice_, rm_->Alloc(device_, nvrm::kSubdevice0, &sp, sizeof(sp)));
  nvrm::NV_MEMORY_VIRTUAL_ALLOCATION_PARAMS vm{};
  vm.limit = 0x1ffffffffffffull;
  ASSIGN_OR_RETURN(virtmem_, rm_->Alloc(device_, nvrm::kMemoryVirtual, &vm, sizeof(vm)));
  RETURN_IF_ERROR(QueryGpu());
  if (options_.perf_boost) {
    // Clocks at their maximum for as long as this client lives (the RM
    // drops a client's boost when the client goes): launch and replay
    // latencies are then not those of a GPU still ramping up.
    nvrm::NV2080_CTRL_PERF_BOOST_PARAMS boost{
        nvrm::kPerfBoostToMax | nvrm::kPerfBoostCuda | nvrm::kPerfBoostCudaPriorityHigh,
        nvrm::kPerfBoostDurationInfinite};
    absl::Status st = rm_->Control(subdevice_, nvrm::kCtrlPerfBoost, &boost, sizeof(boost),
                                   "NV2080_CTRL_CMD_PERF_BOOST");
    perf_boosted_ = st.ok();
    if (!st.ok()) NvTrace(absl::StrCat(name, ": no performance boost: ", st.message()));
  }

  ASSIGN_OR_RETURN(usermode_, rm_->Alloc(subdevice_, gpu_.usermode_class, nullptr, 0));
  ASSIGN_OR_RETURN(usermode_map_,
                   rm_->MapToCpu(gpu_node_, device_, usermode_, nvhw::kUsermodeBytes, nullptr, 0));
  doorbell_ = reinterpret_cast<volatile uint32_t*>(static_cast<uint8_t*>(usermode_map_) +
                                                   nvhw::kUsermodeDoorbell);

  nvrm::NV_VASPACE_ALLOCATION_PARAMETERS va{};
  va.vaBase = 0x1000;
  va.vaSize = 0x1fffffb000000ull;
  va.flags = nvrm::kVaspaceFlagEnablePageFaulting | nvrm::kVaspaceFlagIsExternallyOwned;
  ASSIGN_OR_RETURN(vaspace_, rm_->Alloc(device_, nvrm::kFermiVaspaceA, &va, sizeof(va)));
  RETURN_IF_ERROR(uvm_->RegisterGpu(uuid_));
  uvm_registered_ = true;
  RETURN_IF_ERROR(uvm_->RegisterGpuVaspace(uuid_, rm_->ctl_fd(), rm_->root(), vaspace_));

  NvVmmContext ctx;
  ctx.rm = rm_.get();
  ctx.uvm = uvm_.get();
  ctx.device = device_;
  ctx.virtmem = virtmem_;
  ctx.uuid = uuid_;
  ctx.gpu_node = gpu_node_;
  ctx.ctl_node = options_.ctl_path;
  ctx.gpu_fd = gpu_fd_;
  vmm_ = std::make_unique<NvVmm>(ctx);
  allocator_ = std::make_unique<NvAllocator>(name, vmm_.get(), gpu_.memory_bytes, options_.memory);
  allocator_->set_device_copy(
      [this](const NvAllocation& dst, uint64_t dst_off, const NvAllocation& src, uint64_t src_off,
             uint64_t bytes) { return CopySync(dst, dst_off, src, src_off, bytes); });
  ASSIGN_OR_RETURN(sync_engine_, NvEngine::Create(this, name + "/sync", options_.run_timeout));

  if (options_.compiler != nullptr) {
    compiler_ = std::move(options_.compiler);
  } else {
    // Hopper-only instructions (wgmma) need the "a" target; it runs only on
    // that exact architecture, which is what this device is.
    cuda::NvrtcCompiler::Options copts;
    copts.arch = absl::StrCat("sm_", gpu_.sm, gpu_.sm == 90 ? "a" : "");
    ASSIGN_OR_RETURN(std::unique_ptr<cuda::NvrtcCompiler> c, cuda::NvrtcCompiler::Create(copts));
    compiler_ = std::move(c);
  }
  info_ = DeviceInfo{
      .name = name,
      .description =
          absl::StrFormat("%s (sm_%d, %d SMs, %u MiB, driver %s, NV direct%s%s%s)", gpu_.name,
                          gpu_.sm, gpu_.sm_count, gpu_.memory_bytes >> 20, gpu_.driver_version,
                          interrupt_waits_ ? "" : ", polled waits",
                          perf_boosted_ ? ", boosted" : "", io.emulated() ? ", emulated" : ""),
      .language = "cuda",
      .compute_units = gpu_.sm_count,
      .max_vector_bytes = 16,
      .has_local = true,
      .has_shared = true,
      .max_global = LaunchDims{2147483647, 65535, 65535},
      .max_local = LaunchDims{1024, 1024, 64},
      .total_memory = gpu_.memory_bytes,
  };
  return absl::OkStatus();
}

absl::Status NvDevice::QueryGpu() {
  nvrm::NV0000_CTRL_SYSTEM_GET_BUILD_VERSION_V2_PARAMS bv{};
  if (rm_->Control(rm_->root(), nvrm::kCtrlSystemGetBuildVersionV2, &bv, sizeof(bv),
                   "NV0000_CTRL_CMD_SYSTEM_GET_BUILD_VERSION_V2")
          .ok()) {
    gpu_.driver_version = std::string(
        bv.driverVersionBuffer, strnlen(bv.driverVersionBuffer, sizeof(bv.driverVersionBuffer)));
  }
  nvrm::NV2080_CTRL_GPU_GET_NAME_STRING_PARAMS ns{};
  RETURN_IF_ERROR(rm_->Control(subdevice_, nvrm::kCtrlGpuGetNameString, &ns, sizeof(ns),
                               "NV2080_CTRL_CMD_GPU_GET_NAME_STRING"));
  gpu_.name = std::string(reinterpret_cast<const char*>(ns.gpuNameString),
                          strnlen(reinterpret_cast<const char*>(ns.gpuNameString), 64));
  nvrm::NV2080_CTRL_GPU_GET_GID_INFO_PARAMS gid{};
  gid.flags = nvrm::kGidFlagsFormatBinary;
  gid.length = 16;
  RETURN_IF_ERROR(rm_->Control(subdevice_, nvrm::kCtrlGpuGetGidInfo, &gid, sizeof(gid),
                               "NV2080_CTRL_CMD_GPU_GET_GID_INFO"));
  std::memcpy(uuid_.uuid, gid.data, 16);

  nvrm::NV2080_CTRL_GR_INFO info[] = {
      {nvrm::kGrInfoSmVersion, 0},     {nvrm::kGrInfoNumGpcs, 0},
      {nvrm::kGrInfoNumTpcPerGpc, 0},  {nvrm::kGrInfoNumSmPerTpc, 0},
      {nvrm::kGrInfoMaxWarpsPerSm, 0}, {nvrm::kGrInfoGpuCoreCount, 0},
      {nvrm::kGrInfoMaxSpPerSm, 0}};
  nvrm::NV2080_CTRL_GR_GET_INFO_PARAMS gr{};
  gr.grInfoListSize = std::size(info);
  gr.grInfoList = reinterpret_cast<uintptr_t>(info);
  RETURN_IF_ERROR(rm_->Control(subdevice_, nvrm::kCtrlGrGetInfo, &gr, sizeof(gr),
                               "NV2080_CTRL_CMD_GR_GET_INFO"));
  const uint32_t v = info[0].data, minor = v & 0xff;
  gpu_.sm = static_cast<int>(((v >> 8) & 0xff) * 10 + (minor > 0xf ? minor >> 4 : minor));
  gpu_.gpcs = static_cast<int>(info[1].data);
  gpu_.tpcs_per_gpc = static_cast<int>(info[2].data);
  gpu_.sms_per_tpc = static_cast<int>(info[3].data);
  gpu_.max_warps_per_sm = static_cast<int>(info[4].data);
  ASSIGN_OR_RETURN(gpu_.sm_count, CountEnabledSms());

  nvrm::NV2080_CTRL_FB_GET_INFO_V2_PARAMS fb{};
  fb.fbInfoListSize = 1;
  fb.fbInfoList[0].index = nvrm::kFbInfoHeapSize;
  RETURN_IF_ERROR(rm_->Control(subdevice_, nvrm::kCtrlFbGetInfoV2, &fb, sizeof(fb),
                               "NV2080_CTRL_CMD_FB_GET_INFO_V2"));
  gpu_.memory_bytes = uint64_t{fb.fbInfoList[0].data} << 10;

  auto cl = std::make_unique<nvrm::NV0080_CTRL_GPU_GET_CLASSLIST_V2_PARAMS>();
  std::memset(cl.get(), 0, sizeof(*cl));
  RETURN_IF_ERROR(rm_->Control(device_, nvrm::kCtrlDeviceGetClasslistV2, cl.get(), sizeof(*cl),
                               "NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2"));
  const std::vector<uint32_t> classes(cl->classList,
                                      cl->classList + std::min<uint32_t>(cl->numClasses, 200));
  if (NvTraceEnabled()) {
    std::string list;
    for (uint32_t c : classes) absl::StrAppendFormat(&list, " 0x%04x", c);
    NvTrace(
        absl::StrFormat("%s: %s sm_%d (SM_VERSION 0x%x), %d SMs, %u MiB, driver %s; %u classes:%s",
                        options_.name, gpu_.name, gpu_.sm, v, gpu_.sm_count,
                        gpu_.memory_bytes >> 20, gpu_.driver_version, cl->numClasses, list));
  }
  if (!Has(classes, nvrm::kHopperComputeA)) {
    std::string have;
    for (uint32_t c : {nvrm::kAmpereComputeA, nvrm::kAmpereComputeB, nvrm::kAdaComputeA,
                       nvrm::kBlackwellComputeA}) {
      if (Has(classes, c)) absl::StrAppendFormat(&have, " 0x%04x", c);
    }
    return absl::UnimplementedError(absl::StrFormat(
        "%s: %s (sm_%d) has no HOPPER_COMPUTE_A (0xcbc0) class: this driver emits Hopper QMDs "
        "(version 4) only; compute classes present:%s",
        options_.name, gpu_.name, gpu_.sm, have.empty() ? " none known" : have));
  }
  gpu_.compute_class = nvrm::kHopperComputeA;
  gpu_.gpfifo_class = Has(classes, nvrm::kHopperChannelGpfifoA) ? nvrm::kHopperChannelGpfifoA
                                                                : nvrm::kAmpereChannelGpfifoA;
  gpu_.dma_class =
      Has(classes, nvrm::kHopperDmaCopyA) ? nvrm::kHopperDmaCopyA : nvrm::kAmpereDmaCopyB;
  gpu_.usermode_class =
      Has(classes, nvrm::kHopperUsermodeA) ? nvrm::kHopperUsermodeA : nvrm::kTuringUsermodeA;
  for (uint32_t c : {gpu_.gpfifo_class, gpu_.dma_class, gpu_.usermode_class}) {
    if (!Has(classes, c)) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: the GPU lacks class 0x%04x this driver needs", options_.name, c));
    }
  }
  return absl::OkStatus();
}

NvDevice::~NvDevice() {
  sync_engine_.reset();  // drains (bounded) before the memory it uses goes
  if (allocator_ != nullptr) {
    allocator_->ReleaseCached();
    for (const NvAllocation& a : old_local_) allocator_->FreeInternal(a);
    allocator_->FreeInternal(local_alloc_);
  }
  allocator_.reset();
  vmm_.reset();
  if (rm_ != nullptr) {
    if (usermode_map_ != nullptr) (void)rm_->io().Munmap(usermode_map_, nvhw::kUsermodeBytes);
    if (uvm_registered_) (void)uvm_->UnregisterGpu(uuid_);
    if (device_ != 0) (void)rm_->Free(rm_->root(), device_);
    if (gpu_fd_ >= 0) (void)rm_->io().Close(gpu_fd_);
  }
  uvm_.reset();
  rm_.reset();  // frees the client, closes the control fd
}

NvDevice::LocalMemory NvDevice::local_memory() const {
  std::lock_guard<std::mutex> lock(local_mu_);
  return local_;
}

absl::StatusOr<int> NvDevice::CountEnabledSms() {
  nvrm::NV2080_CTRL_GR_GET_GPC_MASK_PARAMS gpcs{};
  RETURN_IF_ERROR(rm_->Control(subdevice_, nvrm::kCtrlGrGetGpcMask, &gpcs, sizeof(gpcs),
                               "NV2080_CTRL_CMD_GR_GET_GPC_MASK"));
  int tpcs = 0;
  for (uint32_t gpc = 0; gpc < 32; ++gpc) {
    if ((gpcs.gpcMask >> gpc & 1) == 0) continue;
    nvrm::NV2080_CTRL_GR_GET_TPC_MASK_PARAMS t{};
    t.gpcId = gpc;
    RETURN_IF_ERROR(rm_->Control(subdevice_, nvrm::kCtrlGrGetTpcMask, &t, sizeof(t),
                                 "NV2080_CTRL_CMD_GR_GET_TPC_MASK"));
    tpcs += std::popcount(t.tpcMask);
  }
  if (tpcs == 0 || gpu_.sms_per_tpc <= 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: RM reports no enabled TPC (GPC mask 0x%x, %d SMs per TPC)",
                        options_.name, gpcs.gpcMask, gpu_.sms_per_tpc));
  }
  return tpcs * gpu_.sms_per_tpc;
}

absl::Status NvDevice::EnsureLocalMemory(uint32_t per_thread) {
  std::lock_guard<std::mutex> lock(local_mu_);
  if (per_thread <= local_.per_thread) return absl::OkStatus();
  const uint32_t slm = static_cast<uint32_t>(RoundUp(per_thread, 32));
  // Per TPC: every warp slot of its SMs gets slm bytes per thread.
  const uint64_t per_tpc =
      RoundUp(RoundUp(uint64_t{slm} * 32, 0x200) * std::max(gpu_.max_warps_per_sm, 1) *
                  std::max(gpu_.sms_per_tpc, 1),
              0x8000);
  const uint64_t total =
      RoundUp(per_tpc * std::max(gpu_.tpcs_per_gpc, 1) * std::max(gpu_.gpcs, 1), 0x20000);
  absl::StatusOr<NvAllocation> a = allocator_->AllocInternal(total, NvMemKind::kDevice);
  if (!a.ok()) {
    return absl::Status(a.status().code(),
                        absl::StrFormat("%s: %u bytes of local memory per thread need %u bytes "
                                        "of device memory: %s",
                                        name(), slm, total, a.status().message()));
  }
  if (local_.va != 0) old_local_.push_back(local_alloc_);
  local_alloc_ = *a;
  local_.va = a->va;
  local_.bytes_per_tpc = per_tpc;
  local_.per_thread = slm;
  ++local_.generation;
  return absl::OkStatus();
}

absl::Status NvDevice::CheckLaunchDims(absl::string_view program, LaunchDims global,
                                       LaunchDims local, uint32_t shared_bytes) const {
  const LaunchDims& gm = info_.max_global;
  const LaunchDims& lm = info_.max_local;
  const bool ok = global.x <= gm.x && global.y <= gm.y && global.z <= gm.z && local.x <= lm.x &&
                  local.y <= lm.y && local.z <= lm.z && local.total() <= 1024 &&
                  shared_bytes <= kMaxSharedPerCta;
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      name(), ": program '", program, "': launch grid (", global.x, ", ", global.y, ", ", global.z,
      ") block (", local.x, ", ", local.y, ", ", local.z, ") shared ", shared_bytes,
      " exceeds the GPU's limits: grid (", gm.x, ", ", gm.y, ", ", gm.z, "), block (", lm.x, ", ",
      lm.y, ", ", lm.z, ") of at most 1024 threads, ", kMaxSharedPerCta, " bytes shared"));
}

absl::Status NvDevice::RunSync(NvProgram* program, absl::Span<DeviceBuffer* const> bufs,
                               absl::Span<const int64_t> vars, LaunchDims global, LaunchDims local,
                               RunTiming* timing) {
  ExecCommand c{program, {}, {}, global, local};
  c.bufs.assign(bufs.begin(), bufs.end());
  c.vars.assign(vars.begin(), vars.end());
  std::lock_guard<std::mutex> lock(sync_mu_);
  const absl::Time t0 = absl::Now();
  RETURN_IF_ERROR(sync_engine_->AddExec(c));
  ASSIGN_OR_RETURN(uint64_t fence, sync_engine_->Flush());
  RETURN_IF_ERROR(sync_engine_->AwaitFence(
      fence, options_.run_timeout, absl::StrCat("Run of program '", program->desc().name, "'")));
  if (timing != nullptr) timing->seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  return absl::OkStatus();
}

absl::Status NvDevice::CopySync(const NvAllocation& dst, uint64_t dst_off, const NvAllocation& src,
                                uint64_t src_off, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(sync_mu_);
  RETURN_IF_ERROR(sync_engine_->AddRawCopy(dst.va + dst_off, src.va + src_off, bytes));
  ASSIGN_OR_RETURN(uint64_t fence, sync_engine_->Flush());
  return sync_engine_->AwaitFence(fence, options_.wait_timeout,
                                  absl::StrCat("copy of ", bytes, " bytes"));
}

absl::StatusOr<std::unique_ptr<Program>> NvDevice::LoadProgram(const ProgramDesc& desc,
                                                               absl::string_view binary) {
  ASSIGN_OR_RETURN(std::unique_ptr<NvProgram> p, NvProgram::Load(this, desc, binary));
  return std::unique_ptr<Program>(std::move(p));
}

absl::StatusOr<std::unique_ptr<Queue>> NvDevice::CreateQueue(absl::string_view name,
                                                             const QueueOptions& options) {
  const std::string full = absl::StrCat(info_.name, "/", name);
  RETURN_IF_ERROR(ValidateWaitTimeout(options.wait_timeout, absl::StrCat("queue '", full, "'")));
  ASSIGN_OR_RETURN(std::unique_ptr<NvEngine> engine,
                   NvEngine::Create(this, full, options.wait_timeout));
  return std::unique_ptr<Queue>(new DeviceQueue(info_.name, full, options, std::move(engine)));
}

absl::StatusOr<std::unique_ptr<Signal>> NvDevice::CreateSignal(absl::string_view name,
                                                               uint64_t initial) {
  return std::unique_ptr<Signal>(new HostSignal(info_.name, std::string(name), initial));
}

namespace {

absl::StatusOr<std::unique_ptr<Device>> CreateRegistered(int index) {
  NvDevice::Options options;
  options.index = index;
  options.name = absl::StrCat("NV:", index);
  if (const char* t = std::getenv("UOP_NV_RUN_TIMEOUT_MS"); t != nullptr && *t != '\0') {
    int64_t ms;
    if (!absl::SimpleAtoi(t, &ms) || ms < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "UOP_NV_RUN_TIMEOUT_MS must be a positive number of milliseconds, got '", t, "'"));
    }
    options.run_timeout = absl::Milliseconds(ms);
  }
  if (const char* t = std::getenv("UOP_NV_SPIN_US"); t != nullptr && *t != '\0') {
    int64_t us;
    if (!absl::SimpleAtoi(t, &us) || us < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("UOP_NV_SPIN_US must be a number of microseconds >= 0, got '", t, "'"));
    }
    options.spin = absl::Microseconds(us);
  }
  if (const char* t = std::getenv("UOP_NV_LAUNCH_ORDER"); t != nullptr && *t != '\0') {
    const std::string v(t);
    using Order = NvDevice::Options::LaunchOrder;
    if (v == "chain") {
      options.launch_order = Order::kChain;
    } else if (v == "wfi") {
      options.launch_order = Order::kWfi;
    } else if (v == "none") {
      options.launch_order = Order::kNone;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("UOP_NV_LAUNCH_ORDER must be chain, wfi or none, got '", t, "'"));
    }
  }
  if (const char* t = std::getenv("UOP_NV_PERF_BOOST"); t != nullptr && *t != '\0') {
    if (std::string(t) != "0" && std::string(t) != "1") {
      return absl::InvalidArgumentError(
          absl::StrCat("UOP_NV_PERF_BOOST must be 0 or 1, got '", t, "'"));
    }
    options.perf_boost = std::string(t) == "1";
  }
  ASSIGN_OR_RETURN(std::unique_ptr<NvDevice> d, NvDevice::Create(std::move(options)));
  return std::unique_ptr<Device>(std::move(d));
}

}  // namespace

UOP_REGISTER_DEVICE_BACKEND(nv, "NV", NvDevice::Count, CreateRegistered);

}  // namespace uop

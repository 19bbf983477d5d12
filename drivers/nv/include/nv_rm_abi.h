// The NVIDIA kernel driver's user interface, the subset the NV driver uses:
// /dev/nvidiactl and /dev/nvidia<N> escapes (resource manager allocations,
// controls, memory mappings, OS events) and /dev/nvidia-uvm ioctls.
//
// Written from the facts of the public open-gpu-kernel-modules headers
// (kernel-open/common/inc/nv-ioctl*.h, src/nvidia/arch/nvalloc/unix/include/
// nv_escape.h, src/common/sdk/nvidia/inc/{nvos.h,class/*.h,ctrl/*.h},
// kernel-open/nvidia-uvm/uvm_ioctl.h) for the 580 branch. The static_asserts
// pin every size the driver checks: the escapes encode the argument size in
// the request number and the RM rejects a wrong size, so a layout slip is a
// compile error here rather than EINVAL on the device.
#ifndef UOP_DRIVERS_NV_INCLUDE_NV_RM_ABI_H_
#define UOP_DRIVERS_NV_INCLUDE_NV_RM_ABI_H_

#include <cstddef>
#include <cstdint>

#include "drivers/common/ioctl.h"

namespace uop::nvrm {

using Handle = uint32_t;

// --- escapes: _IOWR('F', nr, <argument>) ---
inline constexpr unsigned kIoctlMagic = 'F';
inline constexpr unsigned kEscRmAllocMemory = 0x27;
inline constexpr unsigned kEscRmFree = 0x29;
inline constexpr unsigned kEscRmControl = 0x2A;
inline constexpr unsigned kEscRmAlloc = 0x2B;
inline constexpr unsigned kEscRmMapMemory = 0x4E;
inline constexpr unsigned kEscRmUnmapMemory = 0x4F;
inline constexpr unsigned kEscRmMapMemoryDma = 0x57;
inline constexpr unsigned kEscRmUnmapMemoryDma = 0x58;
inline constexpr unsigned kEscCardInfo = 200;
inline constexpr unsigned kEscRegisterFd = 201;
inline constexpr unsigned kEscAllocOsEvent = 206;
inline constexpr unsigned kEscFreeOsEvent = 207;

// --- classes ---
inline constexpr uint32_t kRootClient = 0x41;            // NV01_ROOT_CLIENT
inline constexpr uint32_t kDevice0 = 0x80;               // NV01_DEVICE_0
inline constexpr uint32_t kSubdevice0 = 0x2080;          // NV20_SUBDEVICE_0
inline constexpr uint32_t kMemorySystem = 0x3e;          // NV01_MEMORY_SYSTEM
inline constexpr uint32_t kMemoryLocalUser = 0x40;       // NV01_MEMORY_LOCAL_USER
inline constexpr uint32_t kMemoryVirtual = 0x70;         // NV01_MEMORY_VIRTUAL
inline constexpr uint32_t kMemorySystemOsDesc = 0x71;    // NV01_MEMORY_SYSTEM_OS_DESCRIPTOR
inline constexpr uint32_t kEventOsEvent = 0x79;          // NV01_EVENT_OS_EVENT
inline constexpr uint32_t kFermiVaspaceA = 0x90f1;       // FERMI_VASPACE_A
inline constexpr uint32_t kFermiContextShareA = 0x9067;  // FERMI_CONTEXT_SHARE_A
inline constexpr uint32_t kKeplerChannelGroupA = 0xa06c;
inline constexpr uint32_t kTuringUsermodeA = 0xc461;
inline constexpr uint32_t kHopperUsermodeA = 0xc661;
inline constexpr uint32_t kAmpereChannelGpfifoA = 0xc56f;
inline constexpr uint32_t kHopperChannelGpfifoA = 0xc86f;
inline constexpr uint32_t kAmpereComputeA = 0xc6c0;
inline constexpr uint32_t kAmpereComputeB = 0xc7c0;
inline constexpr uint32_t kAdaComputeA = 0xc9c0;
inline constexpr uint32_t kHopperComputeA = 0xcbc0;
inline constexpr uint32_t kBlackwellComputeA = 0xcdc0;
inline constexpr uint32_t kAmpereDmaCopyB = 0xc7b5;
inline constexpr uint32_t kHopperDmaCopyA = 0xc8b5;

// --- status codes (nvstatuscodes.h) the driver names in errors ---
inline constexpr uint32_t kOk = 0x00;
inline constexpr uint32_t kErrInsufficientPermissions = 0x1b;
inline constexpr uint32_t kErrInvalidArgument = 0x1f;
inline constexpr uint32_t kErrInvalidClass = 0x22;
inline constexpr uint32_t kErrInvalidObjectHandle = 0x33;
inline constexpr uint32_t kErrNoMemory = 0x51;
inline constexpr uint32_t kErrNotSupported = 0x56;
inline constexpr uint32_t kErrInvalidState = 0x40;

// --- escape arguments ---
struct nv_pci_info_t {
  uint32_t domain;
  uint8_t bus, slot, function;
  uint16_t vendor_id, device_id;
};
static_assert(sizeof(nv_pci_info_t) == 12);

// NV_ESC_CARD_INFO takes an array of these (one per possible GPU).
struct nv_ioctl_card_info_t {
  uint8_t valid;
  nv_pci_info_t pci_info;
  uint32_t gpu_id;
  uint16_t interrupt_line;
  uint64_t reg_address, reg_size, fb_address, fb_size;
  uint32_t minor_number;
  uint8_t dev_name[10];
};
static_assert(sizeof(nv_ioctl_card_info_t) == 72);
static_assert(offsetof(nv_ioctl_card_info_t, minor_number) == 56);
inline constexpr int kMaxCards = 32;

struct nv_ioctl_register_fd_t {
  int32_t ctl_fd;
};

struct nv_ioctl_alloc_os_event_t {
  Handle hClient, hDevice;
  uint32_t fd, Status;
};
static_assert(sizeof(nv_ioctl_alloc_os_event_t) == 16);

struct NVOS00_PARAMETERS {  // RM_FREE
  Handle hRoot, hObjectParent, hObjectOld;
  uint32_t status;
};
static_assert(sizeof(NVOS00_PARAMETERS) == 16);

struct NVOS02_PARAMETERS {  // RM_ALLOC_MEMORY (OS descriptors)
  Handle hRoot, hObjectParent, hObjectNew;
  uint32_t hClass, flags;
  uint64_t pMemory, limit;
  uint32_t status;
};
static_assert(sizeof(NVOS02_PARAMETERS) == 48);
struct nv_ioctl_nvos02_parameters_with_fd {
  NVOS02_PARAMETERS params;
  int32_t fd;
};
static_assert(sizeof(nv_ioctl_nvos02_parameters_with_fd) == 56);

struct NVOS21_PARAMETERS {  // RM_ALLOC
  Handle hRoot, hObjectParent, hObjectNew;
  uint32_t hClass;
  uint64_t pAllocParms;
  uint32_t paramsSize, status;
};
static_assert(sizeof(NVOS21_PARAMETERS) == 32);

struct NVOS33_PARAMETERS {  // RM_MAP_MEMORY / RM_UNMAP_MEMORY (CPU mappings)
  Handle hClient, hDevice, hMemory;
  uint64_t offset, length, pLinearAddress;
  uint32_t status, flags;
};
static_assert(sizeof(NVOS33_PARAMETERS) == 48);
struct nv_ioctl_nvos33_parameters_with_fd {
  NVOS33_PARAMETERS params;
  int32_t fd;
};
static_assert(sizeof(nv_ioctl_nvos33_parameters_with_fd) == 56);

struct NVOS46_PARAMETERS {  // RM_MAP_MEMORY_DMA (GPU mappings into a virtual memory object)
  Handle hClient, hDevice, hDma, hMemory;
  uint64_t offset, length;
  uint32_t flags, flags2, kindOverride;
  uint64_t dmaOffset;
  uint32_t status;
};
static_assert(sizeof(NVOS46_PARAMETERS) == 64);

struct NVOS47_PARAMETERS {  // RM_UNMAP_MEMORY_DMA
  Handle hClient, hDevice, hDma, hMemory;
  uint32_t flags;
  uint64_t dmaOffset, size;
  uint32_t status;
};
static_assert(sizeof(NVOS47_PARAMETERS) == 48);

struct NVOS54_PARAMETERS {  // RM_CONTROL
  Handle hClient, hObject;
  uint32_t cmd, flags;
  uint64_t params;
  uint32_t paramsSize, status;
};
static_assert(sizeof(NVOS54_PARAMETERS) == 32);

inline constexpr unsigned long kIoctlRmAlloc = IoWR<NVOS21_PARAMETERS>(kIoctlMagic, kEscRmAlloc);
inline constexpr unsigned long kIoctlRmFree = IoWR<NVOS00_PARAMETERS>(kIoctlMagic, kEscRmFree);
inline constexpr unsigned long kIoctlRmControl =
    IoWR<NVOS54_PARAMETERS>(kIoctlMagic, kEscRmControl);
inline constexpr unsigned long kIoctlRmAllocMemory =
    IoWR<nv_ioctl_nvos02_parameters_with_fd>(kIoctlMagic, kEscRmAllocMemory);
inline constexpr unsigned long kIoctlRmMapMemory =
    IoWR<nv_ioctl_nvos33_parameters_with_fd>(kIoctlMagic, kEscRmMapMemory);
inline constexpr unsigned long kIoctlRmMapMemoryDma =
    IoWR<NVOS46_PARAMETERS>(kIoctlMagic, kEscRmMapMemoryDma);
inline constexpr unsigned long kIoctlRmUnmapMemoryDma =
    IoWR<NVOS47_PARAMETERS>(kIoctlMagic, kEscRmUnmapMemoryDma);
inline constexpr unsigned long kIoctlRegisterFd =
    IoWR<nv_ioctl_register_fd_t>(kIoctlMagic, kEscRegisterFd);
inline constexpr unsigned long kIoctlAllocOsEvent =
    IoWR<nv_ioctl_alloc_os_event_t>(kIoctlMagic, kEscAllocOsEvent);
inline constexpr unsigned long kIoctlFreeOsEvent =
    IoWR<nv_ioctl_alloc_os_event_t>(kIoctlMagic, kEscFreeOsEvent);
// The card-info request carries kMaxCards entries.
struct CardInfoArray {
  nv_ioctl_card_info_t cards[kMaxCards];
};
inline constexpr unsigned long kIoctlCardInfo = IoWR<CardInfoArray>(kIoctlMagic, kEscCardInfo);

// --- allocation parameters ---
struct NV0080_ALLOC_PARAMETERS {
  uint32_t deviceId;
  Handle hClientShare, hTargetClient, hTargetDevice;
  uint32_t flags;
  uint64_t vaSpaceSize, vaStartInternal, vaLimitInternal;
  uint32_t vaMode;
};
static_assert(sizeof(NV0080_ALLOC_PARAMETERS) == 56);

struct NV2080_ALLOC_PARAMETERS {
  uint32_t subDeviceId;
};

struct NV_MEMORY_VIRTUAL_ALLOCATION_PARAMS {
  uint64_t offset, limit;
  Handle hVASpace;
};
static_assert(sizeof(NV_MEMORY_VIRTUAL_ALLOCATION_PARAMS) == 24);

struct NV_VASPACE_ALLOCATION_PARAMETERS {
  uint32_t index, flags;
  uint64_t vaSize, vaStartInternal, vaLimitInternal;
  uint32_t bigPageSize;
  uint64_t vaBase;
  uint32_t pasid;
};
static_assert(sizeof(NV_VASPACE_ALLOCATION_PARAMETERS) == 56);
inline constexpr uint32_t kVaspaceFlagIsExternallyOwned = 1u << 3;
inline constexpr uint32_t kVaspaceFlagEnablePageFaulting = 1u << 6;

struct NV_CHANNEL_GROUP_ALLOCATION_PARAMETERS {
  Handle hObjectError, hObjectEccError, hVASpace;
  uint32_t engineType;
  uint8_t bIsCallingContextVgpuPlugin;
};
static_assert(sizeof(NV_CHANNEL_GROUP_ALLOCATION_PARAMETERS) == 20);

struct NV_CTXSHARE_ALLOCATION_PARAMETERS {
  Handle hVASpace;
  uint32_t flags, subctxId;
};
inline constexpr uint32_t kCtxshareFlagSubcontextAsync = 1;

struct NV_MEMORY_DESC_PARAMS {
  uint64_t base, size;
  uint32_t addressSpace, cacheAttrib;
};
static_assert(sizeof(NV_MEMORY_DESC_PARAMS) == 24);

struct NV_CHANNEL_ALLOC_PARAMS {
  Handle hObjectError, hObjectBuffer;
  uint64_t gpFifoOffset;
  uint32_t gpFifoEntries, flags;
  Handle hContextShare, hVASpace;
  Handle hUserdMemory[8];
  uint64_t userdOffset[8];
  uint32_t engineType, cid, subDeviceId;
  Handle hObjectEccError;
  NV_MEMORY_DESC_PARAMS instanceMem, userdMem, ramfcMem, mthdbufMem;
  Handle hPhysChannelGroup;
  uint32_t internalFlags;
  NV_MEMORY_DESC_PARAMS errorNotifierMem, eccErrorNotifierMem;
  uint32_t ProcessID, SubProcessID;
  uint32_t encryptIv[3], decryptIv[3], hmacNonce[8];
  uint32_t tpcConfigID;
};
static_assert(sizeof(NV_CHANNEL_ALLOC_PARAMS) == 368);
static_assert(offsetof(NV_CHANNEL_ALLOC_PARAMS, engineType) == 128);
static_assert(offsetof(NV_CHANNEL_ALLOC_PARAMS, hPhysChannelGroup) == 240);

struct NV_MEMORY_ALLOCATION_PARAMS {
  uint32_t owner, type, flags, width, height;
  int32_t pitch;
  uint32_t attr, attr2, format, comprCovg, zcullCovg;
  uint64_t rangeLo, rangeHi, size, alignment, offset, limit, address;
  uint32_t ctagOffset;
  Handle hVASpace;
  uint32_t internalflags, tag;
  int32_t numaNode;
};
static_assert(sizeof(NV_MEMORY_ALLOCATION_PARAMS) == 128);
static_assert(offsetof(NV_MEMORY_ALLOCATION_PARAMS, size) == 64);

struct NV_GR_ALLOCATION_PARAMETERS {
  uint32_t version, flags, size, caps;
};

struct NV0005_ALLOC_PARAMETERS {  // events
  Handle hParentClient, hSrcResource;
  uint32_t hClass, notifyIndex;
  uint64_t data;
};
static_assert(sizeof(NV0005_ALLOC_PARAMETERS) == 24);
inline constexpr uint32_t kEventNonstallIntr = 0x08000000;  // NV01_EVENT_NONSTALL_INTR
inline constexpr uint32_t kEventWithoutData = 0x10000000;   // NV01_EVENT_WITHOUT_EVENT_DATA
inline constexpr uint32_t kNotifierGraphics = 12;           // NV2080_NOTIFIERS_GR0
inline constexpr uint32_t kNotifierCe0 = 23;                // NV2080_NOTIFIERS_CE0 (.. CE9 = 32)

// NVOS32 (memory allocation) fields.
inline constexpr uint32_t kTypeImage = 0;
inline constexpr uint32_t kTypeNotifier = 13;
inline constexpr uint32_t kAttrPageSizeShift = 23;  // 24:23
inline constexpr uint32_t kAttrPageSizeHuge = 3;
inline constexpr uint32_t kAttrLocationShift = 25;  // 26:25
inline constexpr uint32_t kAttrLocationPci = 1;
inline constexpr uint32_t kAttrPhysicalityShift = 27;  // 28:27
inline constexpr uint32_t kAttrPhysicalityContiguous = 2;
inline constexpr uint32_t kAttrPhysicalityAllowNoncontiguous = 3;
inline constexpr uint32_t kAttr2ZbcPreferNoZbc = 1;
inline constexpr uint32_t kAttr2GpuCacheableShift = 2;  // 3:2
inline constexpr uint32_t kAttr2GpuCacheableYes = 1;
inline constexpr uint32_t kAttr2GpuCacheableNo = 2;
inline constexpr uint32_t kAttr2PageSizeHugeShift = 20;  // 21:20
inline constexpr uint32_t kAttr2PageSizeHuge2Mb = 1;
inline constexpr uint32_t kAllocFlagIgnoreBankPlacement = 0x1;
inline constexpr uint32_t kAllocFlagAlignmentForce = 0x100;
inline constexpr uint32_t kAllocFlagMemoryHandleProvided = 0x4000;
inline constexpr uint32_t kAllocFlagMapNotRequired = 0x8000;
inline constexpr uint32_t kAllocFlagPersistentVidmem = 0x10000;
// NVOS02 flags (OS descriptors).
inline constexpr uint32_t kOs02PhysicalityNoncontiguous = 1u << 4;
inline constexpr uint32_t kOs02CoherencyCached = 1u << 12;
inline constexpr uint32_t kOs02MappingNoMap = 1u << 30;
// NVOS33 flags (CPU mappings).
inline constexpr uint32_t kOs33CachingWriteCombined = 2u << 23;
// NVOS46 flags (GPU mappings).
inline constexpr uint32_t kOs46PageSize4Kb = 1u << 8;
inline constexpr uint32_t kOs46CacheSnoopEnable = 1u << 4;
inline constexpr uint32_t kOs46DmaOffsetFixed = 1u << 15;

inline constexpr uint32_t kEngineTypeGraphics = 1;  // NV2080_ENGINE_TYPE_GRAPHICS
inline constexpr uint32_t kEngineTypeCopy0 = 9;     // NV2080_ENGINE_TYPE_COPY0

// --- controls: command numbers and parameters ---
inline constexpr uint32_t kCtrlSystemGetBuildVersionV2 = 0x13e;
struct NV0000_CTRL_SYSTEM_GET_BUILD_VERSION_V2_PARAMS {
  char driverVersionBuffer[256], versionBuffer[256], driverBranch[256], titleBuffer[256];
  uint32_t changelistNumber, officialChangelistNumber;
};
static_assert(sizeof(NV0000_CTRL_SYSTEM_GET_BUILD_VERSION_V2_PARAMS) == 1032);

inline constexpr uint32_t kCtrlGpuGetIdInfoV2 = 0x205;
struct NV0000_CTRL_GPU_GET_ID_INFO_V2_PARAMS {
  uint32_t gpuId, gpuFlags, deviceInstance, subDeviceInstance, sliStatus, boardId, gpuInstance;
  int32_t numaId;
};
static_assert(sizeof(NV0000_CTRL_GPU_GET_ID_INFO_V2_PARAMS) == 32);

inline constexpr uint32_t kCtrlDeviceGetClasslistV2 = 0x800292;
struct NV0080_CTRL_GPU_GET_CLASSLIST_V2_PARAMS {
  uint32_t numClasses;
  uint32_t classList[200];
};
static_assert(sizeof(NV0080_CTRL_GPU_GET_CLASSLIST_V2_PARAMS) == 804);

inline constexpr uint32_t kCtrlGpuGetNameString = 0x20800110;
struct NV2080_CTRL_GPU_GET_NAME_STRING_PARAMS {
  uint32_t gpuNameStringFlags;  // 0: ASCII
  uint8_t gpuNameString[128];
};
static_assert(sizeof(NV2080_CTRL_GPU_GET_NAME_STRING_PARAMS) == 132);

inline constexpr uint32_t kCtrlGpuGetGidInfo = 0x2080014a;
struct NV2080_CTRL_GPU_GET_GID_INFO_PARAMS {
  uint32_t index, flags, length;
  uint8_t data[256];
};
static_assert(sizeof(NV2080_CTRL_GPU_GET_GID_INFO_PARAMS) == 268);
inline constexpr uint32_t kGidFlagsFormatBinary = 2;

inline constexpr uint32_t kCtrlGrGetInfo = 0x20801201;
struct NV2080_CTRL_GR_INFO {
  uint32_t index, data;
};
struct NV2080_CTRL_GR_GET_INFO_PARAMS {
  uint32_t grInfoListSize;
  uint64_t grInfoList;  // pointer to NV2080_CTRL_GR_INFO[grInfoListSize]
  uint32_t routeFlags;
  uint64_t routeData;
};
static_assert(sizeof(NV2080_CTRL_GR_GET_INFO_PARAMS) == 32);
inline constexpr uint32_t kGrInfoSmVersion = 0x0c;
inline constexpr uint32_t kGrInfoMaxSpPerSm = 0x13;
inline constexpr uint32_t kGrInfoGpuCoreCount = 0x1d;
inline constexpr uint32_t kGrInfoMaxWarpsPerSm = 0x0d;
inline constexpr uint32_t kGrInfoNumGpcs = 0x14;
inline constexpr uint32_t kGrInfoNumTpcPerGpc = 0x17;
inline constexpr uint32_t kGrInfoNumSmPerTpc = 0x20;

// Floorsweeping (ctrl2080gr.h): the GPCs enabled, then per GPC its enabled
// TPCs. The GR_INFO "litter" counts above describe the full die (GH100: 144
// SMs) while an H100 SXM enables 132; only these masks say which.
inline constexpr uint32_t kCtrlGrGetGpcMask = 0x2080122a;
inline constexpr uint32_t kCtrlGrGetTpcMask = 0x2080122b;
struct NV2080_CTRL_GR_ROUTE_INFO {
  uint32_t flags;
  uint64_t route;
};
struct NV2080_CTRL_GR_GET_GPC_MASK_PARAMS {
  NV2080_CTRL_GR_ROUTE_INFO grRouteInfo;
  uint32_t gpcMask;
};
static_assert(sizeof(NV2080_CTRL_GR_GET_GPC_MASK_PARAMS) == 24);
struct NV2080_CTRL_GR_GET_TPC_MASK_PARAMS {
  NV2080_CTRL_GR_ROUTE_INFO grRouteInfo;
  uint32_t gpcId;
  uint32_t tpcMask;
};
static_assert(sizeof(NV2080_CTRL_GR_GET_TPC_MASK_PARAMS) == 24);

inline constexpr uint32_t kCtrlFbGetInfoV2 = 0x20801303;
struct NV2080_CTRL_FB_INFO {
  uint32_t index, data;
};
struct NV2080_CTRL_FB_GET_INFO_V2_PARAMS {
  uint32_t fbInfoListSize;
  NV2080_CTRL_FB_INFO fbInfoList[128];
};
static_assert(sizeof(NV2080_CTRL_FB_GET_INFO_V2_PARAMS) == 1028);
inline constexpr uint32_t kFbInfoTotalRamSize = 0x08;  // KiB
inline constexpr uint32_t kFbInfoHeapSize = 0x09;      // KiB

// NV2080_CTRL_CMD_PERF_BOOST (ctrl2080perf.h): raise the P-state for a
// duration; flags CMD 1:0 (2: to the maximum), CUDA 4:4, CUDA_PRIORITY 6:6.
inline constexpr uint32_t kCtrlPerfBoost = 0x2080200a;
struct NV2080_CTRL_PERF_BOOST_PARAMS {
  uint32_t flags, duration;
};
static_assert(sizeof(NV2080_CTRL_PERF_BOOST_PARAMS) == 8);
inline constexpr uint32_t kPerfBoostToMax = 2;
inline constexpr uint32_t kPerfBoostCuda = 1u << 4;
inline constexpr uint32_t kPerfBoostCudaPriorityHigh = 1u << 6;
inline constexpr uint32_t kPerfBoostDurationInfinite = 0xffffffffu;  // until cleared

inline constexpr uint32_t kCtrlChannelGroupSchedule =
    0xa06c0101;  // NVA06C_CTRL_CMD_GPFIFO_SCHEDULE
struct NVA06C_CTRL_GPFIFO_SCHEDULE_PARAMS {
  uint8_t bEnable, bSkipSubmit, bSkipEnable;
};

inline constexpr uint32_t kCtrlGetWorkSubmitToken = 0xc36f0108;
struct NVC36F_CTRL_CMD_GPFIFO_GET_WORK_SUBMIT_TOKEN_PARAMS {
  uint32_t workSubmitToken;
};

// --- UVM (/dev/nvidia-uvm): the request is the command number itself ---
inline constexpr unsigned long kUvmInitialize = 0x30000001;
inline constexpr unsigned long kUvmDeinitialize = 0x30000002;
inline constexpr unsigned long kUvmRegisterGpuVaspace = 25;
inline constexpr unsigned long kUvmRegisterChannel = 27;
inline constexpr unsigned long kUvmMapExternalAllocation = 33;
inline constexpr unsigned long kUvmFree = 34;
inline constexpr unsigned long kUvmRegisterGpu = 37;
inline constexpr unsigned long kUvmUnregisterGpu = 38;
inline constexpr unsigned long kUvmCreateExternalRange = 73;
inline constexpr unsigned long kUvmMmInitialize = 75;

struct NvUuid {
  uint8_t uuid[16];
};

struct UVM_INITIALIZE_PARAMS {
  uint64_t flags;
  uint32_t rmStatus;
};
static_assert(sizeof(UVM_INITIALIZE_PARAMS) == 16);

struct UVM_MM_INITIALIZE_PARAMS {
  int32_t uvmFd;
  uint32_t rmStatus;
};

struct UVM_REGISTER_GPU_PARAMS {
  NvUuid gpu_uuid;
  uint8_t numaEnabled;
  int32_t numaNodeId, rmCtrlFd;
  Handle hClient, hSmcPartRef;
  uint32_t rmStatus;
};
static_assert(sizeof(UVM_REGISTER_GPU_PARAMS) == 40);

struct UVM_UNREGISTER_GPU_PARAMS {
  NvUuid gpu_uuid;
  uint32_t rmStatus;
};

struct UVM_REGISTER_GPU_VASPACE_PARAMS {
  NvUuid gpuUuid;
  int32_t rmCtrlFd;
  Handle hClient, hVaSpace;
  uint32_t rmStatus;
};
static_assert(sizeof(UVM_REGISTER_GPU_VASPACE_PARAMS) == 32);

struct UVM_REGISTER_CHANNEL_PARAMS {
  NvUuid gpuUuid;
  int32_t rmCtrlFd;
  Handle hClient, hChannel;
  uint64_t base, length;
  uint32_t rmStatus;
};
static_assert(sizeof(UVM_REGISTER_CHANNEL_PARAMS) == 56);

struct UVM_CREATE_EXTERNAL_RANGE_PARAMS {
  uint64_t base, length;
  uint32_t rmStatus;
};
static_assert(sizeof(UVM_CREATE_EXTERNAL_RANGE_PARAMS) == 24);

struct UvmGpuMappingAttributes {
  NvUuid gpuUuid;
  uint32_t gpuMappingType, gpuCachingType, gpuFormatType, gpuElementBits, gpuCompressionType;
};
static_assert(sizeof(UvmGpuMappingAttributes) == 36);
inline constexpr uint32_t kUvmMappingReadWriteAtomic = 1;

struct UVM_MAP_EXTERNAL_ALLOCATION_PARAMS {
  uint64_t base, length, offset;
  UvmGpuMappingAttributes perGpuAttributes[256];
  uint64_t gpuAttributesCount;
  int32_t rmCtrlFd;
  Handle hClient, hMemory;
  uint32_t rmStatus;
};
static_assert(sizeof(UVM_MAP_EXTERNAL_ALLOCATION_PARAMS) == 9264);
static_assert(offsetof(UVM_MAP_EXTERNAL_ALLOCATION_PARAMS, gpuAttributesCount) == 9240);

struct UVM_FREE_PARAMS {
  uint64_t base, length;
  uint32_t rmStatus;
};
static_assert(sizeof(UVM_FREE_PARAMS) == 24);

}  // namespace uop::nvrm

#endif  // UOP_DRIVERS_NV_INCLUDE_NV_RM_ABI_H_

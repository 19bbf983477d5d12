// Linux ioctl request numbers, computed as the kernel's _IOC macros do.
//
// Drivers declare their requests from the public UAPI facts (type letter,
// number, argument struct) and the argument size comes from the struct we
// wrote, so a layout mistake changes the number and the kernel rejects it.
//
//   inline constexpr unsigned long kIoctlGpuCommand = IoWR<kgsl_gpu_command>(0x09, 0x4A);
#ifndef UOP_DRIVERS_COMMON_IOCTL_H_
#define UOP_DRIVERS_COMMON_IOCTL_H_

namespace uop {

// asm-generic/ioctl.h: nr 8 bits, type 8 bits, size 14 bits, direction 2 bits.
inline constexpr unsigned kIocNone = 0, kIocWrite = 1, kIocRead = 2;

constexpr unsigned long IocEncode(unsigned dir, unsigned type, unsigned nr, unsigned long size) {
  return (static_cast<unsigned long>(dir) << 30) | (size << 16) | (type << 8) | nr;
}
constexpr unsigned IocNr(unsigned long request) { return request & 0xff; }
constexpr unsigned IocType(unsigned long request) { return (request >> 8) & 0xff; }
constexpr unsigned long IocSize(unsigned long request) { return (request >> 16) & 0x3fff; }
constexpr unsigned IocDir(unsigned long request) { return (request >> 30) & 3; }

template <typename T>
constexpr unsigned long IoW(unsigned type, unsigned nr) {
  static_assert(sizeof(T) < (1u << 14), "ioctl argument too large");
  return IocEncode(kIocWrite, type, nr, sizeof(T));
}
template <typename T>
constexpr unsigned long IoR(unsigned type, unsigned nr) {
  static_assert(sizeof(T) < (1u << 14), "ioctl argument too large");
  return IocEncode(kIocRead, type, nr, sizeof(T));
}
template <typename T>
constexpr unsigned long IoWR(unsigned type, unsigned nr) {
  static_assert(sizeof(T) < (1u << 14), "ioctl argument too large");
  return IocEncode(kIocRead | kIocWrite, type, nr, sizeof(T));
}

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_IOCTL_H_

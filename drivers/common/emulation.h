// Whether emulated devices (AM_EMU, QCOM_EMU, ...) are offered.
//
// Emulators let the direct drivers run in CI without their hardware, but a
// normal run must only offer real devices: the emulated backends report
// their devices to the DeviceRegistry only when UOP_ENABLE_EMULATED=1.
//
//   UOP_REGISTER_DEVICE_BACKEND(qcom_emu, "QCOM_EMU",
//                               [] { return EmulatedDevicesEnabled() ? 1 : 0; }, Create);
#ifndef UOP_DRIVERS_COMMON_EMULATION_H_
#define UOP_DRIVERS_COMMON_EMULATION_H_

#include <cstdlib>
#include <cstring>

namespace uop {

inline bool EmulatedDevicesEnabled() {
  const char* e = std::getenv("UOP_ENABLE_EMULATED");
  return e != nullptr && std::strcmp(e, "1") == 0;
}

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_EMULATION_H_

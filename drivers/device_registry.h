// DeviceRegistry: finds devices by name; each backend registers itself.
//
// Names are "<BACKEND>" or "<BACKEND>:<index>" ("CPU", "CPU:0", "NULL:1"),
// case-insensitive; "<BACKEND>" means index 0. A device is created on its
// first Get and lives as long as the registry (the global one: the process).
//
//   ASSIGN_OR_RETURN(Device* cpu, DeviceRegistry::Global().Get("CPU"));
//
// A backend registers from its .cc (its cc_library sets alwayslink = True):
//
//   UOP_REGISTER_DEVICE_BACKEND(null, "NULL", [] { return 8; },
//                               [](int index) { return NullDevice::Create(index); });
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_DEVICE_REGISTRY_H_
#define UOP_DRIVERS_DEVICE_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "drivers/device.h"

namespace uop {

struct BackendRegistration {
  std::string prefix;  // upper case, e.g. "CPU"
  int interface_version = kDeviceInterfaceVersion;
  // How many devices of this backend exist on this machine (0: none).
  std::function<int()> device_count;
  // Creates device `index` (0 <= index < device_count()).
  std::function<absl::StatusOr<std::unique_ptr<Device>>(int index)> create;
};

class DeviceRegistry {
 public:
  DeviceRegistry() = default;
  DeviceRegistry(const DeviceRegistry&) = delete;
  DeviceRegistry& operator=(const DeviceRegistry&) = delete;

  // The process-wide registry the backends register into. Never destroyed.
  static DeviceRegistry& Global();

  // AlreadyExists for a taken prefix, FailedPrecondition for a backend built
  // against another interface version, InvalidArgument for a bad prefix.
  absl::Status RegisterBackend(BackendRegistration backend);

  // The device for `name`, created on first use. NotFound for an unknown
  // backend or index (listing the available devices), InvalidArgument for a
  // malformed name, or the backend's error if creation failed.
  absl::StatusOr<Device*> Get(absl::string_view name);

  // Canonical names of every device that exists here, e.g. {"CPU:0", "NULL:0", ...}.
  std::vector<std::string> AvailableDevices() const;

 private:
  struct Backend {
    BackendRegistration reg;
    std::map<int, std::unique_ptr<Device>> devices;  // created ones
  };
  std::string AvailableList() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Backend> backends_ ABSL_GUARDED_BY(mu_);
};

namespace internal {
bool RegisterBackendOrDie(BackendRegistration backend);
}  // namespace internal

#define UOP_REGISTER_DEVICE_BACKEND(id, prefix, count_fn, create_fn)                     \
  static const bool uop_backend_registered_##id = ::uop::internal::RegisterBackendOrDie( \
      {prefix, ::uop::kDeviceInterfaceVersion, count_fn, create_fn})

}  // namespace uop

#endif  // UOP_DRIVERS_DEVICE_REGISTRY_H_

#include "drivers/device_registry.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop {

DeviceRegistry& DeviceRegistry::Global() {
  static DeviceRegistry* const registry = new DeviceRegistry();
  return *registry;
}

absl::Status DeviceRegistry::RegisterBackend(BackendRegistration backend) {
  if (backend.prefix.empty() || backend.prefix != absl::AsciiStrToUpper(backend.prefix) ||
      backend.prefix.find(':') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("device backend prefix must be non-empty upper case without ':', got '",
                     backend.prefix, "'"));
  }
  if (backend.interface_version != kDeviceInterfaceVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("device backend ", backend.prefix, " implements device interface version ",
                     backend.interface_version, ", this build has ", kDeviceInterfaceVersion));
  }
  if (!backend.device_count || !backend.create) {
    return absl::InvalidArgumentError(
        absl::StrCat("device backend ", backend.prefix, " lacks device_count or create"));
  }
  absl::MutexLock lock(&mu_);
  const std::string prefix = backend.prefix;
  auto [it, inserted] = backends_.try_emplace(prefix, Backend{std::move(backend), {}});
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("device backend ", prefix, " is already registered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Device*> DeviceRegistry::Get(absl::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view prefix = upper;
  int index = 0;
  if (size_t colon = upper.find(':'); colon != std::string::npos) {
    prefix = absl::string_view(upper).substr(0, colon);
    absl::string_view digits = absl::string_view(upper).substr(colon + 1);
    if (digits.empty() || !absl::ascii_isdigit(digits[0]) || !absl::SimpleAtoi(digits, &index)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed device name '", name, "': expected BACKEND or BACKEND:index, e.g. CPU:0"));
    }
  }
  absl::MutexLock lock(&mu_);
  auto it = backends_.find(std::string(prefix));
  if (it == backends_.end() || index >= it->second.reg.device_count()) {
    return absl::NotFoundError(
        absl::StrCat("unknown device '", name, "'; available: ", AvailableList()));
  }
  Backend& backend = it->second;
  auto dev = backend.devices.find(index);
  if (dev != backend.devices.end()) return dev->second.get();
  // Created under the lock: creation is rare and must happen once.
  absl::StatusOr<std::unique_ptr<Device>> created = backend.reg.create(index);
  if (!created.ok()) {
    return absl::Status(
        created.status().code(),
        absl::StrCat("creating device ", prefix, ":", index, ": ", created.status().message()));
  }
  Device* raw = created->get();
  backend.devices.emplace(index, std::move(*created));
  return raw;
}

std::vector<std::string> DeviceRegistry::AvailableDevices() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [prefix, backend] : backends_) {
    const int n = backend.reg.device_count();
    for (int i = 0; i < n; ++i) out.push_back(absl::StrCat(prefix, ":", i));
  }
  return out;
}

std::string DeviceRegistry::AvailableList() const {
  std::vector<std::string> names;
  for (const auto& [prefix, backend] : backends_) {
    const int n = backend.reg.device_count();
    if (n == 1) names.push_back(absl::StrCat(prefix, ":0"));
    if (n > 1) names.push_back(absl::StrCat(prefix, ":0..", n - 1));
  }
  return names.empty() ? std::string("(none)") : absl::StrJoin(names, ", ");
}

namespace internal {

bool RegisterBackendOrDie(BackendRegistration backend) {
  const std::string prefix = backend.prefix;
  absl::Status st = DeviceRegistry::Global().RegisterBackend(std::move(backend));
  if (!st.ok()) {
    // A programmer error in a backend's registration line: fail at start-up.
    std::fprintf(stderr, "uop: registering device backend %s: %s\n", prefix.c_str(),
                 std::string(st.message()).c_str());
    std::abort();
  }
  return true;
}

}  // namespace internal
}  // namespace uop

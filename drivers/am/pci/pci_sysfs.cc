#include "drivers/am/pci/pci_sysfs.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

absl::StatusOr<uint64_t> ParseHex(absl::string_view text, absl::string_view what) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  uint64_t v = 0;
  if (!absl::ConsumePrefix(&t, "0x") || t.empty() || !absl::SimpleHexAtoi(t, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected a 0x-prefixed hex number, read \"", text, "\""));
  }
  return v;
}

absl::StatusOr<uint64_t> ReadHexAttribute(KernelIo& io, const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, io.ReadFile(path));
  return ParseHex(text, path);
}

// Config space is read whole (sysfs gives 64 bytes unprivileged, 256 or 4096
// as root); the fields used here are in the first 64.
absl::StatusOr<std::string> ReadConfig(KernelIo& io, const PciFunction& fn) {
  ASSIGN_OR_RETURN(std::string config, io.ReadFile(fn.Path("config")));
  if (config.size() < 64) {
    return absl::DataLossError(absl::StrFormat("%s: config space is %u bytes (a header is 64)",
                                               fn.Path("config"), config.size()));
  }
  return config;
}

uint16_t Config16(const std::string& config, uint64_t offset) {
  uint16_t v;
  std::memcpy(&v, config.data() + offset, 2);
  return v;
}

}  // namespace

std::string PciFunction::Path(absl::string_view attribute) const {
  return absl::StrCat(dir, "/", attribute);
}

absl::StatusOr<std::array<PciBar, 6>> ParsePciResources(absl::string_view text) {
  std::array<PciBar, 6> bars{};
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    if (line_no >= 6) break;  // ROM and bridge windows follow the BARs
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    const std::string what = absl::StrCat("resource line ", line_no);
    if (f.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": expected \"start end flags\", read \"", line, "\""));
    }
    PciBar& b = bars[line_no];
    ASSIGN_OR_RETURN(b.start, ParseHex(f[0], what));
    ASSIGN_OR_RETURN(b.end, ParseHex(f[1], what));
    ASSIGN_OR_RETURN(b.flags, ParseHex(f[2], what));
    if (b.end < b.start && !(b.start == 0 && b.end == 0)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: end 0x%x is below start 0x%x", what, b.end, b.start));
    }
    ++line_no;
  }
  if (line_no < 6) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource: ", line_no, " lines, a PCI function has 6 BARs"));
  }
  return bars;
}

absl::StatusOr<PciFunction> DescribePciFunction(KernelIo& io, absl::string_view root,
                                                absl::string_view bdf) {
  PciFunction fn;
  fn.bdf = std::string(bdf);
  fn.dir = absl::StrCat(root, "/", bdf);
  ASSIGN_OR_RETURN(uint64_t vendor, ReadHexAttribute(io, fn.Path("vendor")));
  ASSIGN_OR_RETURN(uint64_t device, ReadHexAttribute(io, fn.Path("device")));
  ASSIGN_OR_RETURN(uint64_t cls, ReadHexAttribute(io, fn.Path("class")));
  fn.vendor = static_cast<uint16_t>(vendor);
  fn.device = static_cast<uint16_t>(device);
  fn.class_code = static_cast<uint32_t>(cls);
  ASSIGN_OR_RETURN(std::string resources, io.ReadFile(fn.Path("resource")));
  absl::StatusOr<std::array<PciBar, 6>> bars = ParsePciResources(resources);
  if (!bars.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(fn.Path("resource"), ": ", bars.status().message()));
  }
  fn.bars = *bars;
  return fn;
}

absl::StatusOr<std::vector<PciFunction>> FindAmdGpus(KernelIo& io, absl::string_view root) {
  ASSIGN_OR_RETURN(std::vector<std::string> entries, io.ListDir(root));
  std::vector<PciFunction> gpus;
  for (const std::string& bdf : entries) {
    // Vendor and class first: other devices' resource files are not read.
    const std::string dir = absl::StrCat(root, "/", bdf);
    absl::StatusOr<uint64_t> vendor = ReadHexAttribute(io, dir + "/vendor");
    if (!vendor.ok() || *vendor != kPciVendorAmd) continue;
    absl::StatusOr<uint64_t> cls = ReadHexAttribute(io, dir + "/class");
    if (!cls.ok()) continue;
    const uint32_t base_class = static_cast<uint32_t>(*cls >> 16);
    if (base_class != 0x03 && base_class != 0x12) continue;
    ASSIGN_OR_RETURN(PciFunction fn, DescribePciFunction(io, root, bdf));
    gpus.push_back(std::move(fn));
  }
  return gpus;
}

absl::Status CheckPciAlive(KernelIo& io, const PciFunction& fn) {
  ASSIGN_OR_RETURN(std::string config, ReadConfig(io, fn));
  const uint16_t vendor = Config16(config, kPciConfigVendorId);
  if (vendor != kPciVendorAmd) {
    return absl::UnavailableError(
        absl::StrFormat("%s: config space reads vendor 0x%04x (expected 0x%04x)%s", fn.bdf, vendor,
                        kPciVendorAmd, vendor == 0xFFFF ? ": the device is gone" : ""));
  }
  const uint16_t command = Config16(config, kPciConfigCommand);
  if ((command & kPciCommandMemory) == 0) {
    return absl::UnavailableError(absl::StrFormat(
        "%s: memory decoding is off (PCI Command 0x%04x): BAR reads return all-ones", fn.bdf,
        command));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PciFunction>> FindDriverlessAmdGpus(KernelIo& io,
                                                               absl::string_view root) {
  ASSIGN_OR_RETURN(std::vector<PciFunction> all, FindAmdGpus(io, root));
  std::vector<PciFunction> out;
  for (PciFunction& fn : all) {
    // A bound function has a `driver` link to its driver's directory, and
    // its uevent names the driver.
    if (!io.ListDir(fn.Path("driver")).ok()) {
      out.push_back(std::move(fn));
      continue;
    }
    absl::StatusOr<std::string> uevent = io.ReadFile(fn.Path("uevent"));
    if (!uevent.ok()) continue;
    for (absl::string_view line : absl::StrSplit(*uevent, '\n')) {
      if (absl::ConsumePrefix(&line, "DRIVER=")) fn.driver = std::string(line);
    }
    if (fn.driver == "vfio-pci") out.push_back(std::move(fn));
  }
  return out;
}

absl::Status EnablePciFunction(KernelIo& io, const PciFunction& fn) {
  RETURN_IF_ERROR(io.WriteFile(fn.Path("enable"), 0, "1"));
  ASSIGN_OR_RETURN(std::string config, ReadConfig(io, fn));
  if (const uint16_t vendor = Config16(config, kPciConfigVendorId); vendor != kPciVendorAmd) {
    return absl::UnavailableError(
        absl::StrFormat("%s: config space reads vendor 0x%04x after enable (expected 0x%04x)",
                        fn.bdf, vendor, kPciVendorAmd));
  }
  const uint16_t want = Config16(config, kPciConfigCommand) | kPciCommandMemory | kPciCommandMaster;
  char bytes[2];
  std::memcpy(bytes, &want, 2);
  RETURN_IF_ERROR(io.WriteFile(fn.Path("config"), kPciConfigCommand, absl::string_view(bytes, 2)));
  ASSIGN_OR_RETURN(config, ReadConfig(io, fn));
  const uint16_t got = Config16(config, kPciConfigCommand);
  if ((got & (kPciCommandMemory | kPciCommandMaster)) != (kPciCommandMemory | kPciCommandMaster)) {
    return absl::UnavailableError(absl::StrFormat(
        "%s: PCI Command reads 0x%04x after writing 0x%04x: Memory Space/Bus Master did not take",
        fn.bdf, got, want));
  }
  return absl::OkStatus();
}

}  // namespace uop

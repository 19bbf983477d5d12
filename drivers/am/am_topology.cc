#include "drivers/am/am_topology.h"

#include <xf86drm.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/base/status_macros.h"

namespace uop {

uint64_t AmGpuNode::property(const std::string& key, uint64_t fallback) const {
  auto it = properties.find(key);
  return it == properties.end() ? fallback : it->second;
}

int AmGpuNode::compute_units() const {
  const uint64_t per_cu = std::max<uint64_t>(1, property("simd_per_cu", 2));
  return static_cast<int>(std::max<uint64_t>(1, property("simd_count") / per_cu));
}

absl::StatusOr<std::map<std::string, uint64_t>> ParseKfdProperties(absl::string_view text) {
  std::map<std::string, uint64_t> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> kv = absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t v;
    if (kv.size() != 2 || !absl::SimpleAtoi(kv[1], &v)) {
      return absl::InvalidArgumentError(absl::StrCat("KFD properties: bad line '", line, "'"));
    }
    out[std::string(kv[0])] = v;
  }
  return out;
}

std::string GfxArchFromTargetVersion(uint64_t version) {
  return absl::StrFormat("gfx%d%x%x", version / 10000, (version / 100) % 100, version % 100);
}

absl::StatusOr<std::vector<AmGpuNode>> FindKfdGpus(KernelIo& io) {
  std::vector<AmGpuNode> gpus;
  absl::StatusOr<std::vector<std::string>> nodes = io.ListDir(kKfdTopology);
  if (!nodes.ok()) {
    if (nodes.status().code() == absl::StatusCode::kNotFound) return gpus;  // no KFD
    return nodes.status();
  }
  for (const std::string& n : *nodes) {
    AmGpuNode g;
    if (!absl::SimpleAtoi(n, &g.node)) continue;
    const std::string dir = absl::StrCat(kKfdTopology, "/", n);
    absl::StatusOr<std::string> id = io.ReadFile(dir + "/gpu_id");
    if (!id.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*id), &g.gpu_id) ||
        g.gpu_id == 0) {
      continue;  // a CPU node, or one KFD does not expose
    }
    ASSIGN_OR_RETURN(std::string props, io.ReadFile(dir + "/properties"));
    ASSIGN_OR_RETURN(g.properties, ParseKfdProperties(props));
    g.arch = GfxArchFromTargetVersion(g.property("gfx_target_version"));
    gpus.push_back(std::move(g));
  }
  std::sort(gpus.begin(), gpus.end(),
            [](const AmGpuNode& a, const AmGpuNode& b) { return a.node < b.node; });
  return gpus;
}

std::vector<DrmGpu> ListAmdDrmDevices() {
  std::vector<DrmGpu> out;
  drmDevicePtr devices[64];
  const int n = drmGetDevices2(0, devices, 64);
  if (n <= 0) return out;
  for (int i = 0; i < n; ++i) {
    drmDevicePtr d = devices[i];
    if (d->bustype != DRM_BUS_PCI || d->deviceinfo.pci == nullptr ||
        d->deviceinfo.pci->vendor_id != 0x1002 ||
        (d->available_nodes & (1 << DRM_NODE_RENDER)) == 0) {
      continue;
    }
    DrmGpu g;
    g.render_node = d->nodes[DRM_NODE_RENDER];
    g.vendor_id = d->deviceinfo.pci->vendor_id;
    g.device_id = d->deviceinfo.pci->device_id;
    g.pci_slot = absl::StrFormat("%04x:%02x:%02x.%x", d->businfo.pci->domain, d->businfo.pci->bus,
                                 d->businfo.pci->dev, d->businfo.pci->func);
    out.push_back(std::move(g));
  }
  drmFreeDevices(devices, n);
  return out;
}

}  // namespace uop

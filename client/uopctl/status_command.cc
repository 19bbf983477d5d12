// uopctl status: is the server (and optionally a model) live and ready, and
// which GPUs this host has (libdrm's enumeration and KGSL's node: the
// devices uopd's --gpu-backend can drive when it runs here).
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/uopctl/cli.h"
#include "client/uopctl/commands.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/drm_devices.h"
#include "drivers/common/kernel_io.h"

namespace uop::uopctl {
namespace {

struct Readiness {
  absl::Status status;  // of the last call
  bool live = false, ready = false, model_ready = false;
};

Readiness Check(client::InferenceClient& c, const std::string& model) {
  Readiness r;
  absl::StatusOr<bool> live = c.ServerLive();
  if (!live.ok()) return {live.status()};
  r.live = *live;
  absl::StatusOr<bool> ready = c.ServerReady();
  if (!ready.ok()) return {ready.status()};
  r.ready = *ready;
  if (!model.empty()) {
    absl::StatusOr<bool> m = c.ModelReady(model);
    if (!m.ok()) return {m.status()};
    r.model_ready = *m;
  }
  return r;
}

}  // namespace

int StatusCommand(Context& ctx, const std::vector<std::string>& args) {
  std::string model;
  double wait_s = 0;
  client::FlagSet f("uopctl status [-m MODEL] [--wait SECONDS]",
                    "Prints whether the server is live and ready (and a model, with -m).\n"
                    "Exit status 0 when ready, 6 when not, 3 when the server is unreachable.");
  f.String("model", 'm', &model, "NAME", "also check this model");
  f.Double("wait", 0, &wait_s, "poll until ready for up to this many seconds");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (!pos.empty()) return ctx.Usage("status takes no arguments (a model is -m MODEL)");
  auto client = ctx.Connect(absl::Seconds(30));
  if (!client.ok()) return ctx.Usage(client.status());

  const absl::Time until = absl::Now() + absl::Seconds(wait_s);
  Readiness r = Check(**client, model);
  while (absl::Now() < until && !(r.status.ok() && r.ready && (model.empty() || r.model_ready))) {
    // A server still starting refuses connections: keep polling, not failing.
    if (!r.status.ok() && r.status.code() != absl::StatusCode::kUnavailable &&
        r.status.code() != absl::StatusCode::kNotFound) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
    r = Check(**client, model);
  }
  if (!model.empty() && r.status.code() == absl::StatusCode::kNotFound) {
    // A model the repository lists but that is not loaded is not ready, not unknown.
    absl::StatusOr<inference::RepositoryIndexResponse> index = (*client)->RepositoryIndex();
    if (index.ok()) {
      for (const auto& m : index->models()) {
        if (m.name() != model) continue;
        ctx.out << absl::StrFormat("model       %s %s%s%s\n", model, m.state(),
                                   m.reason().empty() ? "" : ": ", m.reason());
        return kExitNotReady;
      }
    }
  }
  if (!r.status.ok()) return ctx.Fail(r.status);
  absl::StatusOr<inference::ServerMetadataResponse> meta = (*client)->ServerMetadata();
  if (meta.ok()) {
    ctx.out << absl::StrFormat("server      %s %s at %s\n", meta->name(), meta->version(),
                               ctx.globals.url);
  }
  ctx.out << absl::StrFormat("live        %s\nready       %s\n", r.live ? "yes" : "no",
                             r.ready ? "yes" : "no");
  if (meta.ok()) {
    ctx.out << "extensions  " << absl::StrJoin(meta->extensions(), ", ") << "\n";
  }
  if (!model.empty()) {
    ctx.out << absl::StrFormat("model       %s %s\n", model, r.model_ready ? "ready" : "not ready");
  }
  const std::vector<HostGpu> gpus = ListHostGpus();
  // AMD GPUs with no kernel driver have no render node: sysfs lists them.
  absl::StatusOr<std::vector<PciFunction>> driverless = FindDriverlessAmdGpus(KernelIo::Real());
  if (gpus.empty() && (!driverless.ok() || driverless->empty())) {
    ctx.out
        << "host gpus   none (libdrm, /dev/kgsl-3d0 and driverless AMD PCI GPUs on this host)\n";
  }
  for (const HostGpu& g : gpus) ctx.out << "host gpu    " << DescribeHostGpu(g) << "\n";
  if (driverless.ok()) {
    for (const PciFunction& fn : *driverless) {
      ctx.out << absl::StrFormat(
          "host gpu    AMD %04x:%04x at %s (no kernel driver, backend AM_PCI)\n", fn.vendor,
          fn.device, fn.bdf);
    }
  }
  const bool ok = r.live && r.ready && (model.empty() || r.model_ready);
  return ok ? kExitOk : kExitNotReady;
}

}  // namespace uop::uopctl

// The emulated command-submission path of the AM (KFD/AQL) and QCOM (KGSL)
// drivers, per kernel launch, with a one-work-item kernel that adds 1 to a
// counter (so the kernel itself costs next to nothing and every launch is
// checked: the counter must equal the launches):
//   <dev>_emu_launch    microseconds from Program::Run to its completion on
//                       the host (median of 500): the driver's submission,
//                       the emulated GPU noticing and running the packet,
//                       the completion interrupt/event and the wake-up;
//   <dev>_emu_submit    microseconds per kernel for Queue::Submit of a
//                       command buffer of 1000 launches on an idle queue
//                       (encoded and submitted on the caller's thread: the
//                       driver's own cost of a launch; median of 20);
//   <dev>_emu_stream    microseconds per kernel from that Submit to the
//                       queue's Wait returning (the emulated GPU has run all
//                       1000; median of 20).
// `dev` is am (KFD), am_pci (no kernel driver: the driver's own MEC HQD,
// SDMA ring and page tables, completions polled from mailboxes and the IH
// ring), am_pci_vfio (the same through VFIO, waits asleep in poll() on the
// MSI eventfd), am_pci_vfio_poll (through VFIO with MSI off: the polling
// waits, the baseline for am_pci_vfio) or qcom. Only the emulators run here (docs/am_qcom.md): the
// figures are the drivers' host-side costs plus the emulators' own, not a
// GPU's. The ioctls per launch (from the emulated seam's call counts) are
// printed on stderr.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "drivers/am/emulator/am_emu_device.h"
#include "drivers/am/emulator/am_pci_emu_device.h"
#include "drivers/am/emulator/test_kernels.h"
#include "drivers/qcom/emulator/qcom_emu_device.h"
#include "drivers/qcom/emulator/test_kernels.h"

namespace uop {
namespace {

constexpr int kLaunches = 500;
constexpr int kStream = 1000;
constexpr int kStreamRounds = 20;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

int Fail(const std::string& dev, const char* what, const absl::Status& st) {
  fprintf(stderr, "am_qcom_bench: %s: %s: %s\n", dev.c_str(), what, st.ToString().c_str());
  return 1;
}

absl::StatusOr<int32_t> ReadCounter(Device& d, const DeviceBuffer& b) {
  int32_t v = 0;
  absl::Status st = d.allocator().CopyOut(b, 0, AsWritableBytes(absl::MakeSpan(&v, 1)));
  if (!st.ok()) return st;
  return v;
}

// Runs the three measurements on `d` with its count kernel; 0 on success.
// `fault` reports what the emulator last faulted on (for errors).
int Measure(const std::string& tag, Device& d, const char* source, EmulatedKernelIo& io,
            const std::function<std::string()>& fault) {
  fprintf(stderr, "# %s: %s\n", d.name().c_str(), d.info().description.c_str());
  absl::StatusOr<std::string> bin = d.compiler().Compile("count", source);
  if (!bin.ok()) return Fail(tag, "compile", bin.status());
  absl::StatusOr<std::unique_ptr<Program>> p =
      d.LoadProgram({.name = "count", .buffer_bytes = {4}, .num_vars = 0}, *bin);
  if (!p.ok()) return Fail(tag, "load", p.status());
  absl::StatusOr<DeviceBuffer*> raw = d.allocator().Alloc(4);
  if (!raw.ok()) return Fail(tag, "alloc", raw.status());
  ScopedBuffer counter(*raw);
  const int32_t zero = 0;
  if (absl::Status st = d.allocator().CopyIn(*counter, 0, AsBytes(absl::MakeConstSpan(&zero, 1)));
      !st.ok())
    return Fail(tag, "upload", st);
  DeviceBuffer* bufs[] = {counter.get()};
  int64_t expected = 0;

  std::vector<double> launch;
  const uint64_t ioctls0 = io.CountOf(IoCall::kIoctl);
  for (int i = 0; i < kLaunches + 10; ++i) {
    const absl::Time t0 = absl::Now();
    absl::Status st = (*p)->Run(bufs, {}, LaunchDims{1}, LaunchDims{1});
    if (!st.ok()) return Fail(tag, "run", st);
    if (i >= 10) launch.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
    ++expected;
  }
  const double run_ioctls =
      static_cast<double>(io.CountOf(IoCall::kIoctl) - ioctls0) / (kLaunches + 10);

  absl::StatusOr<std::unique_ptr<Queue>> q = d.CreateQueue("bench");
  if (!q.ok()) return Fail(tag, "queue", q.status());
  auto cb = std::make_shared<CommandBuffer>();
  for (int i = 0; i < kStream; ++i) cb->Exec(p->get(), bufs, {}, LaunchDims{1}, LaunchDims{1});
  std::vector<double> submit, stream;
  const uint64_t ioctls1 = io.CountOf(IoCall::kIoctl);
  for (int r = 0; r < kStreamRounds + 2; ++r) {
    const absl::Time t0 = absl::Now();
    if (absl::Status st = (*q)->Submit(cb); !st.ok()) return Fail(tag, "submit", st);
    const absl::Time t1 = absl::Now();
    if (absl::Status st = (*q)->Wait(absl::Seconds(60)); !st.ok()) {
      fprintf(stderr, "am_qcom_bench: %s: the emulator's fault: %s\n", tag.c_str(),
              fault().c_str());
      return Fail(tag, "wait", st);
    }
    const absl::Time t2 = absl::Now();
    expected += kStream;
    if (r < 2) continue;  // warm-up
    submit.push_back(absl::ToDoubleMicroseconds(t1 - t0) / kStream);
    stream.push_back(absl::ToDoubleMicroseconds(t2 - t0) / kStream);
  }
  const double stream_ioctls =
      static_cast<double>(io.CountOf(IoCall::kIoctl) - ioctls1) / ((kStreamRounds + 2) * kStream);
  absl::StatusOr<int32_t> got = ReadCounter(d, *counter);
  if (!got.ok()) return Fail(tag, "readback", got.status());
  if (*got != expected) {
    fprintf(stderr, "am_qcom_bench: %s: WRONG: the counter is %d after %lld launches\n",
            tag.c_str(), *got, static_cast<long long>(expected));
    return 1;
  }
  fprintf(stderr, "# %s: %lld launches counted; ioctls per launch: %.2f (Run), %.4f (stream)\n",
          tag.c_str(), static_cast<long long>(expected), run_ioctls, stream_ioctls);
  printf("BENCH %s_emu_launch value=%.2f unit=us\n", tag.c_str(), Median(launch));
  printf("BENCH %s_emu_submit value=%.3f unit=us/kernel\n", tag.c_str(), Median(submit));
  printf("BENCH %s_emu_stream value=%.3f unit=us/kernel\n", tag.c_str(), Median(stream));
  fflush(stdout);
  return 0;
}

int Main() {
  int failures = 0;
  {
    absl::StatusOr<EmulatedAm> am = CreateEmulatedAm();
    if (!am.ok()) {
      failures += Fail("am", "emulator", am.status());
    } else {
      failures +=
          Measure("am", *am->device, am_test::kCount, *am->io, [&] { return am->kfd->fault(); });
    }
  }
  {
    absl::StatusOr<EmulatedAmPci> am = CreateEmulatedAmPci();
    if (!am.ok()) {
      failures += Fail("am_pci", "emulator", am.status());
    } else {
      failures += Measure("am_pci", *am->device, am_test::kCount, *am->io, [&] {
        std::vector<EmulatedMec::Fault> f = am->chip->mec().faults();
        return f.empty() ? std::string() : f.back().message;
      });
    }
  }
  for (const bool msi : {true, false}) {
    EmulatedNavi31Config chip;
    chip.vfio = true;
    AmPciGpuOptions bring_up;
    bring_up.vfio_msi = msi;
    const std::string tag = msi ? "am_pci_vfio" : "am_pci_vfio_poll";
    absl::StatusOr<EmulatedAmPci> am = CreateEmulatedAmPci(chip, bring_up);
    if (!am.ok()) {
      failures += Fail(tag, "emulator", am.status());
      continue;
    }
    failures += Measure(tag, *am->device, am_test::kCount, *am->io, [&] {
      std::vector<EmulatedMec::Fault> f = am->chip->mec().faults();
      return f.empty() ? std::string() : f.back().message;
    });
    const AmPciInterface::WaitStats w = am->gpu->wait_stats();
    fprintf(stderr, "# %s: waits woken by an interrupt %llu, by their timeout %llu; naps %llu\n",
            tag.c_str(), static_cast<unsigned long long>(w.interrupt_wakeups),
            static_cast<unsigned long long>(w.timeout_wakeups),
            static_cast<unsigned long long>(w.naps));
  }
  {
    absl::StatusOr<EmulatedQcom> qcom = CreateEmulatedQcom();
    if (!qcom.ok()) {
      failures += Fail("qcom", "emulator", qcom.status());
    } else {
      failures += Measure("qcom", *qcom->device, qcom_test::kCount, *qcom->io,
                          [&] { return qcom->kgsl->fault(); });
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }

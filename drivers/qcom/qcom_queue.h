// QcomEngine: the QueueEngine (drivers/common/device_queue.h) of one KGSL
// draw context.
//
// Launches are encoded as PM4 (qcom_pm4.h) into a batch; Flush copies the
// batch into the context's command ring (a GPU object used circularly) and
// submits it with GPU_COMMAND. The fence is the context's timestamp, widened
// to 64 bits (KGSL's are 32-bit and wrap). Ring space is reused only after
// the fence of the batch that used it retired; waiting for that is bounded by
// the queue's wait timeout. Copies are done by the host after the work before
// them retired (KGSL memory is host-visible); there is no copy engine here.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<QcomEngine> e, QcomEngine::Create(dev, "QCOM:0/compute", t));
//   DeviceQueue q("QCOM:0", "QCOM:0/compute", options, std::move(e));
#ifndef UOP_DRIVERS_QCOM_QCOM_QUEUE_H_
#define UOP_DRIVERS_QCOM_QCOM_QUEUE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/common/device_queue.h"
#include "drivers/common/fenced_ring.h"
#include "drivers/qcom/kgsl.h"
#include "drivers/qcom/qcom_pm4.h"

namespace uop {

class QcomDevice;

class QcomEngine final : public QueueEngine {
 public:
  static absl::StatusOr<std::unique_ptr<QcomEngine>> Create(QcomDevice* device, std::string queue,
                                                            absl::Duration wait_timeout);
  ~QcomEngine() override;

  absl::Status AddExec(const ExecCommand& c) override;
  absl::Status AddCopy(const CopyCommand& c) override;
  bool HasWork() const override;
  absl::StatusOr<uint64_t> Flush() override;
  absl::StatusOr<uint64_t> CompletedFence() override;
  absl::Status WaitFence(uint64_t fence, absl::Duration timeout) override;

  uint32_t context() const { return context_; }

 private:
  QcomEngine(QcomDevice* device, std::string queue, absl::Duration wait_timeout)
      : device_(device), queue_(std::move(queue)), wait_timeout_(wait_timeout) {}
  // Blocks (bounded by the wait timeout) until `fence` retired.
  absl::Status AwaitFence(uint64_t fence, const char* why);
  absl::StatusOr<uint64_t> Submit();

  QcomDevice* const device_;
  const std::string queue_;
  const absl::Duration wait_timeout_;
  uint32_t context_ = 0;
  Kgsl::Memory ring_;

  // Executor only:
  Pm4Writer batch_;
  std::unique_ptr<FencedRing> space_;  // over ring_
  bool unreported_flush_ = false;      // Flush happened inside AddExec/AddCopy

  mutable std::mutex fence_mu_;
  uint64_t last_submitted_ = 0;  // guarded by fence_mu_
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_QCOM_QUEUE_H_

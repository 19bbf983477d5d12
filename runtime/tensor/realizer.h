// Realizer: the seam between the lazy Tensor API and whatever computes its
// graphs (the engine on real devices, or the reference interpreter).
//
// Tensor::Realize() hands the realizer one SINK of work. Every source of the
// sink is an ASSIGN node:
//
//   SINK( ASSIGN(target, value), ... )
//
// * `target` is a view of a BUFFER: the BUFFER itself or a chain of RESHAPE,
//   PERMUTE, SHRINK and FLIP ending in one (no PAD, no EXPAND), with the same
//   shape and dtype as `value`. Its Storage (LookupStorage(BufferArg.id)) may
//   be unrealized (a fresh output) or hold data (an in-place update).
// * `value` is any tensor-level graph (docs/compiler.md "Tensor-level graph").
//   It may read `target`'s buffer; such reads see the contents before this
//   ASSIGN. ASSIGN nodes may also appear inside values: each one runs once,
//   before its users, and its users read the buffer as written by it.
// * Every BUFFER a value reads must be realized.
// * An ASSIGN's arg is an int64 serial number, unique per write request. It
//   only keeps distinct writes distinct nodes; realizers ignore it.
//
// Contract: on OK every target element has been written through its view
// and the target Storage is realized (host_valid and/or device_valid); other
// elements of a partially viewed target keep their contents. Intermediate
// buffers are the realizer's business. On error, targets may be partially
// written; the status names the node and the reason.
//
// Realizers are installed process-wide with Tensor::SetRealizer (tensor.h).
#ifndef UOP_RUNTIME_TENSOR_REALIZER_H_
#define UOP_RUNTIME_TENSOR_REALIZER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/tensor/storage.h"
#include "runtime/uop/uop.h"

namespace uop {

class Realizer {
 public:
  virtual ~Realizer() = default;

  // A short name for messages ("reference", "engine").
  virtual absl::string_view name() const = 0;

  // Computes every ASSIGN of `sink` (see above).
  virtual absl::Status Realize(const UOpPtr& sink) = 0;

  // Makes `storage.host` hold the storage's current contents (host_valid):
  // a no-op when they already are on the host, a read-back from the device
  // otherwise. FailedPrecondition when the storage is not realized.
  virtual absl::Status CopyToHost(Storage& storage) = 0;
};

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_REALIZER_H_

#include "drivers/command_buffer.h"

#include "absl/strings/str_cat.h"
#include "drivers/allocator.h"
#include "runtime/base/status_macros.h"

namespace uop {

CommandBuffer& CommandBuffer::Exec(Program* program, absl::Span<DeviceBuffer* const> bufs,
                                   absl::Span<const int64_t> vars, LaunchDims global,
                                   LaunchDims local) {
  commands_.push_back(
      ExecCommand{program, absl::InlinedVector<DeviceBuffer*, 8>(bufs.begin(), bufs.end()),
                  absl::InlinedVector<int64_t, 4>(vars.begin(), vars.end()), global, local});
  return *this;
}

CommandBuffer& CommandBuffer::Copy(DeviceBuffer* dst, size_t dst_offset, const DeviceBuffer* src,
                                   size_t src_offset, size_t bytes) {
  commands_.push_back(CopyCommand{dst, dst_offset, src, src_offset, bytes});
  return *this;
}

CommandBuffer& CommandBuffer::Wait(Signal* signal, uint64_t value,
                                   std::optional<absl::Duration> timeout) {
  commands_.push_back(WaitCommand{signal, value, timeout});
  return *this;
}

CommandBuffer& CommandBuffer::SignalValue(Signal* signal, uint64_t value) {
  commands_.push_back(SignalCommand{signal, value});
  return *this;
}

absl::Status CommandBuffer::Validate(absl::string_view queue) const {
  for (size_t i = 0; i < commands_.size(); ++i) {
    const std::string where = absl::StrCat("queue '", queue, "' command #", i);
    const Command& c = commands_[i];
    if (const auto* e = std::get_if<ExecCommand>(&c)) {
      if (e->program == nullptr)
        return absl::InvalidArgumentError(where + ": exec of null program");
      RETURN_IF_ERROR(
          ValidateLaunch(e->program->desc(), where, e->bufs, e->vars, e->global, e->local));
    } else if (const auto* cp = std::get_if<CopyCommand>(&c)) {
      if (cp->dst == nullptr || cp->src == nullptr) {
        return absl::InvalidArgumentError(where + ": copy with a null buffer");
      }
      RETURN_IF_ERROR(CheckBufferRange(*cp->dst, cp->dst_offset, cp->bytes, "copy (dst)", where));
      RETURN_IF_ERROR(CheckBufferRange(*cp->src, cp->src_offset, cp->bytes, "copy (src)", where));
      const bool host = cp->dst->host_ptr() != nullptr && cp->src->host_ptr() != nullptr;
      if (!host && cp->dst->owner() != cp->src->owner()) {
        return absl::InvalidArgumentError(
            where + ": copy between allocators needs two host-visible buffers");
      }
    } else if (const auto* w = std::get_if<WaitCommand>(&c)) {
      if (w->signal == nullptr) return absl::InvalidArgumentError(where + ": wait on null signal");
      if (w->timeout.has_value()) RETURN_IF_ERROR(ValidateWaitTimeout(*w->timeout, where));
    } else if (const auto* s = std::get_if<SignalCommand>(&c)) {
      if (s->signal == nullptr) return absl::InvalidArgumentError(where + ": null signal");
    }
  }
  return absl::OkStatus();
}

}  // namespace uop

// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr.
//
// Debian's abseil (20220623) ships no status macros, so they live here once.
//
//   absl::StatusOr<int> Parse(absl::string_view s);
//   absl::Status Use() {
//     ASSIGN_OR_RETURN(int n, Parse("42"));
//     RETURN_IF_ERROR(Check(n));
//     return absl::OkStatus();
//   }
#ifndef UOP_RUNTIME_BASE_STATUS_MACROS_H_
#define UOP_RUNTIME_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define UOP_CONCAT_INNER_(a, b) a##b
#define UOP_CONCAT_(a, b) UOP_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status uop_status_ = (expr);       \
    if (!uop_status_.ok()) return uop_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  UOP_ASSIGN_OR_RETURN_IMPL_(UOP_CONCAT_(uop_statusor_, __LINE__), lhs, expr)

#define UOP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#endif  // UOP_RUNTIME_BASE_STATUS_MACROS_H_

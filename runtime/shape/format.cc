#include "runtime/shape/format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop {

std::string FormatDims(absl::Span<const int64_t> dims) {
  // A one-element tuple keeps its trailing comma, as Python prints it.
  return absl::StrCat("(", absl::StrJoin(dims, ", "), dims.size() == 1 ? ",)" : ")");
}

std::string FormatIntervals(absl::Span<const std::pair<int64_t, int64_t>> intervals) {
  std::string out = "(";
  for (size_t i = 0; i < intervals.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", "(", intervals[i].first, ", ", intervals[i].second, ")");
  }
  absl::StrAppend(&out, intervals.size() == 1 ? ",)" : ")");
  return out;
}

}  // namespace uop

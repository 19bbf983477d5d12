// Python-tuple formatting of shapes and masks for error messages and
// ToString: "(2, 3)", "(4,)", "()", "((0, 2), (1, 3))". The same spelling as
// tinygrad's reprs, so dumps compare side by side.
#ifndef UOP_RUNTIME_SHAPE_FORMAT_H_
#define UOP_RUNTIME_SHAPE_FORMAT_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/types/span.h"

namespace uop {

std::string FormatDims(absl::Span<const int64_t> dims);
std::string FormatIntervals(absl::Span<const std::pair<int64_t, int64_t>> intervals);

}  // namespace uop

#endif  // UOP_RUNTIME_SHAPE_FORMAT_H_

#include "runtime/uop/ops.h"

namespace uop {
namespace {

struct OpInfo {
  absl::string_view name;
  uint32_t traits;
};

constexpr OpInfo kOpInfo[] = {
#define UOP_X(name, str, traits) {str, static_cast<uint32_t>(traits)},
    UOP_OPS(UOP_X)
#undef UOP_X
};
static_assert(sizeof(kOpInfo) / sizeof(kOpInfo[0]) == kNumOps, "op table out of sync");
static_assert(kNumOps <= 128, "Op is stored in 7 bits of the matcher's op sets");

}  // namespace

absl::string_view OpName(Op op) { return kOpInfo[static_cast<int>(op)].name; }
uint32_t OpTraits(Op op) { return kOpInfo[static_cast<int>(op)].traits; }

}  // namespace uop

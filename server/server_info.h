// What uopd says about itself: its name, version and protocol extensions.
//
// The one place the version lives; ServerMetadata, --version and the
// uop_build_info metric all read it from here.
#ifndef UOP_SERVER_SERVER_INFO_H_
#define UOP_SERVER_SERVER_INFO_H_

#include <array>

#include "absl/strings/string_view.h"

namespace uop::server {

inline constexpr absl::string_view kServerName = "uop";
inline constexpr absl::string_view kServerVersion = "0.1.0";

// KServe v2 / Triton extensions uopd implements, reported by ServerMetadata;
// an extension is listed only when its RPCs really work.
inline constexpr std::array<absl::string_view, 7> kServerExtensions = {
    "model_repository", "model_configuration", "system_shared_memory", "binary_tensor_data",
    "parameters",       "statistics",          "schedule_policy"};

}  // namespace uop::server

#endif  // UOP_SERVER_SERVER_INFO_H_

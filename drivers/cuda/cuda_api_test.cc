// The CUDA backend on machines without the driver (CI): loading fails with
// one clear error and the registry offers no CUDA device. With a GPU the
// same checks see the device instead.
#include "drivers/cuda/cuda_api.h"

#include "drivers/cuda/cuda_device.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"

namespace uop::cuda {
namespace {

TEST(CudaApi, MissingLibraryIsOneClearError) {
  absl::StatusOr<const CudaApi*> api = CudaApi::LoadFrom("/nonexistent/libcuda.so.1");
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(api.status().message().find("/nonexistent/libcuda.so.1"), std::string::npos)
      << api.status();
  EXPECT_NE(api.status().message().find("cannot be loaded"), std::string::npos) << api.status();
}

TEST(CudaApi, LibraryWithoutTheDriverApiIsRefused) {
  absl::StatusOr<const CudaApi*> api = CudaApi::LoadFrom("libm.so.6");
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(api.status().message().find("lacks cuInit"), std::string::npos) << api.status();
}

TEST(NvrtcApi, MissingLibraryIsOneClearError) {
  absl::StatusOr<const NvrtcApi*> api = NvrtcApi::LoadFrom("/nonexistent/libnvrtc.so");
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(NvrtcApi::LoadFrom("libm.so.6").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CudaDevice, OfferedExactlyWhenAvailable) {
  const absl::Status avail = CudaDevice::Availability();
  std::vector<std::string> devices = DeviceRegistry::Global().AvailableDevices();
  const bool offered = std::find(devices.begin(), devices.end(), "CUDA:0") != devices.end();
  EXPECT_EQ(offered, avail.ok()) << avail;
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("CUDA");
  EXPECT_EQ(d.ok(), avail.ok()) << d.status();
  if (avail.ok()) return;
  // Without a driver: a clear reason, and a direct Create repeats it.
  EXPECT_FALSE(avail.message().empty());
  EXPECT_EQ(CudaDevice::Count(), 0);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::unique_ptr<CudaDevice>> created = CudaDevice::Create(0);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status(), avail);
}

}  // namespace
}  // namespace uop::cuda

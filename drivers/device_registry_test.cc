#include "drivers/device_registry.h"

#include "gtest/gtest.h"

namespace uop {
namespace {

// A minimal device: only its info matters to the registry.
class FakeDevice final : public Device {
 public:
  explicit FakeDevice(std::string name) { info_.name = std::move(name); }
  const DeviceInfo& info() const override { return info_; }
  Allocator& allocator() override { std::abort(); }
  Compiler& compiler() override { std::abort(); }
  absl::StatusOr<std::unique_ptr<Program>> LoadProgram(const ProgramDesc&,
                                                       absl::string_view) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::unique_ptr<Queue>> CreateQueue(absl::string_view,
                                                     const QueueOptions&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::unique_ptr<Signal>> CreateSignal(absl::string_view, uint64_t) override {
    return absl::UnimplementedError("fake");
  }

 private:
  DeviceInfo info_;
};

BackendRegistration Fake(std::string prefix, int count, int* created = nullptr) {
  return BackendRegistration{
      prefix, kDeviceInterfaceVersion, [count] { return count; },
      [prefix, created](int index) -> absl::StatusOr<std::unique_ptr<Device>> {
        if (created != nullptr) ++*created;
        return std::make_unique<FakeDevice>(prefix + ":" + std::to_string(index));
      }};
}

TEST(DeviceRegistry, FindsByNameCaseInsensitivelyAndCreatesOnce) {
  DeviceRegistry r;
  int created = 0;
  ASSERT_TRUE(r.RegisterBackend(Fake("CPU", 1, &created)).ok());
  absl::StatusOr<Device*> a = r.Get("CPU");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->name(), "CPU:0");
  EXPECT_EQ(*r.Get("CPU:0"), *a);
  EXPECT_EQ(*r.Get("cpu"), *a);
  EXPECT_EQ(created, 1);
}

TEST(DeviceRegistry, UnknownNamesListAvailableDevices) {
  DeviceRegistry r;
  ASSERT_TRUE(r.RegisterBackend(Fake("CPU", 1)).ok());
  ASSERT_TRUE(r.RegisterBackend(Fake("NULL", 3)).ok());
  absl::StatusOr<Device*> d = r.Get("CUDA");
  ASSERT_EQ(d.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("'CUDA'"), std::string::npos) << d.status();
  EXPECT_NE(d.status().message().find("CPU:0, NULL:0..2"), std::string::npos) << d.status();
  EXPECT_EQ(r.Get("CPU:1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*r.Get("NULL:2"))->name(), "NULL:2");
  EXPECT_EQ(r.AvailableDevices(),
            (std::vector<std::string>{"CPU:0", "NULL:0", "NULL:1", "NULL:2"}));
}

TEST(DeviceRegistry, RejectsMalformedNames) {
  DeviceRegistry r;
  ASSERT_TRUE(r.RegisterBackend(Fake("CPU", 1)).ok());
  for (const char* bad : {"CPU:", "CPU:x", "CPU:-1", "CPU:+0", "CPU:0:1"}) {
    EXPECT_EQ(r.Get(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(DeviceRegistry, RejectsDuplicateBadPrefixAndWrongVersion) {
  DeviceRegistry r;
  ASSERT_TRUE(r.RegisterBackend(Fake("CPU", 1)).ok());
  EXPECT_EQ(r.RegisterBackend(Fake("CPU", 1)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.RegisterBackend(Fake("cpu2", 1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.RegisterBackend(Fake("A:B", 1)).code(), absl::StatusCode::kInvalidArgument);
  BackendRegistration old = Fake("OLD", 1);
  old.interface_version = kDeviceInterfaceVersion - 1;
  EXPECT_EQ(r.RegisterBackend(old).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DeviceRegistry, CreationErrorsNameTheDevice) {
  DeviceRegistry r;
  ASSERT_TRUE(
      r.RegisterBackend(BackendRegistration{"BAD", kDeviceInterfaceVersion, [] { return 1; },
                                            [](int) -> absl::StatusOr<std::unique_ptr<Device>> {
                                              return absl::UnavailableError("no hardware");
                                            }})
          .ok());
  absl::Status st = r.Get("BAD").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("creating device BAD:0: no hardware"), std::string::npos) << st;
}

}  // namespace
}  // namespace uop

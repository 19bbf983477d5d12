#include "client/uoprun/realtime.h"

#include <thread>

#include "gtest/gtest.h"

namespace uop::uoprun {
namespace {

TEST(Realtime, ParsesCpuLists) {
  EXPECT_EQ(*ParseCpuList("2,3,8-10"), (std::vector<int>{2, 3, 8, 9, 10}));
  EXPECT_EQ(*ParseCpuList("0"), (std::vector<int>{0}));
  for (const char* bad : {"", "a", "3-1", "-1", "1,,2", "1-", "99999"}) {
    EXPECT_FALSE(ParseCpuList(bad).ok()) << bad;
  }
}

TEST(Realtime, PinsAThreadAndReadsItBack) {
  const pid_t self = CurrentThreadId();
  absl::StatusOr<std::vector<int>> before = ThreadAffinity(self);
  ASSERT_TRUE(before.ok());
  ASSERT_FALSE(before->empty());
  ASSERT_TRUE(SetThreadAffinity(self, {before->front()}).ok());
  EXPECT_EQ(*ThreadAffinity(self), (std::vector<int>{before->front()}));
  ASSERT_TRUE(SetThreadAffinity(self, *before).ok());
  EXPECT_EQ(SetThreadAffinity(self, {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetThreadAffinity(self, {-3}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Realtime, ListsThisProcessThreads) {
  std::thread t([] {});
  std::vector<pid_t> tids = ProcessThreadIds();
  t.join();
  EXPECT_GE(tids.size(), 1u);
  EXPECT_NE(std::find(tids.begin(), tids.end(), CurrentThreadId()), tids.end());
}

TEST(Realtime, FifoIsSetOrRefusedWithAReason) {
  // Run on a helper thread so the test process keeps normal scheduling.
  absl::Status st;
  bool fifo = false;
  std::thread t([&] {
    st = SetThreadRealtime(CurrentThreadId(), 10);
    fifo = IsThreadRealtime(CurrentThreadId());
  });
  t.join();
  if (st.ok()) {
    EXPECT_TRUE(fifo);
  } else {
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
    EXPECT_NE(st.message().find("CAP_SYS_NICE"), std::string::npos);
    EXPECT_FALSE(fifo);
  }
  EXPECT_EQ(SetThreadRealtime(CurrentThreadId(), 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetThreadRealtime(CurrentThreadId(), 100).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop::uoprun

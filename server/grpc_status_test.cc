#include "server/grpc_status.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

namespace uop::server {
namespace {

TEST(ToGrpcStatus, OkIsOkWithEmptyMessage) {
  grpc::Status s = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.error_message(), "");
}

TEST(ToGrpcStatus, EveryCanonicalCodeMapsToTheSameGrpcCode) {
  const std::vector<std::pair<absl::Status, grpc::StatusCode>> cases = {
      {absl::CancelledError("m"), grpc::StatusCode::CANCELLED},
      {absl::UnknownError("m"), grpc::StatusCode::UNKNOWN},
      {absl::InvalidArgumentError("m"), grpc::StatusCode::INVALID_ARGUMENT},
      {absl::DeadlineExceededError("m"), grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::NotFoundError("m"), grpc::StatusCode::NOT_FOUND},
      {absl::AlreadyExistsError("m"), grpc::StatusCode::ALREADY_EXISTS},
      {absl::PermissionDeniedError("m"), grpc::StatusCode::PERMISSION_DENIED},
      {absl::ResourceExhaustedError("m"), grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::FailedPreconditionError("m"), grpc::StatusCode::FAILED_PRECONDITION},
      {absl::AbortedError("m"), grpc::StatusCode::ABORTED},
      {absl::OutOfRangeError("m"), grpc::StatusCode::OUT_OF_RANGE},
      {absl::UnimplementedError("m"), grpc::StatusCode::UNIMPLEMENTED},
      {absl::InternalError("m"), grpc::StatusCode::INTERNAL},
      {absl::UnavailableError("m"), grpc::StatusCode::UNAVAILABLE},
      {absl::DataLossError("m"), grpc::StatusCode::DATA_LOSS},
      {absl::UnauthenticatedError("m"), grpc::StatusCode::UNAUTHENTICATED},
  };
  ASSERT_EQ(cases.size(), 16u);  // every non-OK canonical code
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(ToGrpcStatus(in).error_code(), want) << in;
  }
}

TEST(ToGrpcStatus, KeepsTheMessage) {
  grpc::Status s = ToGrpcStatus(absl::NotFoundError("model 'resnet' not found"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "model 'resnet' not found");
}

TEST(ToGrpcStatus, NonCanonicalCodeBecomesUnknown) {
  absl::Status odd(static_cast<absl::StatusCode>(99), "odd");
  grpc::Status s = ToGrpcStatus(odd);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(s.error_message(), "odd");
}

TEST(GrpcCodeName, NamesCodesLikeGrpcDoes) {
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNIMPLEMENTED), "UNIMPLEMENTED");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(42)), "UNKNOWN");
}

TEST(GrpcCodeName, EveryCodeHasItsOwnName) {
  std::set<absl::string_view> names;
  for (int code = 0; code <= 16; ++code) {
    names.insert(GrpcCodeName(static_cast<grpc::StatusCode>(code)));
  }
  EXPECT_EQ(names.size(), 17u);
}

}  // namespace
}  // namespace uop::server

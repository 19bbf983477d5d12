#include "runtime/onnx/registry.h"

#include "gtest/gtest.h"
#include "runtime/onnx/op_context.h"

namespace uop::onnx_import {
namespace {

absl::Status V1(OpContext&) { return absl::OkStatus(); }
absl::Status V13(OpContext&) { return absl::OkStatus(); }

TEST(OpRegistry, PicksTheNewestHandlerNotAboveTheOpset) {
  OpRegistry r;
  r.Add("", "Thing", 13, V13);
  r.Add("ai.onnx", "Thing", 1, V1);
  EXPECT_EQ(r.Find("", "Thing", 1)->fn, V1);
  EXPECT_EQ(r.Find("", "Thing", 12)->fn, V1);
  EXPECT_EQ(r.Find("ai.onnx", "Thing", 13)->fn, V13);
  EXPECT_EQ(r.Find("", "Thing", 21)->fn, V13);
  EXPECT_EQ(r.Find("", "Thing", 0), nullptr);
  EXPECT_EQ(r.Find("com.example", "Thing", 13), nullptr);
  EXPECT_TRUE(r.Knows("ai.onnx", "Thing"));
  EXPECT_FALSE(r.Knows("", "Other"));
}

TEST(OpRegistry, GlobalCoversTheNodeSuiteOperators) {
  const OpRegistry& r = OpRegistry::Global();
  for (const char* op : {"Conv", "LSTM", "Loop", "Resize", "NonMaxSuppression", "QLinearConv",
                         "Einsum", "STFT", "StringNormalizer", "SequenceMap", "Unique"})
    EXPECT_NE(r.Find("", op, 17), nullptr) << op;
  EXPECT_NE(r.Find(kTrainingDomain, "Adam", 1), nullptr);
  EXPECT_NE(r.Find(kMsDomain, "FusedMatMul", 1), nullptr);
  EXPECT_FALSE(r.Find(kOnnxDomain, "Random", 1) != nullptr);
  EXPECT_GT(r.List().size(), 180u);
}

}  // namespace
}  // namespace uop::onnx_import

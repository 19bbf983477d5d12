#include "runtime/nn/state_dict.h"

#include <cstdio>

#include "gtest/gtest.h"
#include "runtime/nn/layers.h"
#include "runtime/nn/norm.h"
#include "runtime/nn/optim.h"
#include "runtime/nn/safetensors.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop::nn {
namespace {

struct Net : Module {
  explicit Net(uint64_t seed) : fc1(3, 4, {.seed = seed}), fc2(4, 2, {.seed = seed + 1}) {}
  Linear fc1, fc2;
  BatchNorm bn{4};
  Tensor operator()(const Tensor& x) { return fc2(bn(fc1(x), false).Relu()); }
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    fc1.Collect(p + "fc1.", params, buffers);
    bn.Collect(p + "bn.", params, buffers);
    fc2.Collect(p + "fc2.", params, buffers);
  }
};

std::vector<std::vector<double>> AllValues(Module& m) {
  std::vector<std::vector<double>> out;
  for (const NamedTensor& t : m.State()) out.push_back(Values(*t.tensor));
  return out;
}

TEST(StateDict, RoundTripsThroughAFile) {
  Net a(1), b(7);
  // Make the running statistics non-trivial.
  a.bn.running_mean.Assign(Tensor::FromVector<float>({1, 2, 3, 4}));
  ASSERT_TRUE(RealizeState(a).ok());
  ASSERT_NE(AllValues(a), AllValues(b));
  std::string path = ::testing::TempDir() + "/net.safetensors";
  ASSERT_TRUE(SaveStateDict(a, path).ok());
  ASSERT_TRUE(LoadStateDict(b, path).ok());
  EXPECT_EQ(AllValues(a), AllValues(b));
  Tensor x = Tensor::FromVector(RandomFloats(6, 3), {2, 3});
  EXPECT_EQ(Values(a(x)), Values(b(x)));
  absl::StatusOr<SafetensorsFile> f = LoadSafetensors(path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tensors[0].name, "fc1.weight");
  EXPECT_EQ(f->tensors.size(), 8u);
  std::remove(path.c_str());
}

TEST(StateDict, LoadsInPlaceIntoOptimizerPackedParameters) {
  Net a(1), b(5);
  absl::StatusOr<std::unique_ptr<Sgd>> opt = Sgd::Create(b.ParameterPointers());
  ASSERT_TRUE(opt.ok());
  absl::StatusOr<std::vector<uint8_t>> bytes = StateDictBytes(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_TRUE(LoadStateDictBytes(b, *bytes).ok());
  // The optimizer's flat buffer holds the loaded weights: b's tensors are still its views.
  std::vector<double> flat = Values((*opt)->flat_parameters());
  std::vector<double> w = Values(a.fc1.weight);
  EXPECT_EQ(std::vector<double>(flat.begin(), flat.begin() + w.size()), w);
  EXPECT_EQ(AllValues(a), AllValues(b));
}

TEST(StateDict, RejectsMismatchesWithoutChangingAnything) {
  Net a(1), b(2);
  ASSERT_TRUE(RealizeState(b).ok());
  std::vector<std::vector<double>> before = AllValues(b);
  auto bytes_of = [&](std::vector<std::pair<std::string, Tensor>> entries) {
    return *SerializeSafetensors(entries);
  };
  std::vector<std::pair<std::string, Tensor>> entries;
  for (const NamedTensor& t : a.State()) entries.push_back({t.name, *t.tensor});

  std::vector<std::pair<std::string, Tensor>> missing(entries.begin(), entries.end() - 1);
  EXPECT_EQ(LoadStateDictBytes(b, bytes_of(missing)).message(),
            "state dict: missing \"bn.running_var\"");
  std::vector<std::pair<std::string, Tensor>> extra = entries;
  extra.push_back({"head.weight", Tensor::Zeros({1})});
  EXPECT_EQ(LoadStateDictBytes(b, bytes_of(extra)).message(),
            "state dict: unexpected \"head.weight\" (the module has no such entry)");
  std::vector<std::pair<std::string, Tensor>> reshaped = entries;
  reshaped[0].second = Tensor::Zeros({3, 4});
  EXPECT_EQ(LoadStateDictBytes(b, bytes_of(reshaped)).message(),
            "state dict: \"fc1.weight\" is float32 (3, 4) in the file, float32 (4, 3) in the "
            "module");
  std::vector<std::pair<std::string, Tensor>> retyped = entries;
  retyped[1].second = Tensor::Zeros({4}, DType::Float64());
  EXPECT_NE(LoadStateDictBytes(b, bytes_of(retyped)).message().find("float64 (4,) in the file"),
            std::string::npos);
  EXPECT_FALSE(LoadStateDictBytes(b, std::vector<uint8_t>{1, 2}).ok());
  EXPECT_EQ(AllValues(b), before) << "failed loads change nothing";
  // Not strict: extra entries are ignored.
  EXPECT_TRUE(LoadStateDictBytes(b, bytes_of(extra), /*strict=*/false).ok());
  EXPECT_EQ(AllValues(b), AllValues(a));
}

}  // namespace
}  // namespace uop::nn

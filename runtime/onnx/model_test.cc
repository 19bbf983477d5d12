#include "runtime/onnx/model.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/onnx/registry.h"
#include "runtime/onnx/test_model_builder.h"

namespace uop::onnx_import {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
constexpr int kFloat = onnx::TensorProto::FLOAT;

TEST(LoadModel, ResolvesNamesToIdsAndOpsets) {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {2, 3});
  b.Initializer("w", HostTensor::FromVector<float>({1, 2, 3}, {3}));
  b.Node("Add", {"x", "w"}, {"s"}, "add");
  b.Node("Relu", {"s"}, {"y"}, "relu");
  b.Output("y");
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(b.Bytes());
  ASSERT_TRUE(m.ok()) << m.status();
  const ModelDef& def = **m;
  EXPECT_EQ(def.opsets.at(""), 13);
  ASSERT_EQ(def.graph.nodes.size(), 2u);
  const Node& add = def.graph.nodes[0];
  EXPECT_EQ(def.value_names[add.inputs[0]], "x");
  EXPECT_EQ(def.value_names[add.inputs[1]], "w");
  EXPECT_EQ(def.graph.nodes[1].inputs[0], add.outputs[0]);
  EXPECT_EQ(def.graph.outputs[0].id, def.graph.nodes[1].outputs[0]);
  ASSERT_NE(add.handler, nullptr);
  EXPECT_EQ(add.handler->op_type, "Add");
  ASSERT_EQ(def.graph.initializers.size(), 1u);
  EXPECT_EQ(def.graph.inputs[0].type.dims[1].value, 3);
}

TEST(LoadModel, MalformedAndTruncatedBytesAreClearErrors) {
  EXPECT_THAT(LoadModelBytes("definitely not a model").status().message(),
              HasSubstr("not a valid ONNX model"));
  TestModelBuilder b;
  b.Input("x", kFloat, {4});
  b.Node("Relu", {"x"}, {"y"});
  b.Output("y");
  const std::string bytes = b.Bytes();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(bytes.substr(0, cut));
    // Either a parse error or a graph that fails validation; never a crash.
    if (m.ok()) continue;
    EXPECT_NE(m.status().code(), absl::StatusCode::kOk);
  }
  EXPECT_THAT(LoadModelBytes("").status().message(), HasSubstr("no graph"));
}

TEST(LoadModel, SizeLimitIsEnforced) {
  TestModelBuilder b;
  b.Initializer("big", HostTensor::FromVector<float>(std::vector<float>(1000), {1000}));
  b.Output("big");
  LoadOptions o;
  o.max_model_bytes = 100;
  EXPECT_THAT(LoadModelBytes(b.Bytes(), o).status().message(), HasSubstr("over the limit"));
}

TEST(LoadModel, ListsEveryUnsupportedOperatorInOneError) {
  TestModelBuilder b(13);
  b.Input("x", kFloat, {4});
  b.Node("FancyOp", {"x"}, {"a"}, "first");
  b.Node("FancyOp", {"a"}, {"b"}, "second");
  onnx::NodeProto& custom = b.Node("Widget", {"b"}, {"c"}, "third");
  custom.set_domain("com.example");
  b.Node("Relu", {"c"}, {"y"});
  b.Output("y");
  auto* o = b.proto().add_opset_import();
  o->set_domain("com.example");
  o->set_version(2);
  absl::Status st = LoadModelBytes(b.Bytes()).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(st.message(),
              AllOf(HasSubstr("FancyOp (domain 'ai.onnx', opset 13) at first, second"),
                    HasSubstr("Widget (domain 'com.example', opset 2) at third")));
}

TEST(LoadModel, RejectsUndefinedAndDuplicateValues) {
  TestModelBuilder b;
  b.Input("x", kFloat, {4});
  b.Node("Relu", {"nope"}, {"y"}, "r");
  b.Output("y");
  EXPECT_THAT(LoadModelBytes(b.Bytes()).status().message(),
              AllOf(HasSubstr("Relu node 'r'"), HasSubstr("undefined value 'nope'")));

  TestModelBuilder d;
  d.Input("x", kFloat, {4});
  d.Node("Relu", {"x"}, {"y"});
  d.Node("Neg", {"x"}, {"y"});
  d.Output("y");
  EXPECT_THAT(LoadModelBytes(d.Bytes()).status().message(), HasSubstr("defined more than once"));
}

TEST(LoadModel, SortsNodesAndRejectsCycles) {
  TestModelBuilder b;
  b.Input("x", kFloat, {4});
  b.Node("Neg", {"a"}, {"y"}, "second");
  b.Node("Relu", {"x"}, {"a"}, "first");
  b.Output("y");
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(b.Bytes());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->graph.nodes[0].name, "first");

  TestModelBuilder c;
  c.Input("x", kFloat, {4});
  c.Node("Add", {"x", "b"}, {"a"});
  c.Node("Neg", {"a"}, {"b"});
  c.Output("b");
  EXPECT_THAT(LoadModelBytes(c.Bytes()).status().message(), HasSubstr("cycle"));
}

TEST(LoadModel, SubgraphsSeeOuterValues) {
  TestModelBuilder b(13);
  b.Input("c", onnx::TensorProto::BOOL, {});
  b.Input("x", kFloat, {2});
  onnx::GraphProto then_g, else_g;
  then_g.set_name("then");
  auto* n = then_g.add_node();
  n->set_op_type("Neg");
  n->add_input("x");  // outer value
  n->add_output("t");
  then_g.add_output()->set_name("t");
  else_g.set_name("else");
  auto* e = else_g.add_node();
  e->set_op_type("Identity");
  e->add_input("x");
  e->add_output("u");
  else_g.add_output()->set_name("u");
  onnx::NodeProto& node = b.Node("If", {"c"}, {"y"});
  TestModelBuilder::AttrGraph(node, "then_branch", then_g);
  TestModelBuilder::AttrGraph(node, "else_branch", else_g);
  b.Output("y");
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(b.Bytes());
  ASSERT_TRUE(m.ok()) << m.status();
  const Graph& then = *(*m)->graph.nodes[0].FindAttr("then_branch")->g;
  EXPECT_EQ(then.nodes[0].inputs[0], (*m)->graph.inputs[1].id);
}

TEST(LoadModel, InlinesModelLocalFunctionsWithAttributeReferences) {
  TestModelBuilder b(13);
  auto* fo = b.proto().add_opset_import();
  fo->set_domain("local");
  fo->set_version(1);
  onnx::FunctionProto* f = b.proto().add_functions();
  f->set_name("ScaledRelu");
  f->set_domain("local");
  f->add_input("a");
  f->add_output("out");
  f->add_attribute("alpha");
  auto* op = f->add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* n1 = f->add_node();
  n1->set_op_type("LeakyRelu");
  n1->add_input("a");
  n1->add_output("out");
  auto* ref = n1->add_attribute();
  ref->set_name("alpha");
  ref->set_type(onnx::AttributeProto::FLOAT);
  ref->set_ref_attr_name("alpha");
  b.Input("x", kFloat, {3});
  onnx::NodeProto& call = b.Node("ScaledRelu", {"x"}, {"y"}, "call");
  call.set_domain("local");
  TestModelBuilder::AttrFloat(call, "alpha", 0.25f);
  b.Output("y");
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(b.Bytes());
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ((*m)->graph.nodes.size(), 1u);
  const Node& leaky = (*m)->graph.nodes[0];
  EXPECT_EQ(leaky.op_type, "LeakyRelu");
  EXPECT_EQ(leaky.FindAttr("alpha")->f, 0.25f);
  EXPECT_EQ(leaky.outputs[0], (*m)->graph.outputs[0].id);
}

TEST(LoadModel, OpsWithoutAHandlerUseTheSchemaFunctionBody) {
  TestModelBuilder b(17);
  b.Input("n", onnx::TensorProto::INT64, {});
  b.Node("HannWindow", {"n"}, {"w"}, "window");
  b.Output("w");
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(b.Bytes());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_GT((*m)->graph.nodes.size(), 1u);
  for (const Node& n : (*m)->graph.nodes) EXPECT_NE(n.op_type, "HannWindow");
}

TEST(LoadModel, ExternalDataFromTheModelsFolder) {
  char tmpl[] = "/tmp/uop_model_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::vector<float> v = {1, 2, 3, 4};
  std::ofstream(dir + "/w.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(v.data()), 16);
  TestModelBuilder b;
  onnx::TensorProto* t = b.graph().add_initializer();
  t->set_name("w");
  t->set_data_type(kFloat);
  t->add_dims(4);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = t->add_external_data();
  e->set_key("location");
  e->set_value("w.bin");
  b.Output("w");
  std::ofstream(dir + "/model.onnx", std::ios::binary) << b.Bytes();
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelFile(dir + "/model.onnx");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->graph.initializers[0].value->AsDouble(3), 4);
  // The same bytes without a folder may not read files.
  EXPECT_THAT(LoadModelBytes(b.Bytes()).status().message(), HasSubstr("not allowed"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace uop::onnx_import

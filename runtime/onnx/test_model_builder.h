// TestModelBuilder: builds small ONNX ModelProtos in tests.
//
//   TestModelBuilder b(/*opset=*/17);
//   b.Input("x", onnx::TensorProto::FLOAT, {2, -1});     // -1: symbolic "d1"
//   onnx::NodeProto& n = b.Node("Relu", {"x"}, {"y"});
//   b.Output("y");
//   std::string bytes = b.Bytes();
#ifndef UOP_RUNTIME_ONNX_TEST_MODEL_BUILDER_H_
#define UOP_RUNTIME_ONNX_TEST_MODEL_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"
#include "runtime/onnx/host_value.h"
#include "runtime/onnx/tensor_proto.h"

namespace uop::onnx_import {

class TestModelBuilder {
 public:
  explicit TestModelBuilder(int opset = 17) {
    proto_.set_ir_version(8);
    auto* o = proto_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    proto_.mutable_graph()->set_name("test");
  }

  // dims: >= 0 fixed, -1 symbolic (named by `symbols` in order, default d<i>).
  void Input(const std::string& name, int elem_type, const std::vector<int64_t>& dims,
             const std::vector<std::string>& symbols = {}) {
    SetType(proto_.mutable_graph()->add_input(), name, elem_type, dims, symbols);
  }
  void Output(const std::string& name, int elem_type = 0) {
    auto* vi = proto_.mutable_graph()->add_output();
    vi->set_name(name);
    if (elem_type) vi->mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
  }
  void Initializer(const std::string& name, const HostTensor& t) {
    *proto_.mutable_graph()->add_initializer() = TensorToProto(t, name);
  }
  onnx::NodeProto& Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    onnx::NodeProto* n = proto_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const std::string& i : inputs) n->add_input(i);
    for (const std::string& o : outputs) n->add_output(o);
    return *n;
  }
  static void AttrInt(onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void AttrInts(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void AttrFloat(onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void AttrString(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void AttrTensor(onnx::NodeProto& n, const std::string& name, const HostTensor& t) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = TensorToProto(t);
  }
  static void AttrGraph(onnx::NodeProto& n, const std::string& name, const onnx::GraphProto& g) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = g;
  }

  onnx::ModelProto& proto() { return proto_; }
  onnx::GraphProto& graph() { return *proto_.mutable_graph(); }
  std::string Bytes() const { return proto_.SerializeAsString(); }

  static void SetType(onnx::ValueInfoProto* vi, const std::string& name, int elem_type,
                      const std::vector<int64_t>& dims, const std::vector<std::string>& symbols) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    auto* shape = tt->mutable_shape();
    size_t sym = 0;
    for (size_t i = 0; i < dims.size(); ++i) {
      auto* d = shape->add_dim();
      if (dims[i] >= 0) {
        d->set_dim_value(dims[i]);
      } else {
        d->set_dim_param(sym < symbols.size() ? symbols[sym++] : "d" + std::to_string(i));
      }
    }
  }

 private:
  onnx::ModelProto proto_;
};

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_TEST_MODEL_BUILDER_H_

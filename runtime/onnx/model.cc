#include "runtime/onnx/model.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/coded_stream.h"
#include "onnx/onnx_pb.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/registry.h"
#include "runtime/onnx/schema_functions.h"
#include "runtime/onnx/tensor_proto.h"

namespace uop::onnx_import {
namespace {

// Names visible in one graph (or function body), chained to the enclosing one.
struct Scope {
  const Scope* parent = nullptr;
  absl::flat_hash_map<std::string, int> names;

  // Whether `name` is bound here or in an enclosing scope; its id (kNoValue
  // for an omitted function argument) goes to *id.
  bool Lookup(const std::string& name, int* id) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->names.find(name);
      if (it != s->names.end()) {
        *id = it->second;
        return true;
      }
    }
    return false;
  }
};

// A function body being inlined: how its formal names map to the call.
struct FunctionFrame {
  const onnx::NodeProto* call = nullptr;
  absl::flat_hash_map<std::string, int> output_ids;  // formal output -> caller's id
  absl::flat_hash_map<std::string, int> opsets;      // the function's own imports
  std::string prefix;                                // for value names
};

struct Unsupported {
  std::string op, domain, node;
  int opset;
};

absl::Status Invalid(const std::string& where, absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", msg));
}

std::string NodeLabel(const onnx::NodeProto& n) {
  return n.name().empty() ? absl::StrCat(n.op_type(), " node")
                          : absl::StrCat(n.op_type(), " node '", n.name(), "'");
}

absl::StatusOr<HostTensor> SparseToDense(const onnx::SparseTensorProto& sp,
                                         const ExternalDataDir* ext) {
  ASSIGN_OR_RETURN(HostTensor values, TensorFromProto(sp.values(), ext));
  ASSIGN_OR_RETURN(HostTensor indices, TensorFromProto(sp.indices(), ext));
  HostTensor dense;
  dense.dtype = values.dtype;
  dense.shape.assign(sp.dims().begin(), sp.dims().end());
  ASSIGN_OR_RETURN(int64_t n, NumelOf(dense.shape, "sparse tensor"));
  if (values.is_string)
    return absl::InvalidArgumentError("sparse string tensors are not supported");
  const int64_t nnz = values.numel();
  const int item = dense.dtype.itemsize();
  dense.bytes.assign(n * item, 0);
  const int64_t rank = static_cast<int64_t>(dense.shape.size());
  const bool linear = indices.shape.size() == 1;
  if (!(linear && indices.numel() == nnz) &&
      !(indices.shape.size() == 2 && indices.shape[0] == nnz && indices.shape[1] == rank))
    return absl::InvalidArgumentError(
        absl::StrCat("sparse tensor '", sp.values().name(), "': indices of shape ",
                     ShapeToString(indices.shape), " for ", nnz, " values of rank ", rank));
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t flat = 0;
    if (linear) {
      flat = indices.AsInt(k);
    } else {
      for (int64_t d = 0; d < rank; ++d) {
        int64_t i = indices.AsInt(k * rank + d);
        if (i < 0 || i >= dense.shape[d]) {
          flat = -1;
          break;
        }
        flat = flat * dense.shape[d] + i;
      }
    }
    if (flat < 0 || flat >= n)
      return absl::InvalidArgumentError(
          absl::StrCat("sparse tensor '", sp.values().name(), "': index out of range"));
    std::memcpy(dense.bytes.data() + flat * item, values.bytes.data() + k * item, item);
  }
  return dense;
}

ValueType ConvertType(const onnx::TypeProto& t) {
  ValueType v;
  const onnx::TypeProto* tensor = nullptr;
  if (t.has_tensor_type()) {
    v.kind = ValueType::Kind::kTensor;
    tensor = &t;
  } else if (t.has_sequence_type()) {
    v.kind = ValueType::Kind::kSequence;
    if (t.sequence_type().elem_type().has_tensor_type()) tensor = &t.sequence_type().elem_type();
  } else if (t.has_optional_type()) {
    v.kind = ValueType::Kind::kOptional;
    const onnx::TypeProto& e = t.optional_type().elem_type();
    if (e.has_tensor_type()) {
      v.inner = ValueType::Kind::kTensor;
      tensor = &e;
    } else if (e.has_sequence_type()) {
      v.inner = ValueType::Kind::kSequence;
      if (e.sequence_type().elem_type().has_tensor_type()) tensor = &e.sequence_type().elem_type();
    }
  }
  if (tensor) {
    const onnx::TypeProto::Tensor& tt = tensor->tensor_type();
    v.elem_type = tt.elem_type();
    if (tt.has_shape()) {
      v.has_shape = true;
      for (const onnx::TensorShapeProto::Dimension& d : tt.shape().dim()) {
        Dim dim;
        if (d.has_dim_value()) dim.value = d.dim_value();
        if (d.has_dim_param()) dim.param = d.dim_param();
        v.dims.push_back(dim);
      }
    }
  }
  return v;
}

class Converter {
 public:
  Converter(const onnx::ModelProto& proto, const LoadOptions& options, const std::string& base_dir,
            ModelDef* out)
      : proto_(proto), options_(options), out_(out) {
    ext_.dir = base_dir;
    ext_.max_tensor_bytes = options.max_tensor_bytes;
    for (const onnx::FunctionProto& f : proto.functions())
      functions_[{std::string(CanonicalDomain(f.domain())), f.name()}] = &f;
  }

  absl::Status Run() {
    for (const onnx::OperatorSetIdProto& o : proto_.opset_import())
      out_->opsets[std::string(CanonicalDomain(o.domain()))] = static_cast<int>(o.version());
    if (proto_.opset_import_size() == 0) out_->opsets[""] = 1;  // IR < 3: implicit opset 1
    Scope root;
    RETURN_IF_ERROR(ConvertGraph(proto_.graph(), &root, 0, &out_->graph));
    if (!unsupported_.empty()) {
      std::vector<std::string> lines;
      std::map<std::tuple<std::string, std::string, int>, std::vector<std::string>> by_op;
      for (const Unsupported& u : unsupported_) by_op[{u.domain, u.op, u.opset}].push_back(u.node);
      for (const auto& [key, nodes] : by_op) {
        const auto& [domain, op, opset] = key;
        std::vector<std::string> shown(nodes.begin(),
                                       nodes.begin() + std::min<size_t>(nodes.size(), 5));
        lines.push_back(
            absl::StrCat(op, " (domain '", domain.empty() ? "ai.onnx" : domain, "', opset ", opset,
                         ") at ", absl::StrJoin(shown, ", "),
                         nodes.size() > 5 ? absl::StrCat(" and ", nodes.size() - 5, " more") : ""));
      }
      return absl::UnimplementedError(
          absl::StrCat("unsupported operators: ", absl::StrJoin(lines, "; ")));
    }
    return absl::OkStatus();
  }

 private:
  int NewValue(std::string name) {
    out_->value_names.push_back(std::move(name));
    return static_cast<int>(out_->value_names.size()) - 1;
  }

  // Defines `name` in `scope`; in a function body, formal outputs take the
  // caller's ids.
  absl::StatusOr<int> Define(Scope* scope, const std::string& name, const std::string& where) {
    if (name.empty()) return kNoValue;
    if (scope->names.contains(name))
      return Invalid(where, absl::StrCat("value '", name, "' is defined more than once"));
    int id;
    if (frame_ && frame_scope_ == scope && frame_->output_ids.contains(name)) {
      id = frame_->output_ids.at(name);
      if (id == kNoValue) id = NewValue(frame_->prefix + name);
    } else {
      id = NewValue(frame_ ? frame_->prefix + name : name);
    }
    scope->names[name] = id;
    return id;
  }

  absl::StatusOr<int> Use(const Scope& scope, const std::string& name, const std::string& where) {
    if (name.empty()) return kNoValue;
    int id = kNoValue;
    if (!scope.Lookup(name, &id))
      return Invalid(where, absl::StrCat("uses undefined value '", name, "'"));
    return id;
  }

  absl::StatusOr<ValueInfo> Info(const onnx::ValueInfoProto& vi, int id) {
    ValueInfo info;
    info.name = vi.name();
    info.id = id;
    if (vi.has_type()) info.type = ConvertType(vi.type());
    return info;
  }

  absl::Status ConvertGraph(const onnx::GraphProto& g, Scope* scope, int depth, Graph* out) {
    if (depth > options_.max_depth)
      return absl::InvalidArgumentError(absl::StrCat(
          "graph '", g.name(), "': subgraphs nested deeper than ", options_.max_depth));
    out->name = g.name();
    const std::string where = absl::StrCat("graph '", g.name(), "'");
    // Initializers first (graph inputs of the same name share the id).
    absl::flat_hash_map<std::string, int> init_ids;
    for (const onnx::TensorProto& t : g.initializer()) {
      ASSIGN_OR_RETURN(int id, Define(scope, t.name(), where));
      if (id == kNoValue) return Invalid(where, "an initializer has no name");
      ASSIGN_OR_RETURN(HostTensor h, TensorFromProto(t, &ext_));
      out->initializers.push_back({id, std::make_shared<const HostTensor>(std::move(h))});
      init_ids[t.name()] = id;
    }
    for (const onnx::SparseTensorProto& sp : g.sparse_initializer()) {
      const std::string& name = sp.values().name();
      ASSIGN_OR_RETURN(int id, Define(scope, name, where));
      if (id == kNoValue) return Invalid(where, "a sparse initializer has no name");
      ASSIGN_OR_RETURN(HostTensor h, SparseToDense(sp, &ext_));
      out->initializers.push_back({id, std::make_shared<const HostTensor>(std::move(h))});
      init_ids[name] = id;
    }
    for (const onnx::ValueInfoProto& vi : g.input()) {
      int id;
      auto it = init_ids.find(vi.name());
      if (it != init_ids.end()) {
        id = it->second;
      } else {
        ASSIGN_OR_RETURN(id, Define(scope, vi.name(), where));
        if (id == kNoValue) return Invalid(where, "a graph input has no name");
      }
      ASSIGN_OR_RETURN(ValueInfo info, Info(vi, id));
      out->inputs.push_back(std::move(info));
    }
    ASSIGN_OR_RETURN(std::vector<int> order, ExecutionOrder(g, *scope));
    for (int i : order) RETURN_IF_ERROR(ConvertNode(g.node(i), scope, depth, out));
    for (const onnx::ValueInfoProto& vi : g.output()) {
      ASSIGN_OR_RETURN(int id, Use(*scope, vi.name(), where));
      if (id == kNoValue) return Invalid(where, "a graph output has no name");
      ASSIGN_OR_RETURN(ValueInfo info, Info(vi, id));
      out->outputs.push_back(std::move(info));
    }
    return absl::OkStatus();
  }

  // Names a graph reads but does not define (its outer-scope captures).
  static void FreeNames(const onnx::GraphProto& g, absl::flat_hash_set<std::string>* out) {
    absl::flat_hash_set<std::string> defined;
    for (const auto& t : g.initializer()) defined.insert(t.name());
    for (const auto& t : g.sparse_initializer()) defined.insert(t.values().name());
    for (const auto& vi : g.input()) defined.insert(vi.name());
    for (const auto& n : g.node())
      for (const std::string& o : n.output()) defined.insert(o);
    auto use = [&](const std::string& name) {
      if (!name.empty() && !defined.contains(name)) out->insert(name);
    };
    for (const auto& n : g.node()) {
      for (const std::string& i : n.input()) use(i);
      for (const auto& a : n.attribute()) {
        absl::flat_hash_set<std::string> inner;
        if (a.has_g()) FreeNames(a.g(), &inner);
        for (const auto& sg : a.graphs()) FreeNames(sg, &inner);
        for (const std::string& name : inner) use(name);
      }
    }
    for (const auto& vi : g.output()) use(vi.name());
  }

  // Node indices in an order where every value is defined before use: the
  // file's order when it is valid (the usual case), else a stable
  // topological sort. A cycle is an error.
  absl::StatusOr<std::vector<int>> ExecutionOrder(const onnx::GraphProto& g, const Scope& scope) {
    const int n = g.node_size();
    absl::flat_hash_map<std::string, int> producer;
    for (int i = 0; i < n; ++i)
      for (const std::string& o : g.node(i).output())
        if (!o.empty()) producer.emplace(o, i);
    std::vector<std::vector<int>> deps(n);
    bool sorted = true;
    for (int i = 0; i < n; ++i) {
      const onnx::NodeProto& node = g.node(i);
      absl::flat_hash_set<std::string> needs(node.input().begin(), node.input().end());
      for (const auto& a : node.attribute()) {
        if (a.has_g()) FreeNames(a.g(), &needs);
        for (const auto& sg : a.graphs()) FreeNames(sg, &needs);
      }
      for (const std::string& name : needs) {
        auto it = producer.find(name);
        if (it == producer.end() || it->second == i) continue;
        deps[i].push_back(it->second);
        if (it->second > i) sorted = false;
      }
    }
    std::vector<int> order(n);
    for (int i = 0; i < n; ++i) order[i] = i;
    if (sorted) return order;
    order.clear();
    std::vector<int> pending(n);
    std::vector<std::vector<int>> users(n);
    for (int i = 0; i < n; ++i) {
      pending[i] = static_cast<int>(deps[i].size());
      for (int d : deps[i]) users[d].push_back(i);
    }
    std::set<int> ready;
    for (int i = 0; i < n; ++i)
      if (pending[i] == 0) ready.insert(i);
    while (!ready.empty()) {
      int i = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(i);
      for (int u : users[i])
        if (--pending[u] == 0) ready.insert(u);
    }
    if (static_cast<int>(order.size()) != n)
      return absl::InvalidArgumentError(absl::StrCat("graph '", g.name(), "': nodes form a cycle"));
    return order;
  }

  absl::StatusOr<Attribute> ConvertAttr(const onnx::AttributeProto& a, Scope* scope, int depth,
                                        const std::string& where) {
    Attribute out;
    out.name = a.name();
    onnx::AttributeProto::AttributeType type = a.type();
    if (type == onnx::AttributeProto::UNDEFINED) {  // IR < 2: inferred from the field set
      if (a.has_f())
        type = onnx::AttributeProto::FLOAT;
      else if (a.has_i())
        type = onnx::AttributeProto::INT;
      else if (a.has_s())
        type = onnx::AttributeProto::STRING;
      else if (a.has_t())
        type = onnx::AttributeProto::TENSOR;
      else if (a.has_g())
        type = onnx::AttributeProto::GRAPH;
      else if (a.floats_size())
        type = onnx::AttributeProto::FLOATS;
      else if (a.ints_size())
        type = onnx::AttributeProto::INTS;
      else if (a.strings_size())
        type = onnx::AttributeProto::STRINGS;
      else if (a.tensors_size())
        type = onnx::AttributeProto::TENSORS;
      else if (a.graphs_size())
        type = onnx::AttributeProto::GRAPHS;
    }
    const std::string at = absl::StrCat(where, ", attribute '", a.name(), "'");
    switch (type) {
      case onnx::AttributeProto::FLOAT:
        out.type = AttrType::kFloat;
        out.f = a.f();
        break;
      case onnx::AttributeProto::INT:
        out.type = AttrType::kInt;
        out.i = a.i();
        break;
      case onnx::AttributeProto::STRING:
        out.type = AttrType::kString;
        out.s = a.s();
        break;
      case onnx::AttributeProto::TENSOR: {
        out.type = AttrType::kTensor;
        absl::StatusOr<HostTensor> t = TensorFromProto(a.t(), &ext_);
        if (!t.ok()) return Invalid(at, t.status().message());
        out.t = std::make_shared<const HostTensor>(*std::move(t));
        break;
      }
      case onnx::AttributeProto::SPARSE_TENSOR: {
        out.type = AttrType::kTensor;  // made dense
        absl::StatusOr<HostTensor> t = SparseToDense(a.sparse_tensor(), &ext_);
        if (!t.ok()) return Invalid(at, t.status().message());
        out.t = std::make_shared<const HostTensor>(*std::move(t));
        break;
      }
      case onnx::AttributeProto::GRAPH: {
        out.type = AttrType::kGraph;
        auto g = std::make_shared<Graph>();
        Scope inner{scope, {}};
        RETURN_IF_ERROR(ConvertGraph(a.g(), &inner, depth + 1, g.get()));
        out.g = std::move(g);
        break;
      }
      case onnx::AttributeProto::FLOATS:
        out.type = AttrType::kFloats;
        out.floats.assign(a.floats().begin(), a.floats().end());
        break;
      case onnx::AttributeProto::INTS:
        out.type = AttrType::kInts;
        out.ints.assign(a.ints().begin(), a.ints().end());
        break;
      case onnx::AttributeProto::STRINGS:
        out.type = AttrType::kStrings;
        out.strings.assign(a.strings().begin(), a.strings().end());
        break;
      case onnx::AttributeProto::TENSORS:
        out.type = AttrType::kTensors;
        for (const onnx::TensorProto& tp : a.tensors()) {
          absl::StatusOr<HostTensor> t = TensorFromProto(tp, &ext_);
          if (!t.ok()) return Invalid(at, t.status().message());
          out.tensors.push_back(std::make_shared<const HostTensor>(*std::move(t)));
        }
        break;
      case onnx::AttributeProto::GRAPHS:
        out.type = AttrType::kGraphs;
        for (const onnx::GraphProto& gp : a.graphs()) {
          auto g = std::make_shared<Graph>();
          Scope inner{scope, {}};
          RETURN_IF_ERROR(ConvertGraph(gp, &inner, depth + 1, g.get()));
          out.graphs.push_back(std::move(g));
        }
        break;
      case onnx::AttributeProto::TYPE_PROTO:
        out.type = AttrType::kTypeProto;
        if (a.tp().has_tensor_type()) out.type_elem = a.tp().tensor_type().elem_type();
        break;
      default:
        return Invalid(
            at, absl::StrCat("attribute type ", static_cast<int>(type), " is not supported"));
    }
    return out;
  }

  int OpsetOf(absl::string_view domain) const {
    const absl::flat_hash_map<std::string, int>& table = frame_ ? frame_->opsets : out_->opsets;
    auto it = table.find(std::string(CanonicalDomain(domain)));
    if (it != table.end()) return it->second;
    if (frame_) {  // functions may use the model's imports
      auto m = out_->opsets.find(std::string(CanonicalDomain(domain)));
      if (m != out_->opsets.end()) return m->second;
    }
    return 0;
  }

  absl::Status ConvertNode(const onnx::NodeProto& n, Scope* scope, int depth, Graph* g) {
    const std::string where = NodeLabel(n);
    const std::string domain(CanonicalDomain(n.domain()));
    const int opset = OpsetOf(domain);
    const OpHandler* handler =
        opset > 0 ? OpRegistry::Global().Find(domain, n.op_type(), opset) : nullptr;
    if (!handler) {
      auto fit = functions_.find({domain, n.op_type()});
      if (fit != functions_.end()) return InlineFunction(*fit->second, n, scope, depth, g);
      if (opset > 0)
        if (std::optional<SchemaFunctionBody> f = SchemaFunction(domain, n.op_type(), opset))
          return InlineFunction(*f->body, n, scope, depth, g, &f->defaults);
    }
    Node node;
    node.name = n.name();
    node.op_type = n.op_type();
    node.domain = domain;
    node.opset = opset;
    node.handler = handler;
    for (const std::string& in : n.input()) {
      ASSIGN_OR_RETURN(int id, Use(*scope, in, where));
      node.inputs.push_back(id);
    }
    for (const onnx::AttributeProto& a : n.attribute()) {
      ASSIGN_OR_RETURN(Attribute attr, ConvertAttr(a, scope, depth, where));
      node.attrs.push_back(std::move(attr));
    }
    for (const std::string& o : n.output()) {
      ASSIGN_OR_RETURN(int id, Define(scope, o, where));
      node.outputs.push_back(id);
    }
    if (!handler) {
      unsupported_.push_back({n.op_type(), domain,
                              n.name().empty() ? absl::StrCat("#", g->nodes.size()) : n.name(),
                              opset});
    }
    g->nodes.push_back(std::move(node));
    return absl::OkStatus();
  }

  // Inlines a call of `f`: its body's nodes join `g` with fresh value ids,
  // formal inputs bound to the call's inputs, attribute references bound to
  // the call's attributes (or the function's defaults).
  absl::Status InlineFunction(const onnx::FunctionProto& f, const onnx::NodeProto& call,
                              Scope* scope, int depth, Graph* g,
                              const std::vector<onnx::AttributeProto>* defaults = nullptr) {
    const std::string where = NodeLabel(call);
    if (depth > options_.max_depth)
      return Invalid(where, absl::StrCat("function calls nested deeper than ", options_.max_depth));
    FunctionFrame frame;
    frame.call = &call;
    frame.prefix =
        absl::StrCat(call.name().empty() ? f.name() : call.name(), "/", inline_count_++, "/");
    for (const onnx::OperatorSetIdProto& o : f.opset_import())
      frame.opsets[std::string(CanonicalDomain(o.domain()))] = static_cast<int>(o.version());
    Scope body;  // function bodies see only their formal parameters
    for (int i = 0; i < f.input_size(); ++i) {
      int id = kNoValue;
      if (i < call.input_size()) {
        ASSIGN_OR_RETURN(id, Use(*scope, call.input(i), where));
      }
      body.names[f.input(i)] = id;
    }
    std::vector<int> call_outputs;
    for (int i = 0; i < call.output_size(); ++i) {
      ASSIGN_OR_RETURN(int id, Define(scope, call.output(i), where));
      call_outputs.push_back(id);
      if (i < f.output_size()) frame.output_ids[f.output(i)] = id;
    }
    // Attribute values: the call's, else the schema's defaults.
    absl::flat_hash_map<std::string, const onnx::AttributeProto*> attrs;
    if (defaults)
      for (const onnx::AttributeProto& a : *defaults) attrs[a.name()] = &a;
    for (const onnx::AttributeProto& a : call.attribute()) attrs[a.name()] = &a;

    FunctionFrame* saved = frame_;
    Scope* saved_scope = frame_scope_;
    frame_ = &frame;
    frame_scope_ = &body;
    absl::Status st = absl::OkStatus();
    for (const onnx::NodeProto& bn : f.node()) {
      onnx::NodeProto bound = bn;
      bound.clear_attribute();
      for (const onnx::AttributeProto& a : bn.attribute()) {
        if (a.ref_attr_name().empty()) {
          *bound.add_attribute() = a;
          continue;
        }
        auto it = attrs.find(a.ref_attr_name());
        if (it == attrs.end()) continue;  // not given: the op's default applies
        onnx::AttributeProto* b = bound.add_attribute();
        *b = *it->second;
        b->set_name(a.name());
      }
      if (!bound.name().empty()) bound.set_name(frame.prefix + bound.name());
      st = ConvertNode(bound, &body, depth + 1, g);
      if (!st.ok()) break;
    }
    frame_ = saved;
    frame_scope_ = saved_scope;
    RETURN_IF_ERROR(st);
    // A formal output that is a formal input (or otherwise not produced under
    // the caller's id) is forwarded with an Identity.
    for (int i = 0; i < f.output_size() && i < call.output_size(); ++i) {
      if (call_outputs[i] == kNoValue) continue;
      int inner = kNoValue;
      if (!body.Lookup(f.output(i), &inner) || inner == kNoValue)
        return Invalid(where, absl::StrCat("function '", f.name(), "' does not define output '",
                                           f.output(i), "'"));
      if (inner == call_outputs[i]) continue;
      Node id;
      id.op_type = "Identity";
      id.name = frame.prefix + "output" + std::to_string(i);
      id.opset = 13;
      id.handler = OpRegistry::Global().Find("", "Identity", 13);
      id.inputs = {inner};
      id.outputs = {call_outputs[i]};
      g->nodes.push_back(std::move(id));
    }
    return absl::OkStatus();
  }

  const onnx::ModelProto& proto_;
  const LoadOptions& options_;
  ModelDef* out_;
  ExternalDataDir ext_;
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*> functions_;
  std::vector<Unsupported> unsupported_;
  FunctionFrame* frame_ = nullptr;
  Scope* frame_scope_ = nullptr;
  int inline_count_ = 0;
};

void CountUses(const Graph& g, std::vector<int>* counts) {
  for (const Node& n : g.nodes) {
    for (int id : n.inputs)
      if (id != kNoValue) ++(*counts)[id];
    for (const Attribute& a : n.attrs) {
      if (a.g) CountUses(*a.g, counts);
      for (const std::shared_ptr<const Graph>& sg : a.graphs) CountUses(*sg, counts);
    }
  }
  for (const ValueInfo& o : g.outputs) ++(*counts)[o.id];
}

}  // namespace

absl::Status ParseModelProto(absl::string_view bytes, const LoadOptions& options,
                             onnx::ModelProto* proto) {
  if (static_cast<int64_t>(bytes.size()) > options.max_model_bytes)
    return absl::InvalidArgumentError(absl::StrCat(
        "model of ", bytes.size(), " bytes is over the limit of ", options.max_model_bytes));
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(static_cast<int>(std::min<int64_t>(options.max_model_bytes, INT32_MAX)));
  // Each subgraph level nests about four messages deep.
  in.SetRecursionLimit(std::max(100, 8 * options.max_depth + 32));
  if (!proto->ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid ONNX model: protobuf parse failed (", bytes.size(),
                     " bytes; truncated or not a ModelProto)"));
  if (!proto->has_graph())
    return absl::InvalidArgumentError("not a valid ONNX model: it has no graph");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const ModelDef>> ConvertModel(const onnx::ModelProto& proto,
                                                             const LoadOptions& options,
                                                             const std::string& base_dir) {
  auto model = std::make_shared<ModelDef>();
  model->options = options;
  model->ir_version = proto.ir_version();
  model->producer = absl::StrCat(proto.producer_name(), " ", proto.producer_version());
  Converter c(proto, options, base_dir, model.get());
  RETURN_IF_ERROR(c.Run());
  model->use_counts.assign(model->num_values(), 0);
  CountUses(model->graph, &model->use_counts);
  return std::shared_ptr<const ModelDef>(std::move(model));
}

absl::StatusOr<std::shared_ptr<const ModelDef>> LoadModelBytes(absl::string_view bytes,
                                                               const LoadOptions& options,
                                                               const std::string& base_dir) {
  onnx::ModelProto proto;
  RETURN_IF_ERROR(ParseModelProto(bytes, options, &proto));
  return ConvertModel(proto, options, base_dir);
}

absl::StatusOr<std::shared_ptr<const ModelDef>> LoadModelFile(const std::string& path,
                                                              const LoadOptions& options) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, options.max_model_bytes));
  std::string dir = ".";
  size_t slash = path.rfind('/');
  if (slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  absl::StatusOr<std::shared_ptr<const ModelDef>> m = LoadModelBytes(bytes, options, dir);
  if (!m.ok())
    return absl::Status(m.status().code(), absl::StrCat(path, ": ", m.status().message()));
  return m;
}

}  // namespace uop::onnx_import

// TFLite model (FlatBuffers) -> Graph. See qforge/io/tflite.h and the TFLite
// section of docs/io.md for the op mapping.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flatbuffers/flexbuffers.h"
#include "io/atomic_file.h"
#include "io/tflite/op_code.h"
#include "io/tflite/schema_generated.h"
#include "io/tflite/tensor_util.h"
#include "qforge/core/status.h"
#include "qforge/io/tflite.h"
#include "qforge/ir/verifier.h"

namespace qforge {
namespace {

namespace fb = tflite_fb;

// FlatBuffers 2.0.8's verifier asserts that the buffer is below 2^31 bytes.
constexpr int64_t kMaxModelBytes = (int64_t{1} << 31) - 1;

absl::Status WithSource(const absl::Status& status, absl::string_view source) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(source, ": ", status.message()));
}

absl::StatusOr<DataType> DataTypeFromTflite(fb::TensorType type,
                                            absl::string_view what) {
  switch (type) {
    case fb::TensorType_FLOAT32:
      return DataType::kFloat32;
    case fb::TensorType_FLOAT16:
      return DataType::kFloat16;
    case fb::TensorType_FLOAT64:
      return DataType::kFloat64;
    case fb::TensorType_INT8:
      return DataType::kInt8;
    case fb::TensorType_UINT8:
      return DataType::kUint8;
    case fb::TensorType_INT16:
      return DataType::kInt16;
    case fb::TensorType_UINT16:
      return DataType::kUint16;
    case fb::TensorType_INT32:
      return DataType::kInt32;
    case fb::TensorType_INT64:
      return DataType::kInt64;
    case fb::TensorType_BOOL:
      return DataType::kBool;
    default:
      break;
  }
  const char* name = fb::EnumNameTensorType(type);
  return absl::UnimplementedError(
      absl::StrCat(what, " has element type ",
                   (name != nullptr && name[0] != '\0')
                       ? name
                       : absl::StrCat(static_cast<int>(type)),
                   ", which qforge does not read"));
}

std::string BuiltinName(int32_t code) {
  if (code >= 0 && code <= fb::BuiltinOperator_MAX) {
    const char* name =
        fb::EnumNameBuiltinOperator(static_cast<fb::BuiltinOperator>(code));
    if (name != nullptr && name[0] != '\0') return name;
  }
  return absl::StrCat("builtin op ", code);
}

using internal::PermutedAxis;
using internal::PermuteTensor;

class TfliteImporter {
 public:
  TfliteImporter(absl::string_view bytes, const Registry& registry)
      : bytes_(bytes), registry_(registry) {}

  absl::StatusOr<Graph> Run() {
    QFORGE_RETURN_IF_ERROR(CheckAndVerify());
    model_ = fb::GetModel(bytes_.data());
    if (model_->version() != 3) {
      return absl::UnimplementedError(absl::StrCat("TFLite schema version ",
                                                   model_->version(),
                                                   "; qforge reads version 3"));
    }
    if (model_->subgraphs() == nullptr || model_->subgraphs()->size() == 0) {
      return absl::DataLossError("the model has no subgraph");
    }
    subgraph_ = model_->subgraphs()->Get(0);
    if (subgraph_->name() != nullptr) graph_.set_name(subgraph_->name()->str());
    graph_.set_opset("", 17);
    QFORGE_RETURN_IF_ERROR(ImportTensors());
    QFORGE_RETURN_IF_ERROR(ImportGraphIo());
    QFORGE_RETURN_IF_ERROR(ImportOperators());
    if (model_->description() != nullptr) {
      graph_.set_metadata("tflite.description", model_->description()->str());
    }
    if (quantized_) {
      graph_.set_metadata("qforge.arithmetic_profile", "tflite_reference");
    }
    graph_.RemoveDeadNodes();
    QFORGE_RETURN_IF_ERROR(VerifyGraph(graph_, registry_.schemas()));
    return std::move(graph_);
  }

 private:
  // Per operator: what messages need and what mapping reads.
  struct Op {
    int index = 0;
    int32_t code = 0;
    const fb::Operator* op = nullptr;
    std::vector<Value*> in;
    std::vector<Value*> out;
    std::string Describe() const {
      return absl::StrCat("operator #", index, " (", BuiltinName(code), ")");
    }
  };

  absl::Status CheckAndVerify() {
    const int64_t size = static_cast<int64_t>(bytes_.size());
    if (size >= kMaxModelBytes) {
      return absl::UnimplementedError(absl::StrCat(
          "the model is ", size,
          " bytes; TFLite models of 2 GB or more are not supported"));
    }
    if (size < 8) {
      return absl::DataLossError(absl::StrCat(
          "the file is ", size, " bytes, too short to be a TFLite model"));
    }
    if (!flatbuffers::BufferHasIdentifier(bytes_.data(),
                                          fb::ModelIdentifier())) {
      return absl::DataLossError(
          "not a TFLite model: the file identifier is not \"TFL3\"");
    }
    flatbuffers::Verifier verifier(
        reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size());
    if (!fb::VerifyModelBuffer(verifier)) {
      return absl::DataLossError(
          "the FlatBuffer is corrupt (truncated, or an offset points outside "
          "the file); the FlatBuffers verifier rejected it");
    }
    return absl::OkStatus();
  }

  int num_tensors() const {
    return subgraph_->tensors() == nullptr
               ? 0
               : static_cast<int>(subgraph_->tensors()->size());
  }

  absl::StatusOr<std::string> TensorName(int i) const {
    const fb::Tensor* t = subgraph_->tensors()->Get(i);
    if (t->name() != nullptr && t->name()->size() > 0) return t->name()->str();
    return absl::StrCat("tensor_", i);
  }

  absl::Status ImportTensors() {
    const int n = num_tensors();
    const int num_buffers = model_->buffers() == nullptr
                                ? 0
                                : static_cast<int>(model_->buffers()->size());
    values_.assign(n, nullptr);
    for (int i = 0; i < n; ++i) {
      const fb::Tensor* t = subgraph_->tensors()->Get(i);
      QFORGE_ASSIGN_OR_RETURN(std::string name, TensorName(i));
      const std::string what = absl::StrCat("tensor #", i, " '", name, "'");
      QFORGE_ASSIGN_OR_RETURN(DataType dtype,
                              DataTypeFromTflite(t->type(), what));
      if (t->sparsity() != nullptr) {
        return absl::UnimplementedError(
            absl::StrCat(what, " is sparse; qforge reads dense tensors only"));
      }
      if (t->is_variable()) {
        return absl::UnimplementedError(absl::StrCat(
            what, " is a variable tensor; qforge does not read stateful ops"));
      }
      std::vector<int64_t> dims;
      if (t->shape() != nullptr) {
        for (uint32_t k = 0; k < t->shape()->size(); ++k) {
          const int32_t d = t->shape()->Get(k);
          if (d < 0) {
            return absl::DataLossError(absl::StrCat(
                what, " has a negative dimension ", d, " in its shape"));
          }
          dims.push_back(d);
        }
      }
      const auto* sig = t->shape_signature();
      std::vector<Dim> shape_dims;
      for (size_t k = 0; k < dims.size(); ++k) {
        const bool dynamic = sig != nullptr && sig->size() == dims.size() &&
                             sig->Get(static_cast<uint32_t>(k)) < 0;
        shape_dims.push_back(dynamic ? Dim::Unknown() : Dim::Static(dims[k]));
      }
      Shape shape = t->shape() == nullptr ? Shape::UnknownRank()
                                          : Shape(std::move(shape_dims));

      // Constant data.
      const uint32_t b = t->buffer();
      if (static_cast<int64_t>(b) >= num_buffers) {
        return absl::DataLossError(absl::StrCat(what, " refers to buffer ", b,
                                                ", but the model has ",
                                                num_buffers, " buffers"));
      }
      const fb::Buffer* buffer = model_->buffers()->Get(b);
      if (buffer->offset() > 1 || buffer->size() > 0) {
        return absl::UnimplementedError(absl::StrCat(
            what, " keeps its data outside the FlatBuffer (buffer ", b,
            " at offset ", buffer->offset(),
            "); qforge reads models below 2 GB with inline buffers only"));
      }
      std::optional<QuantParams> quant;
      QFORGE_ASSIGN_OR_RETURN(quant, ImportQuant(*t, dtype, dims, what));
      Value* v = nullptr;
      if (buffer->data() != nullptr && buffer->data()->size() > 0) {
        const uint64_t have = buffer->data()->size();
        // Element count with saturation: dims are < 2^31 each, so stop
        // multiplying once the product exceeds the file size.
        uint64_t need = SizeOf(dtype);
        bool huge = false;
        for (int64_t d : dims) {
          need *= static_cast<uint64_t>(d);
          if (need > (uint64_t{1} << 32)) {
            huge = true;
            break;
          }
        }
        if (huge || need != have) {
          return absl::DataLossError(
              absl::StrCat(what, " has shape [", absl::StrJoin(dims, ","),
                           "] of ", DataTypeName(dtype), " (",
                           huge ? std::string("more than 4 GB")
                                : absl::StrCat(need, " bytes"),
                           "), but buffer ", b, " holds ", have, " bytes"));
        }
        Tensor data(dtype, dims);
        std::memcpy(data.raw_data(), buffer->data()->data(), have);
        data.set_quant(quant);
        v = graph_.AddConstant(name, std::move(data));
      } else {
        v = graph_.AddValue(name, dtype, std::move(shape));
      }
      v->set_quant(quant);
      if (quant.has_value()) quantized_ = true;
      values_[i] = v;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<QuantParams>> ImportQuant(
      const fb::Tensor& t, DataType dtype, const std::vector<int64_t>& dims,
      absl::string_view what) {
    const fb::QuantizationParameters* q = t.quantization();
    if (q == nullptr) return std::optional<QuantParams>();
    if (q->details_type() != fb::QuantizationDetails_NONE) {
      return absl::UnimplementedError(
          absl::StrCat(what,
                       " uses custom quantization details; qforge reads affine "
                       "(scale, zero point) quantization only"));
    }
    if (q->scale() == nullptr || q->scale()->size() == 0) {
      return std::optional<QuantParams>();  // min/max only: not quantized.
    }
    if (dtype != DataType::kInt8 && dtype != DataType::kUint8 &&
        dtype != DataType::kInt16 && dtype != DataType::kInt32) {
      // Float tensors may carry statistics; they are not quantized values.
      return std::optional<QuantParams>();
    }
    const uint32_t n = q->scale()->size();
    QuantParams p;
    p.storage = dtype;
    p.bits = static_cast<int>(SizeOf(dtype) * 8);
    for (uint32_t k = 0; k < n; ++k) p.scale.push_back(q->scale()->Get(k));
    if (q->zero_point() == nullptr || q->zero_point()->size() == 0) {
      p.zero_point.assign(n, 0);
    } else if (q->zero_point()->size() != n) {
      return absl::DataLossError(
          absl::StrCat(what, " has ", n, " quantization scales but ",
                       q->zero_point()->size(), " zero points"));
    } else {
      for (uint32_t k = 0; k < n; ++k)
        p.zero_point.push_back(q->zero_point()->Get(k));
    }
    if (n > 1) {
      const int axis = q->quantized_dimension();
      if (axis < 0 || axis >= static_cast<int>(dims.size()) ||
          dims[axis] != static_cast<int64_t>(n)) {
        return absl::DataLossError(absl::StrCat(
            what, " has ", n, " per-axis scales along quantized_dimension ",
            axis, ", which does not match its shape [",
            absl::StrJoin(dims, ","), "]"));
      }
      p.axis = axis;
    }
    absl::Status valid = p.Validate();
    if (!valid.ok()) {
      return absl::DataLossError(absl::StrCat(
          what, " has invalid quantization parameters: ", valid.message()));
    }
    return std::optional<QuantParams>(std::move(p));
  }

  absl::StatusOr<Value*> TensorAt(int64_t index, absl::string_view what) {
    if (index < 0 || index >= num_tensors()) {
      return absl::DataLossError(absl::StrCat(what, " refers to tensor ", index,
                                              ", but the subgraph has ",
                                              num_tensors(), " tensors"));
    }
    return values_[index];
  }

  absl::Status ImportGraphIo() {
    if (subgraph_->inputs() != nullptr) {
      for (uint32_t k = 0; k < subgraph_->inputs()->size(); ++k) {
        QFORGE_ASSIGN_OR_RETURN(Value * v,
                                TensorAt(subgraph_->inputs()->Get(k),
                                         absl::StrCat("subgraph input #", k)));
        if (!v->is_constant() && !v->is_graph_input()) graph_.AddInput(v);
      }
    }
    if (subgraph_->outputs() != nullptr) {
      for (uint32_t k = 0; k < subgraph_->outputs()->size(); ++k) {
        QFORGE_ASSIGN_OR_RETURN(Value * v,
                                TensorAt(subgraph_->outputs()->Get(k),
                                         absl::StrCat("subgraph output #", k)));
        graph_.AddOutput(v);
      }
    }
    return absl::OkStatus();
  }

  absl::Status ImportOperators() {
    const auto* codes = model_->operator_codes();
    const int num_codes =
        codes == nullptr ? 0 : static_cast<int>(codes->size());
    if (subgraph_->operators() == nullptr) return absl::OkStatus();
    for (uint32_t i = 0; i < subgraph_->operators()->size(); ++i) {
      Op op;
      op.index = static_cast<int>(i);
      op.op = subgraph_->operators()->Get(i);
      const uint32_t ci = op.op->opcode_index();
      if (static_cast<int64_t>(ci) >= num_codes) {
        return absl::DataLossError(
            absl::StrCat("operator #", i, " refers to operator code ", ci,
                         ", but the model has ", num_codes, " operator codes"));
      }
      const fb::OperatorCode* code = codes->Get(ci);
      op.code = internal::TfliteBuiltinCode(*code);
      if (op.op->inputs() != nullptr) {
        for (uint32_t k = 0; k < op.op->inputs()->size(); ++k) {
          const int32_t t = op.op->inputs()->Get(k);
          if (t == -1) {
            op.in.push_back(nullptr);
            continue;
          }
          QFORGE_ASSIGN_OR_RETURN(
              Value * v,
              TensorAt(t, absl::StrCat(op.Describe(), " input #", k)));
          op.in.push_back(v);
        }
      }
      if (op.op->outputs() != nullptr) {
        for (uint32_t k = 0; k < op.op->outputs()->size(); ++k) {
          QFORGE_ASSIGN_OR_RETURN(
              Value * v, TensorAt(op.op->outputs()->Get(k),
                                  absl::StrCat(op.Describe(), " output #", k)));
          if (v->is_constant() || v->producer() != nullptr ||
              v->is_graph_input()) {
            return absl::DataLossError(absl::StrCat(
                op.Describe(), " writes tensor '", v->name(),
                "', which is a constant, a model input or written by another "
                "operator"));
          }
          op.out.push_back(v);
        }
      }
      if (op.out.empty()) {
        return absl::DataLossError(
            absl::StrCat(op.Describe(), " has no outputs"));
      }
      if (op.code == fb::BuiltinOperator_CUSTOM) {
        QFORGE_RETURN_IF_ERROR(ImportCustom(op, *code));
      } else {
        QFORGE_RETURN_IF_ERROR(ImportBuiltin(op));
      }
    }
    return absl::OkStatus();
  }

  // --- helpers for the op mapping -----------------------------------------

  absl::StatusOr<Value*> In(const Op& op, int i, absl::string_view role) {
    if (i >= static_cast<int>(op.in.size()) || op.in[i] == nullptr) {
      return absl::DataLossError(
          absl::StrCat(op.Describe(), " needs input #", i, " (", role, ")"));
    }
    return op.in[i];
  }

  Value* OptIn(const Op& op, int i) {
    return i < static_cast<int>(op.in.size()) ? op.in[i] : nullptr;
  }

  absl::StatusOr<const Tensor*> ConstIn(const Op& op, int i,
                                        absl::string_view role) {
    QFORGE_ASSIGN_OR_RETURN(Value * v, In(op, i, role));
    if (!v->is_constant()) {
      return absl::UnimplementedError(
          absl::StrCat(op.Describe(), ": input #", i, " (", role, ", tensor '",
                       v->name(), "') must be a constant"));
    }
    return v->constant();
  }

  absl::StatusOr<std::vector<int64_t>> IntsOf(const Op& op, const Tensor& t,
                                              absl::string_view role) {
    if (t.dtype() != DataType::kInt32 && t.dtype() != DataType::kInt64) {
      return absl::DataLossError(absl::StrCat(op.Describe(), ": ", role,
                                              " must be int32 or int64, got ",
                                              DataTypeName(t.dtype())));
    }
    std::vector<int64_t> out;
    for (int64_t k = 0; k < t.num_elements(); ++k)
      out.push_back(t.GetAsInt64(k));
    return out;
  }

  absl::StatusOr<std::vector<int64_t>> StaticDims(const Op& op, const Value& v,
                                                  int rank) {
    std::optional<std::vector<int64_t>> d = v.shape().static_dims();
    if (!d.has_value() || (rank >= 0 && static_cast<int>(d->size()) != rank)) {
      return absl::UnimplementedError(absl::StrCat(
          op.Describe(), ": tensor '", v.name(), "' has shape ",
          v.shape().ToString(),
          rank >= 0 ? absl::StrCat("; expected a static rank-", rank, " shape")
                    : "; expected a static shape"));
    }
    return *d;
  }

  // Dims of an NHWC activation where only the batch may be unknown (1).
  absl::StatusOr<std::vector<int64_t>> NhwcDims(const Op& op, const Value& v) {
    const Shape& s = v.shape();
    bool ok = s.rank() == 4;
    std::vector<int64_t> out;
    for (int i = 0; ok && i < 4; ++i) {
      const Dim& d = s.dims()[i];
      if (!d.is_static() && i != 0) ok = false;
      out.push_back(d.is_static() ? d.value : 1);
    }
    if (!ok) {
      return absl::UnimplementedError(absl::StrCat(
          op.Describe(), ": tensor '", v.name(), "' has shape ", s.ToString(),
          "; expected rank 4 with static height, width and channels"));
    }
    return out;
  }

  Value* IntConstant(absl::string_view name, std::vector<int64_t> dims,
                     const std::vector<int64_t>& values) {
    return graph_.AddConstant(
        name, Tensor::FromVector<int64_t>(std::move(dims), values));
  }

  Value* FloatScalar(absl::string_view name, float value) {
    return graph_.AddConstant(name, Tensor::Scalar<float>(value));
  }

  // A value like `like` (dtype, shape, quant) for an intermediate result.
  Value* Intermediate(const Value& like, absl::string_view suffix) {
    Value* v = graph_.AddValue(absl::StrCat(like.name(), suffix), like.dtype(),
                               like.shape());
    v->set_quant(like.quant());
    return v;
  }

  absl::StatusOr<Node*> Emit(const Op& op, NodeSpec spec) {
    absl::StatusOr<Node*> node = graph_.AddNode(std::move(spec));
    if (!node.ok()) {
      return absl::Status(
          node.status().code(),
          absl::StrCat(op.Describe(), ": ", node.status().message()));
    }
    (*node)->add_origin(absl::StrCat("tflite_op_", op.index));
    return node;
  }

  // Emits `spec` writing op.out[0], followed by the fused activation.
  absl::Status EmitWithActivation(const Op& op, NodeSpec spec,
                                  fb::ActivationFunctionType act,
                                  Node** main = nullptr) {
    Value* out = op.out[0];
    if (act == fb::ActivationFunctionType_NONE) {
      spec.outputs = {out};
      QFORGE_ASSIGN_OR_RETURN(Node * n, Emit(op, std::move(spec)));
      if (main != nullptr) *main = n;
      return absl::OkStatus();
    }
    Value* pre = Intermediate(*out, "_preact");
    spec.outputs = {pre};
    QFORGE_ASSIGN_OR_RETURN(Node * n, Emit(op, std::move(spec)));
    if (main != nullptr) *main = n;
    NodeSpec a;
    a.name = absl::StrCat(out->name(), "_act");
    a.outputs = {out};
    switch (act) {
      case fb::ActivationFunctionType_RELU:
        a.op_type = "Relu";
        a.inputs = {pre};
        break;
      case fb::ActivationFunctionType_RELU6:
        a.op_type = "Clip";
        a.inputs = {pre, FloatScalar(absl::StrCat(out->name(), "_min"), 0.0f),
                    FloatScalar(absl::StrCat(out->name(), "_max"), 6.0f)};
        break;
      case fb::ActivationFunctionType_RELU_N1_TO_1:
        a.op_type = "Clip";
        a.inputs = {pre, FloatScalar(absl::StrCat(out->name(), "_min"), -1.0f),
                    FloatScalar(absl::StrCat(out->name(), "_max"), 1.0f)};
        break;
      case fb::ActivationFunctionType_TANH:
        a.op_type = "Tanh";
        a.inputs = {pre};
        break;
      default:
        return absl::UnimplementedError(
            absl::StrCat(op.Describe(), ": fused activation ",
                         static_cast<int>(act), " is not supported"));
    }
    return Emit(op, std::move(a)).status();
  }

  // `w` permuted by `perm` (a constant is permuted once; an activation gets
  // a Transpose node).
  absl::StatusOr<Value*> Permuted(const Op& op, Value* w,
                                  const std::vector<int>& perm) {
    const std::string key =
        absl::StrCat(w->name(), "/", absl::StrJoin(perm, ","));
    auto it = permuted_.find(key);
    if (it != permuted_.end()) return it->second;
    Value* out = nullptr;
    if (w->is_constant()) {
      Tensor t = PermuteTensor(*w->constant(), perm);
      std::optional<QuantParams> q = w->quant();
      if (q.has_value()) q->axis = PermutedAxis(q->axis, perm);
      t.set_quant(q);
      out = graph_.AddConstant(absl::StrCat(w->name(), "_onnx"), std::move(t));
      out->set_quant(q);
    } else {
      if (w->quant().has_value() && w->quant()->per_axis()) {
        return absl::UnimplementedError(absl::StrCat(
            op.Describe(), ": per-axis quantized non-constant weights"));
      }
      out = graph_.AddValue(absl::StrCat(w->name(), "_onnx"), w->dtype());
      out->set_quant(w->quant());
      std::vector<int64_t> p(perm.begin(), perm.end());
      QFORGE_RETURN_IF_ERROR(
          Emit(op, {.name = absl::StrCat(w->name(), "_transpose"),
                    .op_type = "Transpose",
                    .inputs = {w},
                    .outputs = {out},
                    .attributes = {{"perm", p}}})
              .status());
    }
    permuted_[key] = out;
    return out;
  }

  static std::string AutoPad(fb::Padding padding) {
    return padding == fb::Padding_VALID ? "VALID" : "SAME_UPPER";
  }

  absl::Status CheckPositive(const Op& op, absl::string_view what,
                             std::initializer_list<int> values) {
    for (int v : values) {
      if (v < 1) {
        return absl::DataLossError(
            absl::StrCat(op.Describe(), ": ", what, " must be >= 1, got ", v));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Node*> Unary(const Op& op, absl::string_view op_type,
                              std::map<std::string, Attribute> attrs = {}) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    return Emit(op, {.name = op.out[0]->name(),
                     .op_type = std::string(op_type),
                     .inputs = {x},
                     .outputs = {op.out[0]},
                     .attributes = std::move(attrs)});
  }

  absl::Status Binary(const Op& op, absl::string_view op_type,
                      fb::ActivationFunctionType act) {
    QFORGE_ASSIGN_OR_RETURN(Value * a, In(op, 0, "A"));
    QFORGE_ASSIGN_OR_RETURN(Value * b, In(op, 1, "B"));
    return EmitWithActivation(op,
                              {.name = op.out[0]->name(),
                               .op_type = std::string(op_type),
                               .inputs = {a, b}},
                              act);
  }

  // --- the op mapping ---------------------------------------------------

  absl::Status ImportConv(const Op& op, bool depthwise) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    QFORGE_ASSIGN_OR_RETURN(Value * w, In(op, 1, "filter"));
    Value* bias = OptIn(op, 2);
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> xd, NhwcDims(op, *x));
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> wd, StaticDims(op, *w, 4));
    int stride_h, stride_w, dil_h, dil_w;
    fb::Padding padding;
    fb::ActivationFunctionType act;
    int64_t group = 1;
    std::vector<int> perm;
    if (!depthwise) {
      const auto* o = op.op->builtin_options_as_Conv2DOptions();
      if (o == nullptr) {
        return absl::DataLossError(
            absl::StrCat(op.Describe(), " has no Conv2DOptions"));
      }
      stride_h = o->stride_h(), stride_w = o->stride_w();
      dil_h = o->dilation_h_factor(), dil_w = o->dilation_w_factor();
      padding = o->padding(), act = o->fused_activation_function();
      if (wd[3] < 1 || xd[3] % wd[3] != 0) {
        return absl::DataLossError(
            absl::StrCat(op.Describe(), ": input channels ", xd[3],
                         " are not a multiple of the filter's ", wd[3]));
      }
      group = xd[3] / wd[3];
      if (wd[0] % group != 0) {
        return absl::DataLossError(absl::StrCat(
            op.Describe(), ": ", wd[0], " output channels do not split into ",
            group, " groups"));
      }
      perm = {0, 3, 1, 2};  // OHWI -> OIHW.
    } else {
      const auto* o = op.op->builtin_options_as_DepthwiseConv2DOptions();
      if (o == nullptr) {
        return absl::DataLossError(
            absl::StrCat(op.Describe(), " has no DepthwiseConv2DOptions"));
      }
      stride_h = o->stride_h(), stride_w = o->stride_w();
      dil_h = o->dilation_h_factor(), dil_w = o->dilation_w_factor();
      padding = o->padding(), act = o->fused_activation_function();
      if (wd[0] != 1 || xd[3] < 1 || wd[3] % xd[3] != 0) {
        return absl::DataLossError(
            absl::StrCat(op.Describe(), ": filter shape [",
                         absl::StrJoin(wd, ","), "] does not fit ", xd[3],
                         " input channels (expected [1, kH, kW, C*M])"));
      }
      group = xd[3];
      perm = {3, 0, 1, 2};  // [1, kH, kW, C*M] -> [C*M, 1, kH, kW].
    }
    QFORGE_RETURN_IF_ERROR(CheckPositive(op, "strides and dilations",
                                         {stride_h, stride_w, dil_h, dil_w}));
    QFORGE_ASSIGN_OR_RETURN(Value * w2, Permuted(op, w, perm));
    NodeSpec spec{
        .name = op.out[0]->name(), .op_type = "Conv", .inputs = {x, w2}};
    if (bias != nullptr) spec.inputs.push_back(bias);
    spec.attributes = {{"kernel_shape", std::vector<int64_t>{wd[1], wd[2]}},
                       {"strides", std::vector<int64_t>{stride_h, stride_w}},
                       {"dilations", std::vector<int64_t>{dil_h, dil_w}},
                       {"auto_pad", AutoPad(padding)},
                       {"group", group}};
    Node* conv = nullptr;
    QFORGE_RETURN_IF_ERROR(EmitWithActivation(op, std::move(spec), act, &conv));
    conv->set_layout(Layout::kNHWC);
    return absl::OkStatus();
  }

  absl::Status ImportPool(const Op& op, absl::string_view op_type) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    const auto* o = op.op->builtin_options_as_Pool2DOptions();
    if (o == nullptr) {
      return absl::DataLossError(
          absl::StrCat(op.Describe(), " has no Pool2DOptions"));
    }
    QFORGE_RETURN_IF_ERROR(CheckPositive(
        op, "filter sizes and strides",
        {o->filter_height(), o->filter_width(), o->stride_h(), o->stride_w()}));
    Node* pool = nullptr;
    QFORGE_RETURN_IF_ERROR(EmitWithActivation(
        op,
        {.name = op.out[0]->name(),
         .op_type = std::string(op_type),
         .inputs = {x},
         .attributes =
             {{"kernel_shape",
               std::vector<int64_t>{o->filter_height(), o->filter_width()}},
              {"strides", std::vector<int64_t>{o->stride_h(), o->stride_w()}},
              {"auto_pad", AutoPad(o->padding())}}},
        o->fused_activation_function(), &pool));
    pool->set_layout(Layout::kNHWC);
    return absl::OkStatus();
  }

  absl::Status ImportFullyConnected(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    QFORGE_ASSIGN_OR_RETURN(Value * w, In(op, 1, "weights"));
    Value* bias = OptIn(op, 2);
    const auto* o = op.op->builtin_options_as_FullyConnectedOptions();
    fb::ActivationFunctionType act = fb::ActivationFunctionType_NONE;
    bool keep_num_dims = false;
    if (o != nullptr) {
      if (o->weights_format() !=
          fb::FullyConnectedOptionsWeightsFormat_DEFAULT) {
        return absl::UnimplementedError(absl::StrCat(
            op.Describe(), ": shuffled weights are not supported"));
      }
      act = o->fused_activation_function();
      keep_num_dims = o->keep_num_dims();
    }
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> wd, StaticDims(op, *w, 2));
    Value* x2 = x;
    if (x->shape().rank() != 2) {
      x2 = Intermediate(*x, "_flat");
      x2->set_shape(Shape());
      QFORGE_RETURN_IF_ERROR(
          Emit(op,
               {.name = x2->name(),
                .op_type = "Reshape",
                .inputs = {x, IntConstant(absl::StrCat(x2->name(), "_shape"),
                                          {2}, {-1, wd[1]})},
                .outputs = {x2}})
              .status());
    }
    NodeSpec gemm{.name = op.out[0]->name(),
                  .op_type = "Gemm",
                  .inputs = {x2, w},
                  .attributes = {{"transB", int64_t{1}}}};
    if (bias != nullptr) gemm.inputs.push_back(bias);
    Value* out = op.out[0];
    if (!keep_num_dims || out->shape().rank() == 2 || x->shape().rank() == 2) {
      return EmitWithActivation(op, std::move(gemm), act);
    }
    // keep_num_dims: Gemm on the flattened input, then back to [..., O].
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> od, StaticDims(op, *out, -1));
    Value* flat = Intermediate(*out, "_flat");
    flat->set_shape(Shape());
    Op inner = op;
    inner.out = {flat};
    QFORGE_RETURN_IF_ERROR(EmitWithActivation(inner, std::move(gemm), act));
    return Emit(op,
                {.name = absl::StrCat(out->name(), "_reshape"),
                 .op_type = "Reshape",
                 .inputs = {flat,
                            IntConstant(absl::StrCat(out->name(), "_shape"),
                                        {static_cast<int64_t>(od.size())}, od)},
                 .outputs = {out}})
        .status();
  }

  absl::Status ImportMean(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    QFORGE_ASSIGN_OR_RETURN(const Tensor* axes_t, ConstIn(op, 1, "axes"));
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> axes,
                            IntsOf(op, *axes_t, "axes"));
    const auto* o = op.op->builtin_options_as_ReducerOptions();
    const int64_t keep = (o != nullptr && o->keep_dims()) ? 1 : 0;
    return Emit(op, {.name = op.out[0]->name(),
                     .op_type = "ReduceMean",
                     .inputs = {x},
                     .outputs = {op.out[0]},
                     .attributes = {{"axes", axes}, {"keepdims", keep}}})
        .status();
  }

  absl::Status ImportConcat(const Op& op) {
    const auto* o = op.op->builtin_options_as_ConcatenationOptions();
    if (o == nullptr) {
      return absl::DataLossError(
          absl::StrCat(op.Describe(), " has no ConcatenationOptions"));
    }
    NodeSpec spec{.name = op.out[0]->name(),
                  .op_type = "Concat",
                  .attributes = {{"axis", int64_t{o->axis()}}}};
    for (size_t k = 0; k < op.in.size(); ++k) {
      QFORGE_ASSIGN_OR_RETURN(Value * v, In(op, static_cast<int>(k), "value"));
      spec.inputs.push_back(v);
    }
    if (spec.inputs.empty()) {
      return absl::DataLossError(absl::StrCat(op.Describe(), " has no inputs"));
    }
    return EmitWithActivation(op, std::move(spec),
                              o->fused_activation_function());
  }

  absl::Status ImportReshape(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    std::vector<int64_t> shape;
    Value* s = OptIn(op, 1);
    const auto* o = op.op->builtin_options_as_ReshapeOptions();
    if (s != nullptr && s->is_constant()) {
      QFORGE_ASSIGN_OR_RETURN(shape, IntsOf(op, *s->constant(), "shape"));
    } else if (o != nullptr && o->new_shape() != nullptr) {
      for (uint32_t k = 0; k < o->new_shape()->size(); ++k) {
        shape.push_back(o->new_shape()->Get(k));
      }
    } else {
      QFORGE_ASSIGN_OR_RETURN(shape, StaticDims(op, *op.out[0], -1));
    }
    return Emit(
               op,
               {.name = op.out[0]->name(),
                .op_type = "Reshape",
                .inputs = {x, IntConstant(
                                  absl::StrCat(op.out[0]->name(), "_shape"),
                                  {static_cast<int64_t>(shape.size())}, shape)},
                .outputs = {op.out[0]}})
        .status();
  }

  absl::Status ImportSoftmax(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    const auto* o = op.op->builtin_options_as_SoftmaxOptions();
    const float beta = o != nullptr ? o->beta() : 1.0f;
    Value* in = x;
    if (beta != 1.0f) {
      if (x->quant().has_value()) {
        return absl::UnimplementedError(absl::StrCat(
            op.Describe(), ": quantized softmax with beta ", beta));
      }
      in = Intermediate(*x, "_scaled");
      QFORGE_RETURN_IF_ERROR(
          Emit(op, {.name = in->name(),
                    .op_type = "Mul",
                    .inputs = {x, FloatScalar(absl::StrCat(in->name(), "_beta"),
                                              beta)},
                    .outputs = {in}})
              .status());
    }
    return Emit(op, {.name = op.out[0]->name(),
                     .op_type = "Softmax",
                     .inputs = {in},
                     .outputs = {op.out[0]},
                     .attributes = {{"axis", int64_t{-1}}}})
        .status();
  }

  absl::Status ImportPad(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    QFORGE_ASSIGN_OR_RETURN(const Tensor* p, ConstIn(op, 1, "paddings"));
    if (p->rank() != 2 || p->dim(1) != 2) {
      return absl::DataLossError(absl::StrCat(
          op.Describe(), ": paddings must have shape [rank, 2], got ",
          p->DebugString()));
    }
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> v, IntsOf(op, *p, "paddings"));
    const int64_t r = p->dim(0);
    std::vector<int64_t> pads(2 * r);
    for (int64_t k = 0; k < r; ++k) {
      pads[k] = v[2 * k];
      pads[r + k] = v[2 * k + 1];
    }
    return Emit(op, {.name = op.out[0]->name(),
                     .op_type = "Pad",
                     .inputs = {x, IntConstant(
                                       absl::StrCat(op.out[0]->name(), "_pads"),
                                       {2 * r}, pads)},
                     .outputs = {op.out[0]}})
        .status();
  }

  absl::Status ImportTranspose(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(const Tensor* p, ConstIn(op, 1, "perm"));
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> perm, IntsOf(op, *p, "perm"));
    return Unary(op, "Transpose", {{"perm", perm}}).status();
  }

  absl::Status ImportResize(const Op& op, bool bilinear) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> xd, StaticDims(op, *x, 4));
    QFORGE_ASSIGN_OR_RETURN(const Tensor* s, ConstIn(op, 1, "size"));
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> size, IntsOf(op, *s, "size"));
    if (size.size() != 2 || size[0] < 1 || size[1] < 1) {
      return absl::DataLossError(absl::StrCat(
          op.Describe(), ": size must be two positive integers, got [",
          absl::StrJoin(size, ","), "]"));
    }
    bool align = false, half = false;
    if (bilinear) {
      if (const auto* o = op.op->builtin_options_as_ResizeBilinearOptions()) {
        align = o->align_corners(), half = o->half_pixel_centers();
      }
    } else if (const auto* o =
                   op.op->builtin_options_as_ResizeNearestNeighborOptions()) {
      align = o->align_corners(), half = o->half_pixel_centers();
    }
    std::map<std::string, Attribute> attrs;
    attrs["mode"] = std::string(bilinear ? "linear" : "nearest");
    attrs["coordinate_transformation_mode"] = std::string(
        align ? "align_corners" : (half ? "half_pixel" : "asymmetric"));
    if (!bilinear) {
      attrs["nearest_mode"] =
          std::string((align || half) ? "round_prefer_ceil" : "floor");
    }
    // sizes list the axes in ONNX order (N, C, H, W) whatever the layout.
    Value* sizes = IntConstant(absl::StrCat(op.out[0]->name(), "_sizes"), {4},
                               {xd[0], xd[3], size[0], size[1]});
    QFORGE_ASSIGN_OR_RETURN(Node * n,
                            Emit(op, {.name = op.out[0]->name(),
                                      .op_type = "Resize",
                                      .inputs = {x, nullptr, nullptr, sizes},
                                      .outputs = {op.out[0]},
                                      .attributes = std::move(attrs)}));
    n->set_layout(Layout::kNHWC);
    return absl::OkStatus();
  }

  std::pair<Value*, Value*> QuantConstants(const std::string& base,
                                           const QuantParams& p) {
    const int64_t n = static_cast<int64_t>(p.scale.size());
    Value* scale =
        p.axis < 0
            ? graph_.AddConstant(absl::StrCat(base, "_scale"),
                                 Tensor::Scalar<float>(p.scale[0]))
            : graph_.AddConstant(absl::StrCat(base, "_scale"),
                                 Tensor::FromVector<float>({n}, p.scale));
    Tensor zp(p.storage,
              p.axis < 0 ? std::vector<int64_t>{} : std::vector<int64_t>{n});
    for (int64_t k = 0; k < zp.num_elements(); ++k) {
      switch (p.storage) {
        case DataType::kUint8:
          zp.data<uint8_t>()[k] = static_cast<uint8_t>(p.zero_point[k]);
          break;
        case DataType::kInt8:
          zp.data<int8_t>()[k] = static_cast<int8_t>(p.zero_point[k]);
          break;
        case DataType::kInt16:
          zp.data<int16_t>()[k] = static_cast<int16_t>(p.zero_point[k]);
          break;
        default:
          zp.data<int32_t>()[k] = static_cast<int32_t>(p.zero_point[k]);
          break;
      }
    }
    return {scale, graph_.AddConstant(absl::StrCat(base, "_zero_point"),
                                      std::move(zp))};
  }

  absl::Status ImportQuantize(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    Value* out = op.out[0];
    if (!out->quant().has_value()) {
      return absl::DataLossError(
          absl::StrCat(op.Describe(), ": output '", out->name(),
                       "' has no quantization parameters"));
    }
    if (x->quant().has_value()) {  // Requantize.
      return Unary(op, "Identity").status();
    }
    auto [scale, zp] = QuantConstants(out->name(), *out->quant());
    std::map<std::string, Attribute> attrs;
    if (out->quant()->per_axis()) attrs["axis"] = int64_t{out->quant()->axis};
    return Emit(op, {.name = out->name(),
                     .op_type = "QuantizeLinear",
                     .inputs = {x, scale, zp},
                     .outputs = {out},
                     .attributes = std::move(attrs)})
        .status();
  }

  absl::Status ImportDequantize(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
    Value* out = op.out[0];
    if (x->dtype() == DataType::kFloat16) {  // fp16 weights.
      return Unary(op, "Cast", {{"to", int64_t{1}}}).status();
    }
    if (!x->quant().has_value()) {
      return absl::DataLossError(
          absl::StrCat(op.Describe(), ": input '", x->name(),
                       "' has no quantization parameters"));
    }
    auto [scale, zp] = QuantConstants(x->name(), *x->quant());
    std::map<std::string, Attribute> attrs;
    if (x->quant()->per_axis()) attrs["axis"] = int64_t{x->quant()->axis};
    return Emit(op, {.name = out->name(),
                     .op_type = "DequantizeLinear",
                     .inputs = {x, scale, zp},
                     .outputs = {out},
                     .attributes = std::move(attrs)})
        .status();
  }

  absl::StatusOr<Value*> SwapLastTwo(const Op& op, Value* v) {
    const int rank = v->shape().rank();
    if (rank < 2) {
      return absl::DataLossError(absl::StrCat(op.Describe(), ": adjoint of '",
                                              v->name(), "' needs rank >= 2"));
    }
    std::vector<int> perm(rank);
    for (int k = 0; k < rank; ++k) perm[k] = k;
    std::swap(perm[rank - 1], perm[rank - 2]);
    return Permuted(op, v, perm);
  }

  absl::Status ImportBatchMatMul(const Op& op) {
    QFORGE_ASSIGN_OR_RETURN(Value * a, In(op, 0, "x"));
    QFORGE_ASSIGN_OR_RETURN(Value * b, In(op, 1, "y"));
    if (const auto* o = op.op->builtin_options_as_BatchMatMulOptions()) {
      if (o->adj_x()) {
        QFORGE_ASSIGN_OR_RETURN(a, SwapLastTwo(op, a));
      }
      if (o->adj_y()) {
        QFORGE_ASSIGN_OR_RETURN(b, SwapLastTwo(op, b));
      }
    }
    return Emit(op, {.name = op.out[0]->name(),
                     .op_type = "MatMul",
                     .inputs = {a, b},
                     .outputs = {op.out[0]}})
        .status();
  }

  static fb::ActivationFunctionType ActOf(const fb::AddOptions* o) {
    return o ? o->fused_activation_function() : fb::ActivationFunctionType_NONE;
  }
  static fb::ActivationFunctionType ActOf(const fb::SubOptions* o) {
    return o ? o->fused_activation_function() : fb::ActivationFunctionType_NONE;
  }
  static fb::ActivationFunctionType ActOf(const fb::MulOptions* o) {
    return o ? o->fused_activation_function() : fb::ActivationFunctionType_NONE;
  }

  absl::Status ImportBuiltin(const Op& op) {
    const fb::Operator& o = *op.op;
    switch (op.code) {
      case fb::BuiltinOperator_CONV_2D:
        return ImportConv(op, /*depthwise=*/false);
      case fb::BuiltinOperator_DEPTHWISE_CONV_2D:
        return ImportConv(op, /*depthwise=*/true);
      case fb::BuiltinOperator_FULLY_CONNECTED:
        return ImportFullyConnected(op);
      case fb::BuiltinOperator_ADD:
        return Binary(op, "Add", ActOf(o.builtin_options_as_AddOptions()));
      case fb::BuiltinOperator_SUB:
        return Binary(op, "Sub", ActOf(o.builtin_options_as_SubOptions()));
      case fb::BuiltinOperator_MUL:
        return Binary(op, "Mul", ActOf(o.builtin_options_as_MulOptions()));
      case fb::BuiltinOperator_AVERAGE_POOL_2D:
        return ImportPool(op, "AveragePool");
      case fb::BuiltinOperator_MAX_POOL_2D:
        return ImportPool(op, "MaxPool");
      case fb::BuiltinOperator_MEAN:
        return ImportMean(op);
      case fb::BuiltinOperator_CONCATENATION:
        return ImportConcat(op);
      case fb::BuiltinOperator_RESHAPE:
        return ImportReshape(op);
      case fb::BuiltinOperator_SOFTMAX:
        return ImportSoftmax(op);
      case fb::BuiltinOperator_LOGISTIC:
        return Unary(op, "Sigmoid").status();
      case fb::BuiltinOperator_TANH:
        return Unary(op, "Tanh").status();
      case fb::BuiltinOperator_RELU:
        return Unary(op, "Relu").status();
      case fb::BuiltinOperator_RELU6: {
        QFORGE_ASSIGN_OR_RETURN(Value * x, In(op, 0, "input"));
        const std::string& n = op.out[0]->name();
        return Emit(op,
                    {.name = n,
                     .op_type = "Clip",
                     .inputs = {x, FloatScalar(absl::StrCat(n, "_min"), 0.0f),
                                FloatScalar(absl::StrCat(n, "_max"), 6.0f)},
                     .outputs = {op.out[0]}})
            .status();
      }
      case fb::BuiltinOperator_LEAKY_RELU: {
        const auto* lo = o.builtin_options_as_LeakyReluOptions();
        const float alpha = lo != nullptr ? lo->alpha() : 0.0f;
        return Unary(op, "LeakyRelu", {{"alpha", alpha}}).status();
      }
      case fb::BuiltinOperator_HARD_SWISH:
        return Unary(op, "HardSwish").status();
      case fb::BuiltinOperator_GELU: {
        const auto* go = o.builtin_options_as_GeluOptions();
        const bool approx = go != nullptr && go->approximate();
        return Unary(op, "Gelu",
                     {{"approximate", std::string(approx ? "tanh" : "none")}})
            .status();
      }
      case fb::BuiltinOperator_PAD:
        return ImportPad(op);
      case fb::BuiltinOperator_TRANSPOSE:
        return ImportTranspose(op);
      case fb::BuiltinOperator_RESIZE_BILINEAR:
        return ImportResize(op, /*bilinear=*/true);
      case fb::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR:
        return ImportResize(op, /*bilinear=*/false);
      case fb::BuiltinOperator_QUANTIZE:
        return ImportQuantize(op);
      case fb::BuiltinOperator_DEQUANTIZE:
        return ImportDequantize(op);
      case fb::BuiltinOperator_BATCH_MATMUL:
        return ImportBatchMatMul(op);
      default:
        return absl::UnimplementedError(
            absl::StrCat(op.Describe(),
                         ": qforge does not map this TFLite builtin op "
                         "(docs/io.md lists the supported ones)"));
    }
  }

  absl::Status ImportCustom(const Op& op, const fb::OperatorCode& code) {
    if (code.custom_code() == nullptr || code.custom_code()->size() == 0) {
      return absl::DataLossError(
          absl::StrCat("operator #", op.index, " (CUSTOM) has no custom code"));
    }
    const std::string custom = code.custom_code()->str();
    const std::string what =
        absl::StrCat("operator #", op.index, " (CUSTOM '", custom, "')");
    if (op.op->large_custom_options_offset() > 1) {
      return absl::UnimplementedError(absl::StrCat(
          what, " keeps its custom options outside the FlatBuffer"));
    }
    std::string options;
    if (const auto* bytes = op.op->custom_options();
        bytes != nullptr && bytes->size() > 0) {
      if (op.op->custom_options_format() !=
          fb::CustomOptionsFormat_FLEXBUFFERS) {
        return absl::UnimplementedError(
            absl::StrCat(what, " has custom options in format ",
                         static_cast<int>(op.op->custom_options_format()),
                         "; qforge reads flexbuffers only"));
      }
      if (!flexbuffers::VerifyBuffer(bytes->data(), bytes->size())) {
        return absl::DataLossError(absl::StrCat(
            what, ": its ", bytes->size(),
            " bytes of custom_options are not a valid flexbuffer"));
      }
      options.assign(reinterpret_cast<const char*>(bytes->data()),
                     bytes->size());
    }
    NodeSpec spec{.name = op.out[0]->name(),
                  .domain = "tflite.custom",
                  .op_type = custom};
    spec.inputs = op.in;
    spec.outputs = op.out;
    QFORGE_ASSIGN_OR_RETURN(Node * n, Emit(op, std::move(spec)));
    n->set_custom_options(std::move(options));
    graph_.set_opset("tflite.custom", 1);
    return absl::OkStatus();
  }

  absl::string_view bytes_;
  const Registry& registry_;
  const fb::Model* model_ = nullptr;
  const fb::SubGraph* subgraph_ = nullptr;
  Graph graph_;
  std::vector<Value*> values_;
  absl::flat_hash_map<std::string, Value*> permuted_;
  bool quantized_ = false;
};

}  // namespace

absl::StatusOr<Graph> LoadTfliteFromBytes(absl::string_view bytes,
                                          const Registry& registry,
                                          absl::string_view source) {
  TfliteImporter importer(bytes, registry);
  absl::StatusOr<Graph> graph = importer.Run();
  if (!graph.ok()) return WithSource(graph.status(), source);
  return graph;
}

absl::StatusOr<Graph> LoadTflite(absl::string_view path,
                                 const Registry& registry) {
  std::string bytes;
  QFORGE_RETURN_IF_ERROR(
      internal::ReadFileToString(path, &bytes, kMaxModelBytes - 1));
  return LoadTfliteFromBytes(bytes, registry, path);
}

}  // namespace qforge

// Graph -> TFLite model (FlatBuffers). See qforge/io/tflite.h and the TFLite
// section of docs/io.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "io/atomic_file.h"
#include "io/tflite/schema_generated.h"
#include "io/tflite/tensor_util.h"
#include "ir/spatial_params.h"
#include "qforge/core/status.h"
#include "qforge/io/tflite.h"
#include "qforge/ir/layout.h"
#include "qforge/registry.h"

namespace qforge {
namespace {

namespace fb = tflite_fb;
using internal::PermutedAxis;
using internal::PermuteTensor;

absl::StatusOr<fb::TensorType> TfliteType(DataType t, absl::string_view what) {
  switch (t) {
    case DataType::kFloat32:
      return fb::TensorType_FLOAT32;
    case DataType::kFloat16:
      return fb::TensorType_FLOAT16;
    case DataType::kFloat64:
      return fb::TensorType_FLOAT64;
    case DataType::kInt8:
      return fb::TensorType_INT8;
    case DataType::kUint8:
      return fb::TensorType_UINT8;
    case DataType::kInt16:
      return fb::TensorType_INT16;
    case DataType::kUint16:
      return fb::TensorType_UINT16;
    case DataType::kInt32:
      return fb::TensorType_INT32;
    case DataType::kInt64:
      return fb::TensorType_INT64;
    case DataType::kBool:
      return fb::TensorType_BOOL;
    default:
      return absl::UnimplementedError(
          absl::StrCat(what, " has element type ", DataTypeName(t),
                       ", which has no TFLite equivalent qforge writes"));
  }
}

Tensor Int32Tensor(const std::vector<int64_t>& dims,
                   const std::vector<int64_t>& v) {
  Tensor t(DataType::kInt32, dims);
  for (size_t i = 0; i < v.size(); ++i) {
    t.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
  }
  return t;
}

bool SameParams(const std::optional<QuantParams>& a,
                const std::optional<QuantParams>& b) {
  if (!a.has_value() || !b.has_value()) return true;
  return a->scale == b->scale && a->zero_point == b->zero_point;
}

class TfliteExporter {
 public:
  TfliteExporter(const Graph& graph, const TfliteExportOptions& options)
      : graph_(graph.Clone()), options_(options) {
    buffers_.emplace_back();  // Buffer 0: the empty sentinel.
  }

  absl::StatusOr<std::string> Run() {
    QFORGE_RETURN_IF_ERROR(RegisterBuiltins(registry_));
    bool needs_nhwc = false;
    for (const Node* n : graph_.nodes()) {
      if (n->layout() == Layout::kNCHW && IsSpatial(*n) &&
          n->input(0) != nullptr && n->input(0)->shape().rank() >= 3) {
        needs_nhwc = true;
      }
    }
    if (needs_nhwc) {
      QFORGE_RETURN_IF_ERROR(
          ConvertLayout(graph_, Layout::kNHWC, registry_.schemas()));
    }
    QFORGE_RETURN_IF_ERROR(FoldConstantNodes());
    QFORGE_RETURN_IF_ERROR(FoldConstantDequantizeOutputs());
    QFORGE_RETURN_IF_ERROR(graph_.TopologicalSort());
    QFORGE_RETURN_IF_ERROR(PlanModelIo());
    QFORGE_RETURN_IF_ERROR(PlanFusedActivations());
    for (Node* n : graph_.nodes()) {
      if (skipped_.contains(n)) continue;
      absl::Status s = ExportNode(*n);
      if (!s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat(n->Describe(), ": ", s.message()));
      }
    }
    return Finish();
  }

 private:
  struct TensorDef {
    std::string name;
    fb::TensorType type;
    std::vector<int32_t> shape;
    std::vector<int32_t> signature;  // Non-empty when a dim is dynamic.
    std::optional<QuantParams> quant;
    uint32_t buffer = 0;
  };
  struct OpDef {
    int opcode;
    std::vector<int32_t> inputs, outputs;
    fb::BuiltinOptions options_type = fb::BuiltinOptions_NONE;
    flatbuffers::Offset<void> options;
    std::string custom_options;
  };

  static bool IsSpatial(const Node& n) {
    static const auto* kOps = new absl::flat_hash_set<std::string>{
        "Conv",          "MaxPool", "AveragePool",       "GlobalAveragePool",
        "GlobalMaxPool", "Resize",  "BatchNormalization"};
    return n.domain().empty() && kOps->contains(n.op_type());
  }

  // ONNX Constant nodes become constant values (TFLite has no such op).
  absl::Status FoldConstantNodes() {
    for (Node* n : graph_.nodes()) {
      if (!n->domain().empty() || n->op_type() != "Constant") continue;
      absl::StatusOr<const Tensor*> t = n->GetTensor("value");
      if (!t.ok() || n->output(0) == nullptr) {
        return absl::UnimplementedError(absl::StrCat(
            n->Describe(),
            ": only Constant nodes with a 'value' tensor are exported"));
      }
      Tensor data = **t;
      Value* out = n->output(0);
      graph_.RemoveNode(n);
      out->set_constant(std::move(data));
    }
    return absl::OkStatus();
  }

  // A float graph output computed by DequantizeLinear from a quantized
  // constant (e.g. anchors folded by a plugin) is written as the float
  // constant itself: LiteRT's default interpreter (XNNPACK delegate, and the
  // optimized DEQUANTIZE) leaves the output of a DEQUANTIZE whose input is a
  // constant unwritten (docs/io.md). The values are TFLite's DEQUANTIZE:
  // float(double(scale) * (q - zero_point)), per axis when the params are.
  // With integer model outputs the quantized constant is the output.
  absl::Status FoldConstantDequantizeOutputs() {
    if (options_.output_type != TfliteIoType::kFloat32) return absl::OkStatus();
    for (Value* v : graph_.outputs()) {
      Node* dq = v->producer();
      if (dq == nullptr || dq->op_type() != "DequantizeLinear" ||
          !dq->domain().empty() || dq->input(0) == nullptr ||
          !dq->input(0)->is_constant() || !dq->input(0)->quant().has_value() ||
          v->dtype() != DataType::kFloat32) {
        continue;
      }
      const Tensor& q = *dq->input(0)->constant();
      const QuantParams& p = *dq->input(0)->quant();
      const int64_t count = q.num_elements();
      int64_t inner = 1, channels = 1;
      if (p.per_axis()) {
        if (p.axis >= q.rank() ||
            static_cast<int64_t>(p.scale.size()) != q.dim(p.axis)) {
          return absl::FailedPreconditionError(
              absl::StrCat(dq->Describe(), ": per-axis params ", p.ToString(),
                           " do not fit the constant's dims"));
        }
        channels = q.dim(p.axis);
        for (int d = p.axis + 1; d < q.rank(); ++d) inner *= q.dim(d);
      } else if (p.scale.size() != 1 || p.zero_point.size() != 1) {
        return absl::FailedPreconditionError(
            absl::StrCat(dq->Describe(), ": malformed params ", p.ToString()));
      }
      Tensor f(DataType::kFloat32, q.dims());
      for (int64_t i = 0; i < count; ++i) {
        const int64_t c = p.per_axis() ? (i / inner) % channels : 0;
        f.data<float>()[i] = static_cast<float>(
            static_cast<double>(p.scale[c]) *
            static_cast<double>(q.GetAsInt64(i) - p.zero_point[c]));
      }
      graph_.RemoveNode(dq);
      v->set_constant(std::move(f));
    }
    return absl::OkStatus();
  }

  // --- fused activations --------------------------------------------------

  // The TFLite activation a Relu / Clip node is, if any.
  std::optional<fb::ActivationFunctionType> ActivationOf(const Node& n) {
    if (!n.domain().empty()) return std::nullopt;
    if (n.op_type() == "Relu") return fb::ActivationFunctionType_RELU;
    if (n.op_type() != "Clip") return std::nullopt;
    absl::StatusOr<std::pair<float, float>> b = ClipBounds(n);
    if (!b.ok()) return std::nullopt;
    if (b->first == 0.0f && std::isinf(b->second) && b->second > 0)
      return fb::ActivationFunctionType_RELU;
    if (b->first == 0.0f && b->second == 6.0f)
      return fb::ActivationFunctionType_RELU6;
    if (b->first == -1.0f && b->second == 1.0f)
      return fb::ActivationFunctionType_RELU_N1_TO_1;
    return std::nullopt;
  }

  // Whether `n` becomes a TFLite op with a fused_activation_function:
  // CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED (Gemm, MatMul by a constant
  // 2-D matrix), ADD, SUB, MUL (also the ADD of a float BatchNormalization).
  bool CanFuseActivation(const Node& n) {
    if (!n.domain().empty() || n.num_outputs() != 1) return false;
    const std::string& op = n.op_type();
    if (op == "Conv" || op == "Gemm" || op == "Add" || op == "Sub" ||
        op == "Mul" || op == "BatchNormalization") {
      return true;
    }
    if (op == "MatMul") {
      const Value* b = n.input(1);
      return b != nullptr && b->is_constant() && b->constant()->rank() == 2;
    }
    return false;
  }

  // An activation (Relu, Clip(0, 6), Clip(0, inf), Clip(-1, 1)) that is the
  // only reader of an op with a fused_activation_function field is written as
  // that field, the op writing the activation's output, as the TFLite
  // converter does. For a quantized graph only when the op's output and the
  // activation's output have the same params: TFLite then clamps the op's
  // output at the activation's quantized bounds, which is what the separate
  // RELU / RELU6 computes on equal params (its requantization by 1.0 is
  // exact), so the int8 results are unchanged. Otherwise the activation
  // stays its own op.
  absl::Status PlanFusedActivations() {
    for (Node* act : graph_.nodes()) {
      if (skipped_.contains(act)) continue;
      const std::optional<fb::ActivationFunctionType> type = ActivationOf(*act);
      if (!type.has_value() || act->input(0) == nullptr ||
          act->output(0) == nullptr) {
        continue;
      }
      Value* pre = act->input(0);
      Node* producer = pre->producer();
      if (producer == nullptr || skipped_.contains(producer) ||
          fused_.contains(producer) || !CanFuseActivation(*producer) ||
          pre->is_graph_output() || pre->consumers().size() != 1 ||
          tensor_of_.contains(pre) || pre->dtype() != act->output(0)->dtype() ||
          pre->quant().has_value() != act->output(0)->quant().has_value() ||
          (pre->quant().has_value() &&
           !(pre->quant()->scale == act->output(0)->quant()->scale &&
             pre->quant()->zero_point == act->output(0)->quant()->zero_point &&
             pre->quant()->storage == act->output(0)->quant()->storage))) {
        continue;
      }
      fused_[producer] = {*type, act->output(0)};
      skipped_.insert(act);
    }
    return absl::OkStatus();
  }

  fb::ActivationFunctionType Activation(const Node& n) const {
    auto it = fused_.find(&n);
    return it == fused_.end() ? fb::ActivationFunctionType_NONE
                              : it->second.type;
  }

  // --- model inputs and outputs -------------------------------------------

  absl::Status PlanModelIo() {
    for (Value* v : graph_.inputs()) {
      if (options_.input_type == TfliteIoType::kFloat32 ||
          v->quant().has_value()) {
        QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(v));
        model_inputs_.push_back(t);
        continue;
      }
      Node* q = nullptr;
      for (Node* c : v->consumers()) {
        if (c->op_type() != "QuantizeLinear" || c->output(0) == nullptr ||
            !c->output(0)->quant().has_value() ||
            (q != nullptr &&
             !SameParams(q->output(0)->quant(), c->output(0)->quant()))) {
          return absl::FailedPreconditionError(
              absl::StrCat("model input '", v->name(),
                           "' is not read through one QuantizeLinear, so it "
                           "cannot become an "
                           "integer model input; export with float inputs"));
        }
        q = c;
      }
      if (q == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("model input '", v->name(), "' is not used"));
      }
      for (Node* c : v->consumers()) skipped_.insert(c);
      Value* qv = q->output(0);
      for (Node* c : v->consumers()) {
        if (c != q) graph_.ReplaceAllUses(c->output(0), qv);
      }
      QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(qv));
      if (options_.input_type == TfliteIoType::kUint8) {
        QFORGE_ASSIGN_OR_RETURN(int u, Uint8Twin(qv, t));
        QFORGE_RETURN_IF_ERROR(AddQuantize(u, t));
        t = u;
      }
      tensors_[t].name = v->name();
      model_inputs_.push_back(t);
    }
    for (Value* v : graph_.outputs()) {
      Node* dq = v->producer();
      if (options_.output_type == TfliteIoType::kFloat32 ||
          v->quant().has_value()) {
        QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(v));
        model_outputs_.push_back(t);
        continue;
      }
      if (dq == nullptr || dq->op_type() != "DequantizeLinear" ||
          dq->input(0) == nullptr || !dq->input(0)->quant().has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "model output '", v->name(),
            "' is not the DequantizeLinear of a quantized value, so it cannot "
            "become an integer model output; export with float outputs"));
      }
      if (v->consumers().empty()) skipped_.insert(dq);
      Value* qv = dq->input(0);
      QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(qv));
      if (options_.output_type == TfliteIoType::kUint8) {
        QFORGE_ASSIGN_OR_RETURN(int u, Uint8Twin(qv, t));
        if (qv->is_constant()) {
          // A QUANTIZE of a constant does not run in LiteRT (it crashes in
          // 2.3): the uint8 output is the shifted constant itself.
          const Tensor& c = *qv->constant();
          Tensor shifted(DataType::kUint8, c.dims());
          for (int64_t i = 0; i < c.num_elements(); ++i) {
            shifted.data<uint8_t>()[i] =
                static_cast<uint8_t>(c.GetAsInt64(i) + 128);
          }
          tensors_[u].buffer = AddBuffer(shifted);
        } else {
          deferred_quantize_.push_back({t, u});
        }
        t = u;
      }
      tensors_[t].name = v->name();
      model_outputs_.push_back(t);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int> Uint8Twin(const Value* qv, int t) {
    const QuantParams& p = *qv->quant();
    if (p.storage != DataType::kInt8 || p.per_axis()) {
      return absl::FailedPreconditionError(
          absl::StrCat("uint8 model IO needs a per-tensor int8 value; '",
                       qv->name(), "' is ", p.ToString()));
    }
    QuantParams u = QuantParams::PerTensor(p.scale[0], p.zero_point[0] + 128,
                                           DataType::kUint8);
    TensorDef def = tensors_[t];
    def.type = fb::TensorType_UINT8;
    def.quant = u;
    def.name = absl::StrCat(qv->name(), "_uint8");
    tensors_.push_back(def);
    return static_cast<int>(tensors_.size()) - 1;
  }

  // --- tensors ------------------------------------------------------------

  absl::StatusOr<int> TensorOf(const Value* v) {
    if (v == nullptr) return -1;
    auto it = tensor_of_.find(v);
    if (it != tensor_of_.end()) return it->second;
    TensorDef def;
    def.name = v->name();
    QFORGE_ASSIGN_OR_RETURN(
        def.type,
        TfliteType(v->dtype(), absl::StrCat("value '", v->name(), "'")));
    def.quant = v->quant();
    if (v->is_constant()) {
      const Tensor& t = *v->constant();
      for (int64_t d : t.dims()) def.shape.push_back(static_cast<int32_t>(d));
      def.buffer = AddBuffer(t);
    } else {
      const Shape& s = v->shape();
      if (s.rank() < 0 || (s.rank() == 0 && !s.is_static())) {
        return absl::FailedPreconditionError(
            absl::StrCat("value '", v->name(), "' has an unknown rank"));
      }
      bool dynamic = false;
      for (const Dim& d : s.dims()) {
        def.shape.push_back(d.is_static() ? static_cast<int32_t>(d.value) : 1);
        def.signature.push_back(d.is_static() ? static_cast<int32_t>(d.value)
                                              : -1);
        dynamic |= !d.is_static();
      }
      if (!dynamic) def.signature.clear();
    }
    tensors_.push_back(std::move(def));
    const int index = static_cast<int>(tensors_.size()) - 1;
    tensor_of_[v] = index;
    return index;
  }

  uint32_t AddBuffer(const Tensor& t) {
    buffers_.emplace_back(static_cast<const char*>(t.raw_data()),
                          t.num_bytes());
    return static_cast<uint32_t>(buffers_.size()) - 1;
  }

  int AddConst(std::string name, const Tensor& t,
               std::optional<QuantParams> q = {}) {
    TensorDef def;
    def.name = std::move(name);
    def.type = *TfliteType(t.dtype(), "constant");
    for (int64_t d : t.dims()) def.shape.push_back(static_cast<int32_t>(d));
    def.quant = std::move(q);
    def.buffer = AddBuffer(t);
    tensors_.push_back(std::move(def));
    return static_cast<int>(tensors_.size()) - 1;
  }

  // A new activation tensor like tensor `like` with other params.
  int AddLike(int like, absl::string_view suffix,
              std::optional<QuantParams> q) {
    TensorDef def = tensors_[like];
    def.name = absl::StrCat(def.name, suffix);
    def.quant = std::move(q);
    def.buffer = 0;
    tensors_.push_back(std::move(def));
    return static_cast<int>(tensors_.size()) - 1;
  }

  // --- operators ----------------------------------------------------------

  int OpCode(int32_t builtin, const std::string& custom = "") {
    const std::string key = absl::StrCat(builtin, "/", custom);
    auto it = opcode_of_.find(key);
    if (it != opcode_of_.end()) return it->second;
    codes_.push_back({builtin, custom});
    const int index = static_cast<int>(codes_.size()) - 1;
    opcode_of_[key] = index;
    return index;
  }

  void AddOp(int32_t builtin, std::vector<int32_t> in, std::vector<int32_t> out,
             fb::BuiltinOptions type = fb::BuiltinOptions_NONE,
             flatbuffers::Offset<void> options = 0) {
    ops_.push_back(
        {OpCode(builtin), std::move(in), std::move(out), type, options, ""});
  }

  absl::Status AddQuantize(int from, int to) {
    AddOp(fb::BuiltinOperator_QUANTIZE, {from}, {to},
          fb::BuiltinOptions_QuantizeOptions,
          fb::CreateQuantizeOptions(b_).Union());
    return absl::OkStatus();
  }

  // Tensor `t` requantized to `target` params (a new QUANTIZE when they
  // differ): int8 ops whose spec needs equal input and output params.
  int WithParams(int t, const std::optional<QuantParams>& target) {
    if (SameParams(tensors_[t].quant, target) ||
        !tensors_[t].quant.has_value()) {
      return t;
    }
    const int r = AddLike(t, "_requantized", target);
    (void)AddQuantize(t, r);
    return r;
  }

  // Output tensor of an int8 op whose spec fixes its params: when the
  // graph's params differ, the op writes a fixed-params tensor that a
  // QUANTIZE then requantizes into `out`.
  int FixedOutput(int out, float scale, int64_t zero_point) {
    const auto& q = tensors_[out].quant;
    if (!q.has_value() || q->storage != DataType::kInt8) return out;
    const QuantParams fixed = QuantParams::PerTensor(scale, zero_point);
    if (q->scale == fixed.scale && q->zero_point == fixed.zero_point)
      return out;
    const int f = AddLike(out, "_fixed", fixed);
    post_ops_.push_back({f, out});
    return f;
  }

  void FlushPostOps() {
    for (auto [from, to] : post_ops_) (void)AddQuantize(from, to);
    post_ops_.clear();
  }

  absl::StatusOr<std::vector<int32_t>> Inputs(const Node& n, int count) {
    std::vector<int32_t> out;
    for (int i = 0; i < count; ++i) {
      QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(n.input(i)));
      out.push_back(t);
    }
    return out;
  }

  absl::StatusOr<int32_t> Output(const Node& n) {
    if (n.num_outputs() != 1 || n.output(0) == nullptr) {
      return absl::UnimplementedError("only single-output nodes are exported");
    }
    auto it = fused_.find(&n);
    if (it != fused_.end()) return TensorOf(it->second.output);
    return TensorOf(n.output(0));
  }

  absl::StatusOr<std::vector<int64_t>> StaticDims(const Value* v) {
    if (v == nullptr) return absl::InvalidArgumentError("missing input");
    if (v->is_constant()) return v->constant()->dims();
    std::optional<std::vector<int64_t>> d = v->shape().static_dims();
    if (!d.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("value '", v->name(), "' needs a static shape, has ",
                       v->shape().ToString()));
    }
    return *d;
  }

  // RESHAPE's new_shape for an output value: its dims, with -1 for one
  // unknown dim (e.g. the batch of a Flatten).
  absl::StatusOr<std::vector<int64_t>> ReshapeDims(const Value* v) {
    if (v == nullptr) return absl::InvalidArgumentError("missing output");
    const Shape& s = v->shape();
    std::vector<int64_t> out;
    int unknown = 0;
    for (int i = 0; i < s.rank(); ++i) {
      const Dim& d = s.dims()[i];
      out.push_back(d.is_static() ? d.value : -1);
      unknown += !d.is_static();
    }
    if (s.rank() < 0 || unknown > 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "value '", v->name(),
          "' needs a shape with at most one unknown dim, has ", s.ToString()));
    }
    return out;
  }

  // Dims of an NHWC activation; the batch may be unknown (reported as 1).
  absl::StatusOr<std::vector<int64_t>> NhwcDims(const Value* v) {
    if (v == nullptr) return absl::InvalidArgumentError("missing input");
    const Shape& s = v->shape();
    std::vector<int64_t> out;
    for (int i = 0; i < s.rank(); ++i) {
      const Dim& d = s.dims()[i];
      if (!d.is_static() && i != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "value '", v->name(),
            "' needs static spatial and channel dims, has ", s.ToString()));
      }
      out.push_back(d.is_static() ? d.value : 1);
    }
    return out;
  }

  absl::StatusOr<std::vector<int64_t>> ConstInts(const Value* v,
                                                 absl::string_view what) {
    if (v == nullptr || !v->is_constant()) {
      return absl::UnimplementedError(
          absl::StrCat(what, " must be a constant"));
    }
    std::vector<int64_t> out;
    const Tensor& t = *v->constant();
    for (int64_t i = 0; i < t.num_elements(); ++i)
      out.push_back(t.GetAsInt64(i));
    return out;
  }

  // TFLite SAME / VALID for a window op, or nullopt when the node's padding
  // is neither (explicit pads stay in `pads`: begins, then ends).
  struct Window {
    internal::SpatialParams params;
    std::optional<fb::Padding> padding;
    std::vector<int64_t> pads;
  };

  absl::StatusOr<Window> ReadWindow(const Node& n,
                                    const std::vector<int64_t>& x_dims,
                                    const std::vector<int64_t>* kernel_fallback,
                                    bool read_ceil) {
    Window w;
    QFORGE_ASSIGN_OR_RETURN(w.params, internal::ReadSpatialParams(
                                          n, 2, kernel_fallback, read_ceil));
    bool is_valid = true, is_same = true;
    w.pads.assign(4, 0);
    for (int i = 0; i < 2; ++i) {
      const int64_t in = x_dims[1 + i];
      QFORGE_ASSIGN_OR_RETURN(internal::SpatialDim d,
                              internal::ComputeSpatialDim(n, w.params, i, in));
      w.pads[i] = d.pad_begin;
      w.pads[2 + i] = d.pad_end;
      const int64_t s = w.params.strides[i];
      const int64_t dk = (w.params.kernel[i] - 1) * w.params.dilations[i] + 1;
      const int64_t valid_out = in >= dk ? (in - dk) / s + 1 : 0;
      if (d.pad_begin != 0 || d.pad_end != 0 || d.out != valid_out)
        is_valid = false;
      const int64_t same_out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>((same_out - 1) * s + dk - in, 0);
      if (d.out != same_out || d.pad_begin != total / 2 ||
          d.pad_end != total - total / 2)
        is_same = false;
    }
    if (is_valid) {
      w.padding = fb::Padding_VALID;
    } else if (is_same) {
      w.padding = fb::Padding_SAME;
    }
    return w;
  }

  // The bias tensor of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED. With
  // per-tensor weights the bias is written per-tensor too, as the converter
  // does (the quantizer gives the bias one scale per channel, all equal
  // then): XNNPACK refuses per-channel bias params with per-tensor weights
  // ("failed to delegate CONV_2D").
  absl::StatusOr<int> BiasOf(const Value* bias,
                             const std::optional<QuantParams>& wq) {
    QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(bias));
    if (t < 0 || !wq.has_value() || wq->per_axis()) return t;
    std::optional<QuantParams>& bq = tensors_[t].quant;
    if (!bq.has_value() || !bq->per_axis() || bq->scale.empty()) return t;
    for (size_t i = 0; i < bq->scale.size(); ++i) {
      if (bq->scale[i] != bq->scale[0] ||
          bq->zero_point[i] != bq->zero_point[0]) {
        return t;
      }
    }
    bq = QuantParams::PerTensor(bq->scale[0], bq->zero_point[0], bq->storage);
    return t;
  }

  absl::Status ExportConv(const Node& n) {
    const Value* x = n.input(0);
    const Value* w = n.input(1);
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> xd, NhwcDims(x));
    if (xd.size() != 4 || n.layout() != Layout::kNHWC) {
      return absl::UnimplementedError(
          "only 2-D NHWC convolutions are exported");
    }
    if (w == nullptr || !w->is_constant() || w->constant()->rank() != 4) {
      return absl::UnimplementedError("the weights must be a rank-4 constant");
    }
    const Tensor& wt = *w->constant();
    QFORGE_ASSIGN_OR_RETURN(int64_t group, n.GetInt("group", 1));
    const int64_t c = xd[3];
    const bool depthwise = group > 1 && group == c && wt.dim(1) == 1;
    if (group != 1 && !depthwise) {
      return absl::UnimplementedError(absl::StrCat(
          "grouped convolution (group ", group, ") has no TFLite op"));
    }
    std::vector<int64_t> kernel = {wt.dim(2), wt.dim(3)};
    QFORGE_ASSIGN_OR_RETURN(Window win, ReadWindow(n, xd, &kernel, false));
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(x));
    if (!win.padding.has_value()) {
      // Explicit padding: a PAD op (zero, i.e. the zero point) then VALID.
      const int padded = AddLike(in, "_padded", tensors_[in].quant);
      tensors_[padded].shape[1] +=
          static_cast<int32_t>(win.pads[0] + win.pads[2]);
      tensors_[padded].shape[2] +=
          static_cast<int32_t>(win.pads[1] + win.pads[3]);
      tensors_[padded].signature.clear();
      const int p =
          AddConst(absl::StrCat(n.name(), "_paddings"),
                   Int32Tensor({4, 2}, {0, 0, win.pads[0], win.pads[2],
                                        win.pads[1], win.pads[3], 0, 0}));
      AddOp(fb::BuiltinOperator_PAD, {in, p}, {padded},
            fb::BuiltinOptions_PadOptions, fb::CreatePadOptions(b_).Union());
      in = padded;
      win.padding = fb::Padding_VALID;
    }
    const std::vector<int> perm =
        depthwise ? std::vector<int>{1, 2, 3, 0} : std::vector<int>{0, 2, 3, 1};
    Tensor wp = PermuteTensor(wt, perm);
    std::optional<QuantParams> wq = w->quant();
    if (wq.has_value()) wq->axis = PermutedAxis(wq->axis, perm);
    const int wi = AddConst(w->name(), wp, wq);
    QFORGE_ASSIGN_OR_RETURN(int bias, BiasOf(n.input(2), wq));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    const auto& sp = win.params;
    if (depthwise) {
      AddOp(
          fb::BuiltinOperator_DEPTHWISE_CONV_2D, {in, wi, bias}, {out},
          fb::BuiltinOptions_DepthwiseConv2DOptions,
          fb::CreateDepthwiseConv2DOptions(
              b_, *win.padding, static_cast<int>(sp.strides[1]),
              static_cast<int>(sp.strides[0]), static_cast<int>(wt.dim(0) / c),
              Activation(n), static_cast<int>(sp.dilations[1]),
              static_cast<int>(sp.dilations[0]))
              .Union());
    } else {
      AddOp(fb::BuiltinOperator_CONV_2D, {in, wi, bias}, {out},
            fb::BuiltinOptions_Conv2DOptions,
            fb::CreateConv2DOptions(
                b_, *win.padding, static_cast<int>(sp.strides[1]),
                static_cast<int>(sp.strides[0]), Activation(n),
                static_cast<int>(sp.dilations[1]),
                static_cast<int>(sp.dilations[0]))
                .Union());
    }
    return absl::OkStatus();
  }

  absl::Status ExportPool(const Node& n, int32_t builtin) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> xd, NhwcDims(n.input(0)));
    if (xd.size() != 4 || n.layout() != Layout::kNHWC) {
      return absl::UnimplementedError("only 2-D NHWC pools are exported");
    }
    if (n.num_outputs() > 1 && n.output(1) != nullptr) {
      return absl::UnimplementedError(
          "MaxPool's Indices output has no TFLite op");
    }
    QFORGE_ASSIGN_OR_RETURN(Window win, ReadWindow(n, xd, nullptr, true));
    for (int64_t d : win.params.dilations) {
      if (d != 1)
        return absl::UnimplementedError("dilated pools have no TFLite op");
    }
    QFORGE_ASSIGN_OR_RETURN(int64_t include_pad,
                            n.GetInt("count_include_pad", 0));
    const bool padded = std::any_of(win.pads.begin(), win.pads.end(),
                                    [](int64_t p) { return p != 0; });
    if (!win.padding.has_value() ||
        (builtin == fb::BuiltinOperator_AVERAGE_POOL_2D && include_pad &&
         padded)) {
      return absl::UnimplementedError(
          "the padding is neither TFLite's SAME nor VALID (pools cannot take a "
          "PAD)");
    }
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    in = WithParams(in, tensors_[out].quant);
    const auto& sp = win.params;
    AddOp(builtin, {in}, {out}, fb::BuiltinOptions_Pool2DOptions,
          fb::CreatePool2DOptions(
              b_, *win.padding, static_cast<int>(sp.strides[1]),
              static_cast<int>(sp.strides[0]), static_cast<int>(sp.kernel[1]),
              static_cast<int>(sp.kernel[0]))
              .Union());
    return absl::OkStatus();
  }

  absl::Status ExportMean(const Node& n, std::vector<int64_t> axes, bool keep) {
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    const int a =
        AddConst(absl::StrCat(n.name(), "_axes"),
                 Int32Tensor({static_cast<int64_t>(axes.size())}, axes));
    AddOp(fb::BuiltinOperator_MEAN, {in, a}, {out},
          fb::BuiltinOptions_ReducerOptions,
          fb::CreateReducerOptions(b_, keep).Union());
    return absl::OkStatus();
  }

  absl::Status ExportFullyConnected(const Node& n, const Value* a,
                                    Tensor weights,
                                    std::optional<QuantParams> wq,
                                    const Value* bias, bool keep_num_dims) {
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(a));
    QFORGE_ASSIGN_OR_RETURN(int b, BiasOf(bias, wq));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    const int w = AddConst(absl::StrCat(n.name(), "_weights"), weights, wq);
    AddOp(fb::BuiltinOperator_FULLY_CONNECTED, {in, w, b}, {out},
          fb::BuiltinOptions_FullyConnectedOptions,
          fb::CreateFullyConnectedOptions(
              b_, Activation(n), fb::FullyConnectedOptionsWeightsFormat_DEFAULT,
              keep_num_dims)
              .Union());
    return absl::OkStatus();
  }

  absl::Status ExportGemm(const Node& n) {
    QFORGE_ASSIGN_OR_RETURN(float alpha, n.GetFloat("alpha", 1.0f));
    QFORGE_ASSIGN_OR_RETURN(float beta, n.GetFloat("beta", 1.0f));
    QFORGE_ASSIGN_OR_RETURN(int64_t trans_a, n.GetInt("transA", 0));
    QFORGE_ASSIGN_OR_RETURN(int64_t trans_b, n.GetInt("transB", 0));
    if (alpha != 1.0f || beta != 1.0f || trans_a != 0) {
      return absl::UnimplementedError(
          "only Gemm with alpha = beta = 1, transA = 0");
    }
    const Value* w = n.input(1);
    if (w == nullptr || !w->is_constant() || w->constant()->rank() != 2) {
      return absl::UnimplementedError("Gemm needs constant 2-D weights");
    }
    const Value* c = n.input(2);
    if (c != nullptr && c->shape().rank() != 1) {
      return absl::UnimplementedError("Gemm's C must be a vector");
    }
    Tensor wt = *w->constant();
    std::optional<QuantParams> wq = w->quant();
    if (trans_b == 0) {
      wt = PermuteTensor(wt, {1, 0});
      if (wq.has_value()) wq->axis = PermutedAxis(wq->axis, {1, 0});
    }
    return ExportFullyConnected(n, n.input(0), std::move(wt), wq, c, false);
  }

  absl::Status ExportMatMul(const Node& n) {
    const Value* b = n.input(1);
    if (b != nullptr && b->is_constant() && b->constant()->rank() == 2) {
      Tensor wt = PermuteTensor(*b->constant(), {1, 0});
      std::optional<QuantParams> wq = b->quant();
      if (wq.has_value()) wq->axis = PermutedAxis(wq->axis, {1, 0});
      return ExportFullyConnected(n, n.input(0), std::move(wt), wq, nullptr,
                                  n.input(0)->shape().rank() != 2);
    }
    QFORGE_ASSIGN_OR_RETURN(std::vector<int32_t> in, Inputs(n, 2));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    AddOp(fb::BuiltinOperator_BATCH_MATMUL, in, {out},
          fb::BuiltinOptions_BatchMatMulOptions,
          fb::CreateBatchMatMulOptions(b_).Union());
    return absl::OkStatus();
  }

  absl::Status ExportUnary(const Node& n, int32_t builtin,
                           fb::BuiltinOptions type = fb::BuiltinOptions_NONE,
                           flatbuffers::Offset<void> options = 0) {
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    AddOp(builtin, {in}, {out}, type, options);
    return absl::OkStatus();
  }

  // Clip's [min, max] (attributes before opset 11, constant inputs after).
  absl::StatusOr<std::pair<float, float>> ClipBounds(const Node& n) {
    float lo = -INFINITY, hi = INFINITY;
    if (graph_.onnx_opset() < 11 && graph_.onnx_opset() != 0) {
      QFORGE_ASSIGN_OR_RETURN(lo, n.GetFloat("min", -INFINITY));
      QFORGE_ASSIGN_OR_RETURN(hi, n.GetFloat("max", INFINITY));
      return std::pair{lo, hi};
    }
    for (int i : {1, 2}) {
      const Value* v = i < n.num_inputs() ? n.input(i) : nullptr;
      if (v == nullptr) continue;
      if (!v->is_constant() || v->constant()->num_elements() != 1) {
        return absl::UnimplementedError("Clip bounds must be constant scalars");
      }
      (i == 1 ? lo : hi) = static_cast<float>(v->constant()->GetAsDouble(0));
    }
    return std::pair{lo, hi};
  }

  absl::Status ExportClip(const Node& n) {
    QFORGE_ASSIGN_OR_RETURN(auto bounds, ClipBounds(n));
    const std::optional<float> lo = bounds.first, hi = bounds.second;
    if (*lo == 0.0f && *hi == 6.0f)
      return ExportUnary(n, fb::BuiltinOperator_RELU6);
    if (*lo == 0.0f && std::isinf(*hi))
      return ExportUnary(n, fb::BuiltinOperator_RELU);
    return absl::UnimplementedError(absl::StrCat(
        "Clip to [", *lo, ", ", *hi, "] has no TFLite op (RELU6 / RELU only)"));
  }

  absl::Status ExportFixedOutputUnary(const Node& n, int32_t builtin,
                                      float scale, int64_t zp,
                                      fb::BuiltinOptions type,
                                      flatbuffers::Offset<void> options) {
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    const int o = FixedOutput(out, scale, zp);
    AddOp(builtin, {in}, {o}, type, options);
    FlushPostOps();
    return absl::OkStatus();
  }

  absl::Status ExportSoftmax(const Node& n) {
    const int rank = n.input(0)->shape().rank();
    if (rank < 1) {
      return absl::FailedPreconditionError("the input's rank is unknown");
    }
    QFORGE_ASSIGN_OR_RETURN(
        int64_t axis, n.GetInt("axis", graph_.onnx_opset() >= 13 ? -1 : 1));
    if (axis < 0) axis += rank;
    if (axis != rank - 1) {
      return absl::UnimplementedError("Softmax only over the last axis");
    }
    return ExportFixedOutputUnary(n, fb::BuiltinOperator_SOFTMAX, 1.0f / 256,
                                  -128, fb::BuiltinOptions_SoftmaxOptions,
                                  fb::CreateSoftmaxOptions(b_, 1.0f).Union());
  }

  absl::Status ExportConcat(const Node& n) {
    QFORGE_ASSIGN_OR_RETURN(int64_t axis, n.RequireInt("axis"));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    std::vector<int32_t> in;
    for (int i = 0; i < n.num_inputs(); ++i) {
      QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(n.input(i)));
      in.push_back(WithParams(t, tensors_[out].quant));
    }
    AddOp(fb::BuiltinOperator_CONCATENATION, in, {out},
          fb::BuiltinOptions_ConcatenationOptions,
          fb::CreateConcatenationOptions(b_, static_cast<int>(axis)).Union());
    return absl::OkStatus();
  }

  absl::Status ExportReshapeTo(const Node& n, std::vector<int64_t> shape) {
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    in = WithParams(in, tensors_[out].quant);
    const int s =
        AddConst(absl::StrCat(n.name(), "_shape"),
                 Int32Tensor({static_cast<int64_t>(shape.size())}, shape));
    AddOp(fb::BuiltinOperator_RESHAPE, {in, s}, {out},
          fb::BuiltinOptions_ReshapeOptions,
          fb::CreateReshapeOptions(b_).Union());
    return absl::OkStatus();
  }

  absl::Status ExportReshape(const Node& n) {
    std::optional<std::vector<int64_t>> out_dims =
        n.output(0)->shape().static_dims();
    if (out_dims.has_value()) return ExportReshapeTo(n, *out_dims);
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                            ConstInts(n.input(1), "shape"));
    QFORGE_ASSIGN_OR_RETURN(int64_t allowzero, n.GetInt("allowzero", 0));
    const Shape& xs = n.input(0)->shape();
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0 && allowzero == 0) {
        if (static_cast<int>(i) >= xs.rank() || !xs.dims()[i].is_static()) {
          return absl::UnimplementedError(
              "Reshape copying an unknown dimension");
        }
        shape[i] = xs.dims()[i].value;
      }
    }
    return ExportReshapeTo(n, shape);
  }

  absl::Status ExportPad(const Node& n) {
    QFORGE_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "constant"));
    if (mode != "constant") {
      return absl::UnimplementedError(absl::StrCat("Pad mode '", mode, "'"));
    }
    const Value* cv = n.input(2);
    if (cv != nullptr &&
        (!cv->is_constant() || cv->constant()->num_elements() != 1 ||
         cv->constant()->GetAsDouble(0) != 0.0)) {
      return absl::UnimplementedError("Pad with a non-zero constant_value");
    }
    if (n.input(3) != nullptr) return absl::UnimplementedError("Pad with axes");
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> pads,
                            ConstInts(n.input(1), "pads"));
    const int64_t r = static_cast<int64_t>(pads.size()) / 2;
    std::vector<int64_t> p(2 * r);
    for (int64_t i = 0; i < r; ++i) {
      p[2 * i] = pads[i];
      p[2 * i + 1] = pads[r + i];
      if (pads[i] < 0 || pads[r + i] < 0) {
        return absl::UnimplementedError("negative pads (cropping)");
      }
    }
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    in = WithParams(in, tensors_[out].quant);
    const int pt =
        AddConst(absl::StrCat(n.name(), "_paddings"), Int32Tensor({r, 2}, p));
    AddOp(fb::BuiltinOperator_PAD, {in, pt}, {out},
          fb::BuiltinOptions_PadOptions, fb::CreatePadOptions(b_).Union());
    return absl::OkStatus();
  }

  absl::Status ExportTranspose(const Node& n) {
    const int rank = n.input(0)->shape().rank();
    if (rank < 0) {
      return absl::FailedPreconditionError("the input's rank is unknown");
    }
    std::vector<int64_t> def(rank);
    for (int i = 0; i < rank; ++i) def[i] = rank - 1 - i;
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> perm, n.GetInts("perm", def));
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    in = WithParams(in, tensors_[out].quant);
    const int p =
        AddConst(absl::StrCat(n.name(), "_perm"),
                 Int32Tensor({static_cast<int64_t>(perm.size())}, perm));
    AddOp(fb::BuiltinOperator_TRANSPOSE, {in, p}, {out},
          fb::BuiltinOptions_TransposeOptions,
          fb::CreateTransposeOptions(b_).Union());
    return absl::OkStatus();
  }

  absl::Status ExportResize(const Node& n) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> od, NhwcDims(n.output(0)));
    if (od.size() != 4 || n.layout() != Layout::kNHWC) {
      return absl::UnimplementedError("only 2-D NHWC Resize is exported");
    }
    QFORGE_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "nearest"));
    QFORGE_ASSIGN_OR_RETURN(
        std::string ctm,
        n.GetString("coordinate_transformation_mode", "half_pixel"));
    QFORGE_ASSIGN_OR_RETURN(std::string nearest,
                            n.GetString("nearest_mode", "round_prefer_floor"));
    bool align = false, half = false;
    if (mode == "linear") {
      if (ctm == "align_corners") {
        align = true;
      } else if (ctm == "half_pixel") {
        half = true;
      } else if (ctm != "asymmetric") {
        return absl::UnimplementedError(absl::StrCat(
            "linear Resize with coordinate_transformation_mode '", ctm, "'"));
      }
    } else if (mode == "nearest") {
      if (ctm == "asymmetric" && nearest == "floor") {
      } else if (ctm == "half_pixel" && nearest == "round_prefer_ceil") {
        half = true;
      } else if (ctm == "align_corners" && nearest == "round_prefer_ceil") {
        align = true;
      } else {
        return absl::UnimplementedError(
            absl::StrCat("nearest Resize with coordinate_transformation_mode '",
                         ctm, "' and nearest_mode '", nearest, "'"));
      }
    } else {
      return absl::UnimplementedError(absl::StrCat("Resize mode '", mode, "'"));
    }
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    in = WithParams(in, tensors_[out].quant);
    const int size = AddConst(absl::StrCat(n.name(), "_size"),
                              Int32Tensor({2}, {od[1], od[2]}));
    if (mode == "linear") {
      AddOp(fb::BuiltinOperator_RESIZE_BILINEAR, {in, size}, {out},
            fb::BuiltinOptions_ResizeBilinearOptions,
            fb::CreateResizeBilinearOptions(b_, align, half).Union());
    } else {
      AddOp(fb::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, {in, size}, {out},
            fb::BuiltinOptions_ResizeNearestNeighborOptions,
            fb::CreateResizeNearestNeighborOptions(b_, align, half).Union());
    }
    return absl::OkStatus();
  }

  // Inference BatchNormalization (float) as MUL and ADD by per-channel
  // constants; channels are the last axis in NHWC (and of [N, C]).
  absl::Status ExportBatchNorm(const Node& n) {
    if (n.num_outputs() > 1 && n.output(1) != nullptr) {
      return absl::UnimplementedError("training-mode BatchNormalization");
    }
    const int rank = n.input(0)->shape().rank();
    if (rank > 2 && n.layout() != Layout::kNHWC) {
      return absl::UnimplementedError("BatchNormalization must be NHWC");
    }
    if (n.input(0)->quant().has_value()) {
      return absl::UnimplementedError(
          "quantized BatchNormalization (fold it first)");
    }
    QFORGE_ASSIGN_OR_RETURN(float eps, n.GetFloat("epsilon", 1e-5f));
    std::vector<const Tensor*> p;
    for (int i = 1; i <= 4; ++i) {
      const Value* v = n.input(i);
      if (v == nullptr || !v->is_constant() || v->constant()->rank() != 1) {
        return absl::UnimplementedError(
            "BatchNormalization needs constant [C] inputs");
      }
      p.push_back(v->constant());
    }
    const int64_t c = p[0]->num_elements();
    std::vector<float> scale(c), shift(c);
    for (int64_t i = 0; i < c; ++i) {
      const double s =
          p[0]->GetAsDouble(i) / std::sqrt(p[3]->GetAsDouble(i) + eps);
      scale[i] = static_cast<float>(s);
      shift[i] =
          static_cast<float>(p[1]->GetAsDouble(i) - p[2]->GetAsDouble(i) * s);
    }
    QFORGE_ASSIGN_OR_RETURN(int in, TensorOf(n.input(0)));
    QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
    const int mul = AddLike(out, "_scaled", std::nullopt);
    const int st = AddConst(absl::StrCat(n.name(), "_scale"),
                            Tensor::FromVector<float>({c}, scale));
    const int sh = AddConst(absl::StrCat(n.name(), "_shift"),
                            Tensor::FromVector<float>({c}, shift));
    AddOp(fb::BuiltinOperator_MUL, {in, st}, {mul},
          fb::BuiltinOptions_MulOptions, fb::CreateMulOptions(b_).Union());
    AddOp(fb::BuiltinOperator_ADD, {mul, sh}, {out},
          fb::BuiltinOptions_AddOptions,
          fb::CreateAddOptions(b_, Activation(n)).Union());
    return absl::OkStatus();
  }

  absl::Status ExportNode(const Node& n) {
    if (!n.domain().empty()) {
      std::vector<int32_t> in, out;
      for (const Value* v : n.inputs()) {
        QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(v));
        in.push_back(t);
      }
      for (const Value* v : n.outputs()) {
        QFORGE_ASSIGN_OR_RETURN(int t, TensorOf(v));
        out.push_back(t);
      }
      ops_.push_back({OpCode(fb::BuiltinOperator_CUSTOM, n.op_type()), in, out,
                      fb::BuiltinOptions_NONE, 0, n.custom_options()});
      return absl::OkStatus();
    }
    const std::string& op = n.op_type();
    if (n.input(0) == nullptr || n.output(0) == nullptr) {
      return absl::InvalidArgumentError(
          "the node has no first input or output");
    }
    if (op == "Conv") return ExportConv(n);
    if (op == "Gemm") return ExportGemm(n);
    if (op == "MatMul") return ExportMatMul(n);
    if (op == "Add" || op == "Sub" || op == "Mul") {
      QFORGE_ASSIGN_OR_RETURN(std::vector<int32_t> in, Inputs(n, 2));
      QFORGE_ASSIGN_OR_RETURN(int out, Output(n));
      if (op == "Add") {
        AddOp(fb::BuiltinOperator_ADD, in, {out}, fb::BuiltinOptions_AddOptions,
              fb::CreateAddOptions(b_, Activation(n)).Union());
      } else if (op == "Sub") {
        AddOp(fb::BuiltinOperator_SUB, in, {out}, fb::BuiltinOptions_SubOptions,
              fb::CreateSubOptions(b_, Activation(n)).Union());
      } else {
        AddOp(fb::BuiltinOperator_MUL, in, {out}, fb::BuiltinOptions_MulOptions,
              fb::CreateMulOptions(b_, Activation(n)).Union());
      }
      return absl::OkStatus();
    }
    if (op == "MaxPool") return ExportPool(n, fb::BuiltinOperator_MAX_POOL_2D);
    if (op == "AveragePool")
      return ExportPool(n, fb::BuiltinOperator_AVERAGE_POOL_2D);
    if (op == "GlobalAveragePool") {
      if (n.layout() != Layout::kNHWC || n.input(0)->shape().rank() != 4) {
        return absl::UnimplementedError(
            "only 2-D NHWC GlobalAveragePool is exported");
      }
      return ExportMean(n, {1, 2}, true);
    }
    if (op == "ReduceMean") {
      std::vector<int64_t> axes;
      if (n.input(1) != nullptr) {
        QFORGE_ASSIGN_OR_RETURN(axes, ConstInts(n.input(1), "axes"));
      } else {
        QFORGE_ASSIGN_OR_RETURN(axes, n.GetInts("axes", {}));
      }
      if (axes.empty()) {
        for (int i = 0; i < n.input(0)->shape().rank(); ++i) axes.push_back(i);
      }
      QFORGE_ASSIGN_OR_RETURN(int64_t keep, n.GetInt("keepdims", 1));
      return ExportMean(n, axes, keep != 0);
    }
    if (op == "BatchNormalization") return ExportBatchNorm(n);
    if (op == "Concat") return ExportConcat(n);
    if (op == "Reshape") return ExportReshape(n);
    if (op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") {
      QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> od,
                              ReshapeDims(n.output(0)));
      return ExportReshapeTo(n, od);
    }
    if (op == "Softmax") return ExportSoftmax(n);
    if (op == "Sigmoid") {
      return ExportFixedOutputUnary(n, fb::BuiltinOperator_LOGISTIC, 1.0f / 256,
                                    -128, fb::BuiltinOptions_NONE, 0);
    }
    if (op == "Tanh") {
      return ExportFixedOutputUnary(n, fb::BuiltinOperator_TANH, 1.0f / 128, 0,
                                    fb::BuiltinOptions_NONE, 0);
    }
    if (op == "Relu") return ExportUnary(n, fb::BuiltinOperator_RELU);
    if (op == "Clip") return ExportClip(n);
    if (op == "LeakyRelu") {
      QFORGE_ASSIGN_OR_RETURN(float alpha, n.GetFloat("alpha", 0.01f));
      return ExportUnary(n, fb::BuiltinOperator_LEAKY_RELU,
                         fb::BuiltinOptions_LeakyReluOptions,
                         fb::CreateLeakyReluOptions(b_, alpha).Union());
    }
    if (op == "HardSwish") {
      return ExportUnary(n, fb::BuiltinOperator_HARD_SWISH,
                         fb::BuiltinOptions_HardSwishOptions,
                         fb::CreateHardSwishOptions(b_).Union());
    }
    if (op == "Gelu") {
      QFORGE_ASSIGN_OR_RETURN(std::string approx,
                              n.GetString("approximate", "none"));
      return ExportUnary(n, fb::BuiltinOperator_GELU,
                         fb::BuiltinOptions_GeluOptions,
                         fb::CreateGeluOptions(b_, approx == "tanh").Union());
    }
    if (op == "Pad") return ExportPad(n);
    if (op == "Transpose") return ExportTranspose(n);
    if (op == "Resize") return ExportResize(n);
    if (op == "QuantizeLinear") {
      if (!n.output(0)->quant().has_value()) {
        return absl::FailedPreconditionError(
            "the output carries no QuantParams");
      }
      return ExportUnary(n, fb::BuiltinOperator_QUANTIZE,
                         fb::BuiltinOptions_QuantizeOptions,
                         fb::CreateQuantizeOptions(b_).Union());
    }
    if (op == "DequantizeLinear") {
      if (!n.input(0)->quant().has_value()) {
        return absl::FailedPreconditionError(
            "the input carries no QuantParams");
      }
      return ExportUnary(n, fb::BuiltinOperator_DEQUANTIZE,
                         fb::BuiltinOptions_DequantizeOptions,
                         fb::CreateDequantizeOptions(b_).Union());
    }
    if (op == "Cast" && n.input(0)->dtype() == DataType::kFloat16 &&
        n.output(0)->dtype() == DataType::kFloat32) {
      return ExportUnary(n, fb::BuiltinOperator_DEQUANTIZE,
                         fb::BuiltinOptions_DequantizeOptions,
                         fb::CreateDequantizeOptions(b_).Union());
    }
    if (op == "Identity") {
      if (n.input(0)->quant().has_value() && n.output(0)->quant().has_value()) {
        return ExportUnary(n, fb::BuiltinOperator_QUANTIZE,
                           fb::BuiltinOptions_QuantizeOptions,
                           fb::CreateQuantizeOptions(b_).Union());
      }
      QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> od,
                              ReshapeDims(n.output(0)));
      return ExportReshapeTo(n, od);
    }
    return absl::UnimplementedError(
        "this op has no TFLite mapping (docs/io.md)");
  }

  // --- serialization ------------------------------------------------------

  absl::StatusOr<std::string> Finish() {
    for (auto [from, to] : deferred_quantize_) (void)AddQuantize(from, to);
    std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
    for (const std::string& data : buffers_) {
      if (data.empty()) {
        buffers.push_back(fb::CreateBuffer(b_));
        continue;
      }
      b_.ForceVectorAlignment(data.size(), 1, 16);
      auto v = b_.CreateVector(reinterpret_cast<const uint8_t*>(data.data()),
                               data.size());
      buffers.push_back(fb::CreateBuffer(b_, v));
    }
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
    for (const TensorDef& t : tensors_) {
      flatbuffers::Offset<fb::QuantizationParameters> q = 0;
      if (t.quant.has_value()) {
        q = fb::CreateQuantizationParameters(
            b_, 0, 0, b_.CreateVector(t.quant->scale),
            b_.CreateVector(t.quant->zero_point), fb::QuantizationDetails_NONE,
            0, std::max(t.quant->axis, 0));
      }
      auto sig = t.signature.empty() ? 0 : b_.CreateVector(t.signature);
      tensors.push_back(fb::CreateTensor(b_, b_.CreateVector(t.shape), t.type,
                                         t.buffer, b_.CreateString(t.name), q,
                                         false, 0, sig));
    }
    std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
    for (const auto& [builtin, custom] : codes_) {
      codes.push_back(fb::CreateOperatorCode(
          b_, static_cast<int8_t>(std::min<int32_t>(builtin, 127)),
          custom.empty() ? 0 : b_.CreateString(custom), 1,
          static_cast<fb::BuiltinOperator>(builtin)));
    }
    std::vector<flatbuffers::Offset<fb::Operator>> ops;
    for (const OpDef& o : ops_) {
      flatbuffers::Offset<flatbuffers::Vector<uint8_t>> custom = 0;
      if (!o.custom_options.empty()) {
        custom = b_.CreateVector(
            reinterpret_cast<const uint8_t*>(o.custom_options.data()),
            o.custom_options.size());
      }
      ops.push_back(fb::CreateOperator(
          b_, static_cast<uint32_t>(o.opcode), b_.CreateVector(o.inputs),
          b_.CreateVector(o.outputs), o.options_type, o.options, custom));
    }
    auto subgraph = fb::CreateSubGraph(
        b_, b_.CreateVector(tensors), b_.CreateVector(model_inputs_),
        b_.CreateVector(model_outputs_), b_.CreateVector(ops),
        b_.CreateString("main"));
    std::vector<flatbuffers::Offset<fb::TensorMap>> sig_in, sig_out;
    for (int32_t t : model_inputs_) {
      sig_in.push_back(
          fb::CreateTensorMap(b_, b_.CreateString(tensors_[t].name), t));
    }
    for (int32_t t : model_outputs_) {
      sig_out.push_back(
          fb::CreateTensorMap(b_, b_.CreateString(tensors_[t].name), t));
    }
    auto signature = fb::CreateSignatureDef(
        b_, b_.CreateVector(sig_in), b_.CreateVector(sig_out),
        b_.CreateString("serving_default"), 0);
    auto model = fb::CreateModel(
        b_, 3, b_.CreateVector(codes), b_.CreateVector(std::vector{subgraph}),
        b_.CreateString("qforge"), b_.CreateVector(buffers), 0, 0,
        b_.CreateVector(std::vector{signature}));
    fb::FinishModelBuffer(b_, model);
    if (b_.GetSize() >= (size_t{1} << 31) - 1) {
      return absl::UnimplementedError("the model would exceed 2 GB");
    }
    return std::string(reinterpret_cast<const char*>(b_.GetBufferPointer()),
                       b_.GetSize());
  }

  Graph graph_;
  const TfliteExportOptions options_;
  Registry registry_;
  flatbuffers::FlatBufferBuilder b_;
  std::vector<std::string> buffers_;
  std::vector<TensorDef> tensors_;
  absl::flat_hash_map<const Value*, int> tensor_of_;
  std::vector<std::pair<int32_t, std::string>> codes_;
  absl::flat_hash_map<std::string, int> opcode_of_;
  std::vector<OpDef> ops_;
  std::vector<int32_t> model_inputs_, model_outputs_;
  absl::flat_hash_set<const Node*> skipped_;
  std::vector<std::pair<int, int>> post_ops_;
  std::vector<std::pair<int, int>> deferred_quantize_;
  struct Fusion {
    fb::ActivationFunctionType type;
    Value* output;  // The activation's output, written by the fused op.
  };
  absl::flat_hash_map<const Node*, Fusion> fused_;
};

}  // namespace

absl::StatusOr<std::string> SaveTfliteToBytes(
    const Graph& graph, const TfliteExportOptions& options) {
  TfliteExporter exporter(graph, options);
  return exporter.Run();
}

absl::Status SaveTflite(const Graph& graph, absl::string_view path,
                        const TfliteExportOptions& options) {
  QFORGE_ASSIGN_OR_RETURN(std::string bytes, SaveTfliteToBytes(graph, options));
  return internal::WriteFileAtomically(path, bytes);
}

}  // namespace qforge

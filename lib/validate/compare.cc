#include "core/json_string.h"
#include "qforge/validate/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "qforge/core/status.h"
#include "qforge/quantize/quantize.h"
#include "qforge/runtime/executor.h"

namespace qforge {
namespace {

// Per-axis geometry: element i belongs to channel (i / inner) % channels.
struct AxisGeometry {
  int64_t inner = 1;
  int64_t channels = 1;
};

absl::StatusOr<AxisGeometry> Geometry(const Tensor& tensor,
                                      const QuantParams& params) {
  AxisGeometry g;
  const size_t n = params.scale.size();
  if (n == 0 || params.zero_point.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantization parameters ", params.ToString(),
                     " have no or mismatched scales and zero points"));
  }
  if (!params.per_axis()) {
    if (n != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("per-tensor quantization parameters ", params.ToString(),
                       " have ", n, " scales"));
    }
    return g;
  }
  if (params.axis >= tensor.rank() ||
      tensor.dim(params.axis) != static_cast<int64_t>(n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantization parameters ", params.ToString(),
                     " do not fit tensor ", tensor.DebugString()));
  }
  g.channels = static_cast<int64_t>(n);
  for (int d = params.axis + 1; d < tensor.rank(); ++d)
    g.inner *= tensor.dim(d);
  return g;
}

bool IsQuantizedTensorValue(const Value& v) {
  return v.quant().has_value() && IsInteger(v.dtype());
}

bool IsQdq(const Node& node) {
  return node.domain().empty() && (node.op_type() == "QuantizeLinear" ||
                                   node.op_type() == "DequantizeLinear");
}

// The tensor as real values: dequantized when it carries (or its value
// carries) QuantParams, else converted to float32.
absl::StatusOr<Tensor> RealValues(const Tensor& tensor,
                                  const std::optional<QuantParams>& params) {
  if (params.has_value() && IsInteger(tensor.dtype())) {
    return DequantizeTensor(tensor, *params);
  }
  if (tensor.quant().has_value() && IsInteger(tensor.dtype())) {
    return DequantizeTensor(tensor, *tensor.quant());
  }
  return tensor;
}

// max(0, x), as float32.
// Bounds a fused activation clamps to: lo <= x <= hi.
struct Clamp {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
};

Tensor ApplyClamp(const Tensor& t, const Clamp& c) {
  Tensor out(DataType::kFloat32, t.dims());
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    out.data<float>()[i] =
        static_cast<float>(std::clamp(t.GetAsDouble(i), c.lo, c.hi));
  }
  return out;
}

// The real value of a scalar constant input (dequantized when it carries
// QuantParams), if `v` is one.
std::optional<double> ScalarConstant(const Value* v) {
  if (v == nullptr || !v->is_constant() || v->constant()->num_elements() != 1) {
    return std::nullopt;
  }
  const double x = v->constant()->GetAsDouble(0);
  if (!v->quant().has_value()) return x;
  const QuantParams& p = *v->quant();
  if (p.scale.size() != 1 || p.zero_point.size() != 1) return std::nullopt;
  return (x - static_cast<double>(p.zero_point[0])) * p.scale[0];
}

// What a Relu, or a Clip with constant (or absent) bounds, clamps to.
std::optional<Clamp> ActivationClamp(const Node& n) {
  if (!n.domain().empty()) return std::nullopt;
  Clamp c;
  if (n.op_type() == "Relu") {
    c.lo = 0.0;
    return c;
  }
  if (n.op_type() != "Clip") return std::nullopt;
  for (int i = 1; i <= 2 && i < n.num_inputs(); ++i) {
    if (n.input(i) == nullptr) continue;
    const std::optional<double> bound = ScalarConstant(n.input(i));
    if (!bound.has_value()) return std::nullopt;
    (i == 1 ? c.lo : c.hi) = *bound;
  }
  // Clip before opset 11: the bounds are attributes.
  absl::StatusOr<float> lo = n.GetFloat("min", static_cast<float>(c.lo));
  absl::StatusOr<float> hi = n.GetFloat("max", static_cast<float>(c.hi));
  if (!lo.ok() || !hi.ok()) return std::nullopt;
  c.lo = *lo;
  c.hi = *hi;
  return c;
}

// Index of the largest element (first on ties), of a tensor whose elements
// are one sample's class scores.
int64_t ArgMax(const Tensor& t) {
  int64_t best = 0;
  double best_value = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = t.GetAsDouble(i);
    if (v > best_value) {
      best_value = v;
      best = i;
    }
  }
  return best;
}

using ::qforge::internal::JsonString;

// JSON has no infinities: they are written as strings.
std::string JsonNumber(double v) {
  if (std::isnan(v)) return "\"nan\"";
  if (std::isinf(v)) return v > 0 ? "\"inf\"" : "\"-inf\"";
  return absl::StrFormat("%.9g", v);
}

std::string MetricsJson(const ErrorMetrics& m) {
  return absl::StrCat("{\"sqnr_db\": ", JsonNumber(m.sqnr_db),
                      ", \"cosine\": ", JsonNumber(m.cosine),
                      ", \"max_abs\": ", JsonNumber(m.max_abs),
                      ", \"mean_abs\": ", JsonNumber(m.mean_abs),
                      ", \"num_elements\": ", m.num_elements, "}");
}

std::string ComparisonJson(const TensorComparison& c) {
  return absl::StrCat(
      "{\"name\": ", JsonString(c.name), ", \"node\": ", JsonString(c.node),
      ", \"op\": ", JsonString(c.op),
      ", \"quantized\": ", c.quantized ? "true" : "false",
      ", \"fused_relu\": ", c.fused_relu ? "true" : "false",
      ", \"fused_clip\": ", c.fused_clip ? "true" : "false",
      ", \"cumulative\": ", MetricsJson(c.cumulative), ", \"isolated\": ",
      c.isolated ? MetricsJson(*c.isolated) : std::string("null"), "}");
}

std::string Sqnr(double db) {
  if (std::isinf(db)) return db > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.2f", db);
}

// A one-node graph running one quantized node alone. BuildIsolated returns
// nullptr when an input has no float counterpart.
struct IsolatedLayer {
  const Node* node = nullptr;  // In the quantized graph.
  Graph graph;
  std::unique_ptr<Executor> executor;
  struct Input {
    std::string name;          // Graph input of the one-node graph.
    std::string float_source;  // The float model's tensor that feeds it.
    std::optional<QuantParams> params;  // Quantized with these, or float.
  };
  std::vector<Input> inputs;
  std::vector<ErrorAccumulator> errors;  // One per node output.
};

absl::StatusOr<std::unique_ptr<IsolatedLayer>> BuildIsolated(
    const Node& node, const Graph& quantized, const Registry& registry,
    const std::set<std::string>& float_names) {
  auto layer = std::make_unique<IsolatedLayer>();
  layer->node = &node;
  Graph& g = layer->graph;
  g.set_name(absl::StrCat("isolated_", node.name()));
  for (const auto& [domain, version] : quantized.opsets()) {
    g.set_opset(domain, version);
  }
  for (const auto& [key, value] : quantized.metadata())
    g.set_metadata(key, value);
  NodeSpec spec;
  spec.name = node.name();
  spec.domain = node.domain();
  spec.op_type = node.op_type();
  spec.attributes = node.attributes();
  std::map<const Value*, Value*> copies;
  for (const Value* in : node.inputs()) {
    if (in == nullptr) {
      spec.inputs.push_back(nullptr);
      continue;
    }
    auto it = copies.find(in);
    if (it != copies.end()) {
      spec.inputs.push_back(it->second);
      continue;
    }
    Value* copy = nullptr;
    if (in->is_constant()) {
      copy = g.AddConstant(in->name(), *in->constant());
      copy->set_quant(in->quant());
    } else {
      // The float tensor standing for this input: the same name, or found
      // through the QuantizeLinear / DequantizeLinear that produced it.
      const Value* source = in;
      while (source != nullptr && float_names.count(source->name()) == 0) {
        const Node* producer = source->producer();
        source = producer != nullptr && IsQdq(*producer) ? producer->input(0)
                                                         : nullptr;
      }
      // No float counterpart: the node gets no isolated error.
      if (source == nullptr) return std::unique_ptr<IsolatedLayer>();
      copy = g.AddValue(in->name(), in->dtype(), in->shape());
      copy->set_quant(in->quant());
      g.AddInput(copy);
      layer->inputs.push_back(
          {in->name(), source->name(),
           IsQuantizedTensorValue(*in) ? in->quant() : std::nullopt});
    }
    copies[in] = copy;
    spec.inputs.push_back(copy);
  }
  for (const Value* out : node.outputs()) {
    Value* copy = g.AddValue(out->name(), out->dtype(), out->shape());
    copy->set_quant(out->quant());
    spec.outputs.push_back(copy);
  }
  QFORGE_ASSIGN_OR_RETURN(Node * added, g.AddNode(std::move(spec)));
  added->set_layout(node.layout());
  added->set_custom_options(node.custom_options());
  for (Value* out : added->outputs()) g.AddOutput(out);
  layer->errors.resize(node.outputs().size());
  auto executor = Executor::Prepare(layer->graph, registry);
  if (!executor.ok()) {
    return absl::Status(executor.status().code(),
                        absl::StrCat("isolated run of ", node.Describe(), ": ",
                                     executor.status().message()));
  }
  layer->executor = *std::move(executor);
  return layer;
}

// Graph inputs of `graph` picked from the sample (missing ones are errors
// raised by Executor::Run).
absl::StatusOr<TensorMap> ConvertInputs(const Graph& graph,
                                        const TensorMap& sample) {
  TensorMap out;
  for (const Value* in : graph.inputs()) {
    auto it = sample.find(in->name());
    if (it == sample.end()) continue;
    if (IsQuantizedTensorValue(*in) && !IsInteger(it->second.dtype())) {
      QFORGE_ASSIGN_OR_RETURN(Tensor q,
                              QuantizeTensor(it->second, *in->quant()));
      out.emplace(in->name(), std::move(q));
    } else {
      out.emplace(in->name(), it->second);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Tensor> DequantizeTensor(const Tensor& tensor,
                                        const QuantParams& params) {
  if (!IsInteger(tensor.dtype())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot dequantize ", tensor.DebugString(), ": not an integer tensor"));
  }
  QFORGE_ASSIGN_OR_RETURN(AxisGeometry g, Geometry(tensor, params));
  Tensor out(DataType::kFloat32, tensor.dims());
  float* o = out.data<float>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    const int64_t c = (i / g.inner) % g.channels;
    o[i] = static_cast<float>(
        static_cast<double>(params.scale[c]) *
        static_cast<double>(tensor.GetAsInt64(i) - params.zero_point[c]));
  }
  return out;
}

absl::StatusOr<Tensor> QuantizeTensor(const Tensor& tensor,
                                      const QuantParams& params) {
  if (!IsFloatingPoint(tensor.dtype())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot quantize ", tensor.DebugString(), ": not a float tensor"));
  }
  QFORGE_ASSIGN_OR_RETURN(AxisGeometry g, Geometry(tensor, params));
  const DataType storage = params.storage;
  if (storage != DataType::kInt8 && storage != DataType::kUint8 &&
      storage != DataType::kInt16 && storage != DataType::kInt32) {
    return absl::UnimplementedError(absl::StrCat(
        "quantizing to ", DataTypeName(storage), " is not supported"));
  }
  Tensor out(storage, tensor.dims());
  const double qmin = static_cast<double>(params.qmin());
  const double qmax = static_cast<double>(params.qmax());
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    const int64_t c = (i / g.inner) % g.channels;
    const float x = static_cast<float>(tensor.GetAsDouble(i));
    // As ONNX QuantizeLinear: x / scale in float, rounded half to even.
    double q = std::nearbyint(x / params.scale[c]) +
               static_cast<double>(params.zero_point[c]);
    if (std::isnan(q)) q = 0.0;
    q = std::clamp(q, qmin, qmax);
    switch (storage) {
      case DataType::kInt8:
        out.data<int8_t>()[i] = static_cast<int8_t>(q);
        break;
      case DataType::kUint8:
        out.data<uint8_t>()[i] = static_cast<uint8_t>(q);
        break;
      case DataType::kInt16:
        out.data<int16_t>()[i] = static_cast<int16_t>(q);
        break;
      default:
        out.data<int32_t>()[i] = static_cast<int32_t>(q);
        break;
    }
  }
  out.set_quant(params);
  return out;
}

absl::StatusOr<ComparisonReport> CompareModels(const Graph& float_model,
                                               const Graph& quantized_model,
                                               const CalibrationData& data,
                                               const Registry& registry,
                                               const CompareOptions& options) {
  // The float reference.
  Graph prepared;
  const Graph* reference = &float_model;
  if (options.prepare_float_model) {
    QFORGE_ASSIGN_OR_RETURN(
        prepared,
        PrepareForQuantization(float_model, options.config, registry));
    reference = &prepared;
  }
  const int64_t total = data.num_samples();
  const int64_t begin = options.begin;
  const int64_t end = options.end < 0 ? total : options.end;
  if (begin < 0 || begin > end || end > total) {
    return absl::InvalidArgumentError(
        absl::StrCat("samples [", begin, ", ", end, ") are outside the data's ",
                     total, " samples"));
  }
  if (begin == end) {
    return absl::InvalidArgumentError("no samples to compare on");
  }
  if (options.labels.has_value() && options.labels->num_elements() != total) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels ", options.labels->DebugString(), " have ",
        options.labels->num_elements(), " elements for ", total, " samples"));
  }
  if (quantized_model.outputs().size() != reference->outputs().size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the float model has ", reference->outputs().size(),
        " outputs and the quantized model ", quantized_model.outputs().size()));
  }

  // Float values by name; quantized graph values matched to them.
  std::set<std::string> float_names;
  for (const Value* v : reference->values()) {
    if (!v->is_constant() && IsFloatingPoint(v->dtype())) {
      float_names.insert(v->name());
    }
  }
  // The float tensor a quantized-graph value stands for: the same name, or,
  // for a value renamed because a DequantizeLinear took its name (e.g. the
  // integer output of the last layer before a float graph output), the
  // output of that DequantizeLinear.
  auto float_ref = [&](const Value* v) -> std::string {
    if (float_names.count(v->name()) != 0) return v->name();
    for (const Node* consumer : v->consumers()) {
      if (consumer->domain().empty() &&
          consumer->op_type() == "DequantizeLinear" &&
          consumer->output(0) != nullptr &&
          float_names.count(consumer->output(0)->name()) != 0) {
        return consumer->output(0)->name();
      }
    }
    return "";
  };
  ComparisonReport report;
  // Quantized-graph value name -> index into `matched` (and `refs`, the
  // float tensor each is compared with). Q/DQ outputs are conversions at
  // float/integer boundaries, not layers: they are not matched.
  std::vector<TensorComparison> matched;
  std::vector<std::optional<Clamp>> clamps;  // Fused Relu / Clip, per match.
  std::vector<std::string> refs;
  std::vector<ErrorAccumulator> accumulators;
  std::map<std::string, size_t> matched_index;
  std::set<std::string> float_output_names;
  for (const Value* v : reference->outputs())
    float_output_names.insert(v->name());
  QFORGE_ASSIGN_OR_RETURN(std::vector<Node*> order,
                          quantized_model.TopologicalOrder());
  for (const Node* node : order) {
    if (IsQdq(*node)) continue;
    for (const Value* v : node->outputs()) {
      if (v == nullptr) continue;
      if (!IsFloatingPoint(v->dtype()) && !IsQuantizedTensorValue(*v)) continue;
      const std::string ref = float_ref(v);
      if (ref.empty()) continue;
      TensorComparison c;
      c.name = ref;
      // A Relu or Clip fused into this node's output range (the activation
      // that follows keeps the same params): its values are by design
      // clamped (by the params, or by the activation when the params are a
      // wider shared scale), so both sides are compared after the clamp.
      std::optional<Clamp> clamp;
      if (v->consumers().size() == 1) {
        const Node* next = v->consumers()[0];
        clamp = ActivationClamp(*next);
        if (!clamp.has_value() || next->output(0) == nullptr ||
            !v->quant().has_value() || next->output(0)->quant() != v->quant()) {
          clamp.reset();
        } else if (next->op_type() == "Relu") {
          c.fused_relu = true;
        } else {
          c.fused_clip = true;
        }
      }
      clamps.push_back(clamp);
      c.node = node->name();
      c.op = node->QualifiedOpType();
      c.quantized = IsQuantizedTensorValue(*v);
      matched_index[v->name()] = matched.size();
      matched.push_back(std::move(c));
      refs.push_back(ref);
    }
  }
  accumulators.resize(matched.size());
  // Graph outputs are matched by position (they normally share names too).
  std::vector<ErrorAccumulator> output_acc(quantized_model.outputs().size());

  // Isolated layers.
  std::vector<std::unique_ptr<IsolatedLayer>> isolated;
  if (options.isolated) {
    for (const Node* node : order) {
      if (IsQdq(*node)) continue;
      bool any_quantized = false;
      for (const Value* out : node->outputs()) {
        if (out != nullptr && IsQuantizedTensorValue(*out))
          any_quantized = true;
      }
      if (!any_quantized) continue;
      bool outputs_matched = true;
      for (const Value* out : node->outputs()) {
        if (out == nullptr || float_ref(out).empty()) outputs_matched = false;
      }
      if (!outputs_matched) continue;
      auto layer = BuildIsolated(*node, quantized_model, registry, float_names);
      if (!layer.ok()) return layer.status();
      if (*layer == nullptr) continue;
      isolated.push_back(*std::move(layer));
    }
  }

  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Executor> float_exec,
                          Executor::Prepare(*reference, registry));
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Executor> quant_exec,
                          Executor::Prepare(quantized_model, registry));

  int64_t float_correct = 0, quant_correct = 0, agree = 0;
  bool has_top1 = false;
  for (int64_t s = begin; s < end; ++s) {
    QFORGE_ASSIGN_OR_RETURN(TensorMap sample, data.Sample(s));
    // Float run: keep every float tensor this sample produces.
    TensorMap float_values = sample;
    RunOptions float_run;
    float_run.observer = [&](const Node&, const Value& value,
                             const Tensor& tensor) -> absl::Status {
      float_values.insert_or_assign(value.name(), tensor);
      return absl::OkStatus();
    };
    QFORGE_ASSIGN_OR_RETURN(TensorMap float_outputs,
                            float_exec->Run(sample, float_run));
    for (auto& [name, t] : float_outputs)
      float_values.insert_or_assign(name, t);

    // Quantized run, compared as it goes.
    RunOptions quant_run;
    quant_run.observer = [&](const Node&, const Value& value,
                             const Tensor& tensor) -> absl::Status {
      auto it = matched_index.find(value.name());
      if (it == matched_index.end()) return absl::OkStatus();
      auto ref = float_values.find(refs[it->second]);
      if (ref == float_values.end()) return absl::OkStatus();
      QFORGE_ASSIGN_OR_RETURN(Tensor real, RealValues(tensor, value.quant()));
      const std::optional<Clamp>& clamp = clamps[it->second];
      absl::Status st =
          clamp.has_value()
              ? accumulators[it->second].Add(ApplyClamp(ref->second, *clamp),
                                             ApplyClamp(real, *clamp))
              : accumulators[it->second].Add(ref->second, real);
      if (!st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor '", value.name(), "': ", st.message()));
      }
      return absl::OkStatus();
    };
    QFORGE_ASSIGN_OR_RETURN(TensorMap quant_inputs,
                            ConvertInputs(quantized_model, sample));
    QFORGE_ASSIGN_OR_RETURN(TensorMap quant_outputs,
                            quant_exec->Run(quant_inputs, quant_run));
    std::vector<Tensor> q_out_real, f_out;
    for (size_t o = 0; o < quantized_model.outputs().size(); ++o) {
      const Value* qv = quantized_model.outputs()[o];
      const Value* fv = reference->outputs()[o];
      auto qi = quant_outputs.find(qv->name());
      auto fi = float_outputs.find(fv->name());
      if (qi == quant_outputs.end() || fi == float_outputs.end()) {
        return absl::InternalError(
            absl::StrCat("graph output '", qv->name(), "' was not produced"));
      }
      QFORGE_ASSIGN_OR_RETURN(Tensor real, RealValues(qi->second, qv->quant()));
      absl::Status st = output_acc[o].Add(fi->second, real);
      if (!st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph output '", qv->name(), "': ", st.message()));
      }
      q_out_real.push_back(std::move(real));
      f_out.push_back(fi->second);
    }
    // Top-1 on the first output.
    if (!f_out.empty() && f_out[0].num_elements() > 1) {
      has_top1 = true;
      const int64_t fc = ArgMax(f_out[0]);
      const int64_t qc = ArgMax(q_out_real[0]);
      if (fc == qc) ++agree;
      if (options.labels.has_value()) {
        const int64_t label =
            static_cast<int64_t>(std::llround(options.labels->GetAsDouble(s)));
        if (fc == label) ++float_correct;
        if (qc == label) ++quant_correct;
      }
    }

    // Isolated layers: float inputs, quantized with the layer's params.
    for (auto& layer : isolated) {
      TensorMap inputs;
      for (const IsolatedLayer::Input& in : layer->inputs) {
        auto fi = float_values.find(in.float_source);
        if (fi == float_values.end()) {
          return absl::InternalError(absl::StrCat(
              "isolated run of ", layer->node->Describe(),
              ": the float model did not produce '", in.float_source, "'"));
        }
        if (in.params.has_value()) {
          QFORGE_ASSIGN_OR_RETURN(Tensor q,
                                  QuantizeTensor(fi->second, *in.params));
          inputs.emplace(in.name, std::move(q));
        } else {
          inputs.emplace(in.name, fi->second);
        }
      }
      auto outputs = layer->executor->Run(inputs);
      if (!outputs.ok()) {
        return absl::Status(
            outputs.status().code(),
            absl::StrCat("isolated run of ", layer->node->Describe(), ": ",
                         outputs.status().message()));
      }
      for (size_t o = 0; o < layer->node->outputs().size(); ++o) {
        const Value* out = layer->node->outputs()[o];
        auto qi = outputs->find(out->name());
        auto fi = float_values.find(float_ref(out));
        if (qi == outputs->end() || fi == float_values.end()) continue;
        QFORGE_ASSIGN_OR_RETURN(Tensor real,
                                RealValues(qi->second, out->quant()));
        auto mi = matched_index.find(out->name());
        const std::optional<Clamp> clamp =
            mi != matched_index.end() ? clamps[mi->second] : std::nullopt;
        QFORGE_RETURN_IF_ERROR(
            clamp.has_value()
                ? layer->errors[o].Add(ApplyClamp(fi->second, *clamp),
                                       ApplyClamp(real, *clamp))
                : layer->errors[o].Add(fi->second, real));
      }
    }
    if (options.progress) options.progress(s - begin + 1, end - begin);
  }

  report.num_samples = end - begin;
  for (size_t i = 0; i < matched.size(); ++i) {
    matched[i].cumulative = accumulators[i].Result();
  }
  for (auto& layer : isolated) {
    for (size_t o = 0; o < layer->node->outputs().size(); ++o) {
      auto it = matched_index.find(layer->node->outputs()[o]->name());
      if (it == matched_index.end()) continue;
      matched[it->second].isolated = layer->errors[o].Result();
    }
  }
  for (size_t o = 0; o < quantized_model.outputs().size(); ++o) {
    const Value* qv = quantized_model.outputs()[o];
    const std::string& fname = reference->outputs()[o]->name();
    TensorComparison c;
    // The layer producing it (through a DequantizeLinear), with its
    // isolated error.
    auto it = std::find(refs.begin(), refs.end(), fname);
    if (it != refs.end()) {
      c = matched[it - refs.begin()];
    } else if (const Node* producer = qv->producer(); producer != nullptr) {
      c.node = producer->name();
      c.op = producer->QualifiedOpType();
    }
    c.name = qv->name();
    c.quantized = c.quantized || IsQuantizedTensorValue(*qv);
    c.cumulative = output_acc[o].Result();
    report.outputs.push_back(std::move(c));
  }
  for (size_t i = 0; i < matched.size(); ++i) {
    if (float_output_names.count(refs[i]) != 0) continue;
    report.layers.push_back(std::move(matched[i]));
  }
  // Worst first: lowest isolated SQNR; layers without an isolated error
  // after, by cumulative SQNR. Ties keep graph order.
  std::stable_sort(report.layers.begin(), report.layers.end(),
                   [](const TensorComparison& a, const TensorComparison& b) {
                     if (a.isolated.has_value() != b.isolated.has_value()) {
                       return a.isolated.has_value();
                     }
                     if (a.isolated.has_value() &&
                         a.isolated->sqnr_db != b.isolated->sqnr_db) {
                       return a.isolated->sqnr_db < b.isolated->sqnr_db;
                     }
                     return a.cumulative.sqnr_db < b.cumulative.sqnr_db;
                   });
  report.has_top1 = has_top1;
  if (has_top1) {
    const double n = static_cast<double>(report.num_samples);
    report.top1_agreement = agree / n;
    if (options.labels.has_value()) {
      report.has_labels = true;
      report.float_top1 = float_correct / n;
      report.quantized_top1 = quant_correct / n;
    }
  }
  return report;
}

std::string ComparisonReport::ToString() const {
  std::string out = absl::StrCat("Compared on ", num_samples, " samples.\n");
  if (has_top1) {
    if (has_labels) {
      absl::StrAppend(
          &out, absl::StrFormat("Top-1 accuracy: float %.2f%%, int8 "
                                "%.2f%%; top-1 agreement %.2f%%\n",
                                100.0 * float_top1, 100.0 * quantized_top1,
                                100.0 * top1_agreement));
    } else {
      absl::StrAppend(&out, absl::StrFormat("Top-1 agreement: %.2f%%\n",
                                            100.0 * top1_agreement));
    }
  }
  int name_width = 6, op_width = 2;
  for (const auto* list : {&outputs, &layers}) {
    for (const auto& c : *list) {
      name_width = std::max(name_width, static_cast<int>(c.name.size()));
      op_width = std::max(op_width, static_cast<int>(c.op.size()) + 5);
    }
  }
  auto row = [&](const TensorComparison& c) {
    std::string iso = c.isolated ? Sqnr(c.isolated->sqnr_db) : "-";
    const std::string op = c.fused_relu   ? absl::StrCat(c.op, "+Relu")
                           : c.fused_clip ? absl::StrCat(c.op, "+Clip")
                                          : c.op;
    return absl::StrFormat("  %-*s  %-*s %10s %10s %10.6f %10.4g %10.4g\n",
                           name_width, c.name, op_width, op, iso,
                           Sqnr(c.cumulative.sqnr_db), c.cumulative.cosine,
                           c.cumulative.max_abs, c.cumulative.mean_abs);
  };
  const std::string header = absl::StrFormat(
      "  %-*s  %-*s %10s %10s %10s %10s %10s\n", name_width, "tensor", op_width,
      "op", "iso SQNR", "cum SQNR", "cosine", "max|err|", "mean|err|");
  absl::StrAppend(&out, "\nOutputs (SQNR in dB; cumulative errors):\n", header);
  for (const auto& c : outputs) absl::StrAppend(&out, row(c));
  absl::StrAppend(&out,
                  "\nLayers, worst first (isolated SQNR: the layer "
                  "alone on float inputs):\n",
                  header);
  for (const auto& c : layers) absl::StrAppend(&out, row(c));
  return out;
}

std::string ComparisonReport::ToJson() const {
  std::vector<std::string> outs, lays;
  for (const auto& c : outputs) outs.push_back(ComparisonJson(c));
  for (const auto& c : layers) lays.push_back(ComparisonJson(c));
  std::string out = absl::StrCat("{\n  \"num_samples\": ", num_samples, ",\n");
  if (has_top1) {
    absl::StrAppend(&out, "  \"top1_agreement\": ", JsonNumber(top1_agreement),
                    ",\n");
  }
  if (has_labels) {
    absl::StrAppend(&out, "  \"float_top1\": ", JsonNumber(float_top1),
                    ",\n  \"quantized_top1\": ", JsonNumber(quantized_top1),
                    ",\n");
  }
  absl::StrAppend(&out, "  \"outputs\": [\n    ",
                  absl::StrJoin(outs, ",\n    "),
                  "\n  ],\n  \"layers\": [\n    ",
                  absl::StrJoin(lays, ",\n    "), "\n  ]\n}\n");
  return out;
}

}  // namespace qforge

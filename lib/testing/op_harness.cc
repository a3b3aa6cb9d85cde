#include "qforge/testing/op_harness.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "qforge/core/status.h"
#include "qforge/ir/verifier.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quantizer.h"
#include "qforge/runtime/executor.h"

namespace qforge::testing {
namespace {

constexpr char kNodeName[] = "op_under_test";

std::string InputName(int i) { return absl::StrCat("input_", i); }
std::string OutputName(int i) { return absl::StrCat("output_", i); }

// Samples held in memory, each a complete TensorMap (no batch slicing).
class SampleData final : public CalibrationData {
 public:
  explicit SampleData(std::vector<TensorMap> samples)
      : samples_(std::move(samples)) {}
  int64_t num_samples() const override {
    return static_cast<int64_t>(samples_.size());
  }
  absl::StatusOr<TensorMap> Sample(int64_t i) const override {
    if (i < 0 || i >= num_samples())
      return absl::OutOfRangeError("sample index");
    return samples_[i];
  }

 private:
  std::vector<TensorMap> samples_;
};

// float(q - z) * s per element (per-axis params along p.axis).
absl::StatusOr<Tensor> Dequantize(const Tensor& t, const QuantParams& p) {
  Tensor out(DataType::kFloat32, t.dims());
  int64_t inner = 1, channels = 1;
  if (p.per_axis()) {
    if (p.axis >= t.rank())
      return absl::InvalidArgumentError("quant axis out of range");
    channels = t.dim(p.axis);
    for (int d = p.axis + 1; d < t.rank(); ++d) inner *= t.dim(d);
    if (static_cast<int64_t>(p.scale.size()) != channels ||
        static_cast<int64_t>(p.zero_point.size()) != channels) {
      return absl::InvalidArgumentError(
          "per-axis params do not match the tensor");
    }
  }
  float* o = out.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const int64_t c = p.per_axis() ? (i / inner) % channels : 0;
    const int64_t q = t.GetAsInt64(i);
    o[i] = static_cast<float>(q - p.zero_point[c]) * p.scale[c];
  }
  return out;
}

double Sqnr(double signal, double noise) {
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

}  // namespace

std::string OutputMetrics::ToString() const {
  return absl::StrCat("output '", name, "' (scale=", scale,
                      " zero_point=", zero_point, ", ", num_elements,
                      " elements): max error ", max_error_lsb, " LSB, mean ",
                      mean_error_lsb, " LSB, SQNR ", sqnr_db,
                      " dB (vs float op on float inputs ", sqnr_vs_float_db,
                      " dB); worst element ", worst_index, " (sample ",
                      worst_sample, "): int8 ", worst_int8, ", reference ",
                      worst_reference, ", float ", worst_float);
}

std::string HarnessResult::Note() const {
  for (const QuantizeReport::NodeEntry& e : report.nodes) {
    if (e.node == kNodeName) return e.reason;
  }
  return "";
}

std::string HarnessResult::ToString() const {
  std::string s =
      absl::StrCat("seed ", seed, ", profile ", ArithmeticProfileName(profile));
  const std::string note = Note();
  if (!note.empty()) absl::StrAppend(&s, ", note: ", note);
  for (const OutputMetrics& m : outputs)
    absl::StrAppend(&s, "\n  ", m.ToString());
  return s;
}

absl::Status HarnessResult::CheckSpecInvariants(
    const Registry& registry) const {
  if (quantized_node == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the node was not quantized: ", Note()));
  }
  const Node* float_node = float_model.FindNode(kNodeName);
  if (float_node == nullptr) return absl::InternalError("float node missing");
  const OpKey key = OpKey::Of(*float_node);
  const OpQuantizer* quantizer =
      registry.quantizers().Find(key, float_model.onnx_opset());
  if (quantizer == nullptr) quantizer = registry.quantizers().Find(key);
  if (quantizer == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no quantizer for ", key.ToString()));
  }
  QFORGE_ASSIGN_OR_RETURN(OpQuantSpec spec,
                          quantizer->Spec(*float_node, config));
  const Node& n = *quantized_node;
  std::vector<std::string> problems;
  auto check_valid = [&](const Value* v,
                         const std::string& what) -> const QuantParams* {
    if (v == nullptr) return nullptr;
    if (!v->quant().has_value()) {
      problems.push_back(
          absl::StrCat(what, " '", v->name(), "' has no quantization params"));
      return nullptr;
    }
    absl::Status s = v->quant()->Validate();
    if (!s.ok())
      problems.push_back(
          absl::StrCat(what, " '", v->name(), "': ", s.message()));
    for (float scale : v->quant()->scale) {
      if (!(scale > 0.0f) || !std::isfinite(scale)) {
        problems.push_back(
            absl::StrCat(what, " '", v->name(), "' has scale ", scale));
      }
    }
    return &*v->quant();
  };
  for (int i = 0;
       i < n.num_inputs() && i < static_cast<int>(spec.inputs.size()); ++i) {
    const InputQuantSpec& in = spec.inputs[i];
    const std::string what = absl::StrCat("input ", i);
    if (in.kind == InputQuantSpec::Kind::kUnquantized) continue;
    const QuantParams* p = check_valid(n.input(i), what);
    if (p == nullptr || in.kind != InputQuantSpec::Kind::kBias) continue;
    const QuantParams* x =
        check_valid(n.input(in.bias_activation_input), "bias activation");
    const QuantParams* w =
        check_valid(n.input(in.bias_weight_input), "bias weight");
    if (x == nullptr || w == nullptr) continue;
    for (size_t c = 0; c < p->scale.size(); ++c) {
      const float sw = w->scale.size() == 1
                           ? w->scale[0]
                           : w->scale[std::min(c, w->scale.size() - 1)];
      const float expected = x->scale[0] * sw;
      if (std::fabs(p->scale[c] - expected) > 1e-6f * expected) {
        problems.push_back(
            absl::StrCat("bias scale[", c, "] = ", p->scale[c],
                         ", expected input x weight scale = ", expected));
      }
      if (p->zero_point[c] != 0) {
        problems.push_back(
            absl::StrCat("bias zero point[", c, "] = ", p->zero_point[c]));
      }
    }
  }
  for (int i = 0;
       i < n.num_outputs() && i < static_cast<int>(spec.outputs.size()); ++i) {
    const OutputQuantSpec& out = spec.outputs[i];
    if (out.kind == OutputQuantSpec::Kind::kUnquantized) continue;
    const QuantParams* p = check_valid(n.output(i), absl::StrCat("output ", i));
    if (p == nullptr || out.kind != OutputQuantSpec::Kind::kFixed) continue;
    const int64_t zp =
        out.fixed_zero_point + (p->storage == DataType::kUint8 ? 128 : 0);
    if (p->scale[0] != out.fixed_scale || p->zero_point[0] != zp) {
      problems.push_back(absl::StrCat(
          "output ", i, " has ", p->ToString(),
          ", the spec fixes scale=", out.fixed_scale, " zero_point=", zp));
    }
  }
  for (const std::vector<TensorSlot>& group : spec.shared_scale_groups) {
    const Value* first = nullptr;
    for (const TensorSlot& slot : group) {
      const Value* v =
          slot.is_output ? n.output(slot.index) : n.input(slot.index);
      if (v == nullptr || !v->quant().has_value()) continue;
      if (first == nullptr) {
        first = v;
      } else if (!(*v->quant() == *first->quant())) {
        problems.push_back(
            absl::StrCat("'", v->name(), "' (", v->quant()->ToString(),
                         ") and '", first->name(), "' (",
                         first->quant()->ToString(), ") must share one scale"));
      }
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(n.Describe(), " violates its quantization spec:\n  ",
                   absl::StrJoin(problems, "\n  ")));
}

OpHarness::OpHarness(OpKey op, const Registry& registry)
    : op_(std::move(op)), registry_(registry) {}

OpHarness::InputSpec& OpHarness::In(int i) {
  if (i >= static_cast<int>(inputs_.size())) inputs_.resize(i + 1);
  return inputs_[i];
}

OpHarness& OpHarness::Attr(const std::string& name, Attribute value) {
  attributes_[name] = std::move(value);
  return *this;
}
OpHarness& OpHarness::InputShape(int i, std::vector<int64_t> dims) {
  InputSpec& in = In(i);
  in.kind = InputSpec::Kind::kGraphInput;
  in.dims = std::move(dims);
  return *this;
}
OpHarness& OpHarness::InputRange(int i, float lo, float hi) {
  In(i).lo = lo;
  In(i).hi = hi;
  return *this;
}
OpHarness& OpHarness::InputValues(int i, Tensor values) {
  InputSpec& in = In(i);
  in.kind = InputSpec::Kind::kGraphInput;
  in.dims = values.dims();
  in.values = std::move(values);
  return *this;
}
OpHarness& OpHarness::ConstantInput(int i, Tensor value) {
  InputSpec& in = In(i);
  in.kind = InputSpec::Kind::kConstant;
  in.values = std::move(value);
  return *this;
}
OpHarness& OpHarness::OmitInput(int i) {
  In(i).kind = InputSpec::Kind::kOmitted;
  return *this;
}
OpHarness& OpHarness::NumOutputs(int n) {
  num_outputs_ = n;
  return *this;
}
OpHarness& OpHarness::Seed(uint64_t seed) {
  seed_ = seed;
  return *this;
}
OpHarness& OpHarness::NumSamples(int n) {
  num_samples_ = n;
  return *this;
}
OpHarness& OpHarness::Opset(int64_t opset) {
  opset_ = opset;
  return *this;
}

absl::StatusOr<Graph> OpHarness::BuildGraph(
    const std::map<int, Tensor>& constants) const {
  Graph g;
  g.set_name(absl::StrCat("harness_", op_.op_type));
  g.set_opset("", opset_);
  if (!op_.domain.empty()) g.set_opset(op_.domain, 1);
  NodeSpec spec{.name = kNodeName,
                .domain = op_.domain,
                .op_type = op_.op_type,
                .attributes = attributes_};
  for (int i = 0; i < static_cast<int>(inputs_.size()); ++i) {
    const InputSpec& in = inputs_[i];
    switch (in.kind) {
      case InputSpec::Kind::kUnset:
        return absl::InvalidArgumentError(absl::StrCat(
            "harness for ", op_.ToString(), ": input ", i, " is not set"));
      case InputSpec::Kind::kOmitted:
        spec.inputs.push_back(nullptr);
        break;
      case InputSpec::Kind::kConstant: {
        auto it = constants.find(i);
        spec.inputs.push_back(
            g.AddConstant(absl::StrCat("const_", i),
                          it != constants.end() ? it->second : *in.values));
        break;
      }
      case InputSpec::Kind::kGraphInput: {
        Value* v = g.AddValue(InputName(i), DataType::kFloat32, Shape(in.dims));
        g.AddInput(v);
        spec.inputs.push_back(v);
        break;
      }
    }
  }
  for (int k = 0; k < num_outputs_; ++k) {
    Value* v = g.AddValue(OutputName(k));
    g.AddOutput(v);
    spec.outputs.push_back(v);
  }
  QFORGE_RETURN_IF_ERROR(g.AddNode(std::move(spec)).status());
  QFORGE_RETURN_IF_ERROR(VerifyGraph(g, registry_.schemas()));
  return g;
}

absl::StatusOr<HarnessResult> OpHarness::QuantizeAndRun(
    const QuantConfig& config) const {
  HarnessResult result;
  result.seed = seed_;
  result.profile = config.profile;
  result.config = config;
  QFORGE_ASSIGN_OR_RETURN(result.float_model, BuildGraph({}));
  if (num_samples_ < 1)
    return absl::InvalidArgumentError("NumSamples must be >= 1");

  // Samples.
  std::mt19937_64 rng(seed_);
  std::vector<TensorMap> samples;
  for (int s = 0; s < num_samples_; ++s) {
    TensorMap sample;
    for (int i = 0; i < static_cast<int>(inputs_.size()); ++i) {
      const InputSpec& in = inputs_[i];
      if (in.kind != InputSpec::Kind::kGraphInput) continue;
      if (in.values.has_value()) {
        sample[InputName(i)] = *in.values;
        continue;
      }
      Tensor t(DataType::kFloat32, in.dims);
      std::uniform_real_distribution<float> dist(in.lo, in.hi);
      for (float& x : t.values<float>()) x = dist(rng);
      sample[InputName(i)] = std::move(t);
    }
    samples.push_back(std::move(sample));
  }
  SampleData data(samples);
  absl::StatusOr<QuantizeResult> q =
      Quantize(result.float_model, data, config, registry_);
  if (!q.ok()) {
    return absl::Status(
        q.status().code(),
        absl::StrCat("quantizing the harness graph: ", q.status().message()));
  }
  result.quantized_model = std::move(q->model);
  result.report = std::move(q->report);
  const Node* qn = result.quantized_model.FindNode(kNodeName);
  if (qn == nullptr || qn->num_outputs() == 0 || qn->output(0) == nullptr ||
      !qn->output(0)->quant().has_value()) {
    return result;  // Declined or kept float: no int8 metrics.
  }
  result.quantized_node = qn;

  // The reference graph: constants replaced by their dequantized values.
  std::map<int, Tensor> ref_constants;
  for (int i = 0; i < qn->num_inputs(); ++i) {
    const Value* v = qn->input(i);
    if (v == nullptr || !v->is_constant() || !v->quant().has_value()) continue;
    if (i >= static_cast<int>(inputs_.size()) ||
        inputs_[i].kind != InputSpec::Kind::kConstant) {
      continue;  // A constant activation would have to be a graph input.
    }
    QFORGE_ASSIGN_OR_RETURN(ref_constants[i],
                            Dequantize(*v->constant(), *v->quant()));
  }
  QFORGE_ASSIGN_OR_RETURN(Graph ref_graph, BuildGraph(ref_constants));

  QFORGE_ASSIGN_OR_RETURN(auto float_exec,
                          Executor::Prepare(result.float_model, registry_));
  QFORGE_ASSIGN_OR_RETURN(auto ref_exec,
                          Executor::Prepare(ref_graph, registry_));
  QFORGE_ASSIGN_OR_RETURN(auto int8_exec,
                          Executor::Prepare(result.quantized_model, registry_));
  RunOptions int8_options;
  std::vector<int> fetched_inputs;
  for (int i = 0; i < qn->num_inputs(); ++i) {
    const Value* v = qn->input(i);
    if (v == nullptr || v->is_constant() || v->producer() == nullptr) continue;
    int8_options.fetch.push_back(v->name());
    fetched_inputs.push_back(i);
  }
  for (int k = 0; k < num_outputs_; ++k)
    int8_options.fetch.push_back(OutputName(k));

  struct Acc {
    double sum_err = 0, sum_ref2 = 0, sum_noise2 = 0, sum_float2 = 0,
           sum_fnoise2 = 0;
    int64_t count = 0;
  };
  std::vector<Acc> acc(num_outputs_);
  result.outputs.resize(num_outputs_);
  for (int k = 0; k < num_outputs_; ++k) {
    OutputMetrics& m = result.outputs[k];
    const Value* ov = qn->output(k);
    m.name = OutputName(k);
    if (ov != nullptr && ov->quant().has_value()) {
      m.scale = ov->quant()->scale[0];
      m.zero_point = ov->quant()->zero_point[0];
    }
  }
  for (int s = 0; s < num_samples_; ++s) {
    const TensorMap& sample = samples[s];
    absl::StatusOr<TensorMap> fo = float_exec->Run(sample);
    if (!fo.ok())
      return absl::Status(fo.status().code(),
                          absl::StrCat("float run: ", fo.status().message()));
    absl::StatusOr<TensorMap> qo = int8_exec->Run(sample, int8_options);
    if (!qo.ok())
      return absl::Status(qo.status().code(),
                          absl::StrCat("int8 run: ", qo.status().message()));
    // Reference inputs: what the int8 node read, dequantized.
    TensorMap ref_in = sample;
    for (int i : fetched_inputs) {
      const Value* v = qn->input(i);
      auto it = qo->find(v->name());
      if (it == qo->end())
        return absl::InternalError(absl::StrCat("not fetched: ", v->name()));
      if (v->quant().has_value()) {
        QFORGE_ASSIGN_OR_RETURN(ref_in[InputName(i)],
                                Dequantize(it->second, *v->quant()));
      } else {
        ref_in[InputName(i)] = it->second;
      }
    }
    absl::StatusOr<TensorMap> ro = ref_exec->Run(ref_in);
    if (!ro.ok())
      return absl::Status(
          ro.status().code(),
          absl::StrCat("reference run: ", ro.status().message()));
    for (int k = 0; k < num_outputs_; ++k) {
      const Value* ov = qn->output(k);
      if (ov == nullptr || !ov->quant().has_value()) continue;
      const QuantParams& p = *ov->quant();
      const Tensor& yq = qo->at(OutputName(k));
      const Tensor& yr = ro->at(OutputName(k));
      const Tensor& yf = fo->at(OutputName(k));
      if (yq.num_elements() != yr.num_elements() ||
          yf.num_elements() != yr.num_elements() ||
          yq.dtype() != DataType::kFloat32 ||
          yr.dtype() != DataType::kFloat32) {
        return absl::InternalError(
            absl::StrCat("output ", k, " shapes/dtypes differ"));
      }
      const float s_out = p.scale[0];
      const float lo = s_out * static_cast<float>(p.qmin() - p.zero_point[0]);
      const float hi = s_out * static_cast<float>(p.qmax() - p.zero_point[0]);
      OutputMetrics& m = result.outputs[k];
      Acc& a = acc[k];
      for (int64_t e = 0; e < yq.num_elements(); ++e) {
        const float ref = std::clamp(yr.data<float>()[e], lo, hi);
        const float got = yq.data<float>()[e];
        const float fl = yf.data<float>()[e];
        const double err = std::fabs(static_cast<double>(got) - ref) / s_out;
        a.sum_err += err;
        a.sum_ref2 += static_cast<double>(ref) * ref;
        a.sum_noise2 +=
            (static_cast<double>(got) - ref) * (static_cast<double>(got) - ref);
        a.sum_float2 += static_cast<double>(fl) * fl;
        a.sum_fnoise2 +=
            (static_cast<double>(got) - fl) * (static_cast<double>(got) - fl);
        if (m.worst_index < 0 || err > m.max_error_lsb) {
          m.max_error_lsb = err;
          m.worst_index = a.count;
          m.worst_sample = s;
          m.worst_int8 = got;
          m.worst_reference = ref;
          m.worst_float = fl;
        }
        ++a.count;
      }
    }
  }
  for (int k = 0; k < num_outputs_; ++k) {
    OutputMetrics& m = result.outputs[k];
    const Acc& a = acc[k];
    m.num_elements = a.count;
    m.mean_error_lsb = a.count > 0 ? a.sum_err / a.count : 0.0;
    m.sqnr_db = Sqnr(a.sum_ref2, a.sum_noise2);
    m.sqnr_vs_float_db = Sqnr(a.sum_float2, a.sum_fnoise2);
  }
  return result;
}

}  // namespace qforge::testing

// AnchorBoxes: schema, kernel, quantizer and plugin descriptor
// (see anchor_boxes.h).
// FlatBuffers' string-to-number helpers (reachable from flexbuffers'
// AsDouble) otherwise need a locale object from the FlatBuffers library;
// the runtime stays header-only.
#define FLATBUFFERS_LOCALE_INDEPENDENT 0
#include "anchor_boxes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flatbuffers/flexbuffers.h"
#include "qforge/core/status.h"
#include "qforge/quantize/quant_math.h"
#include "qforge/quantize/quantize.h"
#include "qforge/quantize/quantizer.h"

namespace qforge::contrib {
namespace {

// More elements than this is not a plausible anchor set (and would overflow
// the index arithmetic long before memory runs out).
constexpr int64_t kMaxAnchorElements = int64_t{1} << 31;

OpKey Key() { return {kAnchorBoxesDomain, kAnchorBoxesOp}; }
OpKey TfliteKey() { return {kTfliteCustomDomain, kAnchorBoxesOp}; }

// The attributes as written in the file, before defaults and checks.
struct RawAttributes {
  std::optional<std::string> layout;
  std::optional<float> size;
  std::optional<int64_t> stride;
  std::optional<std::vector<float>> ratios;
  std::optional<std::vector<float>> scales;
};

absl::StatusOr<RawAttributes> RawFromNode(const Node& node) {
  RawAttributes raw;
  if (node.HasAttribute("layout")) {
    QFORGE_ASSIGN_OR_RETURN(raw.layout, node.GetString("layout", ""));
  }
  if (node.HasAttribute("size")) {
    QFORGE_ASSIGN_OR_RETURN(raw.size, node.GetFloat("size", 0.0f));
  }
  if (node.HasAttribute("stride")) {
    QFORGE_ASSIGN_OR_RETURN(raw.stride, node.RequireInt("stride"));
  }
  if (node.HasAttribute("ratios")) {
    QFORGE_ASSIGN_OR_RETURN(raw.ratios, node.GetFloats("ratios", {}));
  }
  if (node.HasAttribute("scales")) {
    QFORGE_ASSIGN_OR_RETURN(raw.scales, node.GetFloats("scales", {}));
  }
  return raw;
}

// The TFLite form: custom_options is a flexbuffer map {size: float,
// stride: int, ratios: [float], scales: [float], layout: string}, all but
// size and stride optional.
absl::StatusOr<RawAttributes> RawFromFlexbuffer(const Node& node) {
  const std::string& bytes = node.custom_options();
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": TFLite custom options of AnchorBoxes ", why,
        " (expected a flexbuffer map with size, stride and optionally ratios, "
        "scales, layout)"));
  };
  if (bytes.empty()) return bad("are missing");
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!flexbuffers::VerifyBuffer(data, bytes.size())) {
    return bad(
        absl::StrCat("(", bytes.size(), " bytes) are not a valid flexbuffer"));
  }
  const flexbuffers::Reference root = flexbuffers::GetRoot(data, bytes.size());
  if (!root.IsMap()) return bad("are not a map");
  const flexbuffers::Map map = root.AsMap();
  const flexbuffers::TypedVector keys = map.Keys();
  RawAttributes raw;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string key = keys[i].AsKey();
    const flexbuffers::Reference v = map.Values()[i];
    if (key == "size") {
      if (!v.IsNumeric()) return bad("have a non-numeric 'size'");
      raw.size = static_cast<float>(v.AsDouble());
    } else if (key == "stride") {
      if (!v.IsIntOrUint()) return bad("have a non-integer 'stride'");
      raw.stride = v.AsInt64();
    } else if (key == "layout") {
      if (!v.IsString()) return bad("have a non-string 'layout'");
      raw.layout = v.AsString().str();
    } else if (key == "ratios" || key == "scales") {
      if (!v.IsVector() && !v.IsTypedVector() && !v.IsFixedTypedVector()) {
        return bad(absl::StrCat("have a non-vector '", key, "'"));
      }
      std::vector<float> floats;
      if (v.IsFixedTypedVector()) {
        const flexbuffers::FixedTypedVector fv = v.AsFixedTypedVector();
        for (size_t j = 0; j < fv.size(); ++j) {
          if (!fv[j].IsNumeric()) {
            return bad(absl::StrCat("have a non-numeric entry in '", key, "'"));
          }
          floats.push_back(static_cast<float>(fv[j].AsDouble()));
        }
      } else if (v.IsTypedVector()) {
        const flexbuffers::TypedVector tv = v.AsTypedVector();
        for (size_t j = 0; j < tv.size(); ++j) {
          if (!tv[j].IsNumeric()) {
            return bad(absl::StrCat("have a non-numeric entry in '", key, "'"));
          }
          floats.push_back(static_cast<float>(tv[j].AsDouble()));
        }
      } else {
        const flexbuffers::Vector vec = v.AsVector();
        for (size_t j = 0; j < vec.size(); ++j) {
          if (!vec[j].IsNumeric()) {
            return bad(absl::StrCat("have a non-numeric entry in '", key, "'"));
          }
          floats.push_back(static_cast<float>(vec[j].AsDouble()));
        }
      }
      (key == "ratios" ? raw.ratios : raw.scales) = std::move(floats);
    } else {
      return bad(absl::StrCat("have an unknown key '", key, "'"));
    }
  }
  return raw;
}

// (n, h, w) of a rank-4 feature map shape in `layout`; dims may be symbolic.
struct GridDims {
  Dim n, h, w;
};

absl::StatusOr<GridDims> GridOf(const Node& node, const Shape& shape,
                                Layout layout) {
  if (!shape.rank_known())
    return GridDims{Dim::Unknown(), Dim::Unknown(), Dim::Unknown()};
  if (shape.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": input 0 must be a rank-4 feature map (",
        layout == Layout::kNHWC ? "NHWC" : "NCHW", "), got shape ",
        shape.ToString()));
  }
  if (layout == Layout::kNHWC)
    return GridDims{shape.dim(0), shape.dim(1), shape.dim(2)};
  return GridDims{shape.dim(0), shape.dim(2), shape.dim(3)};
}

// The anchors of `node` when its input shape is fully static, else nullopt.
absl::StatusOr<std::optional<Tensor>> StaticAnchors(
    const Node& node, const AnchorBoxesAttributes& attrs) {
  const Value* x = node.input(0);
  if (x == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": input 0 is missing"));
  }
  QFORGE_ASSIGN_OR_RETURN(GridDims g, GridOf(node, x->shape(), attrs.layout));
  if (!g.n.is_static() || !g.h.is_static() || !g.w.is_static())
    return std::nullopt;
  QFORGE_ASSIGN_OR_RETURN(
      Tensor t, ComputeAnchorBoxes(attrs, g.n.value, g.h.value, g.w.value));
  return std::optional<Tensor>(std::move(t));
}

absl::Status InferAnchorBoxes(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(AnchorBoxesAttributes attrs,
                          ReadAnchorBoxesAttributes(ctx.node()));
  QFORGE_ASSIGN_OR_RETURN(GridDims g,
                          GridOf(ctx.node(), ctx.input_shape(0), attrs.layout));
  Dim rows = Dim::Unknown();
  if (g.h.is_static() && g.w.is_static()) {
    rows = Dim::Static(g.h.value * g.w.value * attrs.num_anchors());
  }
  ctx.set_output(0, DataType::kFloat32,
                 Shape(std::vector<Dim>{g.n, rows, Dim::Static(4)}));
  return absl::OkStatus();
}

// Computes the anchors for the input's shape; writes them as float32, or
// quantized with the output value's parameters when it has some (the node
// left in a quantized graph with dynamic shapes).
class AnchorBoxesKernel final : public OpKernel {
 public:
  AnchorBoxesKernel(AnchorBoxesAttributes attrs,
                    std::optional<QuantParams> quant)
      : attrs_(std::move(attrs)), quant_(std::move(quant)) {}

  absl::Status Run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    Tensor* y = ctx.output(0);
    if (x == nullptr) return ctx.Error("input 0 (feature map) is missing");
    if (y == nullptr) return absl::OkStatus();
    if (x->rank() != 4) {
      return ctx.Error(absl::StrCat(
          "input 0 must be a rank-4 feature map, got rank ", x->rank()));
    }
    const bool nhwc = attrs_.layout == Layout::kNHWC;
    QFORGE_ASSIGN_OR_RETURN(
        Tensor anchors,
        ComputeAnchorBoxes(attrs_, x->dim(0), x->dim(nhwc ? 1 : 2),
                           x->dim(nhwc ? 2 : 3)));
    if (!quant_.has_value()) {
      *y = std::move(anchors);
      return absl::OkStatus();
    }
    const QuantParams& p = *quant_;
    y->Reset(p.storage, anchors.dims());
    const float* a = anchors.data<float>();
    const double lo = static_cast<double>(p.qmin());
    const double hi = static_cast<double>(p.qmax());
    for (int64_t i = 0; i < anchors.num_elements(); ++i) {
      const double q =
          std::clamp(std::nearbyint(static_cast<double>(a[i]) / p.scale[0]) +
                         p.zero_point[0],
                     lo, hi);
      if (p.storage == DataType::kUint8) {
        y->data<uint8_t>()[i] = static_cast<uint8_t>(q);
      } else {
        y->data<int8_t>()[i] = static_cast<int8_t>(q);
      }
    }
    y->set_quant(p);
    return absl::OkStatus();
  }

 private:
  AnchorBoxesAttributes attrs_;
  std::optional<QuantParams> quant_;
};

absl::StatusOr<std::unique_ptr<OpKernel>> CreateAnchorBoxesKernel(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(AnchorBoxesAttributes attrs,
                          ReadAnchorBoxesAttributes(init.node));
  std::optional<QuantParams> quant;
  const Value* out = init.node.output(0);
  if (out != nullptr && out->quant().has_value()) {
    quant = *out->quant();
    if (quant->per_axis() || quant->scale.size() != 1 ||
        quant->zero_point.size() != 1 ||
        (quant->storage != DataType::kInt8 &&
         quant->storage != DataType::kUint8)) {
      return absl::UnimplementedError(absl::StrCat(
          init.node.Describe(),
          ": a quantized output must be per-tensor int8 or uint8, got ",
          quant->ToString()));
    }
  }
  return std::make_unique<AnchorBoxesKernel>(std::move(attrs),
                                             std::move(quant));
}

class AnchorBoxesQuantizer final : public OpQuantizer {
 public:
  absl::StatusOr<OpQuantSpec> Spec(const Node& node,
                                   const QuantConfig& config) const override {
    if (node.num_inputs() != 1 || node.num_outputs() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(node.Describe(), ": expects 1 input and 1 output, has ",
                       node.num_inputs(), " and ", node.num_outputs()));
    }
    QFORGE_ASSIGN_OR_RETURN(AnchorBoxesAttributes attrs,
                            ReadAnchorBoxesAttributes(node));
    QFORGE_ASSIGN_OR_RETURN(std::optional<Tensor> anchors,
                            StaticAnchors(node, attrs));
    OpQuantSpec spec;
    // Only the feature map's shape is read: it stays whatever its producer
    // makes.
    spec.inputs = {InputQuantSpec::Unquantized()};
    if (!anchors.has_value()) {
      spec.outputs = {OutputQuantSpec::Calibrated()};
      return spec;
    }
    QFORGE_ASSIGN_OR_RETURN(QuantParams p, ExactParams(*anchors));
    spec.outputs = {OutputQuantSpec::Fixed(p.scale[0], p.zero_point[0])};
    return spec;
  }

  absl::Status Rewrite(QuantizeContext& ctx, Node& node) const override {
    QFORGE_ASSIGN_OR_RETURN(AnchorBoxesAttributes attrs,
                            ReadAnchorBoxesAttributes(node));
    QFORGE_ASSIGN_OR_RETURN(std::optional<Tensor> anchors,
                            StaticAnchors(node, attrs));
    if (!anchors.has_value()) {
      ctx.Note(
          node,
          "dynamic input shape: anchors computed at run time, output quantized "
          "from its calibrated range");
      return absl::OkStatus();
    }
    const auto v = anchors->values<float>();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    ctx.Note(node,
             absl::StrCat("static input shape: ", anchors->num_elements() / 4,
                          " anchors in [", *lo, ", ", *hi,
                          "] stored as a quantized constant"));
    return ctx.FoldToConstant(node, *anchors);
  }

  // int8 parameters from the exact range of the anchors.
  static absl::StatusOr<QuantParams> ExactParams(const Tensor& anchors) {
    FloatRange range{0.0f, 0.0f};
    const auto v = anchors.values<float>();
    if (!v.empty()) {
      range.min = *std::min_element(v.begin(), v.end());
      range.max = *std::max_element(v.begin(), v.end());
    }
    return QuantParamsForRange(range, QuantTarget::Int8Activation());
  }
};

absl::StatusOr<std::vector<float>> PositiveFloats(
    const Node& node, absl::string_view name,
    const std::optional<std::vector<float>>& given,
    std::vector<float> fallback) {
  std::vector<float> values = given.has_value() ? *given : std::move(fallback);
  if (values.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": attribute '", name, "' must not be empty"));
  }
  for (float f : values) {
    if (!std::isfinite(f) || f <= 0.0f) {
      return absl::InvalidArgumentError(
          absl::StrCat(node.Describe(), ": attribute '", name,
                       "' must hold positive finite values, got [",
                       absl::StrJoin(values, ", "), "]"));
    }
  }
  return values;
}

}  // namespace

absl::StatusOr<AnchorBoxesAttributes> ReadAnchorBoxesAttributes(
    const Node& node) {
  const bool tflite = node.domain() == kTfliteCustomDomain;
  RawAttributes raw;
  if (tflite) {
    QFORGE_ASSIGN_OR_RETURN(raw, RawFromFlexbuffer(node));
  } else {
    QFORGE_ASSIGN_OR_RETURN(raw, RawFromNode(node));
  }
  AnchorBoxesAttributes a;
  const std::string layout = raw.layout.value_or(
      tflite || node.layout() == Layout::kNHWC ? "NHWC" : "NCHW");
  if (layout == "NHWC") {
    a.layout = Layout::kNHWC;
  } else if (layout == "NCHW") {
    a.layout = Layout::kNCHW;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(),
        ": attribute 'layout' must be \"NHWC\" or \"NCHW\", got \"", layout,
        "\""));
  }
  if (!raw.size.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": attribute 'size' (base anchor size) is required"));
  }
  a.size = *raw.size;
  if (!std::isfinite(a.size) || a.size <= 0.0f) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": attribute 'size' must be positive and finite, got ",
        a.size));
  }
  if (!raw.stride.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": attribute 'stride' is required"));
  }
  a.stride = *raw.stride;
  if (a.stride <= 0 || a.stride > (int64_t{1} << 24)) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": attribute 'stride' must be in [1, 2^24], got ",
        a.stride));
  }
  QFORGE_ASSIGN_OR_RETURN(
      a.ratios, PositiveFloats(node, "ratios", raw.ratios, {0.5f, 1.0f, 2.0f}));
  QFORGE_ASSIGN_OR_RETURN(
      a.scales, PositiveFloats(node, "scales", raw.scales,
                               {1.0f, static_cast<float>(std::exp2(1.0 / 3.0)),
                                static_cast<float>(std::exp2(2.0 / 3.0))}));
  return a;
}

absl::StatusOr<Tensor> ComputeAnchorBoxes(const AnchorBoxesAttributes& attrs,
                                          int64_t n, int64_t height,
                                          int64_t width) {
  const int64_t num_anchors = attrs.num_anchors();
  if (n < 0 || height < 0 || width < 0 || num_anchors <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("AnchorBoxes: invalid grid ", n, "x", height, "x", width,
                     " with ", num_anchors, " anchors per cell"));
  }
  // Overflow-safe element count.
  long double elements =
      static_cast<long double>(n) * height * width * num_anchors * 4;
  if (elements > static_cast<long double>(kMaxAnchorElements)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AnchorBoxes: ", n, "x", height, "x", width, "x", num_anchors,
        " anchors is more than the 2^31 values an anchor tensor may hold"));
  }
  // Box extents per anchor: ratios outer, scales inner.
  std::vector<double> half_w;
  std::vector<double> half_h;
  for (float r : attrs.ratios) {
    for (float s : attrs.scales) {
      const double side = static_cast<double>(attrs.size) * s;
      const double w = std::sqrt(side * side / r);
      half_w.push_back(w / 2.0);
      half_h.push_back(w * r / 2.0);
    }
  }
  const int64_t rows = height * width * num_anchors;
  Tensor t(DataType::kFloat32, {n, rows, 4});
  float* out = t.data<float>();
  const double stride = static_cast<double>(attrs.stride);
  for (int64_t y = 0; y < height; ++y) {
    const double cy = (static_cast<double>(y) + 0.5) * stride;
    for (int64_t x = 0; x < width; ++x) {
      const double cx = (static_cast<double>(x) + 0.5) * stride;
      for (int64_t a = 0; a < num_anchors; ++a) {
        float* box = out + ((y * width + x) * num_anchors + a) * 4;
        box[0] = static_cast<float>(cx - half_w[a]);
        box[1] = static_cast<float>(cy - half_h[a]);
        box[2] = static_cast<float>(cx + half_w[a]);
        box[3] = static_cast<float>(cy + half_h[a]);
      }
    }
  }
  // Every image of the batch has the same anchors.
  for (int64_t b = 1; b < n; ++b) {
    std::copy(out, out + rows * 4, out + b * rows * 4);
  }
  return t;
}

absl::Status RegisterAnchorBoxes(Registry& registry) {
  // The same op under two keys: qforge.contrib (ONNX, attributes) and
  // tflite.custom (a TFLite CUSTOM op with code "AnchorBoxes", flexbuffer
  // custom_options; ReadAnchorBoxesAttributes reads either form).
  for (const OpKey& key : {Key(), TfliteKey()}) {
    OpSchema schema;
    schema.key = key;
    schema.min_inputs = schema.max_inputs = 1;
    schema.min_outputs = schema.max_outputs = 1;
    schema.infer = InferAnchorBoxes;
    schema.doc =
        "RetinaNet anchor boxes of a feature map's grid (plugin anchor_boxes)";
    QFORGE_RETURN_IF_ERROR(registry.schemas().Register(std::move(schema)));
    // One kernel for any input dtype: only the input's shape is read.
    QFORGE_RETURN_IF_ERROR(registry.kernels().Register(
        {key, DataType::kUndefined, CreateAnchorBoxesKernel}));
    QFORGE_RETURN_IF_ERROR(registry.quantizers().Register(
        key, std::make_unique<AnchorBoxesQuantizer>()));
  }
  return absl::OkStatus();
}

QFORGE_DEFINE_PLUGIN(AnchorBoxesPlugin, "anchor_boxes", "1.0.0",
                     RegisterAnchorBoxes);

}  // namespace qforge::contrib

// The AnchorBoxes plugin: RetinaNet-style anchor boxes as an op.
//
// Op qforge.contrib::AnchorBoxes (ONNX domain "qforge.contrib"), also
// registered as tflite.custom::AnchorBoxes: a TFLite CUSTOM op with code
// "AnchorBoxes" whose custom_options are a flexbuffer map {size: float,
// stride: int, ratios: [float], scales: [float], layout: string} (verified
// before reading; malformed options are an error naming the node). Input 0 is a
// feature map, [N,H,W,C] or [N,C,H,W] (attribute `layout`, "NHWC" or "NCHW";
// default: the node's layout, i.e. NCHW for ONNX and NHWC for TFLite); only its
// shape is used. Attributes: `size` (float, base size in pixels), `stride`
// (int), `ratios` (floats, default [0.5, 1, 2]), `scales` (floats, default [1,
// 2^(1/3), 2^(2/3)]). Output 0 is [N, H*W*A, 4] float32 with A =
// |ratios|*|scales|: row (y*W + x)*A + a holds (cx - w/2, cy - h/2, cx + w/2,
// cy + h/2) for the cell centre
// ((x+0.5)*stride, (y+0.5)*stride) and anchor a = (ratio r outer, scale s
// inner), w = sqrt((size*s)^2 / r), h = w*r.
//
// Registers a schema, a float kernel (which also writes int8/uint8 when its
// output is quantized) and a quantizer: with static shapes the output is a
// constant, folded at quantization time and stored quantized with a scale
// from its exact range (error <= 0.5 LSB); with dynamic shapes the kernel
// runs and its output is quantized from calibrated ranges.
//
// Linked statically:
// qforge::RegisterPlugin(qforge::contrib::AnchorBoxesPlugin(), registry). Built
// as a module (libqforge_anchor_boxes.so): --plugin PATH.
#ifndef QFORGE_PLUGINS_ANCHOR_BOXES_ANCHOR_BOXES_H_
#define QFORGE_PLUGINS_ANCHOR_BOXES_ANCHOR_BOXES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"
#include "qforge/plugin.h"
#include "qforge/registry.h"

namespace qforge::contrib {

inline constexpr char kAnchorBoxesDomain[] = "qforge.contrib";
inline constexpr char kAnchorBoxesOp[] = "AnchorBoxes";
// TFLite CUSTOM ops import into this domain, op type = custom code.
inline constexpr char kTfliteCustomDomain[] = "tflite.custom";

// The node's attributes, validated.
struct AnchorBoxesAttributes {
  Layout layout = Layout::kNCHW;
  float size = 0.0f;
  int64_t stride = 0;
  std::vector<float> ratios;
  std::vector<float> scales;

  int64_t num_anchors() const {
    return static_cast<int64_t>(ratios.size() * scales.size());
  }
};

// Reads and checks the attributes of an AnchorBoxes node (errors name it):
// node attributes, or for a tflite.custom node its flexbuffer custom_options
// (layout NHWC unless the options say otherwise).
absl::StatusOr<AnchorBoxesAttributes> ReadAnchorBoxesAttributes(
    const Node& node);

// The anchors for a batch of `n` feature maps of `height` x `width`:
// a [n, height*width*A, 4] float32 tensor.
absl::StatusOr<Tensor> ComputeAnchorBoxes(const AnchorBoxesAttributes& attrs,
                                          int64_t n, int64_t height,
                                          int64_t width);

// Registers schema, kernel and quantizer (what the plugin registers).
absl::Status RegisterAnchorBoxes(Registry& registry);

// The plugin descriptor, for qforge::RegisterPlugin.
const PluginDescriptor& AnchorBoxesPlugin();

}  // namespace qforge::contrib

#endif  // QFORGE_PLUGINS_ANCHOR_BOXES_ANCHOR_BOXES_H_

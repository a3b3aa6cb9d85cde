// The erf plugin: int8 quantization of Erf and Gelu (ONNX default domain).
//
// Statically linked: qforge::RegisterPlugin(qforge::plugins::erf::ErfPlugin(),
// registry) (all-or-nothing); as a shared library: libqforge_erf.so, loaded
// with qforge::LoadPlugin or `qforge --plugin`. Either runs RegisterErfPlugin,
// which adds to a Registry:
//   * quantizers: Erf  (input calibrated; output fixed at scale 1/128, zero
//                       point 0 for int8, since erf maps into [-1, 1]);
//                 Gelu (input calibrated; output calibrated);
//   * int8 kernels for both: a 256-entry table built at prepare time from the
//     float reference and the node's input/output quantization params, in the
//     node's arithmetic profile (see lib/kernels/int8/reference/lut.h).
// The Gelu schema and float kernel are part of the core op set, and so is the
// pass that fuses GELU written out with Erf into one Gelu node (it runs in
// PrepareForQuantization when a Gelu quantizer is registered, i.e. once this
// plugin is registered).
//
// int16: Int16 tables with linear interpolation (int16_lut.h) are provided as
// kernel functions; the quantization engine has no int16 activations yet, so
// they are not wired into graphs (plugins/erf/README.md).
#ifndef QFORGE_PLUGINS_ERF_ERF_PLUGIN_H_
#define QFORGE_PLUGINS_ERF_ERF_PLUGIN_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/int8/reference/lut.h"
#include "qforge/plugin.h"
#include "qforge/registry.h"

namespace qforge::plugins::erf {

inline constexpr char kPluginName[] = "erf";
inline constexpr char kPluginVersion[] = "0.1.0";

// The plugin's descriptor (name "erf", version kPluginVersion).
const PluginDescriptor& ErfPlugin();

// Registers the quantizers and int8 kernels above. AlreadyExists when one of
// them is already registered.
absl::Status RegisterErfPlugin(Registry& registry);

// The int8 tables the kernels use: entry [uint8_t(q)] is f(x(q)) quantized
// with `output`, rounded as `profile` rounds (reference::BuildLut); f is the
// float reference: std::erf in binary32, and GeluErf / GeluTanh of
// lib/kernels/float/gelu.h in binary32.
absl::StatusOr<kernels::reference::Int8Lut> BuildErfLut(
    ArithmeticProfile profile, const kernels::reference::QuantParam& input,
    const kernels::reference::QuantParam& output);
absl::StatusOr<kernels::reference::Int8Lut> BuildGeluLut(
    ArithmeticProfile profile, const kernels::reference::QuantParam& input,
    const kernels::reference::QuantParam& output, bool tanh_approximation);

}  // namespace qforge::plugins::erf

#endif  // QFORGE_PLUGINS_ERF_ERF_PLUGIN_H_

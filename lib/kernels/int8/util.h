// Helpers shared by the int8 kernels: reading a node's QuantParams into the
// reference kernels' types, NCHW <-> NHWC transposition, ONNX 2-D window
// attributes, registration with fallback to an existing non-quantized kernel,
// and a "float fallback" kernel (dequantize -> float kernel -> quantize).
#ifndef QFORGE_LIB_KERNELS_INT8_UTIL_H_
#define QFORGE_LIB_KERNELS_INT8_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/reference/quant_types.h"
#include "qforge/ir/graph.h"
#include "qforge/runtime/kernel.h"

namespace qforge::kernels::int8 {

// True when the node's first input carries QuantParams (a quantized node).
bool IsQuantizedNode(const Node& node);

// Per-tensor int8 params of the node's input i (output when `output`).
// Unimplemented for uint8 storage, InvalidArgument when missing or per-axis;
// messages name the node and the tensor.
absl::StatusOr<reference::QuantParam> ActivationQuant(const Node& node, int i,
                                                      bool output = false);

// Weight params of a constant int8 weight input (per-tensor or per-axis).
absl::StatusOr<reference::WeightQuant> WeightQuantOf(const Node& node, int i,
                                                     int64_t channels);

// The ISA the fast kernels of `node` use, read when the node is prepared
// (fast::ActiveIsa(); an invalid QFORGE_ISA fails here, naming the node).
absl::StatusOr<fast::Isa> NodeIsa(const Node& node);

// 2-D window attributes of Conv / pooling nodes (ONNX), resolved against the
// input size at run time.
struct Window2D {
  std::string auto_pad = "NOTSET";
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;

  // Reads the attributes; `kernel` is the kernel size when known from the
  // weights (Conv), else "kernel_shape" is required.
  static absl::StatusOr<Window2D> FromNode(const Node& node,
                                           const std::vector<int64_t>* kernel);
  // Resolves SAME_UPPER / SAME_LOWER / VALID for an input of h x w and
  // returns the output size (error naming the node when <= 0).
  absl::Status Resolve(const Node& node, int64_t h, int64_t w, int64_t* out_h,
                       int64_t* out_w);
};

// Registers `factory` for {"", op} with dtype kInt8. If a kernel already
// matches int8 for that op (exact or any-dtype), nodes that are not quantized
// keep using it.
absl::Status RegisterQuantized(KernelTable& table, const char* op,
                               KernelFactory factory);

// A kernel that dequantizes input 0 (int8, per-tensor), runs `float_factory`'s
// kernel on float32 (other inputs passed through) and quantizes output 0
// with the output's params in the node's profile. Used where the runtime a
// profile models computes in float (Resize linear) or where it is exact
// (Resize nearest, Pad).
absl::StatusOr<std::unique_ptr<OpKernel>> MakeFloatFallbackKernel(
    const KernelInitContext& init, const KernelFactory& float_factory);

}  // namespace qforge::kernels::int8

#endif  // QFORGE_LIB_KERNELS_INT8_UTIL_H_

// The implementations the qforge rows are compared with, on the same shapes
// and the same (seeded) data, single-threaded:
//   onednn_*   oneDNN 2.6 (libdnnl-dev): u8 activations x s8 weights -> s8,
//              int32 bias, per-output-channel output scales; weights
//              reordered to oneDNN's preferred layout once (format any).
//              Activations in oneDNN's u8 form have zero point 0 (our s8
//              activations carry a zero point).
//   xnnpack_*  XNNPACK 2022-02 (libxnnpack-dev): QC8 convolution NHWC
//              (per-channel weights; a GEMM is a 1x1 convolution over M
//              pixels) and QS8 fully connected (per-tensor weights only).
//   eigen_f32  float32 Eigen: a matrix product (im2col + product for the
//              3x3 convolution, an array loop over channels for depthwise).
// A peer that was not found at configure time is not compiled; its factory
// returns Unavailable and the row is not registered.
#ifndef QFORGE_BENCH_PEERS_H_
#define QFORGE_BENCH_PEERS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common.h"

namespace qforge::bench {

class Impl {
 public:
  virtual ~Impl() = default;
  virtual absl::Status Run() = 0;
  // Shown as the row's label, e.g. the oneDNN implementation chosen.
  virtual std::string label() const { return ""; }
};

using ImplFactory = std::function<absl::StatusOr<std::unique_ptr<Impl>>()>;

// Registers "<name>" doing `macs` MACs per run. The implementation is built
// on the row's first run (outside the timed loop) and kept.
void RegisterRow(const std::string& name, double macs, ImplFactory factory);

bool HaveOneDnn();
bool HaveXnnpack();
// Prints which peers this binary has.
void PrintPeers();

// qforge one-node graphs (see common.h).
ImplFactory QforgeLinear(LinearOp op, int64_t m, int64_t k, int64_t n,
                         bool per_tensor);
ImplFactory QforgeConv(const ConvShape& s);

ImplFactory OneDnnMatmul(int64_t m, int64_t k, int64_t n);
ImplFactory OneDnnConv(const ConvShape& s);  // NHWC; group = C: depthwise.

ImplFactory XnnpackConv(const ConvShape& s);  // QC8 NHWC.
ImplFactory XnnpackFullyConnected(int64_t m, int64_t k, int64_t n);  // QS8.

ImplFactory EigenGemm(int64_t m, int64_t k, int64_t n);
ImplFactory EigenConv(const ConvShape& s);  // NHWC float.

}  // namespace qforge::bench

#endif  // QFORGE_BENCH_PEERS_H_

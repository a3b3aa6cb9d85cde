// GEMM / fully connected / MatMul rows (MxKxN): qforge's Gemm (transB=1,
// weights [N, K]) and MatMul (weights [K, N]) one-node int8 graphs with
// per-channel weights, against oneDNN matmul, XNNPACK QC8 (a 1x1
// convolution over M pixels), XNNPACK's per-tensor QS8 fully connected
// (against qforge's per-tensor Gemm, batch 1 only) and float Eigen.
// Activations are row-major [M, K] in every implementation.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.h"
#include "peers.h"

namespace qforge::bench {
namespace {

struct GemmShape {
  int64_t m, k, n;
};

void RegisterGemmRows() {
  const std::vector<GemmShape> shapes = {{1, 1280, 1000},
                                         {64, 1024, 1024},
                                         {3136, 576, 64},
                                         {196, 1152, 256},
                                         {1024, 1024, 1024}};
  std::vector<int64_t> bandwidth_sizes;
  for (const GemmShape& s : shapes)
    if (s.m == 1) bandwidth_sizes.push_back(s.k * s.n);
  bandwidth_sizes.push_back(int64_t{256} << 20);  // DRAM, for reference.
  RegisterMachineRows(bandwidth_sizes);

  for (const GemmShape& s : shapes) {
    const std::string p = absl::StrCat("gemm/", s.m, "x", s.k, "x", s.n, "/");
    const double macs = static_cast<double>(s.m) * s.k * s.n;
    RegisterRow(p + "qforge_gemm", macs,
                QforgeLinear(LinearOp::kGemm, s.m, s.k, s.n, false));
    RegisterRow(p + "qforge_matmul", macs,
                QforgeLinear(LinearOp::kMatMul, s.m, s.k, s.n, false));
    if (s.m == 1) {
      RegisterRow(p + "qforge_gemm_pt", macs,
                  QforgeLinear(LinearOp::kGemm, s.m, s.k, s.n, true));
    }
    if (HaveOneDnn())
      RegisterRow(p + "onednn_matmul", macs, OneDnnMatmul(s.m, s.k, s.n));
    if (HaveXnnpack()) {
      // A GEMM as a 1x1 convolution over an M x 1 image.
      RegisterRow(p + "xnnpack_qc8", macs,
                  XnnpackConv({.h = s.m,
                               .w = 1,
                               .c = s.k,
                               .o = s.n,
                               .kh = 1,
                               .kw = 1,
                               .stride = 1,
                               .pad = 0,
                               .group = 1}));
      if (s.m == 1) {
        RegisterRow(p + "xnnpack_fc_qs8", macs,
                    XnnpackFullyConnected(s.m, s.k, s.n));
      }
    }
    if (DetectCpu().avx2)
      RegisterRow(p + "eigen_f32", macs, EigenGemm(s.m, s.k, s.n));
  }
}

}  // namespace
}  // namespace qforge::bench

int main(int argc, char** argv) {
  qforge::bench::PrintPeers();
  qforge::bench::RegisterGemmRows();
  return qforge::bench::Main(argc, argv);
}

// Depthwise 3x3 rows, batch 1, on 112x112x32 (stride 1, pad 1, multiplier
// 1). qforge runs a one-node int8 Conv graph with group = C (NHWC
// activations); oneDNN, XNNPACK (QC8) and float Eigen use NHWC too.
#include <string>

#include "common.h"
#include "peers.h"

namespace qforge::bench {
namespace {

void RegisterDepthwiseRows() {
  RegisterMachineRows({});
  const ConvShape s = {.h = 112,
                       .w = 112,
                       .c = 32,
                       .o = 32,
                       .kh = 3,
                       .kw = 3,
                       .stride = 1,
                       .pad = 1,
                       .group = 32};
  const std::string p = "depthwise/112x112x32_3x3s1p1/";
  RegisterRow(p + "qforge_dwconv_nhwc", s.macs(), QforgeConv(s));
  if (HaveOneDnn()) RegisterRow(p + "onednn_nhwc", s.macs(), OneDnnConv(s));
  if (HaveXnnpack())
    RegisterRow(p + "xnnpack_qc8_nhwc", s.macs(), XnnpackConv(s));
  if (DetectCpu().avx2)
    RegisterRow(p + "eigen_f32_nhwc", s.macs(), EigenConv(s));
}

}  // namespace
}  // namespace qforge::bench

int main(int argc, char** argv) {
  qforge::bench::PrintPeers();
  qforge::bench::RegisterDepthwiseRows();
  return qforge::bench::Main(argc, argv);
}

// Convolution rows, batch 1: 56x56x64->64 3x3 s1 p1 and 7x7x320->1280 1x1.
// qforge runs a one-node int8 Conv graph with NHWC activations (the layout
// the executor runs quantized graphs in); oneDNN, XNNPACK (QC8) and the float
// Eigen reference read and write NHWC too.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.h"
#include "peers.h"

namespace qforge::bench {
namespace {

void RegisterConvRows() {
  RegisterMachineRows({});
  const std::vector<std::pair<std::string, ConvShape>> shapes = {
      {"56x56x64-64_3x3s1p1",
       {.h = 56,
        .w = 56,
        .c = 64,
        .o = 64,
        .kh = 3,
        .kw = 3,
        .stride = 1,
        .pad = 1,
        .group = 1}},
      {"7x7x320-1280_1x1",
       {.h = 7,
        .w = 7,
        .c = 320,
        .o = 1280,
        .kh = 1,
        .kw = 1,
        .stride = 1,
        .pad = 0,
        .group = 1}},
  };
  for (const auto& [name, s] : shapes) {
    const std::string p = absl::StrCat("conv/", name, "/");
    RegisterRow(p + "qforge_conv_nhwc", s.macs(), QforgeConv(s));
    if (HaveOneDnn()) RegisterRow(p + "onednn_nhwc", s.macs(), OneDnnConv(s));
    if (HaveXnnpack())
      RegisterRow(p + "xnnpack_qc8_nhwc", s.macs(), XnnpackConv(s));
    if (DetectCpu().avx2)
      RegisterRow(p + "eigen_f32_nhwc", s.macs(), EigenConv(s));
  }
}

}  // namespace
}  // namespace qforge::bench

int main(int argc, char** argv) {
  qforge::bench::PrintPeers();
  qforge::bench::RegisterConvRows();
  return qforge::bench::Main(argc, argv);
}

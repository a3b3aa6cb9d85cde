#include "io/tflite/tensor_util.h"

#include <cstdint>
#include <cstring>

namespace qforge::internal {

Tensor PermuteTensor(const Tensor& t, const std::vector<int>& perm) {
  const int rank = t.rank();
  std::vector<int64_t> out_dims(rank);
  for (int i = 0; i < rank; ++i) out_dims[i] = t.dim(perm[i]);
  Tensor out(t.dtype(), out_dims);
  const size_t elem = SizeOf(t.dtype());
  std::vector<int64_t> in_strides(rank, 1);
  for (int i = rank - 2; i >= 0; --i)
    in_strides[i] = in_strides[i + 1] * t.dim(i + 1);
  std::vector<int64_t> idx(rank, 0);
  const auto* src = static_cast<const uint8_t*>(t.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  for (int64_t o = 0; o < out.num_elements(); ++o) {
    int64_t off = 0;
    for (int i = 0; i < rank; ++i) off += idx[i] * in_strides[perm[i]];
    std::memcpy(dst + o * elem, src + off * elem, elem);
    for (int i = rank - 1; i >= 0; --i) {
      if (++idx[i] < out_dims[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

int PermutedAxis(int axis, const std::vector<int>& perm) {
  if (axis < 0) return axis;
  for (int i = 0; i < static_cast<int>(perm.size()); ++i) {
    if (perm[i] == axis) return i;
  }
  return axis;
}

}  // namespace qforge::internal
